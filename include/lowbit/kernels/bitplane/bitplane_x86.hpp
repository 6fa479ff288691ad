// lowbit: the x86 bitplane popcount kernels, as one list for dispatch.
//
// One kernel per (weight bits, activation bits) cell from 1 to 8 bits: the cost is Wbits x Abits
// plane pairs, so a kernel built for exactly the operands' widths is always the one to pick, and
// beyond 4 x 4 (16 pairs) int8 dot products win wherever VNNI runs. macs_per_cycle is measured by
// bench/ukernels/bench_bitplane_x86.cpp (N = 256,
// K = 2048, pinned, Emerald Rapids; about the mean of the g++ 12 and clang++ 14 builds).
#pragma once

#if defined(__x86_64__)

#include "lowbit/kernels/bitplane/bitplane_avx2.hpp"
#include "lowbit/kernels/bitplane/bitplane_avx512icl.hpp"
#include "lowbit/kernels/bitplane/bitplane_tl_avx512icl.hpp"
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
#define LOWBIT_BPTL(MR, NR, MPC)                                                          \
  bitplane_desc<bitplane_tl_w2a2_avx512icl<MR, NR>>("bitplane_tl_w2a2_" #MR "x" #NR          \
                                                    "c64__avx512icl",                         \
                                                    avx512icl_bitplane_features, 2, 2, MR, NR, MPC)
#define LOWBIT_BPTLS(MR, NR, MPC)                                                         \
  bitplane_desc<bitplane_tl_w2a2_avx512icl<MR, NR, true>>("bitplane_tl_w2sa2_" #MR "x" #NR  \
                                                          "c64__avx512icl",                 \
                                                          avx512icl_bitplane_features, 2, 2, \
                                                          MR, NR, MPC, 2)
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
      // w2a2 in three ternary-logic terms instead of four plane pairs (bitplane_tl_avx512icl.hpp),
      // with its signed-weight sibling. Rate: the plain kernel's 78 times the 1.09x measured
      // on Zen 5 (an Intel core, bound by its one popcount port, should gain more: unmeasured).
      // 4 x 32: 4 rows divide 56- and 28-pixel rows, so conv2d's tiles stay in one image row.
      with_signed_w(LOWBIT_BPTL(4, 32, 85.0f), &list[45]),
      LOWBIT_BPTLS(4, 32, 85.0f),
