// Calibration (quantize.hpp: quant_calibration): the MSE search and the binary mean-|x| scale
// against min-max, the search's guarantees, and pack_weights_from_float with the caller's
// parameters and returned codes. The accuracy experiment (docs/quantize.md) runs a Gaussian
// 512 -> 256 Linear layer and a 3x3 convolution through the public API and checks the targets.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "gemm_tester.hpp"
#include "lowbit/conv.hpp"
#include "lowbit/gemm.hpp"
#include "lowbit/quantize.hpp"

using namespace lowbit;

namespace {

// Standard normal samples from mt19937 by Box-Muller (std::normal_distribution's algorithm is
// the library's choice; this one is the same everywhere up to libm's last bits).
std::vector<float> gaussian(std::size_t n, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<float> v(n);
  const double two_pi = 6.283185307179586;
  for (std::size_t i = 0; i < n; i += 2) {
    const double u1 = (static_cast<double>(rng()) + 1.0) / 4294967296.0;  // (0, 1]
    const double u2 = static_cast<double>(rng()) / 4294967296.0;
    const double r = std::sqrt(-2.0 * std::log(u1));
    v[i] = static_cast<float>(r * std::cos(two_pi * u2));
    if (i + 1 < n) v[i + 1] = static_cast<float>(r * std::sin(two_pi * u2));
  }
  return v;
}

double sq_error(const std::vector<float>& x, format f, quant_params p) {
  std::vector<std::uint8_t> q(x.size());
  std::vector<float> back(x.size());
  REQUIRE(quantize(x.data(), x.size(), f, p, q.data()).ok());
  REQUIRE(dequantize(codes(q.data(), 1, q.size()), f, p, back.data()).ok());
  double e = 0;
  for (std::size_t i = 0; i < x.size(); ++i)
    e += (double(x[i]) - back[i]) * (double(x[i]) - back[i]);
  return e;
}

struct operand {
  format f;
  quant_mode mode;
};

// ||y_q - y|| / ||y|| for y = A W^T (M x K activations, N x K weights, Gaussian): weights
// per channel through pack_weights_from_float, activations per tensor through quantize, the
// product through gemm's float stage.
double linear_error(operand wq, operand aq, quant_calibration method) {
  const std::size_t m = 64, k = 512, n = 256;
  static const std::vector<float> w = gaussian(n * k, 1), a = gaussian(m * k, 2);
  static std::vector<double> y;
  if (y.empty()) {
    y.assign(m * n, 0.0);
    for (std::size_t i = 0; i < m; ++i)
      for (std::size_t j = 0; j < n; ++j) {
        double s = 0;
        for (std::size_t x = 0; x < k; ++x) s += double(a[i * k + x]) * w[j * k + x];
        y[i * n + j] = s;
      }
  }
  from_float_options fo;
  fo.mode = wq.mode;
  fo.calibration = method;
  packed_weights pw;
  std::vector<float> w_scales(n);
  std::vector<std::int32_t> w_zeros(n);
  REQUIRE(pack_weights_from_float(w.data(), n, k, k, wq.f, aq.f, fo, pw, w_scales.data(),
                                  w_zeros.data())
              .ok());
  quant_params ap;
  REQUIRE(choose_quant_params(a.data(), a.size(), aq.f, aq.mode, method, ap).ok());
  std::vector<std::uint8_t> ac(a.size());
  REQUIRE(quantize(a.data(), a.size(), aq.f, ap, ac.data()).ok());
  std::vector<float> yq(m * n);
  float_output o;
  o.data = yq.data();
  o.capacity = yq.size();
  o.a_scale = ap.scale;
  o.w_scales = w_scales.data();
  o.w_scale_count = n;
  o.zeros = {ap.zero_point, w_zeros.data(), n};
  REQUIRE(gemm(codes(ac.data(), m, k), aq.f, pw, o).ok());
  double num = 0, den = 0;
  for (std::size_t i = 0; i < y.size(); ++i) {
    num += (yq[i] - y[i]) * (yq[i] - y[i]);
    den += y[i] * y[i];
  }
  return std::sqrt(num / den);
}

// The same for a 3x3 convolution (padding 1, 16 x 16 x 64 -> 64 channels, NHWC / OHWI).
double conv_error(operand wq, operand aq, quant_calibration method) {
  conv_params p;
  p.in_channels = 64;
  p.out_channels = 64;
  p.kernel_h = p.kernel_w = 3;
  p.pad_top = p.pad_left = p.pad_bottom = p.pad_right = 1;
  const tensor_shape in{1, 16, 16, 64};
  const std::size_t kk = 9 * p.in_channels, pixels = in.h * in.w;
  static const std::vector<float> w = gaussian(p.out_channels * kk, 3),
                                  x = gaussian(pixels * in.c, 4);
  std::vector<double> y(pixels * p.out_channels, 0.0);
  for (std::size_t oy = 0; oy < in.h; ++oy)
    for (std::size_t ox = 0; ox < in.w; ++ox)
      for (std::size_t oc = 0; oc < p.out_channels; ++oc) {
        double s = 0;
        for (std::size_t ky = 0; ky < 3; ++ky)
          for (std::size_t kx = 0; kx < 3; ++kx) {
            const std::size_t iy = oy + ky, ix = ox + kx;  // padded coordinates
            if (iy < 1 || ix < 1 || iy > in.h || ix > in.w) continue;
            for (std::size_t c = 0; c < in.c; ++c)
              s += double(x[((iy - 1) * in.w + ix - 1) * in.c + c]) *
                   w[oc * kk + (ky * 3 + kx) * in.c + c];
          }
        y[(oy * in.w + ox) * p.out_channels + oc] = s;
      }
  std::vector<quant_params> wp(p.out_channels);
  REQUIRE(choose_quant_params_per_channel(w.data(), p.out_channels, kk, kk, wq.f, wq.mode, method,
                                          wp.data())
              .ok());
  std::vector<std::uint8_t> wc(w.size()), xc(x.size());
  REQUIRE(
      quantize_per_channel(w.data(), p.out_channels, kk, kk, wq.f, wp.data(), wc.data(), kk).ok());
  quant_params ap;
  REQUIRE(choose_quant_params(x.data(), x.size(), aq.f, aq.mode, method, ap).ok());
  REQUIRE(quantize(x.data(), x.size(), aq.f, ap, xc.data()).ok());
  packed_conv_weights pw;
  REQUIRE(pack_conv_weights(wc.data(), p, wq.f, aq.f, pw).ok());
  std::vector<float> w_scales(p.out_channels), yq(y.size());
  std::vector<std::int32_t> w_zeros(p.out_channels);
  for (std::size_t c = 0; c < p.out_channels; ++c) {
    w_scales[c] = wp[c].scale;
    w_zeros[c] = wp[c].zero_point;
  }
  float_output o;
  o.data = yq.data();
  o.capacity = yq.size();
  o.a_scale = ap.scale;
  o.w_scales = w_scales.data();
  o.w_scale_count = p.out_channels;
  o.zeros = {ap.zero_point, w_zeros.data(), p.out_channels};
  REQUIRE(conv2d(xc.data(), in, aq.f, pw, o).ok());
  double num = 0, den = 0;
  for (std::size_t i = 0; i < y.size(); ++i) {
    num += (yq[i] - y[i]) * (yq[i] - y[i]);
    den += y[i] * y[i];
  }
  return std::sqrt(num / den);
}

const quant_mode sym = quant_mode::symmetric, asym = quant_mode::asymmetric;
format s(int bits) { return {bits, encoding::signed_int}; }
format u(int bits) { return {bits, encoding::unsigned_int}; }
format o(int bits) { return {bits, encoding::odd_symmetric}; }
const format t2{2, encoding::ternary};

}  // namespace

