// Pack-time group scales (pack_options::group_scales, group_scales_f16, group_zeros): the same
// output bytes as the same scales and zero points given at call time (float_output::
// w_group_scales, w_group_zeros), on every kernel this host runs under the ISA cap that takes the
// cell (each forced by name, so each ISA's kernels run; LOWBIT_ISA caps the level) and on the
// default packing (small-M layouts, kernels chosen per M); binary16 storage where every scale
// is exact in it, float storage otherwise; the storage choices and the errors.
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "gemm_tester.hpp"
#include "lowbit/conv.hpp"
#include "lowbit/detail/half.hpp"
#include "lowbit/dispatch/select.hpp"
#include "lowbit/gemm.hpp"
#include "lowbit/output.hpp"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

using namespace lowbit;

namespace {

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
// vcvtph2ps, as the GEMV kernels read stored scales.
__attribute__((target("avx512f"))) float convert_ph(std::uint16_t x) {
  alignas(32) std::uint16_t in[16] = {x};
  alignas(64) float out[16];
  _mm512_store_ps(
      out, _mm512_maskz_cvtph_ps(0xFFFF, _mm256_load_si256(reinterpret_cast<const __m256i*>(in))));
  return out[0];
}
#endif

enum class given { f32, f16 };

struct stored_case {
  format wf, af;
  std::size_t m, n, k, group;
  bool zeros;
  std::int32_t a_zero;
  bool wide = false;  // one scale not exact in binary16: float storage
};

struct stored_data {
  std::vector<std::uint8_t> a, w;
  std::vector<float> scales, bias;
  std::vector<std::uint16_t> halves;  // the scales' binary16 bits (when exact)
  std::vector<std::int32_t> zeros;
  std::size_t groups;
};

stored_data make_data(const stored_case& c, unsigned seed) {
  std::mt19937 rng(seed);
  stored_data d;
  d.groups = (c.k + c.group - 1) / c.group;
  d.a.resize(c.m * c.k);
  d.w.resize(c.n * c.k);
  for (auto& x : d.a) x = test::random_code(rng, c.af, 0);
  for (auto& x : d.w) x = test::random_code(rng, c.wf, 0);
  // 11 significant bits at most, exponents within binary16's normal and subnormal range.
  d.scales.resize(c.n * d.groups);
  for (auto& s : d.scales)
    s = std::ldexp(static_cast<float>(rng() % 2001) - 1000.0f, -static_cast<int>(rng() % 21) - 4);
  if (c.wide) d.scales[d.scales.size() / 2] = 1.0f / 3.0f;
  d.halves.resize(d.scales.size());
  for (std::size_t x = 0; x < d.scales.size() && !c.wide; ++x)
    REQUIRE(detail::float_to_half_exact(d.scales[x], d.halves[x]));
  d.bias.resize(c.n);
  for (auto& b : d.bias) b = 0.125f * (static_cast<float>(rng() % 33) - 16.0f);
  if (c.zeros) {
    d.zeros.resize(c.n * d.groups);
    const std::int32_t lo = min_value(c.wf), span = max_value(c.wf) - lo + 1;
    for (auto& z : d.zeros) z = lo + static_cast<std::int32_t>(rng() % span);
  }
  return d;
}

pack_options stored_options(const stored_case& c, const stored_data& d, given g) {
  pack_options opt;
  opt.k_group = c.group;
  if (g == given::f32)
    opt.group_scales = d.scales.data();
  else
    opt.group_scales_f16 = d.halves.data();
  opt.group_scale_count = d.scales.size();
  opt.group_zeros = c.zeros ? d.zeros.data() : nullptr;
  return opt;
}

// Packs c's weights with kernel `name` (nullptr: the default packing) twice, with the scales at
// pack time and without, and requires the same output bytes from both, M = c.m, with and
// without a bias and clamp.
void check_same(const stored_case& c, const stored_data& d, const char* name, given g,
                bool threads = false) {
  pack_options call_opt;
  call_opt.k_group = c.group;
  call_opt.kernel_name = name;
  pack_options opt = stored_options(c, d, g);
  opt.kernel_name = name;
  packed_weights pc, ps;
  REQUIRE(pack_weights(codes(d.w.data(), c.n, c.k), c.wf, c.af, pc, call_opt).ok());
  const status st = pack_weights(codes(d.w.data(), c.n, c.k), c.wf, c.af, ps, opt);
  INFO("kernel " << (name ? name : "(default)") << " w" << c.wf.bits << encoding_name(c.wf.enc)
                 << " a" << c.af.bits << encoding_name(c.af.enc) << " M " << c.m << " N " << c.n
                 << " K " << c.k << " G " << c.group << " zeros " << c.zeros << " wide " << c.wide
                 << " f16 " << (g == given::f16) << " runs " << ps.kernel_name(c.m));
  REQUIRE(st.ok());
  REQUIRE(ps.has_group_scales());
  REQUIRE(ps.group_scale_bytes() == (c.wide ? 4u : 2u));
  REQUIRE(ps.has_group_zeros() == c.zeros);
  if (c.zeros) {
    bool small = true;
    for (std::int32_t z : d.zeros) small = small && z >= -128 && z <= 127;
    REQUIRE(ps.group_zero_bytes() == (small ? 1u : 2u));
  }
  REQUIRE(ps.size_bytes() > pc.size_bytes());
  REQUIRE(std::string(ps.kernel_name(c.m)) == pc.kernel_name(c.m));
  for (int variant = 0; variant < 2; ++variant) {
    std::vector<float> want(c.m * c.n, -7.0f), got(c.m * c.n, -9.0f);
    float_output o;
    o.a_scale = 0.75f;
    o.zeros.a_zero = c.a_zero;
    if (variant == 0) {
      o.bias = d.bias.data();
    } else {
      o.clamp_min = -0.5f;
      o.clamp_max = 0.25f;
    }
    float_output oc = o, os = o;
    oc.data = want.data();
    oc.w_group_scales = d.scales.data();
    oc.w_group_zeros = c.zeros ? d.zeros.data() : nullptr;
    os.data = got.data();
    workspace ws;
    REQUIRE(gemm(codes(d.a.data(), c.m, c.k), c.af, pc, oc, ws, nullptr).ok());
    REQUIRE(gemm(codes(d.a.data(), c.m, c.k), c.af, ps, os, ws, nullptr).ok());
    REQUIRE(std::memcmp(want.data(), got.data(), want.size() * sizeof(float)) == 0);
    if (threads) {
      std::vector<float> got2(c.m * c.n, -9.0f);
      os.data = got2.data();
      thread_pool pool(3);
      REQUIRE(gemm(codes(d.a.data(), c.m, c.k), c.af, ps, os, ws, &pool).ok());
      REQUIRE(std::memcmp(want.data(), got2.data(), want.size() * sizeof(float)) == 0);
    }
  }
}

// Every kernel the host runs under the cap that takes the cell and the group size.
std::vector<const char*> kernels_for(const stored_case& c) {
  std::vector<const char*> list;
  detail::for_each_ukernel([&](const kernels::ukernel_desc& k) {
    if ((k.features & ~allowed_features()) == 0 && k.w_bits >= c.wf.bits && k.a_bits >= c.af.bits &&
        c.group % k.k_step == 0 && c.group <= k.kc_max)
      list.push_back(k.name);
  });
  return list;
}

const format w4u{4, encoding::unsigned_int}, w4s{4, encoding::signed_int};
const format w2u{2, encoding::unsigned_int}, w2s{2, encoding::signed_int};
const format w1o{1, encoding::odd_symmetric}, w8u{8, encoding::unsigned_int};
const format a8u{8, encoding::unsigned_int}, a8s{8, encoding::signed_int};
const format a2u{2, encoding::unsigned_int}, a4u{4, encoding::unsigned_int};

}  // namespace

