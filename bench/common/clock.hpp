// Benchmark helper: the core clock, measured (not rdtsc: on this Xeon the TSC ticks at 2.3 GHz
// while cores run at 3.2-3.5 GHz). A chain of dependent register-register adds runs at one add per
// cycle (not add-immediate: recent Intel cores fold those at rename), so adds per second is the
// clock. Used to turn GOPS into MACs per cycle.
#pragma once

#include <chrono>
#include <cstdint>
#include <ctime>

namespace lowbit {
namespace bench {

inline double measure_ghz_once() {
  constexpr std::uint64_t iters = 20'000'000;  // 8 dependent adds per iteration
  std::uint64_t x = 0, n = iters, one = 1;
  // Thread CPU time, not wall time: on a shared core the thread may be descheduled, and only
  // the time it actually ran counts cycles.
  timespec c0{}, c1{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c0);
#if defined(__x86_64__)
  asm volatile(
      "1:\n\t"
      "add %2, %0\n\tadd %2, %0\n\tadd %2, %0\n\tadd %2, %0\n\t"
      "add %2, %0\n\tadd %2, %0\n\tadd %2, %0\n\tadd %2, %0\n\t"
      "dec %1\n\tjnz 1b\n\t"
      : "+r"(x), "+r"(n)
      : "r"(one)
      : "cc");
#elif defined(__aarch64__)
  asm volatile(
      "1:\n\t"
      "add %0, %0, %2\n\tadd %0, %0, %2\n\tadd %0, %0, %2\n\tadd %0, %0, %2\n\t"
      "add %0, %0, %2\n\tadd %0, %0, %2\n\tadd %0, %0, %2\n\tadd %0, %0, %2\n\t"
      "subs %1, %1, #1\n\tbne 1b\n\t"
      : "+r"(x), "+r"(n)
      : "r"(one)
      : "cc");
#else
  return 0.0;  // unknown: callers print MAC/cycle as 0
#endif
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c1);
  const double s = static_cast<double>(c1.tv_sec - c0.tv_sec) +
                   1e-9 * static_cast<double>(c1.tv_nsec - c0.tv_nsec);
  return x == 8 * iters ? 8.0 * iters / s * 1e-9 : 0.0;
}

// Best of a few runs (the machine is shared: interruptions only make a run look slower).
inline double core_ghz() {
  static const double ghz = [] {
    double best = 0;
    for (int i = 0; i < 5; ++i) {
      const double g = measure_ghz_once();
      if (g > best) best = g;
    }
    return best;
  }();
  return ghz;
}

}  // namespace bench
}  // namespace lowbit
