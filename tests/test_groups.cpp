// Per-group weight scales and zero points (float_output::w_group_scales / w_group_zeros) on every
// kernel this host runs under the ISA cap (LOWBIT_ISA forces a level; every kernel is also forced
// by name, so each ISA's kernels run): bit-identical to the integer reference put through the
// documented float order (output.hpp: acc + scale_g * float(T_g) in group order, then a_scale,
// bias, clamp), and within a documented bound of the real result computed in double.
//
// Float bound: the float order is a recursive sum of `groups` rounded products, then one
// multiply and one add; with u = 2^-24 and S = |a_scale| * sum_g |scale_g * T_g| + |bias|, the
// error is at most (groups + 3) * u * S (first-order; the test allows twice that).
#include <array>
#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "gemm_tester.hpp"
#include "lowbit/dispatch/select.hpp"
#include "lowbit/gemm.hpp"
#include "lowbit/output.hpp"
#include "lowbit/reference.hpp"

using namespace lowbit;

namespace {

struct group_case {
  format wf, af;
  std::size_t m, n, k, group;
  bool zeros;  // per-group weight zero points
  std::int32_t a_zero;
  bool channel_zeros = false;  // per-channel zeros.w_zeros instead
};

struct group_data {
  std::vector<std::uint8_t> a, w;
  std::vector<float> scales, bias;
  std::vector<std::int32_t> zeros, channel;
  std::vector<float> exact;   // the documented float order over exact T_g
  std::vector<float> acc;     // the same before group_finish
  std::vector<double> real;   // the real result
  std::vector<double> bound;  // allowed |float - real|
  std::size_t groups;
};

group_data make_case(const group_case& c, unsigned seed) {
  std::mt19937 rng(seed);
  group_data d;
  d.groups = (c.k + c.group - 1) / c.group;
  d.a.resize(c.m * c.k);
  d.w.resize(c.n * c.k);
  for (auto& x : d.a) x = test::random_code(rng, c.af, 0);
  for (auto& x : d.w) x = test::random_code(rng, c.wf, 0);
  d.scales.resize(c.n * d.groups);
  for (auto& s : d.scales)
    s = std::ldexp(static_cast<float>(rng() % 2001) - 1000.0f, -static_cast<int>(rng() % 12) - 8);
  d.bias.resize(c.n);
  for (auto& b : d.bias) b = 0.125f * (static_cast<float>(rng() % 33) - 16.0f);
  if (c.zeros) {
    d.zeros.resize(c.n * d.groups);
    const std::int32_t lo = min_value(c.wf), span = max_value(c.wf) - lo + 1;
    for (auto& z : d.zeros) z = lo + static_cast<std::int32_t>(rng() % span);
  }
  if (c.channel_zeros) {
    d.channel.resize(c.n);
    for (auto& z : d.channel) z = min_value(c.wf) + static_cast<std::int32_t>(rng() % 3);
  }
  const float a_scale = 0.75f;
  d.exact.resize(c.m * c.n);
  d.acc.resize(c.m * c.n);
  d.real.resize(c.m * c.n);
  d.bound.resize(c.m * c.n);
  float_output o;  // for group_finish
  o.a_scale = a_scale;
  o.bias = d.bias.data();
  for (std::size_t i = 0; i < c.m; ++i)
    for (std::size_t j = 0; j < c.n; ++j) {
      float acc = 0.0f;
      double real = 0.0, mag = 0.0;
      for (std::size_t g = 0; g < d.groups; ++g) {
        const std::int32_t z =
            c.zeros ? d.zeros[j * d.groups + g] : (c.channel_zeros ? d.channel[j] : 0);
        std::int64_t t = 0;
        for (std::size_t x = g * c.group; x < std::min(c.k, (g + 1) * c.group); ++x)
          t += (std::int64_t{value_at(codes(d.a.data(), c.m, c.k), c.af, i, x)} - c.a_zero) *
               (std::int64_t{value_at(codes(d.w.data(), c.n, c.k), c.wf, j, x)} - z);
        const float s = d.scales[j * d.groups + g];
        acc = detail::group_term(acc, s, static_cast<std::int32_t>(t));
        real += double(s) * double(t);
        mag += std::fabs(double(s) * double(t));
      }
      d.acc[i * c.n + j] = acc;
      d.exact[i * c.n + j] = detail::group_finish(o, j, acc);
      d.real[i * c.n + j] = double(a_scale) * real + d.bias[j];
      d.bound[i * c.n + j] = 2.0 * double(d.groups + 3) * std::ldexp(1.0, -24) *
                             (double(a_scale) * mag + std::fabs(double(d.bias[j])));
    }
  return d;
}

// Runs c on every kernel the host runs that takes the cell and the group size; checks each
// output bit for bit against the documented float order and against the real bound.
void check_groups(const group_case& c, unsigned seed, bool threads = false) {
  const group_data d = make_case(c, seed);
  std::vector<const kernels::ukernel_desc*> list;
  detail::for_each_ukernel([&](const kernels::ukernel_desc& k) {
    if ((k.features & ~allowed_features()) == 0 && k.w_bits >= c.wf.bits && k.a_bits >= c.af.bits &&
        c.group % k.k_step == 0 && c.group <= k.kc_max)
      list.push_back(&k);
  });
  REQUIRE_FALSE(list.empty());
  for (const kernels::ukernel_desc* k : list) {
    pack_options opt;
    opt.k_group = c.group;
    opt.kernel_name = k->name;
    packed_weights pw;
    REQUIRE(pack_weights(codes(d.w.data(), c.n, c.k), c.wf, c.af, pw, opt).ok());
    std::vector<float> out(c.m * c.n, -7.0f);
    float_output o;
    o.data = out.data();
    o.a_scale = 0.75f;
    o.w_group_scales = d.scales.data();
    o.w_group_zeros = c.zeros ? d.zeros.data() : nullptr;
    o.bias = d.bias.data();
    o.zeros.a_zero = c.a_zero;
    if (c.channel_zeros) {
      o.zeros.w_zeros = d.channel.data();
      o.zeros.w_zero_count = c.n;
    }
    workspace ws;
    INFO("kernel " << k->name << " w" << c.wf.bits << encoding_name(c.wf.enc) << " a" << c.af.bits
                   << encoding_name(c.af.enc) << " M " << c.m << " N " << c.n << " K " << c.k
                   << " G " << c.group << " zeros " << c.zeros);
    REQUIRE(gemm(codes(d.a.data(), c.m, c.k), c.af, pw, o, ws, nullptr).ok());
    for (std::size_t x = 0; x < out.size(); ++x) {
      if (!(out[x] == d.exact[x]) || !(std::fabs(out[x] - d.real[x]) <= d.bound[x])) {
        INFO("at " << x << ": " << out[x] << " expected " << d.exact[x] << " real " << d.real[x]);
        REQUIRE(out[x] == d.exact[x]);
        REQUIRE(std::fabs(out[x] - d.real[x]) <= d.bound[x]);
      }
    }
    // No bias (no add, so -0.0 stays) and a clamp that cuts both ends, also on the kernels
    // that finish the stage themselves (ukernel_desc::grouped_finish).
    {
      float_output o2 = o;
      std::vector<float> out2(c.m * c.n, -7.0f);
      o2.data = out2.data();
      o2.bias = nullptr;
      o2.clamp_min = -0.5f;
      o2.clamp_max = 0.25f;
      REQUIRE(gemm(codes(d.a.data(), c.m, c.k), c.af, pw, o2, ws, nullptr).ok());
      for (std::size_t x = 0; x < out2.size(); ++x) {
        const float want = detail::group_finish(o2, x % c.n, d.acc[x]);
        if (std::memcmp(&out2[x], &want, sizeof want) != 0) {
          INFO("no bias and clamped, at " << x << ": " << out2[x] << " expected " << want);
          REQUIRE(out2[x] == want);
          REQUIRE(std::signbit(out2[x]) == std::signbit(want));
        }
      }
    }
    if (threads) {
      std::vector<float> out2(c.m * c.n, -7.0f);
      o.data = out2.data();
      thread_pool pool(3);
      REQUIRE(gemm(codes(d.a.data(), c.m, c.k), c.af, pw, o, ws, &pool).ok());
      REQUIRE(out2 == out);
    }
  }
}

}  // namespace

