// Quantization helpers: parameters, the rounding rule, round trips, per-channel packing.
#include <cmath>
#include <random>
#include <vector>

#include <catch2/catch.hpp>

#include "gemm_tester.hpp"
#include "lowbit/gemm.hpp"  // pack_weights_from_float
#include "lowbit/quantize.hpp"

using namespace lowbit;

TEST_CASE("rounding rule: nearest value, ties away from zero, clamped", "[quantize]") {
  const format s4{4, encoding::signed_int};
  const float x[] = {0.5f, -0.5f, 1.5f, -1.5f, 2.49f, 100.0f, -100.0f};
  std::uint8_t q[7];
  REQUIRE(quantize(x, 7, s4, {1.0f, 0}, q).ok());
  const int expect[] = {1, -1, 2, -2, 2, 7, -8};
  for (int i = 0; i < 7; ++i) CHECK(static_cast<std::int8_t>(q[i]) == expect[i]);
  // Odd-symmetric: values are odd; an even y goes away from zero, 0 goes to +1.
  const format o2{2, encoding::odd_symmetric};
  const float y[] = {0.0f, 2.0f, -2.0f, 0.9f, -0.9f, 1.9f, 5.0f};
  const int expect_odd[] = {1, 3, -3, 1, -1, 1, 3};
  for (int i = 0; i < 7; ++i) {
    REQUIRE(quantize(&y[i], 1, o2, {1.0f, 0}, q).ok());
    CHECK(code_value(o2, q[0]) == expect_odd[i]);
  }
}

TEST_CASE("quantize / dequantize round trip for every format, both modes", "[quantize]") {
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> dist(-2.0f, 3.0f);
  std::vector<float> x(500), back(500);
  for (auto& v : x) v = dist(rng);
  for (int b = 1; b <= 8; ++b)
    for (format f : test::all_formats(b))
      for (quant_mode mode : {quant_mode::symmetric, quant_mode::asymmetric}) {
        quant_params p;
        std::vector<float> data = x;
        if (f.enc == encoding::unsigned_int && mode == quant_mode::symmetric)
          for (auto& v : data) v = std::fabs(v);
        const status s = choose_quant_params(data.data(), data.size(), f, mode, p);
        const bool expect_ok =
            !(mode == quant_mode::asymmetric &&
              (f.enc == encoding::odd_symmetric || f.enc == encoding::ternary)) &&
            !(mode == quant_mode::symmetric && f.enc == encoding::signed_int && b == 1);
        INFO("bits " << b << " " << encoding_name(f.enc) << " mode " << int(mode));
        REQUIRE(s.ok() == expect_ok);
        if (!expect_ok) continue;
        std::vector<std::uint8_t> q(data.size());
        REQUIRE(quantize(data.data(), data.size(), f, p, q.data()).ok());
        REQUIRE(dequantize(codes(q.data(), 1, q.size()), f, p, back.data()).ok());
        // Inside the representable range the error is at most one step (two for odd formats,
        // whose values are two apart) away from the nearest level.
        const float step = p.scale * (f.enc == encoding::odd_symmetric ? 2.0f : 1.0f);
        const float lo = p.scale * static_cast<float>(min_value(f) - p.zero_point);
        const float hi = p.scale * static_cast<float>(max_value(f) - p.zero_point);
        for (std::size_t i = 0; i < data.size(); ++i) {
          const float clamped = std::min(hi, std::max(lo, data[i]));
          REQUIRE(std::fabs(back[i] - clamped) <= 0.5f * step * 1.0001f + 1e-6f);
        }
      }
}

TEST_CASE("pack_weights_from_float matches quantize-then-pack and dequantizes exactly",
          "[quantize]") {
  const std::size_t n = 17, k = 45, m = 6;
  std::mt19937 rng(5);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  std::vector<float> w(n * k);
  for (auto& v : w) v = dist(rng);
  const format wf{4, encoding::signed_int}, af{8, encoding::unsigned_int};
  packed_weights pw;
  std::vector<float> scales(n);
  std::vector<std::int32_t> zeros(n);
  REQUIRE(pack_weights_from_float(w.data(), n, k, k, wf, af, quant_mode::symmetric, pw,
                                  scales.data(), zeros.data())
              .ok());
  REQUIRE(pw.rows() == n);
  // Float output through the GEMM equals the float product of the dequantized operands.
  std::vector<std::uint8_t> a(m * k);
  for (auto& v : a) v = static_cast<std::uint8_t>(rng() % 256);
  std::vector<float> out(m * n);
  float_output o;
  o.data = out.data();
  o.a_scale = 0.01f;
  o.w_scales = scales.data();
  o.w_scale_count = n;
  o.zeros = {3, zeros.data(), n};
  REQUIRE(gemm(codes(a.data(), m, k), af, pw, o).ok());
  std::vector<std::uint8_t> q(n * k);
  std::vector<quant_params> params(n);
  REQUIRE(
      choose_quant_params_per_channel(w.data(), n, k, k, wf, quant_mode::symmetric, params.data())
          .ok());
  REQUIRE(quantize_per_channel(w.data(), n, k, k, wf, params.data(), q.data(), k).ok());
  for (std::size_t i = 0; i < m; ++i)
    for (std::size_t j = 0; j < n; ++j) {
      double s = 0;
      for (std::size_t x = 0; x < k; ++x)
        s += 0.01 * (a[i * k + x] - 3.0) * params[j].scale * static_cast<std::int8_t>(q[j * k + x]);
      REQUIRE(out[i * n + j] == Approx(s).epsilon(1e-5).margin(1e-5));
    }
}
