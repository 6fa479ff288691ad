// lowbit: the x86 int8 dot-product kernels, as one list for dispatch.
//
// Every cell W x A in {1..8} x {1..8} is served on each level: VNNI kernels (zmm, ymm) take any
// cell with one w8a8 kernel; pre-VNNI levels (SSE4, AVX2, AVX-512BW) have exact vpmaddwd w8a8
// kernels, saturation-free vpmaddubsw ones for w8a7 / w7a8, and low-bit ones that add int16 pair
// sums before widening (w4a4, w8a4, w8a2, w2a8). Dispatch takes the qualifying kernel with the
// highest macs_per_cycle, measured by bench/ukernels/bench_dot_x86.cpp (N = 256, K = 2048,
// pinned, Emerald Rapids; about the mean of the g++ 12 and clang++ 14 builds). This host's
// hypervisor hides AVX-VNNI from CPUID, so the avxvnni kernel never qualifies here; its figure
// comes from running it directly (the instruction executes, results bit-exact).
#pragma once

#if defined(__x86_64__)

#include "lowbit/kernels/dot/dot_avx2.hpp"
#include "lowbit/kernels/dot/dot_avx512.hpp"
#include "lowbit/kernels/dot/dot_avx512vnni.hpp"
#include "lowbit/kernels/dot/dot_avxvnni.hpp"
#include "lowbit/kernels/dot/dot_sse4.hpp"
#include "lowbit/kernels/ukernel.hpp"

namespace lowbit {
namespace kernels {
namespace dot {

template <class K>
constexpr ukernel_desc dot_desc(const char* name, feature_set f, int wb, int ab, int mr,
                                float mpc) noexcept {
  return describe_kernel<K>(name, algorithm::dot_i8, f, wb, ab, mr, K::NR, K::k_step, K::kc_max,
                            mpc, 0, K::w_offset);
}

// clang-format off
#define LOWBIT_DOT_UB(ISA, MR, NV, TILE, W, A, MPC)                                         \
  dot_desc<dot_maddubs_##ISA<MR, NV, W, A>>("dot_w" #W "a" #A "_" TILE "c4__" #ISA,         \
                                           ISA##_dot_features, W, A, MR, MPC)
#define LOWBIT_DOT_16(ISA, MR, NV, TILE, MPC)                                               \
  dot_desc<dot_madd16_##ISA<MR, NV>>("dot_w8a8_" TILE "c2__" #ISA, ISA##_dot_features, 8, 8, \
                                     MR, MPC)
// clang-format on

inline ukernel_list x86_ukernels() noexcept {
  static const ukernel_desc list[] = {
      with_short_tile(dot_desc<dot_vnni_avx512<8, 2>>("dot_w8a8_8x32c4__avx512vnni",
                                                      avx512vnni_dot_features, 8, 8, 8, 122.0f),
                      &list[1]),
      // Run instead of the 8-row tile when it pads M less (M = 49, 196); never chosen on its own
      // unless M favours it at packing time (14 accumulators still cover vpdpbusd's latency).
      dot_desc<dot_vnni_avx512<7, 2>>("dot_w8a8_7x32c4__avx512vnni", avx512vnni_dot_features, 8, 8,
                                      7, 120.0f),
      dot_desc<dot_vnni_avxvnni<6, 2>>("dot_w8a8_6x16c4__avxvnni", avxvnni_dot_features, 8, 8, 6,
                                       62.0f),
      LOWBIT_DOT_16(avx512, 8, 2, "8x32", 31.0f),
      LOWBIT_DOT_UB(avx512, 8, 2, "8x32", 8, 7, 42.0f),
      LOWBIT_DOT_UB(avx512, 8, 2, "8x32", 7, 8, 42.0f),
      LOWBIT_DOT_UB(avx512, 8, 2, "8x32", 4, 4, 61.0f),
      LOWBIT_DOT_UB(avx512, 8, 2, "8x32", 8, 4, 54.0f),
      LOWBIT_DOT_UB(avx512, 8, 2, "8x32", 8, 2, 59.0f),
      LOWBIT_DOT_UB(avx512, 8, 2, "8x32", 2, 8, 59.0f),
      LOWBIT_DOT_16(avx2, 4, 2, "4x16", 20.0f),
      LOWBIT_DOT_UB(avx2, 4, 2, "4x16", 8, 7, 28.0f),
      LOWBIT_DOT_UB(avx2, 4, 2, "4x16", 7, 8, 28.0f),
      LOWBIT_DOT_UB(avx2, 4, 2, "4x16", 4, 4, 40.0f),
      LOWBIT_DOT_UB(avx2, 4, 2, "4x16", 8, 4, 33.0f),
      LOWBIT_DOT_UB(avx2, 4, 2, "4x16", 8, 2, 41.0f),
      LOWBIT_DOT_UB(avx2, 4, 2, "4x16", 2, 8, 38.0f),
      LOWBIT_DOT_16(sse4, 4, 2, "4x8", 9.0f),
      LOWBIT_DOT_UB(sse4, 4, 2, "4x8", 8, 7, 12.5f),
      LOWBIT_DOT_UB(sse4, 4, 2, "4x8", 7, 8, 13.0f),
      LOWBIT_DOT_UB(sse4, 4, 2, "4x8", 4, 4, 18.0f),
      LOWBIT_DOT_UB(sse4, 4, 2, "4x8", 8, 4, 15.5f),
      LOWBIT_DOT_UB(sse4, 4, 2, "4x8", 8, 2, 16.5f),
      LOWBIT_DOT_UB(sse4, 4, 2, "4x8", 2, 8, 16.5f),
  };
  return {list, sizeof(list) / sizeof(list[0])};
}

#undef LOWBIT_DOT_UB
#undef LOWBIT_DOT_16

}  // namespace dot
}  // namespace kernels
}  // namespace lowbit

#endif  // __x86_64__
