// lowbit: small-M kernels on AVX-512 VNNI that read bit-dense weights (gemv_pack_x86.hpp).
//
// For M = 1..8 a GEMM streams its weights once and does little else, so time follows the bytes
// of weights read, not the MACs. These kernels keep B-bit codes B-bit in memory and unpack in
// registers with one AND per vpdpbusd: the masked byte is the code still shifted left by
// B * t bits (t < 4), and the 2^(B t) factor is removed once per tile by an exact arithmetic
// shift of the int32 sum. No shift per code, no widening in memory. The masked weight (at most
// 240) is vpdpbusd's unsigned operand; activations are int8 u - 128 (a_offset = 128).
//
// Exactness: a lane gains at most 4 * 240 * 128 = 122880 per 4 values of K, so for kc <= 65536
// every sum stays below 2^31 and the final shift is exact (kc_max = 65536).
//
// MR = 1 (GEMV) keeps U = 2 independent accumulator sets so 8 chains cover vpdpbusd's latency;
// MR = 8 shares each unpacked weight vector between 8 rows (batch decoding).
#pragma once

#if defined(__x86_64__)

#include <immintrin.h>

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "lowbit/kernels/gemv/gemv_pack_x86.hpp"
#include "lowbit/kernels/ukernel.hpp"

#define LOWBIT_TARGET_GEMV_VNNI512 \
  __attribute__((                  \
      target("popcnt,avx2,fma,bmi2,avx512f,avx512bw,avx512vl,avx512dq,avx512cd,avx512vnni")))

namespace lowbit {
namespace kernels {
namespace gemv {

constexpr feature_set avx512vnni_gemv_features = detail::x86_avx512vnni;

template <int B, int MR, int NV, int U>
struct gemv_vnni_avx512 {
  using L = gemv_layout<B, NV, U>;
  static constexpr int NR = L::NR;
  static constexpr int k_step = L::k_step;
  static constexpr int a_offset = 128;
  static constexpr int w_offset = 0;
  static constexpr std::uint32_t kc_max = 65536;
  static constexpr float bytes_per_weight = B / 8.0f;

  using pack_a_t = gemv_pack_a<MR, k_step>;
  using pack_w_t = gemv_pack_w<L>;

  LOWBIT_TARGET_GEMV_VNNI512 static void run(std::size_t kc, const void* a_panel,
                                             const void* w_panel, std::int32_t* c, std::size_t ldc,
                                             bool accumulate) noexcept {
    constexpr int G = L::G, Q = L::Q, C = L::C, T = L::slot_groups;
    const auto* a = static_cast<const std::uint8_t*>(a_panel);
    const auto* w = static_cast<const std::uint8_t*>(w_panel);
    const std::size_t steps = (kc + k_step - 1) / k_step;
    __m512i mask[T];
#pragma GCC unroll 8
    for (int t = 0; t < T; ++t)
      mask[t] = _mm512_set1_epi8(static_cast<char>(((1 << B) - 1) << (B * t)));
    __m512i acc[U][MR][NV];
#pragma GCC unroll 4
    for (int u = 0; u < U; ++u)
#pragma GCC unroll 8
      for (int i = 0; i < MR; ++i)
#pragma GCC unroll 8
        for (int j = 0; j < NV; ++j) acc[u][i][j] = _mm512_setzero_si512();

    for (std::size_t st = 0; st < steps; ++st) {
#pragma GCC unroll 4
      for (int u = 0; u < U; ++u, a += 4 * Q * MR) {
#pragma GCC unroll 4
        for (int ch = 0; ch < C; ++ch, w += 64) {
          const __m512i p = _mm512_load_si512(w);
          __m512i pq = p;
#pragma GCC unroll 8
          for (int s = 0; s < G; ++s) {
            const int pi = ch * G + s, q = pi / NV, cg = pi % NV;
            // A further 4-k group in the same byte: bring its slots down to the first ones'
            // bit positions (16-bit shift: bits crossing from the next byte are masked off).
            if (q > 0 && cg == 0) pq = _mm512_maskz_srli_epi16(~__mmask32{0}, p, B * NV * q);
            const __m512i v = _mm512_and_si512(pq, mask[pi % T]);
#pragma GCC unroll 8
            for (int i = 0; i < MR; ++i) {
              std::int32_t a4;
              std::memcpy(&a4, a + 4 * (q * MR + i), 4);
              acc[u][i][cg] = _mm512_dpbusd_epi32(acc[u][i][cg], v, _mm512_set1_epi32(a4));
            }
          }
        }
      }
    }
#pragma GCC unroll 8
    for (int i = 0; i < MR; ++i)
#pragma GCC unroll 8
      for (int j = 0; j < NV; ++j) {
        // Remove the 2^(B t) factor of the masked codes: exact, the sums are below 2^31. (The
        // all-ones maskz forms: GCC 12 warns on the plain ones' _mm512_undefined_* operand.)
        __m512i r = _mm512_maskz_srai_epi32(0xFFFF, acc[0][i][j], B * (j % T));
#pragma GCC unroll 4
        for (int u = 1; u < U; ++u)
          r = _mm512_add_epi32(r, _mm512_maskz_srai_epi32(0xFFFF, acc[u][i][j], B * (j % T)));
        std::int32_t* ci = c + i * ldc + 16 * j;
        if (accumulate) r = _mm512_add_epi32(r, _mm512_loadu_si512(ci));
        _mm512_storeu_si512(ci, r);
      }
  }
};

}  // namespace gemv
}  // namespace kernels
}  // namespace lowbit

#undef LOWBIT_TARGET_GEMV_VNNI512

#endif  // __x86_64__
