// GEMM through the public API against the reference, bit-exactly: every kernel compiled in (each
// forced by name), every ISA level this host runs (forced one by one), every format pair, the
// shapes around each kernel's tile and K step, strides, bit-packed inputs and the largest K.
#include <algorithm>
#include <set>

#include "gemm_tester.hpp"
#include "lowbit/dispatch/select.hpp"
#include "lowbit/driver/driver.hpp"  // detail::row_sums_needed

using namespace lowbit;
using lowbit::test::check_gemm;
using lowbit::test::gemm_case;

namespace {

// The kernels a forced kernel_name may name here: the host's, under any LOWBIT_ISA cap.
std::vector<const kernels::ukernel_desc*> runnable_kernels() {
  std::vector<const kernels::ukernel_desc*> v;
  detail::for_each_ukernel([&](const kernels::ukernel_desc& d) {
    if ((d.features & ~allowed_features()) == 0) v.push_back(&d);
  });
  return v;
}

std::vector<std::size_t> around(std::size_t t) {
  std::set<std::size_t> s = {1, t, t + 1, 2 * t + 3};
  if (t > 1) s.insert(t - 1);
  return {s.begin(), s.end()};
}

}  // namespace

TEST_CASE("every kernel matches the reference on every format pair and edge shape",
          "[gemm][kernels]") {
  for (const kernels::ukernel_desc* d : runnable_kernels()) {
    dispatch_options opt;
    opt.kernel_name = d->name;
    // The kernel's own widths, and the smallest ones it also serves.
    std::set<std::pair<int, int>> pairs = {{d->w_bits, d->a_bits}, {1, 1}};
    if (d->w_bits >= 2 && d->a_bits >= 2) pairs.insert({2, 2});
    for (auto [wb, ab] : pairs) {
      for (format wf : test::all_formats(wb))
        for (format af : test::all_formats(ab)) {
          INFO("kernel " << d->name);
          const std::size_t kk = std::max<std::size_t>(d->k_step, 4);
          for (std::size_t m : around(d->mr))
            for (std::size_t n : around(d->nr)) check_gemm(opt, wf, af, {m, n, kk + 1});
          for (std::size_t k : around(d->k_step))
            check_gemm(opt, wf, af, {d->mr + 1u, d->nr + 1u, k});
          check_gemm(opt, wf, af, {3, 5, 3 * kk + 5, 3, 2, 1});        // strided A, W and C
          check_gemm(opt, wf, af, {2, 3, 2 * kk + 3, 1, 1, 0, true});  // bit-packed inputs
          if (d->kc_max < 100000) {                                    // K blocking
            const std::size_t kb = d->kc_max * 2 + d->k_step + 1;
            check_gemm(opt, wf, af, {2, 2, kb, 0, 0, 0, false, 1});
            check_gemm(opt, wf, af, {2, 2, kb});
          }
        }
    }
  }
}

TEST_CASE("dispatch forced to each ISA level picks only kernels within it, exactly",
          "[gemm][dispatch]") {
  const isa levels[] = {isa::scalar, isa::sse4,       isa::avx2,         isa::avxvnni,
                        isa::avx512, isa::avx512vnni, isa::avx512icl,    isa::avx512icl_avxvnni,
                        isa::amx,    isa::neon,       isa::neon_dotprod, isa::neon_i8mm,
                        isa::native};
  for (isa level : levels) {
    const feature_set need = level == isa::native ? 0 : isa_features(level);
    if ((need & ~detail::host_features()) != 0) continue;  // the host cannot run this level
    dispatch_options opt;
    opt.cap = level;
    for (int wb = 1; wb <= 8; ++wb)
      for (int ab = 1; ab <= 8; ++ab) {
        const format wf{wb, static_cast<encoding>((wb + ab) % 3)};
        const format af{ab, static_cast<encoding>((wb * ab + 1) % 3)};
        const kernels::ukernel_desc* d = select_ukernel(wb, ab, 64, 256, opt);
        INFO("isa " << isa_name(level) << " w" << wb << "a" << ab);
        REQUIRE(d != nullptr);
        REQUIRE((d->features & ~isa_features(level)) == 0);
        check_gemm(opt, wf, af, {7, 19, 131});
        check_gemm(opt, wf, af, {1, 33, 300});
      }
  }
}

