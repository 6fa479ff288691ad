// lowbit: large M from the bit-dense NEON GEMV panels (one packing for every M, docs/gemv.md).
//
// A default packing of 1-, 2- and 4-bit weights stores only the GEMV kernels' bit-dense panels
// (gemv_pack_w<B, gemv_nr>, gemv_neon.hpp); a call with a large M runs the int8 tile kernel on
// panels the driver unpacks per call, once per M block, into the kernel's own layout
// (rowblock_packer<NR, KS>: K in blocks of KS, NR columns of KS bytes each), stored as
// u - w_offset. The targets are the int8 kernels dispatch picks at large M for w <= 4:
//   rowblock<4, 16> widening int8 (dot_neon.hpp, w8a8 / w8a7 / w7a8), rowblock<4, 32> (w7a7),
//   rowblock<8, 4> UDOT (dot_neondot.hpp), rowblock<8, 8> UMMLA (dot_neoni8mm.hpp; AArch64).
//
// A stored 32-K block holds the code of column j at k = 16 h + l in bit slot 2 (j % P) + h of
// byte l of chunk j / P (P = 4 / B columns a 16-byte chunk). The byte moves a target needs (a
// zip of 8-byte halves for KS = 8, a 4 x 4 transpose of 4-byte lanes for KS = 4) act on every
// bit slot of a byte alike, so they run on the packed bytes, each column first shifted so that
// its two slots are slots 0 and 1; then one AND (slot 0) or a USHR and an AND (slot 1) gives 16
// codes. KS = 16 and 32 take each slot as it is. Per 256 weights (8 columns x 32 K), w4 into
// UMMLA's layout: 8 ZIP, 8 AND, 8 USHR and 16 stores of 16 bytes.
//
// A stored panel is gemv_nr columns (8 on AArch64, 4 on Armv7) and the widening kernels' tiles
// are 4: on AArch64 a stored panel holds two of their column tiles (parts), the second starting
// part_bytes into each stored block (packed_weights::unpack_panel).
#pragma once

#if defined(__ARM_NEON) || defined(__ARM_NEON__)

#include <arm_neon.h>

#include <cstddef>
#include <cstdint>
#include <utility>

#include "lowbit/kernels/neon/gemv_neon.hpp"
#include "lowbit/kernels/neon/neon_common.hpp"
#include "lowbit/kernels/ukernel.hpp"

namespace lowbit {
namespace kernels {
namespace neon {

// Unpacks one K block (kc values a column) of a stored panel part into a target panel.
using unpack_fn = void (*)(const void* src, std::size_t kc, void* dst, int w_offset);

// NR columns of a stored gemv_pack_w<B, SNR> panel (src: the part's first chunk in block 0) into
// rowblock_packer<NR, KS>'s layout at dst.
template <int B, int SNR, int NR, int KS>
struct gemv_unpack_rowblock {
  static constexpr int P = 4 / B;                // columns a chunk
  static constexpr int stored_chunks = SNR / P;  // chunks a stored block
  static constexpr int chunks = NR / P;          // chunks a part reads per block
  static_assert(NR % P == 0 && SNR % NR == 0, "whole chunks, whole parts");
  static_assert(KS == 4 || KS == 8 || KS == 16 || KS == 32, "32 = a whole number of K steps");
  static_assert(KS >= 16 || NR == 8, "the zip and transpose targets are 8 columns wide");
  static constexpr std::size_t part_bytes = std::size_t{chunks} * 16;

  static void unpack(const void* src, std::size_t kc, void* dst, int w_offset) noexcept {
    if (w_offset == 0)
      blocks<false>(static_cast<const std::uint8_t*>(src), kc, static_cast<std::uint8_t*>(dst), 0);
    else
      blocks<true>(static_cast<const std::uint8_t*>(src), kc, static_cast<std::uint8_t*>(dst),
                   w_offset);
  }

 private:
  template <int S>
  static inline uint8x16_t shr(uint8x16_t x) noexcept {
    if constexpr (S == 0)
      return x;
    else
      return vshrq_n_u8(x, S);
  }

