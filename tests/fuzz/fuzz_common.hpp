// Shared by lowbit's libFuzzer targets: an input reader, format/code generators, bit packing, an
// independent requantization model and the state empty packed weights must show. Everything a
// target does is derived from the input bytes so every crash reproduces from its file alone.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "lowbit/format.hpp"
#include "lowbit/gemm.hpp"
#include "lowbit/matrix.hpp"
#include "lowbit/output.hpp"
#include "lowbit/packed_weights.hpp"
#include "lowbit/status.hpp"

// Huge requested sizes must come back as errc::out_of_memory, not abort inside ASan's allocator.
extern "C" const char* __asan_default_options() { return "allocator_may_return_null=1"; }

namespace fuzz {

// Reads the input front to back; once it is exhausted, a generator seeded from the whole input
// supplies bulk bytes (codes), so short inputs still describe full-size problems.
class reader {
 public:
  reader(const std::uint8_t* data, std::size_t size) : p_(data), end_(data + size) {
    std::uint64_t h = 0x9E3779B97F4A7C15ull;
    for (std::size_t i = 0; i < size; ++i) h = (h ^ data[i]) * 0x100000001B3ull;
    state_ = h;
  }
  std::uint8_t byte() { return p_ < end_ ? *p_++ : static_cast<std::uint8_t>(next() >> 56); }
  std::uint32_t u32() {
    std::uint32_t v = 0;
    for (int i = 0; i < 4; ++i) v = v << 8 | byte();
    return v;
  }
  std::uint64_t u64() { return std::uint64_t{u32()} << 32 | u32(); }
  // A value in [lo, hi].
  std::size_t range(std::size_t lo, std::size_t hi) {
    const std::size_t span = hi - lo + 1;
    return lo + (span <= 256 ? byte() % span : u32() % span);
  }
  bool flag() { return byte() & 1; }
  // Bulk bytes come from the generator, not the input, so structure bytes stay aligned.
  std::uint8_t bulk() { return static_cast<std::uint8_t>(next() >> 56); }

