// The x86 int8 dot-product kernels through the common microkernel tester.
#if defined(__x86_64__)

#include <cstddef>

#include "lowbit/kernels/dot/dot_x86.hpp"
#include "ukernel_tester.hpp"

TEST_CASE("x86 int8 dot microkernels match the naive u-code dot product", "[ukernel][dot][x86]") {
  for (const auto& d : lowbit::kernels::dot::x86_ukernels()) {
    INFO(d.name);
    lowbit::test::ukernel_tester(d).test_all();
  }
}

// The AMX kernel's own edges, run on every dot kernel (each case costs microseconds): K around
// its 64-value tile steps (the zero-padded tail copies) and odd; M and N around its 16-row tiles;
// and worst-case codes over K = 2^17, whose sums (255 x 127 a product) pass 2^31: vpdpbusd and
// TDPBUSD must wrap mod 2^32 as the reference does, never saturate.
TEST_CASE("x86 int8 dot microkernels at 16-row and 64-value edges, and past int32",
          "[ukernel][dot][x86]") {
  for (const auto& d : lowbit::kernels::dot::x86_ukernels()) {
    INFO(d.name);
    if (!lowbit::test::host_can_run(d)) {
      WARN("skipping " << d.name << ": the host lacks a feature it needs");
      continue;
    }
    const lowbit::test::ukernel_tester t(d);
    const std::size_t mr = d.mr, nr = d.nr;
    for (std::size_t k : {31, 32, 33, 63, 64, 65, 127, 128, 129, 191, 193}) {
      t.test(mr, nr, k, false, 0);
      t.test(mr, nr, k, true, 0);
      t.test(mr, nr, k, false, 0, 5);
      t.test(1, 1, k, false, 2);
      for (std::size_t m : {1, 15, 16, 17, 31})
        if (m < mr) t.test(m, nr, k, false, 0);
      for (std::size_t n : {1, 15, 16, 17, 31})
        if (n < nr) t.test(mr, n, k, true, 0);
    }
    const std::size_t kwrap = std::size_t{1} << 17;
    if (kwrap <= d.kc_max) {
      t.test(mr, nr, kwrap, false, 1);
      t.test(mr, nr, kwrap - 3, true, 1);
    }
  }
}

#endif  // __x86_64__
