// lowbit's GEMM benchmarks on their own (see gemm_benchmarks.hpp; bench_peers has them too).
#include <benchmark/benchmark.h>

#include "gemm_benchmarks.hpp"

namespace {
const int registered = register_lowbit_gemm_benchmarks();
}  // namespace

BENCHMARK_MAIN();
