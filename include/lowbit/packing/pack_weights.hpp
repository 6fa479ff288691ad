// lowbit internal: packing weights, the definitions behind lowbit/gemm.hpp's pack_weights,
// query_kernel, query_kernel_for_rows and pack_weights_from_float (included by gemm.hpp, or
// compiled once in the implementation TU: config.hpp, LOWBIT_COMPILED). Which kernels a packing
// holds (choose_layouts), the weight offset (choose_w_offset), and one layout's sizes and bytes
// (layout_sizes_for, pack_layout); packed_weights.hpp holds the result. The data path runs
// formats -> packing -> microkernels -> driver: nothing here includes the driver.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "lowbit/detail/aligned_buffer.hpp"
#include "lowbit/detail/codes.hpp"
#include "lowbit/dispatch/select.hpp"
#include "lowbit/gemm.hpp"
#include "lowbit/limits.hpp"
#include "lowbit/packed_weights.hpp"
#include "lowbit/quantize.hpp"
#if defined(LOWBIT_X86_KERNELS)  // dispatch/registry.hpp
// The bit-dense layouts (dense_family_for, column32_twin_for) name these kernels' panels; with
// the implementation in parts (implementation.hpp) part 0 has no family headers of its own.
#include "lowbit/kernels/dot/dot_pack_x86.hpp"
#include "lowbit/kernels/gemv/gemv_x86.hpp"
#endif
#if defined(LOWBIT_ARM_KERNELS)  // dispatch/registry.hpp: the NEON unpackers (neon_dense_for)
#include "lowbit/kernels/neon/gemv_unpack_neon.hpp"
#endif

