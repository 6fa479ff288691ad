// lowbit: what the host CPU can run, detected once.
//
// With cpuinfo (LOWBIT_HAVE_CPUINFO, set by the CMake target when libcpuinfo is found) features
// come from cpuinfo; otherwise from the compiler's builtins on x86 (__builtin_cpu_supports checks
// both CPUID and the OS's XSAVE state) and getauxval(AT_HWCAP) on Arm Linux. Bare-metal and
// unknown targets report only what the compiler was told to assume (-march / -mfpu).
//
// AMX is read from CPUID and XCR0 in every configuration (Debian's cpuinfo and GCC 12's
// __builtin_cpu_supports know nothing of it), and Linux also wants each process to ask for the
// tile data state once (arch_prctl ARCH_REQ_XCOMP_PERM) before its first tile instruction, which
// otherwise raises SIGILL: the one-time detection asks, and a refusal means no AMX. Other OSes:
// no AMX (none is known to enable it without such a request).
#pragma once

#include "lowbit/isa.hpp"

#if defined(LOWBIT_HAVE_CPUINFO)
#include <cpuinfo.h>
#endif

#if defined(__linux__) && (defined(__aarch64__) || defined(__arm__))
#include <sys/auxv.h>
#endif
#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__)
#include <cpuid.h>
#endif

#if defined(__linux__) && defined(__x86_64__) && defined(__GNUC__)
#include <sys/syscall.h>
#include <unistd.h>
#endif

namespace lowbit {
namespace detail {

// Features the compiler may already use everywhere in this translation unit (-march=...).
// Not AMX: -mamx-tile does not give the process the OS's permission (see the file comment).
constexpr feature_set compile_time_features() noexcept {
  feature_set f = 0;
#if defined(__SSSE3__)
  f |= bit(cpu_feature::ssse3);
#endif
#if defined(__SSE4_1__)
  f |= bit(cpu_feature::sse41);
#endif
#if defined(__SSE4_2__)
  f |= bit(cpu_feature::sse42);
#endif
#if defined(__POPCNT__)
  f |= bit(cpu_feature::popcnt);
#endif
#if defined(__AVX__)
  f |= bit(cpu_feature::avx);
#endif
#if defined(__AVX2__)
  f |= bit(cpu_feature::avx2);
#endif
#if defined(__FMA__)
  f |= bit(cpu_feature::fma);
#endif
#if defined(__BMI2__)
  f |= bit(cpu_feature::bmi2);
#endif
#if defined(__AVX512F__)
  f |= bit(cpu_feature::avx512f);
#endif
#if defined(__AVX512BW__)
  f |= bit(cpu_feature::avx512bw);
#endif
#if defined(__AVX512VL__)
  f |= bit(cpu_feature::avx512vl);
#endif
#if defined(__AVX512DQ__)
  f |= bit(cpu_feature::avx512dq);
#endif
#if defined(__AVX512CD__)
  f |= bit(cpu_feature::avx512cd);
#endif
#if defined(__AVX512VNNI__)
  f |= bit(cpu_feature::avx512vnni);
#endif
#if defined(__AVX512VBMI__)
  f |= bit(cpu_feature::avx512vbmi);
#endif
#if defined(__AVX512VBMI2__)
  f |= bit(cpu_feature::avx512vbmi2);
#endif
#if defined(__AVX512VPOPCNTDQ__)
  f |= bit(cpu_feature::avx512vpopcntdq);
#endif
#if defined(__AVX512BITALG__)
  f |= bit(cpu_feature::avx512bitalg);
#endif
#if defined(__AVXVNNI__)
  f |= bit(cpu_feature::avxvnni);
#endif
#if defined(__ARM_NEON) || defined(__ARM_NEON__)
  f |= bit(cpu_feature::neon);
#endif
#if defined(__ARM_FEATURE_DOTPROD)
  f |= bit(cpu_feature::neon_dotprod);
#endif
#if defined(__ARM_FEATURE_MATMUL_INT8)
  f |= bit(cpu_feature::neon_i8mm);
#endif
  return f;
}

#if defined(__aarch64__) && defined(__linux__)
inline bool getauxval_i8mm() noexcept { return (getauxval(AT_HWCAP2) & (1ul << 13)) != 0; }
#endif

#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__)
// XCR0's low word (the register state the OS saves) when the OS has enabled XSAVE
// (CPUID.1:ECX.OSXSAVE), else 0: XGETBV would fault.
inline unsigned os_xsave_state() noexcept {
  unsigned a = 0, b = 0, c = 0, d = 0;
  if (__get_cpuid(1, &a, &b, &c, &d) == 0 || (c & (1u << 27)) == 0) return 0;
  unsigned lo = 0, hi = 0;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0u));
  return lo;
}

