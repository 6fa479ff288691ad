// lowbit: choosing a microkernel, and the knobs that force a choice.
//
// Choice happens once per packed weight matrix (pack_weights), from the registry of compiled
// kernels: a kernel qualifies when it serves the bit widths (its w_bits/a_bits are at least the
// formats') and the allowed features include all it needs. Allowed = host features, capped by an
// ISA level (per call: pack_options::isa; process-wide: lowbit::force_isa(); environment:
// LOWBIT_ISA=scalar|sse4|avx2|avxvnni|avx512|avx512vnni|avx512icl|amx|neon|...), and an
// algorithm can be forced the same three ways (LOWBIT_ALGO=lut_actsum|lut_product|bitplane|
// dot_i8|scalar). Among qualifying kernels the highest expected throughput wins: the kernel's
// measured MACs per cycle, discounted by the work its tile and K step waste on this shape; when
// pack_options::m_hint is set, also capped by the rate at which its weight bytes can be read
// (small M is memory-bound: bit-dense kernels declare bytes_per_weight and win there). Rates are
// the host core's where it has a profile (core_profile.hpp, LOWBIT_CORE).
// A default packing also holds small-M layouts (packing/pack_weights.hpp choose_layouts,
// docs/gemv.md), and each gemm call runs the layout for its M (packed_weights::for_rows).
// LOWBIT_VERBOSE=1 logs every packing's kernels to stderr, per M as packed_weights::kernel_name(M)
// reports them. A requested ISA level the CPU cannot run warns once and dispatch uses the host's
// best (settings.hpp).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "lowbit/dispatch/core_profile.hpp"
#include "lowbit/dispatch/cpu_features.hpp"
#include "lowbit/dispatch/registry.hpp"
#include "lowbit/dispatch/settings.hpp"
#include "lowbit/isa.hpp"
#include "lowbit/kernels/ukernel.hpp"
#include "lowbit/packed_weights.hpp"

