// Moved-from packed weights (issue 25): moving a packed_weights or packed_conv_weights leaves the
// source empty, as if default-constructed; every accessor and entry point then behaves as for
// empty weights (gemm and conv2d: errc::wrong_packing "weights (empty)", nothing written), and
// the destination computes exactly what the source did before the move.
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "gemm_tester.hpp"
#include "lowbit/conv.hpp"
#include "lowbit/executor.hpp"

using namespace lowbit;

namespace {

const format u2{2, encoding::unsigned_int}, s2{2, encoding::signed_int};
constexpr std::int32_t sentinel32 = 0x5EEDF00D;
constexpr std::uint8_t sentinel8 = 0xA5;

bool is_default_state(const packed_weights& p) {
  const packed_weights fresh;
  return p.empty() && p.kernel() == nullptr && std::string(p.kernel_name()).empty() &&
         std::string(p.kernel_name(7)).empty() && p.kernel_algorithm() == algorithm::automatic &&
         p.weight_format() == fresh.weight_format() && p.activation_bits() == 0 && p.rows() == 0 &&
         p.cols() == 0 && p.size_bytes() == 0 && p.kc() == 0 && p.k_blocks() == 0 &&
         p.k_group() == 0 && p.w_offset() == 0 && gemm_workspace_size(p, 7) == 0 &&
         gemm_workspace_size(p, 7, false, 3) == 0;
}

bool is_default_state(const packed_conv_weights& p) {
  const packed_conv_weights fresh;
  const conv_params& a = p.params();
  const conv_params& b = fresh.params();
  return p.empty() && std::string(p.kernel_name()).empty() &&
         p.weight_format() == fresh.weight_format() && p.activation_bits() == 0 && a.groups == 0 &&
         b.groups == 0 && a.in_channels == b.in_channels && a.out_channels == b.out_channels &&
         a.kernel_h == b.kernel_h && a.kernel_w == b.kernel_w && a.stride_h == b.stride_h &&
         a.stride_w == b.stride_w && a.dilation_h == b.dilation_h && a.dilation_w == b.dilation_w &&
         a.pad_top == b.pad_top && a.pad_left == b.pad_left && a.pad_bottom == b.pad_bottom &&
         a.pad_right == b.pad_right;
}

template <class T>
bool all_equal(const std::vector<T>& v, T x) {
  for (const T& e : v)
    if (std::memcmp(&e, &x, sizeof x) != 0) return false;
  return true;
}

void expect_empty_error(const status& s) {
  char msg[256];
  s.describe(msg, sizeof msg);
  INFO(msg);
  CHECK(s.code() == errc::wrong_packing);
  CHECK(std::string(s.argument()) == "weights (empty)");
}

// One GEMM problem run through all three stages (and k_group weights through group scales).
struct gemm_problem {
  std::size_t m = 7, n = 37, k = 96;
  std::vector<std::uint8_t> a, w;
  std::vector<float> scales, group_scales;
  fixed_multiplier mult{};
  explicit gemm_problem(unsigned seed) : a(m * k), w(n * k), scales(n), group_scales(n * 3) {
    std::mt19937 rng(seed);
    for (auto& x : a) x = test::random_code(rng, u2, 0);
    for (auto& x : w) x = test::random_code(rng, s2, 0);
    for (std::size_t j = 0; j < n; ++j) scales[j] = 0.25f + 0.125f * static_cast<float>(j % 5);
    for (std::size_t j = 0; j < group_scales.size(); ++j)
      group_scales[j] = 0.5f + 0.25f * static_cast<float>(j % 7);
    REQUIRE(make_fixed_multiplier(0.1, mult).ok());
  }
  status pack(packed_weights& pw, std::size_t k_group = 0) const {
    pack_options opt;
    opt.k_group = k_group;
    return pack_weights(codes(w.data(), n, k), s2, u2, pw, opt);
  }
  struct results {
    status s32, sf, sq, sg;
    std::vector<std::int32_t> c32;
    std::vector<float> cf, cg;
    std::vector<std::uint8_t> cq;
  };
  // Every stage; the group-scale one only when `grouped`. Outputs start as sentinels.
  results run(const packed_weights& pw, bool grouped, workspace& ws, executor* ex) const {
    results r;
    r.c32.assign(m * n, sentinel32);
    float fs;
    std::memcpy(&fs, &sentinel32, sizeof fs);
    r.cf.assign(m * n, fs);
    r.cg.assign(m * n, fs);
    r.cq.assign(m * n, sentinel8);
    const matrix_ref am = codes(a.data(), m, k);
    r.s32 = gemm(am, u2, pw, int32_output{r.c32.data()}, ws, ex);
    float_output f;
    f.data = r.cf.data();
    f.a_scale = 0.5f;
    f.w_scales = scales.data();
    f.w_scale_count = n;
    f.zeros.a_zero = 1;
    r.sf = gemm(am, u2, pw, f, ws, ex);
    quantized_output q;
    q.data = r.cq.data();
    q.out_format = {4, encoding::signed_int};
    q.multipliers = &mult;
    r.sq = gemm(am, u2, pw, q, ws, ex);
    if (grouped) {
      float_output g;
      g.data = r.cg.data();
      g.a_scale = 0.5f;
      g.w_group_scales = group_scales.data();
      r.sg = gemm(am, u2, pw, g, ws, ex);
    }
    return r;
  }
  results run(const packed_weights& pw, bool grouped) const {
    workspace ws;
    return run(pw, grouped, ws, nullptr);
  }
};

void expect_same(const gemm_problem::results& x, const gemm_problem::results& y) {
  REQUIRE(x.s32.ok());
  REQUIRE(x.sf.ok());
  REQUIRE(x.sq.ok());
  REQUIRE(x.sg.ok());
  REQUIRE(y.s32.ok());
  REQUIRE(y.sf.ok());
  REQUIRE(y.sq.ok());
  REQUIRE(y.sg.ok());
  CHECK(x.c32 == y.c32);
  CHECK(std::memcmp(x.cf.data(), y.cf.data(), x.cf.size() * sizeof(float)) == 0);
  CHECK(std::memcmp(x.cg.data(), y.cg.data(), x.cg.size() * sizeof(float)) == 0);
  CHECK(x.cq == y.cq);
}

// gemm on empty weights: every stage refused, every output untouched, with the per-thread
// workspace, an owning one, a caller buffer of any size and any executor.
void expect_refused(const gemm_problem& pr, const packed_weights& pw) {
  thread_pool pool(2);
  alignas(64) static std::uint8_t small[64];
  workspace owned, external(small, sizeof small);
  for (int way = 0; way < 4; ++way) {
    INFO("way " << way);
    gemm_problem::results r;
    if (way == 0) {
      r.c32.assign(pr.m * pr.n, sentinel32);
      r.s32 = gemm(codes(pr.a.data(), pr.m, pr.k), u2, pw, int32_output{r.c32.data()});
      expect_empty_error(r.s32);
      CHECK(all_equal(r.c32, sentinel32));
      continue;
    }
    r = pr.run(pw, true, way == 3 ? external : owned, way == 2 ? &pool : nullptr);
    for (const status* s : {&r.s32, &r.sf, &r.sq, &r.sg}) expect_empty_error(*s);
    float fs;
    std::memcpy(&fs, &sentinel32, sizeof fs);
    CHECK(all_equal(r.c32, sentinel32));
    CHECK(all_equal(r.cf, fs));
    CHECK(all_equal(r.cg, fs));
    CHECK(all_equal(r.cq, sentinel8));
  }
}

}  // namespace

