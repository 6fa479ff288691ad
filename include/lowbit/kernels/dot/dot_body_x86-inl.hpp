// lowbit: the bodies of the x86 int8 dot-product kernels, written once over an ISA's vector ops.
//
// No include guard: each ISA header (dot_sse4.hpp, dot_avx2.hpp, dot_avx512.hpp, dot_avxvnni.hpp,
// dot_avx512vnni.hpp) includes this file once, after defining
//   LOWBIT_DOT_NS      the namespace below lowbit::kernels::dot that gets this ISA's copy, and
//   LOWBIT_DOT_TARGET  its target string (one of isa.hpp's LOWBIT_X86_TARGET_*),
// and then defines, in that namespace, `struct ops` (its functions marked LOWBIT_DOT_OP): the
// vector type `vec`, `lanes` (int32 lanes per vec), zero(), load(p) (aligned), loadu(c) and
// storeu(c, v) (int32 rows of C), bcast4(p) (4 bytes to every int32 lane), ones16(), add16,
// add32, maddubs(u8, s8), madd16, and on VNNI levels dpbusd(acc, u8, s8). It ends by including
// dot_end_x86-inl.hpp (drops LOWBIT_DOT_NS / _TARGET / _OP / _ENTRY). Why a copy per ISA and not
// one template over the ops: GCC does not inline an always_inline function with a target attribute
// (every intrinsic, every op) into a function without that target, and Clang refuses to compile the
// call, so a body compiled for the baseline could not use them; here every body carries its ISA's
// target.
//
// Panels (dot_pack_x86.hpp): activations as u8, weights as s8 (u - w_offset), both in the k4
// layout [k / 4][row][k % 4]; per 4 values of K the 4 A bytes of row i are broadcast and
// multiplied with NV vectors of 4-byte W groups, one group per column.
//
// - dot_maddubs, 8-bit variant (pair_max > 32767 / 8): (v)pmaddubsw gives per column two int16
//   pair sums, (v)pmaddwd by ones widens them to int32 at once and (v)paddd accumulates (3 ops
//   per vector). It never saturates: the pair sum is at most 2 * 127 * 128 = 32512 (w8a7),
//   2 * 255 * 64 = 32640 (w7a8, weights as u - 64).
// - dot_maddubs, low-bit variant (pair_max <= 32767 / 8): the int16 pair sums are added with
//   (v)paddw for up to nflush = floor(32767 / pair_max) steps before one (v)pmaddwd widens them
//   into the int32 sums (2 ops per vector); e.g. w4a4: 2 * 15 * 15 = 450 per step, 72 steps.
// - dot_madd16 (w8a8): 2 * 255 * 128 saturates (v)pmaddubsw, so u-codes are packed as int16 (k2
//   layout) and (v)pmaddwd alone multiplies 2 values of K, exact in int32 (2 * 255 * 255 < 2^31).
// - dot_vnni: (v)pdpbusd adds the 4 products of each group into int32 lanes with no
//   intermediate saturation, so one kernel with s8 weights (u - 128) serves every cell up to w8a8.
// All int32 sums wrap mod 2^32, which is what S is defined as, so kc is limited only by the
// driver's blocking.

#if !defined(LOWBIT_DOT_NS) || !defined(LOWBIT_DOT_TARGET)
#error "define LOWBIT_DOT_NS and LOWBIT_DOT_TARGET before including dot_body_x86-inl.hpp"
#endif

#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "lowbit/isa.hpp"
#include "lowbit/kernels/dot/dot_pack_x86.hpp"
#include "lowbit/kernels/ukernel.hpp"

// The shared bodies and the ops they call: inlined into the kernels' entry points, all compiled
// for LOWBIT_DOT_TARGET (expanded where they are used).
#define LOWBIT_DOT_OP __attribute__((target(LOWBIT_DOT_TARGET), always_inline)) inline
// A kernel's entry point (its address goes into the descriptor).
#define LOWBIT_DOT_ENTRY __attribute__((target(LOWBIT_DOT_TARGET)))

namespace lowbit {
namespace kernels {
namespace dot {
namespace LOWBIT_DOT_NS {

// The features the kernels of this namespace are compiled for.
constexpr feature_set features = detail::target_features(LOWBIT_DOT_TARGET);

// An MR x NV tile of int32 accumulator vectors (NR = NV * lanes columns).
template <class O, int MR, int NV>
struct dot_tile {
  using vec = typename O::vec;
  static constexpr int NR = NV * O::lanes;

