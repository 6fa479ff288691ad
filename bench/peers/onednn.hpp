// oneDNN peers: the matmul primitive (u8 x s8 -> s32, weights reordered once into the layout the
// primitive asks for) and the BLAS-like dnnl_gemm_u8s8s32 (no public prepacking: it packs inside
// every call, as its users get it; only the zero-point correction is precomputed). Threading is
// OpenMP here: the benchmark calls omp_set_num_threads(1) before creating anything.
#pragma once

#include <oneapi/dnnl/dnnl.hpp>

#include <cstdint>
#include <stdexcept>
#include <vector>

#include "peers/common.hpp"

namespace lowbit_bench::peers {

// C(M x N, s32) = (A(M x K, u8) - a_zero) * W^T, W: N x K s8, via dnnl::matmul.
class OnednnMatmulU8S8S32 {
 public:
  OnednnMatmulU8S8S32(long M, long N, long K, std::uint32_t seed = 1)
      : p_(M, N, K, seed), engine_(dnnl::engine::kind::cpu, 0), stream_(engine_) {
    using dt = dnnl::memory::data_type;
    using tag = dnnl::memory::format_tag;
    const dnnl::memory::desc src_md({M, K}, dt::u8, tag::ab);
    // The logical weights are K x N; our N x K row-major W is that matrix in `ba` order.
    const dnnl::memory::desc user_w_md({K, N}, dt::s8, tag::ba);
    const dnnl::memory::desc any_w_md({K, N}, dt::s8, tag::any);
    const dnnl::memory::desc dst_md({M, N}, dt::s32, tag::ab);

    // Runtime source zero point: the primitive folds it into a weight-side compensation.
    dnnl::primitive_attr attr;
    attr.set_zero_points(DNNL_ARG_SRC, 0, {DNNL_RUNTIME_S32_VAL});
    const dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(src_md, any_w_md, dst_md), attr,
                                          engine_);
    matmul_ = dnnl::matmul(pd);

    src_ = dnnl::memory(src_md, engine_, p_.A.data());
    dst_ = dnnl::memory(dst_md, engine_);
    zero_ = dnnl::memory({{1}, dt::s32, tag::x}, engine_);
    *static_cast<std::int32_t*>(zero_.get_data_handle()) = p_.a_zero;

    // Prepack: reorder the weights once into the primitive's preferred (blocked) layout.
    dnnl::memory user_w(user_w_md, engine_, p_.W.data());
    weights_ = dnnl::memory(pd.weights_desc(), engine_);
    dnnl::reorder(user_w, weights_).execute(stream_, user_w, weights_);
    stream_.wait();
  }

  void run() {
    matmul_.execute(stream_, {{DNNL_ARG_SRC, src_},
                              {DNNL_ARG_WEIGHTS, weights_},
                              {DNNL_ARG_DST, dst_},
                              {DNNL_ARG_ATTR_ZERO_POINTS | DNNL_ARG_SRC, zero_}});
    stream_.wait();
  }

  CheckResult check() {
    run();
    return compare_exact("onednn_matmul_u8s8s32",
                         static_cast<const std::int32_t*>(dst_.get_data_handle()), p_.N, p_);
  }

 private:
  QuantProblem p_;
  dnnl::engine engine_;
  dnnl::stream stream_;
  dnnl::matmul matmul_;
  dnnl::memory src_, weights_, dst_, zero_;
};

// The same product through dnnl_gemm_u8s8s32 (row-major BLAS-style call, W transposed). The
// activation zero point is applied as a correction -a_zero * sum_k W[n][k] per column, computed
// once here and added after the call. Both ways oneDNN offers cost its GEMV fast path: passing
// a_zero as the A offset, or the correction as a per-column C offset ('R'), measured 15-17 GOPS
// on 1x4096x4096 against 58 with zero offsets; the extra pass over C costs M*N adds.
class OnednnGemmU8S8S32 {
 public:
  OnednnGemmU8S8S32(long M, long N, long K, std::uint32_t seed = 1)
      : p_(M, N, K, seed),
        c_offset_(static_cast<std::size_t>(N)),
        c_(static_cast<std::size_t>(M * N)) {
    for (long n = 0; n < N; ++n) {
      std::int32_t sum = 0;
      for (long k = 0; k < K; ++k) sum += p_.W[n * K + k];
      c_offset_[n] = -std::int32_t{p_.a_zero} * sum;
    }
  }

  void run() {
    // C = A * op(B); transb 'T' because W is N x K; offsetc 'F' with a zero offset.
    const std::int32_t zero = 0;
    const dnnl_status_t st =
        dnnl_gemm_u8s8s32('N', 'T', 'F', p_.M, p_.N, p_.K, 1.0f, p_.A.data(), p_.K, 0, p_.W.data(),
                          p_.K, 0, 0.0f, c_.data(), p_.N, &zero);
    if (st != dnnl_success) throw std::runtime_error("dnnl_gemm_u8s8s32 failed");
    for (long m = 0; m < p_.M; ++m) {
      std::int32_t* row = &c_[static_cast<std::size_t>(m * p_.N)];
      for (long n = 0; n < p_.N; ++n) row[n] += c_offset_[n];
    }
  }

  CheckResult check() {
    run();
    return compare_exact("onednn_gemm_u8s8s32", c_.data(), p_.N, p_);
  }

 private:
  QuantProblem p_;
  std::vector<std::int32_t> c_offset_;
  std::vector<std::int32_t> c_;
};

}  // namespace lowbit_bench::peers
