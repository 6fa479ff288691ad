// Prints what lowbit sees on this machine: CPU features, the best ISA level, the core profile
// and, as a weight bits x activation bits grid, the kernel a call runs for each cell at two
// representative shapes (the name packed_weights::kernel_name(M) reports and LOWBIT_VERBOSE logs:
// signed-weight siblings and short-tile siblings included). Respects LOWBIT_ISA / LOWBIT_ALGO /
// LOWBIT_CORE.
//   lowbit_info          the summary and the grids
//   lowbit_info --all    also every kernel the host can run, with the rates dispatch expects,
//                        and the grids' cells one per line
//   lowbit_info --json   the core profile and every runnable kernel's expected rate as JSON
//                        (bench/report.py's ceilings)
#include <lowbit/detail/portable_simd.hpp>
#include <lowbit/dispatch/select.hpp>
#include <lowbit/gemm.hpp>

#include <cstdio>
#include <cstring>
#include <vector>

namespace {

using namespace lowbit;

void usage(std::FILE* f) {
  std::fprintf(
      f,
      "usage: lowbit_info [--all] [--json] [-h|--help]\n"
      "  (no option)  host features, ISA level, core profile, and the kernel each weight x\n"
      "               activation bit width runs, as grids at M = 256 and M = 1\n"
      "  --all        also every kernel the host runs (expected MAC/cycle) and each cell\n"
      "               on its own line\n"
      "  --json       the core profile and every runnable kernel's expected rate, as JSON\n"
      "Environment: LOWBIT_ISA, LOWBIT_ALGO, LOWBIT_CORE, LOWBIT_VERBOSE (README.md).\n");
}

// A shape the grids show: M rows (the kernel that runs depends on it: short-tile siblings, and
// the small-M kernels for M <= 8), N x K weights.
struct shape {
  const char* title;
  std::size_t m, n, k;
};

// Weights signed (1-bit: odd-symmetric, {-1, +1}), activations unsigned: the usual quantized
// network (signed weights, activations after ReLU).
format weight_format(int bits) {
  return {bits, bits == 1 ? encoding::odd_symmetric : encoding::signed_int};
}
format activation_format(int bits) { return {bits, encoding::unsigned_int}; }

// The kernel a gemm call of this shape runs on default packing (packed_weights::kernel_name(M)).
const kernels::ukernel_desc* kernel_for(int wb, int ab, const shape& s) {
  return query_kernel_for_rows(weight_format(wb), activation_format(ab), s.n, s.k, s.m);
}

void print_grid(const shape& s, bool one_per_line) {
  std::vector<const kernels::ukernel_desc*> legend;
  int cell[9][9] = {};
  for (int wb = 1; wb <= 8; ++wb)
    for (int ab = 1; ab <= 8; ++ab) {
      const kernels::ukernel_desc* d = kernel_for(wb, ab, s);
      int idx = 0;
      if (d != nullptr) {
        std::size_t i = 0;
        while (i < legend.size() && legend[i] != d) ++i;
        if (i == legend.size()) legend.push_back(d);
        idx = static_cast<int>(i) + 1;
      }
      cell[wb][ab] = idx;
    }
  std::printf("\n%s: M = %zu, N = %zu, K = %zu\n", s.title, s.m, s.n, s.k);
  std::printf("kernel per cell (rows: weight bits, signed; columns: activation bits, unsigned)\n");
  std::printf("      ");
  for (int ab = 1; ab <= 8; ++ab) std::printf("  a%d", ab);
  std::printf("\n");
  for (int wb = 1; wb <= 8; ++wb) {
    std::printf("  w%d  ", wb);
    for (int ab = 1; ab <= 8; ++ab) {
      if (cell[wb][ab] == 0)
        std::printf("   -");
      else
        std::printf(" %3d", cell[wb][ab]);
    }
    std::printf("\n");
  }
  for (std::size_t i = 0; i < legend.size(); ++i)
    std::printf("  %3zu  %s\n", i + 1, legend[i]->name);
  if (one_per_line)
    for (int wb = 1; wb <= 8; ++wb)
      for (int ab = 1; ab <= 8; ++ab)
        std::printf("  w%da%d %s\n", wb, ab,
                    cell[wb][ab] ? legend[static_cast<std::size_t>(cell[wb][ab] - 1)]->name : "-");
}

void print_json(const detail::core_profile& core, feature_set host) {
  std::printf("{\n  \"core_profile\": \"%s\",\n  \"host_isa\": \"%s\",\n  \"kernels\": [",
              core.name, isa_name(host_isa()));
  bool first = true;
  detail::for_each_ukernel([&](const kernels::ukernel_desc& d) {
    if ((d.features & ~host) != 0) return;
    std::printf(
        "%s\n    {\"name\": \"%s\", \"algorithm\": \"%s\", \"w_bits\": %d, \"a_bits\": %d, "
        "\"expected_macs_per_cycle\": %.2f, \"declared_macs_per_cycle\": %.2f}",
        first ? "" : ",", d.name, algorithm_name(d.algo), d.w_bits, d.a_bits,
        static_cast<double>(core.rate(d)), static_cast<double>(d.macs_per_cycle));
    first = false;
  });
  std::printf("\n  ]\n}\n");
}

}  // namespace

