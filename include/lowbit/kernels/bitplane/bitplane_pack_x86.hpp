// lowbit: the bit-transposing packer shared by the x86 bitplane kernels.
//
// Panel layout, for R rows, P planes and KB-bit K blocks (KB = 512 or 256):
//   panel[plane p][K block b][row r][KB / 8 bytes]
// where bit (k mod KB) of block b, read as one little-endian KB-bit string, is bit p of the
// u-code at k = b * KB + (k mod KB). A kernel walks one plane of all K blocks contiguously, and
// one block of one plane of all R rows is R consecutive vectors. Rows >= rows and k >= kc are 0,
// so padding ANDs to nothing.
#pragma once

#if defined(__x86_64__)

#include <immintrin.h>

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace lowbit {
namespace kernels {
namespace bitplane {

template <int R, int P, int KB>
struct bitplane_pack_x86 {
  static_assert(KB % 64 == 0, "K blocks are whole 64-bit words");

  static std::size_t blocks(std::size_t kc) noexcept { return (kc + KB - 1) / KB; }

  static std::size_t panel_bytes(std::size_t kc) noexcept {
    return std::size_t{P} * blocks(kc) * R * (KB / 8);
  }

  // SSE2 is the x86-64 baseline, so this runs without dispatch: a left shift by 7 - p moves
  // bit p of every byte to its sign bit and pmovmskb gathers 16 of them at once.
  static void pack(const std::uint8_t* u, std::size_t ldu, std::size_t rows, std::size_t kc,
                   void* dst) noexcept {
    auto* out = static_cast<std::uint8_t*>(dst);
    const std::size_t nkb = blocks(kc);
    std::memset(out, 0, panel_bytes(kc));
    for (std::size_t r = 0; r < rows; ++r) {
      const std::uint8_t* src = u + r * ldu;
      for (std::size_t k0 = 0; k0 < kc; k0 += 16) {
        __m128i v;
        if (k0 + 16 <= kc) {
          v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + k0));
        } else {
          alignas(16) std::uint8_t tail[16] = {};
          std::memcpy(tail, src + k0, kc - k0);
          v = _mm_load_si128(reinterpret_cast<const __m128i*>(tail));
        }
        const std::size_t b = k0 / KB, off = (k0 % KB) / 8;
        for (int p = 0; p < P; ++p) {
          const auto bits = static_cast<std::uint16_t>(
              _mm_movemask_epi8(_mm_sll_epi16(v, _mm_cvtsi32_si128(7 - p))));
          std::uint8_t* o = out + ((p * nkb + b) * R + r) * (KB / 8) + off;
          o[0] = static_cast<std::uint8_t>(bits);
          o[1] = static_cast<std::uint8_t>(bits >> 8);
        }
      }
    }
  }
};

// The same layout on AVX-512BW (used by the AVX-512 kernels, whose features include BW):
// vptestmb gathers bit p of 64 codes into one 64-bit mask, i.e. one whole plane word, so a row
// costs one load and P mask ops per 64 codes instead of P shifts and movemasks per 16. This is
// the activation packer of every call: at N = 64 the SSE2 one took longer than the kernel.
template <int R, int P, int KB>
struct bitplane_pack_avx512 : bitplane_pack_x86<R, P, KB> {
  using base = bitplane_pack_x86<R, P, KB>;

  // Zeroes what no row word covers: rows >= rows, and the words of the last block past kc (a
  // row's words up to kc are all written by the packers).
  static void pack_pad(std::size_t rows, std::size_t kc, void* dst) noexcept {
    auto* out = static_cast<std::uint8_t*>(dst);
    const std::size_t nkb = base::blocks(kc);
    const std::size_t words = nkb * (KB / 64), used = (kc + 63) / 64;
    for (int p = 0; p < P; ++p)
      for (std::size_t b = 0; b < nkb; ++b) {
        std::uint8_t* blk = out + (p * nkb + b) * R * (KB / 8);
        if (rows < R) std::memset(blk + rows * (KB / 8), 0, (R - rows) * (KB / 8));
        if (b + 1 == nkb && used < words)
          for (std::size_t r = 0; r < rows; ++r)
            std::memset(blk + r * (KB / 8) + (used - b * (KB / 64)) * 8, 0, (words - used) * 8);
      }
  }

  __attribute__((target("avx2,bmi2,popcnt,avx512f,avx512bw"))) static void pack(
      const std::uint8_t* u, std::size_t ldu, std::size_t rows, std::size_t kc,
      void* dst) noexcept {
    pack_rows<false>(u, ldu, rows, kc, dst, nullptr);
  }

  // pack() that also validates and sums what it reads (ukernel_desc::pack_a_checked): the GEMM
  // driver otherwise reads every u-code byte once more before packing, to validate it and take
  // the row sums the epilogue needs (a tenth of w1a1 3136 x 64 x 576). Returns whether any byte
  // has a bit of `high`; adds sum_p 2^p popcount(plane p) to sums[r], row r's u-code sum when no
  // byte has a bit at or above P (bits above P are a high bit of every format packed here).
  __attribute__((target("avx2,bmi2,popcnt,avx512f,avx512bw"))) static bool pack_checked(
      const std::uint8_t* u, std::size_t ldu, std::size_t rows, std::size_t kc, void* dst,
      std::uint32_t* sums, std::uint8_t high) noexcept {
    const __m512i any = pack_rows<true>(u, ldu, rows, kc, dst, sums);
    return _mm512_test_epi8_mask(any, _mm512_set1_epi8(static_cast<char>(high))) != 0;
  }

 private:
  // The row loop of both: one load (unmasked but for the tail) and P vptestmb per 64 codes;
  // Checked adds the plane words' popcounts to sums[r] and returns the OR of every byte read.
  template <bool Checked>
  __attribute__((target("avx2,bmi2,popcnt,avx512f,avx512bw"), always_inline)) static inline __m512i
  pack_rows(const std::uint8_t* u, std::size_t ldu, std::size_t rows, std::size_t kc, void* dst,
            std::uint32_t* sums) noexcept {
    pack_pad(rows, kc, dst);
    auto* out = static_cast<std::uint8_t*>(dst);
    const std::size_t nkb = base::blocks(kc), full = kc / 64 * 64;
    __m512i any = _mm512_setzero_si512();
    for (std::size_t r = 0; r < rows; ++r) {
      const std::uint8_t* src = u + r * ldu;
      std::uint64_t count[P] = {};
      std::size_t k0 = 0;
      for (; k0 < full; k0 += 64)
        any = chunk<Checked>(_mm512_loadu_si512(src + k0), any, out, nkb, r, k0, count);
      if (k0 < kc)
        any = chunk<Checked>(_mm512_maskz_loadu_epi8((__mmask64{1} << (kc - k0)) - 1, src + k0),
                             any, out, nkb, r, k0, count);
      if (Checked && sums != nullptr) {  // (nullptr: validation only)
        std::uint64_t sum = 0;
        for (int p = 0; p < P; ++p) sum += count[p] << p;
        sums[r] += static_cast<std::uint32_t>(sum);
      }
    }
    return any;
  }

  // One 64-code chunk of row r at k0: its P plane words (and, Checked, their popcounts and
  // any | v).
  template <bool Checked>
  __attribute__((target("avx2,bmi2,popcnt,avx512f,avx512bw"), always_inline)) static inline __m512i
  chunk(__m512i v, __m512i any, std::uint8_t* out, std::size_t nkb, std::size_t r, std::size_t k0,
        std::uint64_t* count) noexcept {
    const std::size_t b = k0 / KB, off = (k0 % KB) / 8;
    for (int p = 0; p < P; ++p) {
      const std::uint64_t bits =
          _mm512_test_epi8_mask(v, _mm512_set1_epi8(static_cast<char>(1 << p)));
      std::memcpy(out + ((p * nkb + b) * R + r) * (KB / 8) + off, &bits, 8);
      if constexpr (Checked) count[p] += static_cast<std::uint64_t>(_mm_popcnt_u64(bits));
    }
    if constexpr (Checked) return _mm512_or_si512(any, v);
    return any;
  }
};

// Rows whose K is n_runs runs of run_bytes <= 64 codes, run g of row r at runs[g * R + r]
// anywhere in memory (conv2d's window rows: a first layer's 7 pixels x 3 channels), packed
// straight into the panel: per run one masked load and P vptestmb, shifted into place, so no
// im2col row is written and read again. kc = n_runs * run_bytes <= max_run_kc.
template <int R, int P, int KB>
struct bitplane_pack_runs_avx512 : bitplane_pack_avx512<R, P, KB> {
  using base = bitplane_pack_avx512<R, P, KB>;
  static constexpr std::size_t max_run_kc = 1024;
  // pack_runs' limits (copied_code_runs in ukernel.hpp); its cost on window rows is
  // unmeasured, so dispatch charges it as an im2col copy.
  static constexpr std::uint32_t runs_max_bytes = 64, runs_max_k = max_run_kc;
  static constexpr std::uint16_t runs_multiple = 1;
  static constexpr float runs_cycles = 0.0f;

  __attribute__((target("avx2,bmi2,avx512f,avx512bw"))) static void pack_runs(
      const std::uint8_t* const* runs, std::size_t n_runs, std::size_t run_bytes, std::size_t rows,
      void* dst) noexcept {
    const std::size_t kc = n_runs * run_bytes, nkb = base::blocks(kc);
    constexpr std::size_t wpb = KB / 64;  // words per K block
    const std::size_t words = nkb * wpb;
    auto* out = static_cast<std::uint64_t*>(dst);
    if (rows < R) std::memset(out, 0, base::panel_bytes(kc));  // rows >= rows are zero
    const __mmask64 live = run_bytes >= 64 ? ~__mmask64{0} : (__mmask64{1} << run_bytes) - 1;
    const __m512i bit[8] = {_mm512_set1_epi8(1),  _mm512_set1_epi8(2),
                            _mm512_set1_epi8(4),  _mm512_set1_epi8(8),
                            _mm512_set1_epi8(16), _mm512_set1_epi8(32),
                            _mm512_set1_epi8(64), _mm512_set1_epi8(static_cast<char>(-128))};
    for (std::size_t r = 0; r < rows; ++r) {
      // A bit stream per plane: runs append at `fill`, whole words go out as they complete
      // (registers only: the runs of one word would otherwise chain through memory).
      std::uint64_t cur[P], m[P];
      std::size_t fill = 0, x = 0;
      const auto emit = [&](int p, std::uint64_t v) {
        out[((static_cast<std::size_t>(p) * nkb + x / wpb) * R + r) * wpb + x % wpb] = v;
      };
#pragma GCC unroll 8
      for (int p = 0; p < P; ++p) cur[p] = 0;
      for (std::size_t g = 0; g < n_runs; ++g) {
        const __m512i v = _mm512_maskz_loadu_epi8(live, runs[g * R + r]);
#pragma GCC unroll 8
        for (int p = 0; p < P; ++p) {
          m[p] = _mm512_test_epi8_mask(v, bit[p]);
          cur[p] |= m[p] << fill;
        }
        if (fill + run_bytes >= 64) {
#pragma GCC unroll 8
          for (int p = 0; p < P; ++p) {
            emit(p, cur[p]);
            cur[p] = fill == 0 ? 0 : m[p] >> (64 - fill);
          }
          ++x;
          fill = fill + run_bytes - 64;
        } else {
          fill += run_bytes;
        }
      }
      if (fill != 0) {
#pragma GCC unroll 8
        for (int p = 0; p < P; ++p) emit(p, cur[p]);
        ++x;
      }
      for (; x < words; ++x)
#pragma GCC unroll 8
        for (int p = 0; p < P; ++p) emit(p, 0);
    }
  }
};

// W panels at offset 2^(P-1) in two's complement: u - 2^(P-1) differs from u only in the top
// bit, so this is the plain panel with its top plane inverted, padding included (padding is
// u = 0, stored as -2^(P-1): top bit set).
template <int R, int P, int KB>
struct bitplane_pack_signed_w : bitplane_pack_avx512<R, P, KB> {
  using base = bitplane_pack_avx512<R, P, KB>;
  static void pack(const std::uint8_t* u, std::size_t ldu, std::size_t rows, std::size_t kc,
                   void* dst) noexcept {
    base::pack(u, ldu, rows, kc, dst);
    const std::size_t plane_bytes = base::blocks(kc) * R * (KB / 8);
    auto* top = static_cast<std::uint8_t*>(dst) + (P - 1) * plane_bytes;
    for (std::size_t i = 0; i < plane_bytes; i += 8) {
      std::uint64_t v;
      std::memcpy(&v, top + i, 8);
      v = ~v;
      std::memcpy(top + i, &v, 8);
    }
  }
};

}  // namespace bitplane
}  // namespace kernels
}  // namespace lowbit

#endif  // __x86_64__
