// lowbit: product lookup tables (DeepGEMM), the ISA-independent part (cell geometry, the table,
// packers). The x86 kernels (lut_product_<isa>.hpp) read what these packers write.
//
// The table holds every product: T[(ua << WB) | uw] = ua * uw, 2^(WB + AB) entries (16 for
// pshufb, 64 for vpermb, 128 for vpermi2b), the same for every row, column and k, so it lives in
// one register. Operands are k-contiguous: a vector of V bytes holds V consecutive k of one row
// (A, stored pre-shifted as ua << WB) or one column (W, uw), so the index of V products is one
// OR of two loaded vectors and every lookup yields V MACs of one output (i, j). Per lookup:
// OR + lookup + byte add, one MAC per byte.
//
// Accumulators. Products are added into unsigned byte lanes, F = floor(255 / max product) of
// them, then psadbw sums each 8 bytes of an (i, j) accumulator into 64-bit lanes, which cannot
// overflow for any kc a 32-bit result allows; the lanes of each (i, j) are summed once per run()
// call and truncated to 32 bits (the contract's wrap-around). So kc_max is not an accumulator
// bound here, just the largest block a driver would ever ask for.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace lowbit {
namespace kernels {
namespace lut {

template <int WB, int AB>
struct product_cell {
  static_assert(WB >= 1 && AB >= 1 && WB + AB <= 7, "at most 128 table entries");
  static constexpr int w_bits = WB, a_bits = AB, index_bits = WB + AB;
  static constexpr unsigned amax = (1u << AB) - 1, wmax = (1u << WB) - 1;
  static constexpr unsigned product_max = amax * wmax;
  // Lookups added into a byte lane before psadbw widens it: F * product_max <= 255.
  static constexpr int flush_every = static_cast<int>(255 / product_max);

  // The table padded to `bytes` entries (16, 64 or 128); entries beyond 2^(WB + AB) are unused.
  template <int Bytes>
  struct table_t {
    alignas(64) std::uint8_t t[Bytes];
  };
  template <int Bytes>
  static constexpr table_t<Bytes> make_table() noexcept {
    static_assert(Bytes >= (1 << (WB + AB)), "the table holds every product");
    table_t<Bytes> b{};
    for (unsigned x = 0; x < (1u << (WB + AB)); ++x)
      b.t[x] = static_cast<std::uint8_t>((x >> WB) * (x & wmax));
    return b;
  }
};

// Packers for a tile of MR rows and NR columns, V consecutive k per vector.
template <class Cell, int MR, int NR, int V>
struct product_pack {
  static constexpr std::uint32_t kc_max = (1u << 30) / V * V;

  static std::size_t blocks(std::size_t kc) noexcept { return (kc + V - 1) / V; }
  static std::size_t a_bytes(std::size_t kc) noexcept { return blocks(kc) * MR * V; }
  static std::size_t w_bytes(std::size_t kc) noexcept { return blocks(kc) * NR * V; }

  // Per block of V k, per row (column), V bytes: ua << WB for A, uw for W; zero padding.
  template <int R, int Shift>
  static void pack(const std::uint8_t* u, std::size_t ldu, std::size_t rows, std::size_t kc,
                   void* dst) noexcept {
    auto* out = static_cast<std::uint8_t*>(dst);
    const std::size_t nb = blocks(kc);
    for (std::size_t b = 0; b < nb; ++b)
      for (std::size_t r = 0; r < static_cast<std::size_t>(R); ++r, out += V) {
        const std::size_t k0 = b * V, n = kc - k0 < static_cast<std::size_t>(V) ? kc - k0 : V;
        if (r >= rows) {
          std::memset(out, 0, V);
          continue;
        }
        const std::uint8_t* src = u + r * ldu + k0;
        for (std::size_t x = 0; x < n; ++x) out[x] = static_cast<std::uint8_t>(src[x] << Shift);
        for (std::size_t x = n; x < static_cast<std::size_t>(V); ++x) out[x] = 0;
      }
  }
  static void pack_a(const std::uint8_t* u, std::size_t ldu, std::size_t rows, std::size_t kc,
                     void* dst) noexcept {
    pack<MR, Cell::w_bits>(u, ldu, rows, kc, dst);
  }
  static void pack_w(const std::uint8_t* u, std::size_t ldu, std::size_t rows, std::size_t kc,
                     void* dst) noexcept {
    pack<NR, 0>(u, ldu, rows, kc, dst);
  }
};

}  // namespace lut
}  // namespace kernels
}  // namespace lowbit
