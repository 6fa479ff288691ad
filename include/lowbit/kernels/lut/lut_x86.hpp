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

#include <cstddef>
#include <type_traits>
#include <utility>

#include "lowbit/kernels/lut/lut_avx2.hpp"
#include "lowbit/kernels/lut/lut_avx512bw.hpp"
#include "lowbit/kernels/lut/lut_avx512vbmi.hpp"
#include "lowbit/kernels/lut/lut_sse41.hpp"
#include "lowbit/kernels/ukernel.hpp"

namespace lowbit {
namespace kernels {
namespace lut {

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
  constexpr bool checked = pack_checked_of<typename K::pack>::present;
  const float pack_cycles = algo != algorithm::lut_actsum ? 0.5f
                            : checked                     ? 0.15f
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
  d.pack_a_checked = pack_checked_of<typename K::pack>::value;
  d.a_runs = a_runs_of<typename K::pack>::value;  // conv2d's window rows (vpermb tables)
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

// A registration line: a descriptor, and the name of its signed-weight sibling (nullptr: none),
// registered in the same list (x86_ukernels points the descriptor at it).
struct lut_entry {
  ukernel_desc desc;
  const char* signed_w = nullptr;
};

constexpr bool lut_same_name(const char* a, const char* b) noexcept {
  while (*a != '\0' && *a == *b) ++a, ++b;
  return *a == *b;
}

// The index of the entry named `name` (N if none).
template <std::size_t N>
constexpr std::size_t lut_index(const lut_entry (&e)[N], const char* name) noexcept {
  std::size_t i = 0;
  while (i < N && !lut_same_name(e[i].desc.name, name)) ++i;
  return i;
}

template <std::size_t N>
constexpr bool lut_siblings_registered(const lut_entry (&e)[N]) noexcept {
  for (const lut_entry& x : e)
    if (x.signed_w != nullptr && lut_index(e, x.signed_w) == N) return false;
  return true;
}

template <std::size_t N>
struct lut_list {
  ukernel_desc d[N];
};

// The descriptors of e, each pointing at its signed-weight sibling in `list` (the list made).
template <std::size_t N, std::size_t... I>
constexpr lut_list<N> lut_link(const lut_entry (&e)[N], const ukernel_desc* list,
                               std::index_sequence<I...>) noexcept {
  return {{with_signed_w(
      e[I].desc, e[I].signed_w != nullptr ? list + lut_index(e, e[I].signed_w) : nullptr)...}};
}

// clang-format off
// An activation-sum kernel of level ISA (namespace lut::ISA: its kernel template KERNEL, ops and
// features), cell CELLS_wWaA, name spelled from W, A, the tile and the k-group G.
#define LOWBIT_LUT_AS(ISA, KERNEL, CELLS, MR, TILE, W, A, G, MPC)                                \
  lut_entry{lut_desc<ISA::KERNEL<ISA::ops, CELLS##_w##W##a##A, MR>>(                            \
      "lut_actsum_w" #W "a" #A "_" TILE "c" #G "__" #ISA, algorithm::lut_actsum, ISA::features,  \
      W, A, MPC)}
// A level's four 16-entry (pshufb) cells, w1a1, w1a2 (k-quads), w2a1, w2a2 (k-pairs), at these
// rates.
#define LOWBIT_LUT_AS16(ISA, KERNEL, MR, TILE, R11, R12, R21, R22)                               \
  LOWBIT_LUT_AS(ISA, KERNEL, p, MR, TILE, 1, 1, 4, R11),                                         \
  LOWBIT_LUT_AS(ISA, KERNEL, p, MR, TILE, 1, 2, 4, R12),                                         \
  LOWBIT_LUT_AS(ISA, KERNEL, p, MR, TILE, 2, 1, 2, R21),                                         \
  LOWBIT_LUT_AS(ISA, KERNEL, p, MR, TILE, 2, 2, 2, R22)
// A vpermb cell of k-groups of G (tile 8 x 64, or 8 x 32 with two weight digits).
#define LOWBIT_LUT_VB(W, A, TILE, G, MPC)                                                        \
  LOWBIT_LUT_AS(avx512vbmi, actsum_nv1, v, 8, TILE, W, A, G, MPC)
// A one-chunk vpermb cell with its signed-weight sibling (actsum_cell::make_bank_signed: the
// same panels, weights at offset 2^(W-1), no row sums), which LOWBIT_LUT_VBS registers.
#define LOWBIT_LUT_VBS_NAME(W, A, G) "lut_actsum_w" #W "sa" #A "_8x64c" #G "__avx512vbmi"
#define LOWBIT_LUT_VBW(W, A, G, MPC)                                                             \
  lut_entry{LOWBIT_LUT_VB(W, A, "8x64", G, MPC).desc, LOWBIT_LUT_VBS_NAME(W, A, G)}
#define LOWBIT_LUT_VBS(W, A, G, MPC)                                                             \
  lut_entry{lut_desc<avx512vbmi::actsum_nv1<avx512vbmi::ops, v_w##W##a##A, 8, true>>(            \
      LOWBIT_LUT_VBS_NAME(W, A, G), algorithm::lut_actsum, avx512vbmi::features, W, A, MPC)}
// A product-table kernel (DeepGEMM) of level ISA, MR x 4 outputs.
#define LOWBIT_LUT_PR(ISA, MR, TILE, W, A, MPC)                                                  \
  lut_entry{lut_desc<ISA::product<ISA::ops, product_cell<W, A>, MR>>(                           \
      "lut_product_w" #W "a" #A "_" TILE "__" #ISA, algorithm::lut_product, ISA::features, W, A, \
      MPC)}
// A level's three 16-entry product cells, w2a2, w1a3, w3a1, at these rates.
#define LOWBIT_LUT_PR16(ISA, MR, TILE, R22, R13, R31)                                            \
  LOWBIT_LUT_PR(ISA, MR, TILE, 2, 2, R22), LOWBIT_LUT_PR(ISA, MR, TILE, 1, 3, R13),              \
  LOWBIT_LUT_PR(ISA, MR, TILE, 3, 1, R31)
// clang-format on

inline ukernel_list x86_ukernels() noexcept {
  using namespace cells;
  static constexpr lut_entry entries[] = {
      // AVX-512 VBMI, vpermb
      LOWBIT_LUT_VB(1, 1, "8x64", 6, 248.0f),
      LOWBIT_LUT_VB(1, 2, "8x64", 6, 160.0f),
      LOWBIT_LUT_VBW(2, 1, 3, 133.0f),
      LOWBIT_LUT_VBW(2, 2, 3, 127.0f),
      LOWBIT_LUT_VB(2, 3, "8x64", 3, 73.0f),
      LOWBIT_LUT_VB(2, 4, "8x64", 3, 64.0f),
      LOWBIT_LUT_VBW(3, 2, 2, 82.0f),
      LOWBIT_LUT_VBW(3, 3, 2, 62.0f),
      LOWBIT_LUT_VBW(3, 4, 2, 57.0f),
      LOWBIT_LUT_VB(4, 2, "8x32", 3, 71.0f),
      LOWBIT_LUT_VB(4, 3, "8x32", 3, 45.0f),
      LOWBIT_LUT_VB(4, 4, "8x32", 3, 41.0f),
      // AVX-512BW, vpshufb zmm; AVX2, vpshufb ymm; SSSE3 + SSE4.1, pshufb xmm
      LOWBIT_LUT_AS16(avx512bw, actsum_nv1, 8, "8x64", 198.0f, 186.0f, 94.0f, 88.0f),
      LOWBIT_LUT_AS16(avx2, actsum_nv2, 4, "4x64", 130.0f, 124.0f, 66.0f, 57.0f),
      LOWBIT_LUT_AS16(sse41, actsum_nv2, 4, "4x32", 75.0f, 72.0f, 37.0f, 37.0f),
      // Product tables (DeepGEMM), AVX-512 VBMI: vpermb, vpermi2b (w3a4, w4a3)
      LOWBIT_LUT_PR(avx512vbmi, 4, "4x4c64", 3, 3, 31.0f),
      LOWBIT_LUT_PR(avx512vbmi, 4, "4x4c64", 2, 4, 31.0f),
      LOWBIT_LUT_PR(avx512vbmi, 4, "4x4c64", 4, 2, 30.0f),
      LOWBIT_LUT_PR(avx512vbmi, 4, "4x4c64", 3, 4, 18.5f),
      LOWBIT_LUT_PR(avx512vbmi, 4, "4x4c64", 4, 3, 18.1f),
      // Product tables (DeepGEMM), AVX-512BW, AVX2, SSSE3 + SSE4.1: (v)pshufb
      LOWBIT_LUT_PR16(avx512bw, 4, "4x4c64", 33.0f, 32.0f, 32.0f),
      LOWBIT_LUT_PR16(avx2, 2, "2x4c32", 22.0f, 18.6f, 21.0f),
      LOWBIT_LUT_PR16(sse41, 2, "2x4c16", 12.8f, 13.8f, 14.4f),
      // The signed-weight siblings named above.
      LOWBIT_LUT_VBS(2, 1, 3, 133.0f),
      LOWBIT_LUT_VBS(2, 2, 3, 127.0f),
      LOWBIT_LUT_VBS(3, 2, 2, 82.0f),
      LOWBIT_LUT_VBS(3, 3, 2, 62.0f),
      LOWBIT_LUT_VBS(3, 4, 2, 57.0f),
  };
  constexpr std::size_t n = sizeof(entries) / sizeof(entries[0]);
  static_assert(lut_siblings_registered(entries), "every signed-weight sibling is registered");
  static const lut_list<n> list = lut_link(entries, list.d, std::make_index_sequence<n>{});
  return {list.d, n};
}

#undef LOWBIT_LUT_AS
#undef LOWBIT_LUT_AS16
#undef LOWBIT_LUT_VB
#undef LOWBIT_LUT_VBS_NAME
#undef LOWBIT_LUT_VBW
#undef LOWBIT_LUT_VBS
#undef LOWBIT_LUT_PR
#undef LOWBIT_LUT_PR16

}  // namespace lut
}  // namespace kernels
}  // namespace lowbit

#endif  // __x86_64__