#if defined(LOWBIT_BITPLANE_WIDE)
      // Beyond 4 x 4 (5..8 bits on either side), opt-in: up to 64 plane pairs, so int8 dot
      // products win wherever these run (VPOPCNTDQ comes with VNNI; AVX2 dot does 44 MAC/cycle)
      // and dispatch never prefers them; they serve forced bitplane choices (LOWBIT_ALGO). The
      // 96 kernels would double the compile time of every file that includes lowbit. Rates: the
      // 1x1 rate over W x A plane pairs, as the measured cells above follow.
      LOWBIT_BP512(1, 5, 63.00f), LOWBIT_BP512(1, 6, 52.50f), LOWBIT_BP512(1, 7, 45.00f),
      LOWBIT_BP512(1, 8, 39.38f), LOWBIT_BP512(2, 5, 31.50f), LOWBIT_BP512(2, 6, 26.25f),
      LOWBIT_BP512(2, 7, 22.50f), LOWBIT_BP512(2, 8, 19.69f), LOWBIT_BP512(3, 5, 21.00f),
      LOWBIT_BP512(3, 6, 17.50f), LOWBIT_BP512(3, 7, 15.00f), LOWBIT_BP512(3, 8, 13.12f),
      LOWBIT_BP512(4, 5, 15.75f), LOWBIT_BP512(4, 6, 13.12f), LOWBIT_BP512(4, 7, 11.25f),
      LOWBIT_BP512(4, 8, 9.84f), LOWBIT_BP512(5, 1, 63.00f), LOWBIT_BP512(5, 2, 31.50f),
      LOWBIT_BP512(5, 3, 21.00f), LOWBIT_BP512(5, 4, 15.75f), LOWBIT_BP512(5, 5, 12.60f),
      LOWBIT_BP512(5, 6, 10.50f), LOWBIT_BP512(5, 7, 9.00f), LOWBIT_BP512(5, 8, 7.88f),
      LOWBIT_BP512(6, 1, 52.50f), LOWBIT_BP512(6, 2, 26.25f), LOWBIT_BP512(6, 3, 17.50f),
      LOWBIT_BP512(6, 4, 13.12f), LOWBIT_BP512(6, 5, 10.50f), LOWBIT_BP512(6, 6, 8.75f),
      LOWBIT_BP512(6, 7, 7.50f), LOWBIT_BP512(6, 8, 6.56f), LOWBIT_BP512(7, 1, 45.00f),
      LOWBIT_BP512(7, 2, 22.50f), LOWBIT_BP512(7, 3, 15.00f), LOWBIT_BP512(7, 4, 11.25f),
      LOWBIT_BP512(7, 5, 9.00f), LOWBIT_BP512(7, 6, 7.50f), LOWBIT_BP512(7, 7, 6.43f),
      LOWBIT_BP512(7, 8, 5.62f), LOWBIT_BP512(8, 1, 39.38f), LOWBIT_BP512(8, 2, 19.69f),
      LOWBIT_BP512(8, 3, 13.12f), LOWBIT_BP512(8, 4, 9.84f), LOWBIT_BP512(8, 5, 7.88f),
      LOWBIT_BP512(8, 6, 6.56f), LOWBIT_BP512(8, 7, 5.62f), LOWBIT_BP512(8, 8, 4.92f),
      LOWBIT_BP256(1, 5, 17.40f), LOWBIT_BP256(1, 6, 14.50f), LOWBIT_BP256(1, 7, 12.43f),
      LOWBIT_BP256(1, 8, 10.88f), LOWBIT_BP256(2, 5, 8.70f), LOWBIT_BP256(2, 6, 7.25f),
      LOWBIT_BP256(2, 7, 6.21f), LOWBIT_BP256(2, 8, 5.44f), LOWBIT_BP256(3, 5, 5.80f),
      LOWBIT_BP256(3, 6, 4.83f), LOWBIT_BP256(3, 7, 4.14f), LOWBIT_BP256(3, 8, 3.62f),
      LOWBIT_BP256(4, 5, 4.35f), LOWBIT_BP256(4, 6, 3.62f), LOWBIT_BP256(4, 7, 3.11f),
      LOWBIT_BP256(4, 8, 2.72f), LOWBIT_BP256(5, 1, 17.40f), LOWBIT_BP256(5, 2, 8.70f),
      LOWBIT_BP256(5, 3, 5.80f), LOWBIT_BP256(5, 4, 4.35f), LOWBIT_BP256(5, 5, 3.48f),
      LOWBIT_BP256(5, 6, 2.90f), LOWBIT_BP256(5, 7, 2.49f), LOWBIT_BP256(5, 8, 2.17f),
      LOWBIT_BP256(6, 1, 14.50f), LOWBIT_BP256(6, 2, 7.25f), LOWBIT_BP256(6, 3, 4.83f),
      LOWBIT_BP256(6, 4, 3.62f), LOWBIT_BP256(6, 5, 2.90f), LOWBIT_BP256(6, 6, 2.42f),
      LOWBIT_BP256(6, 7, 2.07f), LOWBIT_BP256(6, 8, 1.81f), LOWBIT_BP256(7, 1, 12.43f),
      LOWBIT_BP256(7, 2, 6.21f), LOWBIT_BP256(7, 3, 4.14f), LOWBIT_BP256(7, 4, 3.11f),
      LOWBIT_BP256(7, 5, 2.49f), LOWBIT_BP256(7, 6, 2.07f), LOWBIT_BP256(7, 7, 1.78f),
      LOWBIT_BP256(7, 8, 1.55f), LOWBIT_BP256(8, 1, 10.88f), LOWBIT_BP256(8, 2, 5.44f),
      LOWBIT_BP256(8, 3, 3.62f), LOWBIT_BP256(8, 4, 2.72f), LOWBIT_BP256(8, 5, 2.17f),
      LOWBIT_BP256(8, 6, 1.81f), LOWBIT_BP256(8, 7, 1.55f), LOWBIT_BP256(8, 8, 1.36f),
#endif
  };
  // clang-format on
  return {list, sizeof(list) / sizeof(list[0])};
}

#undef LOWBIT_BP512
#undef LOWBIT_BP512S
#undef LOWBIT_BP512W
#undef LOWBIT_BP256
#undef LOWBIT_BPTL
#undef LOWBIT_BPTLS

}  // namespace bitplane
}  // namespace kernels
}  // namespace lowbit

#endif  // __x86_64__
