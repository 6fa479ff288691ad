// The Arm NEON kernel families through the common microkernel tester.
//
// The CMake glob builds this file on every architecture; on a non-Arm (or NEON-less) build it
// holds one test case that says so, which keeps the glob simple and ctest's list explicit. Under
// QEMU, kernels whose features the emulated CPU lacks (dotprod on a Cortex-A53) are skipped with
// a warning by the tester, and the suite checks that at least the baseline ones ran. M and N
// above the tile (several tiles, partial last tile) and K blocking beyond kc_max run through the
// driver for every registered kernel in test_gemm.cpp.
#include <cstddef>
#include <cstring>

#include "ukernel_tester.hpp"

#if (defined(__aarch64__) || (defined(__arm__) && (defined(__ARM_NEON) || defined(__ARM_NEON__))))

#include "lowbit/dispatch/select.hpp"
#include "lowbit/kernels/neon/neon_kernels.hpp"

namespace {
std::size_t run_all(lowbit::kernels::ukernel_list list) {
  std::size_t ran = 0;
  for (const auto& d : list) {
    INFO(d.name);
    if (lowbit::test::ukernel_tester(d).test_all()) ++ran;
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

TEST_CASE("the registry holds every NEON family's kernels", "[ukernel][neon]") {
  std::size_t n = lowbit::kernels::neon::dot_ukernels().size +
                  lowbit::kernels::neon::bitplane_ukernels().size +
                  lowbit::kernels::neon::lut_ukernels().size;
#if defined(__aarch64__)
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
