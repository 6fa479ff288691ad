// lowbit: the activation-sum A packer for 64-entry tables (vpermb kernels) in vector code.
//
// The scalar packer (actsum_common.hpp) spends about 2.2 cycles per code on k-triples: at
// 49 x 512 x 4608 that is a third of a w2a2 call, and at N = 64 more than the kernel itself, so
// the vpermb tables were never worth choosing although their kernel is the fastest w2a2 kernel
// on AMD Zen 4 (129 MAC/cycle against 93 for bitplane and 63 for VNNI). Here, per row and step of
// 32 groups:
// - k-triples (G = 3): vpermt2b spreads 96 codes into 32 four-byte slots [u0, u1, u2, 0], then
//   pmaddubsw ([1, 2^AB], [2^2AB, 0]) and pmaddwd ([64, 64]) give each group's table offset
//   64 * code in a 32-bit lane, and a vpermt2w keeps the 32 low halves in order;
// - k-pairs (G = 2): pmaddubsw ([1, 2^AB]) on 64 codes gives 32 codes, times 64 by a shift;
// then an 8 x 32 transpose of 16-bit lanes (vpermt2w, vpermt2d, vpermt2q: 24 permutes per step)
// puts the MR = 8 rows in the panel's (group, row) order. The K tail is one more step with
// masked loads (codes past kc read as 0, the padding code) and masked stores (nothing written
// past the panel). pack_checked also ORs every byte it loads and sums rows with psadbw (unless
// the driver needs no sums), so the GEMM driver skips its separate validation pass
// (ukernel_desc::pack_a_checked). Sums are exact for valid codes only, as the contract allows:
// two codes of at most 4 bits are added as bytes before psadbw.
//
// Cells: one table chunk of 64 entries with k-triples or k-pairs (w2a1, w2a2, w4a2; w3a2, w3a3,
// w3a4). The others (chunked tables, w1 k-sextets) keep the scalar packer: on every core
// measured their kernels lose to bitplane or int8 dot products anyway.
#pragma once

#if defined(__x86_64__)

#include <immintrin.h>

#include <cstddef>
#include <cstdint>

#include "lowbit/kernels/lut/actsum_common.hpp"
#include "lowbit/kernels/lut/lut_targets_x86.hpp"
#include "lowbit/kernels/ukernel.hpp"

#define LOWBIT_TARGET_ACTSUM_PACK_VBMI __attribute__((target(LOWBIT_LUT_TARGET_AVX512VBMI)))

namespace lowbit {
namespace kernels {
namespace lut {

template <class Cell>
constexpr bool actsum_pack_vbmi_serves = Cell::table_bytes == 64 && Cell::chunks == 1 &&
                                         (Cell::k_group == 2 || Cell::k_group == 3);

template <class Cell, int MR, int V, int NV>
struct actsum_pack_vbmi : actsum_pack<Cell, MR, V, NV> {
  using base = actsum_pack<Cell, MR, V, NV>;
  static constexpr int G = Cell::k_group, AB = Cell::a_bits;
  static_assert(actsum_pack_vbmi_serves<Cell>, "one 64-entry table chunk of k-pairs or k-triples");
  static_assert(MR == 8, "an 8-row transpose");
  // Groups per step: one 32-lane vector of 16-bit offsets per row.
  static constexpr std::size_t step_groups = 32, step_codes = step_groups * G;

  LOWBIT_TARGET_ACTSUM_PACK_VBMI static void pack_a(const std::uint8_t* u, std::size_t ldu,
                                                    std::size_t rows, std::size_t kc,
                                                    void* dst) noexcept {
    pack_rows<false, false>(u, ldu, rows, kc, dst, nullptr);
  }

