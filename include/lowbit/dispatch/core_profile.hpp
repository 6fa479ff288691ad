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
// - Arm: three classes of core, from the MIDR of cpu0 (implementer and part number; see
//   arm_core_from_midr): little in-order cores (Cortex-A53, A55, A510), big out-of-order cores
//   (Cortex-A57 to A78, X1, X2, A710, A715, Neoverse N1, N2, V1) and Apple cores. Their rates
//   are 1 / (marginal cycles per MAC) that llvm-mca gives for each NEON kernel's executed
//   instruction stream (bench/arm/mca, docs/arm-mca.md): little from the cortex-a55 model,
//   big from cortex-a57, apple from apple-m1; Armv7 kernels from cortex-a9 (little) and the
//   A57 in AArch32 (big, and apple, since no Apple core runs AArch32). Estimates of a model, not
//   measurements (docs/arm.md). Every NEON kernel is listed (a test checks it); a kernel without
//   a figure (the scalar kernel, or a NEON kernel added later) is compared at its declared rate
//   times arm_unlisted_scale, the profile's rate over the declared one for the 16-entry w2a2
//   table kernel.
// - Intel Ice Lake server (family 6, models 0x6A and 0x6C): int8 VNNI reaches about 0.6 of the
//   reference rate while the vpermb tables and bitplane kernels keep theirs, so, as on Zen 4,
//   w2a2 belongs to the tables. Its rates were measured kernel by kernel (the list below).
// Any other core (other Intel cores, earlier AMD without AVX-512, an unknown Arm part) uses the
// declared rates, except where the reference profile lists another (reference_rates: the AMX
// kernel, whose rate alone would take the 1-bit cell from the bitplane kernel).
//
// LOWBIT_CORE=reference|zen4|zen5|icelake|little|big|apple overrides the detection: to see what
// dispatch would choose on another core (examples/lowbit_info), or to test a profile on a host that
// has its features.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <initializer_list>

#if defined(LOWBIT_HAVE_CPUINFO) && (defined(__aarch64__) || defined(__arm__))
#include <cpuinfo.h>
#endif

#include "lowbit/dispatch/cpu_features.hpp"
#include "lowbit/kernels/ukernel.hpp"

