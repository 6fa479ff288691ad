// Output stages fused into the GEMM: zero points, float dequantization, integer requantization
// with the documented rounding rule, against the reference computed outside the library's driver.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "gemm_tester.hpp"
#include "lowbit/dispatch/select.hpp"
#include "lowbit/driver/epilogue.hpp"
#include "lowbit/gemm.hpp"
#include "lowbit/output.hpp"
#include "lowbit/reference.hpp"

using namespace lowbit;

namespace {

struct problem {
  format wf, af;
  std::size_t m, n, k;
  std::vector<std::uint8_t> a, w;
  std::int32_t a_zero;
  std::vector<std::int32_t> w_zeros;
  std::vector<std::int64_t> t;  // exact sum (a - za)(w - zw)

  problem(format wf_, format af_, std::size_t m_, std::size_t n_, std::size_t k_, unsigned seed)
      : wf(wf_), af(af_), m(m_), n(n_), k(k_), a(m_ * k_), w(n_ * k_), w_zeros(n_), t(m_ * n_) {
    std::mt19937 rng(seed);
    for (auto& x : a) x = test::random_code(rng, af, 0);
    for (auto& x : w) x = test::random_code(rng, wf, 0);
    a_zero = static_cast<std::int32_t>(rng() % 5) - 2;
    for (auto& z : w_zeros) z = static_cast<std::int32_t>(rng() % 7) - 3;
    for (std::size_t i = 0; i < m; ++i)
      for (std::size_t j = 0; j < n; ++j) {
        std::int64_t s = 0;
        for (std::size_t x = 0; x < k; ++x)
          s += (std::int64_t{value_at(codes(a.data(), m, k), af, i, x)} - a_zero) *
               (std::int64_t{value_at(codes(w.data(), n, k), wf, j, x)} - w_zeros[j]);
        t[i * n + j] = s;
      }
  }
  zero_points zeros() const { return {a_zero, w_zeros.data(), n}; }
};

}  // namespace

TEST_CASE("int32 output with activation and per-channel weight zero points", "[output]") {
  for (int wb : {1, 2, 4, 8})
    for (format wf : test::all_formats(wb))
      for (format af : {format{2, encoding::unsigned_int}, format{8, encoding::unsigned_int},
                        format{1, encoding::odd_symmetric}, format{3, encoding::signed_int}}) {
        problem p(wf, af, 11, 37, 129, 5);
        packed_weights pw;
        REQUIRE(pack_weights(codes(p.w.data(), p.n, p.k), wf, af, pw).ok());
        std::vector<std::int32_t> c(p.m * p.n);
        REQUIRE(
            gemm(codes(p.a.data(), p.m, p.k), af, pw, int32_output{c.data(), p.n, p.zeros()}).ok());
        for (std::size_t i = 0; i < c.size(); ++i) REQUIRE(c[i] == p.t[i]);
      }
}