TEST_CASE("a moved-from packed_weights is empty and refused; the destination computes the same",
          "[moved][errors]") {
  const gemm_problem pr(11);
  for (const std::size_t k_group : {std::size_t{0}, std::size_t{32}}) {
    INFO("k_group " << k_group);
    packed_weights src;
    REQUIRE(pr.pack(src, k_group).ok());
    REQUIRE_FALSE(src.empty());
    const std::string name = src.kernel_name();
    const std::size_t bytes = src.size_bytes();
    const gemm_problem::results before = pr.run(src, k_group != 0);

    // Move construction.
    packed_weights dst(std::move(src));
    CHECK(is_default_state(src));
    expect_refused(pr, src);
    CHECK(dst.kernel_name() == name);
    CHECK(dst.size_bytes() == bytes);
    CHECK(dst.k_group() == k_group);
    expect_same(before, pr.run(dst, k_group != 0));

    // Move assignment over weights already packed (other shape and kernel), and back.
    packed_weights other;
    std::vector<std::uint8_t> w8(3 * 5, 7);
    REQUIRE(pack_weights(codes(w8.data(), 3, 5), {8, encoding::unsigned_int},
                         {8, encoding::unsigned_int}, other)
                .ok());
    other = std::move(dst);
    CHECK(is_default_state(dst));
    expect_refused(pr, dst);
    expect_same(before, pr.run(other, k_group != 0));
    dst = std::move(other);
    CHECK(is_default_state(other));
    expect_same(before, pr.run(dst, k_group != 0));

    // Assigning an empty object empties the destination; self-assignment keeps the weights.
    packed_weights empty;
    other = std::move(empty);
    CHECK(is_default_state(other));
    packed_weights& alias = dst;
    dst = std::move(alias);
    CHECK_FALSE(dst.empty());
    expect_same(before, pr.run(dst, k_group != 0));

    // A moved-from object can be packed again.
    REQUIRE(pr.pack(src, k_group).ok());
    expect_same(before, pr.run(src, k_group != 0));
  }
}

