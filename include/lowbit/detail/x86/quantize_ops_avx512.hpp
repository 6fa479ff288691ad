// lowbit internal: quantize_ops_body-inl.hpp compiled for avx512 (16 float lanes), in namespace
// detail::quantize_avx512; chosen by quantize_ops.hpp.
#pragma once

#if defined(__x86_64__)

#include "lowbit/detail/quantize_ops_types.hpp"
#include "lowbit/isa.hpp"

#define LOWBIT_QOPS_NS quantize_avx512
#define LOWBIT_QOPS_ATTR __attribute__((target(LOWBIT_X86_TARGET_AVX512)))
#define LOWBIT_QOPS_LANES 16
#include "lowbit/detail/quantize_ops_body-inl.hpp"

namespace lowbit {
namespace detail {

inline const quantize_ops& avx512_quantize_ops() noexcept {
  static const quantize_ops ops{"avx512", &quantize_avx512::quantize_row,
                                &quantize_avx512::any_invalid, &quantize_avx512::dequantize_row};
  return ops;
}

}  // namespace detail
}  // namespace lowbit

#endif
