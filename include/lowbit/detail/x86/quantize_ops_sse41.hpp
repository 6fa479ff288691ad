// lowbit internal: quantize_ops_body-inl.hpp compiled for sse4 (4 float lanes), in namespace
// detail::quantize_sse41; chosen by quantize_ops.hpp.
#pragma once

#if defined(__x86_64__)

#include "lowbit/detail/quantize_ops_types.hpp"
#include "lowbit/isa.hpp"

#define LOWBIT_QOPS_NS quantize_sse41
#define LOWBIT_QOPS_ATTR __attribute__((target(LOWBIT_X86_TARGET_SSE4)))
#define LOWBIT_QOPS_LANES 4
#include "lowbit/detail/quantize_ops_body-inl.hpp"

namespace lowbit {
namespace detail {

inline const quantize_ops& sse41_quantize_ops() noexcept {
  static const quantize_ops ops{"sse4", &quantize_sse41::quantize_row, &quantize_sse41::any_invalid,
                                &quantize_sse41::dequantize_row};
  return ops;
}

}  // namespace detail
}  // namespace lowbit

#endif