// CPUID leaf 7, sub-leaf `sub`: {eax, ebx, ecx, edx}; false where the CPU has no leaf 7.
inline bool cpuid_leaf7(unsigned sub, unsigned (&r)[4]) noexcept {
  if (static_cast<unsigned>(__get_cpuid_max(0, nullptr)) < 7u) return false;
  __cpuid_count(7, sub, r[0], r[1], r[2], r[3]);
  return true;
}

// AVX-VNNI from CPUID itself (leaf 7 sub-leaf 1, EAX bit 4), usable when the OS saves the YMM
// state (XCR0 bits 1 and 2). Neither Debian's 2022 cpuinfo nor Clang 14's
// __builtin_cpu_supports knows AVX-VNNI, and GCC's only since 11: with them a Clang build, or any
// build through cpuinfo, missed it on hosts that have it.
inline bool cpuid_avxvnni() noexcept {
  unsigned r[4] = {};
  return (os_xsave_state() & 6u) == 6u && cpuid_leaf7(1, r) && (r[0] & (1u << 4)) != 0;
}
#endif

// AMX-TILE and AMX-INT8 when the CPU has them (CPUID.(7,0):EDX bits 24 and 25), the OS saves
// their state (XCR0 bits 17 XTILECFG and 18 XTILEDATA) and, on Linux, grants this process the
// tile data state: arch_prctl(ARCH_REQ_XCOMP_PERM = 0x1023, XFEATURE_XTILEDATA = 18),
// process-wide and idempotent, made here once (host_features' one-time detection). Any failure:
// neither feature.
inline feature_set detect_amx() noexcept {
#if defined(__linux__) && defined(__x86_64__) && defined(__GNUC__)
  unsigned r[4] = {};
  if (!cpuid_leaf7(0, r) || (r[3] & (1u << 24)) == 0) return 0;
  const unsigned tile_state = (1u << 17) | (1u << 18);
  if ((os_xsave_state() & tile_state) != tile_state) return 0;
  if (syscall(SYS_arch_prctl, 0x1023, 18) != 0) return 0;
  return bit(cpu_feature::amx_tile) | ((r[3] & (1u << 25)) != 0 ? bit(cpu_feature::amx_int8) : 0);
#else
  return 0;
#endif
}

