// The one code -> value definition, and the u-code (affine) view of it that kernels rely on.
#include <catch2/catch.hpp>

#include "lowbit/detail/codes.hpp"
#include "lowbit/format.hpp"
#include "lowbit/limits.hpp"

#include <vector>

using namespace lowbit;

TEST_CASE("code values by hand", "[format]") {
  CHECK(code_value({1, encoding::odd_symmetric}, 0) == -1);
  CHECK(code_value({1, encoding::odd_symmetric}, 1) == 1);
  CHECK(code_value({2, encoding::odd_symmetric}, 0) == -3);
  CHECK(code_value({2, encoding::odd_symmetric}, 3) == 3);
  CHECK(code_value({2, encoding::signed_int}, 2) == -2);
  CHECK(code_value({2, encoding::signed_int}, 3) == -1);
  CHECK(code_value({1, encoding::signed_int}, 1) == -1);
  CHECK(code_value({8, encoding::signed_int}, 0x80) == -128);
  CHECK(code_value({8, encoding::unsigned_int}, 255) == 255);
  CHECK(code_value({2, encoding::ternary}, 0) == 0);
  CHECK(code_value({2, encoding::ternary}, 1) == 1);
  CHECK(code_value({2, encoding::ternary}, 3) == -1);
  CHECK_FALSE(is_valid_code({2, encoding::ternary}, 2));
  CHECK_FALSE(is_valid({3, encoding::ternary}));
  CHECK_FALSE(is_valid({0, encoding::unsigned_int}));
  CHECK_FALSE(is_valid({9, encoding::unsigned_int}));
}

TEST_CASE("every code: value == alpha * u + beta, u < 2^bits, and code_of_value inverts",
          "[format]") {
  for (int b = 1; b <= 8; ++b)
    for (int e = 0; e < 4; ++e) {
      const format f{b, static_cast<encoding>(e)};
      if (!is_valid(f)) continue;
      const affine_map m = affine_of(f);
      std::int32_t lo = 1 << 20, hi = -(1 << 20);
      for (std::uint32_t c = 0; c <= code_mask(f); ++c) {
        if (!is_valid_code(f, c)) continue;
        const std::int32_t v = code_value(f, c);
        const std::uint8_t u = u_code(f, c);
        INFO("bits " << b << " enc " << encoding_name(f.enc) << " code " << c);
        CHECK(u <= code_mask(f));
        CHECK(v == m.alpha * u + m.beta);
        CHECK(code_of_value(f, v) == static_cast<std::int32_t>(c));
        lo = std::min(lo, v);
        hi = std::max(hi, v);
      }
      CHECK(lo == min_value(f));
      CHECK(hi == max_value(f));
    }
}

TEST_CASE("one-per-byte input: codes, sign-extended int8 values, invalid high bits", "[format]") {
  const format s2{2, encoding::signed_int}, u2{2, encoding::unsigned_int}, t{2, encoding::ternary};
  CHECK(detail::code_of_byte(s2, 0x03) == 3);
  CHECK(detail::code_of_byte(s2, 0xFF) == 3);     // -1 as int8
  CHECK(detail::code_of_byte(s2, 0xFE) == 2);     // -2 as int8
  CHECK(detail::code_of_byte(s2, 0x7F) > 0xFFu);  // neither
  CHECK(detail::code_of_byte(s2, 0xFD) > 0xFFu);  // -3: out of range
  CHECK(detail::code_of_byte(u2, 0xFF) > 0xFFu);
  CHECK(detail::code_of_byte(u2, 0x04) > 0xFFu);
  CHECK(detail::code_of_byte(t, 0xFF) == 3);
  CHECK(detail::code_of_byte(t, 0x02) > 0xFFu);
  CHECK(detail::code_of_byte({8, encoding::signed_int}, 0x80) == 0x80);
}

TEST_CASE("accumulator limits", "[format][limits]") {
  CHECK(max_k({8, encoding::unsigned_int}, {8, encoding::unsigned_int}) == 2147483647 / 65025);
  CHECK(max_k({8, encoding::signed_int}, {8, encoding::signed_int}) == 2147483647 / 16384);
  CHECK(max_k({1, encoding::odd_symmetric}, {1, encoding::odd_symmetric}) == 2147483647);
  CHECK(max_abs_centered({8, encoding::unsigned_int}, 128) == 128);
}

#include "lowbit/detail/row_scan.hpp"

TEST_CASE("vectorised pre-pass agrees with the byte table for every byte and format",
          "[format][row_scan]") {
  for (int b = 1; b <= 8; ++b)
    for (int e = 0; e < 4; ++e) {
      const format f{b, static_cast<encoding>(e)};
      if (!is_valid(f)) continue;
      detail::u_table table;
      detail::make_u_table(f, table);
      const detail::u_transform t = detail::make_u_transform(f);
      CHECK(t.identity == table.identity);
      for (unsigned x = 0; x < 256; ++x) {
        INFO("bits " << b << " " << encoding_name(f.enc) << " byte " << x);
        REQUIRE(detail::byte_is_valid(t, static_cast<std::uint8_t>(x)) == table.valid[x]);
        if (table.valid[x])
          REQUIRE(detail::byte_to_u(t, static_cast<std::uint8_t>(x)) == table.u[x]);
      }
      // Rows of every length 1..70 (vector body and tail), valid bytes only, then one bad byte.
      std::vector<std::uint8_t> valid;
      for (unsigned x = 0; x < 256; ++x)
        if (table.valid[x]) valid.push_back(static_cast<std::uint8_t>(x));
      for (std::size_t len = 1; len <= 70; ++len) {
        std::vector<std::uint8_t> row(len), conv(len);
        std::uint32_t expect = 0;
        for (std::size_t i = 0; i < len; ++i) {
          row[i] = valid[(i * 7 + len) % valid.size()];
          expect += table.u[row[i]];
        }
        bool bad = true;
        REQUIRE(detail::scan_row_bytes(t, row.data(), len, bad) == expect);
        REQUIRE_FALSE(bad);
        detail::convert_row_bytes(t, row.data(), len, conv.data());
        for (std::size_t i = 0; i < len; ++i) REQUIRE(conv[i] == table.u[row[i]]);
        for (unsigned x = 0; x < 256; ++x)
          if (!table.valid[x]) {
            row[len / 2] = static_cast<std::uint8_t>(x);
            (void)detail::scan_row_bytes(t, row.data(), len, bad);
            REQUIRE(bad);
            break;
          }
      }
    }
}
