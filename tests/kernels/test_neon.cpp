// The Arm NEON kernel families through the common microkernel tester.
//
// The CMake glob builds this file on every architecture; on a non-Arm (or NEON-less) build it
// holds one test case that says so, which keeps the glob simple and ctest's list explicit. Under
// QEMU, kernels whose features the emulated CPU lacks (dotprod on a Cortex-A53) are skipped with
// a warning by the tester, and the suite checks that at least the baseline ones ran.
#include <cstddef>

#include "ukernel_tester.hpp"

#if (defined(__aarch64__) || (defined(__arm__) && (defined(__ARM_NEON) || defined(__ARM_NEON__))))

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

TEST_CASE("NEON kernel list holds every family's kernels", "[ukernel][neon]") {
  std::size_t n = lowbit::kernels::neon::dot_ukernels().size +
                  lowbit::kernels::neon::bitplane_ukernels().size +
                  lowbit::kernels::neon::lut_ukernels().size;
#if defined(__aarch64__)
  n += lowbit::kernels::neon::dotprod_ukernels().size;
#endif
  CHECK(lowbit::kernels::neon::ukernels().size == n);
}

#if defined(__aarch64__)
TEST_CASE("NEON dotprod kernels match the naive u-code dot product (when the CPU has dotprod)",
          "[ukernel][dot][neondot]") {
  run_all(lowbit::kernels::neon::dotprod_ukernels());
}
#endif

#else

TEST_CASE("NEON kernels: not an Arm NEON build", "[ukernel][neon]") {
  WARN("the NEON kernel tests apply to AArch64 and Armv7-A NEON builds only");
}

#endif