int main(int argc, char** argv) {
  bool all = false, json = false;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--all") == 0) {
      all = true;
    } else if (std::strcmp(argv[i], "--json") == 0) {
      json = true;
    } else if (std::strcmp(argv[i], "-h") == 0 || std::strcmp(argv[i], "--help") == 0) {
      usage(stdout);
      return 0;
    } else {
      std::fprintf(stderr, "lowbit_info: unknown argument '%s'\n", argv[i]);
      usage(stderr);
      return 2;
    }
  }
  const feature_set host = detail::host_features();
  const detail::core_profile& core = detail::host_core_profile();
  if (json) {
    print_json(core, host);
    return 0;
  }
  std::printf("host ISA level: %s\nfeatures:", isa_name(host_isa()));
  for (unsigned f = 0; f < static_cast<unsigned>(cpu_feature::count_); ++f)
    if (host & bit(static_cast<cpu_feature>(f)))
      std::printf(" %s", cpu_feature_name(static_cast<cpu_feature>(f)));
  // A level the CPU cannot run is no cap: dispatch warns and uses everything the host has.
  const isa cap = forced_isa();
  const bool cap_runs = cap == isa::native || (isa_features(cap) & ~host) == 0;
  std::printf("\nISA cap (LOWBIT_ISA / force_isa): %s", isa_name(cap));
  if (!cap_runs) std::printf(" (this CPU cannot run it: %s is used)", isa_name(host_isa()));
  std::printf("\nalgorithm (LOWBIT_ALGO): %s\ncore profile (LOWBIT_CORE): %s\n",
              algorithm_name(forced_algorithm()), core.name);
  std::printf("portable path (the scalar level): %s (%s)\n", detail::portable_path(),
              detail::portable_arch());
  if (all) {
    std::printf("\nkernels the host can run, with the rates dispatch expects on this core:\n");
    detail::for_each_ukernel([&](const kernels::ukernel_desc& d) {
      if ((d.features & ~host) == 0)
        std::printf("  %-40s %-12s w<=%d a<=%d %2dx%-3d k_step %-4d %6.1f MAC/cycle  pack %.2f\n",
                    d.name, algorithm_name(d.algo), d.w_bits, d.a_bits, d.mr, d.nr, d.k_step,
                    static_cast<double>(core.rate(d)), static_cast<double>(core.pack_cycles(d)));
    });
  }
  print_grid({"a convolution-sized GEMM", 256, 256, 1152}, all);
  print_grid({"GEMV (one row of activations)", 1, 4096, 4096}, all);
  if (!all) std::printf("\n(lowbit_info --all: every runnable kernel and its expected rate)\n");
  return 0;
}