TEST_CASE("calibration experiment: Gaussian Linear 512 to 256 and a 3x3 convolution",
          "[calibration]") {
  struct row {
    const char* name;
    operand w, a;
    double target;  // upper bound for automatic (0: none)
  };
  const row rows[] = {
      {"w8a8 signed", {s(8), sym}, {s(8), sym}, 0.02},
      {"w4a8 signed", {s(4), sym}, {s(8), sym}, 0.12},
      // Issue 28's target is 0.15; the MSE-optimal 4-bit grid of a Gaussian (-8..7) keeps
      // about 0.109 of it per operand, so a product of two sits near 0.15 whatever the scales
      // (docs/quantize.md, "Why signed w4a4 stays above 0.15"; the "[.floor]" test below).
      {"w4a4 signed", {s(4), sym}, {s(4), sym}, 0.155},
      {"w4a4 odd-symmetric", {o(4), sym}, {o(4), sym}, 0.155},
      {"w3a3 signed", {s(3), sym}, {s(3), sym}, 0.30},
      {"w2a2 signed", {s(2), sym}, {s(2), sym}, 0.55},
      {"w2a2 odd-symmetric", {o(2), sym}, {o(2), sym}, 0.55},
      {"w2a2 signed asymmetric", {s(2), asym}, {u(2), asym}, 0.55},
      {"ternary w a2", {t2, sym}, {s(2), sym}, 0.60},  // three weight levels, not four
      {"w1a1 binary", {o(1), sym}, {o(1), sym}, 0.80},
  };
  std::printf("Linear 512 -> 256, M = 64, Gaussian: ||y_q - y|| / ||y||\n");
  std::printf("%-24s %9s %9s %9s\n", "formats", "min_max", "mse", "automatic");
  for (const row& r : rows) {
    const double mm = linear_error(r.w, r.a, quant_calibration::min_max);
    const double ms = r.w.f.bits == 1 && r.a.f.bits == 1
                          ? linear_error(r.w, r.a, quant_calibration::mean_abs)
                          : linear_error(r.w, r.a, quant_calibration::mse);
    const double au = linear_error(r.w, r.a, quant_calibration::automatic);
    std::printf("%-24s %9.4f %9.4f %9.4f\n", r.name, mm, ms, au);
    INFO(r.name << ": min_max " << mm << ", mse " << ms << ", automatic " << au);
    CHECK(au <= r.target);
    // Up to 4 bits automatic is the search (binary: mean |x|), above it min-max.
    if (r.w.f.bits <= 4 && r.a.f.bits <= 4) CHECK(au == ms);
    if (r.w.f.bits > 4 && r.a.f.bits > 4) CHECK(au == mm);
    CHECK(au <= mm);
  }
  const double conv_mm = conv_error({o(1), sym}, {o(1), sym}, quant_calibration::min_max);
  const double conv_auto = conv_error({o(1), sym}, {o(1), sym}, quant_calibration::automatic);
  const double conv2_mm = conv_error({s(2), sym}, {s(2), sym}, quant_calibration::min_max);
  const double conv2_auto = conv_error({s(2), sym}, {s(2), sym}, quant_calibration::automatic);
  std::printf(
      "3x3 conv 16x16x64 -> 64: w1a1 binary min_max %.4f automatic %.4f; w2a2 signed "
      "min_max %.4f automatic %.4f\n",
      conv_mm, conv_auto, conv2_mm, conv2_auto);
  CHECK(conv_auto <= 0.80);
  CHECK(conv2_auto <= 0.55);
}