namespace lowbit {
namespace detail {

enum class core_kind : unsigned char {
  reference,
  amd_zen4,
  amd_zen5,
  intel_icelake,
  arm_little,
  arm_big,
  apple
};

// A kernel's rate measured on a profile's core (the kernel's own benchmark, as for the table).
struct kernel_rate {
  const char* kernel;
  float macs_per_cycle;
};

// The reference core's own exceptions to the declared rates: the rate dispatch compares for a
// kernel whose rate alone misleads it there.
// - The AMX int8 kernel ran 395 MAC/cycle alone (its declared rate, dot_x86.hpp; 2026-12-08, a
//   Sapphire/Emerald Rapids-class host), above the bitplane w1a1 kernel's 315, but in whole calls
//   w1a1 ran faster on the bitplane kernel where the byte weight panels leave L2 (256 x 4096 x
//   4096: 1.55x; 49 x 512 x 4608: 1.3-1.4x) or M fills a quarter of the 32-row tile (8 x 4096 x
//   4096: 4x), 0.80-1.06x on the other ResNet-18 shapes, and kept weights 1/8 the size;
//   the model sees neither the weights' size at large M nor, once the AMX kernel is the main
//   one, the bitplane kernel at small M. At 250 it stays above every other cell's best kernel
//   (186) and, with each kernel's A packing charged over N (select.hpp: 0.07 cycles a code for
//   the bitplane kernel, 0.02 for this one), below w1a1's bitplane kernel from N = 64 up
//   (docs/performance.md, "AMX host").
inline constexpr kernel_rate reference_rates[] = {
    {"dot_w8a8_32x32c4__amx", 250.0f},
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

// The 16-entry w2a2 table kernel of this build's Arm tiles and its declared rate (lut_neon.hpp's
// op model; a test checks it), the base of arm_unlisted_scale.
#if defined(__arm__)
constexpr const char* arm_lut16_w2a2 = "lut_actsum_w2a2_2x16c8__neon";
constexpr float arm_lut16_w2a2_declared = 17.5f;
#else
constexpr const char* arm_lut16_w2a2 = "lut_actsum_w2a2_4x16c8__neon";
constexpr float arm_lut16_w2a2_declared = 26.7f;
#endif

// Arm profiles: 1 / (marginal cycles per MAC) of each NEON kernel in docs/arm-mca.md (llvm-mca
// 14). A build has either the AArch64 kernels or the Armv7 ones (whose names differ by their
// 2-row tiles), so each profile lists the rows of its build's kernels.
// Little: cortex-a55 model (it ranks the baseline kernels of every cell as the cortex-a53
// model does, and prices UDOT, which the A53 lacks); Armv7 from cortex-a9.
// Big: cortex-a57 model (LLVM 14's model for the A72, A76 and Neoverse N1 as well); Armv7 from
// the same model in AArch32.
// Apple: apple-m1 model (LLVM's Cyclone-family model); on Armv7 the big rows (no Apple core runs
// AArch32).
#if defined(__arm__)
inline constexpr kernel_rate arm_little_rates[] = {
    {"lut_actsum_w1a1_2x16c8__neon", 7.39f}, {"lut_actsum_w1a2_2x16c8__neon", 7.20f},
    {"lut_actsum_w2a1_2x16c8__neon", 4.38f}, {"lut_actsum_w2a2_2x16c8__neon", 4.21f},
    {"bitplane_w1a1_2x4c128__neon", 26.2f},  {"bitplane_w1a2_2x4c128__neon", 8.19f},
    {"bitplane_w2a1_2x4c128__neon", 12.3f},  {"bitplane_w2a2_2x4c128__neon", 4.59f},
    {"bitplane_w1a3_2x4c128__neon", 5.28f},  {"bitplane_w3a1_2x4c128__neon", 6.4f},
    {"bitplane_w1a4_2x4c128__neon", 3.66f},  {"bitplane_w4a1_2x4c128__neon", 4.7f},
    {"bitplane_w2a3_2x4c128__neon", 3.23f},  {"bitplane_w3a2_2x4c128__neon", 3.25f},
    {"bitplane_w2a4_2x4c128__neon", 2.43f},  {"bitplane_w4a2_2x4c128__neon", 2.55f},
    {"bitplane_w3a3_2x4c128__neon", 2.22f},  {"bitplane_w3a4_2x4c128__neon", 1.56f},
    {"bitplane_w4a3_2x4c128__neon", 1.65f},  {"bitplane_w4a4_2x4c128__neon", 1.16f},
    {"dot_w8a8_2x4c16__neon", 2.41f},        {"dot_w8a7_2x4c16__neon", 2.46f},
    {"dot_w7a8_2x4c16__neon", 2.46f},        {"dot_w7a7_2x4c32__neon", 2.02f},
    {"gemv_w4a8_1x4c32__neon", 2.63f},       {"gemv_w2a8_1x4c32__neon", 3.23f},
    {"gemv_w1a8_1x4c32__neon", 3.88f},
};

inline constexpr kernel_rate arm_big_rates[] = {
    {"lut_actsum_w1a1_2x16c8__neon", 16.8f}, {"lut_actsum_w1a2_2x16c8__neon", 16.5f},
    {"lut_actsum_w2a1_2x16c8__neon", 10.7f}, {"lut_actsum_w2a2_2x16c8__neon", 10.5f},
    {"bitplane_w1a1_2x4c128__neon", 73.0f},  {"bitplane_w1a2_2x4c128__neon", 32.1f},
    {"bitplane_w2a1_2x4c128__neon", 36.6f},  {"bitplane_w2a2_2x4c128__neon", 16.0f},
    {"bitplane_w1a3_2x4c128__neon", 21.3f},  {"bitplane_w3a1_2x4c128__neon", 23.3f},
    {"bitplane_w1a4_2x4c128__neon", 16.0f},  {"bitplane_w4a1_2x4c128__neon", 17.1f},
    {"bitplane_w2a3_2x4c128__neon", 10.7f},  {"bitplane_w3a2_2x4c128__neon", 10.7f},
    {"bitplane_w2a4_2x4c128__neon", 8.0f},   {"bitplane_w4a2_2x4c128__neon", 8.0f},
    {"bitplane_w3a3_2x4c128__neon", 7.11f},  {"bitplane_w3a4_2x4c128__neon", 5.33f},
    {"bitplane_w4a3_2x4c128__neon", 5.33f},  {"bitplane_w4a4_2x4c128__neon", 4.0f},
    {"dot_w8a8_2x4c16__neon", 7.53f},        {"dot_w8a7_2x4c16__neon", 7.98f},
    {"dot_w7a8_2x4c16__neon", 7.98f},        {"dot_w7a7_2x4c32__neon", 8.01f},
    {"gemv_w4a8_1x4c32__neon", 7.01f},       {"gemv_w2a8_1x4c32__neon", 6.60f},
    {"gemv_w1a8_1x4c32__neon", 6.40f},
};

inline constexpr const auto& arm_apple_rates = arm_big_rates;
#else
inline constexpr kernel_rate arm_little_rates[] = {
    {"dot_w8a8_8x8c8__neoni8mm", 13.5f},        {"dot_w8a8_8x8c4__neondot", 12.8f},
    {"lut_actsum_w1a1_4x16c8__neon", 10.9f},    {"lut_actsum_w1a2_4x16c8__neon", 10.5f},
    {"lut_actsum_w2a1_4x16c8__neon", 7.98f},    {"lut_actsum_w2a2_4x16c8__neon", 7.61f},
    {"lut_actsum_w1a1_4x32c12__neon64", 11.6f}, {"lut_actsum_w1a2_4x32c12__neon64", 11.2f},
    {"lut_actsum_w2a1_4x32c12__neon64", 5.81f}, {"lut_actsum_w2a2_4x32c12__neon64", 5.42f},
    {"bitplane_w1a1_4x4c128__neon", 31.5f},     {"bitplane_w1a2_4x4c128__neon", 13.0f},
    {"bitplane_w2a1_4x4c128__neon", 14.6f},     {"bitplane_w2a2_4x4c128__neon", 5.32f},
    {"bitplane_w1a3_4x4c128__neon", 5.61f},     {"bitplane_w3a1_4x4c128__neon", 9.43f},
    {"bitplane_w1a4_4x4c128__neon", 5.16f},     {"bitplane_w4a1_4x4c128__neon", 7.16f},
    {"bitplane_w2a3_4x4c128__neon", 3.83f},     {"bitplane_w3a2_4x4c128__neon", 3.92f},
    {"bitplane_w2a4_4x4c128__neon", 2.41f},     {"bitplane_w4a2_4x4c128__neon", 2.45f},
    {"bitplane_w3a3_4x4c128__neon", 2.51f},     {"bitplane_w3a4_4x4c128__neon", 1.95f},
    {"bitplane_w4a3_4x4c128__neon", 1.98f},     {"bitplane_w4a4_4x4c128__neon", 1.52f},
    {"dot_w8a8_4x4c16__neon", 3.16f},           {"dot_w8a7_4x4c16__neon", 3.32f},
    {"dot_w7a8_4x4c16__neon", 3.32f},           {"dot_w7a7_4x4c32__neon", 3.85f},
    {"gemv_w4a8_1x8c32__neondot", 4.57f},       {"gemv_w2a8_1x8c32__neondot", 5.02f},
    {"gemv_w1a8_1x8c32__neondot", 4.83f},       {"gemv_w4a8_1x8c32__neon", 3.61f},
    {"gemv_w2a8_1x8c32__neon", 3.61f},          {"gemv_w1a8_1x8c32__neon", 3.46f},
    {"gemv_w4a8_8x8c32__neondot", 8.26f},       {"gemv_w2a8_8x8c32__neondot", 7.76f},
    {"gemv_w1a8_8x8c32__neondot", 7.59f},       {"gemv_w4a8_8x8c32__neon", 4.11f},
    {"gemv_w2a8_8x8c32__neon", 4.48f},          {"gemv_w1a8_8x8c32__neon", 4.49f},
};

inline constexpr kernel_rate arm_big_rates[] = {
    {"dot_w8a8_8x8c8__neoni8mm", 51.3f},
    {"dot_w8a8_8x8c4__neondot", 32.1f},
    {"lut_actsum_w1a1_4x16c8__neon", 29.7f},
    {"lut_actsum_w1a2_4x16c8__neon", 29.0f},
    {"lut_actsum_w2a1_4x16c8__neon", 14.8f},
    {"lut_actsum_w2a2_4x16c8__neon", 14.4f},
    {"lut_actsum_w1a1_4x32c12__neon64", 19.0f},
    {"lut_actsum_w1a2_4x32c12__neon64", 18.7f},
    {"lut_actsum_w2a1_4x32c12__neon64", 9.37f},
    {"lut_actsum_w2a2_4x32c12__neon64", 9.12f},
    {"bitplane_w1a1_4x4c128__neon", 85.5f},
    {"bitplane_w1a2_4x4c128__neon", 32.1f},
    {"bitplane_w2a1_4x4c128__neon", 36.6f},
    {"bitplane_w2a2_4x4c128__neon", 16.0f},
    {"bitplane_w1a3_4x4c128__neon", 20.9f},
    {"bitplane_w3a1_4x4c128__neon", 23.3f},
    {"bitplane_w1a4_4x4c128__neon", 16.0f},
    {"bitplane_w4a1_4x4c128__neon", 17.1f},
    {"bitplane_w2a3_4x4c128__neon", 10.5f},
    {"bitplane_w3a2_4x4c128__neon", 10.6f},
    {"bitplane_w2a4_4x4c128__neon", 8.0f},
    {"bitplane_w4a2_4x4c128__neon", 8.0f},
    {"bitplane_w3a3_4x4c128__neon", 7.11f},
    {"bitplane_w3a4_4x4c128__neon", 5.31f},
    {"bitplane_w4a3_4x4c128__neon", 5.26f},
    {"bitplane_w4a4_4x4c128__neon", 3.97f},
    {"dot_w8a8_4x4c16__neon", 8.0f},
    {"dot_w8a7_4x4c16__neon", 8.0f},
    {"dot_w7a8_4x4c16__neon", 8.0f},
    {"dot_w7a7_4x4c32__neon", 8.0f},
    {"gemv_w4a8_1x8c32__neondot", 16.0f},
    {"gemv_w2a8_1x8c32__neondot", 12.8f},
    {"gemv_w1a8_1x8c32__neondot", 11.6f},
    {"gemv_w4a8_1x8c32__neon", 8.0f},
    {"gemv_w2a8_1x8c32__neon", 8.0f},
    {"gemv_w1a8_1x8c32__neon", 8.0f},
    {"gemv_w4a8_8x8c32__neondot", 23.5f},
    {"gemv_w2a8_8x8c32__neondot", 21.3f},
    {"gemv_w1a8_8x8c32__neondot", 20.5f},
    {"gemv_w4a8_8x8c32__neon", 7.91f},
    {"gemv_w2a8_8x8c32__neon", 7.95f},
    {"gemv_w1a8_8x8c32__neon", 8.0f},
};

inline constexpr kernel_rate arm_apple_rates[] = {
    {"dot_w8a8_8x8c8__neoni8mm", 96.2f},
    {"dot_w8a8_8x8c4__neondot", 48.1f},
    {"lut_actsum_w1a1_4x16c8__neon", 83.1f},
    {"lut_actsum_w1a2_4x16c8__neon", 79.8f},
    {"lut_actsum_w2a1_4x16c8__neon", 41.1f},
    {"lut_actsum_w2a2_4x16c8__neon", 39.1f},
    {"lut_actsum_w1a1_4x32c12__neon64", 38.4f},
    {"lut_actsum_w1a2_4x32c12__neon64", 38.4f},
    {"lut_actsum_w2a1_4x32c12__neon64", 19.2f},
    {"lut_actsum_w2a2_4x32c12__neon64", 19.2f},
    {"bitplane_w1a1_4x4c128__neon", 128.0f},
    {"bitplane_w1a2_4x4c128__neon", 48.1f},
    {"bitplane_w2a1_4x4c128__neon", 54.9f},
    {"bitplane_w2a2_4x4c128__neon", 24.0f},
    {"bitplane_w1a3_4x4c128__neon", 32.1f},
    {"bitplane_w3a1_4x4c128__neon", 35.0f},
    {"bitplane_w1a4_4x4c128__neon", 24.0f},
    {"bitplane_w4a1_4x4c128__neon", 25.6f},
    {"bitplane_w2a3_4x4c128__neon", 15.8f},
    {"bitplane_w3a2_4x4c128__neon", 15.8f},
    {"bitplane_w2a4_4x4c128__neon", 12.0f},
    {"bitplane_w4a2_4x4c128__neon", 12.0f},
    {"bitplane_w3a3_4x4c128__neon", 10.7f},
    {"bitplane_w3a4_4x4c128__neon", 7.97f},
    {"bitplane_w4a3_4x4c128__neon", 7.89f},
    {"bitplane_w4a4_4x4c128__neon", 5.95f},
    {"dot_w8a8_4x4c16__neon", 8.0f},
    {"dot_w8a7_4x4c16__neon", 10.7f},
    {"dot_w7a8_4x4c16__neon", 10.7f},
    {"dot_w7a7_4x4c32__neon", 12.8f},
    {"gemv_w4a8_1x8c32__neondot", 24.0f},
    {"gemv_w2a8_1x8c32__neondot", 19.2f},
    {"gemv_w1a8_1x8c32__neondot", 17.5f},
    {"gemv_w4a8_1x8c32__neon", 15.0f},
    {"gemv_w2a8_1x8c32__neon", 13.7f},
    {"gemv_w1a8_1x8c32__neon", 12.8f},
    {"gemv_w4a8_8x8c32__neondot", 35.3f},
    {"gemv_w2a8_8x8c32__neondot", 32.1f},
    {"gemv_w1a8_8x8c32__neondot", 30.7f},
    {"gemv_w4a8_8x8c32__neon", 14.8f},
    {"gemv_w2a8_8x8c32__neon", 15.6f},
    {"gemv_w1a8_8x8c32__neon", 16.0f},
};
#endif

// Intel Ice Lake server (family 6, model 0x6A), measured 2026-12-07 on a 2-vCPU KVM guest at about
// 3.4 GHz, g++ 12, one pinned core, the machine otherwise idle: bench_dot_x86, bench_bitplane_x86
// and bench_gemv_x86 at N = 256, K = 2048, bench_lut_x86 as the median over N = 64, 256, 1024 at
// K = 512, medians of 3 repetitions (docs/performance.md).
inline constexpr kernel_rate icelake_rates[] = {
    {"bitplane_tl_w2a2_4x32c64__avx512icl", 103.0f},
    {"bitplane_tl_w2sa2_4x32c64__avx512icl", 99.5f},
    {"bitplane_w1a1_4x8c64__avx2", 86.6f},
    {"bitplane_w1a1_6x32c64__avx512icl", 320.0f},
    {"bitplane_w1a2_4x8c64__avx2", 42.3f},
    {"bitplane_w1a2_6x32c64__avx512icl", 161.0f},
    {"bitplane_w1a3_4x8c64__avx2", 28.9f},
    {"bitplane_w1a3_6x32c64__avx512icl", 97.6f},
    {"bitplane_w1a4_4x8c64__avx2", 21.5f},
    {"bitplane_w1a4_6x32c64__avx512icl", 75.9f},
    {"bitplane_w2a1_4x8c64__avx2", 42.6f},
    {"bitplane_w2a1_6x32c64__avx512icl", 157.0f},
    {"bitplane_w2a2_4x8c64__avx2", 20.5f},
    {"bitplane_w2a2_6x32c64__avx512icl", 81.2f},
    {"bitplane_w2a3_4x8c64__avx2", 14.2f},
    {"bitplane_w2a3_6x32c64__avx512icl", 53.4f},
    {"bitplane_w2a4_4x8c64__avx2", 10.9f},
    {"bitplane_w2a4_6x32c64__avx512icl", 39.7f},
    {"bitplane_w2sa1_6x32c64__avx512icl", 160.0f},
    {"bitplane_w2sa2_6x32c64__avx512icl", 79.9f},
    {"bitplane_w2sa3_6x32c64__avx512icl", 54.3f},
    {"bitplane_w2sa4_6x32c64__avx512icl", 40.9f},
    {"bitplane_w3a1_4x8c64__avx2", 28.9f},
    {"bitplane_w3a1_6x32c64__avx512icl", 105.0f},
    {"bitplane_w3a2_4x8c64__avx2", 13.9f},
    {"bitplane_w3a2_6x32c64__avx512icl", 51.1f},
    {"bitplane_w3a3_4x8c64__avx2", 9.47f},
    {"bitplane_w3a3_6x32c64__avx512icl", 33.9f},
    {"bitplane_w3a4_4x8c64__avx2", 7.31f},
    {"bitplane_w3a4_6x32c64__avx512icl", 27.3f},
    {"bitplane_w3sa1_6x32c64__avx512icl", 108.0f},
    {"bitplane_w3sa2_6x32c64__avx512icl", 54.1f},
    {"bitplane_w3sa3_6x32c64__avx512icl", 36.3f},
    {"bitplane_w3sa4_6x32c64__avx512icl", 27.4f},
    {"bitplane_w4a1_4x8c64__avx2", 21.8f},
    {"bitplane_w4a1_6x32c64__avx512icl", 79.6f},
    {"bitplane_w4a2_4x8c64__avx2", 10.9f},
    {"bitplane_w4a2_6x32c64__avx512icl", 40.3f},
    {"bitplane_w4a3_4x8c64__avx2", 7.24f},
    {"bitplane_w4a3_6x32c64__avx512icl", 27.2f},
    {"bitplane_w4a4_4x8c64__avx2", 5.12f},
    {"bitplane_w4a4_6x32c64__avx512icl", 20.2f},
    {"bitplane_w4sa1_6x32c64__avx512icl", 80.2f},
    {"bitplane_w4sa2_6x32c64__avx512icl", 40.4f},
    {"bitplane_w4sa3_6x32c64__avx512icl", 26.9f},
    {"bitplane_w4sa4_6x32c64__avx512icl", 19.2f},
    {"dot_w2a8_4x16c4__avx2", 32.3f},
    {"dot_w2a8_4x8c4__sse4", 11.8f},
    {"dot_w2a8_8x32c4__avx512", 43.9f},
    {"dot_w4a4_4x16c4__avx2", 31.7f},
    {"dot_w4a4_4x8c4__sse4", 13.4f},
    {"dot_w4a4_8x32c4__avx512", 45.4f},
    {"dot_w7a8_4x16c4__avx2", 23.9f},
    {"dot_w7a8_4x8c4__sse4", 11.3f},
    {"dot_w7a8_8x32c4__avx512", 31.2f},
    {"dot_w8a2_4x16c4__avx2", 30.7f},
    {"dot_w8a2_4x8c4__sse4", 13.6f},
    {"dot_w8a2_8x32c4__avx512", 45.0f},
    {"dot_w8a4_4x16c4__avx2", 28.8f},
    {"dot_w8a4_4x8c4__sse4", 13.1f},
    {"dot_w8a4_8x32c4__avx512", 40.7f},
    {"dot_w8a7_4x16c4__avx2", 24.4f},
    {"dot_w8a7_4x8c4__sse4", 11.7f},
    {"dot_w8a7_8x32c4__avx512", 31.9f},
    {"dot_w8a8_4x16c2__avx2", 15.1f},
    {"dot_w8a8_4x8c2__sse4", 7.0f},
    {"dot_w8a8_7x32c4__avx512vnni", 80.6f},
    {"dot_w8a8_8x32c2__avx512", 24.1f},
    {"dot_w8a8_8x32c4__avx512vnni", 76.9f},
    {"gemv_bitplane_w1a1_1x64c64__avx512icl", 220.0f},
    {"gemv_bitplane_w1a2_1x64c64__avx512icl", 155.0f},
    {"gemv_bitplane_w2a1_1x64c64__avx512icl", 102.0f},
    {"gemv_bitplane_w2a2_1x64c64__avx512icl", 78.2f},
    {"gemv_w1a8_1x64c16__avx512vnni", 51.9f},
    {"gemv_w1a8_8x32c16__avx512vnni", 64.3f},
    {"gemv_w2a8_1x64c8__avx512vnni", 38.6f},
    {"gemv_w2a8_8x32c8__avx512vnni", 68.6f},
    {"gemv_w4a8_1x64c8__avx512vnni", 36.8f},
    {"gemv_w4a8_8x32c4__avx512vnni", 63.7f},
    {"lut_actsum_w1a1_4x32c4__sse41", 57.6f},
    {"lut_actsum_w1a1_4x64c4__avx2", 109.0f},
    {"lut_actsum_w1a1_8x64c4__avx512bw", 160.0f},
    {"lut_actsum_w1a1_8x64c6__avx512vbmi", 240.0f},
    {"lut_actsum_w1a2_4x32c4__sse41", 60.2f},
    {"lut_actsum_w1a2_4x64c4__avx2", 88.2f},
    {"lut_actsum_w1a2_8x64c4__avx512bw", 158.0f},
    {"lut_actsum_w1a2_8x64c6__avx512vbmi", 125.0f},
    {"lut_actsum_w2a1_4x32c2__sse41", 31.2f},
    {"lut_actsum_w2a1_4x64c2__avx2", 47.0f},
    {"lut_actsum_w2a1_8x64c2__avx512bw", 79.6f},
    {"lut_actsum_w2a1_8x64c3__avx512vbmi", 129.0f},
    {"lut_actsum_w2a2_4x32c2__sse41", 27.6f},
    {"lut_actsum_w2a2_4x64c2__avx2", 52.2f},
    {"lut_actsum_w2a2_8x64c2__avx512bw", 81.3f},
    {"lut_actsum_w2a2_8x64c3__avx512vbmi", 129.0f},
    {"lut_actsum_w2a3_8x64c3__avx512vbmi", 68.0f},
    {"lut_actsum_w2a4_8x64c3__avx512vbmi", 65.6f},
    {"lut_actsum_w2sa1_8x64c3__avx512vbmi", 116.0f},
    {"lut_actsum_w2sa2_8x64c3__avx512vbmi", 105.0f},
    {"lut_actsum_w3a2_8x64c2__avx512vbmi", 81.9f},
    {"lut_actsum_w3a3_8x64c2__avx512vbmi", 53.6f},
    {"lut_actsum_w3a4_8x64c2__avx512vbmi", 45.6f},
    {"lut_actsum_w3sa2_8x64c2__avx512vbmi", 49.6f},
    {"lut_actsum_w3sa3_8x64c2__avx512vbmi", 54.6f},
    {"lut_actsum_w3sa4_8x64c2__avx512vbmi", 49.5f},
    {"lut_actsum_w4a2_8x32c3__avx512vbmi", 63.1f},
    {"lut_actsum_w4a3_8x32c3__avx512vbmi", 32.0f},
    {"lut_actsum_w4a4_8x32c3__avx512vbmi", 34.1f},
    {"lut_product_w1a3_2x4c16__sse41", 9.39f},
    {"lut_product_w1a3_2x4c32__avx2", 18.4f},
    {"lut_product_w1a3_4x4c64__avx512bw", 33.5f},
    {"lut_product_w2a2_2x4c16__sse41", 10.0f},
    {"lut_product_w2a2_2x4c32__avx2", 22.0f},
    {"lut_product_w2a2_4x4c64__avx512bw", 32.8f},
    {"lut_product_w2a4_4x4c64__avx512vbmi", 30.8f},
    {"lut_product_w3a1_2x4c16__sse41", 11.6f},
    {"lut_product_w3a1_2x4c32__avx2", 19.4f},
    {"lut_product_w3a1_4x4c64__avx512bw", 30.4f},
    {"lut_product_w3a3_4x4c64__avx512vbmi", 29.3f},
    {"lut_product_w3a4_4x4c64__avx512vbmi", 17.9f},
    {"lut_product_w4a2_4x4c64__avx512vbmi", 31.1f},
    {"lut_product_w4a3_4x4c64__avx512vbmi", 18.2f},
};

// The driver's blocking on a core (driver/driver.hpp make_plan, run_tasks and the block runner),
// in one place so a core whose caches differ can override it in profile_of. Every profile uses
// these defaults, sized for the reference core's caches (about 2 MiB of L2 a core). KC is not
// here: it is each kernel's accumulator bound (ukernel_desc::kc_max); NC is all of N.
struct block_sizes {
  // MC: an A block (u-code scratch plus twice its packed panels) fits in this many bytes, about
  // half of L2, and holds at most mc_max rows.
  std::size_t a_block_bytes = std::size_t{1024} << 10;
  std::size_t mc_max = 1024;
  // A kernel that prefers A outer runs that loop order while a task's weight panels fit in this
  // many bytes (a quarter of L2); larger weights make the thread rule split N rather than add M
  // blocks that would stream them again.
  std::size_t a_outer_max_weight_bytes = std::size_t{512} << 10;
  // Threads: M blocks are never shorter than min_block_tiles MR-row tiles; with fewer than
  // min_thread_tiles tiles a thread, N is split too, into tasks_per_thread tasks a thread.
  std::size_t min_block_tiles = 4;
  std::size_t min_thread_tiles = 16;
  std::size_t tasks_per_thread = 2;
};
// The defaults by name (tests compare plans against them).
constexpr block_sizes default_block_sizes{};
constexpr std::size_t min_block_tiles = default_block_sizes.min_block_tiles;
constexpr std::size_t a_outer_max_weight_bytes = default_block_sizes.a_outer_max_weight_bytes;

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
  // Arm profiles: kernels not listed (the scalar kernel, a NEON kernel added without a figure)
  // run at the declared rate times this, so they keep their declared standing against the
  // NEON kernels; 1 elsewhere.
  float arm_unlisted_scale = 1.0f;
  // Bytes of weights per cycle one core streams when a small-M call is memory-bound (the
  // reference core: about 34 GB/s from L3 at 3.4 GHz).
  float weight_bytes_per_cycle = 10.0f;
  // The driver's block sizes on this core.
  block_sizes blocks = default_block_sizes;

  // The rate dispatch expects of kernel d on this core.
  float rate(const kernels::ukernel_desc& d) const noexcept {
    for (std::size_t i = 0; i < rate_count; ++i)
      if (std::strcmp(rates[i].kernel, d.name) == 0) return rates[i].macs_per_cycle;
    if (is_bitplane512(d)) return d.macs_per_cycle * popcount512_scale;
    return d.macs_per_cycle * arm_unlisted_scale;
  }
  // The A packer's cost per code dispatch expects of kernel d on this core.
  float pack_cycles(const kernels::ukernel_desc& d) const noexcept {
    return bitplane512_pack > 0.0f && is_bitplane512(d) ? bitplane512_pack : d.a_pack_cycles;
  }
  static bool is_bitplane512(const kernels::ukernel_desc& d) noexcept {
    return d.algo == algorithm::bitplane && (d.features & bit(cpu_feature::avx512vpopcntdq)) != 0;
  }
};

// Equal strings. A loop, not strcmp: GCC 12 at -O3 folds strcmp against the inlined profile
// names and warns (-Wstring-compare) where a caller passes one of known length.
inline bool same_name(const char* a, const char* b) noexcept {
  while (*a != '\0' && *a == *b) ++a, ++b;
  return *a == *b;
}

// A profile's measured rates: the table and its length.
template <std::size_t N>
void use_rates(core_profile& p, const kernel_rate (&rates)[N]) noexcept {
  p.rates = rates;
  p.rate_count = N;
}

inline core_profile profile_of(core_kind k) noexcept {
  core_profile p;
  p.kind = k;
  switch (k) {
    case core_kind::amd_zen4:
      p.name = "zen4";
      use_rates(p, zen4_rates);
      break;
    case core_kind::amd_zen5:
      p.name = "zen5";
      p.popcount512_scale = 2.0f;
      // Fitted to whole calls (w1a1 and w2a2 at 3136x64x576, checked on 784x128x1152) after the
      // packer took over validation and row sums (docs/performance.md).
      p.bitplane512_pack = 0.10f;
      break;
    case core_kind::intel_icelake:
      p.name = "icelake";
      use_rates(p, icelake_rates);
      // The int8 tile kernel streamed byte panels at about 2.7 bytes a cycle at M = 8, N = K =
      // 4096 (the bit-dense GEMV kernels did better), so byte panels stop paying at small M.
      p.weight_bytes_per_cycle = 3.0f;
      break;
    case core_kind::arm_little:
      p.name = "little";
      use_rates(p, arm_little_rates);
      break;
    case core_kind::arm_big:
      p.name = "big";
      use_rates(p, arm_big_rates);
      break;
    case core_kind::apple:
      p.name = "apple";
      use_rates(p, arm_apple_rates);
      break;
    case core_kind::reference:
      use_rates(p, reference_rates);
      break;
  }
  if (p.kind == core_kind::arm_little || p.kind == core_kind::arm_big ||
      p.kind == core_kind::apple) {
    for (std::size_t i = 0; i < p.rate_count; ++i)
      if (same_name(p.rates[i].kernel, arm_lut16_w2a2))
        p.arm_unlisted_scale = p.rates[i].macs_per_cycle / arm_lut16_w2a2_declared;
  }
  return p;
}

inline bool parse_core(const char* s, core_kind& out) noexcept {
  for (core_kind k :
       {core_kind::reference, core_kind::amd_zen4, core_kind::amd_zen5, core_kind::intel_icelake,
        core_kind::arm_little, core_kind::arm_big, core_kind::apple})
    if (same_name(s, profile_of(k).name)) {
      out = k;
      return true;
    }
  return false;
}

// Arm: the profile class of a MIDR_EL1 value (implementer in bits 31:24, part number in bits
// 15:4). Arm Ltd (0x41) parts by class; every Apple (0x61) part is apple; anything else, or an
// Arm part not listed (older or newer than these tables), is the reference.
constexpr core_kind arm_core_from_midr(std::uint32_t midr) noexcept {
  const std::uint32_t implementer = midr >> 24, part = (midr >> 4) & 0xFFFu;
  if (implementer == 0x61u) return core_kind::apple;
  if (implementer != 0x41u) return core_kind::reference;
  switch (part) {
    case 0xd03u:  // Cortex-A53
    case 0xd05u:  // Cortex-A55
    case 0xd46u:  // Cortex-A510
      return core_kind::arm_little;
    case 0xd07u:  // Cortex-A57
    case 0xd08u:  // Cortex-A72
    case 0xd09u:  // Cortex-A73
    case 0xd0au:  // Cortex-A75
    case 0xd0bu:  // Cortex-A76
    case 0xd0cu:  // Neoverse N1
    case 0xd0du:  // Cortex-A77
    case 0xd40u:  // Neoverse V1
    case 0xd41u:  // Cortex-A78
    case 0xd44u:  // Cortex-X1
    case 0xd47u:  // Cortex-A710
    case 0xd48u:  // Cortex-X2
    case 0xd49u:  // Neoverse N2
    case 0xd4du:  // Cortex-A715
      return core_kind::arm_big;
    default:
      return core_kind::reference;
  }
}

// Linux's /sys/devices/system/cpu/cpuN/regs/identification/midr_el1: one hexadecimal number
// ("0x00000000410fd034"). False when the text holds none.
inline bool parse_midr_sysfs(const char* text, std::uint32_t& midr) noexcept {
  char* end = nullptr;
  const unsigned long long v = std::strtoull(text, &end, 16);
  if (end == text) return false;
  midr = static_cast<std::uint32_t>(v);
  return true;
}

// /proc/cpuinfo: the first "CPU implementer" and "CPU part" lines (the first processor's, on
// AArch64 and Armv7 Linux alike) as a MIDR with only those two fields set. False when either
// line is missing (an x86 host's cpuinfo, as qemu-user shows it).
inline bool parse_midr_cpuinfo(const char* text, std::uint32_t& midr) noexcept {
  const auto field = [text](const char* key, unsigned long& out) {
    const char* line = std::strstr(text, key);
    if (line == nullptr) return false;
    const char* colon = std::strchr(line, ':');
    const char* eol = std::strchr(line, '\n');
    if (colon == nullptr || (eol != nullptr && colon > eol)) return false;
    char* end = nullptr;
    out = std::strtoul(colon + 1, &end, 0);
    return end != colon + 1;
  };
  unsigned long implementer = 0, part = 0;
  if (!field("CPU implementer", implementer) || !field("CPU part", part)) return false;
  midr = static_cast<std::uint32_t>(((implementer & 0xFFu) << 24) | ((part & 0xFFFu) << 4));
  return true;
}

#if (defined(__aarch64__) || defined(__arm__)) && defined(__linux__)
// Up to size - 1 bytes of a file, NUL-terminated; false when it cannot be read.
inline bool read_text_file(const char* path, char* buf, std::size_t size) noexcept {
  std::FILE* f = std::fopen(path, "r");
  if (f == nullptr) return false;
  const std::size_t n = std::fread(buf, 1, size - 1, f);
  std::fclose(f);
  buf[n] = '\0';
  return n != 0;
}
#endif

// cpu0's MIDR: from cpuinfo when the build has it, else Linux's sysfs register file, else
// /proc/cpuinfo. False when none is available (another OS, qemu-user on an x86 host).
inline bool read_midr(std::uint32_t& midr) noexcept {
#if defined(LOWBIT_HAVE_CPUINFO) && (defined(__aarch64__) || defined(__arm__))
  if (cpuinfo_initialize() && cpuinfo_get_cores_count() != 0 && cpuinfo_get_core(0) != nullptr &&
      cpuinfo_get_core(0)->midr != 0) {
    midr = cpuinfo_get_core(0)->midr;
    return true;
  }
#endif
#if (defined(__aarch64__) || defined(__arm__)) && defined(__linux__)
  char buf[8192];
  if (read_text_file("/sys/devices/system/cpu/cpu0/regs/identification/midr_el1", buf,
                     sizeof(buf)) &&
      parse_midr_sysfs(buf, midr))
    return true;
  if (read_text_file("/proc/cpuinfo", buf, sizeof(buf)) && parse_midr_cpuinfo(buf, midr))
    return true;
#endif
  (void)midr;
  return false;
}

// Intel family 6 models of the Ice Lake server core (Sunny Cove: Xeon Scalable 3rd generation
// 0x6A, Xeon D 0x6C). Client Ice Lake, Tiger Lake and Rocket Lake share the core but were not
// measured, so they keep the reference rates.
constexpr bool intel_icelake_server_model(unsigned model) noexcept {
  return model == 0x6Au || model == 0x6Cu;
}

// The core kind from CPUID: AMD family 0x19 with AVX-512 is Zen 4 (Zen 3 has none), 0x1A and
// later Zen 5; Intel family 6 model 0x6A or 0x6C is Ice Lake server. Static dispatch
// (LOWBIT_STATIC_DISPATCH) takes it from -march instead (x86 only: an Arm static build uses the
// reference rates unless LOWBIT_CORE names a profile). On Arm, the class of cpu0's MIDR
// (read_midr): on big.LITTLE systems cpu0 is usually a little core.
inline core_kind detect_core() noexcept {
#if defined(LOWBIT_STATIC_DISPATCH)
#if defined(__znver5__)
  return core_kind::amd_zen5;
#elif defined(__znver4__)
  return core_kind::amd_zen4;
#elif defined(__icelake_server__)
  return core_kind::intel_icelake;
#endif
#elif (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__)
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  __asm__ volatile("cpuid" : "=a"(eax), "=b"(ebx), "=c"(ecx), "=d"(edx) : "a"(0u), "c"(0u));
  const bool amd = ebx == 0x68747541u && edx == 0x69746e65u && ecx == 0x444d4163u;
  const bool intel = ebx == 0x756e6547u && edx == 0x49656e69u && ecx == 0x6c65746eu;
  if ((!amd && !intel) || eax < 1) return core_kind::reference;
  __asm__ volatile("cpuid" : "=a"(eax), "=b"(ebx), "=c"(ecx), "=d"(edx) : "a"(1u), "c"(0u));
  const unsigned family = ((eax >> 8) & 0xFu) + ((eax >> 20) & 0xFFu);
  if (intel) {
    const unsigned model = ((eax >> 4) & 0xFu) | ((eax >> 12) & 0xF0u);
    return family == 6u && intel_icelake_server_model(model) ? core_kind::intel_icelake
                                                             : core_kind::reference;
  }
  if (family >= 0x1Au) return core_kind::amd_zen5;
  if (family == 0x19u && (host_features() & bit(cpu_feature::avx512f)) != 0)
    return core_kind::amd_zen4;
#elif defined(__APPLE__) && defined(__aarch64__)
  return core_kind::apple;  // every arm64 Apple OS runs on Apple's own cores
#elif defined(__aarch64__) || defined(__arm__)
  std::uint32_t midr = 0;
  if (read_midr(midr)) return arm_core_from_midr(midr);
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