TEST_CASE("stored group scales: the call-time bytes on the default packing, every M and G",
          "[groups][stored]") {
  unsigned seed = 7000;
  for (std::size_t group : {32, 64, 128, 256})
    for (std::size_t m : {1, 2, 7, 8, 9, 64}) {
      // N ragged against every NR; K whole groups plus a short last one.
      const std::size_t n = m >= 64 ? 45 : 83, k = 2 * group + group / 2 + 8;
      for (bool zeros : {false, true}) {
        const stored_case c4{w4u, a8u, m, n, k, group, zeros, 3};
        const stored_data d4 = make_data(c4, ++seed);
        check_same(c4, d4, nullptr, given::f32, m == 64 && zeros);
        check_same(c4, d4, nullptr, given::f16);
        const stored_case c4s{w4s, a8s, m, n, k, group, zeros, 0, true};
        check_same(c4s, make_data(c4s, ++seed), nullptr, given::f32);
        const stored_case c2{w2u, a8u, m, n, k, group, zeros, 0};
        check_same(c2, make_data(c2, ++seed), nullptr, given::f32);
        const stored_case c1{w1o, a8u, m, n, k, group, zeros, 5, zeros};
        check_same(c1, make_data(c1, ++seed), nullptr, given::f32);
        if (m <= 9 && group <= 64) {
          const stored_case c22{w2s, a2u, m, n, k, group, zeros, 1};
          check_same(c22, make_data(c22, ++seed), nullptr, given::f32);
          const stored_case c8{w8u, a4u, m, n, k, group, zeros, 2, !zeros};
          check_same(c8, make_data(c8, ++seed), nullptr, given::f32);
        }
      }
    }
}

