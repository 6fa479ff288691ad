// lowbit: the x86 lookup-table kernels, as one list for dispatch.
//
// Two families (the issue asks for both, to be measured against each other):
// - lut_actsum: tables of activation sums indexed by several weights' bits (actsum_common.hpp),
//   one table per (row, K group) reused by all the tile's columns: 1.5..6 MACs per byte;
// - lut_product: DeepGEMM's table of every product, indexed by the concatenated (w, a) codes:
//   one MAC per byte (product_common.hpp).
// macs_per_cycle is measured by bench/ukernels/bench_lut_x86.cpp on the reference Emerald Rapids
// Xeon (K = 512, pinned, 5 repetitions): the median over N = 64, 256, 1024 and over g++ 12 and
// clang++ 14 builds of the per-N medians. The machine was shared, so figures are indicative
// (+-10%); both compilers generate the same inner loops (see the kernels' register blocking).
#pragma once

#if defined(__x86_64__)

#include "lowbit/kernels/lut/lut_actsum_avx2.hpp"
#include "lowbit/kernels/lut/lut_actsum_avx512bw.hpp"
#include "lowbit/kernels/lut/lut_actsum_avx512vbmi.hpp"
#include "lowbit/kernels/lut/lut_actsum_sse41.hpp"
#include "lowbit/kernels/lut/lut_product_avx2.hpp"
#include "lowbit/kernels/lut/lut_product_avx512bw.hpp"
#include "lowbit/kernels/lut/lut_product_avx512vbmi.hpp"
#include "lowbit/kernels/lut/lut_product_sse41.hpp"
#include "lowbit/kernels/ukernel.hpp"

