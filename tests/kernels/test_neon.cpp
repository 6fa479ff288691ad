// The Arm NEON kernel families through the common microkernel tester.
//
// The CMake glob builds this file on every architecture; on a non-Arm (or NEON-less) build it
// holds one test case that says so, which keeps the glob simple and ctest's list explicit. Under
// QEMU, kernels whose features the emulated CPU lacks (dotprod on a Cortex-A53) are skipped with
// a warning by the tester, and the suite checks that at least the baseline ones ran. M and N
// above the tile (several tiles, partial last tile) and K blocking beyond kc_max run through the
// driver for every registered kernel in test_gemm.cpp.
#include <cmath>
#include <cstddef>
#include <cstring>
#include <random>
#include <vector>

#include "ukernel_tester.hpp"

#if (defined(__aarch64__) || (defined(__arm__) && (defined(__ARM_NEON) || defined(__ARM_NEON__))))

#include "lowbit/detail/half.hpp"
#include "lowbit/dispatch/select.hpp"
#include "lowbit/kernels/neon/neon_kernels.hpp"
#include "lowbit/output.hpp"

namespace {
std::size_t run_all(lowbit::kernels::ukernel_list list) {
  std::size_t ran = 0;
  for (const auto& d : list) {
    INFO(d.name);
    if (lowbit::test::ukernel_tester(d).test_all()) ++ran;
  }
  return ran;
}

// run_grouped of a one-row kernel against the documented order (ukernel.hpp group_args,
// output.hpp group_term) over exact sums: `groups` groups of kc values (k_last in the last),
// `cols` live columns, both scale layouts, with and without x and column terms, alpha 1 or not.
// Scales: 0 normal ones; 1 some below 2^-103, subnormal among them (Armv7 NEON would flush
// them: the kernel must give VFP's bits); 2 also a NaN with a payload. f16 (kernels with
// grouped_f16): the weights' binary16 table instead (group_args::scales_f16), random finite
// binary16 values, subnormals among them, and with scale_kind 2 a NaN with a payload.
// Compared bit for bit.
void check_grouped(const lowbit::kernels::ukernel_desc& d, std::size_t groups, std::size_t kc,
                   std::size_t k_last, std::size_t cols, bool rows_layout, bool terms,
                   unsigned seed, int scale_kind = 0, bool f16 = false) {
  using namespace lowbit;
  REQUIRE(d.mr == 1);
  REQUIRE((!f16 || (d.grouped_f16 && !rows_layout)));
  const std::size_t nr = d.nr, k = (groups - 1) * kc + k_last;
  std::mt19937 rng(seed);
  std::vector<std::uint8_t> a(k), w(cols * k);
  for (auto& x : a) x = static_cast<std::uint8_t>(rng() % (1u << d.a_bits));
  for (auto& x : w) x = static_cast<std::uint8_t>(rng() % (1u << d.w_bits));
  const std::size_t a_stride = d.a_panel_bytes(kc), w_stride = d.w_panel_bytes(kc);
  detail::aligned_buffer ap(groups * a_stride + 64), wp(groups * w_stride + 64);
  std::fill_n(ap.bytes(), ap.size(), std::uint8_t{0xA5});
  std::fill_n(wp.bytes(), wp.size(), std::uint8_t{0x5A});
  for (std::size_t g = 0; g < groups; ++g) {
    const std::size_t kg = g + 1 < groups ? kc : k_last;
    d.pack_a(a.data() + g * kc, k, 1, kg, ap.bytes() + g * a_stride);
    d.pack_w(w.data() + g * kc, k, cols, kg, wp.bytes() + g * w_stride);
  }
  std::vector<std::uint32_t> row_y(groups), row_p(groups), col_x(groups * nr), col_t(groups * nr);
  for (auto* v : {&row_y, &row_p, &col_x, &col_t})
    for (auto& x : *v) x = rng();
  const std::uint32_t alpha = terms ? rng() % 7 + 2 : 1;
  // The caller's N x groups rows with nothing past `cols` rows, or the driver's NR-wide table.
  std::vector<float> scales(rows_layout ? cols * groups : nr * groups, 0.0f);
  auto scale = [&](std::size_t j, std::size_t g) -> float& {
    return rows_layout ? scales[j * groups + g] : scales[g * nr + j];
  };
  for (std::size_t j = 0; j < cols; ++j)
    for (std::size_t g = 0; g < groups; ++g)
      scale(j, g) = std::ldexp(static_cast<float>(rng() % 2001) - 1000.0f,
                               -static_cast<int>(rng() % 20) -
                                   (scale_kind != 0 && rng() % 3 == 0 ? 110 + rng() % 40 : 20));
  if (scale_kind == 2) {
    const std::uint32_t nan_bits = 0x7fc01234u;
    std::memcpy(&scale(cols - 1, groups / 2), &nan_bits, sizeof(nan_bits));
  }
  // The binary16 table (zero past cols) and the float values the kernel must read from it.
  std::vector<std::uint16_t> halves(f16 ? nr * groups : 0, 0);
  for (std::size_t j = 0; j < cols && f16; ++j)
    for (std::size_t g = 0; g < groups; ++g) {
      auto h = static_cast<std::uint16_t>(rng());
      if ((h & 0x7C00u) == 0x7C00u) h &= 0xBFFFu;  // infinities and NaNs made finite
      halves[g * nr + j] = h;
    }
  if (f16 && scale_kind == 2) halves[(groups / 2) * nr + cols - 1] = 0x7E15u;
  for (std::size_t j = 0; j < cols && f16; ++j)
    for (std::size_t g = 0; g < groups; ++g)
      scale(j, g) = detail::half_to_float(halves[g * nr + j]);
  std::vector<float> acc(nr, -7.0f);
  const kernels::group_args ga{groups,
                               kc,
                               k_last,
                               ap.bytes(),
                               a_stride,
                               wp.bytes(),
                               w_stride,
                               cols,
                               alpha,
                               row_y.data(),
                               row_p.data(),
                               terms ? col_x.data() : nullptr,
                               terms ? col_t.data() : nullptr,
                               scales.data(),
                               rows_layout ? groups : 1,
                               rows_layout ? 1 : nr,
                               acc.data()};
  kernels::group_args gh = ga;
  if (f16) {
    gh.scales = nullptr;  // not read when the binary16 table is given
    gh.scales_f16 = halves.data();
  }
  d.run_grouped(gh);
  for (std::size_t j = 0; j < cols; ++j) {
    float expect = 0.0f;
    for (std::size_t g = 0; g < groups; ++g) {
      std::uint32_t s = 0;
      for (std::size_t x = g * kc; x < std::min(k, (g + 1) * kc); ++x) s += a[x] * w[j * k + x];
      std::uint32_t t = alpha * s + row_p[g];
      if (terms) t += col_x[g * nr + j] * row_y[g] + col_t[g * nr + j];
      expect = detail::group_term(expect, scale(j, g), static_cast<std::int32_t>(t));
    }
    INFO(d.name << " groups " << groups << " kc " << kc << " k_last " << k_last << " cols " << cols
                << " rows " << rows_layout << " terms " << terms << " f16 " << f16 << " column "
                << j);
    std::uint32_t got_bits = 0, expect_bits = 0;
    std::memcpy(&got_bits, &acc[j], sizeof(got_bits));
    std::memcpy(&expect_bits, &expect, sizeof(expect_bits));
    REQUIRE(got_bits == expect_bits);
  }
}

// Every one-row kernel with run_grouped: one group (K <= G), several, short last groups, ragged
// columns. Returns how many ran (the host may lack a kernel's features).
std::size_t check_all_grouped(lowbit::kernels::ukernel_list list) {
  std::size_t ran = 0;
  unsigned seed = 1;
  for (const auto& d : list) {
    if (d.run_grouped == nullptr || !lowbit::test::host_can_run(d)) continue;
    ++ran;
    for (std::size_t groups : {1, 2, 3, 9})
      for (std::size_t kc : {32, 64, 128})
        for (std::size_t k_last : {std::size_t{1}, kc / 2 + 3, kc})
          for (std::size_t cols : {std::size_t{1}, std::size_t{3}, std::size_t{d.nr}})
            for (bool rows_layout : {false, true})
              for (bool terms : {false, true})
                check_grouped(d, groups, kc, k_last, cols, rows_layout, terms, ++seed);
    for (int kind : {1, 2})
      for (std::size_t groups : {1, 5})
        for (std::size_t cols : {std::size_t{3}, std::size_t{d.nr}})
          for (bool rows_layout : {false, true})
            check_grouped(d, groups, 32, 17, cols, rows_layout, true, ++seed, kind);
    if (!d.grouped_f16) continue;
    for (std::size_t groups : {1, 2, 3, 9})
      for (std::size_t k_last : {std::size_t{1}, std::size_t{32}})
        for (std::size_t cols : {std::size_t{1}, std::size_t{3}, std::size_t{d.nr}})
          for (bool terms : {false, true})
            for (int kind : {0, 2})
              check_grouped(d, groups, 32, k_last, cols, false, terms, ++seed, kind, true);
    for (std::size_t groups : {2, 5})
      check_grouped(d, groups, 64, 40, d.nr, false, true, ++seed, 0, true);
  }
  return ran;
}
}  // namespace