  LOWBIT_DOT_OP static void zero(vec (&acc)[MR][NV]) noexcept {
#pragma GCC unroll 8
    for (int i = 0; i < MR; ++i)
#pragma GCC unroll 8
      for (int j = 0; j < NV; ++j) acc[i][j] = O::zero();
  }

  // One step of K: the NV weight vectors at w, then per row the 4 bytes at row_at(i) broadcast
  // and acc[i][j] = mac(acc[i][j], broadcast, w[j]).
  template <class RowAt, class Mac>
  LOWBIT_DOT_OP static void step(vec (&acc)[MR][NV], const std::uint8_t* w, RowAt row_at,
                                 Mac mac) noexcept {
    vec wv[NV];
#pragma GCC unroll 8
    for (int j = 0; j < NV; ++j) wv[j] = O::load(w + sizeof(vec) * j);
#pragma GCC unroll 8
    for (int i = 0; i < MR; ++i) {
      const vec av = O::bcast4(row_at(i));
#pragma GCC unroll 8
      for (int j = 0; j < NV; ++j) acc[i][j] = mac(acc[i][j], av, wv[j]);
    }
  }

  // Steps s0 to s1 over packed A and W panels (k4 or k2 layout: 4 bytes per row and step),
  // advancing a and w past them.
  template <class Mac>
  LOWBIT_DOT_OP static void packed_steps(vec (&acc)[MR][NV], const std::uint8_t*& a,
                                         const std::uint8_t*& w, std::size_t s0, std::size_t s1,
                                         Mac mac) noexcept {
    const auto row = [&](int i) { return a + 4 * i; };
    for (std::size_t s = s0; s < s1; ++s, a += 4 * MR, w += 4 * NR) step(acc, w, row, mac);
  }

  // C = acc, or C += acc.
  LOWBIT_DOT_OP static void store(const vec (&acc)[MR][NV], std::int32_t* c, std::size_t ldc,
                                  bool accumulate) noexcept {
#pragma GCC unroll 8
    for (int i = 0; i < MR; ++i)
#pragma GCC unroll 8
      for (int j = 0; j < NV; ++j) {
        std::int32_t* ci = c + i * ldc + O::lanes * j;
        vec r = acc[i][j];
        if (accumulate) r = O::add32(r, O::loadu(ci));
        O::storeu(ci, r);
      }
  }
};

// The multiply-accumulates a step applies (function objects: a lambda would not carry the target).
template <class O>
struct mac_maddubs_wide {  // acc + pmaddwd(pmaddubsw(a, w), 1): 8-bit pair sums to int32 at once
  typename O::vec ones;
  LOWBIT_DOT_OP typename O::vec operator()(typename O::vec acc, typename O::vec a,
                                           typename O::vec w) const noexcept {
    return O::add32(acc, O::madd16(O::maddubs(a, w), ones));
  }
};
template <class O>
struct mac_maddubs_16 {  // acc + pmaddubsw(a, w) in int16: low-bit pair sums
  LOWBIT_DOT_OP typename O::vec operator()(typename O::vec acc, typename O::vec a,
                                           typename O::vec w) const noexcept {
    return O::add16(acc, O::maddubs(a, w));
  }
};
template <class O>
struct mac_madd16 {  // acc + pmaddwd(a, w): int16 pairs
  LOWBIT_DOT_OP typename O::vec operator()(typename O::vec acc, typename O::vec a,
                                           typename O::vec w) const noexcept {
    return O::add32(acc, O::madd16(a, w));
  }
};
template <class O>
struct mac_dpbusd {  // vpdpbusd: 4 u8 x s8 products into each int32 lane
  LOWBIT_DOT_OP typename O::vec operator()(typename O::vec acc, typename O::vec a,
                                           typename O::vec w) const noexcept {
    return O::dpbusd(acc, a, w);
  }
};

// Whether this ISA's ops carry the per-group epilogue's float and gather ops (group_ops).
template <class O, class = void>
struct has_group_ops : std::false_type {};
template <class O>
struct has_group_ops<O, std::enable_if_t<O::group_ops>> : std::true_type {};

// ukernel.hpp's run_grouped over a kernel K's sums (K::sums_onto adds a panel's exact sums onto
// int32 accumulators). Per group the accumulators start from the group's terms (p_g[i] +
// colterm_g[j], + x_g[j] * y_g[i] when x is not uniform), so with alpha = 1 the products land
// on them and the registers end holding T_g itself (int32 sums wrap mod 2^32, whose result does
// not depend on the order of the additions): no pass over the tile between the products and the
// convert. With alpha != 1 they start from zero and T_g = alpha * S'_g + terms after. Then
// acc[i][j] = acc[i][j] + scale * float(T_g), the product rounded on its own; acc is the
// caller's tile in memory (L1), which keeps the loop's registers for the products.
template <class O, int MR, int NV>
struct group_tile {
  using vec = typename O::vec;
  using fvec = typename O::fvec;
  using cmask = typename O::cmask;
  static constexpr int L = O::lanes, NR = NV * L;

