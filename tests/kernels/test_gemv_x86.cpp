// The x86 small-M kernels with bit-dense weights through the common microkernel tester.
#if defined(__x86_64__)

#include "lowbit/kernels/gemv/gemv_x86.hpp"
#include "ukernel_tester.hpp"

TEST_CASE("x86 gemv microkernels match the naive u-code dot product", "[ukernel][gemv][x86]") {
  for (const auto& d : lowbit::kernels::gemv::x86_ukernels()) {
    INFO(d.name);
    lowbit::test::ukernel_tester(d).test_all();
  }
}

#endif  // __x86_64__
