// lowbit: the largest K a GEMM accepts, from the exact int32 result's worst case.
//
// Every kernel returns the exact sum of (a - za) * (w - zw) over K in int32 (intermediate
// arithmetic wraps modulo 2^32, which is exact whenever the true result fits). The result fits
// for every input when K * max|a - za| * max|w - zw| <= 2^31 - 1; a larger K is rejected with
// errc::accumulator_overflow rather than risk a silently wrong answer.
#pragma once

#include <cstdint>
#include <cstdlib>

#include "lowbit/format.hpp"

namespace lowbit {

// The largest |value - zero_point| over a format's values.
constexpr std::int64_t max_abs_centered(format f, std::int32_t zero_point = 0) noexcept {
  const std::int64_t lo = static_cast<std::int64_t>(min_value(f)) - zero_point;
  const std::int64_t hi = static_cast<std::int64_t>(max_value(f)) - zero_point;
  const std::int64_t alo = lo < 0 ? -lo : lo, ahi = hi < 0 ? -hi : hi;
  return alo > ahi ? alo : ahi;
}

// The largest K for which the exact result fits in int32 whatever the codes.
constexpr std::int64_t max_k(format a, format w, std::int32_t a_zero = 0,
                             std::int64_t w_zero_max_abs_centered = -1) noexcept {
  const std::int64_t ma = max_abs_centered(a, a_zero);
  const std::int64_t mw =
      w_zero_max_abs_centered >= 0 ? w_zero_max_abs_centered : max_abs_centered(w);
  const std::int64_t per_k = ma * mw;
  return per_k == 0 ? INT32_MAX : static_cast<std::int64_t>(INT32_MAX) / per_k;
}

}  // namespace lowbit