namespace lowbit {

namespace detail {

// The largest M the small-M kernels (kernels/gemv: MR 1 and 8) are chosen for.
constexpr std::size_t small_m_max = 8;

// Cycles per activation code of an im2col row copied for kernels that cannot read A in place
// (dispatch_options::a_in_place), fitted to ResNet-18's strided 1x1 convolutions (docs/conv.md).
constexpr double im2col_cycles_per_code = 0.3;

// The rows a call with m rows computes: whole MR tiles, except that in a kernel declaring
// live_rows_min a tile computes only its live rows, rounded up to a power of two at least that
// (the NEON 8-row GEMV kernels: M = 2 computes 2 rows of 8 on the baseline one, 4 on the dotprod
// one).
inline std::size_t rows_computed(const kernels::ukernel_desc& d, std::size_t m) noexcept {
  const std::size_t full = m / d.mr * d.mr, rest = m - full;
  if (rest == 0 || d.live_rows_min == 0) return kernels::round_up(m, d.mr);
  std::size_t r = d.live_rows_min;
  while (r < rest) r *= 2;
  return full + (r < d.mr ? r : d.mr);
}

inline double expected_throughput(const kernels::ukernel_desc& d, std::size_t m, std::size_t n,
                                  std::size_t k, bool a_in_place = false,
                                  bool a_plane_image = false, std::size_t a_window_row = 0,
                                  const core_profile& core = host_core_profile()) noexcept {
  // Work wasted on padding: a tile or K step larger than the problem computes zeros.
  double eff = static_cast<double>(n) / static_cast<double>(kernels::round_up(n, d.nr)) *
               static_cast<double>(k) / static_cast<double>(kernels::round_up(k, d.k_step));
  if (m != 0) eff *= static_cast<double>(m) / static_cast<double>(rows_computed(d, m));
  // Per-call A packing, paid once per activation element and amortised over the N columns:
  // rate = 1 / (1 / kernel rate + pack cycles per element / N).
  // The declared rates are one core's (docs/performance.md); some cores depart from it
  // (core_profile.hpp).
  const double mpc = static_cast<double>(core.rate(d));
  double pack = static_cast<double>(core.pack_cycles(d));
  if (a_in_place || a_plane_image || a_window_row != 0) {
    const bool reads_in_place =
        (a_in_place && kernels::keeps_runs(d, kernels::a_run_kind::codes)) ||
        (a_plane_image && kernels::keeps_runs(d, kernels::a_run_kind::planes));
    // Window rows packed where they lie, from runs of codes at a measured cost.
    const bool packs_runs =
        a_window_row != 0 && d.a_runs.cycles > 0.0f && k % a_window_row == 0 &&
        kernels::takes_runs(d, kernels::a_run_kind::codes, k / a_window_row, a_window_row);
    pack = reads_in_place ? 0.0
           : packs_runs   ? static_cast<double>(d.a_runs.cycles)
                          : pack + im2col_cycles_per_code;
  }
  const double kernel_rate = mpc * eff;
  const double compute =
      kernel_rate > 0 ? 1.0 / (1.0 / kernel_rate + pack / static_cast<double>(n ? n : 1)) : 0.0;
  if (m == 0) return compute;
  // Small M (GEMV, batch decoding): a call reads every weight once and does only m MACs with it,
  // so time = max(MACs / compute rate, weight bytes / bandwidth). In MACs per cycle that caps
  // the rate at m * bandwidth / bytes_per_weight (undeclared: one byte, bitplane: w_bits / 8). The
  // cap only binds for m below about 13 on one-byte panels; ties (equally memory-bound kernels) go
  // to the faster compute rate through a tiny second term. Bitplane panels are bit-dense by
  // construction (w_bits planes of one bit per weight).
  const double bpw = d.bytes_per_weight > 0.0f       ? static_cast<double>(d.bytes_per_weight)
                     : d.algo == algorithm::bitplane ? d.w_bits / 8.0
                                                     : 1.0;
  const double memory = static_cast<double>(m) * core.weight_bytes_per_cycle / bpw;
  return (compute < memory ? compute : memory) + 1e-6 * compute;
}

// Whether a layout packed for kernel a holds the very bytes kernel b reads: one weight packer
// (with the same offset choice), NR, K step and K block bound. The NEON 1-row and 8-row GEMV
// kernels of one width are such a pair (gemv_pack_w); pack_weights stores such bytes once.
inline bool same_panels(const kernels::ukernel_desc& a, const kernels::ukernel_desc& b) noexcept {
  return a.pack_w == b.pack_w && a.pack_w_offset == b.pack_w_offset &&
         a.w_panel_bytes == b.w_panel_bytes && a.nr == b.nr && a.k_step == b.k_step &&
         a.kc_max == b.kc_max && a.w_offset == b.w_offset && a.w_bits == b.w_bits;
}

template <class F>
inline void for_each_ukernel(F&& f) noexcept {
  std::size_t count = 0;
  const kernels::ukernel_list* fam = ukernel_families(count);
  for (std::size_t i = 0; i < count; ++i)
    for (const kernels::ukernel_desc& d : fam[i]) f(d);
}

}  // namespace detail

namespace detail {
// A requested SIMD level in a build that compiled only the portable kernels (LOWBIT_PORTABLE,
// or an architecture with no SIMD family): warns once, as for a level the CPU lacks.
inline void warn_if_build_lacks_simd(const dispatch_options& o) noexcept {
#if !defined(LOWBIT_NO_GETENV)
  const isa cap = o.cap != isa::native ? o.cap : forced_isa();
  if (cap == isa::native || cap == isa::scalar) return;
  static const bool simd = [] {
    bool any = false;
    for_each_ukernel([&](const kernels::ukernel_desc& d) { any = any || d.features != 0; });
    return any;
  }();
  static std::atomic<bool> warned{false};
  if (!simd && !warned.exchange(true))
    std::fprintf(stderr,
                 "lowbit: ISA level %s requested but this build has only the portable scalar "
                 "kernels (LOWBIT_PORTABLE or no SIMD family for this architecture)\n",
                 isa_name(cap));
#else
  (void)o;
#endif
}
}  // namespace detail

// The kernel dispatch would use for weights of w_bits and activations of a_bits with N x K
// weights, or nullptr when none qualifies under the options.
inline const kernels::ukernel_desc* select_ukernel(int w_bits, int a_bits, std::size_t n,
                                                   std::size_t k,
                                                   const dispatch_options& o = {}) noexcept {
  const feature_set allowed = allowed_features(o);
  detail::warn_if_build_lacks_simd(o);
  const algorithm algo = o.algo != algorithm::automatic ? o.algo : forced_algorithm();
  const kernels::ukernel_desc* best = nullptr;
  double best_score = -1.0;
  detail::for_each_ukernel([&](const kernels::ukernel_desc& d) {
    if ((d.features & ~allowed) != 0) return;
    if (d.w_bits < w_bits || d.a_bits < a_bits) return;
    if (o.kernel_name != nullptr && std::strcmp(o.kernel_name, d.name) != 0) return;
    if (algo != algorithm::automatic && d.algo != algo) return;
    // Small-M kernels (those declaring bit-dense weight bytes, kernels/gemv) are chosen here only
    // for m_hint 1..small_m_max: with more rows they re-read or re-expand their weights per row
    // tile, which their cache-resident rate does not show (on Zen 4 it ties the tile kernels').
    // A default packing (no hint) adds them as extra layouts for the M they serve
    // (packing/pack_weights.hpp choose_layouts). Forced by name they run anyway.
    if (d.bytes_per_weight > 0.0f && o.kernel_name == nullptr &&
        (o.m_hint == 0 || o.m_hint > detail::small_m_max))
      return;
    // Grouped weights need one K block per group: the kernel's K step must divide the group.
    if (o.k_group != 0 && (o.k_group % d.k_step != 0 || o.k_group > d.kc_max)) return;
    const double score = detail::expected_throughput(d, o.m_hint, n, k, o.a_in_place,
                                                     o.a_plane_image, o.a_window_row);
    if (score > best_score) {
      best = &d;
      best_score = score;
    }
  });
  return best;
}

namespace detail {
// LOWBIT_VERBOSE=1: logs the kernels pack_weights packed w for (after the signed-weight switch)
// and which one a gemm call runs at each M, as packed_weights::kernel_name(M) reports it: the
// small-M layouts for the M they serve, and the main kernel's short-tile sibling where it pads M
// less.
inline void log_kernel_choice(const packed_weights& w, int w_bits, const char* w_encoding,
                              int a_bits) noexcept {
#if !defined(LOWBIT_NO_GETENV)  // verbose is only ever set from the environment
  if (!settings().verbose || w.kernel() == nullptr) return;
  const kernels::ukernel_desc& d = *w.kernel();
  std::fprintf(stderr, "lowbit: w%da%d (%s weights) N=%zu K=%zu -> %s (core profile %s, %zu bytes)",
               w_bits, a_bits, w_encoding, w.rows(), w.cols(), d.name, host_core_profile().name,
               w.size_bytes());
  // Runs of M in 1..small_m_max that run one kernel, then M above.
  for (std::size_t m = 1; m <= small_m_max;) {
    const char* name = w.kernel_name(m);
    std::size_t e = m;
    while (e < small_m_max && std::strcmp(w.kernel_name(e + 1), name) == 0) ++e;
    if (e == m)
      std::fprintf(stderr, "; M=%zu runs %s", m, name);
    else
      std::fprintf(stderr, "; M=%zu..%zu runs %s", m, e, name);
    m = e + 1;
  }
  if (w.stored_kernel() != &d)
    std::fprintf(stderr, "; panels stored bit-dense for %s, unpacked per call for %s",
                 w.stored_kernel()->name, d.name);
  if (d.short_tile != nullptr)
    std::fprintf(stderr, "; larger M that pads fewer rows in %u-row tiles than in %u runs %s",
                 static_cast<unsigned>(d.short_tile->mr), static_cast<unsigned>(d.mr),
                 d.short_tile->name);
  std::fprintf(stderr, "\n");
#else
  (void)w, (void)w_bits, (void)w_encoding, (void)a_bits;
#endif
}
}  // namespace detail

}  // namespace lowbit
