// Threads: results bit-identical for any thread count (1..4) through lowbit's pool and a
// caller-supplied executor; many concurrent calls sharing one packed weight matrix. Run under
// ThreadSanitizer by scripts/test.
#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "gemm_tester.hpp"
#include "lowbit/conv.hpp"
#include "lowbit/driver/driver.hpp"  // detail::make_plan
#include "lowbit/executor.hpp"

using namespace lowbit;

namespace {

// A caller's own pool, as a runtime would plug in: here, one std::thread per task batch.
class spawn_executor final : public executor {
 public:
  explicit spawn_executor(std::size_t n) : n_(n) {}
  std::size_t threads() const noexcept override { return n_; }
  void parallel_for(std::size_t count, task_fn task, void* ctx) noexcept override {
    std::atomic<std::size_t> next{0};
    std::vector<std::thread> t;
    for (std::size_t i = 0; i < n_; ++i)
      t.emplace_back([&, i] {
        for (std::size_t j = next++; j < count; j = next++) task(ctx, j, i);
      });
    for (auto& x : t) x.join();
  }

 private:
  std::size_t n_;
};

struct problem {
  std::size_t m, n, k;
  std::vector<std::uint8_t> a, w;
  problem(std::size_t m_, std::size_t n_, std::size_t k_, format af, format wf)
      : m(m_), n(n_), k(k_), a(m_ * k_), w(n_ * k_) {
    std::mt19937 rng(static_cast<unsigned>(m * 7 + n));
    for (auto& x : a) x = test::random_code(rng, af, 0);
    for (auto& x : w) x = test::random_code(rng, wf, 0);
  }
};

}  // namespace

TEST_CASE("gemm results are identical for 1..4 threads", "[threads]") {
  const format wf{2, encoding::signed_int}, af{2, encoding::unsigned_int};
  for (auto shape : {std::array<std::size_t, 3>{1, 4096, 512},
                     {8, 1000, 300},
                     {517, 130, 700},
                     {49, 512, 4608},
                     {3136, 64, 576}}) {
    problem pr(shape[0], shape[1], shape[2], af, wf);
    packed_weights pw;
    REQUIRE(pack_weights(codes(pr.w.data(), pr.n, pr.k), wf, af, pw).ok());
    std::vector<std::int32_t> one(pr.m * pr.n), many(pr.m * pr.n);
    workspace ws;
    REQUIRE(
        gemm(codes(pr.a.data(), pr.m, pr.k), af, pw, int32_output{one.data()}, ws, nullptr).ok());
    for (std::size_t t = 2; t <= 4; ++t) {
      thread_pool pool(t);
      std::fill(many.begin(), many.end(), 0);
      REQUIRE(
          gemm(codes(pr.a.data(), pr.m, pr.k), af, pw, int32_output{many.data()}, ws, &pool).ok());
      REQUIRE(many == one);
      spawn_executor own(t);
      std::fill(many.begin(), many.end(), 0);
      REQUIRE(
          gemm(codes(pr.a.data(), pr.m, pr.k), af, pw, int32_output{many.data()}, ws, &own).ok());
      REQUIRE(many == one);
    }
  }
}

TEST_CASE("set_num_threads makes the pool the default for gemm and conv2d", "[threads]") {
  const format f{4, encoding::unsigned_int};
  conv_params p;
  p.in_channels = 16;
  p.out_channels = 24;
  p.kernel_h = p.kernel_w = 3;
  p.pad_top = p.pad_left = p.pad_bottom = p.pad_right = 1;
  std::vector<std::uint8_t> w(24 * 9 * 16), x(2 * 20 * 20 * 16);
  std::mt19937 rng(3);
  for (auto& v : w) v = rng() & 15;
  for (auto& v : x) v = rng() & 15;
  packed_conv_weights pw;
  REQUIRE(pack_conv_weights(w.data(), p, f, f, pw).ok());
  std::vector<std::int32_t> one(2 * 20 * 20 * 24), two(one.size());
  REQUIRE(conv2d(x.data(), {2, 20, 20, 16}, f, pw, int32_output{one.data()}).ok());
  set_num_threads(2);
  REQUIRE(default_executor() != nullptr);
  REQUIRE(default_executor()->threads() == 2);
  REQUIRE(conv2d(x.data(), {2, 20, 20, 16}, f, pw, int32_output{two.data()}).ok());
  set_num_threads(1);
  REQUIRE(default_executor() == nullptr);
  REQUIRE(one == two);
}

