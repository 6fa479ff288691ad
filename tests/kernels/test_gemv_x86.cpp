// The x86 small-M kernels with bit-dense weights through the common microkernel tester.
#if defined(__x86_64__)

#include <cstring>

#include "lowbit/dispatch/select.hpp"
#include "lowbit/kernels/gemv/gemv_x86.hpp"
#include "ukernel_tester.hpp"

TEST_CASE("x86 gemv microkernels match the naive u-code dot product", "[ukernel][gemv][x86]") {
  for (const auto& d : lowbit::kernels::gemv::x86_ukernels()) {
    INFO(d.name);
    lowbit::test::ukernel_tester(d).test_all();
  }
}

TEST_CASE("small m_hint selects the bit-dense gemv kernels, unknown or large M does not",
          "[dispatch][gemv][x86]") {
  if (!lowbit::test::host_can_run(lowbit::kernels::gemv::x86_ukernels().data[0])) {
    WARN("skipping: the host lacks AVX-512 VNNI");
    return;
  }
  auto is_gemv = [](const lowbit::kernels::ukernel_desc* d) {
    return d != nullptr && std::strncmp(d->name, "gemv_", 5) == 0;
  };
  for (int wb = 1; wb <= 4; ++wb)
    for (int ab : {4, 8}) {  // a <= 4 goes through the same a8 kernels (bitplane takes a < 4)
      lowbit::dispatch_options opt;
      INFO("w" << wb << "a" << ab);
      for (std::size_t m : {1, 8}) {
        opt.m_hint = m;
        const auto* d = lowbit::select_ukernel(wb, ab, 4096, 4096, opt);
        INFO("m_hint " << m << " -> " << (d ? d->name : "none"));
        REQUIRE(is_gemv(d));
        REQUIRE(d->mr == m);
        // At M = 8 the kernels are compute-bound, so a wider one with a better measured rate
        // may serve narrower weights; at M = 1 bytes decide and the narrowest kernel wins (3-bit
        // weights have none of their own: the 4-bit kernel serves them).
        const int narrowest = wb == 3 ? 4 : wb;
        REQUIRE((m == 1 ? d->w_bits == narrowest : d->w_bits >= wb));
      }
      for (std::size_t m : {0, 64, 3136}) {
        opt.m_hint = m;
        const auto* d = lowbit::select_ukernel(wb, ab, 4096, 4096, opt);
        INFO("m_hint " << m << " -> " << (d ? d->name : "none"));
        REQUIRE(d != nullptr);
        REQUIRE(!is_gemv(d));
      }
    }
}

#endif  // __x86_64__