TEST_CASE("int8 kernels storing weight values: exact with and without zero points", "[output]") {
  // Kernels with pack_w_offset store signed, unsigned (< 8 bits) and ternary weights as their
  // values: no row sums, and with unsigned activations the kernel writes C itself (full tiles).
  std::vector<const kernels::ukernel_desc*> ks;
  detail::for_each_ukernel([&](const kernels::ukernel_desc& d) {
    if (d.pack_w_offset != nullptr && (d.features & ~detail::host_features()) == 0)
      ks.push_back(&d);
  });
  for (const kernels::ukernel_desc* d : ks)
    for (int wb = 1; wb <= 8; ++wb)
      for (format wf : test::all_formats(wb))
        for (format af : {format{2, encoding::unsigned_int}, format{8, encoding::unsigned_int},
                          format{3, encoding::signed_int}, format{1, encoding::odd_symmetric}}) {
          INFO("kernel " << d->name << " w " << wb << " " << encoding_name(wf.enc) << " a "
                         << af.bits << " " << encoding_name(af.enc));
          problem p(wf, af, 2u * d->mr + 3, 2u * d->nr + 5, 131, 7);
          pack_options opt;
          opt.kernel_name = d->name;
          packed_weights pw;
          REQUIRE(pack_weights(codes(p.w.data(), p.n, p.k), wf, af, pw, opt).ok());
          REQUIRE(std::string(pw.kernel_name()) == d->name);
          const affine_map mw = affine_of(wf);
          const bool values =
              mw.alpha == 1 && -mw.beta <= 128 && static_cast<int>(code_mask(wf)) + mw.beta <= 127;
          CHECK(pw.w_offset() == (values ? -mw.beta : d->w_offset));
          std::vector<std::int32_t> c(p.m * p.n, 0x5EED);
          REQUIRE(gemm(codes(p.a.data(), p.m, p.k), af, pw, int32_output{c.data(), p.n, p.zeros()})
                      .ok());
          for (std::size_t i = 0; i < c.size(); ++i) REQUIRE(c[i] == p.t[i]);
          REQUIRE(gemm(codes(p.a.data(), p.m, p.k), af, pw, int32_output{c.data()}).ok());
          for (std::size_t i = 0; i < p.m; ++i)
            for (std::size_t j = 0; j < p.n; ++j) {
              std::int64_t s = 0;
              for (std::size_t x = 0; x < p.k; ++x)
                s += std::int64_t{value_at(codes(p.a.data(), p.m, p.k), af, i, x)} *
                     value_at(codes(p.w.data(), p.n, p.k), wf, j, x);
              REQUIRE(c[i * p.n + j] == s);
            }
        }
}

TEST_CASE("the epilogue algebra: grouped terms and one-group coefficients are the exact sum",
          "[output][epilogue]") {
  // Random u-codes through the kernel's view (offsets ao, wo; K padded with u = 0 to the K
  // step) against the exact sum of (a - za)(w - zw), per K group and over all of K.
  std::mt19937 rng(26);
  const auto pick = [&](int lo, int hi) { return lo + static_cast<int>(rng() % (hi - lo + 1)); };
  const auto u32 = [](std::int64_t v) { return static_cast<std::uint32_t>(v); };
  for (int wb = 1; wb <= 8; ++wb)
    for (format wf : test::all_formats(wb))
      for (format af : test::all_formats(pick(1, 8))) {
        const int ao = pick(-128, 128), wo = pick(-128, 128), step = 1 << pick(0, 3);
        const std::int32_t za = pick(min_value(af), max_value(af));
        const std::size_t kg = static_cast<std::size_t>(pick(1, 40)), groups = 3;
        const std::size_t k = kg * groups - static_cast<std::size_t>(pick(0, 3) % kg);
        const detail::epilogue_algebra e = detail::make_epilogue_algebra(af, wf, ao, wo, za);
        const affine_map ma = affine_of(af), mw = affine_of(wf);
        std::vector<int> ua(k), uw(k);
        for (auto& u : ua) u = pick(0, static_cast<int>(code_mask(af)));
        for (auto& u : uw) u = pick(0, static_cast<int>(code_mask(wf)));
        INFO("w " << wb << " " << encoding_name(wf.enc) << " a " << af.bits << " "
                  << encoding_name(af.enc) << " ao " << ao << " wo " << wo << " za " << za);
        // S' with padding, Sa, Sw and the exact T over [k0, k1), for zero point zw.
        const auto terms = [&](std::size_t k0, std::size_t k1, std::int32_t zw, std::uint32_t& s,
                               std::uint32_t& sa, std::uint32_t& sw, std::uint32_t& kp) {
          s = sa = sw = 0;
          std::int64_t t = 0;
          const std::size_t padded = k0 + (k1 - k0 + step - 1) / step * step;
          for (std::size_t x = k0; x < padded; ++x) {
            const int a = x < k1 ? ua[x] : 0, w = x < k1 ? uw[x] : 0;
            s += u32(std::int64_t{a - ao} * (w - wo));
            if (x >= k1) continue;
            sa += u32(a);
            sw += u32(w);
            t += std::int64_t{ma.alpha * a + ma.beta - za} * (mw.alpha * w + mw.beta - zw);
          }
          kp = u32(static_cast<std::int64_t>(padded - k0));
          return static_cast<std::int32_t>(t);
        };
        std::uint32_t s, sa, sw, kp;
        // One group, all of K: T = alpha*S' + rowcoef*Sa + colconst (make_coefficients).
        const std::int32_t zw = pick(min_value(wf), max_value(wf));
        const std::int32_t t = terms(0, k, zw, s, sa, sw, kp);
        const zero_points z{za, &zw, 1};
        std::uint32_t rowcoef = 0, colconst = 0;
        detail::make_coefficients(e, z, &sw, 1, k, kp, &rowcoef, &colconst);
        CHECK(static_cast<std::int32_t>(e.alpha * s + rowcoef * sa + colconst) == t);
        CHECK(detail::row_sums_needed(wo, af, wf, z, 1) == (rowcoef != 0));
        // Per group, each with its own zero point: T_g = alpha*S'_g + x*y + p + c1*Sw_g.
        for (std::size_t g = 0; g < groups; ++g) {
          const std::int32_t zg = pick(min_value(wf), max_value(wf));
          const std::size_t k0 = g * kg, k1 = std::min(k, k0 + kg);
          const std::int32_t tg = terms(k0, k1, zg, s, sa, sw, kp);
          const std::uint32_t x = e.x(zg);
          CHECK(static_cast<std::int32_t>(e.alpha * s + x * e.y(sa, u32(k1 - k0)) + e.p(sa, kp) +
                                          e.c1 * sw) == tg);
          CHECK(static_cast<std::int32_t>(e.alpha * s + e.rowcoef(x) * sa +
                                          e.colconst(sw, x, u32(k1 - k0), kp)) == tg);
        }
      }
}

