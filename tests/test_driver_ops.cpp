// The driver's own vector code (driver/ops.hpp): every ISA set this host can run gives
// exactly what the baseline gives, for the activation scan (sums and validity), the exact int32
// epilogue, requantization and the float stage, over every format, run length (tails), extreme
// values and the whole multiplier range.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

#include <catch2/catch.hpp>

#include "gemm_tester.hpp"
#include "lowbit/dispatch/cpu_features.hpp"
#include "lowbit/driver/ops.hpp"

using namespace lowbit;

namespace {

std::vector<const detail::driver_ops*> runnable_sets() {
  std::vector<const detail::driver_ops*> sets{&detail::baseline_driver_ops()};
#if defined(LOWBIT_X86_DRIVER_OPS)
  const feature_set host = detail::host_features();
  if ((host & detail::x86_sse4) == detail::x86_sse4) sets.push_back(&detail::sse4_driver_ops());
  if ((host & detail::x86_avx2) == detail::x86_avx2) sets.push_back(&detail::avx2_driver_ops());
  if ((host & detail::x86_avx512) == detail::x86_avx512)
    sets.push_back(&detail::avx512_driver_ops());
#elif defined(LOWBIT_NEON_DRIVER_OPS)
  sets.push_back(&detail::neon_driver_ops());
#endif
  return sets;
}

const encoding all_encodings[] = {encoding::unsigned_int, encoding::signed_int,
                                  encoding::odd_symmetric, encoding::ternary};

}  // namespace

TEST_CASE("driver ops: row scan sums and validity match the baseline", "[driver_ops]") {
  std::mt19937 rng(11);
  for (const detail::driver_ops* ops : runnable_sets()) {
    INFO("ops " << ops->isa);
    for (int bits = 1; bits <= 8; ++bits)
      for (encoding e : all_encodings) {
        const format f{bits, e};
        if (!is_valid(f)) continue;
        const detail::u_transform t = detail::make_u_transform(f);
        for (std::size_t k : {1u, 15u, 16u, 31u, 63u, 64u, 65u, 127u, 128u, 129u, 300u, 1000u}) {
          std::vector<std::uint8_t> row(k + 1);
          for (int trial = 0; trial < 4; ++trial) {
            for (std::size_t x = 0; x < k; ++x) row[x] = test::random_code(rng, f, 0);
            row[k] = 0xFF;  // past the end: must not be read into the sum or the check
            if (trial >= 2) row[rng() % k] = static_cast<std::uint8_t>(rng());  // maybe invalid
            bool bad_ref = false, bad = false;
            const std::uint32_t ref = detail::scan_row_bytes(t, row.data(), k, bad_ref);
            const std::uint32_t got = ops->scan_row(t, row.data(), k, bad);
            INFO("format " << bits << "/" << static_cast<int>(e) << " k " << k);
            CHECK(bad == bad_ref);
            if (!bad_ref) CHECK(got == ref);
          }
        }
      }
  }
}

TEST_CASE("driver ops: validation without sums flags exactly the bytes with high bits",
          "[driver_ops]") {
  std::mt19937 rng(13);
  for (const detail::driver_ops* ops : runnable_sets()) {
    INFO("ops " << ops->isa);
    for (int bits = 1; bits <= 7; ++bits) {
      const auto high = static_cast<std::uint8_t>(~((1u << bits) - 1));
      for (std::size_t n = 0; n <= 300; n += (n < 140 ? 1 : 37)) {
        std::vector<std::uint8_t> run(n + 1);
        for (std::size_t x = 0; x < n; ++x) run[x] = static_cast<std::uint8_t>(rng() & ~high);
        run[n] = 0xFF;  // past the end: never read
        INFO("bits " << bits << " n " << n);
        REQUIRE_FALSE(ops->any_high(run.data(), n, high));
        REQUIRE(detail::any_high_bytes(run.data(), n, high) == false);
        for (std::size_t bad = 0; bad < n; ++bad) {  // one bad byte at every position
          const std::uint8_t keep = run[bad];
          run[bad] = static_cast<std::uint8_t>(keep | (high & (1u << (rng() % 8))) | 0x80);
          REQUIRE(ops->any_high(run.data(), n, high));
          run[bad] = keep;
        }
      }
    }
  }
}

