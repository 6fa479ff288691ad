// The gemmlowp call, compiled with -mavx2 -mfma and GEMMLOWP_ENABLE_AVX2 (see peers.cmake):
// without them gemmlowp falls back to its SSE4 or portable reference kernels.
#include "peers/gemmlowp.hpp"

#include <gemmlowp/public/gemmlowp.h>

#include <tuple>

#if !defined(GEMMLOWP_AVX2)
#error "gemmlowp.cpp must be built with AVX2 and GEMMLOWP_ENABLE_AVX2 (see bench/peers/peers.cmake)"
#endif

namespace lowbit_bench::peers::gemmlowp_detail {

void* create_context() {
  auto* context = new gemmlowp::GemmContext;
  context->set_max_num_threads(1);
  return context;
}

void destroy_context(void* context) { delete static_cast<gemmlowp::GemmContext*>(context); }

void gemm(void* context, const std::uint8_t* A, const std::uint8_t* W, std::int32_t* C, long M,
          long N, long K, int a_offset, int w_offset) {
  const int m = static_cast<int>(M), n = static_cast<int>(N), k = static_cast<int>(K);
  const gemmlowp::MatrixMap<const std::uint8_t, gemmlowp::MapOrder::RowMajor> lhs(A, m, k);
  const gemmlowp::MatrixMap<const std::uint8_t, gemmlowp::MapOrder::ColMajor> rhs(W, k, n);
  gemmlowp::MatrixMap<std::int32_t, gemmlowp::MapOrder::RowMajor> result(C, m, n);
  // An empty output pipeline leaves the raw int32 accumulators in C.
  gemmlowp::GemmWithOutputPipeline<std::uint8_t, std::int32_t, gemmlowp::DefaultL8R8BitDepthParams>(
      static_cast<gemmlowp::GemmContext*>(context), lhs, rhs, &result, a_offset, w_offset,
      std::make_tuple());
}

}  // namespace lowbit_bench::peers::gemmlowp_detail
