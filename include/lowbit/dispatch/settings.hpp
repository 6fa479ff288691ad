// lowbit: the knobs that steer kernel choice (per call: dispatch_options; process-wide:
// force_isa(), force_algorithm() and the LOWBIT_ISA / LOWBIT_ALGO / LOWBIT_VERBOSE environment),
// and the host's ISA level. The choice itself is in select.hpp, with the kernels it chooses from.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "lowbit/dispatch/cpu_features.hpp"
#include "lowbit/isa.hpp"
#include "lowbit/kernels/ukernel.hpp"

namespace lowbit {

// Per-call dispatch controls (default: whatever the process-wide settings say).
struct dispatch_options {
  isa cap = isa::native;                  // cap the features kernels may use
  algorithm algo = algorithm::automatic;  // force an algorithm family
  const char* kernel_name = nullptr;      // force one kernel by name (tests, benchmarks)
  std::size_t m_hint = 0;                 // expected M, when known, for the shape heuristic
  std::size_t k_group = 0;  // weights quantized in groups of k_group along K (per-group scales,
                            // float_output::w_group_scales); 0: per channel only
  // Per-group weight scales stored with the packed weights (pack_weights with k_group; not
  // pack_conv_weights): N x ceil(K / k_group) values, row n holding channel n's scales, the
  // layout and meaning of float_output::w_group_scales, given either as floats (group_scales)
  // or as IEEE binary16 bits (group_scales_f16, as fp16 checkpoints hold them), not both.
  // group_scale_count must be N x ceil(K / k_group). Optional group_zeros (same layout, the
  // meaning of float_output::w_group_zeros) go with them. A gemm call then takes a float_output
  // without w_scales, w_group_scales or w_group_zeros and uses the stored ones: the same bits
  // as passing the same floats at call time (binary16 scales as their exact binary32 values,
  // NaNs quiet). Storage: binary16 when every scale converts to binary16 and back exactly
  // (always for group_scales_f16), else binary32; zero points as int8 when all fit, else
  // int16 (packed_weights::group_scale_bytes, group_zero_bytes).
  const float* group_scales = nullptr;
  const std::uint16_t* group_scales_f16 = nullptr;
  const std::int32_t* group_zeros = nullptr;
  std::size_t group_scale_count = 0;
  // A comes from im2col rows that kernels keeping runs of codes (ukernel_desc::a_runs) read in
  // place, with no packing, while the others copy and pack each row (conv2d sets it).
  bool a_in_place = false;
  // Likewise for kernels keeping runs of planes, read in place from a bit-plane image
  // of the input made once per call (conv2d sets it where it makes one).
  bool a_plane_image = false;
  // K is K / a_window_row window rows of a_window_row codes each, which kernels that copy runs
  // of codes pack where they lie, with no im2col copy (conv2d sets it); 0: not so.
  std::size_t a_window_row = 0;
  // pack_weights packs the main layout alone, without the small-M layouts a default packing
  // adds (docs/gemv.md); conv2d's packings set it (it runs the main layout only).
  bool one_layout = false;
};

namespace detail {

inline bool parse_isa(const char* s, isa& out) noexcept {
  for (int i = 0; i <= static_cast<int>(isa::native); ++i) {
    const isa l = static_cast<isa>(i);
    if (std::strcmp(s, isa_name(l)) == 0) {
      out = l;
      return true;
    }
  }
  return false;
}

inline bool parse_algorithm(const char* s, algorithm& out) noexcept {
  for (int i = 0; i <= static_cast<int>(algorithm::automatic); ++i) {
    const algorithm a = static_cast<algorithm>(i);
    if (std::strcmp(s, algorithm_name(a)) == 0) {
      out = a;
      return true;
    }
  }
  return false;
}

struct process_settings {
  std::atomic<int> cap{static_cast<int>(isa::native)};
  std::atomic<int> algo{static_cast<int>(algorithm::automatic)};
  bool verbose = false;

