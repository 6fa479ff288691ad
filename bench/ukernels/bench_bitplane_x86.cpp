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

#include "common/clock.hpp"
#include "lowbit/detail/aligned_buffer.hpp"
#include "lowbit/dispatch/cpu_features.hpp"
#include "lowbit/kernels/bitplane/bitplane_x86.hpp"

namespace {

using lowbit::kernels::ukernel_desc;

void run_kernel(benchmark::State& state, const ukernel_desc& d, double ceiling) {
  const std::size_t n = static_cast<std::size_t>(state.range(0));
  const std::size_t k = static_cast<std::size_t>(state.range(1));
  const std::size_t mr = d.mr, nr = d.nr, tiles = (n + nr - 1) / nr;
  std::mt19937 rng(42);
  std::vector<std::uint8_t> a(mr * k), w(tiles * nr * k);
  for (auto& x : a) x = static_cast<std::uint8_t>(rng() & ((1u << d.a_bits) - 1));
  for (auto& x : w) x = static_cast<std::uint8_t>(rng() & ((1u << d.w_bits) - 1));
  const std::size_t ab = lowbit::kernels::round_up(d.a_panel_bytes(k), 64);
  const std::size_t wb = lowbit::kernels::round_up(d.w_panel_bytes(k), 64);
  lowbit::detail::aligned_buffer ap(ab), wp(wb * tiles);
  d.pack_a(a.data(), k, mr, k, ap.data());
  for (std::size_t t = 0; t < tiles; ++t)
    d.pack_w(w.data() + t * nr * k, k, nr, k, wp.bytes() + t * wb);
  std::vector<std::int32_t> c(mr * tiles * nr);
  const std::size_t ldc = tiles * nr;
  for (auto _ : state) {
    for (std::size_t t = 0; t < tiles; ++t)
      d.run(k, ap.data(), wp.bytes() + t * wb, c.data() + t * nr, ldc, false);
    benchmark::ClobberMemory();
  }
  benchmark::DoNotOptimize(c.data());
  const double macs = static_cast<double>(mr) * static_cast<double>(tiles * nr) * k;
  const double ghz = lowbit::bench::core_ghz();
  state.counters["GOPS"] =
      benchmark::Counter(2e-9 * macs, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["MAC/cycle"] = benchmark::Counter(ghz > 0 ? 1e-9 * macs / ghz : 0.0,
                                                   benchmark::Counter::kIsIterationInvariantRate);
  state.counters["ceiling"] = ceiling;
  state.counters["GHz"] = ghz;  // wall-clock based: low if the core is time-shared
}

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