TEST_CASE("concurrent calls share packed weights safely", "[threads]") {
  const format wf{1, encoding::odd_symmetric}, af{2, encoding::unsigned_int};
  problem pr(33, 257, 640, af, wf);
  packed_weights pw;
  REQUIRE(pack_weights(codes(pr.w.data(), pr.n, pr.k), wf, af, pw).ok());
  std::vector<std::int32_t> expect(pr.m * pr.n);
  REQUIRE(gemm(codes(pr.a.data(), pr.m, pr.k), af, pw, int32_output{expect.data()}).ok());
  thread_pool shared_pool(2);
  std::atomic<int> mismatches{0};
  std::vector<std::thread> callers;
  for (int t = 0; t < 4; ++t)
    callers.emplace_back([&, t] {
      std::vector<std::int32_t> c(pr.m * pr.n);
      workspace ws;  // one per thread
      for (int rep = 0; rep < 20; ++rep) {
        const status s = gemm(codes(pr.a.data(), pr.m, pr.k), af, pw, int32_output{c.data()}, ws,
                              (t % 2) ? &shared_pool : nullptr);
        if (!s.ok() || c != expect) ++mismatches;
      }
    });
  for (auto& c : callers) c.join();
  CHECK(mismatches.load() == 0);
}

namespace {

// Everything one caller thread computes with the shared packed weights: gemm through each output
// stage (and per-group scales on weights packed with k_group), conv2d through the int32 and
// quantized stages for a plain, a grouped and a depthwise layer.
struct shared_weights_job {
  static constexpr std::size_t m = 45, n = 130, k = 384, k_group = 64;
  const format wf{4, encoding::signed_int}, af{4, encoding::unsigned_int};
  problem pr{m, n, k, af, wf};
  packed_weights pw, pw_grouped;
  std::vector<float> scales, group_scales, bias;
  fixed_multiplier mult{};
  std::vector<std::int32_t> w_zeros;
  struct conv_layer {
    conv_params p;
    tensor_shape in;
    std::vector<std::uint8_t> w, x;
    packed_conv_weights packed;
  };
  conv_layer convs[3];

  shared_weights_job() : scales(n), group_scales(n * (k / k_group)), bias(n), w_zeros(n) {
    std::mt19937 rng(17);
    for (auto& v : scales) v = 0.001f * static_cast<float>(rng() % 1000 + 1);
    for (auto& v : group_scales) v = 0.001f * static_cast<float>(rng() % 1000 + 1);
    for (auto& v : bias) v = static_cast<float>(static_cast<int>(rng() % 200) - 100) / 16;
    for (auto& v : w_zeros) v = static_cast<std::int32_t>(rng() % 5) - 2;
    REQUIRE(make_fixed_multiplier(0.0123, mult).ok());
    REQUIRE(pack_weights(codes(pr.w.data(), n, k), wf, af, pw).ok());
    pack_options opt;
    opt.k_group = k_group;
    REQUIRE(pack_weights(codes(pr.w.data(), n, k), wf, af, pw_grouped, opt).ok());
    const std::size_t shapes[3][4] = {{16, 24, 1, 3}, {16, 16, 4, 3}, {16, 32, 16, 3}};
    for (std::size_t i = 0; i < 3; ++i) {
      conv_layer& c = convs[i];
      c.p.in_channels = shapes[i][0];
      c.p.out_channels = shapes[i][1];
      c.p.groups = shapes[i][2];
      c.p.kernel_h = c.p.kernel_w = shapes[i][3];
      c.p.pad_top = c.p.pad_left = c.p.pad_bottom = c.p.pad_right = 1;
      c.p.stride_h = c.p.stride_w = 1 + i % 2;
      c.in = {2, 11, 13, c.p.in_channels};
      c.w.resize(c.p.out_channels * c.p.taps() * c.p.in_per_group());
      c.x.resize(c.in.n * c.in.h * c.in.w * c.in.c);
      for (auto& v : c.w) v = test::random_code(rng, wf, 0);
      for (auto& v : c.x) v = test::random_code(rng, af, 0);
      REQUIRE(pack_conv_weights(c.w.data(), c.p, wf, af, c.packed).ok());
    }
    REQUIRE(convs[2].packed.kernel_name() == std::string("depthwise_direct"));
  }

