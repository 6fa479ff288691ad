// The x86 int8 dot-product kernels through the common microkernel tester.
#if defined(__x86_64__)

#include "lowbit/kernels/dot/dot_x86.hpp"
#include "ukernel_tester.hpp"

TEST_CASE("x86 int8 dot microkernels match the naive u-code dot product", "[ukernel][dot][x86]") {
  for (const auto& d : lowbit::kernels::dot::x86_ukernels()) {
    INFO(d.name);
    lowbit::test::ukernel_tester(d).test_all();
  }
}

#endif  // __x86_64__
