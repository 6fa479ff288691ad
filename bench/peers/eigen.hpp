// Eigen peer: fp32 matrix product C = A * W^T through Eigen::Map views of row-major buffers.
// Eigen picks its SIMD width at compile time, so the product lives in eigen.cpp, built with
// AVX-512 enabled; this header has no Eigen code. Eigen has no prepacked-operand API: it packs
// panels of both operands inside every product.
#pragma once

#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "peers/common.hpp"

namespace lowbit_bench::peers {

namespace eigen_detail {
// Defined in eigen.cpp. C(M x N) = A(M x K) * W(N x K)^T, all row-major.
void sgemm_nt(const float* A, const float* W, float* C, long M, long N, long K);
}  // namespace eigen_detail

class EigenSgemm {
 public:
  EigenSgemm(long M, long N, long K, std::uint32_t seed = 1)
      : M_(M),
        N_(N),
        K_(K),
        a_(static_cast<std::size_t>(M * K)),
        w_(static_cast<std::size_t>(N * K)),
        c_(static_cast<std::size_t>(M * N)) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
    for (auto& a : a_) a = dist(rng);
    for (auto& w : w_) w = dist(rng);
  }

  void run() { eigen_detail::sgemm_nt(a_.data(), w_.data(), c_.data(), M_, N_, K_); }

  // Against a double-precision dot product. Any fp32 summation order is within
  // gamma_K * sum|a*w| (gamma_K ~ K * 2^-24) of the exact value, so that is the tolerance.
  CheckResult check() {
    run();
    const double gamma = 1.01 * static_cast<double>(K_) * std::ldexp(1.0, -24);
    for (long m = 0; m < M_; ++m)
      for (long n = 0; n < N_; ++n) {
        double exact = 0, magnitude = 0;
        for (long k = 0; k < K_; ++k) {
          const double prod = double{a_[m * K_ + k]} * double{w_[n * K_ + k]};
          exact += prod;
          magnitude += std::abs(prod);
        }
        if (std::abs(c_[m * N_ + n] - exact) > gamma * magnitude)
          return check_failed("eigen_sgemm", m, n, c_[m * N_ + n], exact);
      }
    return {};
  }

 private:
  long M_, N_, K_;
  std::vector<float> a_, w_, c_;
};

}  // namespace lowbit_bench::peers