TEST_CASE("float output: scales, bias, clamp", "[output]") {
  const format wf{2, encoding::signed_int}, af{2, encoding::unsigned_int};
  problem p(wf, af, 9, 21, 70, 3);
  std::vector<float> scales(p.n), bias(p.n), out(p.m * p.n);
  for (std::size_t j = 0; j < p.n; ++j) {
    scales[j] = 0.01f * static_cast<float>(j + 1);
    bias[j] = 0.5f - 0.1f * static_cast<float>(j);
  }
  packed_weights pw;
  REQUIRE(pack_weights(codes(p.w.data(), p.n, p.k), wf, af, pw).ok());
  for (int relu6 = 0; relu6 < 2; ++relu6) {
    float_output o;
    o.data = out.data();
    o.a_scale = 0.25f;
    o.w_scales = scales.data();
    o.w_scale_count = p.n;
    o.bias = bias.data();
    o.zeros = p.zeros();
    if (relu6) {
      o.clamp_min = 0.0f;
      o.clamp_max = 6.0f;
    }
    REQUIRE(gemm(codes(p.a.data(), p.m, p.k), af, pw, o).ok());
    for (std::size_t i = 0; i < p.m; ++i)
      for (std::size_t j = 0; j < p.n; ++j) {
        double e = static_cast<double>(p.t[i * p.n + j]) * 0.25 * scales[j] + bias[j];
        if (relu6) e = std::min(6.0, std::max(0.0, e));
        REQUIRE(out[i * p.n + j] == Approx(e).epsilon(1e-6).margin(1e-6));
      }
  }
}

