// lowbit: the x86 small-M (GEMV, batch decoding) kernels with bit-dense weights, as one list.
//
// Dispatch packs for them alone when pack_options::m_hint is 1..8, and a default packing stores
// their layout next to the main one for the M they win at (packing/pack_weights.hpp
// choose_layouts): their declared bytes_per_weight (B / 8) lets select.hpp's time model see that at
// M = 1..8 reading the weights costs more than the MACs (see docs/gemv.md). macs_per_cycle:
// measured by bench/ukernels/bench_gemv_x86.cpp on cache-resident panels (N = 256, K = 2048,
// pinned, median of 5, g++ 12). The gemv_bitplane kernels (AND + vpopcntq, for 1- and 2-bit weights
// *and* activations) are listed with algorithm::bitplane (their rates: median of 3 runs' medians,
// docs/gemv.md); the others are dot_i8 with a8.
#pragma once

#if defined(__x86_64__)

#include "lowbit/kernels/gemv/gemv_avx512vnni.hpp"
#include "lowbit/kernels/gemv/gemv_bitplane_avx512icl.hpp"
#include "lowbit/kernels/ukernel.hpp"

namespace lowbit {
namespace kernels {
namespace gemv {

template <class K>
constexpr ukernel_desc gemv_desc(const char* name, feature_set f, int wb, int mr,
                                 float mpc) noexcept {
  return describe_kernel<K>(name, algorithm::dot_i8, f, wb, 8, mr, K::NR, K::k_step, K::kc_max, mpc,
                            K::a_offset, K::w_offset, K::bytes_per_weight);
}

// The bitplane GEMV kernels (1- and 2-bit weights and activations, gemv_bitplane_avx512icl.hpp).
template <class K>
constexpr ukernel_desc gemv_bitplane_desc(const char* name, feature_set f, int wb, int ab, int mr,
                                          float mpc) noexcept {
  return describe_kernel<K>(name, algorithm::bitplane, f, wb, ab, mr, K::nr, K::k_step, K::kc_max,
                            mpc, 0, 0, K::bytes_per_weight);
}

// clang-format off
#define LOWBIT_GEMV_BP512(W, A, MR, NR, MPC) \
  gemv_bitplane_desc<gemv_bitplane_avx512icl<W, A, MR, NR>>( \
      "gemv_bitplane_w" #W "a" #A "_" #MR "x" #NR "c64__avx512icl", \
      avx512icl_gemv_bitplane_features, W, A, MR, MPC)
// clang-format on

inline ukernel_list x86_ukernels() noexcept {
  static const ukernel_desc list[] = {
      gemv_desc<gemv_vnni_avx512<1, 1, 4, 2>>("gemv_w1a8_1x64c16__avx512vnni",
                                              avx512vnni_gemv_features, 1, 1, 56.0f),
      gemv_desc<gemv_vnni_avx512<2, 1, 4, 2>>("gemv_w2a8_1x64c8__avx512vnni",
                                              avx512vnni_gemv_features, 2, 1, 60.0f),
      gemv_desc<gemv_vnni_avx512<4, 1, 4, 2>>("gemv_w4a8_1x64c8__avx512vnni",
                                              avx512vnni_gemv_features, 4, 1, 52.0f),
      gemv_desc<gemv_vnni_avx512<1, 8, 2, 1>>("gemv_w1a8_8x32c16__avx512vnni",
                                              avx512vnni_gemv_features, 1, 8, 96.0f),
      gemv_desc<gemv_vnni_avx512<2, 8, 2, 1>>("gemv_w2a8_8x32c8__avx512vnni",
                                              avx512vnni_gemv_features, 2, 8, 103.0f),
      gemv_desc<gemv_vnni_avx512<4, 8, 2, 1>>("gemv_w4a8_8x32c4__avx512vnni",
                                              avx512vnni_gemv_features, 4, 8, 101.0f),
      LOWBIT_GEMV_BP512(1, 1, 1, 64, 250.0f),
      LOWBIT_GEMV_BP512(1, 2, 1, 64, 144.0f),
      LOWBIT_GEMV_BP512(2, 1, 1, 64, 115.0f),
      LOWBIT_GEMV_BP512(2, 2, 1, 64, 64.0f),
  };
  return {list, sizeof(list) / sizeof(list[0])};
}

#undef LOWBIT_GEMV_BP512

}  // namespace gemv
}  // namespace kernels
}  // namespace lowbit

#endif  // __x86_64__
