// Driver-level tester: random codes of given formats through pack_weights + gemm with one forced
// kernel, compared bit-exactly with reference_gemm. Used by test_gemm.cpp for every kernel in
// the registry the host can run.
#pragma once

#include <cstdint>
#include <random>
#include <vector>

#include <catch2/catch.hpp>
#include "lowbit/gemm.hpp"
#include "lowbit/reference.hpp"

namespace lowbit {
namespace test {

inline std::vector<format> all_formats(int bits) {
  std::vector<format> v = {{bits, encoding::unsigned_int},
                           {bits, encoding::signed_int},
                           {bits, encoding::odd_symmetric}};
  if (bits == 2) v.push_back({2, encoding::ternary});
  return v;
}

// A random valid code as a caller would store it one per byte (signed formats sometimes as the
// sign-extended int8 value).
inline std::uint8_t random_code(std::mt19937& rng, format f, int mode) {
  std::uint32_t c;
  if (mode == 1) {  // worst case: the value of largest magnitude
    c = static_cast<std::uint32_t>(
        code_of_value(f, -min_value(f) > max_value(f) ? min_value(f) : max_value(f)));
  } else {
    do c = rng() & code_mask(f);
    while (!is_valid_code(f, c));
  }
  if ((f.enc == encoding::signed_int || f.enc == encoding::ternary) && (rng() & 1))
    return static_cast<std::uint8_t>(static_cast<std::int8_t>(code_value(f, c)));
  return static_cast<std::uint8_t>(c);
}

struct gemm_case {
  std::size_t m = 1, n = 1, k = 1;
  std::size_t a_pad = 0, w_pad = 0, c_pad = 0;
  bool bitpacked = false;
  int mode = 0;  // 0 random, 1 worst-case magnitudes
  unsigned seed = 1;
};

// Packs codes of one row as a little-endian bit stream (matrix.hpp's bit order).
inline void pack_bits_row(const std::uint8_t* codes, std::size_t k, format f, std::uint8_t* out) {
  for (std::size_t x = 0; x < k; ++x) {
    const std::uint32_t c = codes[x] & code_mask(f);
    for (int b = 0; b < f.bits; ++b) {
      const std::size_t bit = x * f.bits + b;
      if (c >> b & 1) out[bit / 8] |= static_cast<std::uint8_t>(1u << (bit % 8));
    }
  }
}

inline void check_gemm(const dispatch_options& opt, format wf, format af, const gemm_case& g) {
  std::mt19937 rng(g.seed * 7919u + static_cast<unsigned>(g.m * 31 + g.n * 17 + g.k));
  const std::size_t lda = g.k + g.a_pad, ldw = g.k + g.w_pad, ldc = g.n + g.c_pad;
  std::vector<std::uint8_t> a(g.m * lda, 0x00), w(g.n * ldw, 0x00);
  for (std::size_t i = 0; i < g.m; ++i)
    for (std::size_t x = 0; x < g.k; ++x) a[i * lda + x] = random_code(rng, af, g.mode);
  for (std::size_t j = 0; j < g.n; ++j)
    for (std::size_t x = 0; x < g.k; ++x) w[j * ldw + x] = random_code(rng, wf, g.mode);
  matrix_ref am = codes(a.data(), g.m, g.k, lda), wm = codes(w.data(), g.n, g.k, ldw);
  std::vector<std::uint8_t> abits, wbits;
  if (g.bitpacked) {
    const std::size_t ra = row_bytes(storage::bitpacked, g.k, af.bits) + g.a_pad;
    const std::size_t rw = row_bytes(storage::bitpacked, g.k, wf.bits) + g.w_pad;
    abits.assign(g.m * ra + 1, 0);
    wbits.assign(g.n * rw + 1, 0);
    for (std::size_t i = 0; i < g.m; ++i) pack_bits_row(&a[i * lda], g.k, af, &abits[i * ra]);
    for (std::size_t j = 0; j < g.n; ++j) pack_bits_row(&w[j * ldw], g.k, wf, &wbits[j * rw]);
    am = bitpacked_codes(abits.data(), g.m, g.k, ra);
    wm = bitpacked_codes(wbits.data(), g.n, g.k, rw);
  }
  std::vector<std::int32_t> ref(g.m * ldc, 0), got(g.m * ldc, 0x5EEDF00D);
  REQUIRE(reference_gemm(codes(a.data(), g.m, g.k, lda), af, codes(w.data(), g.n, g.k, ldw), wf,
                         ref.data(), ldc)
              .ok());
  packed_weights pw;
  const status ps = pack_weights(wm, wf, af, pw, opt);
  INFO("w" << wf.bits << encoding_name(wf.enc) << " a" << af.bits << encoding_name(af.enc)
           << " M=" << g.m << " N=" << g.n << " K=" << g.k << " bitpacked=" << g.bitpacked
           << " mode=" << g.mode << " kernel=" << pw.kernel_name());
  REQUIRE(ps.ok());
  const status gs = gemm(am, af, pw, int32_output{got.data(), ldc});
  REQUIRE(gs.ok());
  for (std::size_t i = 0; i < g.m; ++i)
    for (std::size_t j = 0; j < g.n; ++j) {
      if (got[i * ldc + j] != ref[i * ldc + j]) {
        INFO("at (" << i << "," << j << ")");
        REQUIRE(got[i * ldc + j] == ref[i * ldc + j]);
      }
    }
  // Padding columns of C are left alone.
  for (std::size_t i = 0; i < g.m; ++i)
    for (std::size_t j = g.n; j < ldc; ++j)
      if (got[i * ldc + j] != 0x5EEDF00D) REQUIRE(got[i * ldc + j] == 0x5EEDF00D);
}

}  // namespace test
}  // namespace lowbit
