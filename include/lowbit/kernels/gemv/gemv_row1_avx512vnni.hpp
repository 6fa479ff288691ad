// lowbit: the 1-row AVX-512 VNNI kernel over the 8-row small-M kernels' bit-dense panels.
//
// A default packing stores one bit-dense layout for every M (gemv_x86.hpp dense_families): the
// 32-column (NV = 2) panels of gemv_vnni_avx512<B, 8, 2, 1>. This kernel runs M = 1 on them. With
// 32 columns a chunk holds G / 2 groups of 4 k (Q = G / 2), so gemv_vnni_avx512 with MR = 1 would
// shift each chunk Q - 1 times to bring the later groups down to the first ones' masks; here
// every slot s of a chunk keeps its own mask, ((1 << B) - 1) << (B s), and its own accumulator,
// and the factor 2^(B s) is removed once per tile by an exact arithmetic shift: one AND and one
// vpdpbusd per slot, no shift. Same panels, same sums, so the same exactness bound (a masked
// weight is at most 240, kc_max = 65536: see gemv_avx512vnni.hpp).
#pragma once

#if defined(__x86_64__)

#include <immintrin.h>

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "lowbit/isa.hpp"
#include "lowbit/kernels/gemv/gemv_avx512vnni.hpp"
#include "lowbit/kernels/gemv/gemv_pack_x86.hpp"

namespace lowbit {
namespace kernels {
namespace gemv {

// U chunks a step (independent accumulator sets: U * G accumulators). The constants, packers and
// run_grouped are gemv_vnni_avx512's for the same layout; only run() differs.
template <int B, int U>
struct gemv_row1_avx512 : gemv_vnni_avx512<B, 1, 2, U> {
  using L = gemv_layout<B, 2, U>;
  static_assert(L::C == 1 && U * L::G <= 16, "one chunk a block, accumulators in registers");

  __attribute__((target(LOWBIT_X86_TARGET_AVX512VNNI))) static void run(
      std::size_t kc, const void* a_panel, const void* w_panel, std::int32_t* c, std::size_t ldc,
      bool accumulate) noexcept {
    constexpr int G = L::G, Q = L::Q;
    (void)ldc;  // one row
    const auto* a = static_cast<const std::uint8_t*>(a_panel);
    const auto* w = static_cast<const std::uint8_t*>(w_panel);
    const std::size_t steps = (kc + L::k_step - 1) / L::k_step;
    __m512i mask[G], acc[U][G];
#pragma GCC unroll 8
    for (int s = 0; s < G; ++s) {
      mask[s] = _mm512_set1_epi8(static_cast<char>(((1 << B) - 1) << (B * s)));
#pragma GCC unroll 4
      for (int u = 0; u < U; ++u) acc[u][s] = _mm512_setzero_si512();
    }
    for (std::size_t st = 0; st < steps; ++st) {
#pragma GCC unroll 4
      for (int u = 0; u < U; ++u, a += 4 * Q, w += 64) {
        const __m512i p = _mm512_load_si512(w);
#pragma GCC unroll 4
        for (int q = 0; q < Q; ++q) {
          std::int32_t a4;
          std::memcpy(&a4, a + 4 * q, 4);
          const __m512i av = _mm512_set1_epi32(a4);
          // Slots 2q (columns 0..15) and 2q + 1 (16..31) hold k group q.
#pragma GCC unroll 2
          for (int h = 0; h < 2; ++h) {
            acc[u][2 * q + h] =
                _mm512_dpbusd_epi32(acc[u][2 * q + h], _mm512_and_si512(p, mask[2 * q + h]), av);
            // Keeps each sum in its register (GCC 12 otherwise copies every accumulator twice
            // a step).
            __asm__("" : "+v"(acc[u][2 * q + h]));
          }
        }
      }
    }
#pragma GCC unroll 2
    for (int h = 0; h < 2; ++h) {
      __m512i r = _mm512_setzero_si512();
#pragma GCC unroll 8
      for (int s = h; s < G; s += 2)
#pragma GCC unroll 4
        for (int u = 0; u < U; ++u)
          r = _mm512_add_epi32(r, _mm512_maskz_srai_epi32(0xFFFF, acc[u][s], B * s));
      std::int32_t* ch = c + 16 * h;
      if (accumulate) r = _mm512_add_epi32(r, _mm512_loadu_si512(ch));
      _mm512_storeu_si512(ch, r);
    }
  }
};

}  // namespace gemv
}  // namespace kernels
}  // namespace lowbit

#endif  // __x86_64__