namespace {

struct conv_problem {
  conv_params p;
  tensor_shape in;
  std::vector<std::uint8_t> w, x;
  conv_problem(std::size_t ic, std::size_t oc, std::size_t k, std::size_t groups, unsigned seed)
      : in{2, 9, 7, ic} {
    p.in_channels = ic;
    p.out_channels = oc;
    p.kernel_h = p.kernel_w = k;
    p.pad_top = p.pad_left = p.pad_bottom = p.pad_right = k / 2;
    p.groups = groups;
    w.resize(oc * p.taps() * p.in_per_group());
    x.resize(in.n * in.h * in.w * in.c);
    std::mt19937 rng(seed);
    for (auto& v : w) v = test::random_code(rng, s2, 0);
    for (auto& v : x) v = test::random_code(rng, u2, 0);
  }
  std::size_t outputs() const { return in.n * p.out_h(in.h) * p.out_w(in.w) * p.out_channels; }
  status run(const packed_conv_weights& pw, std::vector<std::int32_t>& out, workspace& ws,
             executor* ex) const {
    out.assign(outputs(), sentinel32);
    int32_output o{out.data()};
    o.zeros.a_zero = 1;
    return conv2d(x.data(), in, u2, pw, o, ws, ex);
  }
  status run_q(const packed_conv_weights& pw, std::vector<std::uint8_t>& out) const {
    static const fixed_multiplier mult{1 << 30, -2};
    out.assign(outputs(), sentinel8);
    quantized_output q;
    q.data = out.data();
    q.multipliers = &mult;
    return conv2d(x.data(), in, u2, pw, q);
  }
};

}  // namespace

TEST_CASE(
    "a moved-from packed_conv_weights is empty and refused; the destination computes the same",
    "[moved][errors]") {
  struct shape {
    std::size_t ic, oc, k, groups;
  };
  for (const shape& sh : {shape{16, 24, 3, 1}, shape{3, 8, 7, 1}, shape{12, 18, 3, 3},
                          shape{16, 16, 1, 1}, shape{10, 20, 3, 10}}) {
    const conv_problem pr(sh.ic, sh.oc, sh.k, sh.groups, static_cast<unsigned>(sh.ic + sh.k));
    INFO("in " << sh.ic << " out " << sh.oc << " kernel " << sh.k << " groups " << sh.groups);
    packed_conv_weights src;
    REQUIRE(pack_conv_weights(pr.w.data(), pr.p, s2, u2, src).ok());
    REQUIRE_FALSE(src.empty());
    const std::string name = src.kernel_name();
    std::vector<std::int32_t> before, after;
    std::vector<std::uint8_t> before_q, after_q;
    workspace ws;
    REQUIRE(pr.run(src, before, ws, nullptr).ok());
    REQUIRE(pr.run_q(src, before_q).ok());

    auto refused = [&](const packed_conv_weights& e) {
      thread_pool pool(2);
      alignas(64) static std::uint8_t small[64];
      workspace external(small, sizeof small);
      std::vector<std::int32_t> out;
      expect_empty_error(pr.run(e, out, ws, nullptr));
      CHECK(all_equal(out, sentinel32));
      expect_empty_error(pr.run(e, out, external, &pool));
      CHECK(all_equal(out, sentinel32));
      std::vector<std::uint8_t> q;
      expect_empty_error(pr.run_q(e, q));
      CHECK(all_equal(q, sentinel8));
    };

    packed_conv_weights dst(std::move(src));
    CHECK(is_default_state(src));
    refused(src);
    CHECK(dst.kernel_name() == name);
    REQUIRE(pr.run(dst, after, ws, nullptr).ok());
    CHECK(after == before);
    REQUIRE(pr.run_q(dst, after_q).ok());
    CHECK(after_q == before_q);

    // Move assignment over other packed weights, and back.
    const conv_problem other_pr(4, 4, 1, 1, 5);
    packed_conv_weights other;
    REQUIRE(pack_conv_weights(other_pr.w.data(), other_pr.p, s2, u2, other).ok());
    other = std::move(dst);
    CHECK(is_default_state(dst));
    refused(dst);
    REQUIRE(pr.run(other, after, ws, nullptr).ok());
    CHECK(after == before);
    dst = std::move(other);
    CHECK(is_default_state(other));
    refused(other);
    thread_pool pool(2);
    REQUIRE(pr.run(dst, after, ws, &pool).ok());
    CHECK(after == before);

    // Self-assignment keeps the weights; a moved-from object can be packed again.
    packed_conv_weights& alias = dst;
    dst = std::move(alias);
    REQUIRE(pr.run(dst, after, ws, nullptr).ok());
    CHECK(after == before);
    REQUIRE(pack_conv_weights(pr.w.data(), pr.p, s2, u2, src).ok());
    REQUIRE(pr.run(src, after, ws, nullptr).ok());
    CHECK(after == before);
  }
}
