// The x86 small-M kernels with bit-dense weights through the common microkernel tester.
#if defined(__x86_64__)

#include <cstring>
#include <string>

#include "gemm_tester.hpp"
#include "lowbit/dispatch/select.hpp"
#include "lowbit/kernels/gemv/gemv_x86.hpp"
#include "ukernel_tester.hpp"

using lowbit::test::check_gemm;

namespace {

bool is_gemv_bitplane(const lowbit::kernels::ukernel_desc* d) {
  return d != nullptr && std::strncmp(d->name, "gemv_bitplane_", 14) == 0;
}

// The name of the bitplane GEMV kernel built for exactly w<wb>a<ab>.
std::string gemv_bitplane_name(int wb, int ab) {
  return "gemv_bitplane_w" + std::to_string(wb) + "a" + std::to_string(ab) + "_1x64c64__avx512icl";
}

}  // namespace

TEST_CASE("x86 gemv microkernels match the naive u-code dot product", "[ukernel][gemv][x86]") {
  for (const auto& d : lowbit::kernels::gemv::x86_ukernels()) {
    INFO(d.name);
    lowbit::test::ukernel_tester(d).test_all();
  }
}

TEST_CASE("x86 bitplane gemv microkernels are exact at kc_max with worst-case codes",
          "[ukernel][gemv][bitplane][x86]") {
  for (const auto& d : lowbit::kernels::gemv::x86_ukernels()) {
    if (!is_gemv_bitplane(&d)) continue;
    INFO(d.name);
    if (!lowbit::test::host_can_run(d)) {
      WARN("skipping " << d.name << ": the host lacks AVX-512 VPOPCNTDQ");
      continue;
    }
    // The common sweep stops at K = 16384; the 64-bit lanes' bound is proven up to kc_max.
    const lowbit::test::ukernel_tester t(d);
    t.test(d.mr, d.nr, d.kc_max, false, 1);  // every code at its maximum
    t.test(d.mr, d.nr, d.kc_max, true, 1);   // ... accumulating into random C
    t.test(1, d.nr / 2 + 1, d.kc_max - 1, false, 2);
  }
}

TEST_CASE("GEMV through gemm with m_hint = 1 runs the bitplane gemv kernels bit-exactly",
          "[gemm][gemv][bitplane][x86]") {
  lowbit::dispatch_options opt;
  opt.m_hint = 1;
  for (int wb = 1; wb <= 2; ++wb)
    for (int ab = 1; ab <= 2; ++ab) {
      const auto* d = lowbit::select_ukernel(wb, ab, 4096, 4096, opt);
      if (!is_gemv_bitplane(d)) {
        WARN("skipping w" << wb << "a" << ab << ": the host lacks AVX-512 VPOPCNTDQ");
        continue;
      }
      INFO("w" << wb << "a" << ab << " -> " << d->name);
      for (const lowbit::format wf : lowbit::test::all_formats(wb))
        for (const lowbit::format af : lowbit::test::all_formats(ab)) {
          // Small shapes: the kernel forced (automatic selection is asserted for the GEMV shape).
          lowbit::dispatch_options forced = opt;
          forced.kernel_name = d->name;
          for (std::size_t n : {1, 63, 64, 65, 130})
            for (std::size_t k : {1, 63, 64, 65, 200}) check_gemm(forced, wf, af, {1, n, k});
          // The GEMV shape with automatic selection (once per cell: the reference is slow).
          if (wf.enc == lowbit::encoding::odd_symmetric && af.enc == lowbit::encoding::unsigned_int)
            check_gemm(opt, wf, af, {1, 4096, 4096});
          check_gemm(opt, wf, af, {1, 256, 4096 + 77, 0, 0, 0, false, 1});  // worst-case values
          check_gemm(forced, wf, af, {3, 70, 333, 5, 3, 2});          // M > MR, strided A, W, C
          check_gemm(forced, wf, af, {1, 129, 1000, 1, 2, 0, true});  // bit-packed inputs
        }
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
        // At M = 1 bytes decide and the narrowest gemv kernel wins (3-bit weights have none of
        // their own: the 4-bit kernel serves them). At M = 8 the kernels are compute-bound, so a
        // wider one with a better rate may serve narrower weights, and on a core whose popcount
        // runs faster than the table's against its int8 dot products (AMD Zen 4 and 5,
        // core_profile.hpp) a bitplane tile kernel may win; either way the panels are bit-dense.
        const int narrowest = wb == 3 ? 4 : wb;
        if (m == 1) {
          REQUIRE(is_gemv(d));
          REQUIRE(d->mr == 1);
          REQUIRE(d->w_bits == narrowest);
        } else if (lowbit::detail::host_core_profile().kind ==
                   lowbit::detail::core_kind::reference) {
          REQUIRE(is_gemv(d));
          REQUIRE(d->mr == m);
          REQUIRE(d->w_bits >= wb);
        } else {
          REQUIRE((is_gemv(d) || d->algo == lowbit::algorithm::bitplane));
        }
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

TEST_CASE("m_hint = 1 selects the bitplane gemv kernel of the cell, unknown or large M does not",
          "[dispatch][gemv][bitplane][x86]") {
  const auto list = lowbit::kernels::gemv::x86_ukernels();
  for (const auto& d : list)
    if (is_gemv_bitplane(&d) && !lowbit::test::host_can_run(d)) {
      WARN("skipping: the host lacks AVX-512 VPOPCNTDQ");
      return;
    }
  lowbit::dispatch_options opt;
  for (int wb = 1; wb <= 2; ++wb)
    for (int ab = 1; ab <= 2; ++ab) {
      INFO("w" << wb << "a" << ab);
      opt.m_hint = 1;
      const auto* d = lowbit::select_ukernel(wb, ab, 4096, 4096, opt);
      INFO("m_hint 1 -> " << (d ? d->name : "none"));
      REQUIRE(d != nullptr);
      REQUIRE(gemv_bitplane_name(wb, ab) == d->name);
      // Unknown or large M: not these kernels. Selection is an arg-max, so when a kernel added
      // to the registry does not win, the choice is exactly the one made before it existed.
      for (std::size_t m : {0, 64, 3136}) {
        opt.m_hint = m;
        d = lowbit::select_ukernel(wb, ab, 4096, 4096, opt);
        INFO("m_hint " << m << " -> " << (d ? d->name : "none"));
        REQUIRE(d != nullptr);
        REQUIRE(!is_gemv_bitplane(d));
      }
    }
  // Wider activations never reach them (they serve a <= 2 only).
  opt.m_hint = 1;
  for (int wb = 1; wb <= 2; ++wb)
    for (int ab : {3, 4, 8})
      REQUIRE(!is_gemv_bitplane(lowbit::select_ukernel(wb, ab, 4096, 4096, opt)));
}

#endif  // __x86_64__
