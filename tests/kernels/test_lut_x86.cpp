// The x86 lookup-table kernels (activation-sum and product tables) through the common tester.
#if defined(__x86_64__)

#include <string>

#include "lowbit/kernels/lut/lut_x86.hpp"
#include "ukernel_tester.hpp"

TEST_CASE("x86 lookup-table kernel names say their bits, tile and K step", "[ukernel][lut][x86]") {
  for (const auto& d : lowbit::kernels::lut::x86_ukernels()) {
    const std::string name = d.name;
    INFO(name);
    const std::string algo =
        d.algo == lowbit::algorithm::lut_actsum ? "lut_actsum_" : "lut_product_";
    CHECK(name.rfind(algo, 0) == 0);
    CHECK(name.find("_w" + std::to_string(d.w_bits) + "a" + std::to_string(d.a_bits) + "_") !=
          std::string::npos);
    CHECK(name.find("_" + std::to_string(d.mr) + "x" + std::to_string(d.nr) + "c" +
                    std::to_string(d.k_step) + "__") != std::string::npos);
    CHECK(d.kc_max % d.k_step == 0);
  }
}

TEST_CASE("x86 lookup-table microkernels match the naive u-code dot product",
          "[ukernel][lut][x86]") {
  for (const auto& d : lowbit::kernels::lut::x86_ukernels()) {
    INFO(d.name);
    lowbit::test::ukernel_tester(d).test_all();
  }
}

#endif  // __x86_64__
