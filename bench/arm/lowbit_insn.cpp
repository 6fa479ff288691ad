// Instruction-count harness for lowbit's NEON microkernels (bench/arm/insn-count runs it).
//
// Usage:
//   lowbit_insn list
//       one line per NEON kernel compiled in and supported by this CPU:
//       name mr nr k_step kc_max
//   lowbit_insn run <kernel> <K> <iterations>
//       packs one MR x K A panel and one NR x K W panel of random u-codes, then calls the
//       kernel's run() <iterations> times on them (cache-resident panels, accumulate = false).
//
// The program does the same work whatever <iterations> is, apart from the run() loop, so the
// difference between two instruction counts (N and 0 iterations) divided by N * MR * NR * K is
// the kernel's instructions per multiply-accumulate, call overhead included. Pass <iterations>
// with a fixed number of digits (e.g. 000000 and 000100) so that argv has the same size.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <vector>

#include "lowbit/dispatch/cpu_features.hpp"
#include "lowbit/kernels/neon/neon_kernels.hpp"

namespace {

using lowbit::kernels::ukernel_desc;

struct aligned_buffer {
  explicit aligned_buffer(std::size_t bytes) : raw(bytes + 64) {}
  void* get() {
    auto p = reinterpret_cast<std::uintptr_t>(raw.data());
    return raw.data() + ((64 - p % 64) % 64);
  }
  std::vector<std::uint8_t> raw;
};

bool supported(const ukernel_desc& d, lowbit::feature_set host) {
  return (d.features & host) == d.features;
}

int list_kernels() {
  const lowbit::feature_set host = lowbit::detail::host_features();
  for (const ukernel_desc& d : lowbit::kernels::neon::ukernels())
    if (supported(d, host))
      std::printf("%s %u %u %u %lu\n", d.name, static_cast<unsigned>(d.mr),
                  static_cast<unsigned>(d.nr), static_cast<unsigned>(d.k_step),
                  static_cast<unsigned long>(d.kc_max));
  return 0;
}

// Keeps the result observable so the calls cannot be removed. Nothing is printed in run mode:
// printing numbers that differ between the two runs would change the count.
volatile std::int32_t sink;

std::int32_t checksum(const std::vector<std::int32_t>& c) {
  std::int32_t s = 0;
  for (std::int32_t v : c)
    s = static_cast<std::int32_t>(static_cast<std::uint32_t>(s) ^ static_cast<std::uint32_t>(v));
  return s;
}

int run_kernel(const char* name, std::size_t k, unsigned long iterations) {
  const ukernel_desc* kernel = nullptr;
  for (const ukernel_desc& d : lowbit::kernels::neon::ukernels())
    if (std::strcmp(d.name, name) == 0) kernel = &d;
  if (kernel == nullptr) {
    std::fprintf(stderr, "lowbit_insn: no NEON kernel named %s\n", name);
    return 2;
  }
  if (!supported(*kernel, lowbit::detail::host_features())) {
    std::fprintf(stderr, "lowbit_insn: %s needs CPU features this CPU lacks\n", name);
    return 2;
  }
  if (k == 0 || k % kernel->k_step != 0 || k > kernel->kc_max) {
    std::fprintf(stderr, "lowbit_insn: K=%zu must be a multiple of %u and <= kc_max %lu\n", k,
                 static_cast<unsigned>(kernel->k_step), static_cast<unsigned long>(kernel->kc_max));
    return 2;
  }
  const std::size_t mr = kernel->mr, nr = kernel->nr;
  std::mt19937 rng(12345);
  std::vector<std::uint8_t> a(mr * k), w(nr * k);
  for (auto& v : a) v = static_cast<std::uint8_t>(rng() & ((1u << kernel->a_bits) - 1));
  for (auto& v : w) v = static_cast<std::uint8_t>(rng() & ((1u << kernel->w_bits) - 1));
  aligned_buffer a_panel(kernel->a_panel_bytes(k)), w_panel(kernel->w_panel_bytes(k));
  kernel->pack_a(a.data(), k, mr, k, a_panel.get());
  kernel->pack_w(w.data(), k, nr, k, w_panel.get());
  std::vector<std::int32_t> c(mr * nr, 0);
  for (unsigned long it = 0; it < iterations; ++it)
    kernel->run(k, a_panel.get(), w_panel.get(), c.data(), nr, false);
  sink = checksum(c);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 2 && std::strcmp(argv[1], "list") == 0) return list_kernels();
  if (argc == 5 && std::strcmp(argv[1], "run") == 0)
    return run_kernel(argv[2], std::strtoul(argv[3], nullptr, 10),
                      std::strtoul(argv[4], nullptr, 10));
  std::fprintf(stderr, "usage: %s list | run <kernel> <K> <iterations>\n", argv[0]);
  return 2;
}
