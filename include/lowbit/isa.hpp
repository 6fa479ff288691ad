// lowbit: instruction-set levels and CPU feature bits.
//
// A microkernel declares the exact set of CPU features its code was compiled for; dispatch picks
// it only when the host has every one of them (AVX-512 VBMI is not implied by AVX-512F). An `isa`
// level is a named feature set used to cap dispatch (LOWBIT_ISA=avx2, or lowbit::force_isa), so
// tests and benchmarks can run the code a weaker CPU would run.
#pragma once

#include <cstdint>

namespace lowbit {

// One bit per CPU feature a kernel may need.
enum class cpu_feature : std::uint32_t {
  // x86
  ssse3,
  sse41,
  sse42,
  popcnt,
  avx,
  avx2,
  fma,
  bmi2,
  avx512f,
  avx512bw,
  avx512vl,
  avx512dq,
  avx512cd,
  avx512vnni,
  avx512vbmi,
  avx512vbmi2,
  avx512vpopcntdq,
  avx512bitalg,
  avxvnni,
  amx_tile,  // AMX tile registers (TILECFG, TILEDATA), enabled by the OS for this process
  amx_int8,  // TDPBUSD and friends
  // Arm
  neon,
  neon_dotprod,
  neon_i8mm,
  count_
};

using feature_set = std::uint64_t;

constexpr feature_set bit(cpu_feature f) noexcept {
  return feature_set{1} << static_cast<std::uint32_t>(f);
}

template <class... F>
constexpr feature_set features(F... f) noexcept {
  return (feature_set{0} | ... | bit(f));
}

// Named feature sets, from weakest to strongest per architecture. A level includes everything
// below it on the same line of descent; avxvnni and the AVX-512 levels are separate branches
// above avx2 (Alder Lake has AVX-VNNI but no AVX-512; Cascade Lake the reverse).
enum class isa : std::uint8_t {
  scalar,             // portable C++, no SIMD assumed
  sse4,               // SSSE3 + SSE4.1/4.2 + POPCNT (Nehalem)
  avx2,               // + AVX, AVX2, FMA, BMI2 (Haswell)
  avxvnni,            // avx2 + AVX-VNNI on ymm (Alder Lake)
  avx512,             // avx2 + AVX-512 F/CD/BW/DQ/VL (Skylake-SP)
  avx512vnni,         // avx512 + VNNI (Cascade Lake)
  avx512icl,          // avx512vnni + VBMI, VBMI2, VPOPCNTDQ, BITALG (Ice Lake and later)
  avx512icl_avxvnni,  // avx512icl + AVX-VNNI (Sapphire/Emerald Rapids without AMX)
  amx,                // avx512icl_avxvnni + AMX-TILE, AMX-INT8 (Sapphire Rapids and later):
                      // everything on x86
  neon,               // Armv7-A NEON or Armv8-A ASIMD
  neon_dotprod,       // + Armv8.2 SDOT/UDOT
  neon_i8mm,          // + Armv8.6 SMMLA/UMMLA
  native              // no cap: everything the host has
};

namespace detail {
constexpr feature_set x86_sse4 =
    features(cpu_feature::ssse3, cpu_feature::sse41, cpu_feature::sse42, cpu_feature::popcnt);
constexpr feature_set x86_avx2 =
    x86_sse4 | features(cpu_feature::avx, cpu_feature::avx2, cpu_feature::fma, cpu_feature::bmi2);
constexpr feature_set x86_avx512 =
    x86_avx2 | features(cpu_feature::avx512f, cpu_feature::avx512bw, cpu_feature::avx512vl,
                        cpu_feature::avx512dq, cpu_feature::avx512cd);
constexpr feature_set x86_avx512vnni = x86_avx512 | bit(cpu_feature::avx512vnni);
constexpr feature_set x86_avx512icl =
    x86_avx512vnni | features(cpu_feature::avx512vbmi, cpu_feature::avx512vbmi2,
                              cpu_feature::avx512vpopcntdq, cpu_feature::avx512bitalg);
}  // namespace detail

// The features a level allows.
constexpr feature_set isa_features(isa level) noexcept {
  switch (level) {
    case isa::scalar:
      return 0;
    case isa::sse4:
      return detail::x86_sse4;
    case isa::avx2:
      return detail::x86_avx2;
    case isa::avxvnni:
      return detail::x86_avx2 | bit(cpu_feature::avxvnni);
    case isa::avx512:
      return detail::x86_avx512;
    case isa::avx512vnni:
      return detail::x86_avx512vnni;
    case isa::avx512icl:
      return detail::x86_avx512icl;
    case isa::avx512icl_avxvnni:
      return detail::x86_avx512icl | bit(cpu_feature::avxvnni);
    case isa::amx:
      return detail::x86_avx512icl |
             features(cpu_feature::avxvnni, cpu_feature::amx_tile, cpu_feature::amx_int8);
    case isa::neon:
      return bit(cpu_feature::neon);
    case isa::neon_dotprod:
      return features(cpu_feature::neon, cpu_feature::neon_dotprod);
    case isa::neon_i8mm:
      return features(cpu_feature::neon, cpu_feature::neon_dotprod, cpu_feature::neon_i8mm);
    case isa::native:
      return ~feature_set{0};
  }
  return 0;
}

constexpr const char* isa_name(isa level) noexcept {
  switch (level) {
    case isa::scalar:
      return "scalar";
    case isa::sse4:
      return "sse4";
    case isa::avx2:
      return "avx2";
    case isa::avxvnni:
      return "avxvnni";
    case isa::avx512:
      return "avx512";
    case isa::avx512vnni:
      return "avx512vnni";
    case isa::avx512icl:
      return "avx512icl";
    case isa::avx512icl_avxvnni:
      return "avx512icl_avxvnni";
    case isa::amx:
      return "amx";
    case isa::neon:
      return "neon";
    case isa::neon_dotprod:
      return "neon_dotprod";
    case isa::neon_i8mm:
      return "neon_i8mm";
    case isa::native:
      return "native";
  }
  return "?";
}

constexpr const char* cpu_feature_name(cpu_feature f) noexcept {
  constexpr const char* names[] = {"ssse3",
                                   "sse4.1",
                                   "sse4.2",
                                   "popcnt",
                                   "avx",
                                   "avx2",
                                   "fma",
                                   "bmi2",
                                   "avx512f",
                                   "avx512bw",
                                   "avx512vl",
                                   "avx512dq",
                                   "avx512cd",
                                   "avx512vnni",
                                   "avx512vbmi",
                                   "avx512vbmi2",
                                   "avx512vpopcntdq",
                                   "avx512bitalg",
                                   "avxvnni",
                                   "amx-tile",
                                   "amx-int8",
                                   "neon",
                                   "dotprod",
                                   "i8mm"};
  static_assert(sizeof(names) / sizeof(names[0]) == static_cast<unsigned>(cpu_feature::count_),
                "one name per feature");
  return names[static_cast<unsigned>(f)];
}

}  // namespace lowbit