  // All results as bytes, in one buffer, for a bit-exact comparison.
  std::vector<std::uint8_t> run(workspace* ws, executor* ex) const {
    std::vector<std::uint8_t> all;
    auto call = [&](const matrix_ref& a, const packed_weights& w, const auto& stage) {
      return ws ? gemm(a, af, w, stage, *ws, ex) : gemm(a, af, w, stage);
    };
    auto append = [&](const void* p, std::size_t bytes) {
      const auto* b = static_cast<const std::uint8_t*>(p);
      all.insert(all.end(), b, b + bytes);
    };
    const matrix_ref a = codes(pr.a.data(), m, k);
    bool ok = true;
    std::vector<std::int32_t> c32(m * n);
    int32_output o32{c32.data()};
    o32.zeros = {1, w_zeros.data(), n};
    ok = ok && call(a, pw, o32).ok();
    append(c32.data(), c32.size() * sizeof(std::int32_t));
    std::vector<float> cf(m * n);
    float_output of;
    of.data = cf.data();
    of.a_scale = 0.75f;
    of.w_scales = scales.data();
    of.w_scale_count = n;
    of.bias = bias.data();
    of.clamp_min = -50.0f;
    of.zeros.a_zero = 2;
    ok = ok && call(a, pw, of).ok();
    append(cf.data(), cf.size() * sizeof(float));
    of.w_scales = nullptr;
    of.w_group_scales = group_scales.data();
    ok = ok && call(a, pw_grouped, of).ok();
    append(cf.data(), cf.size() * sizeof(float));
    std::vector<std::uint8_t> cq(m * n);
    quantized_output oq;
    oq.data = cq.data();
    oq.out_format = {4, encoding::signed_int};
    oq.multipliers = &mult;
    oq.zeros.a_zero = 1;
    ok = ok && call(a, pw, oq).ok();
    append(cq.data(), cq.size());
    for (const conv_layer& c : convs) {
      const std::size_t outs = c.in.n * c.p.out_h(c.in.h) * c.p.out_w(c.in.w) * c.p.out_channels;
      std::vector<std::int32_t> v32(outs);
      int32_output s32{v32.data()};
      s32.zeros.a_zero = 3;
      ok = ok && (ws ? conv2d(c.x.data(), c.in, af, c.packed, s32, *ws, ex)
                     : conv2d(c.x.data(), c.in, af, c.packed, s32))
                     .ok();
      append(v32.data(), v32.size() * sizeof(std::int32_t));
      std::vector<std::uint8_t> v8(outs);
      oq.data = v8.data();
      ok = ok && (ws ? conv2d(c.x.data(), c.in, af, c.packed, oq, *ws, ex)
                     : conv2d(c.x.data(), c.in, af, c.packed, oq))
                     .ok();
      append(v8.data(), v8.size());
    }
    if (!ok) all.clear();
    return all;
  }
};

}  // namespace

TEST_CASE("one packed_weights / packed_conv_weights serves concurrent calls of every stage",
          "[threads]") {
  // The documented decision (docs/errors.md, packed_weights.hpp): packed weights are only read,
  // so concurrent gemm and conv2d calls may share them, each with its own workspace (the default
  // per-thread one, an owning one, or one with a shared pool as executor).
  const shared_weights_job job;
  workspace single;
  const std::vector<std::uint8_t> expect = job.run(&single, nullptr);
  REQUIRE_FALSE(expect.empty());
  thread_pool shared_pool(2);
  constexpr int threads = 4, reps = 6;
  std::atomic<int> failures{0};
  std::vector<std::thread> callers;
  for (int t = 0; t < threads; ++t)
    callers.emplace_back([&, t] {
      workspace own;
      for (int rep = 0; rep < reps; ++rep) {
        const int way = (t + rep) % 3;
        const std::vector<std::uint8_t> got = way == 0   ? job.run(nullptr, nullptr)
                                              : way == 1 ? job.run(&own, nullptr)
                                                         : job.run(&own, &shared_pool);
        if (got != expect) ++failures;
      }
    });
  for (auto& c : callers) c.join();
  CHECK(failures.load() == 0);
}