  process_settings() noexcept { read_environment(); }
  void read_environment() noexcept;
};

inline void process_settings::read_environment() noexcept {
  process_settings& p = *this;
#if !defined(LOWBIT_NO_GETENV)
  if (const char* e = std::getenv("LOWBIT_ISA")) {
    isa l;
    if (*e && parse_isa(e, l)) {
      p.cap.store(static_cast<int>(l));
    } else if (*e) {
      std::fprintf(stderr, "lowbit: LOWBIT_ISA=%s is not an ISA level; ignored (valid:", e);
      for (int i = 0; i <= static_cast<int>(isa::native); ++i)
        std::fprintf(stderr, " %s", isa_name(static_cast<isa>(i)));
      std::fprintf(stderr, ")\n");
    }
  }
  if (const char* e = std::getenv("LOWBIT_ALGO")) {
    algorithm a;
    if (*e && parse_algorithm(e, a)) {
      p.algo.store(static_cast<int>(a));
    } else if (*e) {
      std::fprintf(stderr, "lowbit: LOWBIT_ALGO=%s is not an algorithm; ignored (valid:", e);
      for (int i = 0; i <= static_cast<int>(algorithm::automatic); ++i)
        std::fprintf(stderr, " %s", algorithm_name(static_cast<algorithm>(i)));
      std::fprintf(stderr, ")\n");
    }
  }
  if (const char* e = std::getenv("LOWBIT_VERBOSE")) p.verbose = *e && *e != '0';
#else
  (void)p;
#endif
}

inline process_settings& settings() noexcept {
  static process_settings s;
  return s;
}

}  // namespace detail

// Process-wide caps (override LOWBIT_ISA / LOWBIT_ALGO; isa::native / algorithm::automatic
// remove the cap). Affect weights packed afterwards.
inline void force_isa(isa level) noexcept { detail::settings().cap.store(static_cast<int>(level)); }
inline void force_algorithm(algorithm a) noexcept {
  detail::settings().algo.store(static_cast<int>(a));
}
inline isa forced_isa() noexcept { return static_cast<isa>(detail::settings().cap.load()); }
inline algorithm forced_algorithm() noexcept {
  return static_cast<algorithm>(detail::settings().algo.load());
}

// The best ISA level the host reaches (for reports).
inline isa host_isa() noexcept {
  const feature_set h = detail::host_features();
  isa best = isa::scalar;
  for (int i = 0; i < static_cast<int>(isa::native); ++i) {
    const isa l = static_cast<isa>(i);
    const feature_set need = isa_features(l);
    if ((need & ~h) == 0 && __builtin_popcountll(need) >= __builtin_popcountll(isa_features(best)))
      best = l;
  }
  return best;
}

namespace detail {
// Warns once per level (stderr, as LOWBIT_VERBOSE logs; not without LOWBIT_NO_GETENV, the
// configuration of builds with no stdio) that a requested ISA level cannot run here.
inline void warn_isa_unavailable(isa cap, feature_set missing) noexcept {
#if !defined(LOWBIT_NO_GETENV)
  static std::atomic<std::uint32_t> warned{0};
  const std::uint32_t b = std::uint32_t{1} << static_cast<unsigned>(cap);
  if ((warned.fetch_or(b) & b) != 0) return;
  std::fprintf(stderr,
               "lowbit: ISA level %s requested (LOWBIT_ISA, force_isa or options.cap) "
               "but this CPU lacks",
               isa_name(cap));
  for (unsigned f = 0; f < static_cast<unsigned>(cpu_feature::count_); ++f)
    if (missing & bit(static_cast<cpu_feature>(f)))
      std::fprintf(stderr, " %s", cpu_feature_name(static_cast<cpu_feature>(f)));
  std::fprintf(stderr, "; using %s, the best it runs\n", isa_name(host_isa()));
#else
  (void)cap;
  (void)missing;
#endif
}
}  // namespace detail

// The CPU features kernels may use under these options: the host's, capped by the requested ISA
// level. A level the host cannot run in full (neon on x86, avx512 on an AVX2 CPU) is not a cap
// but a request this CPU cannot serve: lowbit warns once and uses everything the host has.
inline feature_set allowed_features(const dispatch_options& o = {}) noexcept {
  const isa cap = o.cap != isa::native ? o.cap : forced_isa();
  const feature_set host = detail::host_features(), want = isa_features(cap);
  if (cap != isa::native && (want & ~host) != 0) {
    detail::warn_isa_unavailable(cap, want & ~host);
    return host;
  }
  return host & want;
}

}  // namespace lowbit