  // pack_a over rows whose K is n_runs runs of run_bytes codes, run g of row r at
  // runs[g * MR + r] anywhere in memory (conv2d's window rows, an a_run_table of codes):
  // groups never straddle runs (run_bytes is a multiple of G, or there is one run, whose last
  // group is completed by code 0 as in pack_a), so each run is packed as the rows of its own
  // groups. Rows >= rows are the zero table.
  static constexpr std::uint32_t runs_max_bytes = 0, runs_max_k = 0;
  static constexpr std::uint16_t runs_multiple = G;
  static constexpr float runs_cycles = 0.15f;  // as pack_a: window rows are read where they are
  static constexpr a_runs_contract a_runs() noexcept {
    return copied_code_runs<actsum_pack_vbmi>();
  }
  LOWBIT_TARGET_ACTSUM_PACK_VBMI static void pack_runs(const std::uint8_t* const* runs,
                                                       std::size_t n_runs, std::size_t run_bytes,
                                                       std::size_t rows, void* dst) noexcept {
    const std::size_t kc = n_runs * run_bytes;
    if (run_bytes < step_codes && kc <= short_runs_max_k) {
      // Short runs (a first layer: 7 runs of 21 codes) would each be a mostly empty vector
      // step: copy each row's runs together into rows of K codes first, then pack those.
      alignas(64) std::uint8_t buf[MR * short_runs_max_k + 128];  // + what copy_run overwrites
      for (std::size_t i = 0; i < rows; ++i)
        for (std::size_t g = 0; g < n_runs; ++g)
          copy_run(runs[g * MR + i], run_bytes, buf + i * kc + g * run_bytes);
      pack_rows<false, false>(buf, kc, rows, kc, dst, nullptr);
      return;
    }
    auto* out = static_cast<std::uint16_t*>(dst);
    const indices x = load_indices();
    const __m512i zero = _mm512_setzero_si512();
    __m512i unused_any = zero, unused_total = zero;
    const std::size_t run_groups = (run_bytes + G - 1) / G;
    for (std::size_t g = 0; g < n_runs; ++g, out += run_groups * MR) {
      const std::uint8_t* const* row = runs + g * MR;
      for (std::size_t s = 0; s < run_groups; s += step_groups) {
        const std::size_t n = run_bytes - s * G < step_codes ? run_bytes - s * G : step_codes;
        __m512i r[MR];
        if (n == step_codes && rows == static_cast<std::size_t>(MR)) {
#pragma GCC unroll 8
          for (int i = 0; i < MR; ++i)
            r[i] = row_offsets<false, false, true>(row[i] + s * G, n, x, unused_any, unused_total);
        } else {
#pragma GCC unroll 8
          for (int i = 0; i < MR; ++i)
            r[i] = static_cast<std::size_t>(i) < rows
                       ? row_offsets<false, false, false>(row[i] + s * G, n, x, unused_any,
                                                          unused_total)
                       : zero;
        }
        store_transposed(r, run_groups - s < step_groups ? run_groups - s : step_groups, x,
                         out + s * MR);
      }
    }
  }

  // The longest K pack_runs gathers short runs into (MR rows of it on the stack).
  static constexpr std::size_t short_runs_max_k = 1024;

  // n < step_codes (<= 96) bytes from p to d, by masked vector moves.
  LOWBIT_TARGET_ACTSUM_PACK_VBMI static inline void copy_run(const std::uint8_t* p, std::size_t n,
                                                             std::uint8_t* d) noexcept {
    // Whole-vector stores (the next run or row overwrites what lies past n): masked ones would
    // keep the packer's loads from being forwarded these stores.
    const __mmask64 m0 = n >= 64 ? ~__mmask64{0} : (__mmask64{1} << n) - 1;
    _mm512_storeu_si512(d, _mm512_maskz_loadu_epi8(m0, p));
    if (n > 64) {
      const __mmask64 m1 = (__mmask64{1} << (n - 64)) - 1;
      _mm512_storeu_si512(d + 64, _mm512_maskz_loadu_epi8(m1, p + 64));
    }
  }

