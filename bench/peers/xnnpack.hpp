// XNNPACK peers: the fully-connected operators qu8 (uint8 activations and weights, each with a
// zero point) and qs8 (int8 activations with a zero point, symmetric int8 weights). Both produce
// a requantized 8-bit output, which is how XNNPACK's users get it: there is no int32-output
// operator. Creating the operator packs the weights; run() only sets up pointers and runs it,
// with no threadpool (single thread).
#pragma once

#include <xnnpack.h>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "peers/common.hpp"

namespace lowbit_bench::peers {

inline void xnn_ok(xnn_status st, const char* what) {
  if (st != xnn_status_success)
    throw std::runtime_error(std::string(what) + " failed, status " + std::to_string(int(st)));
}

// xnn_initialize is reference-counted; one call per wrapper keeps each self-contained.
class XnnpackFcBase {
 protected:
  XnnpackFcBase() { xnn_ok(xnn_initialize(nullptr), "xnn_initialize"); }
  ~XnnpackFcBase() {
    if (op_ != nullptr) xnn_delete_operator(op_);
    xnn_deinitialize();
  }
  XnnpackFcBase(const XnnpackFcBase&) = delete;
  XnnpackFcBase& operator=(const XnnpackFcBase&) = delete;

  void run_op() { xnn_ok(xnn_run_operator(op_, /*threadpool=*/nullptr), "xnn_run_operator"); }

  xnn_operator_t op_ = nullptr;
};

// qu8: the int8 weights are stored as uint8 w + 128 with kernel zero point 128, the same values.
class XnnpackFcQu8 : XnnpackFcBase {
 public:
  XnnpackFcQu8(long M, long N, long K, std::uint32_t seed = 1)
      : p_(M, N, K, seed),
        rq_(K),
        w_(p_.W.size()),
        bias_(static_cast<std::size_t>(N), 0),
        c_(static_cast<std::size_t>(M * N)) {
    for (std::size_t i = 0; i < w_.size(); ++i) w_[i] = static_cast<std::uint8_t>(p_.W[i] + 128);
    xnn_ok(xnn_create_fully_connected_nc_qu8(
               K, N, /*input_stride=*/K, /*output_stride=*/N, p_.a_zero, rq_.input_scale,
               /*kernel_zero_point=*/128, rq_.kernel_scale, w_.data(), bias_.data(),
               static_cast<std::uint8_t>(rq_.out_zero), rq_.output_scale,
               static_cast<std::uint8_t>(rq_.out_min), static_cast<std::uint8_t>(rq_.out_max),
               /*flags=*/0, &op_),
           "xnn_create_fully_connected_nc_qu8");
  }

  void run() {
    xnn_ok(xnn_setup_fully_connected_nc_qu8(op_, p_.M, p_.A.data(), c_.data(), nullptr),
           "xnn_setup_fully_connected_nc_qu8");
    run_op();
  }

  CheckResult check() {
    run();
    return compare_requantized("xnnpack_fc_qu8", c_.data(), p_.N, p_, rq_, 0);
  }

 private:
  QuantProblem p_;
  Requant rq_;
  std::vector<std::uint8_t> w_;
  std::vector<std::int32_t> bias_;
  std::vector<std::uint8_t> c_;
};

// qs8: activations are shifted into int8 (a - 128, zero point a_zero - 128); the output is int8
// with zero point out_zero - 128, compared in the uint8 domain.
class XnnpackFcQs8 : XnnpackFcBase {
 public:
  XnnpackFcQs8(long M, long N, long K, std::uint32_t seed = 1)
      : p_(M, N, K, seed),
        rq_(K),
        a_(p_.A.size()),
        bias_(static_cast<std::size_t>(N), 0),
        c_(static_cast<std::size_t>(M * N)) {
    for (std::size_t i = 0; i < a_.size(); ++i) a_[i] = static_cast<std::int8_t>(p_.A[i] - 128);
    xnn_ok(xnn_create_fully_connected_nc_qs8(
               K, N, /*input_stride=*/K, /*output_stride=*/N,
               static_cast<std::int8_t>(p_.a_zero - 128), rq_.input_scale, rq_.kernel_scale,
               p_.W.data(), bias_.data(), static_cast<std::int8_t>(rq_.out_zero - 128),
               rq_.output_scale, static_cast<std::int8_t>(rq_.out_min - 128),
               static_cast<std::int8_t>(rq_.out_max - 128), /*flags=*/0, &op_),
           "xnn_create_fully_connected_nc_qs8");
  }

  void run() {
    xnn_ok(xnn_setup_fully_connected_nc_qs8(op_, p_.M, a_.data(), c_.data(), nullptr),
           "xnn_setup_fully_connected_nc_qs8");
    run_op();
  }

  CheckResult check() {
    run();
    return compare_requantized("xnnpack_fc_qs8", c_.data(), p_.N, p_, rq_, 128);
  }

 private:
  QuantProblem p_;
  Requant rq_;
  std::vector<std::int8_t> a_;
  std::vector<std::int32_t> bias_;
  std::vector<std::int8_t> c_;
};

}  // namespace lowbit_bench::peers