  template <class K>
  LOWBIT_DOT_OP static void run(const group_args& ga) noexcept {
    if (ga.alpha == 1) {
      if (ga.col_x == nullptr)
        return ga.rows_zero ? groups<K, true, false, false>(ga) : groups<K, true, false>(ga);
      return groups<K, true, true>(ga);
    }
    groups<K, false, true>(ga);
  }

  // The group's terms of row i and column vector j: colterm (+ p) (+ x * y).
  template <bool X, bool ROW>
  LOWBIT_DOT_OP static vec terms(vec colt, vec pr, vec x, vec y) noexcept {
    const vec t = ROW ? O::add32(colt, pr) : colt;
    return X ? O::add32(t, O::mullo(x, y)) : t;
  }

  // UNIT: alpha == 1 (the accumulators start from the terms); X: x may not be uniform (col_x);
  // ROW: row terms present (not ga.rows_zero; without them a tile's accumulators start from
  // copies of the column terms, no add per accumulator and group).
  template <class K, bool UNIT, bool X, bool ROW = true>
  LOWBIT_DOT_OP static void groups(const group_args& ga) noexcept {
#pragma GCC unroll 8
    for (int i = 0; i < MR; ++i)
#pragma GCC unroll 8
      for (int j = 0; j < NV; ++j) O::fstoreu(ga.acc + i * NR + L * j, O::fzero());
    const bool table = ga.scale_col == 1;  // else the caller's rows: gathers
    for (std::size_t g = 0; g < ga.groups; ++g) {
      if (!table) prefetch_next_group_rows<NR>(ga, g);
      group<K, UNIT, X, ROW>(ga, g);
    }
    if (ga.finish) finish(ga);
  }

  // The float stage on the tile (group_args::finish), in place.
  LOWBIT_DOT_OP static void finish(const group_args& ga) noexcept {
    const fvec scale = O::fset1(ga.a_scale), lo = O::fset1(ga.lo), hi = O::fset1(ga.hi);
#pragma GCC unroll 8
    for (int i = 0; i < MR; ++i)
#pragma GCC unroll 8
      for (int j = 0; j < NV; ++j) {
        float* f = ga.acc + i * NR + L * j;
        fvec v = O::fmul(scale, O::floadu(f));
        if (ga.bias != nullptr) v = O::fadd(O::unfused(v), O::floadu(ga.bias + L * j));
        O::fstoreu(f, O::fmax(lo, O::fmin(hi, v)));
      }
  }

