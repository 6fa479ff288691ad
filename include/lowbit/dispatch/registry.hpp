// lowbit: every microkernel compiled into this build, by family and ISA.
//
// Header-only: a family is compiled in when its header is included here. x86 families are plain
// C++ functions with target attributes, so one translation unit built for the x86-64 baseline
// holds them all and dispatch chooses at run time; Arm families follow the same pattern.
//
// Compile-once mode (config.hpp) may split the implementation over several TUs built in
// parallel (LOWBIT_IMPLEMENTATION_PART, lowbit/implementation.hpp): part 0 holds the registry
// and every family but the x86 ones, part N (1..4) the x86 family N alone, whose list part 0
// reaches through kernel_part<N>().
#pragma once

#include <cstddef>

#include "lowbit/config.hpp"
#include "lowbit/kernels/ukernel.hpp"

// Which kernel families this build has, the same in every mode.
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__)) && !defined(LOWBIT_PORTABLE)
#define LOWBIT_X86_KERNELS 1
#endif
#if (defined(__aarch64__) ||                                                  \
     (defined(__arm__) && (defined(__ARM_NEON) || defined(__ARM_NEON__)))) && \
    !defined(LOWBIT_PORTABLE)
#define LOWBIT_ARM_KERNELS 1
#endif

namespace lowbit {
namespace detail {
// The list of x86 kernel family Part (1..4), defined by implementation part Part.
template <int Part>
kernels::ukernel_list kernel_part() noexcept;
template <>
kernels::ukernel_list kernel_part<1>() noexcept;  // x86 lookup tables
template <>
kernels::ukernel_list kernel_part<2>() noexcept;  // x86 bitplane
template <>
kernels::ukernel_list kernel_part<3>() noexcept;  // x86 int8 dot
template <>
kernels::ukernel_list kernel_part<4>() noexcept;  // x86 GEMV
}  // namespace detail
}  // namespace lowbit

#if defined(LOWBIT_DECLARATIONS_ONLY)
// Compile-once mode (config.hpp): the list lives in the implementation TU with the kernels; other
// TUs see its declaration, so iterating the registry (select.hpp) costs them no kernel code.
namespace lowbit {
namespace detail {
const kernels::ukernel_list* ukernel_families(std::size_t& count) noexcept;
}  // namespace detail
}  // namespace lowbit
#elif defined(LOWBIT_IMPLEMENTATION_PART) && LOWBIT_IMPLEMENTATION_PART != 0
// One x86 family of a split implementation: its list, defined out of line for part 0.
#if defined(LOWBIT_X86_KERNELS)
#if LOWBIT_IMPLEMENTATION_PART == 1
#include "lowbit/kernels/lut/lut_x86.hpp"
#define LOWBIT_PART_LIST kernels::lut::x86_ukernels()
#elif LOWBIT_IMPLEMENTATION_PART == 2
#include "lowbit/kernels/bitplane/bitplane_x86.hpp"
#define LOWBIT_PART_LIST kernels::bitplane::x86_ukernels()
#elif LOWBIT_IMPLEMENTATION_PART == 3
#include "lowbit/kernels/dot/dot_x86.hpp"
#define LOWBIT_PART_LIST kernels::dot::x86_ukernels()
#elif LOWBIT_IMPLEMENTATION_PART == 4
#include "lowbit/kernels/gemv/gemv_x86.hpp"
#define LOWBIT_PART_LIST kernels::gemv::x86_ukernels()
#else
#error "LOWBIT_IMPLEMENTATION_PART: expected 0, 1, 2, 3 or 4"
#endif
namespace lowbit {
namespace detail {
template <>
kernels::ukernel_list kernel_part<LOWBIT_IMPLEMENTATION_PART>() noexcept {
  return LOWBIT_PART_LIST;
}
}  // namespace detail
}  // namespace lowbit
#undef LOWBIT_PART_LIST
#endif  // LOWBIT_X86_KERNELS
#else
#include "lowbit/kernels/scalar/udot_scalar.hpp"

#if defined(LOWBIT_IMPLEMENTATION_PART)
// Part 0 of a split implementation: the x86 families are parts 1..4.
#define LOWBIT_X86_FAMILY(part, list) kernel_part<part>()
#else
#define LOWBIT_X86_FAMILY(part, list) list
#if defined(LOWBIT_X86_KERNELS)
// x86 families (one line each, and one line below): lookup table, bitplane, int8 dot, GEMV.
#include "lowbit/kernels/bitplane/bitplane_x86.hpp"
#include "lowbit/kernels/dot/dot_x86.hpp"
#include "lowbit/kernels/gemv/gemv_x86.hpp"
#include "lowbit/kernels/lut/lut_x86.hpp"
#endif
#endif

#if defined(LOWBIT_ARM_KERNELS)
// Arm families (one line each).
#include "lowbit/kernels/neon/neon_kernels.hpp"
#endif

namespace lowbit {
namespace detail {

// Every family's list, in the order dispatch prefers on a tie.
LOWBIT_API const kernels::ukernel_list* ukernel_families(std::size_t& count) noexcept {
  static const kernels::ukernel_list families[] = {
#if defined(LOWBIT_X86_KERNELS)
    // x86 family lists (one line each; the number is the family's implementation part).
    LOWBIT_X86_FAMILY(1, kernels::lut::x86_ukernels()),
    LOWBIT_X86_FAMILY(2, kernels::bitplane::x86_ukernels()),
    LOWBIT_X86_FAMILY(3, kernels::dot::x86_ukernels()),
    LOWBIT_X86_FAMILY(4, kernels::gemv::x86_ukernels()),
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
#undef LOWBIT_X86_FAMILY
#endif  // LOWBIT_DECLARATIONS_ONLY