TEST_CASE("the search is never worse than min-max and close to a dense grid", "[calibration]") {
  const std::vector<float> g = gaussian(2000, 7);
  std::vector<float> heavy = g;  // one outlier: min-max spends the levels on it
  heavy[5] = 40.0f;
  std::vector<float> pos(g.size());
  for (std::size_t i = 0; i < g.size(); ++i) pos[i] = std::fabs(g[i]);
  const std::vector<float> tiny(g.begin(), g.begin() + 9);  // a 3x3 kernel's worth
  const std::vector<float>* sets[] = {&g, &heavy, &pos, &tiny};
  for (const std::vector<float>* data : sets)
    for (int b = 1; b <= 8; ++b)
      for (format f : test::all_formats(b))
        for (quant_mode mode : {sym, asym}) {
          if (f.enc == encoding::unsigned_int && mode == sym && data != &pos) continue;
          quant_params mm, ms;
          const status s1 = choose_quant_params(data->data(), data->size(), f, mode,
                                                quant_calibration::min_max, mm);
          const status s2 =
              choose_quant_params(data->data(), data->size(), f, mode, quant_calibration::mse, ms);
          REQUIRE(s1.code() == s2.code());
          if (!s1.ok()) continue;
          INFO(b << "-bit " << encoding_name(f.enc) << " mode " << int(mode) << " n "
                 << data->size());
          const double e_mm = sq_error(*data, f, mm), e_ms = sq_error(*data, f, ms);
          CHECK(e_ms <= e_mm);
          // A dense linear grid over the symmetric scale finds nothing clearly better.
          if (mode == sym && b <= 4 && data->size() > 9 &&
              !(b == 1 && f.enc == encoding::odd_symmetric)) {
            double best = e_mm;
            for (int i = 1; i <= 500; ++i) {
              const float sc = mm.scale * static_cast<float>(i) / 500.0f;
              if (sc > 0.0f) best = std::min(best, sq_error(*data, f, {sc, 0}));
            }
            CHECK(e_ms <= best * 1.002);
          }
        }
}

