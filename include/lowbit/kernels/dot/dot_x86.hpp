// lowbit: the x86 int8 dot-product kernels, as one list for dispatch.
//
// Every cell W x A in {1..8} x {1..8} is served on each level: VNNI kernels (zmm, ymm) take any
// cell with one w8a8 kernel; pre-VNNI levels (SSE4, AVX2, AVX-512BW) have exact vpmaddwd w8a8
// kernels, saturation-free vpmaddubsw ones for w8a7 / w7a8, and low-bit ones that add int16 pair
// sums before widening (w4a4, w8a4, w8a2, w2a8). Dispatch takes the qualifying kernel with the
// highest macs_per_cycle, measured by bench/ukernels/bench_dot_x86.cpp (N = 256, K = 2048,
// pinned, Emerald Rapids; about the mean of the g++ 12 and clang++ 14 builds). The avxvnni
// kernel qualifies only where CPUID reports AVX-VNNI (some hypervisors hide it); its figure comes
// from running it directly on such a host (the instruction executes, results bit-exact).
// The AMX kernel (dot_amx.hpp) reads the AVX-512 VNNI kernel's panels (same NR, packers and
// weight offset) and qualifies only where the OS grants the tile state (cpu_features.hpp); its
// rate is the mean of 6 medians (g++ 12 and clang++ 14, 378-413) at N = 256, K = 2048 on a
// Sapphire/Emerald Rapids-class KVM host (2026-12-08, loaded), where the bitplane w1a1 kernel
// measured its own declared rate and the VNNI kernel 82-91 (docs/performance.md). The reference
// core profile compares it at 250 (core_profile.hpp reference_rates), so it takes every cell at
// large M but w1a1; small M keeps the GEMV layouts, whose bit-dense weights win where a call is
// memory-bound.
//
// The kernel bodies are written once (dot_body_x86-inl.hpp); each level's header supplies only
// its vector ops and target string (isa.hpp's LOWBIT_X86_TARGET_*), and gets its own copy of the
// bodies compiled for that target in namespace dot::<level>, whose `features` are read back from
// the same string. A new level: a header like dot_avx2.hpp (LOWBIT_DOT_NS, LOWBIT_DOT_TARGET, the
// include, `struct ops` on its vector), included below, and its rows in the list
// (LOWBIT_DOT_PRE_VNNI, or dot_vnni for a level with dpbusd).
#pragma once

#if defined(__x86_64__)

#include "lowbit/kernels/dot/dot_amx.hpp"
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

// The kernels of a level without VNNI: the exact w8a8 one, then dot_maddubs for w8a7, w7a8, w4a4,
// w8a4, w8a2 and w2a8, with their rates in that order.
// clang-format off
#define LOWBIT_DOT_PRE_VNNI(ISA, MR, NV, TILE, R88, R87, R78, R44, R84, R82, R28)                 \
  dot_desc<ISA::dot_madd16<ISA::ops, MR, NV>>("dot_w8a8_" TILE "c2__" #ISA, ISA::features, 8, 8, \
                                              MR, R88),                                          \
  LOWBIT_DOT_UB(ISA, MR, NV, TILE, 8, 7, R87), LOWBIT_DOT_UB(ISA, MR, NV, TILE, 7, 8, R78),      \
  LOWBIT_DOT_UB(ISA, MR, NV, TILE, 4, 4, R44), LOWBIT_DOT_UB(ISA, MR, NV, TILE, 8, 4, R84),      \
  LOWBIT_DOT_UB(ISA, MR, NV, TILE, 8, 2, R82), LOWBIT_DOT_UB(ISA, MR, NV, TILE, 2, 8, R28)
#define LOWBIT_DOT_UB(ISA, MR, NV, TILE, W, A, MPC)                                               \
  dot_desc<ISA::dot_maddubs<ISA::ops, MR, NV, W, A>>("dot_w" #W "a" #A "_" TILE "c4__" #ISA,      \
                                                     ISA::features, W, A, MR, MPC)
// clang-format on

inline ukernel_list x86_ukernels() noexcept {
  static const ukernel_desc list[] = {
      dot_desc<amx::dot_amx>("dot_w8a8_32x32c4__amx", amx::features, 8, 8, 32, 395.0f),
      with_short_tile(dot_desc<avx512vnni::dot_vnni_rows<8, 2>>(
                          "dot_w8a8_8x32c4__avx512vnni", avx512vnni::features, 8, 8, 8, 122.0f),
                      &list[2]),
      // Run instead of the 8-row tile when it pads M less (M = 49, 196); never chosen on its own
      // unless M favours it at packing time (14 accumulators still cover vpdpbusd's latency).
      dot_desc<avx512vnni::dot_vnni_rows<7, 2>>("dot_w8a8_7x32c4__avx512vnni", avx512vnni::features,
                                                8, 8, 7, 120.0f),
      dot_desc<avxvnni::dot_vnni<avxvnni::ops, 6, 2>>("dot_w8a8_6x16c4__avxvnni", avxvnni::features,
                                                      8, 8, 6, 62.0f),
      LOWBIT_DOT_PRE_VNNI(avx512, 8, 2, "8x32", 31.0f, 42.0f, 42.0f, 61.0f, 54.0f, 59.0f, 59.0f),
      LOWBIT_DOT_PRE_VNNI(avx2, 4, 2, "4x16", 20.0f, 28.0f, 28.0f, 40.0f, 33.0f, 41.0f, 38.0f),
      LOWBIT_DOT_PRE_VNNI(sse4, 4, 2, "4x8", 9.0f, 12.5f, 13.0f, 18.0f, 15.5f, 16.5f, 16.5f),
  };
  return {list, sizeof(list) / sizeof(list[0])};
}

#undef LOWBIT_DOT_PRE_VNNI
#undef LOWBIT_DOT_UB

}  // namespace dot
}  // namespace kernels
}  // namespace lowbit

#endif  // __x86_64__