TEST_CASE("fixed-point multiplier and the rounding rule", "[output][requantize]") {
  fixed_multiplier m;
  REQUIRE(make_fixed_multiplier(0.5, m).ok());
  CHECK(detail::apply_multiplier(3, m) == 2);    // 1.5 -> 2, halves away from zero
  CHECK(detail::apply_multiplier(-3, m) == -2);  // -1.5 -> -2
  CHECK(detail::apply_multiplier(5, m) == 3);    // 2.5 -> 3
  CHECK(detail::apply_multiplier(4, m) == 2);
  REQUIRE(make_fixed_multiplier(0.1, m).ok());
  CHECK(detail::apply_multiplier(1000, m) == 100);
  CHECK(detail::apply_multiplier(-15, m) == -1);  // m0 is just below 0.1: -1.4999999 -> -1
  CHECK(detail::apply_multiplier(14, m) == 1);    // 1.4 -> 1
  REQUIRE(make_fixed_multiplier(3.0, m).ok());
  CHECK(detail::apply_multiplier(7, m) == 21);
  CHECK(detail::apply_multiplier(1 << 30, m) == 2147483647);  // saturates
  CHECK_FALSE(make_fixed_multiplier(-1.0, m).ok());
  // Against double arithmetic over many values and multipliers.
  std::mt19937 rng(9);
  for (int i = 0; i < 20000; ++i) {
    const double real =
        std::ldexp(0.5 + (rng() % 1000) / 2000.0, static_cast<int>(rng() % 20) - 16);
    REQUIRE(make_fixed_multiplier(real, m).ok());
    const std::int32_t x = static_cast<std::int32_t>(rng() % 2000001) - 1000000;
    const double exact = static_cast<double>(x) * m.m0 * std::ldexp(1.0, m.shift - 31);
    const double rounded = std::round(exact);  // away from zero on halves, as the rule says
    REQUIRE(detail::apply_multiplier(x, m) == rounded);
  }
}

TEST_CASE("requantized output to 8-bit and low-bit codes chains into the next layer",
          "[output][requantize]") {
  const format wf{2, encoding::signed_int}, af{2, encoding::unsigned_int};
  problem p(wf, af, 13, 40, 96, 11);
  std::vector<fixed_multiplier> mult(p.n);
  std::vector<std::int32_t> bias(p.n);
  for (std::size_t j = 0; j < p.n; ++j) {
    REQUIRE(make_fixed_multiplier(0.02 + 0.003 * j, mult[j]).ok());
    bias[j] = static_cast<std::int32_t>(j) * 3 - 50;
  }
  packed_weights pw;
  REQUIRE(pack_weights(codes(p.w.data(), p.n, p.k), wf, af, pw).ok());
  for (format of : {format{8, encoding::unsigned_int}, format{8, encoding::signed_int},
                    format{2, encoding::unsigned_int}, format{4, encoding::signed_int},
                    format{2, encoding::odd_symmetric}, format{2, encoding::ternary},
                    format{1, encoding::odd_symmetric}}) {
    std::vector<std::uint8_t> out(p.m * p.n, 0xCC);
    quantized_output q;
    q.data = out.data();
    q.out_format = of;
    q.out_zero = of.enc == encoding::unsigned_int ? (1 << (of.bits - 1)) : 0;
    q.multipliers = mult.data();
    q.multiplier_count = p.n;
    q.bias = bias.data();
    q.zeros = p.zeros();
    REQUIRE(gemm(codes(p.a.data(), p.m, p.k), af, pw, q).ok());
    for (std::size_t i = 0; i < p.m; ++i)
      for (std::size_t j = 0; j < p.n; ++j) {
        // The rule, spelled out with doubles.
        const double y = static_cast<double>(p.t[i * p.n + j] + bias[j]) * mult[j].m0 *
                         std::ldexp(1.0, mult[j].shift - 31);
        std::int64_t v = static_cast<std::int64_t>(std::round(y)) + q.out_zero;
        if (of.enc == encoding::odd_symmetric && v % 2 == 0) v += v >= 0 ? 1 : -1;
        v = std::max<std::int64_t>(min_value(of), std::min<std::int64_t>(max_value(of), v));
        const std::uint8_t byte = out[i * p.n + j];
        const std::uint32_t code = detail::code_of_byte(of, byte);
        REQUIRE(code <= 0xFF);  // a valid input byte for the next layer
        INFO("format bits " << of.bits << " " << encoding_name(of.enc) << " y " << y << " t "
                            << p.t[i * p.n + j] << " bias " << bias[j] << " m0 " << mult[j].m0
                            << " shift " << mult[j].shift << " j " << j);
        REQUIRE(code_value(of, code) == v);
      }
    // The output feeds the next layer as activations.
    packed_weights next;
    std::vector<std::uint8_t> w2(5 * p.n, 1);
    REQUIRE(pack_weights(codes(w2.data(), 5, p.n), {1, encoding::unsigned_int}, of, next).ok());
    std::vector<std::int32_t> c2(p.m * 5);
    REQUIRE(gemm(codes(out.data(), p.m, p.n), of, next, int32_output{c2.data()}).ok());
  }
}

