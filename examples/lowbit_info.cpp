// Prints what lowbit sees on this machine: CPU features, the best ISA level, every compiled
// kernel the host can run, and the kernel dispatch picks for each weight x activation cell on a
// typical shape (N = 256, K = 1152; and M = 1 for GEMV). Respects LOWBIT_ISA / LOWBIT_ALGO /
// LOWBIT_CORE.
#include <lowbit/gemm.hpp>

#include <cstdio>

int main() {
  using namespace lowbit;
  const feature_set host = detail::host_features();
  std::printf("host ISA level: %s\nfeatures:", isa_name(host_isa()));
  for (unsigned f = 0; f < static_cast<unsigned>(cpu_feature::count_); ++f)
    if (host & bit(static_cast<cpu_feature>(f)))
      std::printf(" %s", cpu_feature_name(static_cast<cpu_feature>(f)));
  const detail::core_profile& core = detail::host_core_profile();
  std::printf(
      "\nallowed under LOWBIT_ISA/force_isa: %s\ncore profile (LOWBIT_CORE): %s\n\n"
      "kernels the host can run, with the rates dispatch expects on this core:\n",
      isa_name(forced_isa()), core.name);
  detail::for_each_ukernel([&](const kernels::ukernel_desc& d) {
    if ((d.features & ~host) == 0)
      std::printf("  %-40s %-12s w<=%d a<=%d %2dx%-3d k_step %-4d %6.1f MAC/cycle  pack %.2f\n",
                  d.name, algorithm_name(d.algo), d.w_bits, d.a_bits, d.mr, d.nr, d.k_step,
                  static_cast<double>(core.rate(d)), static_cast<double>(core.pack_cycles(d)));
  });
  for (std::size_t m : {std::size_t{0}, std::size_t{1}}) {
    std::printf("\nchosen kernel per cell (rows: weight bits, columns: activation bits)%s:\n",
                m ? ", M = 1 (GEMV)" : "");
    for (int wb = 1; wb <= 8; ++wb)
      for (int ab = 1; ab <= 8; ++ab) {
        dispatch_options o;
        o.m_hint = m;
        const kernels::ukernel_desc* d = select_ukernel(wb, ab, m ? 4096 : 256, m ? 4096 : 1152, o);
        std::printf("  w%da%d %s\n", wb, ab, d ? d->name : "(none)");
      }
  }
  return 0;
}
