// lowbit: packers shared by the x86 int8 dot-product kernels.
//
// k4 layout (vpdpbusd, vpmaddubsw): panel[k / 4][row r][k % 4], one byte per u-code, stored as
// u - OFF (OFF = 128 turns 8-bit weight u-codes into int8, OFF = 64 keeps 7-bit ones in
// [-64, 63]). A kernel broadcasts the 4 bytes of one A row and multiplies them with a vector of
// 4-byte groups, one group per W row. Padding (rows >= rows, k >= kc) is u = 0, i.e. -OFF.
//
// k2 int16 layout (vpmaddwd, the exact 8 x 8-bit path): panel[k / 2][row r][k % 2] as int16.
#pragma once

#if defined(__x86_64__)

#include <emmintrin.h>

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "lowbit/kernels/ukernel.hpp"

namespace lowbit {
namespace kernels {
namespace dot {

template <int R, int OFF>
struct dot_pack_k4 {
  static std::size_t panel_bytes(std::size_t kc) noexcept { return (kc + 3) / 4 * 4 * R; }

  static void pack(const std::uint8_t* u, std::size_t ldu, std::size_t rows, std::size_t kc,
                   void* dst) noexcept {
    pack_at(u, ldu, rows, kc, dst, OFF);
  }
  // The same with a run-time offset (for kernels that let pack_weights choose it).
  static void pack_at(const std::uint8_t* u, std::size_t ldu, std::size_t rows, std::size_t kc,
                      void* dst, int off_value) noexcept {
    auto* out = static_cast<std::uint8_t*>(dst);
    const auto pad = static_cast<std::uint8_t>(-off_value);
    std::memset(out, pad, panel_bytes(kc));
    // Activations are packed on every call, so the bulk goes 16 k at a time through a 4 x 4
    // transpose of 4-byte groups (SSE2, the x86-64 baseline); edges go one byte at a time.
    const std::size_t full_rows = rows / 4 * 4, k16 = kc / 16 * 16;
    const __m128i off = _mm_set1_epi8(static_cast<char>(off_value));
    for (std::size_t r = 0; r < full_rows; r += 4) {
      const std::uint8_t* s0 = u + r * ldu;
      for (std::size_t k = 0; k < k16; k += 16) {
        const __m128i a =
            _mm_sub_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(s0 + k)), off);
        const __m128i b =
            _mm_sub_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(s0 + ldu + k)), off);
        const __m128i c =
            _mm_sub_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(s0 + 2 * ldu + k)), off);
        const __m128i d =
            _mm_sub_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(s0 + 3 * ldu + k)), off);
        const __m128i ab_lo = _mm_unpacklo_epi32(a, b), ab_hi = _mm_unpackhi_epi32(a, b);
        const __m128i cd_lo = _mm_unpacklo_epi32(c, d), cd_hi = _mm_unpackhi_epi32(c, d);
        std::uint8_t* o = out + (k / 4) * 4 * R + r * 4;
        _mm_storeu_si128(reinterpret_cast<__m128i*>(o), _mm_unpacklo_epi64(ab_lo, cd_lo));
        _mm_storeu_si128(reinterpret_cast<__m128i*>(o + 4 * R), _mm_unpackhi_epi64(ab_lo, cd_lo));
        _mm_storeu_si128(reinterpret_cast<__m128i*>(o + 8 * R), _mm_unpacklo_epi64(ab_hi, cd_hi));
        _mm_storeu_si128(reinterpret_cast<__m128i*>(o + 12 * R), _mm_unpackhi_epi64(ab_hi, cd_hi));
      }
    }
    for (std::size_t r = 0; r < rows; ++r) {
      const std::uint8_t* src = u + r * ldu;
      for (std::size_t k = r < full_rows ? k16 : 0; k < kc; ++k)
        out[(k / 4) * 4 * R + r * 4 + k % 4] = static_cast<std::uint8_t>(src[k] - off_value);
    }
  }
};

// Row layout by reference (activations of the AVX-512 VNNI kernel, unsigned u8 as they are).
// The panel starts with a header {first row, row stride}; the kernel broadcasts the 4 bytes of row
// r at rows + r * stride + k. When the block is whole (rows == R) and kc is a multiple of 4 the
// header points at the caller's u-code rows themselves and nothing is copied: the driver keeps
// those rows alive and unchanged while it uses the panel (the packer contract, ukernel.hpp). At
// edges the rows are copied after the header, zero-padded to kp = kc rounded up to 4 and to R
// rows. Either way A is read straight from the rows the pre-pass has just validated.
//
// Segmented panels (an indirect A, ukernel.hpp's a_run_table of codes: conv2d's window rows): K
// is n_segments runs of seg_bytes (a multiple of 4), and run g of row r starts at segments[g * R
// + r], anywhere (a window row of the input, or a copied row at an image border). The table lives
// in the panel after the header; see from_runs.
template <int R>
struct dot_pack_rows_ref {
  struct header {
    const std::uint8_t* rows;
    std::size_t stride;
    const std::uint8_t* const* segments;  // nullptr: plain rows
    std::size_t n_segments;
    std::size_t seg_bytes;
  };
  static constexpr std::size_t header_bytes = 64;  // keeps copied rows cache-line aligned
  static_assert(sizeof(header) <= header_bytes, "the header must fit its slot");