TEST_CASE("the search rounds as quantize does", "[calibration]") {
  // detail::nearest_value_in_range (no libm) against detail::nearest_value on ties, halves,
  // signed zeros, subnormals and random values, every format.
  std::mt19937 rng(19);
  for (int b = 1; b <= 8; ++b)
    for (format f : test::all_formats(b)) {
      const float lo = static_cast<float>(min_value(f)), hi = static_cast<float>(max_value(f));
      std::vector<float> ys = {0.0f, -0.0f, 1e-45f, -1e-45f, 1e-30f, -1e-30f, lo, hi};
      for (float y = lo; y <= hi; y += 0.25f) ys.push_back(y);
      for (float y = lo; y <= hi; y += 1.0f) {
        ys.push_back(std::nextafter(y + 0.5f, -1000.0f));
        ys.push_back(std::nextafter(y + 0.5f, 1000.0f));
        ys.push_back(std::nextafter(y, -1000.0f));
        ys.push_back(std::nextafter(y, 1000.0f));
      }
      std::uniform_real_distribution<float> dist(lo, hi);
      for (int i = 0; i < 2000; ++i) ys.push_back(dist(rng));
      for (float y : ys) {
        if (!(y >= lo && y <= hi)) continue;
        INFO(b << "-bit " << encoding_name(f.enc) << " y " << y);
        REQUIRE(detail::nearest_value_in_range(f, y) == detail::nearest_value(f, y));
      }
    }
}

TEST_CASE("binary scale: mean |x| and its errors", "[calibration]") {
  const std::vector<float> g = gaussian(1001, 9);
  double sum = 0;
  for (float v : g) sum += std::fabs(v);
  quant_params p, q, r;
  REQUIRE(choose_quant_params(g.data(), g.size(), o(1), sym, quant_calibration::mean_abs, p).ok());
  CHECK(p.scale == static_cast<float>(sum / 1001.0));
  CHECK(p.zero_point == 0);
  // The MSE choice for binary is that same scale (it is the exact minimizer), and automatic.
  REQUIRE(choose_quant_params(g.data(), g.size(), o(1), sym, quant_calibration::mse, q).ok());
  REQUIRE(choose_quant_params(g.data(), g.size(), o(1), sym, r).ok());
  CHECK(q.scale == p.scale);
  CHECK(r.scale == p.scale);
  CHECK(sq_error(g, o(1), p) <= sq_error(g, o(1), {p.scale * 1.01f, 0}));
  CHECK(sq_error(g, o(1), p) <= sq_error(g, o(1), {p.scale * 0.99f, 0}));
  // Other formats refuse mean_abs; a value outside the enum is refused.
  const status s1 =
      choose_quant_params(g.data(), g.size(), s(2), sym, quant_calibration::mean_abs, p);
  CHECK(s1.code() == errc::unsupported_format);
  CHECK(std::string(s1.argument()) == "calibration (mean_abs needs 1-bit odd_symmetric)");
  const status s2 =
      choose_quant_params(g.data(), g.size(), s(2), sym, static_cast<quant_calibration>(9), p);
  CHECK(s2.code() == errc::invalid_argument);
  CHECK(std::string(s2.argument()) == "calibration");
  CHECK(s2.value() == 9);
  // All-zero data keeps scale 1 whatever the method.
  const float zeros[4] = {};
  for (quant_calibration m : {quant_calibration::min_max, quant_calibration::mse,
                              quant_calibration::mean_abs, quant_calibration::automatic}) {
    quant_params z{0.5f, 3};
    REQUIRE(choose_quant_params(zeros, 4, o(1), sym, m, z).ok());
    CHECK(z.scale == 1.0f);
    CHECK(z.zero_point == 0);
  }
}

TEST_CASE("automatic: the search up to 4 bits, min-max above", "[calibration]") {
  const std::vector<float> g = gaussian(700, 11);
  for (int b = 1; b <= 8; ++b)
    for (format f : test::all_formats(b))
      for (quant_mode mode : {sym, asym}) {
        if (f.enc == encoding::unsigned_int && mode == sym) continue;
        quant_params au, want;
        const status s1 = choose_quant_params(g.data(), g.size(), f, mode, au);
        const status s2 =
            choose_quant_params(g.data(), g.size(), f, mode,
                                b <= 4 ? quant_calibration::mse : quant_calibration::min_max, want);
        REQUIRE(s1.code() == s2.code());
        if (!s1.ok()) continue;
        CHECK(au.scale == want.scale);
        CHECK(au.zero_point == want.zero_point);
      }
}

