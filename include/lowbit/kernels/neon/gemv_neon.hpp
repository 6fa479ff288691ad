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
// driver's per-group loop. Armv7 NEON flushes subnormals to zero: there the float step is in
// NEON lanes only when every scale makes it exact, and in scalar VFP code otherwise
// (gemv_grouped_neon-inl.hpp).
#pragma once

#if defined(__ARM_NEON) || defined(__ARM_NEON__)

#include <arm_neon.h>

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "lowbit/kernels/neon/neon_common.hpp"
#include "lowbit/kernels/neon/neon_ext.hpp"
#include "lowbit/kernels/ukernel.hpp"

#if defined(__aarch64__) && (defined(__GNUC__) || defined(__clang__))
#define LOWBIT_TARGET_GEMV_NEONDOT LOWBIT_NEON_TARGET_DOTPROD
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

// out[x] = {r[0][x], r[1][x], r[2][x], r[3][x]}: a 4 x 4 transpose (columns' rows of four
// groups into group-major vectors).
__attribute__((always_inline)) inline void transpose4(const float32x4_t (&r)[4],
                                                      float32x4_t (&out)[4]) noexcept {
#if defined(__aarch64__)
  const float32x4_t t0 = vtrn1q_f32(r[0], r[1]), t1 = vtrn2q_f32(r[0], r[1]);
  const float32x4_t t2 = vtrn1q_f32(r[2], r[3]), t3 = vtrn2q_f32(r[2], r[3]);
  const float64x2_t d0 = vreinterpretq_f64_f32(t0), d1 = vreinterpretq_f64_f32(t1);
  const float64x2_t d2 = vreinterpretq_f64_f32(t2), d3 = vreinterpretq_f64_f32(t3);
  out[0] = vreinterpretq_f32_f64(vtrn1q_f64(d0, d2));
  out[1] = vreinterpretq_f32_f64(vtrn1q_f64(d1, d3));
  out[2] = vreinterpretq_f32_f64(vtrn2q_f64(d0, d2));
  out[3] = vreinterpretq_f32_f64(vtrn2q_f64(d1, d3));
#else
  const float32x4x2_t a = vtrnq_f32(r[0], r[1]), b = vtrnq_f32(r[2], r[3]);
  out[0] = vcombine_f32(vget_low_f32(a.val[0]), vget_low_f32(b.val[0]));
  out[1] = vcombine_f32(vget_low_f32(a.val[1]), vget_low_f32(b.val[1]));
  out[2] = vcombine_f32(vget_high_f32(a.val[0]), vget_high_f32(b.val[0]));
  out[3] = vcombine_f32(vget_high_f32(a.val[1]), vget_high_f32(b.val[1]));
#endif
}

#if defined(__aarch64__)
// NR = 4 Q binary16 values at h widened into floats: FCVTL and FCVTL2 of one 16-byte load per 8
// (exact: every binary16 value is a float, subnormals included; NaNs come back quiet with their
// payload, as detail::half_to_float gives them, under the default FPCR).
template <int Q>
__attribute__((always_inline)) inline void half_rows(const std::uint16_t* h,
                                                     float32x4_t (&out)[Q]) noexcept {
#pragma GCC unroll 4
  for (int q = 0; q + 1 < Q; q += 2) {
    const float16x8_t v = vreinterpretq_f16_u16(vld1q_u16(h + 4 * q));
    out[q] = vcvt_f32_f16(vget_low_f16(v));
    out[q + 1] = vcvt_high_f32_f16(v);
  }
  if constexpr (Q % 2 != 0)
    out[Q - 1] = vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(h + 4 * (Q - 1))));
}
#endif

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
#if defined(__aarch64__)
  static constexpr bool grouped_f16 = true;  // reads binary16 scale tables (FCVTL)