TEST_CASE("driver ops: exact epilogue matches the baseline", "[driver_ops]") {
  std::mt19937 rng(12);
  for (const detail::driver_ops* ops : runnable_sets()) {
    INFO("ops " << ops->isa);
    for (std::size_t n = 1; n <= 70; ++n) {
      std::vector<std::int32_t> s(n), ref(n), got(n + 1, 0x5EED);
      std::vector<std::uint32_t> rowcoef(n), colconst(n);
      for (std::size_t j = 0; j < n; ++j) {
        s[j] = static_cast<std::int32_t>(rng());
        rowcoef[j] = rng();
        colconst[j] = rng();
      }
      for (std::uint32_t alpha : {1u, 4u, 0xFFFFFFFFu}) {
        const std::uint32_t sa = rng();
        detail::exact_row_generic(s.data(), alpha, rowcoef.data(), sa, colconst.data(), n,
                                  ref.data());
        ops->exact_row(s.data(), alpha, rowcoef.data(), sa, colconst.data(), n, got.data());
        for (std::size_t j = 0; j < n; ++j) REQUIRE(got[j] == ref[j]);
        REQUIRE(got[n] == 0x5EED);  // nothing past the run
      }
      // A tile of 3 rows (the first row repeated with other sums), strided in and out.
      const std::uint32_t sums[3] = {static_cast<std::uint32_t>(rng()),
                                     static_cast<std::uint32_t>(rng()),
                                     static_cast<std::uint32_t>(rng())};
      std::vector<std::int32_t> s3(3 * (n + 2)), tile_ref(n), tile_got(3 * (n + 3), 0x5EED);
      for (std::size_t i = 0; i < 3; ++i)
        for (std::size_t j = 0; j < n; ++j) s3[i * (n + 2) + j] = s[j] + static_cast<int>(i);
      for (std::uint32_t alpha : {1u, 4u}) {  // n = 32: the AVX-512 whole-tile path
        ops->exact_tile(s3.data(), n + 2, 3, alpha, rowcoef.data(), sums, colconst.data(), n,
                        tile_got.data(), n + 3);
        for (std::size_t i = 0; i < 3; ++i) {
          detail::exact_row_generic(s3.data() + i * (n + 2), alpha, rowcoef.data(), sums[i],
                                    colconst.data(), n, tile_ref.data());
          for (std::size_t j = 0; j < n; ++j) REQUIRE(tile_got[i * (n + 3) + j] == tile_ref[j]);
          for (std::size_t j = n; j < n + 3; ++j) REQUIRE(tile_got[i * (n + 3) + j] == 0x5EED);
        }
      }
    }
  }
}

TEST_CASE("driver ops: requantization matches the baseline bit for bit", "[driver_ops]") {
  std::mt19937 rng(13);
  const std::int32_t extremes[] = {
      0, 1, -1, 2, -2, INT32_MAX, INT32_MIN, INT32_MAX - 1, INT32_MIN + 1, 1 << 30};
  for (const detail::driver_ops* ops : runnable_sets()) {
    INFO("ops " << ops->isa);
    for (int bits = 1; bits <= 8; ++bits)
      for (encoding e : all_encodings) {
        const format f{bits, e};
        if (!is_valid(f)) continue;
        for (int trial = 0; trial < 12; ++trial) {
          const std::size_t n = 1 + rng() % 41;
          std::vector<std::int32_t> t(n), bias(n);
          std::vector<fixed_multiplier> mult(n);
          for (std::size_t j = 0; j < n; ++j) {
            t[j] = (rng() % 4 == 0) ? extremes[rng() % 10]
                                    : static_cast<std::int32_t>(rng() % 200001) - 100000;
            bias[j] = static_cast<std::int32_t>(rng() % 2001) - 1000;
            // The whole valid range: m0 in [2^30, 2^31), shift in [-31, 30]; sometimes zero.
            mult[j].m0 =
                (rng() % 16 == 0) ? 0 : static_cast<std::int32_t>((1u << 30) + (rng() >> 2));
            mult[j].shift = static_cast<int>(rng() % 62) - 31;
            if (trial % 3 == 0) mult[j].shift = static_cast<int>(rng() % 8) - 12;  // typical
          }
          std::vector<std::uint8_t> ref(n), got(n + 1, 0xA5);
          quantized_output q;
          q.data = ref.data();  // unused here; validate_stage wants one
          q.out_format = f;
          q.out_zero = (trial % 2) ? static_cast<std::int32_t>(rng() % 7) - 3 : 0;
          q.multipliers = mult.data();
          q.multiplier_count = (trial % 4 == 3) ? 1 : n;
          q.bias = (trial % 5 == 4) ? nullptr : bias.data();
          if (trial % 6 == 5) {
            q.clamp_min = min_value(f) / 2;
            q.clamp_max = max_value(f) / 2 + 1;
          }
          // Everything but out_zero validated (the rows take any out_zero: a zero point far
          // outside the format only clamps every output to one end).
          quantized_output qv = q;
          qv.out_zero = 0;
          const status vs = detail::validate_stage(qv, 1, n);
          INFO(vs.message());
          REQUIRE(vs.ok());
          const detail::requant_params p = detail::make_requant_params(q);
          detail::requant_row_generic(t.data(), n, p, ref.data());
          ops->requant_row(t.data(), n, p, got.data());
          INFO("format " << bits << "/" << static_cast<int>(e) << " n " << n << " trial " << trial);
          for (std::size_t j = 0; j < n; ++j) REQUIRE(static_cast<int>(got[j]) == ref[j]);
          REQUIRE(got[n] == 0xA5);
        }
      }
  }
}

