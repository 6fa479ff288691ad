// Microbenchmark of the x86 small-M kernels (bit-dense weights) and, for reference, the int8 dot
// kernel they replace at M = 1..8, and the bitplane 6x32 kernels the gemv_bitplane ones replace
// at M = 1: M = MR rows of A, N columns of W (every NR tile run per iteration), packing outside
// the timed loop. Regimes: N = 256, K = 2048 (weights stay in L1/L2: the kernel's compute rate),
// N = K = 4096 (the GEMV shape: weights stream from L2/L3; 1-bit weights are 2 MiB, as large as
// L2) and N = 2048, K = 4096 (half of it: 1-bit weights certainly L2-resident).
// Counters: GB/s of packed weight bytes read, MAC/cycle (MR rows counted, padding rows of the
// 8-row dot kernel included, i.e. the tile's rate) and the measured core clock.
#if defined(__x86_64__)

#include <benchmark/benchmark.h>

#include <cstdint>
#include <random>
#include <vector>

#include "common/clock.hpp"
#include "lowbit/detail/aligned_buffer.hpp"
#include "lowbit/dispatch/cpu_features.hpp"
#include "lowbit/kernels/bitplane/bitplane_x86.hpp"
#include "lowbit/kernels/dot/dot_x86.hpp"
#include "lowbit/kernels/gemv/gemv_x86.hpp"

namespace {

using lowbit::kernels::ukernel_desc;

void run_kernel(benchmark::State& state, const ukernel_desc& d) {
  const std::size_t n = static_cast<std::size_t>(state.range(0));
  const std::size_t k = static_cast<std::size_t>(state.range(1));
  const std::size_t mr = d.mr, nr = d.nr, tiles = (n + nr - 1) / nr;
  std::mt19937 rng(42);
  std::vector<std::uint8_t> a(mr * k), w(tiles * nr * k);
  for (auto& x : a) x = static_cast<std::uint8_t>(rng() & ((1u << d.a_bits) - 1));
  // Weights of 2 bits for the 8-bit dot kernel too: it stores one byte per code regardless.
  const unsigned wmask = (1u << (d.w_bits < 4 ? d.w_bits : 4)) - 1;
  for (auto& x : w) x = static_cast<std::uint8_t>(rng() & wmask);
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
  state.counters["GB/s"] = benchmark::Counter(1e-9 * static_cast<double>(wb * tiles),
                                              benchmark::Counter::kIsIterationInvariantRate);
  state.counters["MAC/cycle"] = benchmark::Counter(ghz > 0 ? 1e-9 * macs / ghz : 0.0,
                                                   benchmark::Counter::kIsIterationInvariantRate);
  state.counters["GHz"] = ghz;  // thread-CPU-time based: low if the core is time-shared
}

void add(const ukernel_desc& d) {
  if ((d.features & ~lowbit::detail::host_features()) != 0) return;
  auto* b = benchmark::RegisterBenchmark(d.name, [&d](benchmark::State& s) { run_kernel(s, d); });
  b->Args({256, 2048})->Args({4096, 4096})->Args({2048, 4096})->Unit(benchmark::kMicrosecond);
}

const int registered = [] {
  for (const auto& d : lowbit::kernels::gemv::x86_ukernels()) add(d);
  for (const auto& d : lowbit::kernels::dot::x86_ukernels())
    if (d.w_bits == 8 && d.a_bits == 8 && d.mr == 8 && d.nr == 32 && d.k_step == 4 &&
        (d.features & lowbit::bit(lowbit::cpu_feature::avx512vnni)) != 0)
      add(d);  // the int8 VNNI kernel: one byte per code, MR = 8
  for (const auto& d : lowbit::kernels::bitplane::x86_ukernels())
    if (d.w_bits <= 2 && d.a_bits <= 2 && d.mr == 6 && d.nr == 32)
      add(d);  // the register-blocked bitplane kernels (MR = 6, all 6 rows counted)
  return 0;
}();

}  // namespace

BENCHMARK_MAIN();

#endif  // __x86_64__
