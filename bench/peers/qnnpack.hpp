// QNNPACK peer: PyTorch's QNNPACK as built into Debian's libtorch 1.13 (libtorch_cpu.so), through
// the two entry points PyTorch's own quantized Linear uses: qnnpack::PackBMatrix (prepacks the
// uint8 weights with per-channel zero points and requantization scales) and
// qnnpack::qnnpackLinear (uint8 in, requantized uint8 out). libtorch-dev installs no QNNPACK
// headers, so the declarations below are written from PyTorch 1.13's qnnpack_func.h and checked
// against the symbols libtorch_cpu.so exports (nm -D | c++filt); peers.cmake enables this peer
// only for libtorch 1.13. The pthreadpool argument is null: single thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <stdexcept>
#include <vector>

#include "peers/common.hpp"

struct pthreadpool;  // opaque; only a null pointer is passed

extern "C" {
// C enum in QNNPACK; only success (0) matters here. Enums are returned like int on x86-64.
enum pytorch_qnnp_status { pytorch_qnnp_status_success = 0 };
pytorch_qnnp_status pytorch_qnnp_initialize(void);
}

namespace qnnpack {

// Layout and inline members as in PyTorch 1.13; the constructor is libtorch's exported one.
class PackBMatrix final {
 public:
  PackBMatrix(std::size_t input_channels, std::size_t output_channels,
              const std::uint8_t* kernel_zero_points, const float* requantization_scales,
              const std::uint8_t* kernel, const std::int32_t* bias);
  ~PackBMatrix() { std::free(packed_weights_); }
  PackBMatrix(const PackBMatrix&) = delete;
  PackBMatrix& operator=(const PackBMatrix&) = delete;
  void* getPackedWeights() const { return packed_weights_; }

 private:
  void* packed_weights_ = nullptr;
  std::size_t input_channels_;
  std::size_t output_channels_;
};

pytorch_qnnp_status qnnpackLinear(
    std::size_t batch_size, std::size_t input_channels, std::size_t output_channels,
    std::uint8_t input_zero_point, const std::uint8_t* kernel_zero_points,
    const float* requantization_scales, std::uint8_t output_zero_point, std::uint8_t output_min,
    std::uint8_t output_max, const std::uint8_t* input, std::size_t input_stride,
    void* packed_weights, std::uint8_t* output, std::size_t output_stride, pthreadpool* threadpool);

}  // namespace qnnpack

namespace lowbit_bench::peers {

// C(M x N, requantized uint8) from uint8 activations (zero point) and the int8 weights stored as
// uint8 w + 128 with zero point 128, per-tensor values repeated per channel.
class QnnpackLinearU8 {
 public:
  QnnpackLinearU8(long M, long N, long K, std::uint32_t seed = 1)
      : p_(M, N, K, seed),
        rq_(K),
        // PyTorch pads the per-channel arrays past N (its kernels read whole 8-channel groups).
        zero_points_(static_cast<std::size_t>(N + 16), 128),
        scales_(static_cast<std::size_t>(N + 16), static_cast<float>(rq_.scale())),
        w_(p_.W.size()),
        bias_(static_cast<std::size_t>(N), 0),
        c_(static_cast<std::size_t>(M * N)) {
    if (pytorch_qnnp_initialize() != pytorch_qnnp_status_success)
      throw std::runtime_error("pytorch_qnnp_initialize failed");
    for (std::size_t i = 0; i < w_.size(); ++i) w_[i] = static_cast<std::uint8_t>(p_.W[i] + 128);
    packed_ = std::make_unique<qnnpack::PackBMatrix>(K, N, zero_points_.data(), scales_.data(),
                                                     w_.data(), bias_.data());
  }

  void run() {
    const auto st = qnnpack::qnnpackLinear(
        p_.M, p_.K, p_.N, p_.a_zero, zero_points_.data(), scales_.data(),
        static_cast<std::uint8_t>(rq_.out_zero), static_cast<std::uint8_t>(rq_.out_min),
        static_cast<std::uint8_t>(rq_.out_max), p_.A.data(), p_.K, packed_->getPackedWeights(),
        c_.data(), p_.N, nullptr);
    if (st != pytorch_qnnp_status_success) throw std::runtime_error("qnnpackLinear failed");
  }

  CheckResult check() {
    run();
    return compare_requantized("qnnpack_linear_u8", c_.data(), p_.N, p_, rq_, 0);
  }

 private:
  QuantProblem p_;
  Requant rq_;
  std::vector<std::uint8_t> zero_points_;
  std::vector<float> scales_;
  std::vector<std::uint8_t> w_;
  std::vector<std::int32_t> bias_;
  std::vector<std::uint8_t> c_;
  std::unique_ptr<qnnpack::PackBMatrix> packed_;
};

}  // namespace lowbit_bench::peers
