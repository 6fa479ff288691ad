// Microbenchmark of the x86 bitplane kernels on cache-resident panels: M = MR rows of A, N columns
// of W (every NR tile run per iteration), K = 512 or 2048; packing is outside the timed loop.
// Counters: GOPS (2 M N K per second), MAC/cycle from the measured core clock, and the ceiling
// of the method (docs: targets.md) for the kernel's ISA and plane pairs.
#if defined(__x86_64__)

#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "common/ukernel_bench.hpp"
#include "lowbit/detail/aligned_buffer.hpp"
#include "lowbit/dispatch/cpu_features.hpp"
#include "lowbit/kernels/bitplane/bitplane_x86.hpp"

namespace {

using lowbit::kernels::ukernel_desc;

using lowbit::bench::run_kernel;

// Ceilings per plane pair (targets.md): vpopcntq once per cycle with and/add on the other port
// slots, 512 MACs per 1.5 cycles; AVX2 nibble lookup about 8 ops per 256 MACs on 3 ports.
double ceiling_of(const ukernel_desc& d) {
  const double pairs = static_cast<double>(d.w_bits) * d.a_bits;
  return (d.features & lowbit::bit(lowbit::cpu_feature::avx512vpopcntdq) ? 341.3 : 96.0) / pairs;
}

const int registered = [] {
  for (const auto& d : lowbit::kernels::bitplane::x86_ukernels()) {
    if ((d.features & ~lowbit::detail::host_features()) != 0) continue;
    const double ceil = ceiling_of(d);
    auto* b = benchmark::RegisterBenchmark(
        d.name, [&d, ceil](benchmark::State& s) { run_kernel(s, d, ceil); });
    for (long n : {64, 256, 1024}) b->Args({n, 2048});
    b->Args({256, 512});
  }
  return 0;
}();

}  // namespace

BENCHMARK_MAIN();

#endif  // __x86_64__
