// lowbit internal: quantize_ops_body-inl.hpp compiled for avx2 (8 float lanes), in namespace
// detail::quantize_avx2; chosen by quantize_ops.hpp.
#pragma once

#if defined(__x86_64__)

#include "lowbit/detail/quantize_ops_types.hpp"
#include "lowbit/isa.hpp"

#define LOWBIT_QOPS_NS quantize_avx2
#define LOWBIT_QOPS_ATTR __attribute__((target(LOWBIT_X86_TARGET_AVX2)))
#define LOWBIT_QOPS_LANES 8
#include "lowbit/detail/quantize_ops_body-inl.hpp"

namespace lowbit {
namespace detail {

inline const quantize_ops& avx2_quantize_ops() noexcept {
  static const quantize_ops ops{"avx2", &quantize_avx2::quantize_row, &quantize_avx2::any_invalid,
                                &quantize_avx2::dequantize_row};
  return ops;
}

}  // namespace detail
}  // namespace lowbit

#endif
