// lowbit: the core the process runs on, and the kernel rates measured on it.
//
// Every kernel declares the MAC rate measured on one reference core (an Intel Emerald Rapids
// Xeon: ukernel_desc::macs_per_cycle, docs/performance.md). Dispatch compares those rates, so a
// core whose units differ enough to reorder the kernels gets a profile here:
// - AMD Zen 4 (CPUID family 0x19 with AVX-512): 512-bit operations run as two 256-bit halves and
//   the four vector pipes issue two zmm operations a cycle, one vpdpbusd or vpopcntq or vpermb.
//   int8 VNNI falls to half the reference rate (63 against 122 MAC/cycle) while the bitplane
//   and vpermb table kernels keep theirs, so w2a2 belongs to bitplane or tables there, not VNNI.
//   Its rates were measured kernel by kernel (the list below).
// - AMD Zen 5 (family 0x1A): 512-bit vpopcntq issues twice a cycle; the AVX-512 bitplane kernels
//   measured twice the reference rates (w1a1 644, w2a2 171 MAC/cycle) and the others about the
//   same, so that family's rates are scaled by 2 and its A packer is charged a cost fitted there.
// Any other core (Intel, earlier AMD without AVX-512, Arm) uses the declared rates.
//
// LOWBIT_CORE=reference|zen4|zen5 overrides the detection: to see what dispatch would choose on
// another core (examples/lowbit_info), or to test a profile on a host that has its features.
#pragma once

#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <initializer_list>

#include "lowbit/dispatch/cpu_features.hpp"
#include "lowbit/kernels/ukernel.hpp"