  // pack_a that returns whether any byte has a bit of `high` and adds each row's u-code sum to
  // sums[r] (exact when it returns false; sums == nullptr: validation only).
  LOWBIT_TARGET_ACTSUM_PACK_VBMI static bool pack_checked(const std::uint8_t* u, std::size_t ldu,
                                                          std::size_t rows, std::size_t kc,
                                                          void* dst, std::uint32_t* sums,
                                                          std::uint8_t high) noexcept {
    const __m512i any = sums != nullptr ? pack_rows<true, true>(u, ldu, rows, kc, dst, sums)
                                        : pack_rows<true, false>(u, ldu, rows, kc, dst, nullptr);
    return _mm512_test_epi8_mask(any, _mm512_set1_epi8(static_cast<char>(high))) != 0;
  }

 private:
  // Index vectors, as constant data (building them per call cost as much as a K step).
  struct index_data {
    alignas(64) std::uint8_t spread_lo[64];   // G = 3: bytes of groups 0-15 into 4-byte slots
    alignas(64) std::uint8_t spread_hi[64];   // ... groups 16-31
    alignas(64) std::uint16_t low_words[32];  // the low halves of 32 dwords of two vectors
    alignas(64) std::uint16_t w_lo[32],
        w_hi[32];  // stage 1: words of two rows, groups 0-15 / 16-31
    alignas(64) std::uint32_t d_lo[16],
        d_hi[16];                                // stage 2: dwords of two row pairs, 8 groups each
    alignas(64) std::uint64_t q_lo[8], q_hi[8];  // stage 3: qwords of two row quads, 4 groups each
  };
  static constexpr index_data make_index_data() noexcept {
    index_data d{};
    for (int i = 0; i < 64; ++i) {
      const int slot = i / 4, t = i % 4;  // byte t of group slot's four-byte slot
      d.spread_lo[i] = static_cast<std::uint8_t>(t < 3 ? 3 * slot + t : 0);
      d.spread_hi[i] = static_cast<std::uint8_t>(t < 3 ? 3 * (slot + 16) + t : 0);
    }
    for (int i = 0; i < 32; ++i) {
      d.low_words[i] = static_cast<std::uint16_t>(i < 16 ? 2 * i : 32 + 2 * (i - 16));
      // (a_g, b_g) pairs: a's word g at index g, b's at 32 + g.
      d.w_lo[i] = static_cast<std::uint16_t>((i & 1) * 32 + i / 2);
      d.w_hi[i] = static_cast<std::uint16_t>((i & 1) * 32 + 16 + i / 2);
    }
    for (int i = 0; i < 16; ++i) {
      d.d_lo[i] = static_cast<std::uint32_t>((i & 1) * 16 + i / 2);
      d.d_hi[i] = static_cast<std::uint32_t>((i & 1) * 16 + 8 + i / 2);
    }
    for (int i = 0; i < 8; ++i) {
      d.q_lo[i] = static_cast<std::uint64_t>((i & 1) * 8 + i / 2);
      d.q_hi[i] = static_cast<std::uint64_t>((i & 1) * 8 + 4 + i / 2);
    }
    return d;
  }
  static constexpr index_data index_table = make_index_data();

  struct indices {
    __m512i spread_lo, spread_hi, low_words, w_lo, w_hi, d_lo, d_hi, q_lo, q_hi;
  };
  LOWBIT_TARGET_ACTSUM_PACK_VBMI static inline indices load_indices() noexcept {
    const index_data& d = index_table;
    return {_mm512_load_si512(d.spread_lo), _mm512_load_si512(d.spread_hi),
            _mm512_load_si512(d.low_words), _mm512_load_si512(d.w_lo),
            _mm512_load_si512(d.w_hi),      _mm512_load_si512(d.d_lo),
            _mm512_load_si512(d.d_hi),      _mm512_load_si512(d.q_lo),
            _mm512_load_si512(d.q_hi)};
  }