TEST_CASE("driver ops: the float stage matches the baseline bit for bit", "[driver_ops]") {
  std::mt19937 rng(17);
  const std::int32_t extremes[] = {0, 1, -1, INT32_MAX, INT32_MIN, 16777217, -16777217, 1 << 30};
  const float odd[] = {0.0f, -0.0f, INFINITY, -INFINITY, NAN, 1e-38f, 3.4e38f};
  auto same_bits = [](float a, float b) { return std::memcmp(&a, &b, sizeof a) == 0; };
  for (const detail::driver_ops* ops : runnable_sets()) {
    INFO("ops " << ops->isa);
    for (int trial = 0; trial < 400; ++trial) {
      const std::size_t n = 1 + rng() % 53;  // tails of every vector width
      std::vector<std::int32_t> t(n);
      std::vector<float> scales(n), bias(n);
      for (std::size_t j = 0; j < n; ++j) {
        t[j] = (rng() % 5 == 0) ? extremes[rng() % 8]
                                : static_cast<std::int32_t>(rng() % 2000001) - 1000000;
        scales[j] = (rng() % 17 == 0) ? odd[rng() % 7] : 1e-4f * static_cast<float>(rng() % 9973);
        bias[j] = (rng() % 19 == 0)
                      ? odd[rng() % 7]
                      : 0.01f * static_cast<float>(static_cast<int>(rng() % 2001) - 1000);
      }
      float_output o;
      o.a_scale = (trial % 7 == 6) ? -0.37f : 0.61f;
      o.w_scales = scales.data();
      o.w_scale_count = (trial % 4 == 3) ? 1 : n;
      o.bias = (trial % 5 == 4) ? nullptr : bias.data();
      if (trial % 3 == 1) o.clamp_min = 0.0f;  // ReLU
      if (trial % 6 == 2) {
        o.clamp_min = -1.5f;
        o.clamp_max = 6.0f;
      }
      std::vector<float> ref(n), got(n + 1, 123.0f);
      const detail::float_params p = detail::float_params_at(o, 0);
      detail::float_row_generic(t.data(), n, p, ref.data());
      ops->float_row(t.data(), n, p, got.data());
      INFO("n " << n << " trial " << trial);
      for (std::size_t j = 0; j < n; ++j)
        if (!same_bits(got[j], ref[j])) {
          INFO("j " << j << " ref " << ref[j] << " got " << got[j]);
          REQUIRE(same_bits(got[j], ref[j]));
        }
      REQUIRE(got[n] == 123.0f);
      // The row's reference value is the documented formula, each product rounded alone.
      for (std::size_t j = 0; j < n; ++j) {
        const volatile float scale = o.a_scale * scales[o.w_scale_count == 1 ? 0 : j];
        const volatile float prod = static_cast<float>(t[j]) * scale;
        float v = o.bias ? prod + bias[j] : prod;
        v = v < o.clamp_min ? o.clamp_min : (v > o.clamp_max ? o.clamp_max : v);
        REQUIRE(same_bits(v, ref[j]));
      }
    }
  }
}