#include "lowbit/executor.hpp"

TEST_CASE("per-group weight scales (k_group 32/64/128) on every qualifying kernel and threads",
          "[output][groups]") {
  for (std::size_t group : {32, 64, 128})
    for (auto [m, n, k] : {std::array<std::size_t, 3>{1, 70, 300}, {8, 33, 256}, {37, 20, 129}}) {
      for (format wf : {format{4, encoding::signed_int}, format{2, encoding::unsigned_int},
                        format{1, encoding::odd_symmetric}}) {
        const format af{8, encoding::unsigned_int};
        problem p(wf, af, m, n, k, static_cast<unsigned>(group + m));
        const std::size_t groups = (k + group - 1) / group;
        std::vector<float> gs(n * groups), bias(n);
        for (std::size_t i = 0; i < gs.size(); ++i) gs[i] = 0.001f * static_cast<float>(i % 17 + 1);
        for (std::size_t j = 0; j < n; ++j) bias[j] = 0.25f * static_cast<float>(j % 3);
        // Expected: exact per-group integer sums, scaled in double.
        std::vector<double> expect(m * n, 0.0);
        for (std::size_t i = 0; i < m; ++i)
          for (std::size_t j = 0; j < n; ++j) {
            double acc = 0;
            for (std::size_t g = 0; g < groups; ++g) {
              std::int64_t t = 0;
              for (std::size_t x = g * group; x < std::min(k, (g + 1) * group); ++x)
                t += (std::int64_t{value_at(codes(p.a.data(), m, k), af, i, x)} - p.a_zero) *
                     (std::int64_t{value_at(codes(p.w.data(), n, k), wf, j, x)} - p.w_zeros[j]);
              acc += double(gs[j * groups + g]) * double(t);
            }
            expect[i * n + j] = 0.5 * acc + bias[j];
          }
        std::vector<const kernels::ukernel_desc*> kernels;
        detail::for_each_ukernel([&](const kernels::ukernel_desc& d) {
          if ((d.features & ~detail::host_features()) == 0 && d.w_bits >= wf.bits &&
              d.a_bits >= af.bits && group % d.k_step == 0 && group <= d.kc_max)
            kernels.push_back(&d);
        });
        REQUIRE_FALSE(kernels.empty());
        for (const kernels::ukernel_desc* d : kernels) {
          pack_options opt;
          opt.k_group = group;
          opt.kernel_name = d->name;
          packed_weights pw;
          REQUIRE(pack_weights(codes(p.w.data(), n, k), wf, af, pw, opt).ok());
          REQUIRE(pw.k_group() == group);
          std::vector<float> out(m * n), out2(m * n);
          float_output o;
          o.data = out.data();
          o.a_scale = 0.5f;
          o.w_group_scales = gs.data();
          o.bias = bias.data();
          o.zeros = p.zeros();
          workspace ws;
          REQUIRE(gemm(codes(p.a.data(), m, k), af, pw, o, ws, nullptr).ok());
          thread_pool pool(3);
          o.data = out2.data();
          REQUIRE(gemm(codes(p.a.data(), m, k), af, pw, o, ws, &pool).ok());
          REQUIRE(out == out2);  // bit-identical across thread counts
          for (std::size_t x = 0; x < out.size(); ++x)
            if (!(out[x] == Approx(expect[x]).epsilon(1e-5).margin(1e-4))) {
              INFO("kernel " << d->name << " group " << group << " m " << m << " x " << x);
              REQUIRE(out[x] == Approx(expect[x]).epsilon(1e-5).margin(1e-4));
            }
        }
      }
    }
  // Group scales on weights packed without groups are refused.
  problem p({2, encoding::signed_int}, {2, encoding::unsigned_int}, 2, 3, 64, 1);
  packed_weights pw;
  REQUIRE(pack_weights(codes(p.w.data(), 3, 64), {2, encoding::signed_int},
                       {2, encoding::unsigned_int}, pw)
              .ok());
  std::vector<float> out(6), gs(6, 1.0f);
  float_output o;
  o.data = out.data();
  o.w_group_scales = gs.data();
  CHECK(gemm(codes(p.a.data(), 2, 64), {2, encoding::unsigned_int}, pw, o).code() ==
        errc::wrong_packing);
}