TEST_CASE("a call runs the short-tile sibling when it pads M less, exactly", "[gemm][kernels]") {
  for (const kernels::ukernel_desc* d : runnable_kernels()) {
    const kernels::ukernel_desc* s = d->short_tile;
    if (s == nullptr) continue;
    INFO("kernel " << d->name << " sibling " << s->name);
    // Same weight panels: the sibling reads what d's packer wrote.
    REQUIRE(s->nr == d->nr);
    REQUIRE(s->k_step == d->k_step);
    REQUIRE(s->pack_w == d->pack_w);
    REQUIRE(s->pack_w_offset == d->pack_w_offset);
    REQUIRE(s->w_offset == d->w_offset);
    REQUIRE(s->mr < d->mr);
    dispatch_options opt;
    opt.kernel_name = d->name;
    const std::size_t mr = d->mr, ms = s->mr;
    std::set<std::size_t> ms_to_try = {1,      ms - 1, ms,     ms + 1, mr,  mr + 1, 2 * ms,
                                       2 * mr, 7 * ms, 7 * mr, 49,     196, 197};
    for (std::size_t m : ms_to_try) {
      const bool shorter = (m + ms - 1) / ms * ms < (m + mr - 1) / mr * mr;
      packed_weights pw;
      const format wf{2, encoding::signed_int}, af{2, encoding::unsigned_int};
      std::vector<std::uint8_t> w(d->nr * 2u * 37u, 1);
      REQUIRE(pack_weights(codes(w.data(), d->nr * 2u, 37), wf, af, pw, opt).ok());
      INFO("M=" << m);
      CHECK(std::string(pw.kernel_name(m)) == (shorter ? s->name : d->name));
      CHECK(std::string(pw.kernel_name()) == d->name);
      // Direct int32 tiles (values stored, unsigned activations), the offset path (8-bit
      // weights) and signed activations, with edges in N and K.
      check_gemm(opt, wf, af, {m, 2u * d->nr + 3, 4u * d->k_step + 5});
      check_gemm(opt, {8, encoding::unsigned_int}, {8, encoding::unsigned_int},
                 {m, d->nr + 1u, 67});
      check_gemm(opt, {3, encoding::odd_symmetric}, {4, encoding::signed_int}, {m, 5, 130});
    }
  }
}

TEST_CASE("signed weights run the signed-weight sibling, which needs no row sums",
          "[gemm][kernels]") {
  // ukernel_desc::signed_w: the same kernel with weights at offset 2^(w_bits - 1), two's
  // complement planes. pack_weights switches to it for signed codes of exactly w_bits (each
  // weight's value stored: the epilogue needs no activation row sums), and not otherwise.
  std::size_t siblings = 0;
  for (const kernels::ukernel_desc* d : runnable_kernels()) {
    const kernels::ukernel_desc* s = d->signed_w;
    if (s == nullptr) continue;
    ++siblings;
    INFO("kernel " << d->name << " sibling " << s->name);
    REQUIRE(s->mr == d->mr);
    REQUIRE(s->nr == d->nr);
    REQUIRE(s->k_step == d->k_step);
    REQUIRE(s->w_bits == d->w_bits);
    REQUIRE(s->a_bits == d->a_bits);
    REQUIRE(s->pack_a == d->pack_a);
    REQUIRE(s->w_offset == 1 << (d->w_bits - 1));
    const format sf{d->w_bits, encoding::signed_int}, uf{d->w_bits, encoding::unsigned_int};
    const format af{d->a_bits, encoding::unsigned_int};
    // The choice: find d by its algorithm and ISA level, then let pack_weights switch.
    dispatch_options opt;
    opt.algo = d->algo;
    opt.cap = isa::avx512icl;
    if (select_ukernel(d->w_bits, d->a_bits, 64, 256, opt) != d) continue;
    const std::size_t n = 64, k = 256;
    std::vector<std::uint8_t> w(n * k, 1);
    packed_weights ps, pu;
    REQUIRE(pack_weights(codes(w.data(), n, k), sf, af, ps, opt).ok());
    REQUIRE(pack_weights(codes(w.data(), n, k), uf, af, pu, opt).ok());
    CHECK(std::string(ps.kernel_name()) == s->name);
    CHECK(std::string(pu.kernel_name()) == d->name);
    CHECK(query_kernel(sf, af, n, k, opt) == s);
    CHECK_FALSE(detail::row_sums_needed(ps.w_offset(), af, sf, {}, n));
    // Exact through the switch (signed weights, every edge) and when forced on other formats.
    check_gemm(opt, sf, af, {2u * d->mr + 1, d->nr + 3u, 3u * d->k_step + 5});
    check_gemm(opt, sf, {d->a_bits, encoding::signed_int}, {d->mr, 2u * d->nr, 129});
    dispatch_options forced;
    forced.kernel_name = s->name;
    check_gemm(forced, uf, af, {d->mr + 2u, d->nr - 1u, 2u * d->k_step - 3});
    check_gemm(forced, {d->w_bits, encoding::odd_symmetric}, af, {3, 5, 130});
  }
  if (allowed_features() & bit(cpu_feature::avx512vpopcntdq)) CHECK(siblings > 0);
}

