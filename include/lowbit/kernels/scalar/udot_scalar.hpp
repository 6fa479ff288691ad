// lowbit: the portable microkernel, plain C++ with no SIMD assumption.
//
// It serves every bit pair (u-codes up to 8 bits), compiles for any target including bare-metal
// Cortex-M, and is the fallback when no SIMD kernel qualifies. Panels hold one u-code per byte,
// k-major (panel[k * MR + i]), so the inner loop reads MR + NR consecutive bytes per k.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "lowbit/kernels/ukernel.hpp"

namespace lowbit {
namespace kernels {
namespace scalar {

template <int MR, int NR>
struct udot_scalar {
  static std::size_t a_panel_bytes(std::size_t kc) noexcept { return kc * MR; }
  static std::size_t w_panel_bytes(std::size_t kc) noexcept { return kc * NR; }

  template <int R>
  static void pack(const std::uint8_t* u, std::size_t ldu, std::size_t rows, std::size_t kc,
                   void* dst) noexcept {
    auto* out = static_cast<std::uint8_t*>(dst);
    std::memset(out, 0, kc * R);
    for (std::size_t r = 0; r < rows; ++r)
      for (std::size_t k = 0; k < kc; ++k) out[k * R + r] = u[r * ldu + k];
  }

  static void run(std::size_t kc, const void* a_panel, const void* w_panel, std::int32_t* c,
                  std::size_t ldc, bool accumulate) noexcept {
    const auto* a = static_cast<const std::uint8_t*>(a_panel);
    const auto* w = static_cast<const std::uint8_t*>(w_panel);
    // Unsigned arithmetic: S is defined modulo 2^32 and must wrap, never overflow.
    std::uint32_t acc[MR][NR] = {};
    for (std::size_t k = 0; k < kc; ++k, a += MR, w += NR)
      for (int i = 0; i < MR; ++i)
        for (int j = 0; j < NR; ++j) acc[i][j] += std::uint32_t{a[i]} * w[j];
    for (int i = 0; i < MR; ++i)
      for (int j = 0; j < NR; ++j) {
        std::uint32_t prev = accumulate ? static_cast<std::uint32_t>(c[i * ldc + j]) : 0u;
        c[i * ldc + j] = static_cast<std::int32_t>(prev + acc[i][j]);
      }
  }
};

using udot_4x4 = udot_scalar<4, 4>;

inline ukernel_list ukernels() noexcept {
  static const ukernel_desc list[] = {
      {"scalar_w8a8_4x4__scalar", algorithm::scalar, 0, 8, 8, 4, 4, 1, 1u << 30, 0, 0, 1.0f,
       &udot_4x4::a_panel_bytes, &udot_4x4::w_panel_bytes, &udot_4x4::pack<4>, &udot_4x4::pack<4>,
       &udot_4x4::run},
  };
  return {list, sizeof(list) / sizeof(list[0])};
}

}  // namespace scalar
}  // namespace kernels
}  // namespace lowbit