TEST_CASE("the plan splits M into even blocks that cover every row once", "[threads]") {
  // Blocks start on MR-row tiles, differ by at most one tile, and fit the per-thread workspace
  // (mc rows). With threads and enough rows, their count is a multiple of the thread count
  // unless the plan splits N (large weights with few blocks, or small M).
  const format wf{2, encoding::signed_int}, af{2, encoding::unsigned_int};
  for (const algorithm algo :
       {algorithm::automatic, algorithm::dot_i8, algorithm::bitplane, algorithm::lut_actsum})
    for (const std::size_t k : {64, 576, 1024, 2048, 4608})
      for (const std::size_t n : {64, 1024}) {
        problem pr(1, n, k, af, wf);
        dispatch_options opt;
        opt.algo = algo;
        packed_weights pw;
        REQUIRE(pack_weights(codes(pr.w.data(), n, k), wf, af, pw, opt).ok());
        for (const std::size_t m : {1, 5, 7, 23, 49, 100, 196, 784, 1000, 1024, 2048, 3136})
          for (std::size_t t = 1; t <= 4; ++t) {
            const kernels::ukernel_desc& d = kernels::kernel_for_rows(*pw.kernel(), m);
            const detail::gemm_plan p = detail::make_plan(d, m, n, k, pw.kc(), true, t);
            INFO(d.name << " m " << m << " n " << n << " k " << k << " threads " << t);
            REQUIRE(p.m_blocks >= 1);
            REQUIRE(p.mc % d.mr == 0);
            std::size_t next = 0, smallest = m, largest = 0;
            for (std::size_t ib = 0; ib < p.m_blocks; ++ib) {
              REQUIRE(p.block_first(ib) == next);
              REQUIRE(next % d.mr == 0);
              const std::size_t rows = p.block_rows(ib);
              REQUIRE(rows >= 1);
              REQUIRE(rows <= p.mc);
              next += rows;
              if (ib + 1 < p.m_blocks) smallest = std::min(smallest, rows);
              largest = std::max(largest, rows);
            }
            REQUIRE(next == m);
            if (p.m_blocks > 1) CHECK(largest - smallest <= d.mr);
            // Blocks the thread rule adds (beyond those of L2 height) keep min_block_tiles,
            // unless L2 height already made them shorter.
            const std::size_t l2_blocks = detail::make_plan(d, m, n, k, pw.kc(), true, 1).m_blocks;
            if (p.m_blocks > l2_blocks && l2_blocks <= p.m_tiles / detail::min_block_tiles)
              CHECK(smallest >= detail::min_block_tiles * d.mr);
            if (t > 1 && !p.split_n && p.m_blocks % t != 0) {
              // Large weights with few blocks, as many blocks as min_block_tiles allows, or a
              // block per tile.
              const std::size_t weight_bytes = (n + d.nr - 1) / d.nr * p.w_panel_bytes;
              const bool few =
                  weight_bytes > detail::a_outer_max_weight_bytes && p.m_blocks < 2 * t;
              CHECK((few || p.m_blocks == p.m_tiles / detail::min_block_tiles ||
                     p.m_blocks == p.m_tiles));
            }
          }
      }
}