TEST_CASE("core profiles move w2a2 off VNNI where it measured slower", "[dispatch]") {
  using detail::core_kind;
  using detail::profile_of;
#if defined(LOWBIT_X86_KERNELS)
  // The choice each profile implies, on any host (the rates are data): ResNet-18 conv2 (N = 64,
  // K = 576) and conv4 (N = 256, K = 2304).
  const auto choice = [](core_kind k, int wb, int ab, std::size_t n, std::size_t k_) {
    const detail::core_profile p = profile_of(k);
    const kernels::ukernel_desc* best = nullptr;
    double best_score = -1.0;
    detail::for_each_ukernel([&](const kernels::ukernel_desc& d) {
      if ((d.features & ~detail::x86_avx512icl) != 0 || d.w_bits < wb || d.a_bits < ab) return;
      const double s = detail::expected_throughput(d, 0, n, k_, false, false, 0, p);
      if (s > best_score) {
        best = &d;
        best_score = s;
      }
    });
    return best;
  };
  // The reference core (Emerald Rapids): VNNI int8 at 122 MAC/cycle beats every w2a2 method.
  CHECK(choice(core_kind::reference, 2, 2, 64, 576)->algo == algorithm::dot_i8);
  CHECK(choice(core_kind::reference, 2, 2, 256, 2304)->algo == algorithm::dot_i8);
  // Zen 5 (popcount twice as fast): bitplane, 0.88x and 0.81x the VNNI time when measured.
  CHECK(choice(core_kind::amd_zen5, 2, 2, 64, 576)->algo == algorithm::bitplane);
  CHECK(choice(core_kind::amd_zen5, 2, 2, 256, 2304)->algo == algorithm::bitplane);
  // Zen 4 (VNNI at half rate): w2a2 leaves VNNI for the vpermb tables (measured 0.54-0.65x its
  // time on the ResNet-18 shapes, bitplane 0.73-0.77x), and w1a3 / w3a1 for bitplane (three
  // plane pairs at 111 MAC/cycle).
  CHECK(choice(core_kind::amd_zen4, 2, 2, 64, 576)->algo == algorithm::lut_actsum);
  CHECK(choice(core_kind::amd_zen4, 2, 2, 256, 2304)->algo == algorithm::lut_actsum);
  CHECK(choice(core_kind::amd_zen4, 1, 3, 256, 2304)->algo == algorithm::bitplane);
  // Ice Lake server (VNNI at 0.6 of the reference rate): w2a2 leaves VNNI for the vpermb tables
  // too (measured 0.58-0.76x its time with the float stage on the ResNet-18 shapes).
  CHECK(choice(core_kind::intel_icelake, 2, 2, 64, 576)->algo == algorithm::lut_actsum);
  CHECK(choice(core_kind::intel_icelake, 2, 2, 256, 2304)->algo == algorithm::lut_actsum);
  // w2a4 (eight plane pairs) and w4a4 stay on VNNI everywhere (Zen 5: 278 us, forced
  // bitplane 466 us).
  for (core_kind k :
       {core_kind::reference, core_kind::amd_zen4, core_kind::amd_zen5, core_kind::intel_icelake}) {
    CHECK(choice(k, 2, 4, 64, 576)->algo == algorithm::dot_i8);
    CHECK(choice(k, 4, 4, 256, 2304)->algo == algorithm::dot_i8);
  }
#endif
  // The host's own profile is one of them, and LOWBIT_CORE names parse back.
  for (core_kind k :
       {core_kind::reference, core_kind::amd_zen4, core_kind::amd_zen5, core_kind::intel_icelake}) {
    core_kind parsed = core_kind::reference;
    CHECK(detail::parse_core(profile_of(k).name, parsed));
    CHECK(parsed == k);
  }
  core_kind unused;
  CHECK_FALSE(detail::parse_core("zen3", unused));
}

