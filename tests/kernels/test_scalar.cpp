// The portable kernel through the common microkernel tester.
#include "lowbit/kernels/scalar/udot_scalar.hpp"
#include "ukernel_tester.hpp"

TEST_CASE("scalar microkernels match the naive u-code dot product", "[ukernel][scalar]") {
  for (const auto& d : lowbit::kernels::scalar::ukernels()) {
    INFO(d.name);
    CHECK(lowbit::test::ukernel_tester(d).test_all());
  }
}