TEST_CASE("per channel: each row as alone, nothing written on a bad row", "[calibration]") {
  const std::size_t n = 6, k = 40, ld = 43;
  std::vector<float> w = gaussian(n * ld, 13);
  for (quant_calibration m :
       {quant_calibration::min_max, quant_calibration::mse, quant_calibration::automatic})
    for (quant_mode mode : {sym, asym}) {
      std::vector<quant_params> per(n);
      REQUIRE(choose_quant_params_per_channel(w.data(), n, k, ld, s(3), mode, m, per.data()).ok());
      for (std::size_t r = 0; r < n; ++r) {
        quant_params one;
        REQUIRE(choose_quant_params(w.data() + r * ld, k, s(3), mode, m, one).ok());
        CHECK(per[r].scale == one.scale);
        CHECK(per[r].zero_point == one.zero_point);
      }
    }
  w[4 * ld + 7] = NAN;
  std::vector<quant_params> per(n, quant_params{0.25f, 1});
  const status st = choose_quant_params_per_channel(w.data(), n, k, ld, s(3), sym, per.data());
  CHECK(st.code() == errc::invalid_argument);
  CHECK(st.value() == 7);
  for (const quant_params& p : per) CHECK((p.scale == 0.25f && p.zero_point == 1));
  const status s0 = choose_quant_params_per_channel(w.data(), n, 0, ld, s(3), sym, per.data());
  CHECK(s0.code() == errc::invalid_dimension);
  CHECK(std::string(s0.argument()) == "n");
  const status s1 = choose_quant_params_per_channel(w.data(), n, k, ld, s(3), sym,
                                                    static_cast<quant_calibration>(4), per.data());
  CHECK(s1.code() == errc::invalid_argument);
  CHECK(std::string(s1.argument()) == "calibration");
}

TEST_CASE("pack_weights_from_float: the caller's parameters and the codes returned",
          "[calibration]") {
  const std::size_t n = 9, k = 70, m = 5;
  const std::vector<float> w = gaussian(n * k, 17);
  const format wf = s(2), af = u(4);
  std::vector<float> scales(n);
  std::vector<std::int32_t> zeros(n);
  for (std::size_t r = 0; r < n; ++r) {
    scales[r] = 0.3f + 0.05f * static_cast<float>(r);
    zeros[r] = static_cast<std::int32_t>(r % 3) - 1;
  }
  from_float_options fo;
  fo.scales = scales.data();
  fo.zero_points = zeros.data();
  const std::size_t codes_ld = k + 3;
  std::vector<std::uint8_t> got(n * codes_ld, 0xEE);
  fo.codes_out = got.data();
  fo.codes_ld = codes_ld;
  packed_weights pw;
  std::vector<float> s_out(n);
  std::vector<std::int32_t> z_out(n);
  REQUIRE(
      pack_weights_from_float(w.data(), n, k, k, wf, af, fo, pw, s_out.data(), z_out.data()).ok());
  std::vector<quant_params> params(n);
  for (std::size_t r = 0; r < n; ++r) params[r] = {scales[r], zeros[r]};
  std::vector<std::uint8_t> want(n * k);
  REQUIRE(quantize_per_channel(w.data(), n, k, k, wf, params.data(), want.data(), k).ok());
  for (std::size_t r = 0; r < n; ++r) {
    CHECK(s_out[r] == scales[r]);
    CHECK(z_out[r] == zeros[r]);
    for (std::size_t x = 0; x < k; ++x) REQUIRE(got[r * codes_ld + x] == want[r * k + x]);
    for (std::size_t x = k; x < codes_ld; ++x) REQUIRE(got[r * codes_ld + x] == 0xEE);
  }
  // The packed weights are those codes: the integer GEMM equals the one of weights packed from
  // them.
  packed_weights ref;
  REQUIRE(pack_weights(codes(want.data(), n, k), wf, af, ref).ok());
  std::vector<std::uint8_t> a(m * k);
  for (std::size_t i = 0; i < a.size(); ++i) a[i] = static_cast<std::uint8_t>((i * 7) % 16);
  std::vector<std::int32_t> c1(m * n), c2(m * n);
  REQUIRE(gemm(codes(a.data(), m, k), af, pw, int32_output{c1.data()}).ok());
  REQUIRE(gemm(codes(a.data(), m, k), af, ref, int32_output{c2.data()}).ok());
  CHECK(c1 == c2);

  // Calibrated, with the codes and without the parameter outputs.
  from_float_options cal;
  cal.calibration = quant_calibration::mse;
  std::vector<std::uint8_t> got2(n * k);
  cal.codes_out = got2.data();
  REQUIRE(pack_weights_from_float(w.data(), n, k, k, wf, af, cal, pw, nullptr, nullptr).ok());
  REQUIRE(choose_quant_params_per_channel(w.data(), n, k, k, wf, sym, quant_calibration::mse,
                                          params.data())
              .ok());
  REQUIRE(quantize_per_channel(w.data(), n, k, k, wf, params.data(), want.data(), k).ok());
  CHECK(got2 == want);
  // The old signature uses automatic (here the search: 2 bits).
  REQUIRE(
      pack_weights_from_float(w.data(), n, k, k, wf, af, sym, pw, s_out.data(), z_out.data()).ok());
  for (std::size_t r = 0; r < n; ++r) CHECK(s_out[r] == params[r].scale);

  // Errors: nothing written, weights left empty.
  std::vector<std::uint8_t> untouched(n * codes_ld, 0xEE);
  fo.codes_out = untouched.data();
  scales[4] = 0.0f;
  status st = pack_weights_from_float(w.data(), n, k, k, wf, af, fo, pw, s_out.data(), nullptr);
  CHECK(st.code() == errc::invalid_argument);
  CHECK(std::string(st.argument()) == "options.scales");
  CHECK(st.value() == 4);
  CHECK(pw.empty());
  scales[4] = 1.0f;
  fo.codes_ld = k - 1;
  st = pack_weights_from_float(w.data(), n, k, k, wf, af, fo, pw, nullptr, nullptr);
  CHECK(st.code() == errc::leading_dimension_too_small);
  CHECK(std::string(st.argument()) == "options.codes_ld");
  fo.codes_ld = 4;  // rows past size_t: refused before any row is read
  st = pack_weights_from_float(w.data(), SIZE_MAX / 2, 4, 4, wf, af, fo, pw, nullptr, nullptr);
  CHECK(st.code() == errc::size_overflow);
  CHECK(std::string(st.argument()) == "N * options.codes_ld");
  fo.codes_ld = 0;
  st = pack_weights_from_float(w.data(), n, k, k, {9, encoding::signed_int}, af, fo, pw, nullptr,
                               nullptr);
  CHECK(st.code() == errc::invalid_bits);
  st = pack_weights_from_float(w.data(), n, k, k, wf, {9, encoding::unsigned_int}, fo, pw, nullptr,
                               nullptr);
  CHECK(st.code() == errc::invalid_bits);
  for (std::uint8_t c : untouched) REQUIRE(c == 0xEE);
  CHECK(pw.empty());
}

