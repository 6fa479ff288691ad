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
#include "lowbit/kernels/gemv/gemv_row1_avx512vnni.hpp"
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

// One bit-dense layout for every M (a default packing, packing/pack_weights.hpp choose_layouts):
// the 8-row kernel's panels (NV = 2: 32 columns, as the int8 dot kernels), which a 1-row kernel
// reads at M = 1 (gemv_row1_avx512vnni.hpp; it packs the layout, its K step being the larger) and
// the driver unpacks per call into the dot kernels' panels at large M (gemv_unpack_k4). Not in the
// dispatch list: a hint of 1 still packs the 64-column kernel alone.
struct dense_family {
  const char* rows8;        // the 8-row kernel in x86_ukernels()
  const ukernel_desc row1;  // the 1-row kernel over its panels
  unpack_fn unpack;         // its panels into dot_pack_k4<32, *>'s
};

// Cycles per weight of a dense family's unpacker (gemv_unpack_k4): dispatch charges it, over M
// rows, to the main kernel at small M. Measured on an AMX-class Xeon host (2026-12-08, one
// pinned core, 4096 x 4096 signed weights unpacked panel by panel into one L2-resident buffer,
// the source streamed from memory; thread CPU time at about 3 GHz): w4 and w2 0.09, w1 0.055.
constexpr double dense_unpack_cycles(int w_bits) noexcept { return w_bits == 1 ? 0.055 : 0.09; }

inline const dense_family* dense_families(std::size_t& count) noexcept {
  static const dense_family list[] = {
      {"gemv_w1a8_8x32c16__avx512vnni",
       gemv_desc<gemv_row1_avx512<1, 1>>("gemv_w1a8_1x32c16__avx512vnni", avx512vnni_gemv_features,
                                         1, 1, 56.0f),
       &gemv_unpack_k4<gemv_layout<1, 2, 1>>::unpack},
      {"gemv_w2a8_8x32c8__avx512vnni",
       gemv_desc<gemv_row1_avx512<2, 4>>("gemv_w2a8_1x32c32__avx512vnni", avx512vnni_gemv_features,
                                         2, 1, 60.0f),
       &gemv_unpack_k4<gemv_layout<2, 2, 1>>::unpack},
      {"gemv_w4a8_8x32c4__avx512vnni",
       gemv_desc<gemv_row1_avx512<4, 4>>("gemv_w4a8_1x32c16__avx512vnni", avx512vnni_gemv_features,
                                         4, 1, 52.0f),
       &gemv_unpack_k4<gemv_layout<4, 2, 1>>::unpack},
  };
  count = sizeof(list) / sizeof(list[0]);
  return list;
}

// 32-column twins of the 1-row bitplane kernels: they read the bitplane family's 32-row weight
// panels (bitplane_pack_avx512<32, W, 64>, the layout of bitplane_w<W>a<A>_6x32c64), so a default
// packing whose main kernel has those panels runs M = 1 on them instead of storing a 64-column
// layout next to them. Not in the dispatch list.
struct column32_twin {
  const char* row1;  // the 64-column 1-row kernel in x86_ukernels()
  const ukernel_desc twin;
  pack_fn main_pack;  // the W packer of the main kernels it can share panels with
};

// clang-format off
#define LOWBIT_GEMV_BP512_TWIN(W, A, MPC)                                                    \
  {"gemv_bitplane_w" #W "a" #A "_1x64c64__avx512icl",                                        \
   gemv_bitplane_desc<gemv_bitplane_avx512icl<W, A, 1, 32>>(                                 \
       "gemv_bitplane_w" #W "a" #A "_1x32c64__avx512icl", avx512icl_gemv_bitplane_features, W, \
       A, 1, MPC),                                                                           \
   &bitplane::bitplane_pack_avx512<32, W, 64>::pack}
// clang-format on

inline const column32_twin* column32_twins(std::size_t& count) noexcept {
  static const column32_twin list[] = {
      LOWBIT_GEMV_BP512_TWIN(1, 1, 250.0f),
      LOWBIT_GEMV_BP512_TWIN(1, 2, 144.0f),
      LOWBIT_GEMV_BP512_TWIN(2, 1, 115.0f),
      LOWBIT_GEMV_BP512_TWIN(2, 2, 64.0f),
  };
  count = sizeof(list) / sizeof(list[0]);
  return list;
}

#undef LOWBIT_GEMV_BP512_TWIN

}  // namespace gemv
}  // namespace kernels
}  // namespace lowbit

#endif  // __x86_64__