// Target strings for __attribute__((target(...))) on x86, one per level, spelled with the feature
// names of cpu_feature_name() (which are GCC's and Clang's) and built up as the levels are;
// target_features() reads one back so the static_asserts below keep each equal to its level.
// Macros because the attribute takes a string literal only.
#define LOWBIT_X86_TARGET_SSE4 "ssse3,sse4.1,sse4.2,popcnt"
#define LOWBIT_X86_TARGET_AVX2 LOWBIT_X86_TARGET_SSE4 ",avx,avx2,fma,bmi2"
#define LOWBIT_X86_TARGET_AVXVNNI LOWBIT_X86_TARGET_AVX2 ",avxvnni"
#define LOWBIT_X86_TARGET_AVX512 \
  LOWBIT_X86_TARGET_AVX2 ",avx512f,avx512bw,avx512vl,avx512dq,avx512cd"
#define LOWBIT_X86_TARGET_AVX512VNNI LOWBIT_X86_TARGET_AVX512 ",avx512vnni"
#define LOWBIT_X86_TARGET_AVX512ICL \
  LOWBIT_X86_TARGET_AVX512VNNI ",avx512vbmi,avx512vbmi2,avx512vpopcntdq,avx512bitalg"
#define LOWBIT_X86_TARGET_AMX LOWBIT_X86_TARGET_AVX512ICL ",avxvnni,amx-tile,amx-int8"
// The AMX int8 kernel's own target (kernels/dot/dot_amx.hpp): AVX-512 VNNI's and the two AMX
// features, no more, so a host whose hypervisor hides AVX-VNNI or VBMI still runs it.
#define LOWBIT_X86_TARGET_AMX_INT8 LOWBIT_X86_TARGET_AVX512VNNI ",amx-tile,amx-int8"

namespace lowbit {
namespace detail {

// The features a comma-separated target string names; all bits set if a name is unknown.
constexpr feature_set target_features(const char* s) noexcept {
  feature_set set = 0;
  while (*s != '\0') {
    std::uint32_t n = 0;
    while (s[n] != '\0' && s[n] != ',') ++n;
    feature_set found = ~feature_set{0};
    for (std::uint32_t f = 0; f < static_cast<std::uint32_t>(cpu_feature::count_); ++f) {
      const char* name = cpu_feature_name(static_cast<cpu_feature>(f));
      std::uint32_t i = 0;
      while (i < n && name[i] == s[i]) ++i;
      if (i == n && name[n] == '\0') found = bit(static_cast<cpu_feature>(f));
    }
    set |= found;
    s += s[n] == ',' ? n + 1 : n;
  }
  return set;
}

static_assert(target_features(LOWBIT_X86_TARGET_SSE4) == isa_features(isa::sse4), "sse4");
static_assert(target_features(LOWBIT_X86_TARGET_AVX2) == isa_features(isa::avx2), "avx2");
static_assert(target_features(LOWBIT_X86_TARGET_AVXVNNI) == isa_features(isa::avxvnni), "avxvnni");
static_assert(target_features(LOWBIT_X86_TARGET_AVX512) == isa_features(isa::avx512), "avx512");
static_assert(target_features(LOWBIT_X86_TARGET_AVX512VNNI) == isa_features(isa::avx512vnni),
              "avx512vnni");
static_assert(target_features(LOWBIT_X86_TARGET_AVX512ICL) == isa_features(isa::avx512icl),
              "avx512icl");
static_assert(target_features(LOWBIT_X86_TARGET_AMX) == isa_features(isa::amx), "amx");
static_assert((target_features(LOWBIT_X86_TARGET_AMX_INT8) & ~isa_features(isa::amx)) == 0 &&
                  (target_features(LOWBIT_X86_TARGET_AMX_INT8) &
                   ~isa_features(isa::avx512icl_avxvnni)) != 0,
              "the AMX kernel runs at the amx level and not below");

}  // namespace detail
}  // namespace lowbit