 private:
  std::uint64_t next() {
    state_ += 0x9E3779B97F4A7C15ull;
    std::uint64_t z = state_;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  const std::uint8_t* p_;
  const std::uint8_t* end_;
  std::uint64_t state_;
};

[[noreturn]] inline void fail(const char* what, long long a = 0, long long b = 0) {
  std::fprintf(stderr, "lowbit fuzz: %s (%lld vs %lld)\n", what, a, b);
  __builtin_trap();
}
inline void expect(bool ok, const char* what, long long a = 0, long long b = 0) {
  if (!ok) fail(what, a, b);
}
inline void expect_code(const lowbit::status& s, lowbit::errc want, const char* what) {
  if (s.code() != want) {
    char buf[256];
    s.describe(buf, sizeof buf);
    std::fprintf(stderr, "lowbit fuzz: %s: got '%s', want errc %d\n", what, buf,
                 static_cast<int>(want));
    __builtin_trap();
  }
}

// Empty packed weights (default-constructed, moved-from or a failed pack) look default-constructed
// through every accessor, and gemm_workspace_size is 0 for them.
inline void expect_empty(const lowbit::packed_weights& p, const char* what) {
  expect(p.empty() && p.kernel() == nullptr && *p.kernel_name() == 0 && *p.kernel_name(5) == 0 &&
             p.kernel_algorithm() == lowbit::algorithm::automatic &&
             p.weight_format() == lowbit::format{} && p.activation_bits() == 0 && p.rows() == 0 &&
             p.cols() == 0 && p.size_bytes() == 0 && p.kc() == 0 && p.k_blocks() == 0 &&
             p.k_group() == 0 && lowbit::gemm_workspace_size(p, 5) == 0,
         what);
}

// Any valid format: 1..8 bits, every encoding (ternary only at 2 bits).
inline lowbit::format any_format(reader& r) {
  const int bits = static_cast<int>(r.range(1, 8));
  auto enc = static_cast<lowbit::encoding>(r.range(0, 3));
  if (enc == lowbit::encoding::ternary && bits != 2) enc = lowbit::encoding::odd_symmetric;
  return {bits, enc};
}

// A random valid code (low bits), never ternary 0b10.
inline std::uint32_t valid_code(reader& r, lowbit::format f) {
  std::uint32_t c = r.bulk() & lowbit::code_mask(f);
  if (!lowbit::is_valid_code(f, c)) c = 3;  // ternary 0b10 -> -1
  return c;
}

// The byte a caller stores one per byte: the code, or for signed/ternary sometimes the int8 value.
inline std::uint8_t code_byte(reader& r, lowbit::format f, std::uint32_t c) {
  if ((f.enc == lowbit::encoding::signed_int || f.enc == lowbit::encoding::ternary) &&
      (r.bulk() & 1))
    return static_cast<std::uint8_t>(static_cast<std::int8_t>(lowbit::code_value(f, c)));
  return static_cast<std::uint8_t>(c);
}

// An invalid one-per-byte entry: bits above the width that are not a sign extension, or ternary
// 0b10. Returns false when the format has none (8-bit formats use every byte).
inline bool invalid_byte(reader& r, lowbit::format f, std::uint8_t& out) {
  if (f.enc == lowbit::encoding::ternary) {
    out = (r.bulk() & 1) ? 2 : 0x42;
    return true;
  }
  if (f.bits == 8) return false;
  // Bit `bits` set with the sign bit clear is never a valid sign extension.
  out = static_cast<std::uint8_t>((1u << f.bits) | (r.bulk() & (lowbit::code_mask(f) >> 1)));
  return true;
}

// Writes code c at position k of a bit-packed row (matrix.hpp's little-endian bit order).
inline void put_bits(std::uint8_t* row, std::size_t k, int bits, std::uint32_t c) {
  for (int b = 0; b < bits; ++b) {
    const std::size_t bit = k * static_cast<std::size_t>(bits) + static_cast<std::size_t>(b);
    const std::uint8_t m = static_cast<std::uint8_t>(1u << (bit % 8));
    row[bit / 8] =
        static_cast<std::uint8_t>((c >> b & 1) ? (row[bit / 8] | m) : (row[bit / 8] & ~m));
  }
}

// A codes matrix as the caller stores it: one per byte or bit-packed, with a row stride that is
// 0 (contiguous) or the row length plus some padding (filled with junk the library must ignore).
struct stored_matrix {
  std::vector<std::uint8_t> bytes;
  std::vector<std::uint32_t> code;  // rows x cols, the codes (low bits) for the oracle
  lowbit::matrix_ref ref;
};

inline void store(reader& r, lowbit::format f, std::size_t rows, std::size_t cols, bool bitpacked,
                  stored_matrix& out) {
  const lowbit::storage s = bitpacked ? lowbit::storage::bitpacked : lowbit::storage::one_per_byte;
  const std::size_t row = lowbit::row_bytes(s, cols, f.bits);
  const std::size_t pad = r.flag() ? 0 : r.range(0, 70);
  const std::size_t stride = pad == 0 && r.flag() ? 0 : row + pad;
  const std::size_t eff = stride ? stride : row;
  // Exactly the bytes a valid call may read: ASan flags anything past the last row.
  out.bytes.assign((rows - 1) * eff + row, 0);
  for (auto& b : out.bytes) b = r.bulk();  // junk in padding and unused bits
  out.code.assign(rows * cols, 0);
  for (std::size_t i = 0; i < rows; ++i)
    for (std::size_t k = 0; k < cols; ++k) {
      const std::uint32_t c = valid_code(r, f);
      out.code[i * cols + k] = c;
      if (bitpacked)
        put_bits(&out.bytes[i * eff], k, f.bits, c);
      else
        out.bytes[i * eff + k] = code_byte(r, f, c);
    }
  out.ref = {out.bytes.data(), rows, cols, stride, s};
}

// The quantized_output rule (output.hpp), written independently: wrap-add the bias, one rounding
// of x * m0 * 2^(shift - 31) with halves away from zero, saturate, add the zero point, move even
// values of odd-symmetric formats away from zero, clamp to the (odd) range, emit the byte.
inline std::uint8_t requantize(const lowbit::quantized_output& q, std::int32_t t, std::size_t n) {
  const std::int32_t x = static_cast<std::int32_t>(
      static_cast<std::uint32_t>(t) + static_cast<std::uint32_t>(q.bias ? q.bias[n] : 0));
  const lowbit::fixed_multiplier m = q.multipliers[q.multiplier_count == 1 ? 0 : n];
  const __int128 p = static_cast<__int128>(x) * m.m0;
  const int s = 31 - m.shift;
  const __int128 mag = p < 0 ? -p : p;
  const __int128 half = static_cast<__int128>(1) << (s - 1);
  __int128 y = (mag + half) >> s;
  if (p < 0) y = -y;
  if (y > INT32_MAX) y = INT32_MAX;
  if (y < INT32_MIN) y = INT32_MIN;
  std::int64_t v = static_cast<std::int64_t>(y) + q.out_zero;
  const lowbit::format f = q.out_format;
  const bool odd = f.enc == lowbit::encoding::odd_symmetric;
  if (odd && v % 2 == 0) v += v >= 0 ? 1 : -1;
  std::int64_t lo = lowbit::min_value(f), hi = lowbit::max_value(f);
  if (q.clamp_min > lo) lo = q.clamp_min;
  if (q.clamp_max < hi) hi = q.clamp_max;
  if (odd && lo % 2 == 0) ++lo;
  if (odd && hi % 2 == 0) --hi;
  v = v < lo ? lo : (v > hi ? hi : v);
  if (f.enc == lowbit::encoding::signed_int || f.enc == lowbit::encoding::ternary)
    return static_cast<std::uint8_t>(static_cast<std::int8_t>(v));
  return static_cast<std::uint8_t>(lowbit::code_of_value(f, static_cast<std::int32_t>(v)));
}

}  // namespace fuzz
