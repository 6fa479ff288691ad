// lowbit internal: quantize() and dequantize() (quantize.hpp) on vectors, chosen at run time.
//
// One body (quantize_ops_body-inl.hpp) compiled per ISA: SSE4.1, AVX2 and AVX-512 on x86-64
// (target attributes in the baseline TU, as the driver's ops), NEON on Arm. The set is the widest
// whose features the process-wide ISA cap allows (allowed_features(): force_isa, LOWBIT_ISA), so
// a forced level runs exactly the code such a CPU would; with none allowed (isa::scalar, or no
// vector set for this compiler and target) the portable set runs: xsimd batches for the build's
// own architecture where xsimd is on (quantize_ops_xsimd.hpp; not on Armv7), else the caller's
// scalar loop. Results are the scalar loop's, bit for bit (docs/quantize.md).
#pragma once

#include "lowbit/detail/portable_simd_config.hpp"
#include "lowbit/detail/quantize_ops_types.hpp"
#include "lowbit/dispatch/settings.hpp"
#include "lowbit/isa.hpp"

// The bodies need GCC 12's __builtin_shufflevector (Clang has it).
#if !defined(LOWBIT_PORTABLE) && (defined(__clang__) || (defined(__GNUC__) && __GNUC__ >= 12))
#if defined(__x86_64__)
#include "lowbit/detail/x86/quantize_ops_avx2.hpp"
#include "lowbit/detail/x86/quantize_ops_avx512.hpp"
#include "lowbit/detail/x86/quantize_ops_sse41.hpp"
#define LOWBIT_X86_QUANTIZE_OPS 1
// 32-bit Arm: GCC only. Clang compiles float vector arithmetic to NEON there, which flushes
// denormals to zero where the scalar (VFP) code does not (arm/quantize_ops_neon.hpp).
#elif (defined(__ARM_NEON) || defined(__ARM_NEON__)) && defined(__BYTE_ORDER__) && \
    __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ && (defined(__aarch64__) || !defined(__clang__))
#include "lowbit/detail/arm/quantize_ops_neon.hpp"
#define LOWBIT_NEON_QUANTIZE_OPS 1
#endif
#endif

namespace lowbit {
namespace detail {

#if defined(LOWBIT_XSIMD_FLOAT)
// The xsimd rows (quantize_ops_xsimd.hpp, defined where the implementation is: xsimd is not
// included by a TU that only declares lowbit's entry points).
LOWBIT_API const quantize_ops* portable_quantize_ops() noexcept;
#endif

// The widest set whose features are all in `allowed`, else the portable set, or nullptr (the
// scalar loop).
inline const quantize_ops* quantize_ops_for(feature_set allowed) noexcept {
#if defined(LOWBIT_X86_QUANTIZE_OPS)
  if ((allowed & x86_avx512) == x86_avx512) return &avx512_quantize_ops();
  if ((allowed & x86_avx2) == x86_avx2) return &avx2_quantize_ops();
  if ((allowed & x86_sse4) == x86_sse4) return &sse41_quantize_ops();
#elif defined(LOWBIT_NEON_QUANTIZE_OPS)
  if ((allowed & bit(cpu_feature::neon)) != 0) return &neon_quantize_ops();
#else
  (void)allowed;
#endif
#if defined(LOWBIT_XSIMD_FLOAT)
  return portable_quantize_ops();
#else
  return nullptr;
#endif
}

}  // namespace detail
}  // namespace lowbit

#if defined(LOWBIT_XSIMD_FLOAT) && !defined(LOWBIT_DECLARATIONS_ONLY)
#include "lowbit/detail/quantize_ops_xsimd.hpp"
#endif