namespace {

// Rows x 512 values dequantized through per-row parameters (quantize_per_channel's codes).
std::vector<float> round_trip(const std::vector<float>& x, std::size_t rows, format f,
                              const std::vector<quant_params>& p) {
  const std::size_t k = x.size() / rows;
  std::vector<std::uint8_t> c(x.size());
  std::vector<float> back(x.size());
  REQUIRE(quantize_per_channel(x.data(), rows, k, k, f, p.data(), c.data(), k).ok());
  for (std::size_t r = 0; r < rows; ++r)
    REQUIRE(dequantize(codes(c.data() + r * k, 1, k), f, p[r], back.data() + r * k).ok());
  return back;
}

double relative_sq(const std::vector<float>& x, const std::vector<float>& q) {
  double num = 0, den = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    num += (double(q[i]) - x[i]) * (double(q[i]) - x[i]);
    den += double(x[i]) * x[i];
  }
  return num / den;
}

// Squared output error of weight row j (k values) against y[:, j] (m x n, exact).
double row_output_error(const std::vector<float>& aq, std::size_t m, const float* wq,
                        const std::vector<double>& y, std::size_t n, std::size_t j) {
  const std::size_t k = aq.size() / m;
  double e = 0;
  for (std::size_t r = 0; r < m; ++r) {
    double s = 0;
    for (std::size_t x = 0; x < k; ++x) s += double(aq[r * k + x]) * wq[x];
    e += (s - y[r * n + j]) * (s - y[r * n + j]);
  }
  return e;
}