  // Slot H (0 or 1) of x, each column already shifted to slots 0 and 1; minus the offset.
  template <int H, bool Off>
  static inline uint8x16_t slot(uint8x16_t x, uint8x16_t mask, uint8x16_t off) noexcept {
    uint8x16_t v;
    if constexpr (H == 0)
      v = vandq_u8(x, mask);
    else if constexpr (P == 1)
      v = vshrq_n_u8(x, B);  // slot 1 is the top one
    else
      v = vandq_u8(vshrq_n_u8(x, B), mask);
    if constexpr (Off) v = vsubq_u8(v, off);
    return v;
  }

  // Stores slot H of x at p (vst1q_u8 is a macro in Clang's arm_neon.h: no template argument
  // list inside it).
  template <int H, bool Off>
  static inline void put(std::uint8_t* p, uint8x16_t x, uint8x16_t mask, uint8x16_t off) noexcept {
    const uint8x16_t v = slot<H, Off>(x, mask, off);
    vst1q_u8(p, v);
  }

  // Column J of the part, shifted so that its slots are 0 and 1.
  template <int J>
  static inline uint8x16_t column(const uint8x16_t (&q)[chunks]) noexcept {
    return shr<2 * B*(J % P)>(q[J / P]);
  }

  template <bool Off>
  static void blocks(const std::uint8_t* in, std::size_t kc, std::uint8_t* out,
                     int w_offset) noexcept {
    const uint8x16_t mask = vdupq_n_u8(static_cast<std::uint8_t>((1 << B) - 1));
    const uint8x16_t off = vdupq_n_u8(static_cast<std::uint8_t>(w_offset));
    for (std::size_t b = (kc + 31) / 32; b != 0;
         --b, in += stored_chunks * 16, out += std::size_t{NR} * 32) {
      uint8x16_t q[chunks];
#pragma GCC unroll 8
      for (int c = 0; c < chunks; ++c) q[c] = vld1q_u8(in + 16 * c);
      block<Off>(q, mask, off, out, std::make_integer_sequence<int, NR>{});
    }
  }

