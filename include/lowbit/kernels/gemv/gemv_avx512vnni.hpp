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

  static constexpr bool grouped = true;      // run_grouped (ukernel.hpp's group_args)
  static constexpr bool grouped_f16 = true;  // reads binary16 scale tables (group_args::scales_f16)

  // The exact sums S' of kc values into r[i][j] (int32, 16 columns each), in registers.
  __attribute__((always_inline)) LOWBIT_TARGET_GEMV_VNNI512 static inline void sums(
      std::size_t kc, const void* a_panel, const void* w_panel, __m512i (&r)[MR][NV]) noexcept {
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
    // An opaque use of the sums here: without it, inlined into run_grouped, GCC 12 copied the
    // accumulators between two register sets in the loop above (two moves per vpdpbusd).
#pragma GCC unroll 4
    for (int u = 0; u < U; ++u)
#pragma GCC unroll 8
      for (int i = 0; i < MR; ++i)
#pragma GCC unroll 8
        for (int j = 0; j < NV; ++j) __asm__("" : "+v"(acc[u][i][j]));
#pragma GCC unroll 8
    for (int i = 0; i < MR; ++i)
#pragma GCC unroll 8
      for (int j = 0; j < NV; ++j) {
        // The U partial sums added first (their total, the sum over all kc values, is below 2^31
        // as well), then the 2^(B t) factor of the masked codes removed by one exact shift (the
        // all-ones maskz form: GCC 12 warns on the plain one's _mm512_undefined_* operand).
        __m512i v = acc[0][i][j];
#pragma GCC unroll 4
        for (int u = 1; u < U; ++u) v = _mm512_add_epi32(v, acc[u][i][j]);
        r[i][j] = j % T == 0 ? v : _mm512_maskz_srai_epi32(0xFFFF, v, B * (j % T));
      }
  }

  LOWBIT_TARGET_GEMV_VNNI512 static void run(std::size_t kc, const void* a_panel,
                                             const void* w_panel, std::int32_t* c, std::size_t ldc,
                                             bool accumulate) noexcept {
    __m512i r[MR][NV];
    sums(kc, a_panel, w_panel, r);
#pragma GCC unroll 8
    for (int i = 0; i < MR; ++i)
#pragma GCC unroll 8
      for (int j = 0; j < NV; ++j) {
        std::int32_t* ci = c + i * ldc + 16 * j;
        __m512i v = r[i][j];
        if (accumulate) v = _mm512_add_epi32(v, _mm512_loadu_si512(ci));
        _mm512_storeu_si512(ci, v);
      }
  }

  // r[i] = 16 values of row i; returns with r[e] = element e of rows 0..15 (unpack within 128-bit
  // lanes, then a 4 x 4 transpose of the lanes).
  __attribute__((always_inline)) LOWBIT_TARGET_GEMV_VNNI512 static inline void transpose16(
      __m512 (&r)[16]) noexcept {
    __m512 t[16];
#pragma GCC unroll 8
    for (int i = 0; i < 8; ++i) {
      t[2 * i] = _mm512_maskz_unpacklo_ps(0xFFFF, r[2 * i], r[2 * i + 1]);
      t[2 * i + 1] = _mm512_maskz_unpackhi_ps(0xFFFF, r[2 * i], r[2 * i + 1]);
    }
    __m512 s[16];  // s[4 i + c], lane k: element 4 k + c of rows 4 i .. 4 i + 3
#pragma GCC unroll 4
    for (int i = 0; i < 4; ++i) {
      const __m512d a = _mm512_castps_pd(t[4 * i]), b = _mm512_castps_pd(t[4 * i + 1]);
      const __m512d c = _mm512_castps_pd(t[4 * i + 2]), d = _mm512_castps_pd(t[4 * i + 3]);
      s[4 * i] = _mm512_castpd_ps(_mm512_maskz_unpacklo_pd(0xFF, a, c));
      s[4 * i + 1] = _mm512_castpd_ps(_mm512_maskz_unpackhi_pd(0xFF, a, c));
      s[4 * i + 2] = _mm512_castpd_ps(_mm512_maskz_unpacklo_pd(0xFF, b, d));
      s[4 * i + 3] = _mm512_castpd_ps(_mm512_maskz_unpackhi_pd(0xFF, b, d));
    }
#pragma GCC unroll 4
    for (int c = 0; c < 4; ++c) {
      const __m512 u0 = _mm512_maskz_shuffle_f32x4(0xFFFF, s[c], s[4 + c], 0x44);
      const __m512 u1 = _mm512_maskz_shuffle_f32x4(0xFFFF, s[c], s[4 + c], 0xEE);
      const __m512 u2 = _mm512_maskz_shuffle_f32x4(0xFFFF, s[8 + c], s[12 + c], 0x44);
      const __m512 u3 = _mm512_maskz_shuffle_f32x4(0xFFFF, s[8 + c], s[12 + c], 0xEE);
      r[c] = _mm512_maskz_shuffle_f32x4(0xFFFF, u0, u2, 0x88);
      r[4 + c] = _mm512_maskz_shuffle_f32x4(0xFFFF, u0, u2, 0xDD);
      r[8 + c] = _mm512_maskz_shuffle_f32x4(0xFFFF, u1, u3, 0x88);
      r[12 + c] = _mm512_maskz_shuffle_f32x4(0xFFFF, u1, u3, 0xDD);
    }
  }

  // Columns [0, cols) of a tile's N x groups values (rows of `groups`, the tile's first at p),
  // groups [g0, g0 + gn), as buf[g - g0][column]: contiguous row loads and a transpose instead
  // of a gather of 16 lines per group and vector (the load ports were the bottleneck).
  __attribute__((always_inline)) LOWBIT_TARGET_GEMV_VNNI512 static inline void transpose_groups(
      const void* p, std::size_t groups, std::size_t cols, std::size_t g0, std::size_t gn,
      float (*buf)[NR]) noexcept {
    const __mmask16 gm = gn >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << gn) - 1);
    const auto* base = static_cast<const float*>(p) + g0;