// The fused stages (the exact step and the stage in one pass per tile, driver_ops float_tile and
// requant_tile) against the int32 call put through the scalar rows, bit for bit: every kernel
// this host runs for the cell, partial tiles in M and N, a row stride past N, with and without
// zero points (which decide the exact step's terms), float scales and biases with NaN, infinities
// and signed zeros, multipliers from saturating to tiny, per channel and per tensor.
TEST_CASE("fused float and requantized stages equal the int32 call through the scalar rows",
          "[output][fused]") {
  std::mt19937 rng(29);
  const float odd[] = {0.0f, -0.0f, INFINITY, -INFINITY, NAN, 1e-38f};
  for (auto [wb, ab] : {std::array<int, 2>{1, 1}, {2, 2}, {4, 4}, {8, 8}, {2, 8}}) {
    const format wf{wb, wb == 1 ? encoding::odd_symmetric : encoding::signed_int};
    const format af{ab, encoding::unsigned_int};
    for (auto [m, n, k] : {std::array<std::size_t, 3>{1, 37, 64}, {13, 70, 200}, {9, 16, 130}}) {
      problem p(wf, af, m, n, k, static_cast<unsigned>(wb * 100 + m));
      std::vector<const kernels::ukernel_desc*> kernels;
      detail::for_each_ukernel([&](const kernels::ukernel_desc& d) {
        if ((d.features & ~detail::host_features()) == 0 && d.w_bits >= wf.bits &&
            d.a_bits >= af.bits)
          kernels.push_back(&d);
      });
      REQUIRE_FALSE(kernels.empty());
      std::vector<float> scales(n), fbias(n);
      std::vector<std::int32_t> ibias(n);
      std::vector<fixed_multiplier> mult(n);
      for (std::size_t j = 0; j < n; ++j) {
        scales[j] = (rng() % 11 == 0) ? odd[rng() % 6] : 1e-3f * static_cast<float>(rng() % 997);
        fbias[j] = (rng() % 13 == 0)
                       ? odd[rng() % 6]
                       : 0.01f * static_cast<float>(static_cast<int>(rng() % 201) - 100);
        ibias[j] = (rng() % 17 == 0) ? INT32_MAX : static_cast<std::int32_t>(rng() % 2001) - 1000;
        mult[j].m0 = static_cast<std::int32_t>((1u << 30) + (rng() >> 2));
        mult[j].shift =
            (rng() % 7 == 0) ? static_cast<int>(rng() % 8) : -static_cast<int>(rng() % 12);
      }
      const std::size_t ld = n + 3;
      for (const kernels::ukernel_desc* d : kernels)
        for (int zeros = 0; zeros < 2; ++zeros) {
          pack_options opt;
          opt.kernel_name = d->name;
          packed_weights pw;
          REQUIRE(pack_weights(codes(p.w.data(), n, k), wf, af, pw, opt).ok());
          const zero_points z = zeros ? p.zeros() : zero_points{};
          const auto am = codes(p.a.data(), m, k);
          std::vector<std::int32_t> t(m * n);
          int32_output o32{t.data()};
          o32.zeros = z;
          REQUIRE(gemm(am, af, pw, o32).ok());
          INFO("kernel " << d->name << " m " << m << " n " << n << " zeros " << zeros);
          for (int variant = 0; variant < 4; ++variant) {
            float_output of;
            std::vector<float> outf(m * ld, 77.0f), ref(n);
            of.data = outf.data();
            of.ld = ld;
            of.a_scale = variant == 3 ? -0.3f : 0.07f;
            of.w_scales = scales.data();
            of.w_scale_count = variant == 1 ? 1 : n;
            of.bias = variant == 2 ? nullptr : fbias.data();
            if (variant == 0) of.clamp_min = 0.0f;
            if (variant == 3) {
              of.clamp_min = -2.0f;
              of.clamp_max = 3.0f;
            }
            of.zeros = z;
            REQUIRE(gemm(am, af, pw, of).ok());
            const detail::float_params fp = detail::float_params_at(of, 0);
            for (std::size_t i = 0; i < m; ++i) {
              detail::float_row_generic(t.data() + i * n, n, fp, ref.data());
              // Catch2's INFO and REQUIRE cost a message and an assertion each (seconds per
              // test under QEMU): the loops report only a mismatch.
              for (std::size_t j = 0; j < n; ++j)
                if (std::memcmp(&outf[i * ld + j], &ref[j], sizeof(float)) != 0) {
                  INFO("float variant " << variant << " i " << i << " j " << j);
                  REQUIRE(std::memcmp(&outf[i * ld + j], &ref[j], sizeof(float)) == 0);
                }
              for (std::size_t j = n; j < ld && i + 1 < m; ++j)
                if (outf[i * ld + j] != 77.0f) REQUIRE(outf[i * ld + j] == 77.0f);
            }
            const format outs[] = {
                format{8, encoding::unsigned_int}, format{8, encoding::signed_int},
                format{3, encoding::odd_symmetric}, format{2, encoding::ternary}};
            const format qf = outs[variant];
            quantized_output oq;
            std::vector<std::uint8_t> out8(m * ld, 0xCC), ref8(n);
            oq.data = out8.data();
            oq.ld = ld;
            oq.out_format = qf;
            oq.out_zero = variant == 0 ? 3 : 0;
            oq.multipliers = mult.data();
            oq.multiplier_count = variant == 1 ? 1 : n;
            oq.bias = variant == 2 ? nullptr : ibias.data();
            if (variant == 0) oq.clamp_min = 0;
            oq.zeros = z;
            REQUIRE(gemm(am, af, pw, oq).ok());
            const detail::requant_params qp = detail::make_requant_params(oq);
            for (std::size_t i = 0; i < m; ++i) {
              detail::requant_row_generic(t.data() + i * n, n, qp, ref8.data());
              for (std::size_t j = 0; j < n; ++j)
                if (static_cast<int>(out8[i * ld + j]) != ref8[j]) {
                  INFO("requant variant " << variant << " i " << i << " j " << j);
                  REQUIRE(static_cast<int>(out8[i * ld + j]) == ref8[j]);
                }
              for (std::size_t j = n; j < ld && i + 1 < m; ++j)
                if (out8[i * ld + j] != 0xCC) REQUIRE(out8[i * ld + j] == 0xCC);
            }
          }
        }
    }
  }
}