TEST_CASE("stored group scales: the call-time bytes on every kernel, binary16 and float storage",
          "[groups][stored]") {
  unsigned seed = 8000;
  for (std::size_t group : {32, 128})
    for (std::size_t m : {1, 8, 9}) {
      const std::size_t n = 83, k = 2 * group + group / 2 + 8;
      for (const stored_case& c : {stored_case{w4u, a8u, m, n, k, group, true, 3},
                                   stored_case{w4s, a8s, m, n, k, group, false, 0, true},
                                   stored_case{w2u, a8u, m, n, k, group, m != 8, 0, m == 8},
                                   stored_case{w1o, a8u, m, n, k, group, false, 5},
                                   stored_case{w2s, a2u, m, n, k, group, m == 1, 1, m == 9}}) {
        const stored_data d = make_data(c, ++seed);
        for (const char* name : kernels_for(c)) check_same(c, d, name, given::f32);
      }
    }
}

TEST_CASE("stored group scales: one group (K <= G) and few columns", "[groups][stored]") {
  unsigned seed = 8500;
  for (std::size_t group : {32, 128})
    for (std::size_t k : {group, group / 2 + 4})
      for (std::size_t m : {1, 3, 8, 9})
        for (std::size_t n : {1, 7, 37}) {
          const stored_case c{w4s, a8u, m, n, k, group, false, 0};
          const stored_data d = make_data(c, ++seed);
          check_same(c, d, nullptr, given::f32);
          check_same(c, d, nullptr, given::f16);
          const stored_case cz{w2u, a8u, m, n, k, group, true, 3, m == 3};
          check_same(cz, make_data(cz, ++seed), nullptr, given::f32);
        }
}

