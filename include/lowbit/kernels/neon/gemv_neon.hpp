// lowbit: small-M (GEMV) kernels for NEON that read bit-dense 1-, 2- and 4-bit weights.
//
// At M = 1 a GEMM streams its weights once and does little else, so time follows the bytes of
// weights read. The byte-per-code int8 kernels (dot_neon.hpp, dot_neondot.hpp) read 8 / B times
// the bytes of a B-bit matrix and compute MR rows where one is live. These kernels keep the codes
// B-bit in the panel and unpack them in registers: one AND or one USHR (both, for the middle
// slots of 1- and 2-bit codes) per 16 codes, then
//   - baseline NEON (Armv7-A and Armv8-A): UMULL/UMLAL(2) of 8 u8 pairs into u16 lanes, widened
//     into u32 accumulators by UADALP every `flush` blocks;
//   - dotprod (Armv8.2-A, AArch64 only, run functions compiled for armv8.2-a+dotprod): UDOT of 16
//     u8 pairs into u32 lanes.
// Activations stay one u8 per code (a8), read in place of a packed row padded to 32.
//
// Weight panel (NR columns, K in blocks of 32; G = 8 / B codes per byte, G / 2 columns per
// 16-byte chunk): block b holds NR / (G / 2) chunks; byte l of chunk c holds, in bit slot s
// (bits [B s, B s + B)), the code of column c G / 2 + s / 2 at k = 32 b + 16 (s % 2) + l. So a
// slot is 16 codes of one column against 16 consecutive activations, and the K step is 32 for
// every B (group sizes of 32 take every kernel).
//
// Bounds: a u32 lane wraps modulo 2^32, the contract's arithmetic, so kc is unbounded. The u16
// lanes of the baseline path gain at most 2 * wmax * 255 per block and partial set (two
// products a slot, one slot of each half of K per set with H = 2 sets); `flush` blocks stay
// within 65535.
//
// run_grouped (group_args) applies per-group float scales inside the kernel: each group's exact
// sums, T_g in u32 lanes, then acc + scale * float(T_g) with the product rounded on its own (an
// empty asm keeps GCC from contracting it into an FMA), in group order: bit-identical to the
// driver's per-group loop. Armv7 NEON flushes subnormals to zero, so there the float step is
// scalar VFP code, as the driver's.
#pragma once

#if defined(__ARM_NEON) || defined(__ARM_NEON__)

#include <arm_neon.h>

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "lowbit/kernels/neon/neon_common.hpp"
#include "lowbit/kernels/ukernel.hpp"

#if defined(__aarch64__) && (defined(__GNUC__) || defined(__clang__))
#define LOWBIT_TARGET_GEMV_NEONDOT __attribute__((target("arch=armv8.2-a+dotprod")))
#endif

