// lowbit: every Arm NEON kernel family, for the registry and the tests (one include line).
//
// Baseline NEON families build on Armv7-A (with -mfpu=neon) and AArch64 (the 64-entry lookup
// tables, lut_neon_tbl4.hpp, on AArch64 only: Armv7 has no 4-register TBL); the dotprod and i8mm
// families are AArch64 only and compiled per function (armv8.2-a+dotprod, armv8.2-a+i8mm), so a
// baseline build runs on any Armv8.0 core and still uses UDOT / UMMLA where the CPU reports them.
#pragma once

#include "lowbit/kernels/neon/bitplane_neon.hpp"
#include "lowbit/kernels/neon/dot_neon.hpp"
#include "lowbit/kernels/neon/dot_neondot.hpp"
#include "lowbit/kernels/neon/dot_neoni8mm.hpp"
#include "lowbit/kernels/neon/lut_neon.hpp"
#include "lowbit/kernels/neon/lut_neon_tbl4.hpp"

#include <cstddef>

#include "lowbit/kernels/ukernel.hpp"

namespace lowbit {
namespace kernels {
namespace neon {

// Every family's list in one, in the order dispatch prefers on a tie (ISA extensions first).
inline ukernel_list ukernels() noexcept {
  struct table {
    ukernel_desc d[64];
    std::size_t n;
  };
  static const table all = [] {
    table t{};
    const ukernel_list families[] = {
#if defined(__aarch64__)
      i8mm_ukernels(),
      dotprod_ukernels(),
#endif
      lut_ukernels(),
#if defined(__aarch64__)
      lut_tbl4_ukernels(),
#endif
      bitplane_ukernels(),
      dot_ukernels(),
    };
    for (const ukernel_list& l : families)
      for (const ukernel_desc& d : l)
        if (t.n < sizeof(t.d) / sizeof(t.d[0])) t.d[t.n++] = d;
    return t;
  }();
  return {all.d, all.n};
}

}  // namespace neon
}  // namespace kernels
}  // namespace lowbit