TEST_CASE("stored group scales: NaN and infinite scales give the call-time bytes",
          "[groups][stored]") {
  const stored_case c{w4s, a8u, 1, 70, 96, 32, false, 0};
  stored_data d = make_data(c, 9001);
  d.scales[0] = std::numeric_limits<float>::infinity();
  d.scales[5] = -std::numeric_limits<float>::infinity();
  d.scales[7] = std::numeric_limits<float>::quiet_NaN();  // payload 0: exact in binary16
  REQUIRE(detail::float_to_half_exact(d.scales[0], d.halves[0]));
  REQUIRE(detail::float_to_half_exact(d.scales[5], d.halves[5]));
  REQUIRE(detail::float_to_half_exact(d.scales[7], d.halves[7]));
  check_same(c, d, nullptr, given::f32);
  check_same(c, d, nullptr, given::f16);
  // A NaN payload binary16 cannot hold: float storage.
  stored_case cw = c;
  cw.wide = true;
  d.scales[9] = detail::bits_to_float(0x7FC00001u);
  check_same(cw, d, nullptr, given::f32);
  for (const char* name : kernels_for(c)) check_same(cw, d, name, given::f32);
}

TEST_CASE("binary16: every value converts to float and back exactly", "[groups][stored]") {
  for (std::uint32_t h = 0; h < 65536; ++h) {
    const auto bits = static_cast<std::uint16_t>(h);
    const float f = detail::half_to_float(bits);
    std::uint16_t back = 0;
    INFO("binary16 " << h);
    REQUIRE(detail::float_to_half_exact(f, back));
    REQUIRE(back == detail::quiet_half(bits));
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    if (__builtin_cpu_supports("avx512f")) {
      const float v = convert_ph(bits);
      REQUIRE(std::memcmp(&v, &f, sizeof f) == 0);
    }
#endif
  }
  // The vector conversions the driver uses for its float tables (vcvtph2ps, fcvtl), over every
  // binary16 value, against half_to_float bit for bit.
  std::vector<std::uint16_t> all(65536);
  for (std::uint32_t x = 0; x < 65536; ++x) all[x] = static_cast<std::uint16_t>(x);
  std::vector<float> conv(all.size());
  for (const feature_set f : {feature_set{0}, detail::host_features()}) {
    detail::halves_to_floats(all.data(), all.size() - 3, conv.data(), f);  // a ragged tail
    for (std::size_t x = 0; x + 3 < all.size(); ++x) {
      const float want = detail::half_to_float(all[x]);
      if (std::memcmp(&conv[x], &want, sizeof want) != 0) {
        INFO("binary16 " << x << " features " << f);
        REQUIRE(std::memcmp(&conv[x], &want, sizeof want) == 0);
      }
    }
  }
  // Not exact: too many significant bits, past the range, below the smallest subnormal.
  std::uint16_t h = 0;
  CHECK_FALSE(detail::float_to_half_exact(1.0f / 3.0f, h));
  CHECK_FALSE(detail::float_to_half_exact(65536.0f, h));
  CHECK_FALSE(detail::float_to_half_exact(std::ldexp(1.0f, -25), h));
  CHECK_FALSE(detail::float_to_half_exact(std::ldexp(3.0f, -25), h));
  CHECK_FALSE(detail::float_to_half_exact(detail::bits_to_float(0x7F800001u), h));  // signalling
  CHECK(detail::float_to_half_exact(std::ldexp(1.0f, -24), h));
  CHECK(h == 1);
  CHECK(detail::float_to_half_exact(65504.0f, h));
  CHECK(h == 0x7BFF);
}

