// lowbit: the bodies of the x86 lookup-table kernels, written once over an ISA's vector ops.
//
// No include guard: each ISA header (lut_sse41.hpp, lut_avx2.hpp, lut_avx512bw.hpp,
// lut_avx512vbmi.hpp) includes this file once, after defining
//   LOWBIT_LUT_NS      the namespace below lowbit::kernels::lut that gets this ISA's copy, and
//   LOWBIT_LUT_TARGET  its target string (lut_targets_x86.hpp),
// and then defines, in that namespace, `struct ops` (its functions marked LOWBIT_LUT_OP): the
// vector type `vec`; table_bytes (16: pshufb, 64: vpermb); table(p) (a table from memory: 16
// bytes broadcast to every 128-bit lane, or 64 bytes), lookup(t, idx), and where a product table
// takes two registers lookup2(t0, idx, t1) (vpermi2b); zero(), load(p) and store(p, v) (aligned),
// loadu(p), storeu(p, v); or_, add8, add16, sub16, add32, sub32, add64; acc8(a, r) and, for
// actsum_nv1, acc16(a, r): a += r with the destination pinned to a (with the plain intrinsic
// GCC 12 computes the sum into the lookup's register and copies it back, one extra move per
// lookup); hi8(v) and shl8(v) (16-bit lanes shifted by 8), set16, set32, maddubs, sad(v) (psadbw
// against zero), widen16(h, half) (16-bit lanes of one half of h zero-extended to 32 bits) and
// sum4(s0, s1, s2, s3) (the sums of each vector's 64-bit lanes, truncated to 32 bits, as one
// 128-bit vector). The ISA header ends by including lut_end_x86-inl.hpp, which #undefs
// LOWBIT_LUT_NS / _TARGET / _OP / _ENTRY. Why a copy per ISA and not one template over the ops: GCC
// does not inline an always_inline function with a target attribute (every intrinsic, every op)
// into a function without that target, and Clang refuses to compile the call, so a body compiled
// for the baseline could not use them; here every body carries its ISA's target.
//
// Named accumulators and `if (R < MR)` rows (explicit register blocking): from arrays, or with
// the plain intrinsics, GCC 12 keeps the loop-carried vectors in memory or adds a move per lookup.
//
// actsum_nv2 and actsum_nv1: activation-sum tables (actsum_common.hpp for the tables, packers and
// accumulator bounds). The table of one (row, group) comes straight from the bank, addressed by
// the 16-bit offset the A packer stored (one to three chunk tables added, once per (row, group)),
// and is reused for every column of the tile; each index vector is loaded once per group and
// reused by the MR rows. Per lookup: the lookup + a byte add into the row's accumulator; every F
// lookups 3 ops (NDW = 1) or 2 (NDW = 2) widen the bytes into 16-bit sums, and those are widened
// to int32 once, when the tile is stored.
// - actsum_nv2 (16 vector registers: SSE4.1, AVX2): MR <= 6 rows x two index vectors; the 16-bit
//   sums live on the stack, the registers hold only byte accumulators, indices and the table.
// - actsum_nv1 (32 vector registers: AVX-512): MR <= 8 rows x one index vector; the 16-bit sums
//   are named registers too (26 of the 32 zmm at MR = 8), and with F = 1 (entries above 127)
//   each lookup is widened at once. SW: the signed-weight sibling (actsum_cell::make_bank_signed),
//   weights at offset 2^(WB-1), signed_bias subtracted per group.
//
// product: product tables (DeepGEMM; product_common.hpp for the table, packers and
// accumulators). V consecutive k of one row (a << WB) and one column (w) per vector; index =
// a | w, one lookup in the product table (one register, or two for 128 entries) gives V products
// of one output (i, j), added into its byte accumulator. Every F lookups psadbw widens the bytes
// into 64-bit lane sums kept on the stack; each (i, j)'s lanes are summed once per call. Tile
// MR x 4 (MR <= 4). These exist to be measured against the activation-sum kernels, which reuse
// one table per row for the whole tile and do 1.5 to 6 MACs per looked-up byte.