namespace lowbit {
namespace kernels {
namespace lut {

template <class P, class = void>
struct has_pack_runs : std::false_type {};
template <class P>
struct has_pack_runs<P, std::void_t<decltype(&P::pack_runs)>> : std::true_type {};

// A kernel's weight offset: its declared w_offset (signed-weight siblings), else 0.
template <class K, class = void>
struct lut_w_offset {
  static constexpr int value = 0;
};
template <class K>
struct lut_w_offset<K, std::void_t<decltype(K::w_offset)>> {
  static constexpr int value = K::w_offset;
};

template <class K>
constexpr ukernel_desc lut_desc(const char* name, algorithm algo, feature_set f, int wb, int ab,
                                float mpc) noexcept {
  // A packer cycles per activation code. The vector k-pair/k-quad packer (actsum_pack_sse41.hpp)
  // also validates and sums, replacing the driver's separate pass: about 0.15, fitted to whole
  // AVX2 w2a2 GEMMs (docs/performance.md). The scalar ones turn each k-group into a table offset
  // one code at a time: about 2.2 for the k-triple (vpermb) packers, measured (perf) on a
  // 3136 x 64 x 576 GEMM, and 1.5 for k-pairs/k-quads; product-table packers interleave, ~0.5.
  constexpr pack_checked_fn checked = pack_checked_of<typename K::pack>::value;
  const float pack_cycles = algo != algorithm::lut_actsum ? 0.5f
                            : checked != nullptr          ? 0.15f
                            : K::k_step % 3 == 0          ? 2.2f
                                                          : 1.5f;
  ukernel_desc d{name,
                 algo,
                 f,
                 static_cast<std::uint8_t>(wb),
                 static_cast<std::uint8_t>(ab),
                 static_cast<std::uint16_t>(K::mr),
                 static_cast<std::uint16_t>(K::nr),
                 static_cast<std::uint16_t>(K::k_step),
                 K::kc_max,
                 0,
                 static_cast<std::int16_t>(lut_w_offset<K>::value),
                 mpc,
                 &K::pack::a_bytes,
                 &K::pack::w_bytes,
                 &K::pack::pack_a,
                 &K::pack::pack_w,
                 &K::run,
                 0.0f,
                 pack_cycles};
  d.pack_a_checked = checked;
  if constexpr (has_pack_runs<typename K::pack>::value) {  // conv2d's window rows (pack_a_runs)
    d.pack_a_runs = &K::pack::pack_runs;
    d = with_runs_limits<typename K::pack>(d);
  }
  return d;
}

// Activation-sum cells: actsum_cell<W bits, A bits, k per group, weight digit bits, digits,
// k per bank chunk>.
namespace cells {
// 16-entry tables (pshufb): 4 index bits.
using p_w1a1 = actsum_cell<1, 1, 4, 1, 1, 4>;
using p_w1a2 = actsum_cell<1, 2, 4, 1, 1, 4>;
using p_w2a1 = actsum_cell<2, 1, 2, 2, 1, 2>;
using p_w2a2 = actsum_cell<2, 2, 2, 2, 1, 2>;
// 64-entry tables (vpermb): 6 index bits.
using v_w1a1 = actsum_cell<1, 1, 6, 1, 1, 6>;
using v_w1a2 = actsum_cell<1, 2, 6, 1, 1, 3>;  // 2 chunks: 4096 tables would not fit L1
using v_w2a1 = actsum_cell<2, 1, 3, 2, 1, 3>;
using v_w2a2 = actsum_cell<2, 2, 3, 2, 1, 3>;
using v_w2a3 = actsum_cell<2, 3, 3, 2, 1, 2>;
using v_w2a4 = actsum_cell<2, 4, 3, 2, 1, 2>;
using v_w3a2 = actsum_cell<3, 2, 2, 3, 1, 2>;
using v_w3a3 = actsum_cell<3, 3, 2, 3, 1, 2>;
using v_w3a4 = actsum_cell<3, 4, 2, 3, 1, 2>;
using v_w4a2 = actsum_cell<4, 2, 3, 2, 2, 3>;  // two 2-bit weight digits per column
using v_w4a3 = actsum_cell<4, 3, 3, 2, 2, 2>;
using v_w4a4 = actsum_cell<4, 4, 3, 2, 2, 2>;
}  // namespace cells

// clang-format off
#define LOWBIT_LUT_AS(NAME, F, W, A, MPC, ...) \
  lut_desc<__VA_ARGS__>(NAME, algorithm::lut_actsum, F, W, A, MPC)
#define LOWBIT_LUT_PR(NAME, F, W, A, MPC, ...) \
  lut_desc<__VA_ARGS__>(NAME, algorithm::lut_product, F, W, A, MPC)
// One-chunk vpermb cells of k-groups of G, name and cell spelled from W, A and G: LOWBIT_LUT_VB
// the cell, LOWBIT_LUT_VBS its signed-weight sibling (actsum_cell::make_bank_signed: the same
// panels, weights at offset 2^(W-1), no row sums), LOWBIT_LUT_VBW the cell pointing at its
// sibling, list[SIBLING].
#define LOWBIT_LUT_VB(W, A, G, MPC)                                                        \
  LOWBIT_LUT_AS("lut_actsum_w" #W "a" #A "_8x64c" #G "__avx512vbmi", avx512vbmi_lut_features, \
                W, A, MPC, actsum_avx512vbmi<v_w##W##a##A, 8>)
#define LOWBIT_LUT_VBS(W, A, G, MPC)                                                        \
  LOWBIT_LUT_AS("lut_actsum_w" #W "sa" #A "_8x64c" #G "__avx512vbmi", avx512vbmi_lut_features, \
                W, A, MPC, actsum_avx512vbmi<v_w##W##a##A, 8, true>)
#define LOWBIT_LUT_VBW(W, A, G, MPC, SIBLING) \
  with_signed_w(LOWBIT_LUT_VB(W, A, G, MPC), &list[SIBLING])
// clang-format on

inline ukernel_list x86_ukernels() noexcept {
  using namespace cells;
  static const ukernel_desc list[] = {
      // AVX-512 VBMI, vpermb
      LOWBIT_LUT_AS("lut_actsum_w1a1_8x64c6__avx512vbmi", avx512vbmi_lut_features, 1, 1, 248.0f,
                    actsum_avx512vbmi<v_w1a1, 8>),
      LOWBIT_LUT_AS("lut_actsum_w1a2_8x64c6__avx512vbmi", avx512vbmi_lut_features, 1, 2, 160.0f,
                    actsum_avx512vbmi<v_w1a2, 8>),
      LOWBIT_LUT_VBW(2, 1, 3, 133.0f, 38),
      LOWBIT_LUT_VBW(2, 2, 3, 127.0f, 39),
      LOWBIT_LUT_AS("lut_actsum_w2a3_8x64c3__avx512vbmi", avx512vbmi_lut_features, 2, 3, 73.0f,
                    actsum_avx512vbmi<v_w2a3, 8>),
      LOWBIT_LUT_AS("lut_actsum_w2a4_8x64c3__avx512vbmi", avx512vbmi_lut_features, 2, 4, 64.0f,
                    actsum_avx512vbmi<v_w2a4, 8>),
      LOWBIT_LUT_VBW(3, 2, 2, 82.0f, 40),
      LOWBIT_LUT_VBW(3, 3, 2, 62.0f, 41),
      LOWBIT_LUT_VBW(3, 4, 2, 57.0f, 42),
      LOWBIT_LUT_AS("lut_actsum_w4a2_8x32c3__avx512vbmi", avx512vbmi_lut_features, 4, 2, 71.0f,
                    actsum_avx512vbmi<v_w4a2, 8>),
      LOWBIT_LUT_AS("lut_actsum_w4a3_8x32c3__avx512vbmi", avx512vbmi_lut_features, 4, 3, 45.0f,
                    actsum_avx512vbmi<v_w4a3, 8>),
      LOWBIT_LUT_AS("lut_actsum_w4a4_8x32c3__avx512vbmi", avx512vbmi_lut_features, 4, 4, 41.0f,
                    actsum_avx512vbmi<v_w4a4, 8>),
      // AVX-512BW, vpshufb zmm
      LOWBIT_LUT_AS("lut_actsum_w1a1_8x64c4__avx512bw", avx512bw_lut_features, 1, 1, 198.0f,
                    actsum_avx512bw<p_w1a1, 8>),
      LOWBIT_LUT_AS("lut_actsum_w1a2_8x64c4__avx512bw", avx512bw_lut_features, 1, 2, 186.0f,
                    actsum_avx512bw<p_w1a2, 8>),
      LOWBIT_LUT_AS("lut_actsum_w2a1_8x64c2__avx512bw", avx512bw_lut_features, 2, 1, 94.0f,
                    actsum_avx512bw<p_w2a1, 8>),
      LOWBIT_LUT_AS("lut_actsum_w2a2_8x64c2__avx512bw", avx512bw_lut_features, 2, 2, 88.0f,
                    actsum_avx512bw<p_w2a2, 8>),
      // AVX2, vpshufb ymm
      LOWBIT_LUT_AS("lut_actsum_w1a1_4x64c4__avx2", avx2_lut_features, 1, 1, 130.0f,
                    actsum_avx2<p_w1a1, 4>),
      LOWBIT_LUT_AS("lut_actsum_w1a2_4x64c4__avx2", avx2_lut_features, 1, 2, 124.0f,
                    actsum_avx2<p_w1a2, 4>),
      LOWBIT_LUT_AS("lut_actsum_w2a1_4x64c2__avx2", avx2_lut_features, 2, 1, 66.0f,
                    actsum_avx2<p_w2a1, 4>),
      LOWBIT_LUT_AS("lut_actsum_w2a2_4x64c2__avx2", avx2_lut_features, 2, 2, 57.0f,
                    actsum_avx2<p_w2a2, 4>),
      // SSSE3 + SSE4.1, pshufb xmm
      LOWBIT_LUT_AS("lut_actsum_w1a1_4x32c4__sse41", sse41_lut_features, 1, 1, 75.0f,
                    actsum_sse41<p_w1a1, 4>),
      LOWBIT_LUT_AS("lut_actsum_w1a2_4x32c4__sse41", sse41_lut_features, 1, 2, 72.0f,
                    actsum_sse41<p_w1a2, 4>),
      LOWBIT_LUT_AS("lut_actsum_w2a1_4x32c2__sse41", sse41_lut_features, 2, 1, 37.0f,
                    actsum_sse41<p_w2a1, 4>),
      LOWBIT_LUT_AS("lut_actsum_w2a2_4x32c2__sse41", sse41_lut_features, 2, 2, 37.0f,
                    actsum_sse41<p_w2a2, 4>),
      // Product tables (DeepGEMM), AVX-512 VBMI: vpermb, vpermi2b
      LOWBIT_LUT_PR("lut_product_w3a3_4x4c64__avx512vbmi", avx512vbmi_lutp_features, 3, 3, 31.0f,
                    product_avx512vbmi<product_cell<3, 3>>),
      LOWBIT_LUT_PR("lut_product_w2a4_4x4c64__avx512vbmi", avx512vbmi_lutp_features, 2, 4, 31.0f,
                    product_avx512vbmi<product_cell<2, 4>>),
      LOWBIT_LUT_PR("lut_product_w4a2_4x4c64__avx512vbmi", avx512vbmi_lutp_features, 4, 2, 30.0f,
                    product_avx512vbmi<product_cell<4, 2>>),
      LOWBIT_LUT_PR("lut_product_w3a4_4x4c64__avx512vbmi", avx512vbmi_lutp_features, 3, 4, 18.5f,
                    product_avx512vbmi<product_cell<3, 4>>),
      LOWBIT_LUT_PR("lut_product_w4a3_4x4c64__avx512vbmi", avx512vbmi_lutp_features, 4, 3, 18.1f,
                    product_avx512vbmi<product_cell<4, 3>>),
      // Product tables (DeepGEMM), AVX-512BW: vpshufb zmm
      LOWBIT_LUT_PR("lut_product_w2a2_4x4c64__avx512bw", avx512bw_lutp_features, 2, 2, 33.0f,
                    product_avx512bw<product_cell<2, 2>>),
      LOWBIT_LUT_PR("lut_product_w1a3_4x4c64__avx512bw", avx512bw_lutp_features, 1, 3, 32.0f,
                    product_avx512bw<product_cell<1, 3>>),
      LOWBIT_LUT_PR("lut_product_w3a1_4x4c64__avx512bw", avx512bw_lutp_features, 3, 1, 32.0f,
                    product_avx512bw<product_cell<3, 1>>),
      // Product tables (DeepGEMM), AVX2: vpshufb ymm
      LOWBIT_LUT_PR("lut_product_w2a2_2x4c32__avx2", avx2_lutp_features, 2, 2, 22.0f,
                    product_avx2<product_cell<2, 2>>),
      LOWBIT_LUT_PR("lut_product_w1a3_2x4c32__avx2", avx2_lutp_features, 1, 3, 18.6f,
                    product_avx2<product_cell<1, 3>>),
      LOWBIT_LUT_PR("lut_product_w3a1_2x4c32__avx2", avx2_lutp_features, 3, 1, 21.0f,
                    product_avx2<product_cell<3, 1>>),
      // Product tables (DeepGEMM), SSSE3 + SSE4.1: pshufb xmm
      LOWBIT_LUT_PR("lut_product_w2a2_2x4c16__sse41", sse41_lutp_features, 2, 2, 12.8f,
                    product_sse41<product_cell<2, 2>>),
      LOWBIT_LUT_PR("lut_product_w1a3_2x4c16__sse41", sse41_lutp_features, 1, 3, 13.8f,
                    product_sse41<product_cell<1, 3>>),
      LOWBIT_LUT_PR("lut_product_w3a1_2x4c16__sse41", sse41_lutp_features, 3, 1, 14.4f,
                    product_sse41<product_cell<3, 1>>),
      // The signed-weight siblings of the one-chunk vpermb cells, at the indices the lines
      // above name.
      LOWBIT_LUT_VBS(2, 1, 3, 133.0f),
      LOWBIT_LUT_VBS(2, 2, 3, 127.0f),
      LOWBIT_LUT_VBS(3, 2, 2, 82.0f),
      LOWBIT_LUT_VBS(3, 3, 2, 62.0f),
      LOWBIT_LUT_VBS(3, 4, 2, 57.0f),
  };
  return {list, sizeof(list) / sizeof(list[0])};
}

#undef LOWBIT_LUT_AS
#undef LOWBIT_LUT_PR
#undef LOWBIT_LUT_VB
#undef LOWBIT_LUT_VBS
#undef LOWBIT_LUT_VBW

}  // namespace lut
}  // namespace kernels
}  // namespace lowbit

#endif  // __x86_64__
