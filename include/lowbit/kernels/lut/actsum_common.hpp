// lowbit: activation-sum lookup tables, the ISA-independent part (cell geometry, table banks,
// packers). The x86 kernels (lut_actsum_<isa>.hpp) read what these packers write.
//
// The idea (T-MAC's): for one activation row and a group of G consecutive k, the table
//     T[x] = sum_{t < G} a[k + t] * digit_t(x)        (x = G weight digits of DW bits each)
// turns one byte lookup into G multiply-adds, and one table serves every column of the tile.
// Tables depend only on the G activation codes, so with few activation bits there are only a
// few distinct tables: they are precomputed once into a static bank and "building" the table of
// a (row, group) is computing its activation code. The packed A panel holds, per (group, row),
// the byte offset of its table in the bank (2 bytes instead of a 16- or 64-byte table), so the A
// block stays tiny and the bank (at most 32 KiB, usually 0.25-4 KiB) stays in L1.
//
// How tables scale with bits:
// - index bits: G * DW = 4 (pshufb, 16 entries) or 6 (vpermb, 64 entries);
// - weights wider than one digit are split into NDW = 2 digits of DW bits stored in adjacent bytes
//   of the index vector; both digits use the same table, and the two byte sums are combined as
//   lo + 2^DW * hi by one pmaddubsw when the byte accumulators are widened (w4a2 = two w2a2
//   lookups per column with no extra table);
// - when 2^(G * AB) tables are too many for one bank, the group is split into chunks of CK k
//   whose tables are added (T = bank0[code0] + bank1[code1]); the kernel does that add once per
//   (row, group) and reuses the sum for all NR columns;
// - entries must fit a byte: G * (2^DW - 1) * (2^AB - 1) <= 255.
//
// Accumulators. Lookups are added into unsigned byte lanes, F = floor(255 / max entry) of them
// before the bytes are widened into 16-bit lanes. With one digit per column (NDW = 1) the byte
// lanes are columns, and widening uses two u16 sums per pair of byte lanes: X += acc (as u16:
// even + 256 * odd) and Y += acc >> 8 (odd); at the end even = X - 256 * Y (mod 2^16), odd = Y.
// With NDW = 2, Z += pmaddubsw(acc, [1, 2^DW]) is the column's sum directly. 16-bit lanes are
// exact while a column's total fits: kc * (2^WB - 1) * (2^AB - 1) <= 65535, which is kc_max
// (rounded down to a multiple of G); they are widened to int32 once, when the tile is stored.
//
// Column order. An index vector of V bytes holds V columns (NDW = 1; byte 2p is column p and
// byte 2p + 1 is column V/2 + p, so X and Y hold columns in order) or V/2 columns (NDW = 2; bytes
// 2p, 2p + 1 are the low and high digit of column p).
#pragma once

#include <cstddef>
#include <cstdint>

namespace lowbit {
namespace kernels {
namespace lut {

// One activation-sum cell: WB-bit weights as NDW digits of DW bits, AB-bit activations, G k per
// group (index bits G * DW), bank chunks of CK k.
template <int WB, int AB, int G, int DW, int NDW, int CK>
struct actsum_cell {
  static_assert(NDW == 1 || NDW == 2, "one or two weight digits");
  static_assert(DW * NDW >= WB, "the digits cover the weight bits");
  static_assert(G * DW == 4 || G * DW == 6, "16- or 64-entry tables");
  static_assert(CK >= 1 && CK <= G && CK * AB <= 8, "at most 256 tables per chunk");
  static constexpr int w_bits = WB, a_bits = AB, k_group = G, digit_bits = DW, digits = NDW;
  static constexpr int table_bytes = 1 << (G * DW);
  static constexpr int chunks = (G + CK - 1) / CK;
  static constexpr int chunk_k = CK;
  static constexpr unsigned amax = (1u << AB) - 1, wmax = (1u << WB) - 1;
  static constexpr unsigned dmax = (1u << DW) - 1 < wmax ? (1u << DW) - 1 : wmax;
  static constexpr unsigned entry_max = G * dmax * amax;
  static_assert(entry_max <= 255, "table entries fit a byte");
  // Lookups added into a byte lane before it is widened: F * entry_max <= 255.
  static constexpr int flush_every = static_cast<int>(255 / entry_max);
  // 16-bit column sums: kc * wmax * amax <= 65535 (see the file comment).
  static constexpr std::uint32_t kc_max = 65535u / (wmax * amax) / G * G;
  static constexpr std::size_t chunk_stride = std::size_t{table_bytes} << (CK * AB);
  static constexpr std::size_t bank_bytes = chunks * chunk_stride;
  static_assert(bank_bytes <= 65536, "offsets fit 16 bits");

