// lowbit: int8 dot-product kernel on AVX-VNNI (VEX vpdpbusd on ymm: Alder Lake, Sapphire Rapids).
//
// Same panels and sums as the AVX-512 VNNI kernel (k4 layout, u8 activations, s8 weights stored
// as u - 128, so every cell up to w8a8), with the VEX form _mm256_dpbusd_avx_epi32. int32 sums
// wrap mod 2^32, which is what S is defined as, so kc is limited only by the driver's blocking.
//
// Tile 6 x 16: 12 accumulators cover the 5-cycle latency at 2 per cycle, + 2 W + 1 broadcast
// fit the 16 ymm registers: ceiling 64 MAC/cycle.
#pragma once

#if defined(__x86_64__)

#include <immintrin.h>

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "lowbit/kernels/dot/dot_pack_x86.hpp"
#include "lowbit/kernels/ukernel.hpp"

#define LOWBIT_TARGET_AVXVNNI __attribute__((target("popcnt,avx2,fma,bmi2,avxvnni")))

namespace lowbit {
namespace kernels {
namespace dot {

constexpr feature_set avxvnni_dot_features = detail::x86_avx2 | bit(cpu_feature::avxvnni);

template <int MR, int NV>
struct dot_vnni_avxvnni {
  static constexpr int L = 8;
  static constexpr int NR = NV * L;
  static constexpr int k_step = 4;
  static constexpr int w_offset = 128;        // the default; pack_weights may choose another
  static constexpr bool any_w_offset = true;  // s8 weights, no pair sums: no saturation limit
  static constexpr std::uint32_t kc_max = 1u << 20;  // int32 sums wrap mod 2^32: no bound

  using pack_a_t = dot_pack_k4<MR, 0>;
  using pack_w_t = dot_pack_k4<NR, w_offset>;

  LOWBIT_TARGET_AVXVNNI static void run(std::size_t kc, const void* a_panel, const void* w_panel,
                                        std::int32_t* c, std::size_t ldc,
                                        bool accumulate) noexcept {
    const auto* a = static_cast<const std::uint8_t*>(a_panel);
    const auto* w = static_cast<const std::uint8_t*>(w_panel);
    const std::size_t nk = (kc + 3) / 4;
    __m256i acc[MR][NV];
#pragma GCC unroll 8
    for (int i = 0; i < MR; ++i)
#pragma GCC unroll 8
      for (int j = 0; j < NV; ++j) acc[i][j] = _mm256_setzero_si256();
    for (std::size_t s = 0; s < nk; ++s, a += 4 * MR, w += 4 * NR) {
      __m256i wv[NV];
#pragma GCC unroll 8
      for (int j = 0; j < NV; ++j)
        wv[j] = _mm256_load_si256(reinterpret_cast<const __m256i*>(w + 32 * j));
#pragma GCC unroll 8
      for (int i = 0; i < MR; ++i) {
        std::int32_t a4;
        std::memcpy(&a4, a + 4 * i, 4);
        const __m256i av = _mm256_set1_epi32(a4);
#pragma GCC unroll 8
        for (int j = 0; j < NV; ++j) acc[i][j] = _mm256_dpbusd_avx_epi32(acc[i][j], av, wv[j]);
      }
    }
#pragma GCC unroll 8
    for (int i = 0; i < MR; ++i)
#pragma GCC unroll 8
      for (int j = 0; j < NV; ++j) {
        auto* ci = reinterpret_cast<__m256i*>(c + i * ldc + L * j);
        __m256i r = acc[i][j];
        if (accumulate) r = _mm256_add_epi32(r, _mm256_loadu_si256(ci));
        _mm256_storeu_si256(ci, r);
      }
  }
};

}  // namespace dot
}  // namespace kernels
}  // namespace lowbit

#undef LOWBIT_TARGET_AVXVNNI

#endif  // __x86_64__
