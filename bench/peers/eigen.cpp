// The Eigen product, compiled with AVX-512 enabled (see peers.cmake); without it Eigen would use
// SSE2 only, the x86-64 baseline.
#include "peers/eigen.hpp"

#include <Eigen/Core>

#if !defined(EIGEN_VECTORIZE_AVX512)
#error "eigen.cpp must be built with AVX-512 enabled (see bench/peers/peers.cmake)"
#endif

namespace lowbit_bench::peers::eigen_detail {

void sgemm_nt(const float* A, const float* W, float* C, long M, long N, long K) {
  using RowMajor = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  const Eigen::Map<const RowMajor> a(A, M, K), w(W, N, K);
  Eigen::Map<RowMajor> c(C, M, N);
  // noalias: C does not overlap A or W, so Eigen need not build a temporary.
  c.noalias() = a * w.transpose();
}

}  // namespace lowbit_bench::peers::eigen_detail