namespace lowbit {
namespace detail {

enum class core_kind : unsigned char { reference, amd_zen4, amd_zen5 };

// A kernel's rate measured on a profile's core (the kernel's own benchmark, as for the table).
struct kernel_rate {
  const char* kernel;
  float macs_per_cycle;
};

// AMD Zen 4, measured 2026-12-06 on an EPYC (family 0x19, model 0x11) at 3.65 GHz, g++ 12, one
// pinned core: bench_dot_x86, bench_bitplane_x86 and bench_gemv_x86 at N = 256, K = 2048, and
// bench_lut_x86 as the median over N = 64, 256, 1024 at K = 512, medians of 3 repetitions.
inline constexpr kernel_rate zen4_rates[] = {
    {"dot_w2a8_4x16c4__avx2", 42.0f},
    {"dot_w2a8_4x8c4__sse4", 14.7f},
    {"dot_w2a8_8x32c4__avx512", 49.6f},
    {"dot_w4a4_4x16c4__avx2", 43.9f},
    {"dot_w4a4_4x8c4__sse4", 15.8f},
    {"dot_w4a4_8x32c4__avx512", 51.4f},
    {"dot_w7a8_4x16c4__avx2", 31.0f},
    {"dot_w7a8_4x8c4__sse4", 14.4f},
    {"dot_w7a8_8x32c4__avx512", 30.4f},
    {"dot_w8a2_4x16c4__avx2", 42.6f},
    {"dot_w8a2_4x8c4__sse4", 17.5f},
    {"dot_w8a2_8x32c4__avx512", 50.6f},
    {"dot_w8a4_4x16c4__avx2", 38.3f},
    {"dot_w8a4_4x8c4__sse4", 15.0f},
    {"dot_w8a4_8x32c4__avx512", 46.9f},
    {"dot_w8a7_4x16c4__avx2", 30.4f},
    {"dot_w8a7_4x8c4__sse4", 14.7f},
    {"dot_w8a7_8x32c4__avx512", 31.0f},
    {"dot_w8a8_4x16c2__avx2", 21.9f},
    {"dot_w8a8_4x8c2__sse4", 9.3f},
    {"dot_w8a8_7x32c4__avx512vnni", 62.0f},
    {"dot_w8a8_8x32c2__avx512", 27.0f},
    {"dot_w8a8_8x32c4__avx512vnni", 62.7f},
    {"bitplane_tl_w2a2_4x32c64__avx512icl", 92.6f},
    {"bitplane_tl_w2sa2_4x32c64__avx512icl", 92.6f},
    {"bitplane_w1a1_4x8c64__avx2", 113.0f},
    {"bitplane_w1a1_6x32c64__avx512icl", 335.0f},
    {"bitplane_w1a2_4x8c64__avx2", 55.6f},
    {"bitplane_w1a2_6x32c64__avx512icl", 168.0f},
    {"bitplane_w1a3_4x8c64__avx2", 37.8f},
    {"bitplane_w1a3_6x32c64__avx512icl", 111.0f},
    {"bitplane_w1a4_4x8c64__avx2", 28.8f},
    {"bitplane_w1a4_6x32c64__avx512icl", 83.7f},
    {"bitplane_w2a1_4x8c64__avx2", 56.9f},
    {"bitplane_w2a1_6x32c64__avx512icl", 167.0f},
    {"bitplane_w2a2_4x8c64__avx2", 28.2f},
    {"bitplane_w2a2_6x32c64__avx512icl", 83.8f},
    {"bitplane_w2a3_4x8c64__avx2", 19.0f},
    {"bitplane_w2a3_6x32c64__avx512icl", 55.6f},
    {"bitplane_w2a4_4x8c64__avx2", 14.5f},
    {"bitplane_w2a4_6x32c64__avx512icl", 42.4f},
    {"bitplane_w2sa1_6x32c64__avx512icl", 168.0f},
    {"bitplane_w2sa2_6x32c64__avx512icl", 83.5f},
    {"bitplane_w2sa3_6x32c64__avx512icl", 56.0f},
    {"bitplane_w2sa4_6x32c64__avx512icl", 42.4f},
    {"bitplane_w3a1_4x8c64__avx2", 38.4f},
    {"bitplane_w3a1_6x32c64__avx512icl", 111.0f},
    {"bitplane_w3a2_4x8c64__avx2", 18.6f},
    {"bitplane_w3a2_6x32c64__avx512icl", 55.6f},
    {"bitplane_w3a3_4x8c64__avx2", 12.5f},
    {"bitplane_w3a3_6x32c64__avx512icl", 37.3f},
    {"bitplane_w3a4_4x8c64__avx2", 9.7f},
    {"bitplane_w3a4_6x32c64__avx512icl", 28.1f},
    {"bitplane_w3sa1_6x32c64__avx512icl", 111.0f},
    {"bitplane_w3sa2_6x32c64__avx512icl", 55.8f},
    {"bitplane_w3sa3_6x32c64__avx512icl", 37.5f},
    {"bitplane_w3sa4_6x32c64__avx512icl", 28.3f},
    {"bitplane_w4a1_4x8c64__avx2", 28.8f},
    {"bitplane_w4a1_6x32c64__avx512icl", 83.0f},
    {"bitplane_w4a2_4x8c64__avx2", 14.1f},
    {"bitplane_w4a2_6x32c64__avx512icl", 42.1f},
    {"bitplane_w4a3_4x8c64__avx2", 9.3f},
    {"bitplane_w4a3_6x32c64__avx512icl", 27.7f},
    {"bitplane_w4a4_4x8c64__avx2", 7.0f},
    {"bitplane_w4a4_6x32c64__avx512icl", 20.8f},
    {"bitplane_w4sa1_6x32c64__avx512icl", 83.6f},
    {"bitplane_w4sa2_6x32c64__avx512icl", 42.0f},
    {"bitplane_w4sa3_6x32c64__avx512icl", 27.8f},
    {"bitplane_w4sa4_6x32c64__avx512icl", 21.0f},
    {"lut_actsum_w1a1_4x32c4__sse41", 80.0f},
    {"lut_actsum_w1a1_4x64c4__avx2", 171.0f},
    {"lut_actsum_w1a1_8x64c4__avx512bw", 122.0f},
    {"lut_actsum_w1a1_8x64c6__avx512vbmi", 234.0f},
    {"lut_actsum_w1a2_4x32c4__sse41", 76.6f},
    {"lut_actsum_w1a2_4x64c4__avx2", 162.0f},
    {"lut_actsum_w1a2_8x64c4__avx512bw", 120.0f},
    {"lut_actsum_w1a2_8x64c6__avx512vbmi", 121.0f},
    {"lut_actsum_w2a1_4x32c2__sse41", 41.6f},
    {"lut_actsum_w2a1_4x64c2__avx2", 88.7f},
    {"lut_actsum_w2a1_8x64c2__avx512bw", 61.9f},
    {"lut_actsum_w2a1_8x64c3__avx512vbmi", 131.0f},
    {"lut_actsum_w2sa1_8x64c3__avx512vbmi", 131.0f},  // the loop of the line above
    {"lut_actsum_w2a2_4x32c2__sse41", 38.1f},
    {"lut_actsum_w2a2_4x64c2__avx2", 80.6f},
    {"lut_actsum_w2a2_8x64c2__avx512bw", 60.3f},
    {"lut_actsum_w2a2_8x64c3__avx512vbmi", 129.0f},
    {"lut_actsum_w2sa2_8x64c3__avx512vbmi", 129.0f},  // the loop of the line above
    {"lut_actsum_w2a3_8x64c3__avx512vbmi", 62.9f},
    {"lut_actsum_w2a4_8x64c3__avx512vbmi", 63.3f},
    {"lut_actsum_w3a2_8x64c2__avx512vbmi", 81.4f},
    {"lut_actsum_w3sa2_8x64c2__avx512vbmi", 81.4f},  // the loop of the line above
    {"lut_actsum_w3a3_8x64c2__avx512vbmi", 62.0f},
    {"lut_actsum_w3sa3_8x64c2__avx512vbmi", 62.0f},  // the loop of the line above
    {"lut_actsum_w3a4_8x64c2__avx512vbmi", 53.9f},
    {"lut_actsum_w3sa4_8x64c2__avx512vbmi", 53.9f},  // the loop of the line above
    {"lut_actsum_w4a2_8x32c3__avx512vbmi", 65.3f},
    {"lut_actsum_w4a3_8x32c3__avx512vbmi", 32.1f},
    {"lut_actsum_w4a4_8x32c3__avx512vbmi", 33.8f},
    {"lut_product_w1a3_2x4c16__sse41", 14.1f},
    {"lut_product_w1a3_2x4c32__avx2", 30.4f},
    {"lut_product_w1a3_4x4c64__avx512bw", 32.3f},
    {"lut_product_w2a2_2x4c16__sse41", 14.1f},
    {"lut_product_w2a2_2x4c32__avx2", 31.4f},
    {"lut_product_w2a2_4x4c64__avx512bw", 32.2f},
    {"lut_product_w2a4_4x4c64__avx512vbmi", 30.6f},
    {"lut_product_w3a1_2x4c16__sse41", 15.4f},
    {"lut_product_w3a1_2x4c32__avx2", 32.1f},
    {"lut_product_w3a1_4x4c64__avx512bw", 32.0f},
    {"lut_product_w3a3_4x4c64__avx512vbmi", 30.5f},
    {"lut_product_w3a4_4x4c64__avx512vbmi", 26.1f},
    {"lut_product_w4a2_4x4c64__avx512vbmi", 30.5f},
    {"lut_product_w4a3_4x4c64__avx512vbmi", 25.9f},
    {"gemv_bitplane_w1a1_1x64c64__avx512icl", 247.0f},
    {"gemv_bitplane_w1a2_1x64c64__avx512icl", 166.0f},
    {"gemv_bitplane_w2a1_1x64c64__avx512icl", 117.0f},
    {"gemv_bitplane_w2a2_1x64c64__avx512icl", 82.4f},
    {"gemv_w1a8_1x64c16__avx512vnni", 57.9f},
    {"gemv_w1a8_8x32c16__avx512vnni", 64.1f},
    {"gemv_w2a8_1x64c8__avx512vnni", 56.9f},
    {"gemv_w2a8_8x32c8__avx512vnni", 64.0f},
    {"gemv_w4a8_1x64c8__avx512vnni", 51.0f},
    {"gemv_w4a8_8x32c4__avx512vnni", 63.9f},
};

struct core_profile {
  core_kind kind = core_kind::reference;
  const char* name = "reference";
  // Rates measured on this core, by kernel name; a kernel listed here runs at this rate.
  const kernel_rate* rates = nullptr;
  std::size_t rate_count = 0;
  // Kernels not listed: AVX-512 bitplane (VPOPCNTDQ) rates are multiplied by this.
  float popcount512_scale = 1.0f;
  // Non-zero: the AVX-512 bitplane kernels' A packer cost per code (a_pack_cycles) on this core.
  float bitplane512_pack = 0.0f;

