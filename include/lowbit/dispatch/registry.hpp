// lowbit: every microkernel compiled into this build, by family and ISA.
//
// Header-only: a family is compiled in when its header is included here. x86 families are plain
// C++ functions with target attributes, so one translation unit built for the x86-64 baseline
// holds them all and dispatch chooses at run time; Arm families follow the same pattern.
#pragma once

#include <cstddef>

#include "lowbit/config.hpp"
#include "lowbit/kernels/ukernel.hpp"

#if defined(LOWBIT_DECLARATIONS_ONLY)
// Compile-once mode (config.hpp): the list lives in the implementation TU with the kernels; other
// TUs see its declaration, so iterating the registry (select.hpp) costs them no kernel code.
namespace lowbit {
namespace detail {
const kernels::ukernel_list* ukernel_families(std::size_t& count) noexcept;
}  // namespace detail
}  // namespace lowbit
#else
#include "lowbit/kernels/scalar/udot_scalar.hpp"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__)) && !defined(LOWBIT_PORTABLE)
#define LOWBIT_X86_KERNELS 1
// x86 families (one line each): lookup table, bitplane, int8 dot.
#include "lowbit/kernels/bitplane/bitplane_x86.hpp"
#include "lowbit/kernels/dot/dot_x86.hpp"
#include "lowbit/kernels/gemv/gemv_x86.hpp"
#include "lowbit/kernels/lut/lut_x86.hpp"
#endif

#if (defined(__aarch64__) ||                                                  \
     (defined(__arm__) && (defined(__ARM_NEON) || defined(__ARM_NEON__)))) && \
    !defined(LOWBIT_PORTABLE)
#define LOWBIT_ARM_KERNELS 1
// Arm families (one line each).
#include "lowbit/kernels/neon/neon_kernels.hpp"
#endif

namespace lowbit {
namespace detail {

// Every family's list, in the order dispatch prefers on a tie.
LOWBIT_API const kernels::ukernel_list* ukernel_families(std::size_t& count) noexcept {
  static const kernels::ukernel_list families[] = {
#if defined(LOWBIT_X86_KERNELS)
    // x86 family lists (one line each).
    kernels::lut::x86_ukernels(),
    kernels::bitplane::x86_ukernels(),
    kernels::dot::x86_ukernels(),
    kernels::gemv::x86_ukernels(),
#endif
#if defined(LOWBIT_ARM_KERNELS)
    // Arm family lists (kernels/neon/neon_kernels.hpp).
    LOWBIT_NEON_FAMILIES,
#endif
    kernels::scalar::ukernels(),
  };
  count = sizeof(families) / sizeof(families[0]);
  return families;
}

}  // namespace detail
}  // namespace lowbit
#endif  // LOWBIT_DECLARATIONS_ONLY