#pragma GCC unroll 4
    for (int j = 0; j < NV; ++j) {
      __m512 r[16];
#pragma GCC unroll 16
      for (int l = 0; l < 16; ++l) {
        const std::size_t col = 16 * std::size_t(j) + l;
        r[l] = _mm512_maskz_loadu_ps(col < cols ? gm : __mmask16(0), base + col * groups);
      }
      transpose16(r);
#pragma GCC unroll 16
      for (int e = 0; e < 16; ++e) _mm512_store_ps(buf[e] + 16 * j, r[e]);
    }
  }

  // All K groups of one tile, each group's exact result scaled and added to float accumulators
  // (group_args; the caller's acc tile, in L1). Scales in the caller's rows are moved 16 groups
  // at a time into a group-major buffer (contiguous row loads and a transpose instead of a
  // gather of 16 lines per group and vector: the load ports were the bottleneck). Tables (the
  // driver's, or the weights' pack-time scales, binary16 ones widened by vcvtph2ps, exact) are
  // read as they are: one contiguous stream beside the weights, which the hardware prefetchers
  // follow (prefetching them with the weights of the group 4 ahead measured no different).
  LOWBIT_TARGET_GEMV_VNNI512 static void run_grouped(const group_args& ga) noexcept {
    alignas(64) float sbuf[16][NR];
    float* const facc = ga.acc;
#pragma GCC unroll 8
    for (int i = 0; i < MR; ++i)
#pragma GCC unroll 8
      for (int j = 0; j < NV; ++j) _mm512_storeu_ps(facc + i * NR + 16 * j, _mm512_setzero_ps());
    const __m512i alpha = _mm512_set1_epi32(static_cast<std::int32_t>(ga.alpha));
    const bool rows_layout = ga.scale_col != 1 && ga.scales_f16 == nullptr;
    const std::uint16_t* const s16 = ga.scales_f16;
    for (std::size_t g = 0; g < ga.groups; ++g) {
      const float* sg = s16 != nullptr ? nullptr : ga.scales + g * ga.scale_group;
      if (rows_layout) {
        prefetch_next_group_rows<NR>(ga, g);
        if (g % 16 == 0) {
          const std::size_t gn = ga.groups - g < 16 ? ga.groups - g : 16;
          transpose_groups(ga.scales, ga.scale_col, ga.cols, g, gn, sbuf);
        }
        sg = sbuf[g % 16];
      }
      // The weights of the group 4 ahead: a group is a short run of the stream (1 KiB at G =
      // 32), cut by the scale and epilogue work in between. With tables (stored scales), whose
      // groups cost less in between, only for runs of at most 512 bytes: longer ones were
      // faster left to the hardware prefetchers (docs/gemv.md, "Group scales at M = 1").
      if ((rows_layout || ga.w_stride <= 512) && g + 4 < ga.groups) {
        const auto* wn = reinterpret_cast<const char*>(ga.w + (g + 4) * ga.w_stride);
        for (std::size_t b = 0; b < ga.w_stride; b += 64) __builtin_prefetch(wn + b, 0, 3);
      }
      __m512i r[MR][NV];
      sums(g + 1 < ga.groups ? ga.kc : ga.k_last, ga.a + g * ga.a_stride, ga.w + g * ga.w_stride,
           r);
      __m512i xv[NV], colt[NV];
      __m512 sc[NV];
#pragma GCC unroll 8
      for (int j = 0; j < NV; ++j) {
        xv[j] = ga.col_x != nullptr ? _mm512_loadu_si512(ga.col_x + g * NR + 16 * j)
                                    : _mm512_setzero_si512();
        colt[j] = ga.col_terms != nullptr ? _mm512_loadu_si512(ga.col_terms + g * NR + 16 * j)
                                          : _mm512_setzero_si512();
        sc[j] = s16 != nullptr ? _mm512_maskz_cvtph_ps(
                                     0xFFFF, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(
                                                 s16 + g * NR + 16 * j)))
                               : _mm512_loadu_ps(sg + 16 * j);
      }
#pragma GCC unroll 8
      for (int i = 0; i < MR; ++i) {
        const __m512i y = _mm512_set1_epi32(static_cast<std::int32_t>(ga.row_y[g * MR + i]));
        const __m512i pr = _mm512_set1_epi32(static_cast<std::int32_t>(ga.row_p[g * MR + i]));
#pragma GCC unroll 8
        for (int j = 0; j < NV; ++j) {
          __m512i t = ga.alpha != 1 ? _mm512_mullo_epi32(alpha, r[i][j]) : r[i][j];
          if (ga.col_x != nullptr) t = _mm512_add_epi32(t, _mm512_mullo_epi32(xv[j], y));
          t = _mm512_add_epi32(t, pr);
          if (ga.col_terms != nullptr) t = _mm512_add_epi32(t, colt[j]);
          __m512 prod = _mm512_mul_ps(sc[j], _mm512_maskz_cvtepi32_ps(0xFFFF, t));
          __asm__("" : "+v"(prod));  // rounded on its own: no FMA with the add
          float* f = facc + i * NR + 16 * j;
          _mm512_storeu_ps(f, _mm512_add_ps(_mm512_loadu_ps(f), prod));
        }
      }
    }
  }
};

}  // namespace gemv
}  // namespace kernels
}  // namespace lowbit

#undef LOWBIT_TARGET_GEMV_VNNI512

#endif  // __x86_64__
