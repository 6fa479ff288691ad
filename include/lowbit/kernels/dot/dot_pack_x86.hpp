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

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace lowbit {
namespace kernels {
namespace dot {

template <int R, int OFF>
struct dot_pack_k4 {
  static std::size_t panel_bytes(std::size_t kc) noexcept { return (kc + 3) / 4 * 4 * R; }

  static void pack(const std::uint8_t* u, std::size_t ldu, std::size_t rows, std::size_t kc,
                   void* dst) noexcept {
    auto* out = static_cast<std::uint8_t*>(dst);
    const auto pad = static_cast<std::uint8_t>(-OFF);
    std::memset(out, pad, panel_bytes(kc));
    for (std::size_t r = 0; r < rows; ++r) {
      const std::uint8_t* src = u + r * ldu;
      for (std::size_t k = 0; k < kc; ++k)
        out[(k / 4) * 4 * R + r * 4 + k % 4] = static_cast<std::uint8_t>(src[k] - OFF);
    }
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