TEST_CASE("stored group scales: misuse refused with both names, nothing written",
          "[groups][stored][errors]") {
  const std::size_t m = 2, n = 3, k = 64, groups = 2;
  std::vector<std::uint8_t> a(m * k, 1), w(n * k, 2);
  std::vector<float> scales(n * groups, 0.5f), out(m * n, -7.0f);
  std::vector<std::uint16_t> halves(n * groups, 0x3800);
  std::vector<std::int32_t> zeros(n * groups, 3);
  packed_weights pw;
  pack_options opt;
  opt.k_group = 32;
  opt.group_scales = scales.data();
  opt.group_scale_count = n * groups;
  // Both forms of scales: ambiguous.
  opt.group_scales_f16 = halves.data();
  status s = pack_weights(codes(w.data(), n, k), w4u, a8u, pw, opt);
  CHECK(s.code() == errc::invalid_argument);
  CHECK(std::string(s.argument()).find("options.group_scales_f16") == 0);
  CHECK(std::string(s.argument()).find("options.group_scales is given") != std::string::npos);
  CHECK(pw.empty());
  opt.group_scales_f16 = nullptr;
  // A wrong count names the value given and the one expected.
  opt.group_scale_count = n * groups - 1;
  s = pack_weights(codes(w.data(), n, k), w4u, a8u, pw, opt);
  CHECK(s.code() == errc::dimension_mismatch);
  CHECK(std::string(s.argument()) == "options.group_scale_count");
  CHECK(s.value() == 5);
  CHECK(s.limit() == 6);
  opt.group_scale_count = n * groups;
  // No k_group.
  opt.k_group = 0;
  s = pack_weights(codes(w.data(), n, k), w4u, a8u, pw, opt);
  CHECK(s.code() == errc::invalid_argument);
  CHECK(std::string(s.argument()) == "options.k_group");
  opt.k_group = 32;
  // Zero points out of the format's range, or without scales.
  opt.group_zeros = zeros.data();
  zeros[4] = 16;
  s = pack_weights(codes(w.data(), n, k), w4u, a8u, pw, opt);
  CHECK(s.code() == errc::invalid_argument);
  CHECK(std::string(s.argument()) == "options.group_zeros");
  CHECK(s.value() == 16);
  zeros[4] = 3;
  opt.group_scales = nullptr;
  CHECK(pack_weights(codes(w.data(), n, k), w4u, a8u, pw, opt).code() == errc::null_pointer);
  opt.group_scales = scales.data();
  REQUIRE(pack_weights(codes(w.data(), n, k), w4u, a8u, pw, opt).ok());
  REQUIRE(pw.group_zero_bytes() == 1);
  // Call side: scales (or zero points, or per-channel scales) given as well are refused.
  float_output o;
  o.data = out.data();
  o.w_group_scales = scales.data();
  s = gemm(codes(a.data(), m, k), a8u, pw, o);
  CHECK(s.code() == errc::invalid_argument);
  CHECK(std::string(s.argument()).find("out.w_group_scales (ambiguous") == 0);
  CHECK(std::string(s.argument()).find("pack_options::group_scales") != std::string::npos);
  o.w_group_scales = nullptr;
  o.w_group_zeros = zeros.data();
  CHECK(gemm(codes(a.data(), m, k), a8u, pw, o).code() == errc::invalid_argument);
  o.w_group_zeros = nullptr;
  o.w_scales = scales.data();
  CHECK(gemm(codes(a.data(), m, k), a8u, pw, o).code() == errc::invalid_argument);
  o.w_scales = nullptr;
  const std::int32_t wz = 1;
  o.zeros.w_zeros = &wz;
  CHECK(gemm(codes(a.data(), m, k), a8u, pw, o).code() == errc::invalid_argument);
  o.zeros.w_zeros = nullptr;
  for (float v : out) CHECK(v == -7.0f);
  // Neither given: the stored ones.
  CHECK(gemm(codes(a.data(), m, k), a8u, pw, o).ok());
  // Weights without stored scales keep today's errors.
  packed_weights plain;
  pack_options popt;
  popt.k_group = 32;
  REQUIRE(pack_weights(codes(w.data(), n, k), w4u, a8u, plain, popt).ok());
  CHECK_FALSE(plain.has_group_scales());
  s = gemm(codes(a.data(), m, k), a8u, plain, o);
  CHECK(s.code() == errc::null_pointer);
  CHECK(std::string(s.argument()) == "out.w_scales");
  // conv2d takes group scales at call time only.
  conv_params p;
  p.in_channels = 64;
  p.out_channels = n;
  packed_conv_weights cw;
  s = pack_conv_weights(w.data(), p, w4u, a8u, cw, opt);
  CHECK(s.code() == errc::invalid_argument);
  CHECK(std::string(s.argument()).find("options.group_scales") == 0);
}
