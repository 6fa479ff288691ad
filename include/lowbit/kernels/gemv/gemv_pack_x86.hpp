// lowbit: packers of the x86 small-M kernels (GEMV and batch <= 8), which keep weights bit-dense.
//
// Weight panel (B-bit codes, G = 8 / B codes per byte, NV groups of 16 columns, NR = 16 NV):
// K is cut into blocks of 4Q values (Q = max(1, G / NV)); one block is C = NV Q / G "chunks"
// of 64 bytes laid out as vpdpbusd reads them: byte 4 l + kk of a chunk holds, in bit slot s
// (bits [B s, B s + B)), the code of column 16 cg + l at k = 4 q + kk of the block, where
// p = c G + s, q = p / NV, cg = p % NV. So the kernel gets the 16-column x 4-k vector of slot s
// with one AND (plus one shift per extra k group q when G > NV), never widening the codes in
// memory: a 2-bit matrix streams 4x fewer bytes than the one-byte-per-code dot kernels'.
//
// Activation panel: [k / 4][row][k % 4] as int8 u - 128 (dot_pack_k4 with OFF = 128), padded with
// u = 0 (-128) to the kernel's K step: the weights take vpdpbusd's unsigned operand (masked,
// still shifted left by B (cg % min(G, NV)) bits), the activations its signed one.
#pragma once

#if defined(__x86_64__)

#include <immintrin.h>

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "lowbit/isa.hpp"
#include "lowbit/kernels/dot/dot_pack_x86.hpp"

namespace lowbit {
namespace kernels {
namespace gemv {

// Geometry shared by the packer and the kernel (U: blocks per kernel step, for more accumulators).
template <int B, int NV, int U>
struct gemv_layout {
  static_assert(B == 1 || B == 2 || B == 4, "codes must tile a byte");
  static constexpr int bits = B, groups = NV, unroll = U;
  static constexpr int G = 8 / B;                // codes per byte
  static constexpr int Q = G > NV ? G / NV : 1;  // 4-k groups per block
  static constexpr int C = NV * Q / G;           // 64-byte chunks per block
  static constexpr int NR = 16 * NV;
  static constexpr int block_k = 4 * Q;
  static constexpr int k_step = block_k * U;
  static constexpr int slot_groups = G < NV ? G : NV;  // distinct masks (and scales) per chunk
  static_assert(C >= 1 && NV * Q == C * G, "layout must tile");
};

template <class L>
struct gemv_pack_w {
  static std::size_t panel_bytes(std::size_t kc) noexcept {
    return (kc + L::k_step - 1) / L::k_step * L::unroll * L::C * 64;
  }

  static void pack(const std::uint8_t* u, std::size_t ldu, std::size_t rows, std::size_t kc,
                   void* dst) noexcept {
    auto* out = static_cast<std::uint8_t*>(dst);
    std::memset(out, 0, panel_bytes(kc));  // padding rows and k are u = 0
    constexpr int B = L::bits, G = L::G, NV = L::groups;
    for (std::size_t r = 0; r < rows; ++r) {
      const std::size_t cg = r / 16, l = r % 16;
      const std::uint8_t* src = u + r * ldu;
      for (std::size_t k = 0; k < kc; ++k) {
        const std::size_t blk = k / L::block_k, q = (k % L::block_k) / 4, kk = k % 4;
        const std::size_t p = q * NV + cg;  // pair index of (q, cg)
        const std::size_t c = p / G, s = p % G;
        out[(blk * L::C + c) * 64 + 4 * l + kk] |= static_cast<std::uint8_t>(src[k] << (B * s));
      }
    }
  }
};

// Activations: the dot family's k4 packer (u - 128), with the panel padded to the K step.
template <int MR, int KS>
struct gemv_pack_a {
  static std::size_t panel_bytes(std::size_t kc) noexcept { return (kc + KS - 1) / KS * KS * MR; }
  static void pack(const std::uint8_t* u, std::size_t ldu, std::size_t rows, std::size_t kc,
                   void* dst) noexcept {
    std::memset(dst, 0x80, panel_bytes(kc));
    dot::dot_pack_k4<MR, 128>::pack(u, ldu, rows, kc, dst);
  }
};

// Large M from a bit-dense layout (a default packing stores only that one, docs/gemv.md): the
// driver unpacks each weight panel per call, just before its row tiles use it, into the k4
// layout of the int8 dot kernels' 32-row panels (dot_pack_k4<32, *>), stored as u - w_offset.
// With NV = 2 (32 columns, the dot kernels' NR) slot s of a chunk is the 16-column x 4-k piece
// at k4 group s / 2, column half s % 2, so chunk c unpacks into the k4 panel's 64-byte pieces
// c G .. c G + G - 1 in order: a shift, an AND and a subtraction per 64 bytes written.
// Unpacks one K block's panel (kc values a row) of a bit-dense layout into dst.
using unpack_fn = void (*)(const void* src, std::size_t kc, void* dst, int w_offset);

template <class L>
struct gemv_unpack_k4 {
  static_assert(L::groups == 2, "the pieces follow k4 order only with 32-column panels");

  __attribute__((target(LOWBIT_X86_TARGET_AVX512))) static void unpack(const void* src,
                                                                       std::size_t kc, void* dst,
                                                                       int w_offset) noexcept {
    constexpr int B = L::bits, G = L::G;
    const std::size_t pieces = (kc + 3) / 4 * 2;  // 64-byte pieces of the k4 panel
    const auto* in = static_cast<const std::uint8_t*>(src);
    auto* out = static_cast<std::uint8_t*>(dst);
    const __m512i mask = _mm512_set1_epi8(static_cast<char>((1 << B) - 1));
    const __m512i off = _mm512_set1_epi8(static_cast<char>(w_offset));
    for (std::size_t p = 0; p < pieces; p += G, in += 64) {
      const __m512i v = _mm512_loadu_si512(in);
      const int last = pieces - p < G ? static_cast<int>(pieces - p) : G;
#pragma GCC unroll 8
      for (int s = 0; s < last; ++s) {
        // 16-bit shifts: bits crossing from the next byte are masked off.
        const __m512i x = s == 0 ? v : _mm512_maskz_srli_epi16(~__mmask32{0}, v, B * s);
        _mm512_storeu_si512(out + (p + s) * 64, _mm512_sub_epi8(_mm512_and_si512(x, mask), off));
      }
    }
  }
};

}  // namespace gemv
}  // namespace kernels
}  // namespace lowbit

#endif  // __x86_64__