TEST_CASE("group scales and zero points: every kernel bit-identical to the reference order",
          "[groups]") {
  const format w4u{4, encoding::unsigned_int}, w4s{4, encoding::signed_int};
  const format w2u{2, encoding::unsigned_int}, a8u{8, encoding::unsigned_int};
  const format a8s{8, encoding::signed_int}, w1o{1, encoding::odd_symmetric};
  unsigned seed = 1;
  for (std::size_t group : {32, 64, 128, 256})
    for (std::size_t m : {1, 2, 7, 8, 9, 64, 256}) {
      // N ragged against every NR; K a whole number of groups plus a short last group.
      const std::size_t n = m >= 64 ? 45 : 83, k = 2 * group + group / 2 + 8;
      for (bool zeros : {false, true}) {
        check_groups({w4u, a8u, m, n, k, group, zeros, 3}, ++seed, m == 64);
        check_groups({w4s, a8s, m, n, k, group, zeros, 0}, ++seed);
        if (m <= 9) check_groups({w2u, a8u, m, n, k, group, zeros, 0}, ++seed);
        if (m == 1 || m == 8 || m == 64) check_groups({w1o, a8u, m, n, k, group, zeros, 5}, ++seed);
        if (!zeros && (m == 1 || m == 9))
          check_groups({w4s, a8u, m, n, k, group, false, 1, true}, ++seed);
      }
    }
}