TEST_CASE("the Zen 4 and Ice Lake profiles measured every kernel those cores run", "[dispatch]") {
  // A kernel added without a Zen 4 rate would be compared there at its reference rate, which
  // for AVX-512 multiplies is twice too high (on Ice Lake 1.6 times). Exempt: AVX-VNNI (neither
  // core has it) and the opt-in wide bitplane cells (never chosen over int8 dot products).
  for (const auto kind : {detail::core_kind::amd_zen4, detail::core_kind::intel_icelake}) {
    const detail::core_profile p = detail::profile_of(kind);
    INFO(p.name);
    detail::for_each_ukernel([&](const kernels::ukernel_desc& d) {
      if (d.algo == algorithm::scalar || (d.features & ~detail::x86_avx512icl) != 0) return;
      if ((d.features & bit(cpu_feature::avxvnni)) != 0) return;
      if (d.algo == algorithm::bitplane && (d.w_bits > 4 || d.a_bits > 4)) return;
      bool listed = false;
      for (std::size_t i = 0; i < p.rate_count; ++i)
        listed |= std::string(p.rates[i].kernel) == d.name;
      INFO(d.name);
      CHECK(listed);
    });
  }
}

TEST_CASE("A read in place frees only the kernels that can of packing", "[dispatch]") {
  // dispatch_options::a_in_place / a_plane_image (conv2d's window rows, its bit-plane image):
  // kernels that read A in place from that source pay no packing, every other kernel pays an
  // im2col copy on top of its packer.
  detail::for_each_ukernel([&](const kernels::ukernel_desc& d) {
    for (auto [n, k] : {std::pair<std::size_t, std::size_t>{128, 64}, {512, 256}, {64, 576}}) {
      const double plain = detail::expected_throughput(d, 0, n, k, false, false);
      const double in_place = detail::expected_throughput(d, 0, n, k, true, false);
      const double image = detail::expected_throughput(d, 0, n, k, false, true);
      INFO(d.name << " N " << n << " K " << k);
      if (kernels::keeps_runs(d, kernels::a_run_kind::codes))
        CHECK(in_place >= plain);
      else
        CHECK(in_place < plain);
      if (kernels::keeps_runs(d, kernels::a_run_kind::planes))
        CHECK(image >= plain);
      else
        CHECK(image < plain);
    }
  });
  // ResNet-18's first downsample (1x1 stride 2, 64 -> 128 channels, one window row of 64 codes)
  // on a host with AVX-512 VNNI and VPOPCNTDQ: int8-dot reading the input in place (bitplane
  // measured 1.9x slower), except on Zen 4, whose VNNI runs at half rate: there the vpermb
  // tables, packing the window row where it lies, are chosen. With signed weights their sibling
  // needs no row sums: 28.8 us against bitplane's 39 and VNNI's 39 (bench_conv, 2026-12-06). A
  // known miss of the model with unsigned weights: the layer's conv2d then scans the whole input
  // (four times the pixels it reads) for the tables' row sums, which dispatch does not charge
  // (49 us).
  const feature_set need = isa_features(isa::avx512icl);
  if ((need & ~allowed_features()) != 0) return;
  pack_options in_place;
  in_place.a_in_place = true;
  in_place.a_window_row = 64;
  const detail::core_kind host = detail::host_core_profile().kind;
  const bool slow_vnni =
      host == detail::core_kind::amd_zen4 || host == detail::core_kind::intel_icelake;
  CHECK(select_ukernel(2, 2, 128, 64, in_place)->algo ==
        (slow_vnni ? algorithm::lut_actsum : algorithm::dot_i8));
}

TEST_CASE("the largest K is exact with worst-case codes, one more is refused", "[gemm][limits]") {
  const std::pair<format, format> cases[] = {
      {{8, encoding::signed_int}, {8, encoding::unsigned_int}},
      {{8, encoding::signed_int}, {8, encoding::signed_int}},
      {{8, encoding::odd_symmetric}, {8, encoding::unsigned_int}},
  };
  for (auto [wf, af] : cases) {
    const std::int64_t kmax = max_k(af, wf);
    REQUIRE(kmax < 200000);
    check_gemm({}, wf, af, {1, 2, static_cast<std::size_t>(kmax), 0, 0, 0, false, 1});
    std::vector<std::uint8_t> w(static_cast<std::size_t>(kmax + 1), 1);
    packed_weights pw;
    const status s = pack_weights(codes(w.data(), 1, w.size()), wf, af, pw);
    REQUIRE(s.code() == errc::accumulator_overflow);
    REQUIRE(s.limit() == kmax);
  }
}

TEST_CASE("weights packed once serve many calls and activations of fewer bits", "[gemm]") {
  const format wf{2, encoding::signed_int};
  for (int ab = 1; ab <= 4; ++ab) check_gemm({}, wf, {ab, encoding::unsigned_int}, {9, 40, 77});
  // The workspace is reused: a second, smaller call through the same thread workspace.
  check_gemm({}, wf, {2, encoding::unsigned_int}, {300, 70, 600});
  check_gemm({}, wf, {2, encoding::unsigned_int}, {3, 7, 60});
}
