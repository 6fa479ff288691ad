// lowbit: bitplane popcount kernels for NEON (Armv7-A NEON and Armv8-A ASIMD).
//
// A u-code of b bits is b planes of bits: S = sum_{p,q} 2^(p+q) popcount(W_p & A_q). K is packed
// in blocks of 128 (one 16-byte register per plane and row). Per (row, column) pair and block:
// AND + CNT give per-byte counts (<= 8) of each plane pair; the weight planes fold in u8 lanes by
// Horner (t = 2t + cnt), the activation planes in u16 lanes after UADDLP/UADALP (u = 2u + pairs),
// and the result adds into a u16x8 accumulator, widened to u32 once per tile. Cost grows with
// Wbits x Abits plane pairs: at 1 bit it is the fastest method on NEON, beyond about 2 x 2 the
// int8 kernels win, so cells 1..4 x 1..4 are provided (every wider cell goes to the int8 ones).
//
// Bounds (m = wmax * amax = (2^WB - 1)(2^AB - 1)):
//   u8 lane after the weight fold: 8 * (2^WB - 1) <= 255 needs WB <= 5 (here WB <= 4: 120).
//   u16 lane per block: UADDLP sums 2 bytes, so one block adds at most 2 * 8 * m = 16m; the
//   accumulator holds floor(65535 / 16m) blocks, which is kc_max / 128 (Horner intermediates are
//   below the final value). w1a1: 4095 blocks; w2a2: 455; w4a4: 18.
#pragma once

#if defined(__ARM_NEON) || defined(__ARM_NEON__)

#include <arm_neon.h>

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "lowbit/kernels/neon/neon_common.hpp"
#include "lowbit/kernels/ukernel.hpp"

namespace lowbit {
namespace kernels {
namespace neon {

// Panel: for each 128-K block, for each of R rows, `planes` x 16 bytes; bit t of byte y of plane
// p is bit p of the u-code at K = block + 8y + t. Padding rows and K are zero.
template <int R, int Planes>
struct bitplane_packer {
  static constexpr std::size_t block_bytes = static_cast<std::size_t>(R) * Planes * 16;
  static std::size_t panel_bytes(std::size_t kc) noexcept { return (kc + 127) / 128 * block_bytes; }
  static void pack(const std::uint8_t* u, std::size_t ldu, std::size_t rows, std::size_t kc,
                   void* dst) noexcept {
    auto* out = static_cast<std::uint8_t*>(dst);
    std::memset(out, 0, panel_bytes(kc));
    for (std::size_t k0 = 0; k0 < kc; k0 += 128, out += block_bytes)
      for (std::size_t r = 0; r < rows; ++r) {
        const std::uint8_t* src = u + r * ldu + k0;
        std::uint8_t* row = out + r * Planes * 16;
        const std::size_t n = kc - k0 < 128 ? kc - k0 : 128;
        for (std::size_t x = 0; x < n; ++x)
          for (int p = 0; p < Planes; ++p)
            row[p * 16 + x / 8] |= static_cast<std::uint8_t>(((src[x] >> p) & 1u) << (x % 8));
      }
  }
};

template <int WB, int AB, int MR, int NR>
struct bitplane_kernel {
  static_assert(WB >= 1 && WB <= 4 && AB >= 1 && AB <= 4, "cells 1..4 x 1..4");
  static constexpr int KS = 128;
  static constexpr std::uint32_t m = ((1u << WB) - 1) * ((1u << AB) - 1);
  static constexpr std::uint32_t kc_max = 65535u / (16u * m) * 128u;  // see the file comment
  using pack_a_t = bitplane_packer<MR, AB>;
  using pack_w_t = bitplane_packer<NR, WB>;

  // Estimate (model in dot_neon.hpp: two ASIMD ops per cycle, loads not counted): ASIMD ops per
  // pair and block = AND and CNT per plane pair, SHL + ADD per extra weight plane and activation
  // plane, UADALP (AB = 1) or UADDLP + (AB - 1) x (SHL + UADALP) + ADD.
  static constexpr int ops = 2 * WB * AB + 2 * (WB - 1) * AB + (AB == 1 ? 1 : 2 + 2 * (AB - 1));
  static constexpr float macs_per_cycle = 2.0f * 128.0f / ops;

  // Registers live in the K loop when the A planes of every row stay loaded for the block: the
  // accumulators, MR x AB A planes, two columns of W planes (the current one and the next one,
  // loaded ahead) and the temporaries of the pairs in flight. When that exceeds the Q registers
  // (32 on AArch64, 16 on Armv7), the pairs of a column are computed two rows (or one row) at a
  // time, each group reloading its rows' A planes from the panel: more loads, but no spill stores,
  // and two independent pairs keep in-order cores busy. If even that is too many, W columns are
  // not loaded ahead. The temporaries' count is set per architecture so that GCC 12 spills
  // nothing in the K loop wherever the budget allows (checked with objdump).
#if defined(__aarch64__)
  static constexpr int temporaries = AB > 1 ? 5 : 4;
#else
  static constexpr int temporaries = 2;
#endif
  static constexpr int live(int a_planes, int w_columns) noexcept {
    return MR * NR + a_planes + w_columns * WB + temporaries;
  }
  static constexpr bool hold_a = live(MR * AB, 2) <= q_registers;
  static constexpr int group = hold_a ? MR : MR % 2 == 0 && live(2 * AB, 2) <= q_registers ? 2 : 1;
  static constexpr bool w_ahead = live(hold_a ? MR * AB : group * AB, 2) <= q_registers;