#if !defined(LOWBIT_LUT_NS) || !defined(LOWBIT_LUT_TARGET)
#error "define LOWBIT_LUT_NS and LOWBIT_LUT_TARGET before including lut_body_x86-inl.hpp"
#endif

#include <immintrin.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "lowbit/isa.hpp"
#include "lowbit/kernels/lut/actsum_common.hpp"
#include "lowbit/kernels/lut/actsum_pack_sse41.hpp"
#include "lowbit/kernels/lut/actsum_pack_vbmi.hpp"
#include "lowbit/kernels/lut/lut_targets_x86.hpp"
#include "lowbit/kernels/lut/product_common.hpp"

// The shared bodies' helpers and the ops they call: inlined into the kernels' entry points, all
// compiled for LOWBIT_LUT_TARGET (expanded where they are used).
#define LOWBIT_LUT_OP __attribute__((target(LOWBIT_LUT_TARGET), always_inline)) inline
// A kernel's entry point (its address goes into the descriptor).
#define LOWBIT_LUT_ENTRY __attribute__((target(LOWBIT_LUT_TARGET)))

// Explicit register blocking: M(R) for each row R of a tile of up to 6 or 8 rows.
#define LOWBIT_LUT_ROWS6(M) M(0) M(1) M(2) M(3) M(4) M(5)
#define LOWBIT_LUT_ROWS8(M) LOWBIT_LUT_ROWS6(M) M(6) M(7)

namespace lowbit {
namespace kernels {
namespace lut {
namespace LOWBIT_LUT_NS {

// The features the kernels of this namespace are compiled for.
constexpr feature_set features = detail::target_features(LOWBIT_LUT_TARGET);

// One row of an activation-sum tile from its 16-bit column sums x, y (NDW = 1: the first V / 2
// columns are x - 256 y, the next V / 2 are y; NDW = 2: x), widened to int32, less the signed
// bank's bias (SW), stored or added to row cp.
template <class O, int NDW, bool SW>
LOWBIT_LUT_OP void actsum_store_row(std::int32_t* cp, typename O::vec x, typename O::vec y,
                                    typename O::vec bias, bool accumulate) noexcept {
  using vec = typename O::vec;
  constexpr int V = sizeof(vec);
  vec h[2];
  int nh = 1;
  if (NDW == 1) {
    h[0] = O::sub16(x, O::shl8(y));  // the first V / 2 columns
    h[1] = y;                        // the next V / 2
    nh = 2;
  } else {
    h[0] = x;  // the V / 2 columns
  }
  for (int q = 0; q < nh; ++q)
    for (int half = 0; half < 2; ++half) {
      vec s = O::widen16(h[q], half);
      if constexpr (SW) s = O::sub32(s, bias);
      std::int32_t* p = cp + V / 2 * q + V / 4 * half;
      if (accumulate) s = O::add32(s, O::loadu(p));
      O::storeu(p, s);
    }
}

// Activation-sum tables, MR <= 6 rows x two index vectors per group.
template <class O, class Cell, int MR>
struct actsum_nv2 {
  using vec = typename O::vec;
  static constexpr int NV = 2;  // two index vectors per group (named accumulators below)
  static constexpr int V = sizeof(vec), NDW = Cell::digits, G = Cell::k_group;
  static constexpr int NR = NV * V / NDW, mr = MR, nr = NR, k_step = G;
  static constexpr std::uint32_t kc_max = Cell::kc_max;
  static constexpr int F = Cell::flush_every;
  using pack = actsum_pack_sse41<Cell, MR, V, NV>;  // vector packer, validates and sums
  static_assert(Cell::table_bytes == O::table_bytes && Cell::chunks == 1, "one table per group");
  static_assert(MR >= 1 && MR <= 6, "six rows of named accumulators");