  struct bank_t {
    alignas(64) std::uint8_t t[bank_bytes];
  };
  // bank[c][code][x] = sum over the chunk's k of a_t(code) * digit_t(x).
  static constexpr bank_t make_bank() noexcept {
    bank_t b{};
    for (std::size_t c = 0; c < static_cast<std::size_t>(chunks); ++c)
      for (std::size_t code = 0; code < (std::size_t{1} << (CK * AB)); ++code)
        for (std::size_t x = 0; x < static_cast<std::size_t>(table_bytes); ++x) {
          unsigned s = 0;
          for (int t = static_cast<int>(c) * CK; t < G && t < (static_cast<int>(c) + 1) * CK; ++t) {
            const unsigned a = (code >> (AB * (t - static_cast<int>(c) * CK))) & amax;
            s += a * ((x >> (DW * t)) & ((1u << DW) - 1));
          }
          b.t[c * chunk_stride + code * table_bytes + x] = static_cast<std::uint8_t>(s);
        }
    return b;
  }
  static constexpr bank_t bank = make_bank();

  // Signed weights (the signed-weight sibling, ukernel_desc::signed_w): with one table chunk and
  // one digit per weight, a bank of sum a_t * (u_t - 2^(WB-1)) + signed_bias, the u-code minus
  // its offset being the weight's value, stores what the product of values needs, so the
  // epilogue takes no activation row sums. The bias G * 2^(WB-1) * amax keeps entries unsigned
  // and at most entry_max (the bank's own bound), and every group, padding included (code 0:
  // the constant table), adds exactly it: the kernel subtracts signed_bias per group.
  static constexpr bool signable = NDW == 1 && chunks == 1;
  static constexpr unsigned w_offset_signed = 1u << (WB - 1);
  static constexpr unsigned signed_bias = G * w_offset_signed * amax;
  static constexpr bank_t make_bank_signed() noexcept {
    bank_t b{};
    for (std::size_t code = 0; code < (std::size_t{1} << (G * AB)); ++code)
      for (std::size_t x = 0; x < static_cast<std::size_t>(table_bytes); ++x) {
        int s = static_cast<int>(signed_bias);
        for (int t = 0; t < G; ++t) {
          const int a = static_cast<int>((code >> (AB * t)) & amax);
          const int w = static_cast<int>((x >> (DW * t)) & ((1u << DW) - 1));
          s += a * (w - static_cast<int>(w_offset_signed));
        }
        b.t[code * table_bytes + x] = static_cast<std::uint8_t>(s);
      }
    return b;
  }

  static std::size_t groups(std::size_t kc) noexcept { return (kc + G - 1) / G; }
};

// Packers for a tile of MR rows and NR columns stored as NV index vectors of V bytes.
template <class Cell, int MR, int V, int NV>
struct actsum_pack {
  static constexpr int G = Cell::k_group, DW = Cell::digit_bits, NDW = Cell::digits;
  static constexpr int NR = NV * V / NDW;

  static std::size_t a_bytes(std::size_t kc) noexcept {
    return Cell::groups(kc) * MR * Cell::chunks * sizeof(std::uint16_t);
  }
  static std::size_t w_bytes(std::size_t kc) noexcept { return Cell::groups(kc) * NV * V; }

  // A panel: per group, per row, per chunk, the byte offset of the table in the bank. Padding
  // (rows >= rows, k >= kc) is code 0: the all-zero table.
  static void pack_a(const std::uint8_t* u, std::size_t ldu, std::size_t rows, std::size_t kc,
                     void* dst) noexcept {
    auto* out = static_cast<std::uint16_t*>(dst);
    const std::size_t ng = Cell::groups(kc);
    for (std::size_t g = 0; g < ng; ++g)
      for (std::size_t i = 0; i < static_cast<std::size_t>(MR); ++i)
        for (int c = 0; c < Cell::chunks; ++c) {
          unsigned code = 0;
          for (int t = c * Cell::chunk_k; t < G && t < (c + 1) * Cell::chunk_k; ++t) {
            const std::size_t k = g * G + static_cast<std::size_t>(t);
            if (i < rows && k < kc)
              code |= unsigned{u[i * ldu + k]} << (Cell::a_bits * (t - c * Cell::chunk_k));
          }
          *out++ = static_cast<std::uint16_t>(c * Cell::chunk_stride + code * Cell::table_bytes);
        }
  }

  // W panel: per group, per vector, V index bytes (see the file comment for the column order).
  static void pack_w(const std::uint8_t* u, std::size_t ldu, std::size_t rows, std::size_t kc,
                     void* dst) noexcept {
    auto* out = static_cast<std::uint8_t*>(dst);
    const std::size_t ng = Cell::groups(kc);
    for (std::size_t g = 0; g < ng; ++g)
      for (std::size_t v = 0; v < static_cast<std::size_t>(NV); ++v)
        for (std::size_t b = 0; b < static_cast<std::size_t>(V); ++b) {
          std::size_t col;
          unsigned digit = 0;
          if (NDW == 1) {
            col = v * V + ((b & 1) ? V / 2 + b / 2 : b / 2);
          } else {
            col = v * (V / 2) + b / 2;
            digit = static_cast<unsigned>(b & 1);
          }
          unsigned x = 0;
          if (col < rows)
            for (int t = 0; t < G; ++t) {
              const std::size_t k = g * G + static_cast<std::size_t>(t);
              if (k < kc) {
                const unsigned d = (u[col * ldu + k] >> (DW * digit)) & ((1u << DW) - 1);
                x |= d << (DW * t);
              }
            }
          *out++ = static_cast<std::uint8_t>(x);
        }
  }
};

}  // namespace lut
}  // namespace kernels
}  // namespace lowbit