inline feature_set detect_runtime_features() noexcept {
  feature_set f = detect_amx();
#if defined(LOWBIT_HAVE_CPUINFO)
  if (cpuinfo_initialize()) {
#if defined(__x86_64__) || defined(__i386__)
    if (cpuinfo_has_x86_ssse3()) f |= bit(cpu_feature::ssse3);
    if (cpuinfo_has_x86_sse4_1()) f |= bit(cpu_feature::sse41);
    if (cpuinfo_has_x86_sse4_2()) f |= bit(cpu_feature::sse42);
    if (cpuinfo_has_x86_popcnt()) f |= bit(cpu_feature::popcnt);
    if (cpuinfo_has_x86_avx()) f |= bit(cpu_feature::avx);
    if (cpuinfo_has_x86_avx2()) f |= bit(cpu_feature::avx2);
    if (cpuinfo_has_x86_fma3()) f |= bit(cpu_feature::fma);
    if (cpuinfo_has_x86_bmi2()) f |= bit(cpu_feature::bmi2);
    if (cpuinfo_has_x86_avx512f()) f |= bit(cpu_feature::avx512f);
    if (cpuinfo_has_x86_avx512bw()) f |= bit(cpu_feature::avx512bw);
    if (cpuinfo_has_x86_avx512vl()) f |= bit(cpu_feature::avx512vl);
    if (cpuinfo_has_x86_avx512dq()) f |= bit(cpu_feature::avx512dq);
    if (cpuinfo_has_x86_avx512cd()) f |= bit(cpu_feature::avx512cd);
    if (cpuinfo_has_x86_avx512vnni()) f |= bit(cpu_feature::avx512vnni);
    if (cpuinfo_has_x86_avx512vbmi()) f |= bit(cpu_feature::avx512vbmi);
    if (cpuinfo_has_x86_avx512vbmi2()) f |= bit(cpu_feature::avx512vbmi2);
    if (cpuinfo_has_x86_avx512vpopcntdq()) f |= bit(cpu_feature::avx512vpopcntdq);
    if (cpuinfo_has_x86_avx512bitalg()) f |= bit(cpu_feature::avx512bitalg);
#if defined(__GNUC__)
    if (cpuid_avxvnni()) f |= bit(cpu_feature::avxvnni);  // not in this cpuinfo
#endif
#elif defined(__aarch64__) || defined(__arm__)
    if (cpuinfo_has_arm_neon()) f |= bit(cpu_feature::neon);
    if (cpuinfo_has_arm_neon_dot()) f |= bit(cpu_feature::neon_dotprod);
#if defined(__aarch64__) && defined(__linux__)
    // No i8mm query in this cpuinfo: read the kernel's hwcap2 (HWCAP2_I8MM = 1 << 13).
    if (getauxval_i8mm()) f |= bit(cpu_feature::neon_i8mm);
#endif
#endif
  }
#elif (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("ssse3")) f |= bit(cpu_feature::ssse3);
  if (__builtin_cpu_supports("sse4.1")) f |= bit(cpu_feature::sse41);
  if (__builtin_cpu_supports("sse4.2")) f |= bit(cpu_feature::sse42);
  if (__builtin_cpu_supports("popcnt")) f |= bit(cpu_feature::popcnt);
  if (__builtin_cpu_supports("avx")) f |= bit(cpu_feature::avx);
  if (__builtin_cpu_supports("avx2")) f |= bit(cpu_feature::avx2);
  if (__builtin_cpu_supports("fma")) f |= bit(cpu_feature::fma);
  if (__builtin_cpu_supports("bmi2")) f |= bit(cpu_feature::bmi2);
  if (__builtin_cpu_supports("avx512f")) f |= bit(cpu_feature::avx512f);
  if (__builtin_cpu_supports("avx512bw")) f |= bit(cpu_feature::avx512bw);
  if (__builtin_cpu_supports("avx512vl")) f |= bit(cpu_feature::avx512vl);
  if (__builtin_cpu_supports("avx512dq")) f |= bit(cpu_feature::avx512dq);
  if (__builtin_cpu_supports("avx512cd")) f |= bit(cpu_feature::avx512cd);
  if (__builtin_cpu_supports("avx512vnni")) f |= bit(cpu_feature::avx512vnni);
  if (__builtin_cpu_supports("avx512vbmi")) f |= bit(cpu_feature::avx512vbmi);
  if (__builtin_cpu_supports("avx512vbmi2")) f |= bit(cpu_feature::avx512vbmi2);
  if (__builtin_cpu_supports("avx512vpopcntdq")) f |= bit(cpu_feature::avx512vpopcntdq);
  if (__builtin_cpu_supports("avx512bitalg")) f |= bit(cpu_feature::avx512bitalg);
  if (cpuid_avxvnni()) f |= bit(cpu_feature::avxvnni);
#elif defined(__linux__) && defined(__aarch64__)
  const unsigned long hw = getauxval(AT_HWCAP);
  if (hw & (1ul << 1)) f |= bit(cpu_feature::neon);           // HWCAP_ASIMD
  if (hw & (1ul << 20)) f |= bit(cpu_feature::neon_dotprod);  // HWCAP_ASIMDDP
  if (getauxval_i8mm()) f |= bit(cpu_feature::neon_i8mm);
#elif defined(__linux__) && defined(__arm__)
  const unsigned long hw = getauxval(AT_HWCAP);
  if (hw & (1ul << 12)) f |= bit(cpu_feature::neon);  // HWCAP_NEON
#endif
  // Whatever the compiler was told to assume is present by definition.
  return f | compile_time_features();
}

// Detected once, then cached (thread-safe static initialisation). With LOWBIT_STATIC_DISPATCH
// (for builds with -march=... for a known target) nothing is detected at run time: the features
// are exactly what the compiler was told to assume, so the choice is fixed at compile time.
inline feature_set host_features() noexcept {
#if defined(LOWBIT_STATIC_DISPATCH)
  return compile_time_features();
#else
  static const feature_set f = detect_runtime_features();
  return f;
#endif
}

}  // namespace detail
}  // namespace lowbit
