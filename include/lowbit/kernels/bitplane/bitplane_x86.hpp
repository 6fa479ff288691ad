// lowbit: the x86 bitplane popcount kernels, as one list for dispatch.
//
// One kernel per (weight bits, activation bits) cell from 1 to 4 bits: the cost is Wbits x Abits
// plane pairs, so a kernel built for exactly the operands' widths is always the one to pick, and
// beyond 4 x 4 (16 pairs) int8 dot products win on every x86 level. macs_per_cycle is measured by
// bench/ukernels/bench_bitplane_x86.cpp (N = 256,
// K = 2048, pinned, Emerald Rapids; about the mean of the g++ 12 and clang++ 14 builds).
#pragma once

#if defined(__x86_64__)

#include "lowbit/kernels/bitplane/bitplane_avx2.hpp"
#include "lowbit/kernels/bitplane/bitplane_avx512icl.hpp"
#include "lowbit/kernels/ukernel.hpp"

namespace lowbit {
namespace kernels {
namespace bitplane {

template <class K>
constexpr ukernel_desc bitplane_desc(const char* name, feature_set f, int wb, int ab, int mr,
                                     int nr, float mpc, int w_offset = 0) noexcept {
  return describe_kernel<K>(name, algorithm::bitplane, f, wb, ab, mr, nr, K::KB, K::kc_max, mpc, 0,
                            w_offset);
}

// clang-format off
#define LOWBIT_BP512(W, A, MPC) \
  bitplane_desc<bitplane_avx512icl<W, A, 6, 32>>("bitplane_w" #W "a" #A "_6x32c64__avx512icl", \
                                                avx512icl_bitplane_features, W, A, 6, 32, MPC)
// The signed-weight sibling (ukernel_desc::signed_w): same rate, weights at offset 2^(W-1).
#define LOWBIT_BP512S(W, A, MPC)                                                             \
  bitplane_desc<bitplane_avx512icl<W, A, 6, 32, true>>("bitplane_w" #W "sa" #A               \
                                                       "_6x32c64__avx512icl",                \
                                                       avx512icl_bitplane_features, W, A, 6, \
                                                       32, MPC, 1 << (W - 1))
#define LOWBIT_BP512W(W, A, MPC, SIBLING) with_signed_w(LOWBIT_BP512(W, A, MPC), &list[SIBLING])
#define LOWBIT_BP256(W, A, MPC) \
  bitplane_desc<bitplane_avx2<W, A, 4, 8>>("bitplane_w" #W "a" #A "_4x8c64__avx2", \
                                           avx2_bitplane_features, W, A, 4, 8, MPC)
// clang-format on

inline ukernel_list x86_ukernels() noexcept {
  // clang-format off
  static const ukernel_desc list[] = {
      LOWBIT_BP512(1, 1, 315.0f),
      LOWBIT_BP512(1, 2, 155.0f),
      LOWBIT_BP512W(2, 1, 155.0f, 32),
      LOWBIT_BP512W(2, 2, 78.0f, 33),
      LOWBIT_BP512(1, 3, 105.0f),
      LOWBIT_BP512W(3, 1, 105.0f, 34),
      LOWBIT_BP512W(2, 3, 52.0f, 35),
      LOWBIT_BP512W(3, 2, 52.0f, 36),
      LOWBIT_BP512W(3, 3, 36.0f, 37),
      LOWBIT_BP512(1, 4, 81.0f),
      LOWBIT_BP512W(4, 1, 81.0f, 38),
      LOWBIT_BP512W(2, 4, 40.0f, 39),
      LOWBIT_BP512W(4, 2, 40.0f, 40),
      LOWBIT_BP512W(3, 4, 25.0f, 41),
      LOWBIT_BP512W(4, 3, 25.0f, 42),
      LOWBIT_BP512W(4, 4, 19.0f, 43),
      LOWBIT_BP256(1, 1, 87.0f),  LOWBIT_BP256(1, 2, 43.0f),
      LOWBIT_BP256(2, 1, 43.0f),  LOWBIT_BP256(2, 2, 21.5f),  LOWBIT_BP256(1, 3, 28.0f),
      LOWBIT_BP256(3, 1, 28.0f),  LOWBIT_BP256(2, 3, 14.5f),  LOWBIT_BP256(3, 2, 14.5f),
      LOWBIT_BP256(3, 3, 9.8f),   LOWBIT_BP256(1, 4, 21.0f),  LOWBIT_BP256(4, 1, 21.0f),
      LOWBIT_BP256(2, 4, 11.0f),  LOWBIT_BP256(4, 2, 11.0f),  LOWBIT_BP256(3, 4, 7.2f),
      LOWBIT_BP256(4, 3, 7.0f),   LOWBIT_BP256(4, 4, 5.5f),
      // The signed-weight siblings, at the indices the lines above name.
      LOWBIT_BP512S(2, 1, 155.0f),
      LOWBIT_BP512S(2, 2, 78.0f),
      LOWBIT_BP512S(3, 1, 105.0f),
      LOWBIT_BP512S(2, 3, 52.0f),
      LOWBIT_BP512S(3, 2, 52.0f),
      LOWBIT_BP512S(3, 3, 36.0f),
      LOWBIT_BP512S(4, 1, 81.0f),
      LOWBIT_BP512S(2, 4, 40.0f),
      LOWBIT_BP512S(4, 2, 40.0f),
      LOWBIT_BP512S(3, 4, 25.0f),
      LOWBIT_BP512S(4, 3, 25.0f),
      LOWBIT_BP512S(4, 4, 19.0f),
  };
  // clang-format on
  return {list, sizeof(list) / sizeof(list[0])};
}

#undef LOWBIT_BP512
#undef LOWBIT_BP512S
#undef LOWBIT_BP512W
#undef LOWBIT_BP256

}  // namespace bitplane
}  // namespace kernels
}  // namespace lowbit

#endif  // __x86_64__