  // Row p's 32 offsets (64 * code) of one step, reading `n` codes (Full: n = step_codes; else
  // the rest read as 0). Checked ORs the codes into any and adds their sum to total (codes of
  // AB <= 4 bits: two bytes add without overflow before psadbw).
  template <bool Checked, bool Sum, bool Full>
  LOWBIT_TARGET_ACTSUM_PACK_VBMI static inline __m512i row_offsets(const std::uint8_t* p,
                                                                   std::size_t n, const indices& x,
                                                                   __m512i& any,
                                                                   __m512i& total) noexcept {
    const __m512i zero = _mm512_setzero_si512();
    __m512i v0, v1 = zero;
    if constexpr (Full) {
      v0 = _mm512_loadu_si512(p);
      if (G == 3) v1 = _mm512_maskz_loadu_epi8(0xFFFFFFFFull, p + 64);  // 32 codes
    } else {
      const auto mask = [](std::size_t c) {
        return c >= 64 ? ~__mmask64{0} : (__mmask64{1} << c) - 1;
      };
      v0 = _mm512_maskz_loadu_epi8(mask(n), p);
      if (G == 3) v1 = _mm512_maskz_loadu_epi8(mask(n > 64 ? n - 64 : 0), p + 64);
    }
    if constexpr (Checked) any = _mm512_ternarylogic_epi64(any, v0, v1, 0xFE);
    if constexpr (Sum)
      total = _mm512_add_epi64(total, _mm512_sad_epu8(G == 3 ? _mm512_add_epi8(v0, v1) : v0, zero));
    if constexpr (G == 2) {
      // u0 + 2^AB u1 per byte pair (at most 255), then times 64.
      const __m512i c = _mm512_set1_epi16(static_cast<short>(((1 << AB) << 8) | 1));
      return _mm512_slli_epi16(_mm512_maddubs_epi16(v0, c), 6);
    } else {
      constexpr __mmask64 three = 0x7777777777777777ull;  // byte 3 of each slot: 0
      const __m512i c =
          _mm512_set1_epi32(static_cast<int>((1u << (2 * AB)) << 16 | (1u << AB) << 8 | 1u));
      const __m512i c64 = _mm512_set1_epi16(64);
      const __m512i lo = _mm512_madd_epi16(
          _mm512_maddubs_epi16(_mm512_maskz_permutex2var_epi8(three, v0, x.spread_lo, v1), c), c64);
      const __m512i hi = _mm512_madd_epi16(
          _mm512_maddubs_epi16(_mm512_maskz_permutex2var_epi8(three, v0, x.spread_hi, v1), c), c64);
      return _mm512_permutex2var_epi16(lo, x.low_words, hi);
    }
  }

  // Stores groups [0, n_groups) of one step (r[i] = row i's 32 offsets) in (group, row) order.
  LOWBIT_TARGET_ACTSUM_PACK_VBMI static inline void store_transposed(const __m512i* r,
                                                                     std::size_t n_groups,
                                                                     const indices& x,
                                                                     std::uint16_t* out) noexcept {
    // (Every loop unrolled: GCC 12 otherwise keeps p, q and the rows in memory.)
    __m512i p[4][2], q[2][4];
#pragma GCC unroll 4
    for (int j = 0; j < 4; ++j) {  // rows (2j, 2j + 1): groups 0-15, 16-31
      p[j][0] = _mm512_permutex2var_epi16(r[2 * j], x.w_lo, r[2 * j + 1]);
      p[j][1] = _mm512_permutex2var_epi16(r[2 * j], x.w_hi, r[2 * j + 1]);
    }
#pragma GCC unroll 2
    for (int h = 0; h < 2; ++h)  // rows 4h .. 4h + 3
#pragma GCC unroll 2
      for (int s = 0; s < 2; ++s) {  // groups 16s .. 16s + 15
        q[h][2 * s] = _mm512_permutex2var_epi32(p[2 * h][s], x.d_lo, p[2 * h + 1][s]);
        q[h][2 * s + 1] = _mm512_permutex2var_epi32(p[2 * h][s], x.d_hi, p[2 * h + 1][s]);
      }
#pragma GCC unroll 4
    for (int e = 0; e < 4; ++e)  // groups 8e .. 8e + 7
#pragma GCC unroll 2
      for (int f = 0; f < 2; ++f) {
        const __m512i o =
            _mm512_permutex2var_epi64(q[0][e], f ? x.q_hi : x.q_lo, q[1][e]);  // 4 groups
        const std::size_t g0 = 8 * static_cast<std::size_t>(e) + 4 * static_cast<std::size_t>(f);
        std::uint16_t* dst = out + g0 * MR;
        if (g0 + 4 <= n_groups) {
          _mm512_storeu_si512(dst, o);
        } else if (g0 < n_groups) {
          const std::size_t words = (n_groups - g0) * MR;  // 8, 16 or 24 of the 32
          _mm512_mask_storeu_epi16(dst, static_cast<__mmask32>((1u << words) - 1), o);
        }
      }
  }

