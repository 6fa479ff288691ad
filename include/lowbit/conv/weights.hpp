// lowbit internal (conv): packing convolution weights (pack_conv_weights): per-group GEMM
// weights, tap and K-group sums for the padding correction, depthwise values, and the gapped copy
// for kernels that read window rows in place.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <utility>

#include "lowbit/conv/a_sources.hpp"
#include "lowbit/conv/access.hpp"
#include "lowbit/conv/declarations.hpp"
#include "lowbit/conv/geometry.hpp"
#include "lowbit/detail/aligned_buffer.hpp"
#include "lowbit/detail/codes.hpp"
#include "lowbit/driver/gemm_impl.hpp"
#include "lowbit/packing/pack_weights.hpp"

namespace lowbit {
namespace detail {

// What a bump allocator spends on one request: lowbit asks for cache_line alignment.
constexpr std::size_t arena_bytes(std::size_t bytes) noexcept { return round64(bytes); }

// Allocator bytes pack_weights(N x K) asks for (arena_bytes of each request: the packed buffer,
// then the packing scratch), or 0 when it would find no kernel or the sizes overflow. The sizes
// are pack_layout's own (packing/pack_weights.hpp layout_sizes_for); tests/test_allocator.cpp
// checks they agree with what the allocator sees.
inline std::size_t gemm_packing_bytes(std::size_t n, std::size_t k, format wf, format af,
                                      const pack_options& opt) noexcept {
  const kernels::ukernel_desc* d = query_kernel(wf, af, n, k, opt);
  if (d == nullptr || n == 0 || k == 0) return 0;
  layout_sizes s;
  if (!layout_sizes_for(*d, n, k, opt.k_group, s)) return 0;
  return arena_bytes(s.sums + s.panels) + arena_bytes(s.scratch);
}

// The gapped copy's row gap (0: none) and its K, as pack_gapped_conv_weights decides them.
inline std::size_t gapped_conv_k(const conv_params& p, format wf, format af,
                                 const pack_options& opt, std::size_t& gap) noexcept {
  // Per-group scales name K positions of the ungapped weights: no gapped copy then.
  gap = opt.k_group != 0 ? 0 : window_row_gap(p, wf);
  if (gap == 0) return 0;
  const std::size_t kg = p.kernel_h * (p.kernel_w * p.in_channels + gap);
  if (static_cast<std::int64_t>(kg) > max_k(af, wf)) gap = 0;
  return gap != 0 ? kg : 0;
}

// Packs the gapped copy of conv weights (packed_conv_weights::gapped_) when the kernel chosen for
// it reads window rows in place; otherwise leaves none. Fails only when out of memory.
inline status pack_gapped_conv_weights(const std::uint8_t* w_ohwi, const conv_params& p, format wf,
                                       format af, const pack_options& opt,
                                       packed_conv_weights& out) noexcept {
  std::size_t gap = 0;
  const std::size_t kg = gapped_conv_k(p, wf, af, opt, gap);
  if (gap == 0) return status::success();
  const std::size_t row = p.kernel_w * p.in_channels, k = p.taps() * p.in_channels;
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
  allocated_array<packed_weights> g;
  if (!g.create(1)) return {errc::out_of_memory, "conv weights"};
  pack_options in_place = opt;  // the gapped weights exist only to be read in place
  in_place.a_in_place = true;
  LOWBIT_RETURN_IF_ERROR(
      pack_weights(codes(gapped_codes, p.out_channels, kg), wf, af, *g.get(), in_place));
  const kernels::ukernel_desc* d = g.get()->kernel();
  if (!kernels::keeps_runs(*d, kernels::a_run_kind::codes) || (row + gap) % d->k_step != 0 ||
      g.get()->kc() < kg)
    return status::success();  // no kernel to read the rows in place: the plain packing serves
  conv_access::set_gapped(out, std::move(g), gap);
  return status::success();
}

// Checks pack_conv_weights' arguments but the weight codes (the pointer too when check_w); K on
// success.
inline status check_conv_packing(const std::uint8_t* w_ohwi, bool check_w, const conv_params& p,
                                 format wf, format af, std::size_t& k) noexcept {
  LOWBIT_RETURN_IF_ERROR(validate_conv_params(p));
  LOWBIT_RETURN_IF_ERROR(validate_format(wf, "w_format.bits", "w_format.enc"));
  LOWBIT_RETURN_IF_ERROR(validate_format(af, "a_format.bits", "a_format.enc"));
  if (check_w && w_ohwi == nullptr) return {errc::null_pointer, "w"};
  k = p.taps() * p.in_per_group();
  const std::int64_t kmax = max_k(af, wf);
  if (static_cast<std::int64_t>(k) > kmax)
    return {errc::accumulator_overflow, "kernel_h * kernel_w * in_channels / groups",
            static_cast<std::int64_t>(k), kmax};
  return status::success();
}

}  // namespace detail

LOWBIT_API std::size_t pack_conv_weights_size(const conv_params& p, format wf, format af,
                                              const pack_options& opt) noexcept {
  std::size_t k = 0;
  if (!detail::check_conv_packing(nullptr, false, p, wf, af, k).ok()) return 0;
  using detail::arena_bytes;
  const std::size_t taps = p.taps(), cg = p.in_per_group();
  std::size_t total = arena_bytes(p.out_channels * taps * sizeof(std::int32_t) + 64);
  if (p.depthwise()) return total + arena_bytes(taps * p.out_channels * sizeof(std::int16_t) + 64);
  if (opt.k_group != 0) {
    const detail::kgroup_segments segs{taps, cg, opt.k_group};
    total += arena_bytes(p.out_channels * segs.count() * sizeof(std::int32_t) + 64);
  }
  total += arena_bytes(detail::allocated_array<packed_weights>::bytes(p.groups));
  const std::size_t each =
      detail::gemm_packing_bytes(p.out_per_group(), k, wf, af, detail::conv_a_sources(p, af, opt));
  if (each == 0) return 0;
  total += p.groups * each;
  std::size_t gap = 0;
  const std::size_t kg = detail::gapped_conv_k(p, wf, af, opt, gap);
  if (gap != 0) {
    pack_options in_place = opt;
    in_place.a_in_place = true;
    total += arena_bytes(p.out_channels * kg) +
             arena_bytes(detail::allocated_array<packed_weights>::bytes(1)) +
             detail::gemm_packing_bytes(p.out_channels, kg, wf, af, in_place);
  }
  return total;
}

// Packs OHWI weight codes (one per byte) for convolutions with these parameters. Every
// allocation goes through the allocator; when one fails, the error names the bytes the whole
// packing needs (pack_conv_weights_size).
LOWBIT_API status pack_conv_weights(const std::uint8_t* w_ohwi, const conv_params& p, format wf,
                                    format af, packed_conv_weights& out,
                                    const pack_options& opt) noexcept {
  out = packed_conv_weights{};
  // Per-group scales go to conv2d at call time (float_output::w_group_scales); the conv
  // packings store none.
  if (opt.group_scales != nullptr || opt.group_scales_f16 != nullptr || opt.group_zeros != nullptr)
    return {errc::invalid_argument,
            "options.group_scales (pack_conv_weights stores no group scales: give conv2d "
            "float_output::w_group_scales)"};
  std::size_t k = 0;
  LOWBIT_RETURN_IF_ERROR(detail::check_conv_packing(w_ohwi, true, p, wf, af, k));
  const std::size_t taps = p.taps(), cg = p.in_per_group(), ng = p.out_per_group();
  const matrix_ref all = codes(w_ohwi, p.out_channels, k);
  detail::u_table table;
  detail::make_u_table(wf, table);
  LOWBIT_RETURN_IF_ERROR(detail::find_invalid_code(all, wf, table, "w"));
  // Out of memory anywhere: nothing kept, and the bytes the whole packing needs.
  const auto no_memory = [&]() noexcept -> status {
    out = packed_conv_weights{};
    return {errc::out_of_memory, "conv weights",
            static_cast<std::int64_t>(pack_conv_weights_size(p, wf, af, opt))};
  };
  using A = detail::conv_access;
  if (!A::tap_sums_buffer(out).allocate(p.out_channels * taps * sizeof(std::int32_t) + 64))
    return no_memory();
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
      return no_memory();
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
      return no_memory();
    auto* v = reinterpret_cast<std::int16_t*>(A::depthwise_buffer(out).data());
    for (std::size_t oc = 0; oc < p.out_channels; ++oc)
      for (std::size_t t = 0; t < taps; ++t)
        v[t * p.out_channels + oc] =
            static_cast<std::int16_t>(detail::code_value_at(all, wf, oc, t));
  } else {
    if (!A::groups_slot(out).create(p.groups)) return no_memory();
    const pack_options group_opt = detail::conv_a_sources(p, af, opt);
    for (std::size_t g = 0; g < p.groups; ++g) {
      const status s =
          pack_weights(codes(w_ohwi + g * ng * k, ng, k), wf, af, A::groups(out)[g], group_opt);
      if (s.code() == errc::out_of_memory) return no_memory();
      if (!s.ok()) {
        out = packed_conv_weights{};
        return s;
      }
    }
    const status s = detail::pack_gapped_conv_weights(w_ohwi, p, wf, af, opt, out);
    if (s.code() == errc::out_of_memory) return no_memory();
    if (!s.ok()) {
      out = packed_conv_weights{};
      return s;
    }
  }
  A::finish(out, p, wf, af.bits, opt.k_group);
  return status::success();
}

}  // namespace lowbit
