// lowbit::quantize and lowbit::dequantize on one activation tensor, one thread: the vector rows
// chosen at run time against the scalar loop, each ISA level this host runs forced in turn, all
// in one binary so ratios come from one run.
// Names: quantize/<format>/<n>/<level> and dequantize/<format>/<n>/<level>, where level is
// scalar (force_isa(isa::scalar): the portable path, xsimd rows in a build with xsimd, else the
// scalar loop), sse4, avx2, avx512 or neon (that level forced) or native (no cap: what a caller
// gets). Format: u, s, o or t (unsigned, signed, odd-symmetric, ternary) and the bit width.
// n = 56 * 56 * 64 is a ResNet-18 stage-1 activation; 4096 a small row set (per call overhead).
//   taskset -c 1 ./bench_quantize --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "lowbit/dispatch/cpu_features.hpp"
#include "lowbit/quantize.hpp"

namespace {

using lowbit::encoding;
using lowbit::format;
using lowbit::isa;

std::string format_name(format f) {
  const char* e = f.enc == encoding::unsigned_int    ? "u"
                  : f.enc == encoding::signed_int    ? "s"
                  : f.enc == encoding::odd_symmetric ? "o"
                                                     : "t";
  return e + std::to_string(f.bits);
}

// Activations after a ReLU-free layer: roughly normal, some outliers; parameters as a min-max
// calibration would give (unsigned: zero point inside the range).
std::vector<float> make_data(std::size_t n) {
  std::mt19937 rng(1);
  std::normal_distribution<float> d(0.3f, 1.0f);
  std::vector<float> x(n);
  for (auto& v : x) v = d(rng);
  return x;
}

lowbit::quant_params params_for(format f) {
  const float range = 8.0f;  // about [-4, 4]
  lowbit::quant_params p;
  p.scale = range / static_cast<float>(lowbit::max_value(f) - lowbit::min_value(f));
  p.zero_point = f.enc == encoding::unsigned_int ? (lowbit::max_value(f) + 1) / 2 : 0;
  return p;
}

struct level_guard {
  explicit level_guard(isa l) { lowbit::force_isa(l); }
  ~level_guard() { lowbit::force_isa(isa::native); }
};

void bm_quantize(benchmark::State& state, format f, std::size_t n, isa level) {
  const std::vector<float> x = make_data(n);
  std::vector<std::uint8_t> c(n);
  const lowbit::quant_params p = params_for(f);
  level_guard g(level);
  for (auto _ : state) {
    if (!lowbit::quantize(x.data(), n, f, p, c.data()).ok()) state.SkipWithError("quantize");
    benchmark::DoNotOptimize(c.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * n));
}

void bm_dequantize(benchmark::State& state, format f, std::size_t n, isa level) {
  const lowbit::quant_params p = params_for(f);
  std::vector<std::uint8_t> c(n);
  {
    level_guard g(isa::scalar);
    const std::vector<float> x = make_data(n);
    lowbit::check(lowbit::quantize(x.data(), n, f, p, c.data()));
  }
  std::vector<float> out(n);
  level_guard g(level);
  for (auto _ : state) {
    if (!lowbit::dequantize(lowbit::codes(c.data(), 1, n), f, p, out.data()).ok())
      state.SkipWithError("dequantize");
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * n));
}

bool host_runs(isa l) {
  return (lowbit::detail::host_features() & lowbit::isa_features(l)) == lowbit::isa_features(l);
}

int register_all() {
  const format formats[] = {{2, encoding::unsigned_int},  {4, encoding::unsigned_int},
                            {8, encoding::unsigned_int},  {4, encoding::signed_int},
                            {1, encoding::odd_symmetric}, {2, encoding::ternary}};
  const isa levels[] = {isa::scalar, isa::sse4, isa::avx2, isa::avx512, isa::neon, isa::native};
  for (std::size_t n : {std::size_t{56 * 56 * 64}, std::size_t{4096}})
    for (format f : formats)
      for (isa l : levels) {
        if (l != isa::scalar && l != isa::native && !host_runs(l)) continue;
        const std::string tail = format_name(f) + "/" + std::to_string(n) + "/" + isa_name(l);
        benchmark::RegisterBenchmark(("quantize/" + tail).c_str(), bm_quantize, f, n, l)
            ->Unit(benchmark::kMicrosecond);
        benchmark::RegisterBenchmark(("dequantize/" + tail).c_str(), bm_dequantize, f, n, l)
            ->Unit(benchmark::kMicrosecond);
      }
  return 0;
}

const int registered = register_all();

}  // namespace

BENCHMARK_MAIN();