namespace {

// Random exact-step terms for a tile of `rows` rows and n columns: each of the row and column
// terms present or left out (nullptr), as the driver passes them.
struct tile_terms {
  std::vector<std::int32_t> s;
  std::vector<std::uint32_t> rowcoef, rowsum, colconst;
  std::uint32_t alpha = 1;
  bool has_row = true, has_col = true;
  std::size_t lds = 0;

  tile_terms(std::mt19937& rng, std::size_t rows, std::size_t n, int variant)
      : s(rows * (n + 3)), rowcoef(n), rowsum(rows), colconst(n) {
    lds = n + 3;
    const std::int32_t extremes[] = {0, 1, -1, INT32_MAX, INT32_MIN, INT32_MAX - 1, INT32_MIN + 1};
    for (auto& x : s)
      x = (rng() % 6 == 0) ? extremes[rng() % 7]
                           : static_cast<std::int32_t>(rng() % 400001) - 200000;
    for (auto& x : rowcoef) x = rng() % 5;
    for (auto& x : rowsum) x = rng() % 3000;
    for (auto& x : colconst)
      x = static_cast<std::uint32_t>(static_cast<std::int32_t>(rng() % 2001) - 1000);
    alpha = (variant % 3 == 0) ? 1u : (variant % 3 == 1 ? 4u : 0xFFFFFFFFu);
    has_row = variant % 4 != 1;
    has_col = variant % 5 != 2;
  }
  const std::uint32_t* rc() const { return has_row ? rowcoef.data() : nullptr; }
  const std::uint32_t* cc() const { return has_col ? colconst.data() : nullptr; }
  // Row i's exact results, by the generic rule.
  std::vector<std::int32_t> exact(std::size_t i, std::size_t n) const {
    std::vector<std::int32_t> t(n);
    detail::exact_row_terms(s.data() + i * lds, alpha, rc(), has_row ? rowsum[i] : 0, cc(), n,
                            t.data());
    return t;
  }
};

}  // namespace

TEST_CASE("driver ops: fused requantizing tiles match the scalar rule bit for bit",
          "[driver_ops]") {
  std::mt19937 rng(19);
  const std::int32_t zeros[] = {
      0, 3, -5, 128, INT32_MAX, INT32_MIN, INT32_MAX - 100, INT32_MIN + 100};
  for (const detail::driver_ops* ops : runnable_sets()) {
    INFO("ops " << ops->isa);
    for (int bits = 1; bits <= 8; ++bits)
      for (encoding e : all_encodings) {
        const format f{bits, e};
        if (!is_valid(f)) continue;
        for (int trial = 0; trial < 24; ++trial) {
          const std::size_t n = 1 + rng() % 70, rows = 1 + rng() % 8;
          const tile_terms tt(rng, rows, n, trial);
          // The stage's parameters cover col0 more columns before the tile's first.
          const std::size_t col0 = (trial % 4) * 7, total = col0 + n;
          std::vector<std::int32_t> bias(total);
          std::vector<fixed_multiplier> mult(total);
          for (std::size_t j = 0; j < total; ++j) {
            bias[j] = (rng() % 9 == 0) ? INT32_MAX : static_cast<std::int32_t>(rng() % 2001) - 1000;
            mult[j].m0 =
                (rng() % 16 == 0) ? 0 : static_cast<std::int32_t>((1u << 30) + (rng() >> 2));
            // Shifts below -1 (the 32-bit path), the whole range, or a mix within one strip.
            mult[j].shift = trial % 3 == 0   ? static_cast<int>(rng() % 20) - 21
                            : trial % 3 == 1 ? static_cast<int>(rng() % 62) - 31
                                             : (rng() % 8 == 0 ? 0 : -1);
          }
          quantized_output q;
          std::vector<std::uint8_t> unused(1);
          q.data = unused.data();
          q.out_format = f;
          q.out_zero = (trial % 2) ? zeros[rng() % 8] : static_cast<std::int32_t>(rng() % 7) - 3;
          q.multipliers = mult.data();
          q.multiplier_count = (trial % 4 == 3) ? 1 : total;
          q.bias = (trial % 5 == 4) ? nullptr : bias.data();
          if (trial % 6 == 5) {
            q.clamp_min = min_value(f) / 2;
            q.clamp_max = max_value(f) / 2 + 1;
          }
          quantized_output qv = q;  // out_zero as in the test above
          qv.out_zero = 0;
          REQUIRE(detail::validate_stage(qv, rows, total).ok());
          const detail::requant_params p0 = detail::make_requant_params(q);
          const detail::requant_params p = detail::requant_params_at(p0, col0);
          const std::size_t ldd = n + 2;
          std::vector<std::uint8_t> got(rows * ldd, 0xA5), row_got(n + 1, 0xA5), ref(n);
          ops->requant_tile(tt.s.data(), tt.lds, rows, tt.alpha, tt.rc(), tt.rowsum.data(), tt.cc(),
                            n, p0, col0, got.data(), ldd);
          INFO("format " << bits << "/" << static_cast<int>(e) << " n " << n << " rows " << rows
                         << " col0 " << col0 << " trial " << trial << " out_zero " << q.out_zero);
          for (std::size_t i = 0; i < rows; ++i) {
            const std::vector<std::int32_t> t = tt.exact(i, n);
            detail::requant_row_generic(t.data(), n, p, ref.data());
            for (std::size_t j = 0; j < n; ++j)
              REQUIRE(static_cast<int>(got[i * ldd + j]) == ref[j]);
            for (std::size_t j = n; j < ldd; ++j) REQUIRE(got[i * ldd + j] == 0xA5);
            if (i == 0) {  // the row function on the same results
              ops->requant_row(t.data(), n, p, row_got.data());
              for (std::size_t j = 0; j < n; ++j) REQUIRE(static_cast<int>(row_got[j]) == ref[j]);
              REQUIRE(row_got[n] == 0xA5);
            }
          }
        }
      }
  }
}