TEST_CASE("NEON int8 widening kernels match the naive u-code dot product", "[ukernel][dot][neon]") {
  CHECK(run_all(lowbit::kernels::neon::dot_ukernels()) ==
        lowbit::kernels::neon::dot_ukernels().size);
}

TEST_CASE("NEON bitplane kernels match the naive u-code dot product", "[ukernel][bitplane][neon]") {
  CHECK(run_all(lowbit::kernels::neon::bitplane_ukernels()) ==
        lowbit::kernels::neon::bitplane_ukernels().size);
}

TEST_CASE("NEON activation-sum lookup-table kernels match the naive u-code dot product",
          "[ukernel][lut][neon]") {
  CHECK(run_all(lowbit::kernels::neon::lut_ukernels()) ==
        lowbit::kernels::neon::lut_ukernels().size);
}

TEST_CASE("NEON GEMV kernels (bit-dense weights) match the naive u-code dot product",
          "[ukernel][gemv][neon]") {
  CHECK(run_all(lowbit::kernels::neon::gemv_ukernels()) ==
        lowbit::kernels::neon::gemv_ukernels().size);
}

// The one-row kernels have run_grouped; the several-row ones leave groups to the driver's loop.
static std::size_t count_grouped(lowbit::kernels::ukernel_list list) {
  std::size_t n = 0;
  for (const auto& d : list) n += d.run_grouped != nullptr;
  return n;
}

