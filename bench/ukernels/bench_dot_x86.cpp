// Microbenchmark of the x86 int8 dot-product kernels on cache-resident panels: M = MR rows of A, N
// columns of W (every NR tile run per iteration), K = 2048 (and 512); packing is outside the timed
// loop. Counters: GOPS (2 M N K per second), MAC/cycle from the measured core clock, and the
// ceiling of the method (docs: targets.md) for the kernel's ISA and plane pairs.
#if defined(__x86_64__)

#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "common/ukernel_bench.hpp"
#include "lowbit/detail/aligned_buffer.hpp"
#include "lowbit/dispatch/cpu_features.hpp"
#include "lowbit/kernels/dot/dot_x86.hpp"

namespace {

using lowbit::kernels::ukernel_desc;

using lowbit::bench::run_kernel;

// Ceilings from targets.md's port limits (AMX: Intel's optimization manual): vpdpbusd 2 per cycle
// (128 MAC/cycle zmm, 64 ymm); before VNNI, vpmaddubsw and vpmaddwd issue on two ports (zmm: the
// adds share them; ymm/xmm: the adds have a third port): 3 ops per vector of 4-byte groups on the
// 8-bit path, 2 on the low-bit path (vpmaddubsw + vpaddw), and vpmaddwd + vpaddd per 2-value groups
// for w8a8.
double ceiling_of(const ukernel_desc& d) {
  using lowbit::bit;
  using lowbit::cpu_feature;
  const bool z = (d.features & bit(cpu_feature::avx512f)) != 0;
  // TDPBUSD: 16 x 16 x 64 MACs a tile, one issued every 16 cycles (Sapphire Rapids).
  if (d.features & bit(cpu_feature::amx_int8)) return 1024;
  if (d.features & bit(cpu_feature::avx512vnni)) return 128;
  if (d.features & bit(cpu_feature::avxvnni)) return 64;
  const double lanes = z ? 16 : (d.features & bit(cpu_feature::avx2)) ? 8 : 4;  // int32 lanes
  const double ports = z ? 2 : 3;  // multiplies issue on two of them
  if (d.k_step == 2) return 2 * lanes / std::max(2.0 / ports, 0.5);
  const bool low = 32767 / lowbit::kernels::dot::dot_pair_max(d.w_bits, d.a_bits) >= 8;
  return 4 * lanes / (low ? std::max(2.0 / ports, 0.5) : std::max(3.0 / ports, 1.0));
}

const int registered = [] {
  for (const auto& d : lowbit::kernels::dot::x86_ukernels()) {
    if ((d.features & ~lowbit::detail::host_features()) != 0) continue;
    const double ceil = ceiling_of(d);
    auto* b = benchmark::RegisterBenchmark(
        d.name, [&d, ceil](benchmark::State& s) { run_kernel(s, d, ceil); });
    for (long n : {64, 256, 1024}) b->Args({n, 2048});
    b->Args({256, 512});
    b->Args({1024, 512});  // W panels of N = 1024, K = 2048 are 2 MB at 8 bits: beyond L2
  }
  return 0;
}();

}  // namespace

BENCHMARK_MAIN();

#endif  // __x86_64__
