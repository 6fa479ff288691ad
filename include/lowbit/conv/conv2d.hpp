// lowbit internal (conv): conv2d: validation, the scratch plan, one scan of the input (codes
// checked, per-pixel sums), then depthwise (conv/depthwise.hpp) or the GEMM driver per group with
// an A source from conv/a_sources.hpp.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <type_traits>

#include "lowbit/conv/a_sources.hpp"
#include "lowbit/conv/access.hpp"
#include "lowbit/conv/declarations.hpp"
#include "lowbit/conv/depthwise.hpp"
#include "lowbit/conv/geometry.hpp"
#include "lowbit/conv/group_stages.hpp"
#include "lowbit/conv/weights.hpp"
#include "lowbit/detail/row_scan.hpp"
#include "lowbit/driver/driver.hpp"
#include "lowbit/driver/gemm_impl.hpp"

namespace lowbit {
namespace detail {

// Per-pixel sums of u-codes for inputs with few channels (validated): unsigned codes are their
// own u-codes, and a channel count known at compile time lets the loop unroll (RGB: 3).
template <std::size_t C>
void pixel_sums_bytes(const std::uint8_t* x, std::size_t pixels, std::uint32_t* sums) noexcept {
  for (std::size_t px = 0; px < pixels; ++px) {
    std::uint32_t s = 0;
    for (std::size_t c = 0; c < C; ++c) s += x[px * C + c];
    sums[px] = s;
  }
}
inline void pixel_sums_few_channels(const u_transform& ut, const std::uint8_t* x,
                                    std::size_t pixels, std::size_t channels,
                                    std::uint32_t* sums) noexcept {
  if (ut.identity && channels == 1) return pixel_sums_bytes<1>(x, pixels, sums);
  if (ut.identity && channels == 3) return pixel_sums_bytes<3>(x, pixels, sums);
  if (ut.identity && channels == 4) return pixel_sums_bytes<4>(x, pixels, sums);
  for (std::size_t px = 0; px < pixels; ++px) {
    std::uint32_t s = 0;
    for (std::size_t c = 0; c < channels; ++c) s += byte_to_u(ut, x[px * channels + c]);
    sums[px] = s;
  }
}

template <class Stage>
status conv2d_impl(const std::uint8_t* input, const tensor_shape& in, format af,
                   const packed_conv_weights& w, const Stage& out, workspace& ws,
                   executor* ex) noexcept {
  LOWBIT_RETURN_IF_ERROR(validate_format(af, "a_format.bits", "a_format.enc"));
  if (w.empty()) return {errc::wrong_packing, "weights (empty)"};
  const conv_params& p = w.params();
  if (input == nullptr) return {errc::null_pointer, "input"};
  if (in.n == 0 || in.h == 0 || in.w == 0) return {errc::invalid_dimension, "input shape", 0, 1};
  // Per-group weight scales need weights packed in the same K groups.
  bool kgrouped = false;
  if constexpr (std::is_same<Stage, float_output>::value) kgrouped = out.w_group_scales != nullptr;
  if (kgrouped && w.k_group() == 0)
    return {errc::wrong_packing, "out.w_group_scales (weights not packed with k_group)"};
  if constexpr (std::is_same<Stage, float_output>::value) {
    if (out.w_group_zeros != nullptr)
      return {errc::invalid_argument, "out.w_group_zeros (gemm only, not conv2d)"};
  }
  // Heights and widths with their padding, and every product of sizes below, within size_t.
  const std::size_t dim_lim = std::numeric_limits<std::size_t>::max() / 2;  // + pads (< 2^25)
  if (in.h > dim_lim || in.w > dim_lim)
    return {errc::size_overflow, in.h > dim_lim ? "input.h" : "input.w",
            static_cast<std::int64_t>(in.h > dim_lim ? in.h : in.w),
            static_cast<std::int64_t>(dim_lim)};
  if (in.c != p.in_channels)
    return {errc::dimension_mismatch, "input.c", static_cast<std::int64_t>(in.c),
            static_cast<std::int64_t>(p.in_channels)};
  if (af.bits > w.activation_bits())
    return {errc::wrong_packing, "a_format.bits", af.bits, w.activation_bits()};
  const std::size_t oh = p.out_h(in.h), ow = p.out_w(in.w);
  if (oh == 0 || ow == 0)
    return {errc::invalid_dimension, "output size (kernel larger than padded input)", 0, 1};
  std::size_t pixels = 0, m = 0, codes_in = 0, sums_in = 0, acc16 = 0;
  if (!mul_size(in.n, in.h, pixels) || !mul_size(pixels, in.w, pixels) ||
      !mul_size(pixels, in.c, codes_in) || !mul_size(codes_in, sizeof(std::int16_t), acc16) ||
      !mul_size(pixels, p.groups, sums_in) || !mul_size(sums_in, sizeof(std::uint32_t), sums_in) ||
      !mul_size(in.n, oh, m) || !mul_size(m, ow, m))
    return {errc::size_overflow, "input shape", static_cast<std::int64_t>(in.n)};
  LOWBIT_RETURN_IF_ERROR(validate_stage(out, m, p.out_channels));
  LOWBIT_RETURN_IF_ERROR(validate_zero_points(out.zeros, af, w.weight_format(), p.out_channels));
  const std::size_t taps = p.taps(), cg = p.in_per_group(), ng = p.out_per_group();
  const zero_points& z = out.zeros;
  std::int64_t wmax = max_abs_centered(w.weight_format());
  if (z.w_zeros) {
    wmax = 0;
    for (std::size_t j = 0; j < (z.w_zero_count == 1 ? 1 : p.out_channels); ++j) {
      const std::int64_t v = max_abs_centered(w.weight_format(), z.w_zeros[j]);
      wmax = v > wmax ? v : wmax;
    }
  }
  const std::int64_t kmax = max_k(af, w.weight_format(), z.a_zero, wmax);
  if (static_cast<std::int64_t>(taps * cg) > kmax)
    return {errc::accumulator_overflow, "K", static_cast<std::int64_t>(taps * cg), kmax};

  // Scratch, all from the caller's workspace (no allocation once it has grown): per-pixel sums,
  // then either the depthwise buffers or the GEMM driver's own workspace.
  const std::size_t groups_scanned = p.depthwise() ? 1 : p.groups;
  const std::size_t oc = p.out_channels;
  const std::size_t sums_bytes = round64(groups_scanned * pixels * sizeof(std::uint32_t));
  // Taps per K group in depthwise (K = taps there).
  const std::size_t dw_kg = kgrouped ? w.k_group() : taps;
  std::size_t rest = 0, image_bytes = 0, image_scratch = 0;
  const bool direct = direct_1x1(p);
  const kernels::ukernel_desc* gemm_kernel = nullptr;
  // The gapped weights (window rows read in place, few channels) serve when their gap weights
  // contribute nothing without activation row sums: no weight zero points, weights as values.
  const packed_weights* gapped = nullptr;
  if (!p.depthwise() && !direct && conv_access::gapped(w) != nullptr) {
    const packed_weights& gw = *conv_access::gapped(w);
    bool zero_w = true;
    for (std::size_t j = 0; z.w_zeros && j < oc; ++j) zero_w = zero_w && z.w_zero(j) == 0;
    const im2col_source probe{input,
                              in,
                              &p,
                              af,
                              0,
                              oh,
                              ow,
                              pad_code{},
                              nullptr,
                              nullptr,
                              &z,
                              nullptr,
                              conv_access::row_gap(w)};
    // The kernel reads the gapped window rows in place: it keeps runs of codes that fit.
    const kernels::ukernel_desc& gk = kernels::kernel_for_rows(*gw.kernel(), m);
    if (zero_w && !row_sums_needed(gw.w_offset(), af, gw.weight_format(), z, oc) &&
        kernels::keeps_runs(gk, kernels::a_run_kind::codes) &&
        probe.packing(gk, 1).from == a_from::runs)
      gapped = &gw;
  }
  if (!p.depthwise()) {
    const packed_weights& pw0 = gapped ? *gapped : conv_access::groups(w)[0];
    gemm_kernel = &kernels::kernel_for_rows(*pw0.kernel(), m);
    // Bit-plane panels (im2col_source::pack_planes): the input once as planes, one image row at
    // a time through the kernel's own row packer (codes that need converting go through a
    // row of scratch first). Only when windows use each input pixel at least once on average:
    // a strided 1x1 convolution reads a quarter of its input, cheaper packed per panel.
    if (!direct && gemm_kernel->a_runs.plane_row != nullptr && cg % 64 == 0 &&
        pw0.kc() >= pw0.cols() && m * taps >= pixels) {
      image_bytes = round64(in.n * in.h * gemm_kernel->a_bits * (in.w * in.c / 8));
      image_scratch = make_u_transform(af).identity ? 0 : round64(in.w * in.c + 64);
    }
  }
  if (p.depthwise()) {
    rest = depthwise_scratch_bytes(pixels * in.c, taps, oc, dw_kg);
  } else {
    const packed_weights& pw0 = gapped ? *gapped : conv_access::groups(w)[0];
    rest = make_plan(kernels::kernel_for_rows(*pw0.kernel(), m), m, pw0.rows(), pw0.cols(),
                     pw0.kc(), true, ex ? ex->threads() : 1, kgrouped)
               .total +
           2 * cache_line;
  }
  std::uint8_t* base = nullptr;
  const std::size_t scratch_parts[] = {sums_bytes, image_bytes, image_scratch, rest};
  std::size_t scratch_bytes = 0;
  for (const std::size_t part : scratch_parts) {
    if (part > std::numeric_limits<std::size_t>::max() - scratch_bytes)
      return {errc::size_overflow, "workspace (input shape)", static_cast<std::int64_t>(in.n)};
    scratch_bytes += part;
  }
  LOWBIT_RETURN_IF_ERROR(ws.acquire(scratch_bytes, base));
  auto* sums = reinterpret_cast<std::uint32_t*>(base);
  // Validate the whole input first (nothing is written on error) and keep per-pixel sums. The
  // scan uses the GEMM kernel's ISA (depthwise has no kernel: the baseline).
  const driver_ops& ops = p.depthwise()
                              ? baseline_driver_ops()
                              : driver_ops_for(conv_access::groups(w)[0].kernel()->features);
  const u_transform ut = make_u_transform(af);
  // Weights stored as their values without weight zero points (gemm.hpp's offset choice): the
  // GEMM epilogue needs no row sums, so the pass only validates (one OR over the whole input).
  const bool sums_needed =
      p.depthwise() ||
      (gapped == nullptr && row_sums_needed(conv_access::groups(w)[0].w_offset(), af,
                                            conv_access::groups(w)[0].weight_format(), z, oc));
  bool whole_ok = false;
  if (!sums_needed && ut.identity) {
    whole_ok = ut.high == 0 || !ops.any_high(input, pixels * in.c, ut.high);
  } else if (groups_scanned == 1 && in.c < 64) {
    // Few channels (a first layer: RGB): one validation pass over the whole tensor instead of a
    // call per pixel, then the per-pixel sums in a plain loop.
    bool bad = false;
    (void)ops.scan_row(ut, input, pixels * in.c, bad);
    whole_ok = !bad;
    if (whole_ok) pixel_sums_few_channels(ut, input, pixels, in.c, sums);
  }
  if (!whole_ok) {  // also finds and names the first invalid code
    // Each group's scan names its first bad code by its index within the group's channels: the
    // error names the first of the whole input, by its flat index pixel * in_c + channel.
    status first;
    for (std::size_t g = 0; g < groups_scanned; ++g) {
      const std::size_t width = p.depthwise() ? in.c : cg;
      const matrix_ref view{input + g * cg, pixels, width, in.c, storage::one_per_byte};
      const status s = scan_rows(view, af, sums + g * pixels, "input", ops.scan_row);
      if (s.ok()) continue;
      if (s.code() != errc::invalid_code) return s;
      const auto at = static_cast<std::size_t>(s.value());
      const auto flat = static_cast<std::int64_t>(at / width * in.c + g * cg + at % width);
      if (first.ok() || flat < first.value()) first = status{errc::invalid_code, "input", flat};
    }
    LOWBIT_RETURN_IF_ERROR(first);
  }
  const pad_code pad = make_pad_code(af, z.a_zero);
  const std::int32_t* tap_sums = conv_access::tap_sums(w);

  if (p.depthwise() && (max_abs_centered(af, z.a_zero) > 32767 || wmax > 32767))
    return {errc::invalid_argument, "zero points (depthwise needs |value - zero| < 2^15)",
            z.a_zero};
  if (p.depthwise()) {
    const im2col_source geo{input, in, &p, af, 0, oh, ow, pad, sums, tap_sums, &z};
    depthwise_conv(geo, w, out, dw_kg, base + sums_bytes);
    return status::success();
  }

  std::uint64_t* image = nullptr;
  if (image_bytes != 0) {
    image = reinterpret_cast<std::uint64_t*>(base + sums_bytes);
    std::uint8_t* converted = base + sums_bytes + image_bytes;
    const std::size_t row_codes = in.w * in.c, image_row = gemm_kernel->a_bits * row_codes / 64;
    for (std::size_t row = 0; row < in.n * in.h; ++row) {
      const std::uint8_t* x = input + row * row_codes;
      if (!ut.identity) {
        convert_row_bytes(ut, x, row_codes, converted);
        x = converted;
      }
      gemm_kernel->a_runs.plane_row(x, row_codes, 1, row_codes, image + row * image_row);
    }
  }
  workspace gemm_ws(base + sums_bytes + image_bytes + image_scratch, rest);
  for (std::size_t g = 0; g < p.groups; ++g) {
    const Stage gs =
        group_counts(group_stage(out, g * ng, p.out_channels,
                                 kgrouped ? (taps * cg + w.k_group() - 1) / w.k_group() : 0),
                     ng, p.out_channels);
    const packed_weights& pw = gapped ? *gapped : conv_access::groups(w)[g];
    if (direct) {
      const matrix_ref a{input + g * cg, m, cg, in.c, storage::one_per_byte};
      const prescanned_source src{{&a, af}, sums + g * pixels};
      LOWBIT_RETURN_IF_ERROR(run_gemm(src, af, pw, gs, gs.zeros, m, gemm_ws, ex));
    } else {
      // Per-pixel sums -> inclusive prefix sums along each input row (im2col_source::scan).
      std::uint32_t* pre = sums + g * pixels;
      if (sums_needed)
        for (std::size_t row = 0; row < in.n * in.h; ++row)
          for (std::size_t x = 1; x < in.w; ++x) pre[row * in.w + x] += pre[row * in.w + x - 1];
      const im2col_source src{input,
                              in,
                              &p,
                              af,
                              g,
                              oh,
                              ow,
                              pad,
                              pre,
                              tap_sums,
                              &z,
                              image,
                              gapped ? conv_access::row_gap(w) : 0,
                              w.k_group(),
                              conv_access::kgroup_sums(w)};
      LOWBIT_RETURN_IF_ERROR(run_gemm(src, af, pw, gs, gs.zeros, m, gemm_ws, ex));
    }
  }
  return status::success();
}

}  // namespace detail

LOWBIT_API status conv2d(const std::uint8_t* input_nhwc, const tensor_shape& in, format af,
                         const packed_conv_weights& w, const int32_output& out, workspace& ws,
                         executor* ex) noexcept {
  return detail::conv2d_impl(input_nhwc, in, af, w, out, ws, ex);
}
LOWBIT_API status conv2d(const std::uint8_t* input_nhwc, const tensor_shape& in, format af,
                         const packed_conv_weights& w, const float_output& out, workspace& ws,
                         executor* ex) noexcept {
  return detail::conv2d_impl(input_nhwc, in, af, w, out, ws, ex);
}
LOWBIT_API status conv2d(const std::uint8_t* input_nhwc, const tensor_shape& in, format af,
                         const packed_conv_weights& w, const quantized_output& out, workspace& ws,
                         executor* ex) noexcept {
  return detail::conv2d_impl(input_nhwc, in, af, w, out, ws, ex);
}

}  // namespace lowbit