  LOWBIT_LUT_ENTRY static void run(std::size_t kc, const void* a_panel, const void* w_panel,
                                   std::int32_t* c, std::size_t ldc, bool accumulate) noexcept {
    const auto* ao = static_cast<const std::uint16_t*>(a_panel);
    const auto* wp = static_cast<const vec*>(w_panel);
    const std::uint8_t* bank = Cell::bank.t;
    const std::size_t ng = Cell::groups(kc);
    const vec zero = O::zero();

    // 16-bit sums X, Y (NDW = 1) or Z = X (NDW = 2); touched once per F groups.
    vec X[MR][NV], Y[MR][NV];
    for (int i = 0; i < MR; ++i)
      for (int v = 0; v < NV; ++v) X[i][v] = Y[i][v] = zero;

    vec a00 = zero, a01 = zero, a10 = zero, a11 = zero, a20 = zero, a21 = zero, a30 = zero,
        a31 = zero, a40 = zero, a41 = zero, a50 = zero, a51 = zero;
    for (std::size_t g0 = 0; g0 < ng; g0 += F) {
      const std::size_t n = ng - g0 < static_cast<std::size_t>(F) ? ng - g0 : F;
#pragma GCC unroll 1  // a peeled copy per possible trip count would undo the blocking
      for (std::size_t g = 0; g < n; ++g, ao += MR, wp += NV) {
        const vec i0 = O::load(wp), i1 = O::load(wp + 1);
        // One row: its table, looked up for the tile's two index vectors.
#define LOWBIT_LUT_ROW(R)                 \
  if (R < MR) {                           \
    const vec t = O::table(bank + ao[R]); \
    O::acc8(a##R##0, O::lookup(t, i0));   \
    O::acc8(a##R##1, O::lookup(t, i1));   \
  }
        LOWBIT_LUT_ROWS6(LOWBIT_LUT_ROW)
#undef LOWBIT_LUT_ROW
      }
      const vec acc[6][2] = {{a00, a01}, {a10, a11}, {a20, a21},
                             {a30, a31}, {a40, a41}, {a50, a51}};
      if (NDW == 1) {
        for (int i = 0; i < MR; ++i)
          for (int v = 0; v < NV; ++v) {
            X[i][v] = O::add16(X[i][v], acc[i][v]);
            Y[i][v] = O::add16(Y[i][v], O::hi8(acc[i][v]));
          }
      } else {
        const vec coef = O::set16(static_cast<short>(((1 << Cell::digit_bits) << 8) | 1));
        for (int i = 0; i < MR; ++i)
          for (int v = 0; v < NV; ++v) X[i][v] = O::add16(X[i][v], O::maddubs(acc[i][v], coef));
      }
      a00 = a01 = a10 = a11 = a20 = a21 = a30 = a31 = a40 = a41 = a50 = a51 = zero;
    }

    for (int i = 0; i < MR; ++i)
      for (int v = 0; v < NV; ++v)
        actsum_store_row<O, NDW, false>(c + static_cast<std::size_t>(i) * ldc + v * (V / NDW),
                                        X[i][v], Y[i][v], zero, accumulate);
  }
};

// Activation-sum tables, MR <= 8 rows x one index vector per group; SW: the signed-weight sibling.
template <class O, class Cell, int MR, bool SW = false>
struct actsum_nv1 {
  using vec = typename O::vec;
  static constexpr int V = sizeof(vec), NV = 1, NDW = Cell::digits, G = Cell::k_group;
  static constexpr int NR = V / NDW, mr = MR, nr = NR, k_step = G;
  static constexpr std::uint32_t kc_max = Cell::kc_max;
  static constexpr int F = Cell::flush_every;
  static constexpr int NCH = Cell::chunks;
  // The vector packer where one serves the cell (it validates and sums too), else the scalar one.
  using pack = std::conditional_t<
      Cell::table_bytes == 16, actsum_pack_sse41<Cell, MR, V, NV>,
      std::conditional_t<actsum_pack_vbmi_serves<Cell> && MR == 8,
                         actsum_pack_vbmi<Cell, MR, V, NV>, actsum_pack<Cell, MR, V, NV>>>;
  static_assert(Cell::table_bytes == O::table_bytes, "the level's table size");
  static_assert(MR >= 1 && MR <= 8, "eight named accumulators");
  static_assert(!SW || Cell::signable, "signed banks: one chunk, one digit per weight");
  static constexpr int w_offset = SW ? static_cast<int>(Cell::w_offset_signed) : 0;
  // A full tile's 8 one-chunk offsets come in two 64-bit loads and are split by shifts when
  // tables are whole vectors: a zmm table load takes both of Zen 4's wide load slots, so a
  // scalar load per row would fill the third and make loads the limit.
  static constexpr bool packed_offsets = NCH == 1 && MR == 8 && Cell::table_bytes == V;
  // Built once, at compile time, for the cells whose sibling is registered.
  static constexpr typename Cell::bank_t signed_bank() noexcept {
    if constexpr (SW)
      return Cell::make_bank_signed();
    else
      return {};
  }
  static constexpr typename Cell::bank_t bank_s = signed_bank();

  LOWBIT_LUT_ENTRY static void run(std::size_t kc, const void* a_panel, const void* w_panel,
                                   std::int32_t* c, std::size_t ldc, bool accumulate) noexcept {
    const auto* ao = static_cast<const std::uint16_t*>(a_panel);
    const auto* wp = static_cast<const std::uint8_t*>(w_panel);
    const std::uint8_t* bank;
    if constexpr (SW)  // (the other bank is never emitted)
      bank = bank_s.t;
    else
      bank = Cell::bank.t;
    const std::size_t ng = Cell::groups(kc);
    const vec zero = O::zero();

    // 16-bit sums x, y (NDW = 1) or z = x (NDW = 2), and byte accumulators a.
    vec x0 = zero, x1 = zero, x2 = zero, x3 = zero, x4 = zero, x5 = zero, x6 = zero, x7 = zero;
    vec y0 = zero, y1 = zero, y2 = zero, y3 = zero, y4 = zero, y5 = zero, y6 = zero, y7 = zero;
    vec a0 = zero, a1 = zero, a2 = zero, a3 = zero, a4 = zero, a5 = zero, a6 = zero, a7 = zero;
    const vec coef = O::set16(static_cast<short>(((1 << Cell::digit_bits) << 8) | 1));
    // Widens row R's bytes into its 16-bit sums (see actsum_common.hpp).
#define LOWBIT_LUT_WIDEN(R, B)           \
  if (NDW == 1) {                        \
    O::acc16(x##R, B);                   \
    O::acc16(y##R, O::hi8(B));           \
  } else {                               \
    O::acc16(x##R, O::maddubs(B, coef)); \
  }
    for (std::size_t g0 = 0; g0 < ng; g0 += F) {
      const std::size_t n = ng - g0 < static_cast<std::size_t>(F) ? ng - g0 : F;
#pragma GCC unroll 1  // a peeled copy per possible trip count would undo the blocking
      for (std::size_t g = 0; g < n; ++g, ao += MR * NCH, wp += V) {
        const vec idx = O::load(wp);
        std::uint64_t off_lo = 0, off_hi = 0;
        if (packed_offsets) {
          std::memcpy(&off_lo, ao, 8);
          std::memcpy(&off_hi, ao + 4, 8);
        }
        // One row: its table (the sum of NCH bank tables) looked up for the tile's columns.
#define LOWBIT_LUT_ROW(R)                                                                      \
  if (R < MR) {                                                                                \
    vec t = O::table(bank + (packed_offsets ? static_cast<std::uint16_t>(                      \
                                                  (R < 4 ? off_lo : off_hi) >> (16 * (R & 3))) \
                                            : ao[R * NCH]));                                   \
    if (NCH > 1) t = O::add8(t, O::table(bank + ao[R * NCH + 1]));                             \
    if (NCH > 2) t = O::add8(t, O::table(bank + ao[R * NCH + 2]));                             \
    const vec r = O::lookup(t, idx);                                                           \
    if (F == 1) {                                                                              \
      LOWBIT_LUT_WIDEN(R, r)                                                                   \
    } else {                                                                                   \
      O::acc8(a##R, r);                                                                        \
    }                                                                                          \
  }
        LOWBIT_LUT_ROWS8(LOWBIT_LUT_ROW)
#undef LOWBIT_LUT_ROW
      }
      if (F > 1) {
#define LOWBIT_LUT_FLUSH(R)   \
  if (R < MR) {               \
    LOWBIT_LUT_WIDEN(R, a##R) \
    a##R = zero;              \
  }
        LOWBIT_LUT_ROWS8(LOWBIT_LUT_FLUSH)
#undef LOWBIT_LUT_FLUSH
      }
    }
#undef LOWBIT_LUT_WIDEN
    const vec X[8] = {x0, x1, x2, x3, x4, x5, x6, x7}, Y[8] = {y0, y1, y2, y3, y4, y5, y6, y7};
    const vec bias = O::set32(static_cast<int>(SW ? Cell::signed_bias * ng : 0));
#pragma GCC unroll 16
    for (int i = 0; i < MR; ++i)
      actsum_store_row<O, NDW, SW>(c + static_cast<std::size_t>(i) * ldc, X[i], Y[i], bias,
                                   accumulate);
  }
};

// Product tables, MR x 4 outputs.
template <class O, class Cell, int MR>
struct product {
  using vec = typename O::vec;
  static constexpr int V = sizeof(vec), NR = 4, mr = MR, nr = NR, k_step = V;
  // Entries: the level's table, or two of them (lookup2) for a 7th index bit.
  static constexpr int TB =
      (1 << Cell::index_bits) <= O::table_bytes ? O::table_bytes : 2 * O::table_bytes;
  static_assert((1 << Cell::index_bits) <= TB, "the table holds every product");
  static constexpr int F = Cell::flush_every;
  using pack = product_pack<Cell, MR, NR, V>;
  static constexpr std::uint32_t kc_max = pack::kc_max;
  static constexpr auto table = Cell::template make_table<TB>();
  static_assert(MR >= 1 && MR <= 4, "four rows of named accumulators");

  LOWBIT_LUT_ENTRY static void run(std::size_t kc, const void* a_panel, const void* w_panel,
                                   std::int32_t* c, std::size_t ldc, bool accumulate) noexcept {
    const auto* ap = static_cast<const vec*>(a_panel);
    const auto* wp = static_cast<const vec*>(w_panel);
    const std::size_t nb = pack::blocks(kc);
    const vec zero = O::zero();
    const vec t0 = O::table(table.t);
    const vec t1 = O::table(table.t + (TB > O::table_bytes ? O::table_bytes : 0));
    alignas(V) std::uint64_t sum[MR * NR][V / 8];  // 64-bit lane sums, written by the first flush

    vec a00 = zero, a01 = zero, a02 = zero, a03 = zero, a10 = zero, a11 = zero, a12 = zero,
        a13 = zero, a20 = zero, a21 = zero, a22 = zero, a23 = zero, a30 = zero, a31 = zero,
        a32 = zero, a33 = zero;
    // At least one pass (kc >= 1), so the first flush initialises every lane sum.
    std::size_t b0 = 0;
    do {
      const std::size_t n = nb - b0 < static_cast<std::size_t>(F) ? nb - b0 : F;
#pragma GCC unroll 1  // a peeled copy per possible trip count would undo the blocking
      for (std::size_t b = 0; b < n; ++b, ap += MR, wp += NR) {
        const vec x0 = O::load(ap), x1 = MR > 1 ? O::load(ap + 1) : zero,
                  x2 = MR > 2 ? O::load(ap + 2) : zero, x3 = MR > 3 ? O::load(ap + 3) : zero;
        // Column J: its V k of w, looked up with each row's a.
#define LOWBIT_LUTP_LOOK(I, J)                   \
  if (I < MR) {                                  \
    const vec idx = O::or_(x##I, w);             \
    if constexpr (TB == O::table_bytes)          \
      O::acc8(a##I##J, O::lookup(t0, idx));      \
    else                                         \
      O::acc8(a##I##J, O::lookup2(t0, idx, t1)); \
  }
#define LOWBIT_LUTP_COL(J)         \
  {                                \
    const vec w = O::load(wp + J); \
    LOWBIT_LUTP_LOOK(0, J)         \
    LOWBIT_LUTP_LOOK(1, J)         \
    LOWBIT_LUTP_LOOK(2, J)         \
    LOWBIT_LUTP_LOOK(3, J)         \
  }
        LOWBIT_LUTP_COL(0)
        LOWBIT_LUTP_COL(1)
        LOWBIT_LUTP_COL(2)
        LOWBIT_LUTP_COL(3)
#undef LOWBIT_LUTP_COL
#undef LOWBIT_LUTP_LOOK
      }
      // Widen: 8 bytes of each accumulator into each 64-bit lane sum.
#define LOWBIT_LUTP_FLUSH(I, J)                         \
  if (I < MR) {                                         \
    std::uint64_t* s = sum[I * NR + J];                 \
    const vec d = O::sad(a##I##J);                      \
    O::store(s, b0 == 0 ? d : O::add64(O::load(s), d)); \
    a##I##J = zero;                                     \
  }
      LOWBIT_LUTP_FLUSH(0, 0)
      LOWBIT_LUTP_FLUSH(0, 1)
      LOWBIT_LUTP_FLUSH(0, 2)
      LOWBIT_LUTP_FLUSH(0, 3)
      LOWBIT_LUTP_FLUSH(1, 0)
      LOWBIT_LUTP_FLUSH(1, 1)
      LOWBIT_LUTP_FLUSH(1, 2)
      LOWBIT_LUTP_FLUSH(1, 3)
      LOWBIT_LUTP_FLUSH(2, 0)
      LOWBIT_LUTP_FLUSH(2, 1)
      LOWBIT_LUTP_FLUSH(2, 2)
      LOWBIT_LUTP_FLUSH(2, 3)
      LOWBIT_LUTP_FLUSH(3, 0)
      LOWBIT_LUTP_FLUSH(3, 1)
      LOWBIT_LUTP_FLUSH(3, 2)
      LOWBIT_LUTP_FLUSH(3, 3)
#undef LOWBIT_LUTP_FLUSH
      b0 += F;
    } while (b0 < nb);

    // Each output's lane sums, truncated to 32 bits (the contract's wrap-around): per row, the
    // NR = 4 outputs' sums in one 128-bit vector.
    static_assert(NR == 4, "four outputs per row reduce into one 128-bit vector");
    for (int i = 0; i < MR; ++i) {
      __m128i r = O::sum4(O::load(sum[i * NR]), O::load(sum[i * NR + 1]), O::load(sum[i * NR + 2]),
                          O::load(sum[i * NR + 3]));
      auto* out = reinterpret_cast<__m128i*>(c + static_cast<std::size_t>(i) * ldc);
      if (accumulate) r = _mm_add_epi32(r, _mm_loadu_si128(out));
      _mm_storeu_si128(out, r);
    }
  }
};

}  // namespace LOWBIT_LUT_NS
}  // namespace lut
}  // namespace kernels
}  // namespace lowbit

#undef LOWBIT_LUT_ROWS6
#undef LOWBIT_LUT_ROWS8