namespace lowbit {

namespace detail {
// The kernel for weights of format wf: d, or its signed-weight sibling when that one stores
// these weights' values (signed codes of exactly d's width: no activation row sums needed). A
// kernel forced by name is kept.
inline const kernels::ukernel_desc* kernel_for_weights(const kernels::ukernel_desc* d, format wf,
                                                       const pack_options& opt) noexcept {
  if (d == nullptr || d->signed_w == nullptr || opt.kernel_name != nullptr) return d;
  const affine_map m = affine_of(wf);
  return m.alpha == 1 && -m.beta == d->signed_w->w_offset ? d->signed_w : d;
}
}  // namespace detail

// Which kernel pack_weights would choose for these formats and shape (nullptr: none).
LOWBIT_API const kernels::ukernel_desc* query_kernel(format wf, format af, std::size_t n,
                                                     std::size_t k,
                                                     const pack_options& opt) noexcept {
  if (!is_valid(wf) || !is_valid(af)) return nullptr;
  return detail::kernel_for_weights(select_ukernel(wf.bits, af.bits, n, k, opt), wf, opt);
}

namespace detail {
// The offset W panels store weights at (u - offset). Where the kernel allows a choice and the
// format is value = u + beta, -beta stores each weight's value itself: the epilogue's row-sum term
// alpha_a * (alpha_w * offset + beta_w) is then zero (without weight zero points) and the driver
// skips the row sums. Otherwise the kernel's own offset.
inline int choose_w_offset(const kernels::ukernel_desc& d, format wf) noexcept {
  if (d.pack_w_offset == nullptr) return d.w_offset;
  const affine_map m = affine_of(wf);
  const int off = -m.beta;
  const int max_u = static_cast<int>(code_mask(wf));
  if (m.alpha == 1 && -off >= -128 && max_u - off <= 127) return off;
  return d.w_offset;
}
}  // namespace detail

namespace detail {
// The layouts a packing holds: kernels[0] is the main one (select_ukernel under the options), then
// up to two small-M kernels (kernels/gemv, bit-dense) that the time model
// (expected_throughput) expects to beat the main kernel at some M in 1..small_m_max; for_m[m]
// is the index of the layout a call with m rows runs. Small-M layouts are added only for a
// default packing: no m_hint (a hint in 1..small_m_max packs that kernel alone, bit-dense; a
// larger one the main kernel alone), no kernel forced by name, not one_layout (conv2d's).
// run[m]: the kernel layout for_m[m] runs for m rows when it is not kernel_for_rows' choice (a
// taller sibling over the same panels: with_short_tile's pair seen from the short side; or a
// small-M kernel over panels already stored, same_panels: no layout of its own, so the NEON
// 1-row and 8-row GEMV kernels of a width share one bit-dense layout).
//
// One bit-dense layout instead (dense.row1 != nullptr). x86: where the model picks an 8-row kernel
// for some M, the host has the bit-dense family of the weights' width (kernels/gemv/gemv_x86.hpp
// dense_families: the 8-row kernel, a 1-row kernel over its panels and an unpacker) and the main
// kernel takes the unpacked panels (the int8 dot kernels' 32-row k4 panels), the packing stores
// the family's layout alone (packed with dense.row1, whose K step is the larger): M = 1..8 run
// run[m] on it (the 1-row or the 8-row kernel where the model picked a small-M kernel), and
// every other M the main kernel on panels the driver unpacks per call. NEON: where the main
// kernel is an int8 one with an unpacker and some M runs a GEMV kernel (neon_dense_for).
// Not with k_group (the grouped driver reads stored panels only).
struct dense_layout {
  const kernels::ukernel_desc* rows8;     // the 8-row kernel (x86)
  const kernels::ukernel_desc* row1;      // a small-M kernel over its panels (packs the layout)
  panel_unpack_fn unpack;                 // its panels into the main kernel's
  std::size_t parts = 1, part_bytes = 0;  // main's column tiles a stored panel holds (NEON)
};
struct layout_choice {
  const kernels::ukernel_desc* kernels[3] = {};
  std::size_t count = 0;
  std::uint8_t for_m[small_m_max + 1] = {};
  const kernels::ukernel_desc* run[small_m_max + 1] = {};
  dense_layout dense{};
};

// The bit-dense family for weights of w_bits whose panels main can take unpacked (dense.rows8
// nullptr: none): the narrowest family at least w_bits wide that the options allow.
inline dense_layout dense_family_for(const kernels::ukernel_desc& main, int w_bits,
                                     const pack_options& opt) noexcept {
  dense_layout r{};
#if defined(LOWBIT_X86_KERNELS)
  if (main.pack_w_offset != &kernels::dot::dot_pack_k4<32, 128>::pack_at || main.nr != 32 ||
      opt.k_group != 0)
    return r;
  const feature_set allowed = allowed_features(opt);
  std::size_t count = 0;
  const kernels::gemv::dense_family* fam = kernels::gemv::dense_families(count);
  for (std::size_t i = 0; i < count; ++i) {
    const kernels::gemv::dense_family& f = fam[i];
    if (f.row1.w_bits < w_bits || (f.row1.features & ~allowed) != 0) continue;
    if (r.rows8 != nullptr && r.row1->w_bits <= f.row1.w_bits) continue;
    for_each_ukernel([&](const kernels::ukernel_desc& d) {
      if (std::strcmp(d.name, f.rows8) == 0) r = dense_layout{&d, &f.row1, f.unpack};
    });
  }
#else
  (void)main, (void)w_bits, (void)opt;
#endif
  return r;
}

// The 32-column twin of small-M kernel s that reads main's panels, or nullptr.
inline const kernels::ukernel_desc* column32_twin_for(const kernels::ukernel_desc& s,
                                                      const kernels::ukernel_desc& main) noexcept {
#if defined(LOWBIT_X86_KERNELS)
  std::size_t count = 0;
  const kernels::gemv::column32_twin* t = kernels::gemv::column32_twins(count);
  for (std::size_t i = 0; i < count; ++i)
    if (std::strcmp(t[i].row1, s.name) == 0 && main.pack_w == t[i].main_pack &&
        main.w_bits == t[i].twin.w_bits && main.w_offset == 0 && main.kc_max == t[i].twin.kc_max)
      return &t[i].twin;
#else
  (void)s, (void)main;
#endif
  return nullptr;
}

// NEON (kernels/neon/gemv_unpack_neon.hpp): where the main kernel is an int8 kernel with an
// unpacker from the GEMV panels of the weights' width (the narrowest family at least w_bits
// wide), one bit-dense layout of that width. Each M = 1..small_m_max runs the best by the model
// of the main kernel (or its taller sibling, c.run[m]), charged the unpack per call (its cycles
// per weight over M rows), and the GEMV kernels over those panels whose tile holds M rows;
// larger M the main kernel on panels unpacked per call. False (c unchanged) where there is no
// such family or no M runs a GEMV kernel.
inline bool neon_dense_for(layout_choice& c, int w_bits, std::size_t n, std::size_t k,
                           const pack_options& opt) noexcept {
#if defined(LOWBIT_ARM_KERNELS)
  const kernels::ukernel_desc& main = *c.kernels[0];
  if (opt.k_group != 0 || 32 % main.k_step != 0) return false;
  std::size_t count = 0;
  const kernels::neon::dense_family* fam = kernels::neon::dense_families(count);
  const kernels::neon::dense_family* f = nullptr;
  for (std::size_t i = 0; i < count; ++i)
    if (fam[i].main_pack == main.pack_w && fam[i].main_nr == main.nr && fam[i].bits >= w_bits &&
        (f == nullptr || fam[i].bits < f->bits))
      f = &fam[i];
  if (f == nullptr) return false;
  const feature_set allowed = allowed_features(opt);
  const auto over_panels = [&](const kernels::ukernel_desc& t) {
    return t.pack_w == f->stored_pack && t.w_bits == f->bits && (t.features & ~allowed) == 0 &&
           t.kc_max <= main.kc_max;
  };
  std::size_t tallest = 0;  // the most rows a GEMV tile over the panels holds
  for_each_ukernel([&](const kernels::ukernel_desc& t) {
    if (over_panels(t) && t.mr > tallest) tallest = t.mr;
  });
  const kernels::ukernel_desc* run[small_m_max + 1] = {};
  const kernels::ukernel_desc* stored = nullptr;
  for (std::size_t m = small_m_max; m >= 1; --m) {
    // c.run[m], where the model kept the main layout: the main kernel's taller sibling.
    const kernels::ukernel_desc& own = kernels::kernel_for_rows(main, m);
    const kernels::ukernel_desc& d = c.for_m[m] == 0 && c.run[m] != nullptr ? *c.run[m] : own;
    const double s = expected_throughput(d, m, n, k);
    double best = s > 0.0 ? 1.0 / (1.0 / s + f->unpack_cycles / static_cast<double>(m)) : 0.0;
    run[m] = &d == &own ? nullptr : &d;
    for_each_ukernel([&](const kernels::ukernel_desc& t) {
      // Where no GEMV tile holds M rows (Armv7: 1-row kernels only), one runs a tile of rows
      // after another, each reading every weight: its rate at its own rows, less the padding.
      if (!over_panels(t) || (t.mr < m && tallest >= m)) return;
      const double st = t.mr >= m ? expected_throughput(t, m, n, k)
                                  : expected_throughput(t, t.mr, n, k) * static_cast<double>(m) /
                                        static_cast<double>(kernels::round_up(m, t.mr));
      if (st > best) {
        best = st;
        run[m] = &t;
      }
    });
    // The layout is packed by a GEMV kernel of the smallest M that runs one.
    if (run[m] != nullptr && run[m]->bytes_per_weight > 0.0f) stored = run[m];
  }
  if (stored == nullptr) return false;
  for (std::size_t m = 1; m <= small_m_max; ++m) {
    c.run[m] = run[m];
    c.for_m[m] = 0;
  }
  c.count = 1;
  c.dense = dense_layout{nullptr, stored, f->unpack, f->parts, f->part_bytes};
  return true;
#else
  (void)c, (void)w_bits, (void)n, (void)k, (void)opt;
  return false;
#endif
}

inline layout_choice choose_layouts(format wf, format af, std::size_t n, std::size_t k,
                                    const pack_options& opt) noexcept {
  layout_choice c;
  c.kernels[0] = kernel_for_weights(select_ukernel(wf.bits, af.bits, n, k, opt), wf, opt);
  if (c.kernels[0] == nullptr) return c;
  c.count = 1;
  if (opt.m_hint != 0 || opt.kernel_name != nullptr || opt.one_layout || opt.a_in_place ||
      opt.a_plane_image || opt.a_window_row != 0)
    return c;
  // Candidates: the kernels a hint of 1 and of small_m_max would pack for.
  const kernels::ukernel_desc* cand[2] = {};
  for (std::size_t i = 0; i < 2; ++i) {
    pack_options o = opt;
    o.m_hint = i == 0 ? 1 : small_m_max;
    const kernels::ukernel_desc* s =
        kernel_for_weights(select_ukernel(wf.bits, af.bits, n, k, o), wf, o);
    if (s != nullptr && s->bytes_per_weight > 0.0f && s != c.kernels[0] && s != cand[0])
      cand[i] = s;
  }
  // A kernel whose short-tile sibling is the main kernel reads the main layout's panels too:
  // at small M a taller tile can pad less (M = 8 in one 8-row tile, not two 7-row ones).
  const kernels::ukernel_desc* tall = nullptr;
  const feature_set allowed = allowed_features(opt);
  for_each_ukernel([&](const kernels::ukernel_desc& t) {
    if (t.short_tile == c.kernels[0] && (t.features & ~allowed) == 0) tall = &t;
  });
  // Per M, the best of the main kernel (or its short-tile sibling, or its taller one) and the
  // candidates whose tile holds all M rows (a shorter one would stream the weights once per row
  // tile).
  for (std::size_t m = 1; m <= small_m_max; ++m) {
    const kernels::ukernel_desc* best = &kernels::kernel_for_rows(*c.kernels[0], m);
    double best_score = expected_throughput(*best, m, n, k);
    if (tall != nullptr && expected_throughput(*tall, m, n, k) > best_score) {
      best_score = expected_throughput(*tall, m, n, k);
      c.run[m] = tall;
    }
    const kernels::ukernel_desc* pick = nullptr;
    for (const kernels::ukernel_desc* s : cand) {
      if (s == nullptr || s->mr < m) continue;
      const double score = expected_throughput(*s, m, n, k);
      if (score > best_score) {
        best_score = score;
        pick = s;
      }
    }
    if (pick == nullptr) continue;
    c.run[m] = nullptr;
    std::size_t idx = 1;
    while (idx < c.count && c.kernels[idx] != pick) ++idx;
    if (idx == c.count) c.kernels[c.count++] = pick;
    c.for_m[m] = static_cast<std::uint8_t>(idx);
  }
  // A small-M kernel with a 32-column twin over the main layout's panels (gemv_x86.hpp
  // column32_twins) runs as that twin on them: no layout of its own.
  std::size_t kept = 1;
  for (std::size_t i = 1; i < c.count; ++i) {
    const kernels::ukernel_desc* twin = column32_twin_for(*c.kernels[i], *c.kernels[0]);
    for (std::size_t m = 1; m <= small_m_max; ++m) {
      if (c.for_m[m] != i) continue;
      c.for_m[m] = twin != nullptr ? 0 : static_cast<std::uint8_t>(kept);
      if (twin != nullptr) c.run[m] = twin;
    }
    if (twin == nullptr) c.kernels[kept++] = c.kernels[i];
  }
  c.count = kept;
  if (neon_dense_for(c, wf.bits, n, k, opt)) return c;
  // One bit-dense layout where the model picked an 8-row small-M kernel: each M keeps the kind
  // of kernel it picked (1-row, 8-row, or the main one, now on unpacked panels).
  bool rows8 = false;
  for (std::size_t i = 1; i < c.count; ++i) rows8 |= c.kernels[i]->mr > 1;
  const dense_layout dense = rows8 ? dense_family_for(*c.kernels[0], wf.bits, opt) : dense_layout{};
  if (dense.rows8 == nullptr) {
    // Otherwise each set of identical bytes is stored once: a small-M kernel over the main
    // layout's panels runs on them, and small-M kernels over one another's panels share one
    // layout; run[m] names the kernel M runs when it is not its layout's own.
    kept = 1;
    for (std::size_t i = 1; i < c.count; ++i) {
      std::size_t j = 0;
      while (j < kept && !same_panels(*c.kernels[i], *c.kernels[j])) ++j;
      for (std::size_t m = 1; m <= small_m_max; ++m) {
        if (c.for_m[m] != i) continue;
        c.for_m[m] = static_cast<std::uint8_t>(j);
        if (j < kept) c.run[m] = c.kernels[i];
      }
      if (j == kept) c.kernels[kept++] = c.kernels[i];
    }
    c.count = kept;
    return c;
  }
  for (std::size_t m = 1; m <= small_m_max; ++m) {
    if (c.for_m[m] != 0) c.run[m] = c.kernels[c.for_m[m]]->mr == 1 ? dense.row1 : dense.rows8;
    c.for_m[m] = 0;
  }
  c.count = 1;
  c.dense = dense;
  return c;
}

// The sizes of one layout of N x K weights for kernel d (pack_layout allocates them; conv's
// gemm_packing_bytes counts them): K blocks of kc (one a group with k_group), NR-row panels of
// all K blocks, and the column sums (one row, then one a group) ahead of the panels.
struct layout_sizes {
  std::size_t kc = 0, k_blocks = 0, kblock_stride = 0, tiles = 0, panel_stride = 0;
  std::size_t groups = 0;   // K groups with column sums of their own (0: not grouped)
  std::size_t sums = 0;     // bytes of column sums
  std::size_t panels = 0;   // bytes of panels
  std::size_t scratch = 0;  // bytes of one panel's u-code rows, the packing scratch
};

// False when the bytes overflow size_t. K is at least 1 (validate_matrix).
inline bool layout_sizes_for(const kernels::ukernel_desc& d, std::size_t n, std::size_t k,
                             std::size_t k_group, layout_sizes& s) noexcept {
  const std::size_t kc_cap = d.kc_max / d.k_step * d.k_step;
  const std::size_t k_rounded = kernels::round_up(k, d.k_step);
  // Grouped weights: one K block per group (select_ukernel checked the K step divides it).
  s.kc = k_group ? k_group : (k_rounded < kc_cap ? k_rounded : kc_cap);
  s.k_blocks = (k + s.kc - 1) / s.kc;
  s.kblock_stride = round64(d.w_panel_bytes(s.kc));
  s.tiles = (n + d.nr - 1) / d.nr;
  s.groups = k_group ? s.k_blocks : 0;
  s.scratch = std::size_t{d.nr} * k + 64;
  if (!mul_size(s.k_blocks, s.kblock_stride, s.panel_stride) ||
      !mul_size(s.tiles, s.panel_stride, s.panels))
    return false;
  // N column sums, then for grouped packings NR per column panel and group
  // (packed_weights::group_column_sums).
  std::size_t gsums = 0;
  if (!mul_size(s.tiles * d.nr, s.groups, gsums) || gsums > SIZE_MAX / 8) return false;
  s.sums = round64((packed_weights::group_sums_offset(n) + gsums) * sizeof(std::uint32_t));
  return s.panels <= SIZE_MAX - s.sums;
}

// Packs w for kernel d alone (one layout) into out, which is empty on entry.
inline status pack_layout(const matrix_ref& w, format wf, int a_bits, const u_table& table,
                          const kernels::ukernel_desc* d, std::size_t k_group,
                          packed_weights& out) noexcept {
  const std::size_t n = w.rows, k = w.cols;
  layout_sizes ls;
  if (!layout_sizes_for(*d, n, k, k_group, ls))
    return {errc::size_overflow, "N * K", static_cast<std::int64_t>(n)};
  const std::size_t kc = ls.kc, k_blocks = ls.k_blocks, kblock_stride = ls.kblock_stride;
  const std::size_t tiles = ls.tiles, panel_stride = ls.panel_stride, panels = ls.panels;
  const std::size_t groups = ls.groups, sums = ls.sums;

  aligned_buffer& buf = packed_weights_access::buffer(out);
  if (!buf.allocate(sums + panels))
    return {errc::out_of_memory, "packed weights", static_cast<std::int64_t>(sums + panels)};
  aligned_buffer rows_u;
  if (!rows_u.allocate(ls.scratch)) {
    buf.release();
    return {errc::out_of_memory, "packing scratch", static_cast<std::int64_t>(d->nr * k)};
  }
  const int w_offset = choose_w_offset(*d, wf);
  auto* col_sums = reinterpret_cast<std::uint32_t*>(buf.bytes());
  std::memset(buf.bytes(), 0, sums);
  for (std::size_t t = 0; t < tiles; ++t) {
    const std::size_t n0 = t * d->nr;
    const std::size_t rows = (n - n0) < d->nr ? (n - n0) : d->nr;
    to_u_codes(w, wf, table, n0, rows, 0, k, rows_u.bytes(), k);
    for (std::size_t r = 0; r < rows; ++r) {
      std::uint32_t s = 0;
      std::uint32_t* gs = col_sums + packed_weights::group_sums_offset(n) + t * groups * d->nr + r;
      for (std::size_t x = 0; x < k; ++x) {
        s += rows_u.bytes()[r * k + x];
        if (groups) gs[x / kc * d->nr] += rows_u.bytes()[r * k + x];
      }
      col_sums[n0 + r] = s;
    }
    for (std::size_t kb = 0; kb < k_blocks; ++kb) {
      const std::size_t kcb = (kb + 1 < k_blocks) ? kc : k - kb * kc;
      void* dst = buf.bytes() + sums + t * panel_stride + kb * kblock_stride;
      if (d->pack_w_offset != nullptr)
        d->pack_w_offset(rows_u.bytes() + kb * kc, k, rows, kcb, dst, w_offset);
      else
        d->pack_w(rows_u.bytes() + kb * kc, k, rows, kcb, dst);
    }
  }
  packed_weights_access::set_layout(out, d, wf, a_bits, n, k, kc, sums, panel_stride, kblock_stride,
                                    w_offset, k_group);
  return status::success();
}
}  // namespace detail

// The kernel a gemm call with M rows runs on weights pack_weights packs with these options
// (packed_weights::kernel_name(M)), or nullptr when none qualifies.
LOWBIT_API const kernels::ukernel_desc* query_kernel_for_rows(format wf, format af, std::size_t n,
                                                              std::size_t k, std::size_t m,
                                                              const pack_options& opt) noexcept {
  if (!is_valid(wf) || !is_valid(af)) return nullptr;
  const detail::layout_choice c = detail::choose_layouts(wf, af, n, k, opt);
  if (c.count == 0) return nullptr;
  const std::size_t i = m <= detail::small_m_max ? c.for_m[m] : 0;
  if (m <= detail::small_m_max && c.run[m] != nullptr) return c.run[m];
  return &kernels::kernel_for_rows(*c.kernels[i], m);
}

// Packs N x K weight codes (w.rows = N, w.cols = K) of format wf, for activations of format af
// (its bit width selects the kernel), into `out`: the main layout and, by default, the small-M
// layouts choose_layouts adds. On failure `out` is left empty.
LOWBIT_API status pack_weights(const matrix_ref& w, format wf, format af, packed_weights& out,
                               const pack_options& opt) noexcept {
  detail::packed_weights_access::clear(out);
  LOWBIT_RETURN_IF_ERROR(detail::validate_format(wf, "w_format.bits", "w_format.enc"));
  LOWBIT_RETURN_IF_ERROR(detail::validate_format(af, "a_format.bits", "a_format.enc"));
  LOWBIT_RETURN_IF_ERROR(detail::validate_matrix(w, wf, "w.data", "N", "K", "w.stride"));
  const std::int64_t kmax = max_k(af, wf);
  if (static_cast<std::int64_t>(w.cols) > kmax)
    return {errc::accumulator_overflow, "K", static_cast<std::int64_t>(w.cols), kmax};
  detail::u_table table;
  detail::make_u_table(wf, table);
  LOWBIT_RETURN_IF_ERROR(detail::find_invalid_code(w, wf, table, "w.data"));

  const detail::layout_choice c = detail::choose_layouts(wf, af, w.rows, w.cols, opt);
  const kernels::ukernel_desc* d = c.kernels[0];
  if (d == nullptr && opt.kernel_name != nullptr)
    return status::bad_name(errc::unsupported_isa, "options.kernel_name", opt.kernel_name,
                            "a kernel this host runs under the ISA cap, as wide as the formats, "
                            "whose K step divides k_group (lowbit_info --all lists them)",
                            static_cast<std::int64_t>(opt.algo));
  if (d == nullptr) {
    const algorithm a = opt.algo != algorithm::automatic ? opt.algo : forced_algorithm();
    return status::bad_name(errc::unsupported_isa, "options.algo", algorithm_name(a),
                            "an algorithm with a kernel for these widths under the ISA cap whose "
                            "K step divides k_group (lowbit_info --all lists them)",
                            static_cast<std::int64_t>(opt.algo));
  }
  if (c.dense.row1 != nullptr) {
    LOWBIT_RETURN_IF_ERROR(
        detail::pack_layout(w, wf, af.bits, table, c.dense.row1, opt.k_group, out));
    detail::packed_weights_access::set_dense(out, d, c.dense.unpack,
                                             detail::choose_w_offset(*d, wf), c.run, c.dense.parts,
                                             c.dense.part_bytes);
    detail::log_kernel_choice(out, wf.bits, encoding_name(wf.enc), af.bits);
    return status::success();
  }
  packed_weights smalls[2];
  for (std::size_t i = 1; i < c.count; ++i) {
    const status s =
        detail::pack_layout(w, wf, af.bits, table, c.kernels[i], opt.k_group, smalls[i - 1]);
    if (!s.ok()) return s;
  }
  LOWBIT_RETURN_IF_ERROR(detail::pack_layout(w, wf, af.bits, table, d, opt.k_group, out));
  if (!detail::packed_weights_access::set_small(out, smalls, c.count - 1, c.for_m, c.run)) {
    detail::packed_weights_access::clear(out);
    return {errc::out_of_memory, "packed weights",
            static_cast<std::int64_t>((c.count - 1) * sizeof(packed_weights))};
  }
  detail::log_kernel_choice(out, wf.bits, encoding_name(wf.enc), af.bits);
  return status::success();
}

// Quantizes float weights (N x K, row stride ld) per output channel and packs them, with the
// caller's parameters or calibrated ones. Writes the parameters used (N each) and, if asked, the
// codes; only on success.
LOWBIT_API status pack_weights_from_float(const float* w, std::size_t n, std::size_t k,
                                          std::size_t ld, format wf, format af,
                                          const from_float_options& options, packed_weights& out,
                                          float* scales_out, std::int32_t* zeros_out,
                                          const pack_options& opt) noexcept {
  detail::packed_weights_access::clear(out);
  const std::size_t codes_ld = options.codes_ld ? options.codes_ld : k;
  if (options.codes_out != nullptr) {
    if (codes_ld < k)
      return {errc::leading_dimension_too_small, "options.codes_ld", std::int64_t(codes_ld),
              std::int64_t(k)};
    LOWBIT_RETURN_IF_ERROR(detail::check_extent(n, k, codes_ld, "N * options.codes_ld"));
  }
  if (options.scales != nullptr) {
    LOWBIT_RETURN_IF_ERROR(detail::validate_format(wf, "w_format.bits", "w_format.enc"));
    for (std::size_t r = 0; r < n; ++r)
      if (!(options.scales[r] > 0.0f) || !std::isfinite(options.scales[r]))
        return {errc::invalid_argument, "options.scales", std::int64_t(r)};
  }
  std::size_t total = 0, params_bytes = 0;
  if (!detail::mul_size(n, k, total) || !detail::mul_size(n, sizeof(quant_params), params_bytes))
    return {errc::size_overflow, "N * K", std::int64_t(n)};
  detail::aligned_buffer params(params_bytes), codes(total);
  if ((n && params.empty()) || (total && codes.empty()))
    return {errc::out_of_memory, "quantization scratch", static_cast<std::int64_t>(total)};
  auto* p = reinterpret_cast<quant_params*>(params.data());
  if (options.scales != nullptr) {
    for (std::size_t r = 0; r < n; ++r)
      p[r] = {options.scales[r], options.zero_points ? options.zero_points[r] : 0};
  } else {
    LOWBIT_RETURN_IF_ERROR(
        choose_quant_params_per_channel(w, n, k, ld, wf, options.mode, options.calibration, p));
  }
  LOWBIT_RETURN_IF_ERROR(quantize_per_channel(w, n, k, ld, wf, p, codes.bytes(), k));
  LOWBIT_RETURN_IF_ERROR(pack_weights(lowbit::codes(codes.bytes(), n, k), wf, af, out, opt));
  for (std::size_t r = 0; r < n; ++r) {
    if (scales_out != nullptr) scales_out[r] = p[r].scale;
    if (zeros_out != nullptr) zeros_out[r] = p[r].zero_point;
    if (options.codes_out != nullptr && k != 0)
      std::memcpy(options.codes_out + r * codes_ld, codes.bytes() + r * k, k);
  }
  return status::success();
}

// The same with parameters chosen by quant_calibration::automatic; scales_out and zeros_out
// are required.
LOWBIT_API status pack_weights_from_float(const float* w, std::size_t n, std::size_t k,
                                          std::size_t ld, format wf, format af, quant_mode mode,
                                          packed_weights& out, float* scales_out,
                                          std::int32_t* zeros_out,
                                          const pack_options& opt) noexcept {
  detail::packed_weights_access::clear(out);
  if (scales_out == nullptr) return {errc::null_pointer, "scales_out"};
  if (zeros_out == nullptr) return {errc::null_pointer, "zeros_out"};
  from_float_options options;
  options.mode = mode;
  return pack_weights_from_float(w, n, k, ld, wf, af, options, out, scales_out, zeros_out, opt);
}

}  // namespace lowbit