namespace lowbit {
namespace kernels {
namespace neon {

// The bit-dense weight packer (layout above).
template <int B, int NR>
struct gemv_pack_w {
  static_assert(B == 1 || B == 2 || B == 4, "codes must tile a byte");
  static constexpr int G = 8 / B, per_chunk = G / 2, chunks = NR / per_chunk;
  static_assert(NR % 4 == 0 && NR % per_chunk == 0, "whole chunks, columns in fours");
  static std::size_t panel_bytes(std::size_t kc) noexcept {
    return (kc + 31) / 32 * static_cast<std::size_t>(chunks) * 16;
  }
  static void pack(const std::uint8_t* u, std::size_t ldu, std::size_t rows, std::size_t kc,
                   void* dst) noexcept {
    auto* out = static_cast<std::uint8_t*>(dst);
    std::memset(out, 0, panel_bytes(kc));  // padding columns and K are u = 0
    for (std::size_t r = 0; r < rows; ++r) {
      const std::size_t c = r / per_chunk, sub = r % per_chunk;
      const std::uint8_t* src = u + r * ldu;
      for (std::size_t k = 0; k < kc; ++k) {
        const std::size_t s = 2 * sub + (k % 32) / 16;
        out[((k / 32) * chunks + c) * 16 + k % 16] |= static_cast<std::uint8_t>(src[k] << (B * s));
      }
    }
  }
};

// Slot S of a chunk as 16 u8 codes.
template <int B, int S>
inline uint8x16_t gemv_slot(uint8x16_t q, uint8x16_t mask) noexcept {
  if constexpr (S == 0) {
    return vandq_u8(q, mask);
  } else if constexpr (S == 8 / B - 1) {
    return vshrq_n_u8(q, B * S);
  } else {
    return vandq_u8(vshrq_n_u8(q, B * S), mask);
  }
}

// Calls f(chunk, c) for the `Chunks` 16-byte chunks of a block at w, Ahead (1 or 2) at a time,
// with the next ones loaded before the current ones are used (in-order cores stall on a load's
// latency). An empty volatile asm between the steps: GCC moves no instruction across it, so its
// scheduler cannot hoist every chunk's loads and unpacking ahead of the multiplies (more live
// values than registers: it spilled), nor pair every two loads into an LDP (in LLVM's
// Cortex-A55 model a 128-bit LDP holds the load pipe for 6 cycles, two LDRs for 2). Which Ahead
// is faster differs per kernel (docs/arm-mca.md).
template <int Chunks, int Ahead, class F>
__attribute__((always_inline)) inline void gemv_chunks(const std::uint8_t* w, F&& f) noexcept {
  constexpr int P = Chunks < Ahead ? Chunks : Ahead;
  uint8x16_t cur[P];
#pragma GCC unroll 2
  for (int x = 0; x < P; ++x) cur[x] = vld1q_u8(w + 16 * x);
#pragma GCC unroll 16
  for (int c = 0; c < Chunks; c += P) {
    uint8x16_t next[P];
    if (c + P < Chunks) {
#pragma GCC unroll 2
      for (int x = 0; x < P; ++x) next[x] = vld1q_u8(w + 16 * (c + P + x));
    }
#pragma GCC unroll 2
    for (int x = 0; x < P; ++x) f(cur[x], c + x);
    __asm__ __volatile__("");
    if (c + P < Chunks) {
#pragma GCC unroll 2
      for (int x = 0; x < P; ++x) cur[x] = next[x];
    }
  }
}

// run_grouped's loop over the groups, once for each target (gemv_grouped_neon-inl.hpp):
// gemv_base::run_grouped and gemv_dot::run_grouped.
namespace gemv_base {
#define LOWBIT_GEMV_GROUPED_TARGET
#include "lowbit/kernels/neon/gemv_grouped_neon-inl.hpp"
}  // namespace gemv_base
#if defined(LOWBIT_TARGET_GEMV_NEONDOT)
namespace gemv_dot {
#define LOWBIT_GEMV_GROUPED_TARGET LOWBIT_TARGET_GEMV_NEONDOT
#include "lowbit/kernels/neon/gemv_grouped_neon-inl.hpp"
}  // namespace gemv_dot
#endif

// {a0 + a1, a2 + a3, ..., a6 + a7, b0 + b1, ..., b6 + b7}: one ADDP on AArch64, two on Armv7.
inline uint16x8_t padd_u16(uint16x8_t a, uint16x8_t b) noexcept {
#if defined(__aarch64__)
  return vpaddq_u16(a, b);
#else
  return vcombine_u16(vpadd_u16(vget_low_u16(a), vget_high_u16(a)),
                      vpadd_u16(vget_low_u16(b), vget_high_u16(b)));
#endif
}

// Baseline NEON: UMULL/UMLAL into u16, UADALP into u32. H independent u16 sets (one for each
// half of a block's K) keep the in-order cores' multiply-accumulate chains apart where there
// are registers for them (AArch64).
template <int B, int NR>
struct gemv_widen {
  static constexpr int MR = 1, KS = 32, G = 8 / B, per_chunk = G / 2, chunks = NR / per_chunk;
#if defined(__aarch64__)
  static constexpr int H = 2;
#else
  static constexpr int H = 1;
#endif
  static constexpr int wmax = (1 << B) - 1;
  static constexpr int flush = 65535 / ((4 / H) * wmax * 255);  // blocks per UADALP
  static_assert(flush >= 1, "u16 bound");
  static constexpr std::uint32_t kc_max = 1u << 30;
  static constexpr float bytes_per_weight = B / 8.0f;
  static constexpr bool grouped = true;
  using pack_a_t = rowblock_packer<1, KS>;
  using pack_w_t = gemv_pack_w<B, NR>;