// Squared error of the best uniform grid of `levels` values (value_u = first + 2 u / step_units,
// times a step) for a standard Gaussian, from closed forms per rounding cell: the integral of
// (x - l)^2 phi(x) over [lo, hi] is [Phi - x phi]_lo^hi + 2 l [phi]_lo^hi + l^2 [Phi]_lo^hi.
double gaussian_grid_error(const std::vector<double>& unit_levels, double& best_step) {
  const auto phi = [](double x) {
    return std::exp(-0.5 * x * x) / std::sqrt(2 * 3.141592653589793);
  };
  const auto cdf = [](double x) { return 0.5 * std::erfc(-x / std::sqrt(2.0)); };
  double best = 1e9;
  for (int i = 0; i <= 8000; ++i) {
    const double step = 0.30 + i * 1e-5;
    double e = 0;
    for (std::size_t c = 0; c < unit_levels.size(); ++c) {
      const double l = unit_levels[c] * step;
      const double lo = c == 0 ? -40.0 : 0.5 * (unit_levels[c - 1] * step + l);
      const double hi = c + 1 == unit_levels.size() ? 40.0 : 0.5 * (l + unit_levels[c + 1] * step);
      e += (cdf(hi) - hi * phi(hi)) - (cdf(lo) - lo * phi(lo)) + 2 * l * (phi(hi) - phi(lo)) +
           l * l * (cdf(hi) - cdf(lo));
    }
    if (e < best) {
      best = e;
      best_step = step;
    }
  }
  return best;
}

}  // namespace