TEST_CASE("driver ops: fused float tiles match the scalar rule bit for bit", "[driver_ops]") {
  std::mt19937 rng(23);
  const float odd[] = {0.0f, -0.0f, INFINITY, -INFINITY, NAN, 1e-38f, 3.4e38f, -1e-45f};
  auto same_bits = [](float a, float b) { return std::memcmp(&a, &b, sizeof a) == 0; };
  for (const detail::driver_ops* ops : runnable_sets()) {
    INFO("ops " << ops->isa);
    for (int trial = 0; trial < 300; ++trial) {
      const std::size_t n = 1 + rng() % 70, rows = 1 + rng() % 8;
      const tile_terms tt(rng, rows, n, trial);
      std::vector<float> scales(n), bias(n);
      for (std::size_t j = 0; j < n; ++j) {
        scales[j] = (rng() % 17 == 0) ? odd[rng() % 8] : 1e-4f * static_cast<float>(rng() % 9973);
        bias[j] = (rng() % 19 == 0)
                      ? odd[rng() % 8]
                      : 0.01f * static_cast<float>(static_cast<int>(rng() % 2001) - 1000);
      }
      float_output o;
      o.a_scale = (trial % 7 == 6) ? -0.37f : (trial % 11 == 10 ? 1e-30f : 0.61f);
      o.w_scales = scales.data();
      o.w_scale_count = (trial % 4 == 3) ? 1 : n;
      o.bias = (trial % 5 == 4) ? nullptr : bias.data();
      if (trial % 3 == 1) o.clamp_min = 0.0f;  // ReLU
      if (trial % 6 == 2) {
        o.clamp_min = -1.5f;
        o.clamp_max = 6.0f;
      }
      const detail::float_params p = detail::float_params_at(o, 0);
      const std::size_t ldd = n + 2;
      std::vector<float> got(rows * ldd, 123.0f), ref(n);
      ops->float_tile(tt.s.data(), tt.lds, rows, tt.alpha, tt.rc(), tt.rowsum.data(), tt.cc(), n, p,
                      got.data(), ldd);
      INFO("n " << n << " rows " << rows << " trial " << trial);
      for (std::size_t i = 0; i < rows; ++i) {
        const std::vector<std::int32_t> t = tt.exact(i, n);
        detail::float_row_generic(t.data(), n, p, ref.data());
        for (std::size_t j = 0; j < n; ++j)
          if (!same_bits(got[i * ldd + j], ref[j])) {
            INFO("i " << i << " j " << j << " ref " << ref[j] << " got " << got[i * ldd + j]);
            REQUIRE(same_bits(got[i * ldd + j], ref[j]));
          }
        for (std::size_t j = n; j < ldd; ++j) REQUIRE(got[i * ldd + j] == 123.0f);
      }
    }
  }
}
