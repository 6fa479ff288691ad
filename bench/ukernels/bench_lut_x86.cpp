// Microbenchmark of the x86 lookup-table kernels on cache-resident panels: M = MR rows, N columns
// (a few NR tiles), K = 512. A and W are packed once outside the timed loop; each iteration runs
// the kernel over every NR tile. Counters: GOPS (2*M*N*K per second), MAC/cycle (from the
// measured core clock, bench/common/clock.hpp) and the method's ceiling in MAC/cycle. Rates use
// CPU time (the default): on a shared core, time slices lost to other processes then do not count,
// and the clock is the best of several runs, so MAC/cycle stays meaningful while neighbours come
// and go (the GHz counter shows the clock used; a low value means the clock run was disturbed).
//
//   taskset -c 1 ./bench_lut_x86 --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
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
#include "lowbit/kernels/lut/lut_x86.hpp"

namespace {

using lowbit::kernels::ukernel_desc;

bool ends_with(const char* s, const char* suffix) {
  const std::size_t n = std::strlen(s), m = std::strlen(suffix);
  return n >= m && std::strcmp(s + n - m, suffix) == 0;
}

// The method's port-bound ceiling on this core (docs: /work/shared/docs/targets.md).
// Activation-sum: one lookup + one byte add per index vector; vector bytes per cycle are
// 16 * 3/2 (SSE, three ALU ports), 32 * 3/2 (AVX2), 64 (AVX-512: two ports, one lookup per
// cycle), times the MACs per index byte. Product tables: or + lookup + add per vector, one MAC
// per byte: 16, 32, 42.7 (zmm on two ports); vpermi2b (w + a = 7) runs at 0.5 per cycle: 32.
double ceiling(const ukernel_desc& d) {
  double bytes_per_cycle;
  if (ends_with(d.name, "__sse41"))
    bytes_per_cycle = 24;
  else if (ends_with(d.name, "__avx2"))
    bytes_per_cycle = 48;
  else
    bytes_per_cycle = 64;
  if (d.algo == lowbit::algorithm::lut_actsum) {
    const double macs_per_byte =
        static_cast<double>(d.nr) * d.k_step / static_cast<double>(d.w_panel_bytes(d.k_step));
    return bytes_per_cycle * macs_per_byte;
  }
  if (ends_with(d.name, "__sse41")) return 16;
  if (ends_with(d.name, "__avx2")) return 32;
  if (d.w_bits + d.a_bits == 7) return 32;  // 128-entry table: vpermi2b
  return 64.0 * 2.0 / 3.0;
}

void run_kernel(benchmark::State& state, const ukernel_desc* d, std::size_t n_cols) {
  const std::size_t m = d->mr, k = 512;
  const std::size_t tiles = (n_cols + d->nr - 1) / d->nr, n = tiles * d->nr;
  std::mt19937 rng(42);
  std::vector<std::uint8_t> a(m * k), w(n * k);
  for (auto& x : a) x = static_cast<std::uint8_t>(rng() & ((1u << d->a_bits) - 1));
  for (auto& x : w) x = static_cast<std::uint8_t>(rng() & ((1u << d->w_bits) - 1));
  const std::size_t wstride = (d->w_panel_bytes(k) + 63) / 64 * 64;
  lowbit::detail::aligned_buffer ap(d->a_panel_bytes(k) + 64), wp(tiles * wstride + 64);
  d->pack_a(a.data(), k, m, k, ap.data());
  for (std::size_t t = 0; t < tiles; ++t)
    d->pack_w(w.data() + t * d->nr * k, k, d->nr, k, wp.bytes() + t * wstride);
  std::vector<std::int32_t> c(m * n);
  for (auto _ : state) {
    for (std::size_t t = 0; t < tiles; ++t)
      d->run(k, ap.data(), wp.bytes() + t * wstride, c.data() + t * d->nr, n, false);
    benchmark::DoNotOptimize(c.data());
    benchmark::ClobberMemory();
  }
  const double macs = static_cast<double>(m) * n * k;
  const double ghz = lowbit::bench::core_ghz();
  state.counters["GOPS"] =
      benchmark::Counter(2 * macs * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["MAC/cycle"] = benchmark::Counter(ghz > 0 ? macs / (ghz * 1e9) : 0,
                                                   benchmark::Counter::kIsIterationInvariantRate);
  state.counters["ceiling"] = ceiling(*d);
  state.counters["GHz"] = ghz;
}

}  // namespace

int main(int argc, char** argv) {
  const lowbit::feature_set host = lowbit::detail::host_features();
  for (const auto& d : lowbit::kernels::lut::x86_ukernels()) {
    if ((d.features & ~host) != 0) continue;
    for (std::size_t n : {64, 256, 1024})
      benchmark::RegisterBenchmark((std::string(d.name) + "/N:" + std::to_string(n)).c_str(),
                                   run_kernel, &d, n);
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}

#else
int main() { return 0; }
#endif  // __x86_64__