  // One stored block (32 K of NR columns) into the target's 32 K at out.
  template <bool Off, int... J>
  __attribute__((always_inline)) static inline void block(
      const uint8x16_t (&q)[chunks], uint8x16_t mask, uint8x16_t off, std::uint8_t* out,
      std::integer_sequence<int, J...>) noexcept {
    if constexpr (KS >= 16) {
      // Each slot is 16 K of one column: KS = 16 puts K 0-15 of every column, then 16-31;
      // KS = 32 puts each column's 32 in turn.
      constexpr std::size_t h_step = KS == 16 ? NR * 16 : 16, j_step = KS == 16 ? 16 : 32;
      ((put<0, Off>(out + J * j_step, column<J>(q), mask, off),
        put<1, Off>(out + h_step + J * j_step, column<J>(q), mask, off)),
       ...);
    } else {
      const uint8x16_t x[NR] = {column<J>(q)...};
#if defined(__aarch64__)
      if constexpr (KS == 8) {
        // Columns 2p and 2p + 1: the low 8 bytes of both (K 0-7 of slot h: K block 2 h) and the
        // high 8 (K block 2 h + 1); each K block is 8 columns of 8 bytes.
#pragma GCC unroll 4
        for (int p = 0; p < NR / 2; ++p) {
          const uint64x2_t a = vreinterpretq_u64_u8(x[2 * p]),
                           c = vreinterpretq_u64_u8(x[2 * p + 1]);
          const uint8x16_t lo = vreinterpretq_u8_u64(vzip1q_u64(a, c));
          const uint8x16_t hi = vreinterpretq_u8_u64(vzip2q_u64(a, c));
          put<0, Off>(out + 0 * 64 + 16 * p, lo, mask, off);
          put<0, Off>(out + 1 * 64 + 16 * p, hi, mask, off);
          put<1, Off>(out + 2 * 64 + 16 * p, lo, mask, off);
          put<1, Off>(out + 3 * 64 + 16 * p, hi, mask, off);
        }
      } else {
        // Columns 4 t .. 4 t + 3 transposed by 4-byte lanes: lane c of row g is column 4 t + c at
        // K 4 g .. 4 g + 3 (of slot h: K group 4 h + g); each K group is 8 columns of 4 bytes.
#pragma GCC unroll 2
        for (int t = 0; t < NR / 4; ++t) {
          const uint32x4_t r0 = vreinterpretq_u32_u8(x[4 * t]),
                           r1 = vreinterpretq_u32_u8(x[4 * t + 1]);
          const uint32x4_t r2 = vreinterpretq_u32_u8(x[4 * t + 2]),
                           r3 = vreinterpretq_u32_u8(x[4 * t + 3]);
          const uint64x2_t t0 = vreinterpretq_u64_u32(vtrn1q_u32(r0, r1));
          const uint64x2_t t1 = vreinterpretq_u64_u32(vtrn2q_u32(r0, r1));
          const uint64x2_t t2 = vreinterpretq_u64_u32(vtrn1q_u32(r2, r3));
          const uint64x2_t t3 = vreinterpretq_u64_u32(vtrn2q_u32(r2, r3));
          const uint8x16_t g[4] = {
              vreinterpretq_u8_u64(vtrn1q_u64(t0, t2)), vreinterpretq_u8_u64(vtrn1q_u64(t1, t3)),
              vreinterpretq_u8_u64(vtrn2q_u64(t0, t2)), vreinterpretq_u8_u64(vtrn2q_u64(t1, t3))};
#pragma GCC unroll 4
          for (int i = 0; i < 4; ++i) {
            put<0, Off>(out + i * 32 + 16 * t, g[i], mask, off);
            put<1, Off>(out + (4 + i) * 32 + 16 * t, g[i], mask, off);
          }
        }
      }
#else
      (void)x;
#endif
    }
  }
};

// One bit-dense layout for every M (packing/pack_weights.hpp choose_layouts): the GEMV panels of
// B-bit codes (every GEMV kernel of width B reads them) unpacked into the panels of the int8
// kernels whose W packer is main_pack.
struct dense_family {
  int bits;                // the stored codes' width
  pack_fn stored_pack;     // gemv_pack_w<bits, gemv_nr>::pack
  pack_fn main_pack;       // the W packer of the int8 kernels that take them unpacked
  int main_nr;             // those kernels' NR
  unpack_fn unpack;        // a stored panel part into one of their panels
  std::size_t parts;       // their column tiles a stored panel holds
  std::size_t part_bytes;  // where part p starts in a stored block: p * part_bytes
  float unpack_cycles;     // per weight (dispatch charges it to the main kernel at small M)
};

template <int B, int NR, int KS>
constexpr dense_family neon_dense_family(float unpack_cycles) noexcept {
  using U = gemv_unpack_rowblock<B, gemv_nr, NR, KS>;
  return {B,
          &gemv_pack_w<B, gemv_nr>::pack,
          &rowblock_packer<NR, KS>::pack,
          NR,
          &U::unpack,
          std::size_t{gemv_nr / NR},
          U::part_bytes,
          unpack_cycles};
}

// unpack_cycles: cycles per weight of each unpacker's loop, bench/arm/mca-unpack (llvm-mca 14,
// g++ 12 -O2): AArch64 the cortex-a55 model (the highest but A53's), Armv7 the cortex-a57 model
// in AArch32 (above cortex-a9's); every model's figures in docs/arm.md.
constexpr float unpack_cycles_for(float aarch64, float armv7) noexcept {
#if defined(__aarch64__)
  return (void)armv7, aarch64;
#else
  return (void)aarch64, armv7;
#endif
}

inline const dense_family* dense_families(std::size_t& count) noexcept {
  static const dense_family list[] = {
    neon_dense_family<4, 4, 16>(unpack_cycles_for(0.19f, 0.094f)),
    neon_dense_family<2, 4, 16>(unpack_cycles_for(0.19f, 0.098f)),
    neon_dense_family<1, 4, 16>(unpack_cycles_for(0.20f, 0.094f)),
    neon_dense_family<4, 4, 32>(unpack_cycles_for(0.19f, 0.094f)),
    neon_dense_family<2, 4, 32>(unpack_cycles_for(0.19f, 0.102f)),
    neon_dense_family<1, 4, 32>(unpack_cycles_for(0.20f, 0.094f)),
#if defined(__aarch64__)
    neon_dense_family<4, 8, 4>(0.25f),
    neon_dense_family<2, 8, 4>(0.25f),
    neon_dense_family<1, 8, 4>(0.25f),
    neon_dense_family<4, 8, 8>(0.22f),
    neon_dense_family<2, 8, 8>(0.21f),
    neon_dense_family<1, 8, 8>(0.22f),
#endif
  };
  count = sizeof(list) / sizeof(list[0]);
  return list;
}

}  // namespace neon
}  // namespace kernels
}  // namespace lowbit

#endif  // NEON