  // The loop of both: whole steps of 32 groups of all MR rows (fully unrolled, no masks), then
  // the K tail, or every step of a block's last rows, as masked steps.
  template <bool Checked, bool Sum>
  LOWBIT_TARGET_ACTSUM_PACK_VBMI static inline __m512i pack_rows(const std::uint8_t* u,
                                                                 std::size_t ldu, std::size_t rows,
                                                                 std::size_t kc, void* dst,
                                                                 std::uint32_t* sums) noexcept {
    auto* out = static_cast<std::uint16_t*>(dst);
    const indices x = load_indices();
    const __m512i zero = _mm512_setzero_si512();
    __m512i any = zero, total[MR];
#pragma GCC unroll 8
    for (int i = 0; i < MR; ++i) total[i] = zero;
    const std::size_t ng = Cell::groups(kc);
    const std::size_t full = rows == static_cast<std::size_t>(MR) ? kc / step_codes : 0;
    std::size_t g = 0;
    for (std::size_t s = 0; s < full; ++s, g += step_groups, out += step_groups * MR) {
      __m512i r[MR];
#pragma GCC unroll 8
      for (int i = 0; i < MR; ++i)
        r[i] = row_offsets<Checked, Sum, true>(u + static_cast<std::size_t>(i) * ldu + g * G,
                                               step_codes, x, any, total[i]);
      store_transposed(r, step_groups, x, out);
    }
    for (; g < ng; g += step_groups, out += step_groups * MR) {
      const std::size_t k0 = g * G;
      const std::size_t n = kc - k0 < step_codes ? kc - k0 : step_codes;
      __m512i r[MR];
#pragma GCC unroll 8
      for (int i = 0; i < MR; ++i)
        r[i] = static_cast<std::size_t>(i) < rows
                   ? row_offsets<Checked, Sum, false>(u + static_cast<std::size_t>(i) * ldu + k0, n,
                                                      x, any, total[i])
                   : zero;  // padding rows: code 0, the zero table
      store_transposed(r, ng - g < step_groups ? ng - g : step_groups, x, out);
    }
    if constexpr (Sum)
      for (std::size_t i = 0; i < rows; ++i) {
        // (by hand: _mm512_reduce_add_epi64 trips GCC 12's -Wuninitialized)
        alignas(64) std::uint64_t lanes[8];
        _mm512_store_si512(lanes, total[i]);
        std::uint64_t t = 0;
        for (std::uint64_t l : lanes) t += l;
        sums[i] += static_cast<std::uint32_t>(t);
      }
    return any;
  }
};

}  // namespace lut
}  // namespace kernels
}  // namespace lowbit

#undef LOWBIT_TARGET_ACTSUM_PACK_VBMI

#endif  // __x86_64__