// Hidden (run by hand, about 10 s; docs/quantize.md, "Why signed w4a4 stays above 0.15"):
// the w4a4 error floor of the Linear experiment, in the same data. Prints each operand's
// relative squared error e and the floor sqrt(e_w + e_a - e_w e_a); the error when the
// activation scale is scanned around the default; and scales fitted to the layer's output
// (every weight row's scale chosen to minimise its output error) on the test activations
// themselves and on other activations, scored on the test ones.
TEST_CASE("calibration floor of w4a4 (by hand)", "[.floor]") {
  std::vector<double> signed_levels, odd_levels;
  for (int q = -8; q <= 7; ++q) signed_levels.push_back(q);
  for (int u = 0; u < 16; ++u) odd_levels.push_back((2 * u - 15) / 2.0);  // step = level spacing
  double s_step = 0, o_step = 0;
  const double es = gaussian_grid_error(signed_levels, s_step),
               eo = gaussian_grid_error(odd_levels, o_step);
  std::printf(
      "Gaussian population: -8..7 e %.5f (step %.4f), 16 symmetric levels e %.5f (step "
      "%.4f); floors %.4f and %.4f\n",
      es, s_step, eo, o_step, std::sqrt(2 * es - es * es), std::sqrt(2 * eo - eo * eo));
  const std::size_t m = 64, k = 512, n = 256;
  const std::vector<float> w = gaussian(n * k, 1), a = gaussian(m * k, 2), a2 = gaussian(m * k, 3);
  const auto exact = [&](const std::vector<float>& act) {
    std::vector<double> y(m * n);
    for (std::size_t i = 0; i < m; ++i)
      for (std::size_t j = 0; j < n; ++j) {
        double s = 0;
        for (std::size_t x = 0; x < k; ++x) s += double(act[i * k + x]) * w[j * k + x];
        y[i * n + j] = s;
      }
    return y;
  };
  const std::vector<double> y = exact(a), y2 = exact(a2);
  const auto error_on = [&](const std::vector<float>& wq, const std::vector<float>& aq,
                            const std::vector<double>& ref) {
    double num = 0, den = 0;
    for (std::size_t j = 0; j < n; ++j) {
      num += row_output_error(aq, m, wq.data() + j * k, ref, n, j);
      for (std::size_t r = 0; r < m; ++r) den += ref[r * n + j] * ref[r * n + j];
    }
    return std::sqrt(num / den);
  };
  for (encoding enc : {encoding::signed_int, encoding::odd_symmetric}) {
    const format f{4, enc};
    std::vector<quant_params> wp(n);
    REQUIRE(choose_quant_params_per_channel(w.data(), n, k, k, f, sym, quant_calibration::mse,
                                            wp.data())
                .ok());
    quant_params ap;
    REQUIRE(choose_quant_params(a.data(), a.size(), f, sym, quant_calibration::mse, ap).ok());
    const std::vector<float> wq = round_trip(w, n, f, wp),
                             aq = round_trip(a, m, f, std::vector<quant_params>(m, ap));
    const double ew = relative_sq(w, wq), ea = relative_sq(a, aq);
    std::printf("w4a4 %s: e_w %.5f e_a %.5f floor %.4f measured %.4f\n", encoding_name(enc), ew, ea,
                std::sqrt(ew + ea - ew * ea), error_on(wq, aq, y));
    // The activation scale times 2^(i/64), i = -12..12, weights as chosen.
    double best = 1e9, best_factor = 0;
    for (int i = -12; i <= 12; ++i) {
      const double factor = std::pow(2.0, i / 64.0);
      const quant_params p{static_cast<float>(ap.scale * factor), 0};
      const double e = error_on(wq, round_trip(a, m, f, std::vector<quant_params>(m, p)), y);
      if (e < best) {
        best = e;
        best_factor = factor;
      }
    }
    std::printf("  activation scale scanned: best %.4f at x%.4f\n", best, best_factor);
    // Every weight row's scale times 2^(t/128), t = -16..16, chosen for its output error on
    // `fit` activations; scored there and on the test activations.
    for (int held_out = 0; held_out < 2; ++held_out) {
      const std::vector<float>& fit = held_out ? a2 : a;
      const std::vector<double>& fit_y = held_out ? y2 : y;
      const std::vector<float> fit_q = round_trip(fit, m, f, std::vector<quant_params>(m, ap));
      std::vector<quant_params> fitted = wp;
      for (std::size_t j = 0; j < n; ++j) {
        const std::vector<float> row(w.begin() + j * k, w.begin() + (j + 1) * k);
        double row_best = 1e300;
        for (int t = -16; t <= 16; ++t) {
          const quant_params p{static_cast<float>(wp[j].scale * std::pow(2.0, t / 128.0)), 0};
          const std::vector<float> rq = round_trip(row, 1, f, {p});
          const double e = row_output_error(fit_q, m, rq.data(), fit_y, n, j);
          if (e < row_best) {
            row_best = e;
            fitted[j] = p;
          }
        }
      }
      const std::vector<float> wf = round_trip(w, n, f, fitted);
      std::printf("  weight scales fitted to the output of %s: %.4f there, %.4f on the test\n",
                  held_out ? "other activations (seed 3)" : "the test activations",
                  error_on(wf, fit_q, fit_y), error_on(wf, aq, y));
    }
  }
  // Mixed encodings, as the table's experiment (linear_error) runs them.
  std::printf("w odd-symmetric a signed %.4f, w signed a odd-symmetric %.4f\n",
              linear_error({o(4), sym}, {s(4), sym}, quant_calibration::automatic),
              linear_error({s(4), sym}, {o(4), sym}, quant_calibration::automatic));
  // Other draws of the same experiment (signed w4a4): the default against the activation
  // scale factor (2^(i/32), i = -6..6) that is best on that draw itself.
  const format f4{4, encoding::signed_int};
  double sum_default = 0, sum_best = 0;
  int draws = 0;
  for (std::uint32_t w_seed = 1; w_seed <= 3; ++w_seed)
    for (std::uint32_t a_seed = 10; a_seed <= 13; ++a_seed) {
      const std::vector<float> wd = gaussian(n * k, w_seed), ad = gaussian(m * k, a_seed);
      std::vector<double> yd(m * n);
      for (std::size_t i = 0; i < m; ++i)
        for (std::size_t j = 0; j < n; ++j) {
          double acc = 0;
          for (std::size_t x = 0; x < k; ++x) acc += double(ad[i * k + x]) * wd[j * k + x];
          yd[i * n + j] = acc;
        }
      std::vector<quant_params> wp(n);
      REQUIRE(choose_quant_params_per_channel(wd.data(), n, k, k, f4, sym, quant_calibration::mse,
                                              wp.data())
                  .ok());
      quant_params ap;
      REQUIRE(choose_quant_params(ad.data(), ad.size(), f4, sym, quant_calibration::mse, ap).ok());
      const std::vector<float> wq = round_trip(wd, n, f4, wp);
      double def = 0, best = 1e9, best_factor = 0;
      for (int i = -6; i <= 6; ++i) {
        const double factor = std::pow(2.0, i / 32.0);
        const quant_params p{static_cast<float>(ap.scale * factor), 0};
        const std::vector<float> aq = round_trip(ad, m, f4, std::vector<quant_params>(m, p));
        double num = 0, den = 0;
        for (std::size_t j = 0; j < n; ++j) {
          num += row_output_error(aq, m, wq.data() + j * k, yd, n, j);
          for (std::size_t r = 0; r < m; ++r) den += yd[r * n + j] * yd[r * n + j];
        }
        const double e = std::sqrt(num / den);
        if (i == 0) def = e;
        if (e < best) {
          best = e;
          best_factor = factor;
        }
      }
      std::printf("  draw w %u a %u: default %.4f, best %.4f at x%.3f\n", w_seed, a_seed, def, best,
                  best_factor);
      sum_default += def;
      sum_best += best;
      ++draws;
    }
  std::printf("  mean over %d draws: default %.4f, best on each draw %.4f\n", draws,
              sum_default / draws, sum_best / draws);
}