  template <int S>
  __attribute__((always_inline)) static inline void slots(uint8x16_t q, uint8x16_t mask,
                                                          const uint8x16_t (&a)[2], int c,
                                                          uint16x8_t (&p)[H][NR]) noexcept {
    const uint8x16_t v = gemv_slot<B, S>(q, mask);
    const int col = c * per_chunk + S / 2, h = S % 2, set = H == 2 ? h : 0;
    p[set][col] = vmlal_u8(p[set][col], vget_low_u8(v), vget_low_u8(a[h]));
    p[set][col] = mlal_high(p[set][col], v, a[h]);
    if constexpr (S + 1 < G) slots<S + 1>(q, mask, a, c, p);
  }

  // The exact sums of kc values, four columns a vector. One: kc <= 32 (one block, no loop).
  template <bool One = false>
  __attribute__((always_inline)) static inline void sums(std::size_t kc, const void* a_panel,
                                                         const void* w_panel,
                                                         uint32x4_t (&s)[NR / 4]) noexcept {
    const auto* a = static_cast<const std::uint8_t*>(a_panel);
    const auto* w = static_cast<const std::uint8_t*>(w_panel);
    const uint8x16_t mask = vdupq_n_u8(static_cast<std::uint8_t>(wmax));
    uint32x4_t acc[NR];
    if constexpr (One) {
      uint16x8_t p[H][NR];
#pragma GCC unroll 2
      for (int h = 0; h < H; ++h)
#pragma GCC unroll 16
        for (int j = 0; j < NR; ++j) p[h][j] = vdupq_n_u16(0);
      const uint8x16_t av[2] = {vld1q_u8(a), vld1q_u8(a + 16)};
      gemv_chunks<chunks, 1>(
          w, [&](uint8x16_t q, int c)
                 __attribute__((always_inline)) { slots<0>(q, mask, av, c, p); });
      // Reduced in u16 as far as it fits: a lane holds at most 4 products of one block (both
      // sets), 4 wmax 255 <= 15300, and two pairwise adds make it at most 61200; then one UADDLP
      // gives the four columns' totals (instead of widening every column, then adding across).
      uint16x8_t t[NR];
#pragma GCC unroll 16
      for (int j = 0; j < NR; ++j) t[j] = H == 2 ? vaddq_u16(p[0][j], p[H - 1][j]) : p[0][j];
#pragma GCC unroll 4
      for (int q = 0; q < NR / 4; ++q)
        s[q] = vpaddlq_u16(
            padd_u16(padd_u16(t[4 * q], t[4 * q + 1]), padd_u16(t[4 * q + 2], t[4 * q + 3])));
      (void)acc;
      return;
    }
#pragma GCC unroll 16
    for (int j = 0; j < NR; ++j) acc[j] = vdupq_n_u32(0);
    std::size_t blocks = (kc + KS - 1) / KS;
    while (blocks != 0) {
      std::size_t n = blocks < std::size_t{flush} ? blocks : std::size_t{flush};
      blocks -= n;
      uint16x8_t p[H][NR];
#pragma GCC unroll 2
      for (int h = 0; h < H; ++h)
#pragma GCC unroll 16
        for (int j = 0; j < NR; ++j) p[h][j] = vdupq_n_u16(0);
      for (; n != 0; --n, a += KS, w += chunks * 16) {
        const uint8x16_t av[2] = {vld1q_u8(a), vld1q_u8(a + 16)};
        gemv_chunks<chunks, 2>(
            w, [&](uint8x16_t q, int c)
                   __attribute__((always_inline)) { slots<0>(q, mask, av, c, p); });
      }
#pragma GCC unroll 2
      for (int h = 0; h < H; ++h)
#pragma GCC unroll 16
        for (int j = 0; j < NR; ++j) acc[j] = vpadalq_u16(acc[j], p[h][j]);
    }
#pragma GCC unroll 4
    for (int q = 0; q < NR / 4; ++q)
      s[q] = hsum4(acc[4 * q], acc[4 * q + 1], acc[4 * q + 2], acc[4 * q + 3]);
  }