  // Every loop over rows, columns and planes is unrolled, so that the MR x NR accumulators stay
  // in registers through the K loop (neon_common.hpp: fill, pin, store_reduced); barriers
  // between columns (schedule_barrier) or row groups (reload_barrier).
  static void run(std::size_t kc, const void* a_panel, const void* w_panel, std::int32_t* c,
                  std::size_t ldc, bool accumulate) noexcept {
    const auto* a = static_cast<const std::uint8_t*>(a_panel);
    const auto* w = static_cast<const std::uint8_t*>(w_panel);
    uint16x8_t acc[MR][NR];
    fill(acc, vdupq_n_u16(0));
    for (std::size_t k = 0; k < kc;
         k += KS, a += pack_a_t::block_bytes, w += pack_w_t::block_bytes) {
      uint8x16_t va[hold_a ? MR : 1][AB];
      if (hold_a) {
#pragma GCC unroll 8
        for (int i = 0; i < MR; ++i)
#pragma GCC unroll 4
          for (int q = 0; q < AB; ++q) va[i][q] = vld1q_u8(a + (i * AB + q) * 16);
      }
      uint8x16_t next[WB];
      if (w_ahead) {
#pragma GCC unroll 4
        for (int p = 0; p < WB; ++p) next[p] = vld1q_u8(w + p * 16);
      }
#pragma GCC unroll 8
      for (int j = 0; j < NR; ++j) {
        uint8x16_t vw[WB];
#pragma GCC unroll 4
        for (int p = 0; p < WB; ++p) vw[p] = w_ahead ? next[p] : vld1q_u8(w + (j * WB + p) * 16);
        if (w_ahead && j + 1 < NR) {
#pragma GCC unroll 4
          for (int p = 0; p < WB; ++p) next[p] = vld1q_u8(w + ((j + 1) * WB + p) * 16);
        }
#pragma GCC unroll 8
        for (int i = 0; i < MR; ++i) {
          uint8x16_t ai[AB];
#pragma GCC unroll 4
          for (int q = 0; q < AB; ++q)
            ai[q] = hold_a ? va[hold_a ? i : 0][q] : vld1q_u8(a + (i * AB + q) * 16);
          uint16x8_t u = vdupq_n_u16(0);
#pragma GCC unroll 4
          for (int q = AB - 1; q >= 0; --q) {
            uint8x16_t t = vcntq_u8(vandq_u8(vw[WB - 1], ai[q]));
#pragma GCC unroll 4
            for (int p = WB - 2; p >= 0; --p)
              t = vaddq_u8(vshlq_n_u8(t, 1), vcntq_u8(vandq_u8(vw[p], ai[q])));
            if (AB == 1)
              acc[i][j] = vpadalq_u8(acc[i][j], t);
            else if (q == AB - 1)
              u = vpaddlq_u8(t);
            else
              u = vpadalq_u8(vshlq_n_u16(u, 1), t);
          }
          if (AB > 1) acc[i][j] = vaddq_u16(acc[i][j], u);
          if (!hold_a && i % group == group - 1) reload_barrier();
        }
        if (hold_a) schedule_barrier();
      }
    }
    pin(acc);
    store_reduced(
        c, ldc, acc, accumulate,
        [](uint16x8_t v) __attribute__((always_inline)) { return vpaddlq_u16(v); });
  }
};

// Tiles: 4x4 on AArch64 (16 u16 accumulators), 2x4 on Armv7 (8 of its 16 Q registers).
#if defined(__aarch64__)
#define LOWBIT_NEON_BP_TILE "_4x4c128__neon"
#else
#define LOWBIT_NEON_BP_TILE "_2x4c128__neon"
#endif

inline ukernel_list bitplane_ukernels() noexcept {
#define LOWBIT_NEON_BP(w, a)                                                               \
  neon_desc<bitplane_kernel<w, a, tile_mr, 4>>("bitplane_w" #w "a" #a LOWBIT_NEON_BP_TILE, \
                                               algorithm::bitplane, w, a, tile_mr, 4)
  static const ukernel_desc list[] = {
      LOWBIT_NEON_BP(1, 1), LOWBIT_NEON_BP(1, 2), LOWBIT_NEON_BP(2, 1), LOWBIT_NEON_BP(2, 2),
      LOWBIT_NEON_BP(1, 3), LOWBIT_NEON_BP(3, 1), LOWBIT_NEON_BP(1, 4), LOWBIT_NEON_BP(4, 1),
      LOWBIT_NEON_BP(2, 3), LOWBIT_NEON_BP(3, 2), LOWBIT_NEON_BP(2, 4), LOWBIT_NEON_BP(4, 2),
      LOWBIT_NEON_BP(3, 3), LOWBIT_NEON_BP(3, 4), LOWBIT_NEON_BP(4, 3), LOWBIT_NEON_BP(4, 4),
  };
#undef LOWBIT_NEON_BP
  return {list, sizeof(list) / sizeof(list[0])};
}

#undef LOWBIT_NEON_BP_TILE

}  // namespace neon
}  // namespace kernels
}  // namespace lowbit

#endif  // NEON