  // The rate dispatch expects of kernel d on this core.
  float rate(const kernels::ukernel_desc& d) const noexcept {
    for (std::size_t i = 0; i < rate_count; ++i)
      if (std::strcmp(rates[i].kernel, d.name) == 0) return rates[i].macs_per_cycle;
    if (is_bitplane512(d)) return d.macs_per_cycle * popcount512_scale;
    return d.macs_per_cycle;
  }
  // The A packer's cost per code dispatch expects of kernel d on this core.
  float pack_cycles(const kernels::ukernel_desc& d) const noexcept {
    return bitplane512_pack > 0.0f && is_bitplane512(d) ? bitplane512_pack : d.a_pack_cycles;
  }
  static bool is_bitplane512(const kernels::ukernel_desc& d) noexcept {
    return d.algo == algorithm::bitplane && (d.features & bit(cpu_feature::avx512vpopcntdq)) != 0;
  }
};

inline core_profile profile_of(core_kind k) noexcept {
  core_profile p;
  p.kind = k;
  switch (k) {
    case core_kind::amd_zen4:
      p.name = "zen4";
      p.rates = zen4_rates;
      p.rate_count = sizeof(zen4_rates) / sizeof(zen4_rates[0]);
      break;
    case core_kind::amd_zen5:
      p.name = "zen5";
      p.popcount512_scale = 2.0f;
      // Fitted to whole calls (w1a1 and w2a2 at 3136x64x576, checked on 784x128x1152) after the
      // packer took over validation and row sums (docs/performance.md).
      p.bitplane512_pack = 0.10f;
      break;
    case core_kind::reference:
      break;
  }
  return p;
}

inline bool parse_core(const char* s, core_kind& out) noexcept {
  for (core_kind k : {core_kind::reference, core_kind::amd_zen4, core_kind::amd_zen5})
    if (std::strcmp(s, profile_of(k).name) == 0) {
      out = k;
      return true;
    }
  return false;
}

// The core kind from CPUID: AMD family 0x19 with AVX-512 is Zen 4 (Zen 3 has none), 0x1A and
// later Zen 5. Static dispatch (LOWBIT_STATIC_DISPATCH) takes it from -march instead.
inline core_kind detect_core() noexcept {
#if defined(LOWBIT_STATIC_DISPATCH)
#if defined(__znver5__)
  return core_kind::amd_zen5;
#elif defined(__znver4__)
  return core_kind::amd_zen4;
#endif
#elif (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__)
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  __asm__ volatile("cpuid" : "=a"(eax), "=b"(ebx), "=c"(ecx), "=d"(edx) : "a"(0u), "c"(0u));
  const bool amd = ebx == 0x68747541u && edx == 0x69746e65u && ecx == 0x444d4163u;
  if (!amd || eax < 1) return core_kind::reference;
  __asm__ volatile("cpuid" : "=a"(eax), "=b"(ebx), "=c"(ecx), "=d"(edx) : "a"(1u), "c"(0u));
  const unsigned family = ((eax >> 8) & 0xFu) + ((eax >> 20) & 0xFFu);
  if (family >= 0x1Au) return core_kind::amd_zen5;
  if (family == 0x19u && (host_features() & bit(cpu_feature::avx512f)) != 0)
    return core_kind::amd_zen4;
#endif
  return core_kind::reference;
}

// The profile dispatch uses: LOWBIT_CORE when set to a profile name, else the detected core.
// Chosen once per process; LOWBIT_VERBOSE=1 logs it.
inline const core_profile& host_core_profile() noexcept {
  static const core_profile p = [] {
    core_kind k = detect_core();
#if !defined(LOWBIT_NO_GETENV)
    if (const char* e = std::getenv("LOWBIT_CORE")) {
      if (*e && !parse_core(e, k))
        std::fprintf(stderr, "lowbit: LOWBIT_CORE=%s is not a core profile; ignored\n", e);
    }
#endif
    return profile_of(k);
  }();
  return p;
}

}  // namespace detail
}  // namespace lowbit
