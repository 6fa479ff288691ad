// lowbit internal (conv): packing convolution weights (pack_conv_weights): per-group GEMM
// weights, tap and K-group sums for the padding correction, depthwise values, and the gapped copy
// for kernels that read window rows in place.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <new>
#include <utility>

#include "lowbit/conv/a_sources.hpp"
#include "lowbit/conv/access.hpp"
#include "lowbit/conv/declarations.hpp"
#include "lowbit/conv/geometry.hpp"
#include "lowbit/detail/aligned_buffer.hpp"
#include "lowbit/detail/codes.hpp"
#include "lowbit/driver/gemm_impl.hpp"

namespace lowbit {
namespace detail {

// Packs the gapped copy of conv weights (packed_conv_weights::gapped_) when the kernel chosen for
// it reads window rows in place; otherwise leaves none. Fails only when out of memory.
inline status pack_gapped_conv_weights(const std::uint8_t* w_ohwi, const conv_params& p, format wf,
                                       format af, const pack_options& opt,
                                       packed_conv_weights& out) noexcept {
  // Per-group scales name K positions of the ungapped weights: no gapped copy then.
  const std::size_t gap = opt.k_group != 0 ? 0 : window_row_gap(p, wf);
  if (gap == 0) return status::success();
  const std::size_t row = p.kernel_w * p.in_channels, k = p.taps() * p.in_channels;
  const std::size_t kg = p.kernel_h * (row + gap);
  if (static_cast<std::int64_t>(kg) > max_k(af, wf)) return status::success();
  aligned_buffer codes_gapped;
  if (!codes_gapped.allocate(p.out_channels * kg)) return {errc::out_of_memory, "conv weights"};
  const auto zero = static_cast<std::uint8_t>(code_of_value(wf, 0));
  auto* gapped_codes = static_cast<std::uint8_t*>(codes_gapped.data());
  for (std::size_t oc = 0; oc < p.out_channels; ++oc)
    for (std::size_t ky = 0; ky < p.kernel_h; ++ky) {
      std::uint8_t* d = gapped_codes + oc * kg + ky * (row + gap);
      std::memcpy(d, w_ohwi + oc * k + ky * row, row);
      std::memset(d + row, zero, gap);
    }
  std::unique_ptr<packed_weights> g(new (std::nothrow) packed_weights);
  if (!g) return {errc::out_of_memory, "conv weights"};
  pack_options in_place = opt;  // the gapped weights exist only to be read in place
  in_place.a_in_place = true;
  LOWBIT_RETURN_IF_ERROR(
      pack_weights(codes(gapped_codes, p.out_channels, kg), wf, af, *g, in_place));
  const kernels::ukernel_desc* d = g->kernel();
  if (d->a_segment_table == nullptr || (row + gap) % d->k_step != 0 || g->kc() < kg)
    return status::success();  // no kernel to read the rows in place: the plain packing serves
  conv_access::set_gapped(out, std::move(g), gap);
  return status::success();
}

}  // namespace detail

// Packs OHWI weight codes (one per byte) for convolutions with these parameters.
LOWBIT_API status pack_conv_weights(const std::uint8_t* w_ohwi, const conv_params& p, format wf,
                                    format af, packed_conv_weights& out,
                                    const pack_options& opt) noexcept {
  out = packed_conv_weights{};
  LOWBIT_RETURN_IF_ERROR(detail::validate_conv_params(p));
  LOWBIT_RETURN_IF_ERROR(detail::validate_format(wf, "w_format.bits", "w_format.enc"));
  LOWBIT_RETURN_IF_ERROR(detail::validate_format(af, "a_format.bits", "a_format.enc"));
  if (w_ohwi == nullptr) return {errc::null_pointer, "w"};
  const std::size_t taps = p.taps(), cg = p.in_per_group(), ng = p.out_per_group();
  const std::size_t k = taps * cg;
  const std::int64_t kmax = max_k(af, wf);
  if (static_cast<std::int64_t>(k) > kmax)
    return {errc::accumulator_overflow, "kernel_h * kernel_w * in_channels / groups",
            static_cast<std::int64_t>(k), kmax};
  const matrix_ref all = codes(w_ohwi, p.out_channels, k);
  detail::u_table table;
  detail::make_u_table(wf, table);
  LOWBIT_RETURN_IF_ERROR(detail::find_invalid_code(all, wf, table, "w"));
  using A = detail::conv_access;
  if (!A::tap_sums_buffer(out).allocate(p.out_channels * taps * sizeof(std::int32_t) + 64))
    return {errc::out_of_memory, "conv weights"};
  auto* tap_sums = reinterpret_cast<std::int32_t*>(A::tap_sums_buffer(out).data());
  for (std::size_t oc = 0; oc < p.out_channels; ++oc)
    for (std::size_t t = 0; t < taps; ++t) {
      std::int32_t s = 0;
      for (std::size_t c = 0; c < cg; ++c) s += detail::code_value_at(all, wf, oc, t * cg + c);
      tap_sums[oc * taps + t] = s;
    }
  if (!p.depthwise() && opt.k_group != 0) {
    // Per K group sums of each tap's weights (conv2d's padding correction with group scales).
    const detail::kgroup_segments segs{taps, cg, opt.k_group};
    const std::size_t count = segs.count();
    if (!A::kgroup_sums_buffer(out).allocate(p.out_channels * count * sizeof(std::int32_t) + 64))
      return {errc::out_of_memory, "conv weights"};
    auto* ks = reinterpret_cast<std::int32_t*>(A::kgroup_sums_buffer(out).data());
    for (std::size_t oc = 0; oc < p.out_channels; ++oc) {
      std::int32_t* row = ks + oc * count;
      for (std::size_t s = 0; s < count; ++s) row[s] = 0;
      for (std::size_t t = 0; t < taps; ++t)
        for (std::size_t c = 0; c < cg; ++c)
          row[segs.index(t, (t * cg + c) / opt.k_group)] +=
              detail::code_value_at(all, wf, oc, t * cg + c);
    }
  }
  if (p.depthwise()) {
    if (!A::depthwise_buffer(out).allocate(taps * p.out_channels * sizeof(std::int16_t) + 64))
      return {errc::out_of_memory, "conv weights"};
    auto* v = reinterpret_cast<std::int16_t*>(A::depthwise_buffer(out).data());
    for (std::size_t oc = 0; oc < p.out_channels; ++oc)
      for (std::size_t t = 0; t < taps; ++t)
        v[t * p.out_channels + oc] =
            static_cast<std::int16_t>(detail::code_value_at(all, wf, oc, t));
  } else {
    A::groups_slot(out).reset(new (std::nothrow) packed_weights[p.groups]);
    if (!A::groups_slot(out)) return {errc::out_of_memory, "conv weights"};
    const pack_options group_opt = detail::conv_a_sources(p, af, opt);
    for (std::size_t g = 0; g < p.groups; ++g) {
      const status s =
          pack_weights(codes(w_ohwi + g * ng * k, ng, k), wf, af, A::groups(out)[g], group_opt);
      if (!s.ok()) {
        out = packed_conv_weights{};
        return s;
      }
    }
    const status s = detail::pack_gapped_conv_weights(w_ohwi, p, wf, af, opt, out);
    if (!s.ok()) {
      out = packed_conv_weights{};
      return s;
    }
  }
  A::finish(out, p, wf, af.bits, opt.k_group);
  return status::success();
}

}  // namespace lowbit
