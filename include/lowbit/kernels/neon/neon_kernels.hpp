// lowbit: every Arm NEON kernel family, for the registry and the tests (one include line).
//
// Baseline NEON families build on Armv7-A (with -mfpu=neon) and AArch64 (the 64-entry lookup
// tables, lut_neon_tbl4.hpp, on AArch64 only: Armv7 has no 4-register TBL); the dotprod and i8mm
// families are AArch64 only and compiled per function (armv8.2-a+dotprod, armv8.2-a+i8mm), so a
// baseline build runs on any Armv8.0 core and still uses UDOT / UMMLA where the CPU reports them.
#pragma once

// Only where NEON is the build's baseline (the registry's condition); elsewhere this is empty.
#if defined(__aarch64__) || (defined(__arm__) && (defined(__ARM_NEON) || defined(__ARM_NEON__)))
#include "lowbit/kernels/neon/bitplane_neon.hpp"
#include "lowbit/kernels/neon/dot_neon.hpp"
#include "lowbit/kernels/neon/dot_neondot.hpp"
#include "lowbit/kernels/neon/dot_neoni8mm.hpp"
#include "lowbit/kernels/neon/gemv_neon.hpp"
#include "lowbit/kernels/neon/gemv_unpack_neon.hpp"  // not kernels: dense_families
#include "lowbit/kernels/neon/lut_neon.hpp"
#include "lowbit/kernels/neon/lut_neon_tbl4.hpp"

// The families' lists in the order dispatch prefers on a tie (ISA extensions first), for the
// registry's table of families (dispatch/registry.hpp).
#if defined(__aarch64__)
#define LOWBIT_NEON_FAMILIES                                                  \
  kernels::neon::i8mm_ukernels(), kernels::neon::dotprod_ukernels(),          \
      kernels::neon::gemv_dotprod_ukernels(), kernels::neon::lut_ukernels(),  \
      kernels::neon::lut_tbl4_ukernels(), kernels::neon::bitplane_ukernels(), \
      kernels::neon::gemv_ukernels(), kernels::neon::dot_ukernels()
#else
#define LOWBIT_NEON_FAMILIES                                         \
  kernels::neon::lut_ukernels(), kernels::neon::bitplane_ukernels(), \
      kernels::neon::gemv_ukernels(), kernels::neon::dot_ukernels()
#endif
#endif
