// oneDNN's int8 convolution: convolution_forward (forward_inference, convolution_direct), src u8
// NHWC, weights s8 in format_tag::any (reordered once into the layout the primitive chose), dst
// s32 NHWC, no bias, zero points 0. Groups and depthwise use 5-D grouped weights. Threading is
// OpenMP: the benchmark calls omp_set_num_threads(1) before creating anything.
#pragma once

#include <oneapi/dnnl/dnnl.hpp>

#include <cstdint>
#include <memory>
#include <string>

#include "peers/common.hpp"
#include "peers/conv_shapes.hpp"

namespace lowbit_bench::peers {

class OnednnConvU8S8S32 {
 public:
  explicit OnednnConvU8S8S32(const shapes::ConvShape& s)
      : keep_(shapes::int8_problem(s)),
        p_(*keep_),
        engine_(dnnl::engine::kind::cpu, 0),
        stream_(engine_) {
    using dt = dnnl::memory::data_type;
    using tag = dnnl::memory::format_tag;
    const dnnl::memory::dims src_dims{1, s.c, s.h, s.w}, dst_dims{1, s.oc, s.out_h(), s.out_w()};
    const bool grouped = s.groups > 1;
    const dnnl::memory::dims w_dims = grouped
                                          ? dnnl::memory::dims{s.groups, s.og(), s.cg(), s.k, s.k}
                                          : dnnl::memory::dims{s.oc, s.c, s.k, s.k};
    const dnnl::memory::desc src_md(src_dims, dt::u8, tag::nhwc);
    const dnnl::memory::desc dst_md(dst_dims, dt::s32, tag::nhwc);
    const dnnl::memory::desc any_w_md(w_dims, dt::s8, tag::any);
    // Our OHWI weights, per group for grouped layouts.
    const dnnl::memory::desc user_w_md(w_dims, dt::s8, grouped ? tag::gohwi : tag::ohwi);
    const dnnl::convolution_forward::desc desc(
        dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_direct, src_md, any_w_md,
        dst_md, {s.stride, s.stride}, {s.pad, s.pad}, {s.pad, s.pad});
    const dnnl::convolution_forward::primitive_desc pd(desc, engine_);
    conv_ = dnnl::convolution_forward(pd);
    impl_ = pd.impl_info_str();

    // The primitive reads its source in place; the problem outlives this object (cached).
    src_ = dnnl::memory(src_md, engine_, const_cast<std::uint8_t*>(p_.data.x.data()));
    dst_ = dnnl::memory(dst_md, engine_);
    dnnl::memory user_w(user_w_md, engine_, const_cast<std::int8_t*>(p_.data.w.data()));
    weights_ = dnnl::memory(pd.weights_desc(), engine_);
    dnnl::reorder(user_w, weights_).execute(stream_, user_w, weights_);
    stream_.wait();
  }

  void run() {
    conv_.execute(stream_,
                  {{DNNL_ARG_SRC, src_}, {DNNL_ARG_WEIGHTS, weights_}, {DNNL_ARG_DST, dst_}});
    stream_.wait();
  }

  CheckResult check() {
    run();
    const auto* c = static_cast<const std::int32_t*>(dst_.get_data_handle());
    for (std::size_t i = 0; i < p_.ref.size(); ++i)
      if (c[i] != p_.ref[i])
        return check_failed("onednn_conv_u8s8s32", long(i / p_.data.s.oc), long(i % p_.data.s.oc),
                            c[i], p_.ref[i]);
    return {};
  }

  // The implementation oneDNN picked, e.g. "brg:avx512_core_vnni" or "jit_int8:avx512_core_vnni".
  const std::string& impl() const { return impl_; }

 private:
  std::shared_ptr<const shapes::Int8Problem> keep_;
  const shapes::Int8Problem& p_;
  dnnl::engine engine_;
  dnnl::stream stream_;
  dnnl::convolution_forward conv_;
  dnnl::memory src_, weights_, dst_;
  std::string impl_;
};

}  // namespace lowbit_bench::peers