  static void run(std::size_t kc, const void* a_panel, const void* w_panel, std::int32_t* c,
                  std::size_t ldc, bool accumulate) noexcept {
    (void)ldc;  // one row
    uint32x4_t s[NR / 4];
    sums(kc, a_panel, w_panel, s);
#pragma GCC unroll 4
    for (int q = 0; q < NR / 4; ++q) store4(c + 4 * q, s[q], accumulate);
  }

  static void run_grouped(const group_args& ga) noexcept {
    gemv_base::run_grouped<NR, gemv_widen>(ga);
  }
};

#if defined(LOWBIT_TARGET_GEMV_NEONDOT)

// Dotprod: one UDOT per slot, two accumulator sets (one for each half of a block's K) so that
// no UDOT waits for the previous one on the same column.
template <int B, int NR>
struct gemv_udot {
  static constexpr int MR = 1, KS = 32, G = 8 / B, per_chunk = G / 2, chunks = NR / per_chunk;
  static constexpr int wmax = (1 << B) - 1;
  static constexpr std::uint32_t kc_max = 1u << 30;
  static constexpr float bytes_per_weight = B / 8.0f;
  static constexpr bool grouped = true;
  using pack_a_t = rowblock_packer<1, KS>;
  using pack_w_t = gemv_pack_w<B, NR>;

  template <int S, int Sets>
  __attribute__((always_inline)) LOWBIT_TARGET_GEMV_NEONDOT static inline void slots(
      uint8x16_t q, uint8x16_t mask, const uint8x16_t (&a)[2], int c,
      uint32x4_t (&acc)[Sets][NR]) noexcept {
    const uint8x16_t v = gemv_slot<B, S>(q, mask);
    const int col = c * per_chunk + S / 2, h = S % 2, set = Sets == 2 ? h : 0;
    acc[set][col] = vdotq_u32(acc[set][col], v, a[h]);
    if constexpr (S + 1 < G) slots<S + 1, Sets>(q, mask, a, c, acc);
  }

  // The exact sums of kc values, four columns a vector. One: kc <= 32 (one block, no loop), with
  // one accumulator set where a chunk holds several columns (w2, w1: fewer values to zero and add
  // before the group's float step; the chunks' UDOTs alternate between columns), two for w4
  // (a chunk is one column, whose two UDOTs would otherwise wait on each other), and the barrier
  // every two chunks.
  template <bool One = false>
  __attribute__((always_inline)) LOWBIT_TARGET_GEMV_NEONDOT static inline void sums(
      std::size_t kc, const void* a_panel, const void* w_panel, uint32x4_t (&s)[NR / 4]) noexcept {
    constexpr int Sets = One && per_chunk > 1 ? 1 : 2;
    const auto* a = static_cast<const std::uint8_t*>(a_panel);
    const auto* w = static_cast<const std::uint8_t*>(w_panel);
    const uint8x16_t mask = vdupq_n_u8(static_cast<std::uint8_t>(wmax));
    uint32x4_t acc[Sets][NR];
#pragma GCC unroll 2
    for (int h = 0; h < Sets; ++h)
#pragma GCC unroll 16
      for (int j = 0; j < NR; ++j) acc[h][j] = vdupq_n_u32(0);
    for (std::size_t blocks = One ? 1 : (kc + KS - 1) / KS; blocks != 0;
         --blocks, a += KS, w += chunks * 16) {
      uint8x16_t av[2];
      av[0] = vld1q_u8(a);
      __asm__ __volatile__("");  // two LDRs, not one LDP (see gemv_chunks)
      av[1] = vld1q_u8(a + 16);
      // gemv_chunks with one chunk ahead, spelled out: its callback could not be inlined here
      // for certain (a lambda compiled for dotprod inside a baseline template).
      uint8x16_t cur = vld1q_u8(w);
#pragma GCC unroll 16
      for (int c = 0; c < chunks; ++c) {
        uint8x16_t next = cur;
        if (c + 1 < chunks) next = vld1q_u8(w + 16 * (c + 1));
        slots<0, Sets>(cur, mask, av, c, acc);
        if (!One || c % 2 == 1) __asm__ __volatile__("");  // as gemv_chunks's
        cur = next;
      }
    }
#pragma GCC unroll 4
    for (int q = 0; q < NR / 4; ++q) {
      uint32x4_t t[4];
#pragma GCC unroll 4
      for (int i = 0; i < 4; ++i)
        t[i] =
            Sets == 2 ? vaddq_u32(acc[0][4 * q + i], acc[Sets - 1][4 * q + i]) : acc[0][4 * q + i];
      s[q] = hsum4(t[0], t[1], t[2], t[3]);
    }
  }