#endif
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

  // run_grouped's one-block groups (gemv_grouped_neon-inl.hpp): no state between groups.
  struct one_state {};
  static void one_init(one_state&) noexcept {}
  __attribute__((always_inline)) static inline void sums_one(const std::uint8_t* a,
                                                             const std::uint8_t* w,
                                                             uint32x4_t (&s)[NR / 4],
                                                             one_state&) noexcept {
    sums<true>(KS, a, w, s);
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
#if defined(__aarch64__)
  static constexpr bool grouped_f16 = true;  // reads binary16 scale tables (FCVTL)
#endif
  using pack_a_t = rowblock_packer<1, KS>;
  using pack_w_t = gemv_pack_w<B, NR>;

  template <int S, int Sets>
  __attribute__((always_inline)) LOWBIT_TARGET_GEMV_NEONDOT static inline void slots(
      uint8x16_t q, uint8x16_t mask, const uint8x16_t (&a)[2], int c,
      uint32x4_t (&acc)[Sets][NR]) noexcept {
    const uint8x16_t v = gemv_slot<B, S>(q, mask);
    const int col = c * per_chunk + S / 2, h = S % 2, set = Sets == 2 ? h : 0;
    acc[set][col] = LOWBIT_UDOT(acc[set][col], v, a[h]);
    if constexpr (S + 1 < G) slots<S + 1, Sets>(q, mask, a, c, acc);
  }

  // The exact sums of kc values, four columns a vector, with two accumulator sets (one for each
  // half of a block's K).
  __attribute__((always_inline)) LOWBIT_TARGET_GEMV_NEONDOT static inline void sums(
      std::size_t kc, const void* a_panel, const void* w_panel, uint32x4_t (&s)[NR / 4]) noexcept {
    const auto* a = static_cast<const std::uint8_t*>(a_panel);
    const auto* w = static_cast<const std::uint8_t*>(w_panel);
    const uint8x16_t mask = vdupq_n_u8(static_cast<std::uint8_t>(wmax));
    uint32x4_t acc[2][NR];
#pragma GCC unroll 2
    for (int h = 0; h < 2; ++h)
#pragma GCC unroll 16
      for (int j = 0; j < NR; ++j) acc[h][j] = vdupq_n_u32(0);
    for (std::size_t blocks = (kc + KS - 1) / KS; blocks != 0; --blocks, a += KS, w += chunks * 16)
      block<2, false>(a, w, mask, acc);
#pragma GCC unroll 4
    for (int q = 0; q < NR / 4; ++q) {
      uint32x4_t t[4];
#pragma GCC unroll 4
      for (int i = 0; i < 4; ++i) t[i] = vaddq_u32(acc[0][4 * q + i], acc[1][4 * q + i]);
      s[q] = hsum4(t[0], t[1], t[2], t[3]);
    }
  }

  // One block of 32 values into acc. One: a group's only block (run_grouped), with no barrier
  // between its chunks, and for w2 one at its end (llvm-mca, docs/arm-mca.md: fewer barriers let
  // the in-order models overlap more of a group; the end barrier takes w2 A55 0.409 -> 0.398
  // and w4 0.394 -> 0.408).
  template <int Sets, bool One>
  __attribute__((always_inline)) LOWBIT_TARGET_GEMV_NEONDOT static inline void block(
      const std::uint8_t* a, const std::uint8_t* w, uint8x16_t mask,
      uint32x4_t (&acc)[Sets][NR]) noexcept {
    uint8x16_t av[2];
    av[0] = vld1q_u8(a);
    __asm__ __volatile__("");  // two LDRs, not one LDP (see gemv_chunks)
    av[1] = vld1q_u8(a + 16);
    // gemv_chunks with one chunk ahead, spelled out: its callback could not be inlined here for
    // certain (a lambda compiled for dotprod inside a baseline template).
    uint8x16_t cur = vld1q_u8(w);
#pragma GCC unroll 16
    for (int c = 0; c < chunks; ++c) {
      uint8x16_t next = cur;
      if (c + 1 < chunks) next = vld1q_u8(w + 16 * (c + 1));
      slots<0, Sets>(cur, mask, av, c, acc);
      if (!One || (per_chunk == 2 && c == chunks - 1)) __asm__ __volatile__("");  // gemv_chunks
      cur = next;
    }
  }

  // run_grouped's one-block groups (gemv_grouped_neon-inl.hpp), in group order: the accumulators
  // are never zeroed (a UDOT adds to its destination: zeroing took a move per accumulator and
  // group); each group's sums are its column totals minus the previous group's, exact modulo
  // 2^32. One accumulator set: with no barrier in the block the scheduler interleaves the
  // columns' UDOTs, so a w4 column's two (one chunk) need not go to two sets, and the group's
  // step adds no pair of sets (8 fewer ADDs, and 8 registers: with two sets a float
  // accumulator was spilled).
  static constexpr int one_sets = 1;
  struct one_state {
    uint32x4_t acc[one_sets][NR];
    uint32x4_t prev[NR / 4];
  };
  __attribute__((always_inline)) static inline void one_init(one_state& st) noexcept {
#pragma GCC unroll 2
    for (int h = 0; h < one_sets; ++h)
#pragma GCC unroll 16
      for (int j = 0; j < NR; ++j) st.acc[h][j] = vdupq_n_u32(0);
#pragma GCC unroll 4
    for (int q = 0; q < NR / 4; ++q) st.prev[q] = vdupq_n_u32(0);
  }
  __attribute__((always_inline)) LOWBIT_TARGET_GEMV_NEONDOT static inline void sums_one(
      const std::uint8_t* a, const std::uint8_t* w, uint32x4_t (&s)[NR / 4],
      one_state& st) noexcept {
    block<one_sets, true>(a, w, vdupq_n_u8(static_cast<std::uint8_t>(wmax)), st.acc);
#pragma GCC unroll 4
    for (int q = 0; q < NR / 4; ++q) {
      uint32x4_t t[4];
#pragma GCC unroll 4
      for (int i = 0; i < 4; ++i)
        t[i] = one_sets == 2 ? vaddq_u32(st.acc[0][4 * q + i], st.acc[one_sets - 1][4 * q + i])
                             : st.acc[0][4 * q + i];
      const uint32x4_t tot = hsum4(t[0], t[1], t[2], t[3]);
      s[q] = vsubq_u32(tot, st.prev[q]);
      st.prev[q] = tot;
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

#if defined(__aarch64__)

// Several rows (batch decoding, M = 2..8) on the same bit-dense panels: gemv_pack_w<B, NR>, so a
// packing made for the 1-row kernels serves these too. The 1-row kernels keep every column's
// accumulators and walk K once; with MR rows that would be MR x NR accumulators, so these walk
// K once per group of columns (each weight byte is still loaded once, the A rows once per
// group, from L1): the baseline kernel (gemv_rows_widen) two columns at a time, UMULL/UMLAL2 of
// each 16-byte activation load with both into u16 lanes, widened into u32 every `flush` blocks
// (a u16 lane takes 4 products of wmax x 255 a block); the dotprod kernel (gemv_rows_udot)
// four rows by four columns at a time, UDOT into u32.
//
// The A panel starts with the number of rows packed (gemv_rows_packer), and run() computes only
// as many rows as that needs (the baseline kernel 2, 4 or 8, the dotprod one 4 or 8), so M = 2
// does not pay for 8 rows; the rows it skips are stored as zeros (or left, accumulating), the
// sums of the zero rows a padded panel holds.
template <int MR>
struct gemv_rows_packer {
  static constexpr std::size_t header = 16;  // the row count, then zeros: the rows stay aligned
  static std::size_t panel_bytes(std::size_t kc) noexcept {
    return header + rowblock_packer<MR, 32>::panel_bytes(kc);
  }
  static void pack(const std::uint8_t* u, std::size_t ldu, std::size_t rows, std::size_t kc,
                   void* dst) noexcept {
    auto* out = static_cast<std::uint8_t*>(dst);
    const auto r = static_cast<std::uint32_t>(rows);
    std::memset(out, 0, header);
    std::memcpy(out, &r, sizeof(r));
    rowblock_packer<MR, 32>::pack(u, ldu, rows, kc, out + header);
  }
  // The rows a panel holds, and its first block.
  static std::size_t rows(const void* panel) noexcept {
    std::uint32_t r = 0;
    std::memcpy(&r, panel, sizeof(r));
    return r;
  }
  static const std::uint8_t* data(const void* panel) noexcept {
    return static_cast<const std::uint8_t*>(panel) + header;
  }
};

template <int B, int NR, int MR>
struct gemv_rows {
  static constexpr int KS = 32, G = 8 / B, per_chunk = G / 2, chunks = NR / per_chunk;
  static constexpr int wmax = (1 << B) - 1;
  static constexpr int flush = 65535 / (4 * wmax * 255);
  static_assert(NR % 4 == 0 && MR % 4 == 0 && flush >= 1, "column and row groups; u16 bound");
  static constexpr std::uint32_t kc_max = 1u << 30;
  static constexpr float bytes_per_weight = B / 8.0f;
  using pack_a_t = gemv_rows_packer<MR>;
  using pack_w_t = gemv_pack_w<B, NR>;

  // Rows r0..MR - 1 of the tile, which run() skipped: zero, the sums of a padded panel's rows.
  static void zero_rows(std::int32_t* c, std::size_t ldc, int r0, bool accumulate) noexcept {
    if (!accumulate)
      for (int i = r0; i < MR; ++i) std::memset(c + i * ldc, 0, NR * sizeof(std::int32_t));
  }
};

template <int B, int NR, int MR>
struct gemv_rows_widen : gemv_rows<B, NR, MR> {
  using base = gemv_rows<B, NR, MR>;
  static constexpr int KS = base::KS, G = base::G, per_chunk = base::per_chunk;
  static constexpr int chunks = base::chunks, flush = base::flush;

  // The two K halves of column col of a block's chunks at w (a shift by a register: col is not
  // a constant in the pair loop).
  __attribute__((always_inline)) static inline void column(const std::uint8_t* w, int col,
                                                           uint8x16_t mask,
                                                           uint8x16_t (&v)[2]) noexcept {
    const uint8x16_t q = vld1q_u8(w + 16 * (col / per_chunk));
    const int s = 2 * (col % per_chunk);
    v[0] = vandq_u8(vshlq_u8(q, vdupq_n_s8(static_cast<std::int8_t>(-B * s))), mask);
    v[1] = vandq_u8(vshlq_u8(q, vdupq_n_s8(static_cast<std::int8_t>(-B * (s + 1)))), mask);
  }

  // The K walk of one column pair over the first R rows.
  template <int R>
  __attribute__((always_inline)) static inline void pair(std::size_t blocks, const std::uint8_t* a,
                                                         const std::uint8_t* w, int col,
                                                         uint8x16_t mask,
                                                         uint32x4_t (&tot)[R][2]) noexcept {
#pragma GCC unroll 8
    for (int i = 0; i < R; ++i) tot[i][0] = tot[i][1] = vdupq_n_u32(0);
    while (blocks != 0) {
      std::size_t n = blocks < std::size_t{flush} ? blocks : std::size_t{flush};
      blocks -= n;
      uint16x8_t p[R][2];
#pragma GCC unroll 8
      for (int i = 0; i < R; ++i) p[i][0] = p[i][1] = vdupq_n_u16(0);
      for (; n != 0; --n, a += KS * MR, w += chunks * 16) {
        uint8x16_t v0[2], v1[2];
        column(w, col, mask, v0);
        column(w, col + 1, mask, v1);
#pragma GCC unroll 2
        for (int h = 0; h < 2; ++h) {
#pragma GCC unroll 8
          for (int i = 0; i < R; ++i) {
            const uint8x16_t x = vld1q_u8(a + i * KS + 16 * h);
            p[i][0] = vmlal_u8(p[i][0], vget_low_u8(v0[h]), vget_low_u8(x));
            p[i][0] = vmlal_high_u8(p[i][0], v0[h], x);
            p[i][1] = vmlal_u8(p[i][1], vget_low_u8(v1[h]), vget_low_u8(x));
            p[i][1] = vmlal_high_u8(p[i][1], v1[h], x);
          }
          __asm__ __volatile__("");  // one half's loads at a time (as gemv_chunks)
        }
      }
#pragma GCC unroll 8
      for (int i = 0; i < R; ++i) {
        tot[i][0] = vpadalq_u16(tot[i][0], p[i][0]);
        tot[i][1] = vpadalq_u16(tot[i][1], p[i][1]);
      }
    }
  }

  // Inlined into run() (bench/arm/mca reads run()'s own instructions).
  template <int R>
  __attribute__((always_inline)) static inline void rows(std::size_t kc, const std::uint8_t* a,
                                                         const std::uint8_t* w, std::int32_t* c,
                                                         std::size_t ldc,
                                                         bool accumulate) noexcept {
    const uint8x16_t mask = vdupq_n_u8(static_cast<std::uint8_t>(base::wmax));
#pragma GCC unroll 1
    for (int col = 0; col < NR; col += 2) {
      uint32x4_t tot[R][2];
      pair<R>((kc + KS - 1) / KS, a, w, col, mask, tot);
#pragma GCC unroll 8
      for (int i = 0; i < R; i += 2) {
        // {row i col 0, row i col 1, row i + 1 col 0, row i + 1 col 1}
        const uint32x4_t r =
            vpaddq_u32(vpaddq_u32(tot[i][0], tot[i][1]), vpaddq_u32(tot[i + 1][0], tot[i + 1][1]));
        std::int32_t* ci = c + i * ldc + col;
        uint32x2_t lo = vget_low_u32(r), hi = vget_high_u32(r);
        if (accumulate) {
          lo = vadd_u32(lo, vreinterpret_u32_s32(vld1_s32(ci)));
          hi = vadd_u32(hi, vreinterpret_u32_s32(vld1_s32(ci + ldc)));
        }
        vst1_s32(ci, vreinterpret_s32_u32(lo));
        vst1_s32(ci + ldc, vreinterpret_s32_u32(hi));
      }
    }
    base::zero_rows(c, ldc, R, accumulate);
  }

  static void run(std::size_t kc, const void* a_panel, const void* w_panel, std::int32_t* c,
                  std::size_t ldc, bool accumulate) noexcept {
    const std::size_t live = base::pack_a_t::rows(a_panel);
    const std::uint8_t* a = base::pack_a_t::data(a_panel);
    const auto* w = static_cast<const std::uint8_t*>(w_panel);
    if (live <= 2)
      rows<2>(kc, a, w, c, ldc, accumulate);
    else if (live <= 4)
      rows<4>(kc, a, w, c, ldc, accumulate);
    else
      rows<MR>(kc, a, w, c, ldc, accumulate);
  }
};

#if defined(LOWBIT_TARGET_GEMV_NEONDOT)
template <int B, int NR, int MR>
struct gemv_rows_udot : gemv_rows<B, NR, MR> {
  using base = gemv_rows<B, NR, MR>;
  static constexpr int KS = base::KS, chunks = base::chunks;

  // Four rows by four columns at a time (16 accumulators; each activation load feeds four
  // UDOTs, the weights of the four columns are unpacked once per group of four rows): rows r0..
  // r0 + 3, columns c0..c0 + 3, c0 a multiple of 4, so a column's slot in its chunk is a
  // constant. A plain function, not a lambda: its body must be compiled for dotprod.
  __attribute__((always_inline)) LOWBIT_TARGET_GEMV_NEONDOT static inline void quad(
      std::size_t blocks, const std::uint8_t* a, const std::uint8_t* w, uint8x16_t mask,
      uint32x4_t (&tot)[4][4]) noexcept {
    constexpr int per_chunk = base::per_chunk;
#pragma GCC unroll 4
    for (int i = 0; i < 4; ++i)
#pragma GCC unroll 4
      for (int j = 0; j < 4; ++j) tot[i][j] = vdupq_n_u32(0);
    for (; blocks != 0; --blocks, a += KS * MR, w += chunks * 16) {
      uint8x16_t v[4][2];
      uint8x16_t q[4 / per_chunk];
#pragma GCC unroll 4
      for (int c = 0; c < 4 / per_chunk; ++c) {
        q[c] = vld1q_u8(w + 16 * c);
        __asm__ __volatile__("");  // LDRs, not an LDP (see gemv_chunks)
      }
      v[0][0] = gemv_slot<B, 0>(q[0], mask);
      v[0][1] = gemv_slot<B, 1>(q[0], mask);
      v[1][0] = gemv_slot<B, 2 * (1 % per_chunk)>(q[1 / per_chunk], mask);
      v[1][1] = gemv_slot<B, 2 * (1 % per_chunk) + 1>(q[1 / per_chunk], mask);
      v[2][0] = gemv_slot<B, 2 * (2 % per_chunk)>(q[2 / per_chunk], mask);
      v[2][1] = gemv_slot<B, 2 * (2 % per_chunk) + 1>(q[2 / per_chunk], mask);
      v[3][0] = gemv_slot<B, 2 * (3 % per_chunk)>(q[3 / per_chunk], mask);
      v[3][1] = gemv_slot<B, 2 * (3 % per_chunk) + 1>(q[3 / per_chunk], mask);
#pragma GCC unroll 2
      for (int h = 0; h < 2; ++h) {
        // The half's rows loaded together ahead of their UDOTs: an in-order core stalls on a
        // load's latency when its use follows it.
        uint8x16_t x[4];
#pragma GCC unroll 4
        for (int i = 0; i < 4; ++i) x[i] = vld1q_u8(a + i * KS + 16 * h);
        // An empty asm that takes and gives every x: GCC's scheduler would otherwise move each
        // load down next to its use.
        __asm__("" : "+w"(x[0]), "+w"(x[1]), "+w"(x[2]), "+w"(x[3]));
#pragma GCC unroll 4
        for (int i = 0; i < 4; ++i)
#pragma GCC unroll 4
          for (int j = 0; j < 4; ++j) tot[i][j] = LOWBIT_UDOT(tot[i][j], v[j][h], x[i]);
        __asm__ __volatile__("");  // one half's loads at a time (as gemv_chunks)
      }
    }
  }

  LOWBIT_TARGET_GEMV_NEONDOT static void run(std::size_t kc, const void* a_panel,
                                             const void* w_panel, std::int32_t* c, std::size_t ldc,
                                             bool accumulate) noexcept {
    const uint8x16_t mask = vdupq_n_u8(static_cast<std::uint8_t>(base::wmax));
    const int live = static_cast<int>(base::pack_a_t::rows(a_panel));
    const int r_end = live <= 4 ? 4 : MR;
    const std::uint8_t* a = base::pack_a_t::data(a_panel);
    const auto* w = static_cast<const std::uint8_t*>(w_panel);
#pragma GCC unroll 1
    for (int r0 = 0; r0 < r_end; r0 += 4)
#pragma GCC unroll 1
      for (int c0 = 0; c0 < NR; c0 += 4) {
        uint32x4_t tot[4][4];
        quad((kc + KS - 1) / KS, a + r0 * KS, w + 16 * (c0 / base::per_chunk), mask, tot);
#pragma GCC unroll 4
        for (int i = 0; i < 4; ++i)
          store4(c + (r0 + i) * ldc + c0, hsum4(tot[i][0], tot[i][1], tot[i][2], tot[i][3]),
                 accumulate);
      }
    base::zero_rows(c, ldc, r_end, accumulate);
  }
};
#endif  // LOWBIT_TARGET_GEMV_NEONDOT

#endif  // __aarch64__

template <class K>
constexpr ukernel_desc gemv_desc(const char* name, feature_set f, int wb, int nr, float mpc,
                                 int mr = 1) noexcept {
  return describe_kernel<K>(name, algorithm::dot_i8, f, wb, 8, mr, nr, K::KS, K::kc_max, mpc, 0, 0,
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
// w2 7, w1 7.5; dotprod w4 4, w2 5, w1 5.5 (UDOT counted as one operation). Several rows:
// baseline, per block of a column pair, 8 unpack + 64 UMULL/UMLAL2 + 32 UADALP / flush for 512
// MACs (13.5); dotprod, per block of 4 rows x 4 columns, 8 unpack + 32 UDOT for 512 MACs (25.6).
// The several-row kernels compute 2, 4 or 8 rows (baseline) or 4 or 8 (dotprod) as a call has them:
// the time model charges them for those rows only (ukernel_desc::live_rows_min).
constexpr ukernel_desc with_live_rows(ukernel_desc d, int min_rows) noexcept {
  d.live_rows_min = static_cast<std::uint8_t>(min_rows);
  return d;
}

inline ukernel_list gemv_ukernels() noexcept {
  constexpr feature_set f = bit(cpu_feature::neon);
  static const ukernel_desc list[] = {
    gemv_desc<gemv_widen<4, gemv_nr>>(LOWBIT_NEON_GEMV_NAME(4, neon), f, 4, gemv_nr, 10.2f),
    gemv_desc<gemv_widen<2, gemv_nr>>(LOWBIT_NEON_GEMV_NAME(2, neon), f, 2, gemv_nr, 9.1f),
    gemv_desc<gemv_widen<1, gemv_nr>>(LOWBIT_NEON_GEMV_NAME(1, neon), f, 1, gemv_nr, 8.5f),
#if defined(__aarch64__)
    with_live_rows(gemv_desc<gemv_rows_widen<4, 8, 8>>("gemv_w4a8_8x8c32__neon", f, 4, 8, 13.5f, 8),
                   2),
    with_live_rows(gemv_desc<gemv_rows_widen<2, 8, 8>>("gemv_w2a8_8x8c32__neon", f, 2, 8, 13.5f, 8),
                   2),
    with_live_rows(gemv_desc<gemv_rows_widen<1, 8, 8>>("gemv_w1a8_8x8c32__neon", f, 1, 8, 13.5f, 8),
                   2),
#endif
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
      with_live_rows(
          gemv_desc<gemv_rows_udot<4, 8, 8>>("gemv_w4a8_8x8c32__neondot", f, 4, 8, 25.6f, 8), 4),
      with_live_rows(
          gemv_desc<gemv_rows_udot<2, 8, 8>>("gemv_w2a8_8x8c32__neondot", f, 2, 8, 25.6f, 8), 4),
      with_live_rows(
          gemv_desc<gemv_rows_udot<1, 8, 8>>("gemv_w1a8_8x8c32__neondot", f, 1, 8, 25.6f, 8), 4),
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
