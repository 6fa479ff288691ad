// The reference GEMM against hand-computed cases and an independent brute-force definition.
#include <random>
#include <vector>

#include <catch2/catch.hpp>

#include "gemm_tester.hpp"
#include "lowbit/reference.hpp"

using namespace lowbit;

TEST_CASE("reference by hand", "[reference]") {
  // Binary {-1,+1} x ternary, K = 3: a = [+1,-1,+1], w = [-1, 0, +1] -> -1 + 0 + 1 = 0;
  // second weight row [+1,+1,-1] -> 1 - 1 - 1 = -1.
  const std::uint8_t a[] = {1, 0, 1};
  const std::uint8_t w[] = {3, 0, 1, 1, 1, 3};
  std::int32_t c[2] = {99, 99};
  REQUIRE(reference_gemm(codes(a, 1, 3), {1, encoding::odd_symmetric}, codes(w, 2, 3),
                         {2, encoding::ternary}, c, 2)
              .ok());
  CHECK(c[0] == 0);
  CHECK(c[1] == -1);
  // 2-bit odd {-3,-1,1,3} x signed 4-bit: a = [3, -3], w = [-8, 7] -> -24 - 21 = -45.
  const std::uint8_t a2[] = {3, 0};
  const std::uint8_t w2[] = {0x8, 0x7};
  std::int32_t c2 = 0;
  REQUIRE(reference_gemm(codes(a2, 1, 2), {2, encoding::odd_symmetric}, codes(w2, 1, 2),
                         {4, encoding::signed_int}, &c2, 1)
              .ok());
  CHECK(c2 == -45);
}

TEST_CASE("reference equals a brute-force definition for every format pair", "[reference]") {
  std::mt19937 rng(42);
  for (int wb = 1; wb <= 8; ++wb)
    for (int ab = 1; ab <= 8; ++ab)
      for (format wf : test::all_formats(wb))
        for (format af : test::all_formats(ab)) {
          const std::size_t m = 3, n = 4, k = 11;
          std::vector<std::uint8_t> a(m * k), w(n * k);
          for (auto& x : a) x = test::random_code(rng, af, 0);
          for (auto& x : w) x = test::random_code(rng, wf, 0);
          std::vector<std::int32_t> c(m * n);
          REQUIRE(reference_gemm(codes(a.data(), m, k), af, codes(w.data(), n, k), wf, c.data(), n)
                      .ok());
          // Independent definition: enumerate the format's values in code order.
          auto value = [](format f, std::uint8_t byte) -> std::int64_t {
            const std::uint32_t c = byte & ((1u << f.bits) - 1);
            switch (f.enc) {
              case encoding::unsigned_int:
                return c;
              case encoding::signed_int:
                return c >= (1u << (f.bits - 1)) ? std::int64_t(c) - (1 << f.bits) : c;
              case encoding::odd_symmetric:
                return 2 * std::int64_t(c) - ((1 << f.bits) - 1);
              case encoding::ternary:
                return c == 3 ? -1 : std::int64_t{c};
            }
            return 0;
          };
          for (std::size_t i = 0; i < m; ++i)
            for (std::size_t j = 0; j < n; ++j) {
              std::int64_t s = 0;
              for (std::size_t x = 0; x < k; ++x)
                s += value(af, a[i * k + x]) * value(wf, w[j * k + x]);
              REQUIRE(c[i * n + j] == s);
            }
        }
}

TEST_CASE("bit-packed and one-per-byte inputs give the same reference result", "[reference]") {
  std::mt19937 rng(7);
  for (int b = 1; b <= 8; ++b) {
    const format f{b, encoding::signed_int};
    const std::size_t k = 29;
    std::vector<std::uint8_t> a(k), w(2 * k);
    for (auto& x : a) x = static_cast<std::uint8_t>(rng() & code_mask(f));
    for (auto& x : w) x = static_cast<std::uint8_t>(rng() & code_mask(f));
    std::vector<std::uint8_t> ab(row_bytes(storage::bitpacked, k, b), 0), wb(2 * ab.size(), 0);
    test::pack_bits_row(a.data(), k, f, ab.data());
    test::pack_bits_row(w.data(), k, f, wb.data());
    test::pack_bits_row(w.data() + k, k, f, wb.data() + ab.size());
    std::int32_t c1[2], c2[2];
    REQUIRE(reference_gemm(codes(a.data(), 1, k), f, codes(w.data(), 2, k), f, c1, 2).ok());
    REQUIRE(reference_gemm(bitpacked_codes(ab.data(), 1, k), f, bitpacked_codes(wb.data(), 2, k), f,
                           c2, 2)
                .ok());
    CHECK(c1[0] == c2[0]);
    CHECK(c1[1] == c2[1]);
  }
}