TEST_CASE("NEON GEMV kernels: run_grouped is the documented per-group float order",
          "[ukernel][gemv][groups][neon]") {
  CHECK(check_all_grouped(lowbit::kernels::neon::gemv_ukernels()) ==
        count_grouped(lowbit::kernels::neon::gemv_ukernels()));
}

// On AArch64 the one-row kernels read the weights' binary16 scales themselves (FCVTL); Armv7
// takes float tables the driver converts one by one (its NEON flushes subnormals).
TEST_CASE("NEON GEMV kernels: which read binary16 scale tables", "[ukernel][gemv][groups][neon]") {
  for (const auto& d : lowbit::kernels::neon::gemv_ukernels()) {
    INFO(d.name);
#if defined(__aarch64__)
    CHECK(d.grouped_f16 == (d.run_grouped != nullptr));
#else
    CHECK_FALSE(d.grouped_f16);
#endif
  }
#if defined(__aarch64__)
  for (const auto& d : lowbit::kernels::neon::gemv_dotprod_ukernels()) {
    INFO(d.name);
    CHECK(d.grouped_f16 == (d.run_grouped != nullptr));
  }
#endif
}

#if defined(__aarch64__)
// Without dotprod the 8-row baseline kernel ranks above the byte-per-code widening kernels at
// M = 8 (bit-dense panels, one weight unpack for eight rows).
TEST_CASE("NEON dispatch picks the 8-row GEMV kernel at M = 8 without dotprod",
          "[dispatch][gemv][neon]") {
  for (int bits : {1, 2, 4}) {
    lowbit::dispatch_options o;
    o.m_hint = 8;
    o.cap = lowbit::isa::neon;
    const lowbit::kernels::ukernel_desc* d = lowbit::select_ukernel(bits, 8, 4096, 4096, o);
    REQUIRE(d != nullptr);
    INFO("w" << bits << "a8 -> " << d->name);
    CHECK(std::strstr(d->name, "a8_8x8c32__neon") != nullptr);
  }
}
#endif

// At M = 1 the weights' bytes bound the time (select.hpp's small-M model): dispatch packs the
// bit-dense GEMV kernels, the dotprod ones where the CPU has dotprod, also for group scales of 32.
TEST_CASE("NEON dispatch picks the GEMV kernels at M = 1", "[dispatch][gemv][neon]") {
  const lowbit::feature_set host = lowbit::detail::host_features();
  const bool has_dot = (host & lowbit::bit(lowbit::cpu_feature::neon_dotprod)) != 0;
  for (std::size_t group : {0, 32, 128})
    for (int bits : {1, 2, 4}) {
      lowbit::dispatch_options o;
      o.m_hint = 1;
      o.k_group = group;
      const lowbit::kernels::ukernel_desc* d = lowbit::select_ukernel(bits, 8, 4096, 4096, o);
      REQUIRE(d != nullptr);
      INFO("w" << bits << "a8 group " << group << " -> " << d->name);
      CHECK(std::strncmp(d->name, "gemv_", 5) == 0);
      CHECK((d->features & ~host) == 0);
#if defined(__aarch64__)
      CHECK((std::strstr(d->name, "neondot") != nullptr) == has_dot);
#else
      (void)has_dot;
#endif
    }
}

