// Benchmark helper shared by the x86 microkernel benchmarks: runs one kernel over every NR tile of
// N columns on cache-resident panels (M = MR rows, packing outside the timed loop) and reports
// GOPS, MAC/cycle from the measured clock, the method's ceiling and the clock itself.
#pragma once

#include <benchmark/benchmark.h>

#include <cstdint>
#include <random>
#include <vector>

#include "common/clock.hpp"
#include "lowbit/detail/aligned_buffer.hpp"
#include "lowbit/kernels/ukernel.hpp"

namespace lowbit {
namespace bench {

using lowbit::kernels::ukernel_desc;

// state.range(0) = N, state.range(1) = K.
inline void run_kernel(benchmark::State& state, const ukernel_desc& d, double ceiling) {
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
  state.counters["GHz"] = ghz;  // thread-CPU-time based: low if the core is time-shared
}

}  // namespace bench
}  // namespace lowbit
