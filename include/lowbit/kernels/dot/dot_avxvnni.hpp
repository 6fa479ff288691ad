// lowbit: int8 dot-product kernel on AVX-VNNI (VEX vpdpbusd on ymm: Alder Lake, Sapphire Rapids):
// AVX2's vector ops plus _mm256_dpbusd_avx_epi32, and dot_body_x86-inl.hpp's dot_vnni over them
// in namespace dot::avxvnni (registered in dot_x86.hpp).
//
// Same sums as the AVX-512 VNNI kernel (k4 layout, u8 activations, s8 weights stored as u - 128,
// so every cell up to w8a8), but on packed A panels. Tile 6 x 16: 12 accumulators cover the
// 5-cycle latency at 2 per cycle, + 2 W + 1 broadcast fit the 16 ymm registers: ceiling
// 64 MAC/cycle.
#pragma once

#if defined(__x86_64__)

#include <immintrin.h>

#include "lowbit/kernels/dot/dot_avx2.hpp"

#define LOWBIT_DOT_NS avxvnni
#define LOWBIT_DOT_TARGET LOWBIT_X86_TARGET_AVXVNNI
#include "lowbit/kernels/dot/dot_body_x86-inl.hpp"

namespace lowbit::kernels::dot::avxvnni {

// AVX2's ops (their target is a subset of this one, so they inline here) and vpdpbusd.
struct ops : avx2::ops {
  LOWBIT_DOT_OP static vec dpbusd(vec acc, vec a, vec b) noexcept {
    return _mm256_dpbusd_avx_epi32(acc, a, b);
  }
};

}  // namespace lowbit::kernels::dot::avxvnni

#include "lowbit/kernels/dot/dot_end_x86-inl.hpp"

#endif  // __x86_64__