TEST_CASE("an invalid code names the first bad index and spares its rows, for any thread count",
          "[threads][errors]") {
  // Activations are validated block by block (MC rows) or, when the weights are small (here
  // 96 x 4096 at 2 bits), MR rows at a time just before those rows are computed. K = 4096 makes
  // MC about 128 rows, so 1000 rows are several blocks: the error must still name the first
  // invalid code of the whole matrix, and the rows from its MR-row group to the end of its
  // block stay untouched.
  const format wf{2, encoding::signed_int}, af{2, encoding::unsigned_int};
  problem pr(1000, 96, 4096, af, wf);
  const std::size_t first_bad_row = 700, later_bad_row = 900;
  pr.a[first_bad_row * pr.k + 17] = 0x40;
  pr.a[later_bad_row * pr.k + 3] = 0x80;
  // The automatic choice, and the int8-dot family: on AVX-512 VNNI its kernel validates the
  // activations as it reads them (run_checked), inside each MR-row group's first tile.
  for (const algorithm algo : {algorithm::automatic, algorithm::dot_i8})
    for (std::size_t t = 1; t <= 3; ++t) {
      dispatch_options opt;
      opt.algo = algo;
      packed_weights pw;
      REQUIRE(pack_weights(codes(pr.w.data(), pr.n, pr.k), wf, af, pw, opt).ok());
      thread_pool pool(t);
      std::vector<std::int32_t> c(pr.m * pr.n, 0x5EED);
      workspace ws;
      const status s =
          gemm(codes(pr.a.data(), pr.m, pr.k), af, pw, int32_output{c.data()}, ws, &pool);
      INFO("threads " << t << " kernel " << pw.kernel()->name);
      CHECK(s.code() == errc::invalid_code);
      CHECK(std::string(s.argument()) == "a.data");
      CHECK(s.value() == static_cast<std::int64_t>(first_bad_row * pr.k + 17));
      const kernels::ukernel_desc& d = kernels::kernel_for_rows(*pw.kernel(), pr.m);
      const detail::gemm_plan plan = detail::make_plan(d, pr.m, pr.n, pr.k, pw.kc(), false, t);
      REQUIRE(plan.block_first(1) < first_bad_row);  // several blocks
      std::size_t ib = 0;
      while (plan.block_first(ib) + plan.block_rows(ib) <= first_bad_row) ++ib;
      const std::size_t mr = d.mr;
      const std::size_t block_end = plan.block_first(ib) + plan.block_rows(ib);
      for (std::size_t r = first_bad_row / mr * mr; r < block_end && r < pr.m; ++r)
        for (std::size_t j = 0; j < pr.n; ++j) REQUIRE(c[r * pr.n + j] == 0x5EED);
    }
  // validate_codes finds the same code without computing anything.
  const status v = validate_codes(codes(pr.a.data(), pr.m, pr.k), af);
  CHECK(v.code() == errc::invalid_code);
  CHECK(v.value() == static_cast<std::int64_t>(first_bad_row * pr.k + 17));
  pr.a[first_bad_row * pr.k + 17] = 1;
  pr.a[later_bad_row * pr.k + 3] = 2;
  CHECK(validate_codes(codes(pr.a.data(), pr.m, pr.k), af).ok());
}

TEST_CASE("thread_pool runs every task once, spinning or sleeping, with concurrent callers",
          "[threads]") {
  // Many short jobs back to back (a worker still spinning on the last one picks up the next),
  // jobs after a pause longer than the spin (workers asleep), and two callers at once.
  for (const unsigned spin_us : {0u, 50u, 200u}) {
    for (std::size_t size : {2, 3, 4}) {
      thread_pool pool(size, spin_us);
      struct ctx {
        std::vector<std::atomic<int>> hits;
        std::atomic<int> bad_thread{0};
        std::size_t size;
      };
      // Returns whether every index ran `rounds` times on a valid thread (no Catch macros off
      // the main thread: Catch is not thread-safe).
      auto check = [&](std::size_t count, int rounds) {
        ctx c{std::vector<std::atomic<int>>(count), {0}, size};
        for (int r = 0; r < rounds; ++r)
          pool.parallel_for(
              count,
              [](void* p, std::size_t i, std::size_t thread) {
                auto& cx = *static_cast<ctx*>(p);
                cx.hits[i].fetch_add(1);
                if (thread >= cx.size) cx.bad_thread.fetch_add(1);
              },
              &c);
        for (std::size_t i = 0; i < count; ++i)
          if (c.hits[i].load() != rounds) return false;
        return c.bad_thread.load() == 0;
      };
      INFO("spin_us " << spin_us << " threads " << size);
      CHECK(check(2, 500));
      CHECK(check(17, 100));
      std::this_thread::sleep_for(std::chrono::microseconds(2 * spin_us + 100));
      CHECK(check(5, 3));
      bool other_ok = false;
      std::thread other([&] { other_ok = check(9, 100); });
      CHECK(check(11, 100));
      other.join();
      CHECK(other_ok);
    }
  }
}