  // Group g: its products onto the terms (or zero), then acc += scale * float(T_g).
  template <class K, bool UNIT, bool X, bool ROW>
  LOWBIT_DOT_OP static void group(const group_args& ga, std::size_t g) noexcept {
    const std::uint32_t* yg = ga.row_y + g * MR;
    const std::uint32_t* pg = ga.row_p + g * MR;
    vec xv[NV], colt[NV];
#pragma GCC unroll 8
    for (int j = 0; j < NV; ++j) {
      xv[j] = X && ga.col_x != nullptr ? O::loadu(ga.col_x + g * NR + L * j) : O::zero();
      colt[j] = ga.col_terms != nullptr ? O::loadu(ga.col_terms + g * NR + L * j) : O::zero();
    }
    vec acc[MR][NV];
#pragma GCC unroll 8
    for (int i = 0; i < MR; ++i) {
      const vec y = X ? O::set1(static_cast<std::int32_t>(yg[i])) : O::zero();
      const vec pr = ROW ? O::set1(static_cast<std::int32_t>(pg[i])) : O::zero();
#pragma GCC unroll 8
      for (int j = 0; j < NV; ++j)
        acc[i][j] = UNIT ? terms<X, ROW>(colt[j], pr, xv[j], y) : O::zero();
    }
    K::sums_onto(g + 1 < ga.groups ? ga.kc : ga.k_last, ga.a + g * ga.a_stride,
                 ga.w + g * ga.w_stride, acc);
    // An opaque use of the sums here: without it GCC 12 rotates the accumulators between two
    // register sets in the product loop (two copies per accumulator and step).
#pragma GCC unroll 8
    for (int i = 0; i < MR; ++i)
#pragma GCC unroll 8
      for (int j = 0; j < NV; ++j) __asm__("" : "+v"(acc[i][j]));
    const float* sg = ga.scales + g * ga.scale_group;
    fvec sc[NV];
    if (ga.scale_col == 1) {
#pragma GCC unroll 8
      for (int j = 0; j < NV; ++j) sc[j] = O::floadu(sg + L * j);
    } else {
      const vec stride = O::set1(static_cast<std::int32_t>(ga.scale_col));
#pragma GCC unroll 8
      for (int j = 0; j < NV; ++j) {
        const std::size_t done = std::size_t{L} * j;
        const vec idx = O::mullo(O::add32(O::iota(), O::set1(L * j)), stride);
        sc[j] = O::gather_f(O::col_mask(ga.cols > done ? ga.cols - done : 0), idx, sg);
      }
    }
    const vec alpha = O::set1(static_cast<std::int32_t>(ga.alpha));
    float* const facc = ga.acc;
#pragma GCC unroll 8
    for (int i = 0; i < MR; ++i) {
      const vec y = X ? O::set1(static_cast<std::int32_t>(yg[i])) : O::zero();
      const vec pr = ROW ? O::set1(static_cast<std::int32_t>(pg[i])) : O::zero();
#pragma GCC unroll 8
      for (int j = 0; j < NV; ++j) {
        const vec t =
            UNIT ? acc[i][j]
                 : O::add32(O::mullo(alpha, acc[i][j]), terms<X, ROW>(colt[j], pr, xv[j], y));
        float* f = facc + i * NR + L * j;
        O::fstoreu(f, O::fadd(O::floadu(f), O::unfused(O::fmul(sc[j], O::cvt(t)))));
      }
    }
  }
};

// What every kernel here declares (ukernel.hpp's contract), and the run() of one that applies
// `mac` to packed panels (k4 or k2 layout: 4 bytes per row and step of k_step values of K).
template <class O, int MR, int NV, int K_STEP>
struct dot_packed {
  using tile = dot_tile<O, MR, NV>;
  using vec = typename O::vec;
  static constexpr int NR = tile::NR;
  static constexpr int k_step = K_STEP;
  static constexpr std::uint32_t kc_max = 1u << 20;  // int32 sums wrap mod 2^32: no bound

  template <class Mac>
  LOWBIT_DOT_OP static void run_packed(std::size_t kc, const void* a_panel, const void* w_panel,
                                       std::int32_t* c, std::size_t ldc, bool accumulate,
                                       Mac mac) noexcept {
    vec acc[MR][NV];
    packed_sums(kc, a_panel, w_panel, acc, mac);
    tile::store(acc, c, ldc, accumulate);
  }

  template <class Mac>
  LOWBIT_DOT_OP static void packed_sums(std::size_t kc, const void* a_panel, const void* w_panel,
                                        vec (&acc)[MR][NV], Mac mac) noexcept {
    tile::zero(acc);
    packed_onto(kc, a_panel, w_panel, acc, mac);
  }
  // The panels' sums added onto acc.
  template <class Mac>
  LOWBIT_DOT_OP static void packed_onto(std::size_t kc, const void* a_panel, const void* w_panel,
                                        vec (&acc)[MR][NV], Mac mac) noexcept {
    const auto* a = static_cast<const std::uint8_t*>(a_panel);
    const auto* w = static_cast<const std::uint8_t*>(w_panel);
    tile::packed_steps(acc, a, w, 0, (kc + k_step - 1) / k_step, mac);
  }
};

template <class O, int MR, int NV, int WB, int AB>
struct dot_maddubs : dot_packed<O, MR, NV, 4> {
  using base = dot_packed<O, MR, NV, 4>;
  using tile = typename base::tile;
  using vec = typename O::vec;
  static constexpr int w_offset = dot_w_offset(WB, AB);
  static constexpr int pair_max = dot_pair_max(WB, AB);
  static_assert(pair_max <= 32767, "pmaddubsw would saturate: use dot_madd16");
  static constexpr int nflush = 32767 / pair_max;  // int16 steps before widening
  static constexpr bool low = nflush >= 8;

  using pack_a_t = dot_pack_k4<MR, 0>;
  using pack_w_t = dot_pack_k4<base::NR, w_offset>;

  static constexpr bool grouped = has_group_ops<O>::value;
  static constexpr bool grouped_finish = grouped;

  LOWBIT_DOT_ENTRY static void run(std::size_t kc, const void* a_panel, const void* w_panel,
                                   std::int32_t* c, std::size_t ldc, bool accumulate) noexcept {
    vec acc[MR][NV];
    sums(kc, a_panel, w_panel, acc);
    tile::store(acc, c, ldc, accumulate);
  }
  LOWBIT_DOT_ENTRY static void run_grouped(const group_args& ga) noexcept {
    group_tile<O, MR, NV>::template run<dot_maddubs>(ga);
  }