  static bool segmented(const void* panel) noexcept {
    const std::uint8_t* const* t;
    std::memcpy(&t, static_cast<const std::uint8_t*>(panel) + offsetof(header, segments), sizeof t);
    return t != nullptr;
  }
  // Makes dst a segmented panel from a table of runs of codes (a_runs_contract::make), the
  // table after the header (copied there unless the source wrote it in place). Fits the panel
  // when the runs are at least 8 bytes each.
  static void from_runs(const a_run_table& t, std::size_t, void* dst) noexcept {
    auto* out = static_cast<std::uint8_t*>(dst);
    auto** table = reinterpret_cast<const std::uint8_t**>(out + header_bytes);
    const header h{nullptr, 0, table, t.n_runs, t.len};
    std::memcpy(out, &h, sizeof h);
    if (t.slot != table) std::memcpy(table, t.slot, t.n_runs * R * sizeof *table);
  }
  // The contract: runs of codes of whole 4-byte steps, at least 8 bytes (the table fits the
  // panel), read in place.
  static constexpr a_runs_contract runs_contract() noexcept {
    a_runs_contract c;
    c.kinds = c.kept = static_cast<std::uint8_t>(a_run_kind::codes);
    c.min_len = 8;
    c.len_multiple = 4;
    c.make = &from_runs;
    c.table_offset = header_bytes;
    return c;
  }

  static std::size_t panel_bytes(std::size_t kc) noexcept {
    return header_bytes + (kc + 3) / 4 * 4 * R;
  }

  static void pack(const std::uint8_t* u, std::size_t ldu, std::size_t rows, std::size_t kc,
                   void* dst) noexcept {
    auto* out = static_cast<std::uint8_t*>(dst);
    header h{u, ldu, nullptr, 0, 0};
    if (rows != R || kc % 4 != 0) {
      const std::size_t kp = (kc + 3) / 4 * 4;
      std::uint8_t* copy = out + header_bytes;
      for (std::size_t r = 0; r < rows; ++r) {
        std::memcpy(copy + r * kp, u + r * ldu, kc);
        std::memset(copy + r * kp + kc, 0, kp - kc);
      }
      if (rows < R) std::memset(copy + rows * kp, 0, (R - rows) * kp);
      h = header{copy, kp, nullptr, 0, 0};
    }
    std::memcpy(out, &h, sizeof h);
  }
};

template <int R>
struct dot_pack_k2_i16 {
  static std::size_t panel_bytes(std::size_t kc) noexcept { return (kc + 1) / 2 * 2 * R * 2; }

  static void pack(const std::uint8_t* u, std::size_t ldu, std::size_t rows, std::size_t kc,
                   void* dst) noexcept {
    auto* out = static_cast<std::int16_t*>(dst);
    std::memset(out, 0, panel_bytes(kc));
    for (std::size_t r = 0; r < rows; ++r) {
      const std::uint8_t* src = u + r * ldu;
      for (std::size_t k = 0; k < kc; ++k) out[(k / 2) * 2 * R + r * 2 + k % 2] = src[k];
    }
  }
};

// Largest |stored weight| and the weight offset a u8 x s8 pairwise product (vpmaddubsw) needs:
// 8-bit u-codes are stored as u - 128; 7-bit ones as u - 64 when activations have 8 bits (else
// the pair sum 2 * 255 * 127 would saturate int16); narrower ones as they are.
constexpr int dot_w_offset(int wb, int ab) noexcept {
  return wb == 8 ? 128 : (wb == 7 && ab == 8 ? 64 : 0);
}
constexpr int dot_w_abs_max(int wb, int ab) noexcept {
  return dot_w_offset(wb, ab) > (1 << wb) - 1 - dot_w_offset(wb, ab)
             ? dot_w_offset(wb, ab)
             : (1 << wb) - 1 - dot_w_offset(wb, ab);
}
// Largest |a0 * w0 + a1 * w1| of one vpmaddubsw int16 lane.
constexpr int dot_pair_max(int wb, int ab) noexcept {
  return 2 * ((1 << ab) - 1) * dot_w_abs_max(wb, ab);
}

}  // namespace dot
}  // namespace kernels
}  // namespace lowbit

#endif  // __x86_64__
