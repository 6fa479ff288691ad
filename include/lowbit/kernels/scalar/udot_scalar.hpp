// lowbit: the portable microkernel, plain C++ with no SIMD assumption, or xsimd batches for the
// build's own architecture where xsimd is on (detail/portable_simd.hpp).
//
// It serves every bit pair (u-codes up to 8 bits), compiles for any target including bare-metal
// Cortex-M, and is the fallback when no SIMD kernel qualifies. Panels hold one u-code per byte,
// k-major (panel[k * MR + i]), so the inner loop reads MR + NR consecutive bytes per k. With
// xsimd (run_xsimd), four k per 4-lane batch: on NEON uint32 multiply-adds; on x86, whose SSE2
// baseline has no 32-bit multiply in xsimd, float ones over at most 256 k per lane, which are
// exact (each sum is an integer below 256 * 255^2 < 2^24) and are then added to uint32 sums.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "lowbit/detail/portable_simd.hpp"
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
#if defined(LOWBIT_XSIMD)
    if constexpr (MR == 4 && NR == 4) return run_xsimd(kc, a_panel, w_panel, c, ldc, accumulate);
#endif
    run_plain(kc, a_panel, w_panel, c, ldc, accumulate);
  }

  static void run_plain(std::size_t kc, const void* a_panel, const void* w_panel, std::int32_t* c,
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

#if defined(LOWBIT_XSIMD)
  // Four k at a time: 16 panel bytes are one 4-lane uint32 batch whose lane l holds step k + l,
  // so (x >> 8 * r) & 0xFF is row (or column) r over 4 steps. Each of the 16 outputs gets a batch
  // of per-lane partial sums, added across lanes at the end; rows 0-1 and 2-3 are two passes, so
  // the accumulators fit in 16 registers.
  static void run_xsimd(std::size_t kc, const void* a_panel, const void* w_panel, std::int32_t* c,
                        std::size_t ldc, bool accumulate) noexcept {
    using detail::xs_u4;
    const auto* a = static_cast<const std::uint8_t*>(a_panel);
    const auto* w = static_cast<const std::uint8_t*>(w_panel);
    const std::size_t steps = kc / 4, rest = kc % 4;
    alignas(16) std::uint8_t a_tail[16] = {}, w_tail[16] = {};
    std::memcpy(a_tail, a + steps * 16, rest * 4);
    std::memcpy(w_tail, w + steps * 16, rest * 4);
    alignas(16) std::uint32_t sums[4][4];
    for (int half = 0; half < 2; ++half) {
      xs_u4 acc[2][4];
      for (auto& row : acc)
        for (auto& v : row) v = xs_u4(0u);
      if (half == 0) {
        accumulate_rows<0>(a, w, steps, acc);
        accumulate_rows<0>(a_tail, w_tail, rest != 0 ? 1 : 0, acc);
      } else {
        accumulate_rows<2>(a, w, steps, acc);
        accumulate_rows<2>(a_tail, w_tail, rest != 0 ? 1 : 0, acc);
      }
      for (int i = 0; i < 2; ++i)
        for (int j = 0; j < 4; ++j) sums[half * 2 + i][j] = xsimd::hadd(acc[i][j]);
    }
    for (int i = 0; i < 4; ++i)
      for (int j = 0; j < 4; ++j) {
        const std::uint32_t prev = accumulate ? static_cast<std::uint32_t>(c[i * ldc + j]) : 0u;
        c[i * ldc + j] = static_cast<std::int32_t>(prev + sums[i][j]);
      }
  }

  // acc[i][j] += the lane sums of rows R0 + i (i < 2) times column j over `steps` 16-byte steps.
  // The shift counts are constants, so every operand stays in a register.
  template <int R0>
  static void accumulate_rows(const std::uint8_t* a, const std::uint8_t* w, std::size_t steps,
                              detail::xs_u4 (&acc)[2][4]) noexcept {
    using detail::xs_u4;
    const xs_u4 lo(0xFFu);
#if defined(__SSE2__)
    // No 32-bit multiply on SSE2: float multiply-adds over at most 256 steps per lane are exact.
    // Written out (no arrays of batches): -O2 keeps such arrays in memory.
    using detail::xs_f4;
    using detail::xs_i4;
    constexpr std::size_t block = 256;
    const auto to_f = [](const xs_u4& v) { return xsimd::to_float(xsimd::bitwise_cast<xs_i4>(v)); };
    for (std::size_t s0 = 0; s0 < steps; s0 += block) {
      const std::size_t end = steps - s0 < block ? steps : s0 + block;
      xs_f4 f00(0.0f), f01(0.0f), f02(0.0f), f03(0.0f), f10(0.0f), f11(0.0f), f12(0.0f), f13(0.0f);
      for (std::size_t s = s0; s < end; ++s) {
        const xs_u4 av = xs_u4::load_unaligned(reinterpret_cast<const std::uint32_t*>(a + s * 16));
        const xs_u4 wv = xs_u4::load_unaligned(reinterpret_cast<const std::uint32_t*>(w + s * 16));
        const xs_f4 w0 = to_f(wv & lo), w1 = to_f((wv >> 8) & lo), w2 = to_f((wv >> 16) & lo),
                    w3 = to_f(wv >> 24);
        const xs_f4 a0 = to_f((av >> (8 * R0)) & lo), a1 = to_f((av >> (8 * R0 + 8)) & lo);
        f00 += a0 * w0;
        f01 += a0 * w1;
        f02 += a0 * w2;
        f03 += a0 * w3;
        f10 += a1 * w0;
        f11 += a1 * w1;
        f12 += a1 * w2;
        f13 += a1 * w3;
      }
      const auto to_u = [](const xs_f4& v) { return xsimd::bitwise_cast<xs_u4>(xsimd::to_int(v)); };
      acc[0][0] += to_u(f00);
      acc[0][1] += to_u(f01);
      acc[0][2] += to_u(f02);
      acc[0][3] += to_u(f03);
      acc[1][0] += to_u(f10);
      acc[1][1] += to_u(f11);
      acc[1][2] += to_u(f12);
      acc[1][3] += to_u(f13);
    }
#else
    xs_u4 c00 = acc[0][0], c01 = acc[0][1], c02 = acc[0][2], c03 = acc[0][3];
    xs_u4 c10 = acc[1][0], c11 = acc[1][1], c12 = acc[1][2], c13 = acc[1][3];
    for (std::size_t s = 0; s < steps; ++s) {
      const xs_u4 av = xs_u4::load_unaligned(reinterpret_cast<const std::uint32_t*>(a + s * 16));
      const xs_u4 wv = xs_u4::load_unaligned(reinterpret_cast<const std::uint32_t*>(w + s * 16));
      const xs_u4 w0 = wv & lo, w1 = (wv >> 8) & lo, w2 = (wv >> 16) & lo, w3 = wv >> 24;
      const xs_u4 a0 = (av >> (8 * R0)) & lo, a1 = (av >> (8 * R0 + 8)) & lo;
      c00 += a0 * w0;
      c01 += a0 * w1;
      c02 += a0 * w2;
      c03 += a0 * w3;
      c10 += a1 * w0;
      c11 += a1 * w1;
      c12 += a1 * w2;
      c13 += a1 * w3;
    }
    acc[0][0] = c00;
    acc[0][1] = c01;
    acc[0][2] = c02;
    acc[0][3] = c03;
    acc[1][0] = c10;
    acc[1][1] = c11;
    acc[1][2] = c12;
    acc[1][3] = c13;
#endif
  }
#endif
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