  LOWBIT_DOT_OP static void sums(std::size_t kc, const void* a_panel, const void* w_panel,
                                 vec (&acc)[MR][NV]) noexcept {
    tile::zero(acc);
    sums_onto(kc, a_panel, w_panel, acc);
  }
  LOWBIT_DOT_OP static void sums_onto(std::size_t kc, const void* a_panel, const void* w_panel,
                                      vec (&acc)[MR][NV]) noexcept {
    const vec ones = O::ones16();
    if constexpr (!low) {
      base::packed_onto(kc, a_panel, w_panel, acc, mac_maddubs_wide<O>{ones});
    } else {
      // acc holds the int32 sums; the int16 partial sums live in s16 for nflush steps.
      const auto* a = static_cast<const std::uint8_t*>(a_panel);
      const auto* w = static_cast<const std::uint8_t*>(w_panel);
      const std::size_t nk = (kc + 3) / 4;
      for (std::size_t s0 = 0; s0 < nk; s0 += nflush) {
        const std::size_t s1 = s0 + nflush < nk ? s0 + nflush : nk;
        vec s16[MR][NV];
        tile::zero(s16);
        tile::packed_steps(s16, a, w, s0, s1, mac_maddubs_16<O>{});
#pragma GCC unroll 8
        for (int i = 0; i < MR; ++i)
#pragma GCC unroll 8
          for (int j = 0; j < NV; ++j) acc[i][j] = O::add32(acc[i][j], O::madd16(s16[i][j], ones));
      }
    }
  }
};

// w8a8 before VNNI: u-codes as int16, 2 values of K per step.
template <class O, int MR, int NV>
struct dot_madd16 : dot_packed<O, MR, NV, 2> {
  static constexpr int w_offset = 0;
  using pack_a_t = dot_pack_k2_i16<MR>;
  using pack_w_t = dot_pack_k2_i16<NV * O::lanes>;

  using vec = typename O::vec;
  static constexpr bool grouped = has_group_ops<O>::value;
  static constexpr bool grouped_finish = grouped;

  LOWBIT_DOT_ENTRY static void run(std::size_t kc, const void* a_panel, const void* w_panel,
                                   std::int32_t* c, std::size_t ldc, bool accumulate) noexcept {
    dot_madd16::run_packed(kc, a_panel, w_panel, c, ldc, accumulate, mac_madd16<O>{});
  }
  LOWBIT_DOT_OP static void sums_onto(std::size_t kc, const void* a_panel, const void* w_panel,
                                      vec (&acc)[MR][NV]) noexcept {
    dot_madd16::packed_onto(kc, a_panel, w_panel, acc, mac_madd16<O>{});
  }
  LOWBIT_DOT_ENTRY static void run_grouped(const group_args& ga) noexcept {
    group_tile<O, MR, NV>::template run<dot_madd16>(ga);
  }
};

// VNNI on packed panels (the AVX-512 VNNI kernel reads A in place: dot_avx512vnni.hpp).
template <class O, int MR, int NV>
struct dot_vnni : dot_packed<O, MR, NV, 4> {
  static constexpr int w_offset = 128;        // the default; pack_weights may choose another
  static constexpr bool any_w_offset = true;  // s8 weights, no pair sums: no saturation limit
  using pack_a_t = dot_pack_k4<MR, 0>;
  using pack_w_t = dot_pack_k4<NV * O::lanes, w_offset>;

  using vec = typename O::vec;
  static constexpr bool grouped = has_group_ops<O>::value;
  static constexpr bool grouped_finish = grouped;

  LOWBIT_DOT_ENTRY static void run(std::size_t kc, const void* a_panel, const void* w_panel,
                                   std::int32_t* c, std::size_t ldc, bool accumulate) noexcept {
    dot_vnni::run_packed(kc, a_panel, w_panel, c, ldc, accumulate, mac_dpbusd<O>{});
  }
  LOWBIT_DOT_OP static void sums_onto(std::size_t kc, const void* a_panel, const void* w_panel,
                                      vec (&acc)[MR][NV]) noexcept {
    dot_vnni::packed_onto(kc, a_panel, w_panel, acc, mac_dpbusd<O>{});
  }
  LOWBIT_DOT_ENTRY static void run_grouped(const group_args& ga) noexcept {
    group_tile<O, MR, NV>::template run<dot_vnni>(ga);
  }
};

}  // namespace LOWBIT_DOT_NS
}  // namespace dot
}  // namespace kernels
}  // namespace lowbit
