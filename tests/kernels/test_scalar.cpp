// The portable kernel through the common microkernel tester.
#include "lowbit/kernels/scalar/udot_scalar.hpp"
#include "ukernel_tester.hpp"

TEST_CASE("scalar microkernels match the naive u-code dot product", "[ukernel][scalar]") {
  for (const auto& d : lowbit::kernels::scalar::ukernels()) {
    INFO(d.name);
    CHECK(lowbit::test::ukernel_tester(d).test_all());
  }
}

#include <cstdio>
#include <cstring>
#include <random>
#include <vector>

#include "lowbit/detail/portable_simd.hpp"

// Which portable path this build runs (xsimd batches or plain C++), printed for the CI log, and
// that it is the one the build asked for: xsimd wherever CMake found it (LOWBIT_HAVE_XSIMD).
TEST_CASE("portable path: the configured one", "[scalar][portable]") {
  const char* path = lowbit::detail::portable_path();
  std::printf("portable path: %s (%s)\n", path, lowbit::detail::portable_arch());
#if (defined(LOWBIT_HAVE_XSIMD) || defined(LOWBIT_USE_XSIMD)) && !defined(LOWBIT_NO_XSIMD)
  CHECK(std::strcmp(path, "xsimd") == 0);
#else
  CHECK(std::strcmp(path, "scalar") == 0);
#endif
}

// The kernel's xsimd body against the plain loop, at K around the float blocks' bound (x86) and
// with every product at its largest, accumulating into C.
TEST_CASE("portable kernel: xsimd and plain bodies agree", "[scalar][portable]") {
  using K = lowbit::kernels::scalar::udot_4x4;
  std::mt19937 rng(3);
  for (std::size_t kc : {1u, 3u, 4u, 5u, 17u, 1023u, 1024u, 1025u, 1029u, 4099u}) {
    for (int worst = 0; worst < 2; ++worst) {
      std::vector<std::uint8_t> a(kc * 4), w(kc * 4);
      for (auto& x : a) x = worst ? 255 : static_cast<std::uint8_t>(rng());
      for (auto& x : w) x = worst ? 255 : static_cast<std::uint8_t>(rng());
      std::int32_t got[4 * 6], want[4 * 6];
      for (int i = 0; i < 4 * 6; ++i) got[i] = want[i] = static_cast<std::int32_t>(rng());
      K::run(kc, a.data(), w.data(), got, 6, true);
      K::run_plain(kc, a.data(), w.data(), want, 6, true);
      INFO("kc " << kc << " worst " << worst);
      for (int i = 0; i < 4 * 6; ++i) REQUIRE(got[i] == want[i]);
    }
  }
}
