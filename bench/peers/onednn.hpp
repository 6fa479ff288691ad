// oneDNN peers: the matmul primitive (u8 x s8 -> s32, weights reordered once into the layout the
// primitive asks for), the same with the output stage fused (f32 or requantized u8 output), and
// the BLAS-like dnnl_gemm_u8s8s32 (no public prepacking: it packs inside every call, as its users
// get it; only the zero-point correction is precomputed). Threading is OpenMP here: the benchmark
// calls omp_set_num_threads(1) before creating anything.
#pragma once

#include <oneapi/dnnl/dnnl.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>
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
    impl_ = pd.impl_info_str();
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

  // The implementation oneDNN chose (e.g. "brg:avx512_core_amx_int8"): the benchmark's label.
  const std::string& label() const { return impl_; }

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
  std::string impl_;
};

// The user's path through dnnl::matmul with the output stage fused as oneDNN attributes: the
// same u8 x s8 product and source zero point as above, then per-channel (N) output scales, an f32
// bias of N and a ReLU eltwise post-op, written as f32 (kF32) or, with an output zero point, as
// requantized u8 (kU8). oneDNN 2.x adds an int8 primitive's bias before the output scale,
// dst = relu(scale[n] * (acc + b[n])) (+ dst zero point, saturated to u8), so it gets
// b[n] = bias[n] / scale[n] for the output-domain bias[n] lowbit's float stage takes. The scales
// are constants given at primitive creation, so the primitive can fold them as it prefers; weights
// are reordered once, as above.
class OnednnMatmulFused {
 public:
  enum class out { kF32, kU8 };

  OnednnMatmulFused(long M, long N, long K, out kind, std::uint32_t seed = 1)
      : p_(M, N, K, seed),
        rq_(K),
        kind_(kind),
        scales_(static_cast<std::size_t>(N)),
        bias_(static_cast<std::size_t>(N)),
        acc_bias_(static_cast<std::size_t>(N)),
        engine_(dnnl::engine::kind::cpu, 0),
        stream_(engine_) {
    using dt = dnnl::memory::data_type;
    using tag = dnnl::memory::format_tag;
    // Per-channel scales around the requantization scale (so u8 outputs spread over the range),
    // bias a few output units either side of zero: varied values, few clamped ones.
    for (long n = 0; n < N; ++n) {
      scales_[n] = static_cast<float>(rq_.scale() * (0.75 + 0.05 * double(n % 11)));
      bias_[n] = 0.5f * static_cast<float>(n % 17) - 4.0f;
      acc_bias_[n] = bias_[n] / scales_[n];
    }
    const dnnl::memory::desc src_md({M, K}, dt::u8, tag::ab);
    const dnnl::memory::desc user_w_md({K, N}, dt::s8, tag::ba);
    const dnnl::memory::desc any_w_md({K, N}, dt::s8, tag::any);
    const dnnl::memory::desc bias_md({1, N}, dt::f32, tag::ab);
    const dnnl::memory::desc dst_md({M, N}, kind == out::kF32 ? dt::f32 : dt::u8, tag::ab);

    dnnl::primitive_attr attr;
    attr.set_zero_points(DNNL_ARG_SRC, 0, {DNNL_RUNTIME_S32_VAL});
    attr.set_output_scales(1 << 1, scales_);
    if (kind == out::kU8) attr.set_zero_points(DNNL_ARG_DST, 0, {rq_.out_zero});
    dnnl::post_ops po;
    po.append_eltwise(1.0f, dnnl::algorithm::eltwise_relu, 0.0f, 0.0f);
    attr.set_post_ops(po);
    const dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(src_md, any_w_md, bias_md, dst_md),
                                          attr, engine_);
    impl_ = pd.impl_info_str();
    matmul_ = dnnl::matmul(pd);

    src_ = dnnl::memory(src_md, engine_, p_.A.data());
    bias_mem_ = dnnl::memory(bias_md, engine_, acc_bias_.data());
    dst_ = dnnl::memory(dst_md, engine_);
    zero_ = dnnl::memory({{1}, dt::s32, tag::x}, engine_);
    *static_cast<std::int32_t*>(zero_.get_data_handle()) = p_.a_zero;

    dnnl::memory user_w(user_w_md, engine_, p_.W.data());
    weights_ = dnnl::memory(pd.weights_desc(), engine_);
    dnnl::reorder(user_w, weights_).execute(stream_, user_w, weights_);
    stream_.wait();
  }

  void run() {
    matmul_.execute(stream_, {{DNNL_ARG_SRC, src_},
                              {DNNL_ARG_WEIGHTS, weights_},
                              {DNNL_ARG_BIAS, bias_mem_},
                              {DNNL_ARG_DST, dst_},
                              {DNNL_ARG_ATTR_ZERO_POINTS | DNNL_ARG_SRC, zero_}});
    stream_.wait();
  }

  // The implementation oneDNN chose (e.g. "brg:avx512_core_amx_int8"): the benchmark's label.
  const std::string& label() const { return impl_; }

  // f32: within 1e-4 + 1e-5 |acc * scale| (outputs span about 0..255): oneDNN's AMX kernels
  // round their zero-point compensation and scaling differently from its AVX-512 ones (results
  // 1e-5 off at 0.7 on this check's data), and this check is for gross errors (a wrong scale,
  // bias or zero point moves results by far more). u8: within one unit of the exact real value,
  // as the other requantizing peers.
  CheckResult check() {
    run();
    const auto& ref = reference_s32(p_);
    const char* name = kind_ == out::kF32 ? "onednn_f32" : "onednn_u8";
    for (long m = 0; m < p_.M; ++m)
      for (long n = 0; n < p_.N; ++n) {
        const double t = double(ref[m * p_.N + n]) * double(scales_[n]);
        const double v = std::max(0.0, t + double(bias_[n]));
        if (kind_ == out::kF32) {
          const double got = static_cast<const float*>(dst_.get_data_handle())[m * p_.N + n];
          if (std::abs(got - v) > 1e-4 + 1e-5 * std::abs(t))
            return check_failed(name, m, n, got, v);
        } else {
          const double want = std::min(double(rq_.out_max), v + rq_.out_zero);
          const double got = static_cast<const std::uint8_t*>(dst_.get_data_handle())[m * p_.N + n];
          if (std::abs(got - want) > 1.0) return check_failed(name, m, n, got, want);
        }
      }
    return {};
  }

 private:
  QuantProblem p_;
  Requant rq_;
  out kind_;
  std::vector<float> scales_, bias_;
  std::vector<float> acc_bias_;  // bias_ / scales_: what oneDNN adds before scaling
  dnnl::engine engine_;
  dnnl::stream stream_;
  dnnl::matmul matmul_;
  dnnl::memory src_, weights_, bias_mem_, dst_, zero_;
  std::string impl_;
};

struct OnednnMatmulF32Fused : OnednnMatmulFused {
  OnednnMatmulF32Fused(long M, long N, long K) : OnednnMatmulFused(M, N, K, out::kF32) {}
};
struct OnednnMatmulU8Fused : OnednnMatmulFused {
  OnednnMatmulU8Fused(long M, long N, long K) : OnednnMatmulFused(M, N, K, out::kU8) {}
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