  LOWBIT_TARGET_GEMV_NEONDOT static void run(std::size_t kc, const void* a_panel,
                                             const void* w_panel, std::int32_t* c, std::size_t ldc,
                                             bool accumulate) noexcept {
    (void)ldc;  // one row
    uint32x4_t s[NR / 4];
    sums(kc, a_panel, w_panel, s);
#pragma GCC unroll 4
    for (int q = 0; q < NR / 4; ++q) store4(c + 4 * q, s[q], accumulate);
  }

  LOWBIT_TARGET_GEMV_NEONDOT static void run_grouped(const group_args& ga) noexcept {
    gemv_dot::run_grouped<NR, gemv_udot>(ga);
  }
};

#endif  // LOWBIT_TARGET_GEMV_NEONDOT

template <class K>
constexpr ukernel_desc gemv_desc(const char* name, feature_set f, int wb, int nr,
                                 float mpc) noexcept {
  return describe_kernel<K>(name, algorithm::dot_i8, f, wb, 8, 1, nr, K::KS, K::kc_max, mpc, 0, 0,
                            K::bytes_per_weight);
}

// Columns per tile: 8 on AArch64; 4 on Armv7, whose 16 Q registers hold 4 u32 and 4 u16
// accumulators with the operands.
#if defined(__aarch64__)
constexpr int gemv_nr = 8;
#define LOWBIT_NEON_GEMV_NAME(w, isa) "gemv_w" #w "a8_1x8c32__" #isa
#else
constexpr int gemv_nr = 4;
#define LOWBIT_NEON_GEMV_NAME(w, isa) "gemv_w" #w "a8_1x4c32__" #isa
#endif

// macs_per_cycle: the model of dot_neon.hpp (two 128-bit ASIMD operations per cycle, loads not
// counted) per 32 MACs of one column: w4 2 unpack + 4 multiply + UADALP / flush = 6.25 ops,
// w2 7, w1 7.5; dotprod w4 4, w2 5, w1 5.5 (UDOT counted as one operation).
inline ukernel_list gemv_ukernels() noexcept {
  constexpr feature_set f = bit(cpu_feature::neon);
  static const ukernel_desc list[] = {
      gemv_desc<gemv_widen<4, gemv_nr>>(LOWBIT_NEON_GEMV_NAME(4, neon), f, 4, gemv_nr, 10.2f),
      gemv_desc<gemv_widen<2, gemv_nr>>(LOWBIT_NEON_GEMV_NAME(2, neon), f, 2, gemv_nr, 9.1f),
      gemv_desc<gemv_widen<1, gemv_nr>>(LOWBIT_NEON_GEMV_NAME(1, neon), f, 1, gemv_nr, 8.5f),
  };
  return {list, sizeof(list) / sizeof(list[0])};
}

#if defined(LOWBIT_TARGET_GEMV_NEONDOT)
inline ukernel_list gemv_dotprod_ukernels() noexcept {
  constexpr feature_set f = features(cpu_feature::neon, cpu_feature::neon_dotprod);
  static const ukernel_desc list[] = {
      gemv_desc<gemv_udot<4, gemv_nr>>(LOWBIT_NEON_GEMV_NAME(4, neondot), f, 4, gemv_nr, 16.0f),
      gemv_desc<gemv_udot<2, gemv_nr>>(LOWBIT_NEON_GEMV_NAME(2, neondot), f, 2, gemv_nr, 12.8f),
      gemv_desc<gemv_udot<1, gemv_nr>>(LOWBIT_NEON_GEMV_NAME(1, neondot), f, 1, gemv_nr, 11.6f),
  };
  return {list, sizeof(list) / sizeof(list[0])};
}
#endif

#undef LOWBIT_NEON_GEMV_NAME

}  // namespace neon
}  // namespace kernels
}  // namespace lowbit

#undef LOWBIT_TARGET_GEMV_NEONDOT

#endif  // NEON