TEST_CASE("one group (K <= G) with ragged N: no scale read past the last column", "[groups]") {
  // With a single group the caller's scale rows are one float per column; a kernel that loaded
  // whole vectors of them read past the end on the last, partial column tile (found by
  // fuzz_gemm and fuzz_conv under ASan).
  const format w4s{4, encoding::signed_int}, w2u{2, encoding::unsigned_int};
  const format a8u{8, encoding::unsigned_int};
  unsigned seed = 1000;
  for (std::size_t group : {32, 64, 128})
    for (std::size_t k : {group, group / 2 + 4})
      for (std::size_t m : {1, 3, 8})
        for (std::size_t n : {1, 7, 37}) {
          check_groups({w4s, a8u, m, n, k, group, false, 0}, ++seed);
          check_groups({w2u, a8u, m, n, k, group, true, 3}, ++seed);
        }
}

TEST_CASE("group zero points: out of range or misused refused and nothing written",
          "[groups][errors]") {
  const format wf{4, encoding::unsigned_int}, af{8, encoding::unsigned_int};
  const std::size_t m = 2, n = 3, k = 64;
  std::vector<std::uint8_t> a(m * k, 1), w(n * k, 2);
  pack_options opt;
  opt.k_group = 32;
  packed_weights pw;
  REQUIRE(pack_weights(codes(w.data(), n, k), wf, af, pw, opt).ok());
  std::vector<float> out(m * n, -7.0f), scales(n * 2, 1.0f);
  std::vector<std::int32_t> zeros(n * 2, 8);
  float_output o;
  o.data = out.data();
  o.w_group_scales = scales.data();
  o.w_group_zeros = zeros.data();
  zeros[5] = 16;  // past 15
  status s = gemm(codes(a.data(), m, k), af, pw, o);
  CHECK(s.code() == errc::invalid_argument);
  CHECK(std::string(s.argument()) == "out.w_group_zeros");
  CHECK(s.value() == 16);
  const std::string msg = s.message();
  CHECK(msg.find("16") != std::string::npos);
  CHECK(msg.find("15") != std::string::npos);
  zeros[5] = -1;
  CHECK(gemm(codes(a.data(), m, k), af, pw, o).code() == errc::invalid_argument);
  for (float v : out) CHECK(v == -7.0f);
  // Not with per-channel zero points, and not without group scales.
  zeros[5] = 0;
  const std::int32_t wz = 1;
  o.zeros.w_zeros = &wz;
  CHECK(gemm(codes(a.data(), m, k), af, pw, o).code() == errc::invalid_argument);
  o.zeros.w_zeros = nullptr;
  o.w_group_scales = nullptr;
  o.w_scales = scales.data();
  CHECK(gemm(codes(a.data(), m, k), af, pw, o).code() == errc::null_pointer);
  for (float v : out) CHECK(v == -7.0f);
  // In range: accepted.
  o.w_group_scales = scales.data();
  CHECK(gemm(codes(a.data(), m, k), af, pw, o).ok());
}
