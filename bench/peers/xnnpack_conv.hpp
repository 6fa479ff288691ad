// XNNPACK's qu8 convolution: xnn_create_convolution2d_nhwc_qu8 (packs the weights) once, then per
// run xnn_setup_convolution2d_nhwc_qu8 and xnn_run_operator with no threadpool (single thread).
// Weights are uint8 w + 128 with kernel zero point 128 (the same int8 values), input zero point 0
// (so padding is 0, as for the other implementations), bias 0. XNNPACK has no int32 output: the
// result is requantized to uint8 (zero point 128) with a scale mapping two standard deviations of
// the reference accumulator onto the 8-bit range, and compared with the ideal value within 1.
// Weight layout: [groups][out per group][kh][kw][in per group], i.e. OHWI.
#pragma once

#include <xnnpack.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "peers/common.hpp"
#include "peers/conv_shapes.hpp"

namespace lowbit_bench::peers {

class XnnpackConvQu8 {
 public:
  explicit XnnpackConvQu8(const shapes::ConvShape& s)
      : keep_(shapes::int8_problem(s)),
        p_(*keep_),
        w_(p_.data.w.size()),
        bias_(std::size_t(s.oc), 0),
        out_(p_.ref.size()) {
    if (xnn_initialize(nullptr) != xnn_status_success)
      throw std::runtime_error("xnn_initialize failed");
    for (std::size_t i = 0; i < w_.size(); ++i)
      w_[i] = static_cast<std::uint8_t>(p_.data.w[i] + 128);
    double sq = 0;
    for (std::int32_t v : p_.ref) sq += double(v) * double(v);
    const double rms = std::sqrt(sq / double(p_.ref.size()));
    scale_ = rms > 0 ? 64.0 / rms : 1.0;  // input_scale * kernel_scale / output_scale
    const float input_scale = 0.5f, kernel_scale = 0.25f;
    const float output_scale = static_cast<float>(input_scale * kernel_scale / scale_);
    scale_ = double{input_scale} * kernel_scale / output_scale;  // as XNNPACK sees it
    const xnn_status st = xnn_create_convolution2d_nhwc_qu8(
        std::uint32_t(s.pad), std::uint32_t(s.pad), std::uint32_t(s.pad), std::uint32_t(s.pad),
        std::uint32_t(s.k), std::uint32_t(s.k), std::uint32_t(s.stride), std::uint32_t(s.stride),
        /*dilation=*/1, 1, std::uint32_t(s.groups), std::size_t(s.cg()), std::size_t(s.og()),
        /*input_channel_stride=*/std::size_t(s.c), /*output_channel_stride=*/std::size_t(s.oc),
        /*input_zero_point=*/0, input_scale, /*kernel_zero_point=*/128, kernel_scale, w_.data(),
        bias_.data(), /*output_zero_point=*/128, output_scale, 0, 255, /*flags=*/0, &op_);
    if (st != xnn_status_success) {
      xnn_deinitialize();
      throw std::runtime_error("xnn_create_convolution2d_nhwc_qu8 failed, status " +
                               std::to_string(int(st)));
    }
  }
  ~XnnpackConvQu8() {
    xnn_delete_operator(op_);
    xnn_deinitialize();
  }
  XnnpackConvQu8(const XnnpackConvQu8&) = delete;
  XnnpackConvQu8& operator=(const XnnpackConvQu8&) = delete;

  void run() {
    const shapes::ConvShape& s = p_.data.s;
    // Setup is cheap after the first call: the indirection buffer is kept while the input size
    // stays the same.
    if (xnn_setup_convolution2d_nhwc_qu8(op_, 1, std::size_t(s.h), std::size_t(s.w),
                                         p_.data.x.data(), out_.data(),
                                         nullptr) != xnn_status_success ||
        xnn_run_operator(op_, /*threadpool=*/nullptr) != xnn_status_success)
      throw std::runtime_error("xnnpack convolution setup/run failed");
  }

  CheckResult check() {
    run();
    for (std::size_t i = 0; i < out_.size(); ++i) {
      const double want = std::clamp(p_.ref[i] * scale_ + 128.0, 0.0, 255.0);
      if (std::abs(out_[i] - want) > 1.0)
        return check_failed("xnnpack_conv_qu8", long(i / p_.data.s.oc), long(i % p_.data.s.oc),
                            out_[i], want);
    }
    return {};
  }

 private:
  std::shared_ptr<const shapes::Int8Problem> keep_;
  const shapes::Int8Problem& p_;
  std::vector<std::uint8_t> w_;
  std::vector<std::int32_t> bias_;
  std::vector<std::uint8_t> out_;
  double scale_ = 1.0;
  xnn_operator_t op_ = nullptr;
};

}  // namespace lowbit_bench::peers
