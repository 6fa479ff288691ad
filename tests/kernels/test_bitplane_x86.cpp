// The x86 bitplane popcount kernels through the common microkernel tester.
#if defined(__x86_64__)

#include "lowbit/kernels/bitplane/bitplane_x86.hpp"
#include "ukernel_tester.hpp"

TEST_CASE("x86 bitplane microkernels match the naive u-code dot product",
          "[ukernel][bitplane][x86]") {
  for (const auto& d : lowbit::kernels::bitplane::x86_ukernels()) {
    INFO(d.name);
    lowbit::test::ukernel_tester(d).test_all();
  }
}

#endif  // __x86_64__