TEST_CASE("the registry holds every NEON family's kernels", "[ukernel][neon]") {
  std::size_t n =
      lowbit::kernels::neon::dot_ukernels().size + lowbit::kernels::neon::bitplane_ukernels().size +
      lowbit::kernels::neon::lut_ukernels().size + lowbit::kernels::neon::gemv_ukernels().size;
#if defined(__aarch64__)
  n += lowbit::kernels::neon::gemv_dotprod_ukernels().size;
  n += lowbit::kernels::neon::lut_tbl4_ukernels().size;
  n += lowbit::kernels::neon::dotprod_ukernels().size;
  n += lowbit::kernels::neon::i8mm_ukernels().size;
#endif
  std::size_t registered = 0;
  lowbit::detail::for_each_ukernel([&](const lowbit::kernels::ukernel_desc& d) {
    registered += std::strncmp(d.name, "scalar_", 7) != 0;
  });
  CHECK(registered == n);
}

#if defined(__aarch64__)
TEST_CASE("NEON 64-entry (4-register TBL) lookup-table kernels match the naive u-code dot product",
          "[ukernel][lut][neon]") {
  CHECK(run_all(lowbit::kernels::neon::lut_tbl4_ukernels()) ==
        lowbit::kernels::neon::lut_tbl4_ukernels().size);
}

TEST_CASE("NEON dotprod kernels match the naive u-code dot product (when the CPU has dotprod)",
          "[ukernel][dot][neondot]") {
  run_all(lowbit::kernels::neon::dotprod_ukernels());
}

TEST_CASE("NEON dotprod GEMV kernels match the naive u-code dot product (when the CPU has dotprod)",
          "[ukernel][gemv][neondot]") {
  const std::size_t ran = run_all(lowbit::kernels::neon::gemv_dotprod_ukernels());
  const std::size_t grouped = check_all_grouped(lowbit::kernels::neon::gemv_dotprod_ukernels());
  const bool has_dot =
      (lowbit::detail::host_features() & lowbit::bit(lowbit::cpu_feature::neon_dotprod)) != 0;
  CHECK(ran == (has_dot ? lowbit::kernels::neon::gemv_dotprod_ukernels().size : 0u));
  CHECK(grouped == (has_dot ? count_grouped(lowbit::kernels::neon::gemv_dotprod_ukernels()) : 0u));
}

TEST_CASE("NEON i8mm kernels match the naive u-code dot product (when the CPU has i8mm)",
          "[ukernel][dot][neoni8mm]") {
  const std::size_t ran = run_all(lowbit::kernels::neon::i8mm_ukernels());
  const bool has_i8mm =
      (lowbit::detail::host_features() & lowbit::bit(lowbit::cpu_feature::neon_i8mm)) != 0;
  CHECK(ran == (has_i8mm ? lowbit::kernels::neon::i8mm_ukernels().size : 0u));
}

// Dispatch takes UMMLA only where the CPU reports i8mm (qemu -cpu max), never on a core without it
// (qemu -cpu cortex-a53 would kill the process at the first UMMLA anyway), and prefers it to UDOT
// for the int8 cells when it may.
TEST_CASE("NEON dispatch selects the i8mm kernel exactly when the CPU has i8mm",
          "[dispatch][neoni8mm]") {
  const lowbit::feature_set host = lowbit::detail::host_features();
  const bool has_i8mm = (host & lowbit::bit(lowbit::cpu_feature::neon_i8mm)) != 0;
  const bool has_dot = (host & lowbit::bit(lowbit::cpu_feature::neon_dotprod)) != 0;
  for (int bits : {2, 4, 8}) {
    const lowbit::kernels::ukernel_desc* d = lowbit::select_ukernel(bits, bits, 256, 512);
    REQUIRE(d != nullptr);
    INFO("w" << bits << "a" << bits << " -> " << d->name);
    CHECK((d->features & ~host) == 0);
    const bool is_i8mm = std::strstr(d->name, "neoni8mm") != nullptr;
    if (!has_i8mm) CHECK(!is_i8mm);
    if (has_i8mm && bits == 8) CHECK(is_i8mm);
    if (has_dot && !has_i8mm && bits == 8) CHECK(std::strstr(d->name, "neondot") != nullptr);
  }
  lowbit::dispatch_options capped;
  capped.cap = lowbit::isa::neon_dotprod;  // i8mm is above this level
  const lowbit::kernels::ukernel_desc* d = lowbit::select_ukernel(8, 8, 256, 512, capped);
  REQUIRE(d != nullptr);
  CHECK(std::strstr(d->name, "neoni8mm") == nullptr);
}
#endif

#else

TEST_CASE("NEON kernels: not an Arm NEON build", "[ukernel][neon]") {
  WARN("the NEON kernel tests apply to AArch64 and Armv7-A NEON builds only");
}

#endif
