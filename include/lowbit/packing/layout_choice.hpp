// lowbit internal: which layouts a packing of weights holds (choose_layouts): the main kernel,
// the small-M kernels the time model (dispatch/select.hpp expected_throughput) expects to beat it
// at some M, and the one bit-dense layout where the small-M kernels' panels serve every M (x86
// dense_family_for, NEON neon_dense_for). Apart from pack_weights.hpp, which defines the entry
// points, so that tests of the choice can include it in compile-once builds (config.hpp,
// LOWBIT_COMPILED).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <initializer_list>

#include "lowbit/dispatch/select.hpp"
#include "lowbit/format.hpp"
#include "lowbit/packed_weights.hpp"
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
                                                       const dispatch_options& opt) noexcept {
  if (d == nullptr || d->signed_w == nullptr || opt.kernel_name != nullptr) return d;
  const affine_map m = affine_of(wf);
  return m.alpha == 1 && -m.beta == d->signed_w->w_offset ? d->signed_w : d;
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
// One bit-dense layout instead (dense.row1 != nullptr). x86: where the host has the bit-dense
// family of the weights' width (kernels/gemv/gemv_x86.hpp dense_families: the 8-row kernel, a
// 1-row kernel over its panels and an unpacker) and the main kernel takes the unpacked panels
// (the int8 dot kernels' 32-row k4 panels), the packing stores the family's layout alone
// (packed with dense.row1, whose K step is the larger): M = 1..8 run run[m] on it (the 1-row
// or the 8-row kernel, or the main kernel charged the unpack, whichever the model rates
// best), and every other M the main kernel on panels the driver unpacks per call. NEON: where the
// main kernel is an int8 one with an unpacker and some M runs a GEMV kernel (neon_dense_for). Not
// with k_group (the grouped driver reads stored panels only).
struct dense_layout {
  const kernels::ukernel_desc* rows8;     // the 8-row kernel (x86)
  const kernels::ukernel_desc* row1;      // a small-M kernel over its panels (packs the layout)
  panel_unpack_fn unpack;                 // its panels into the main kernel's
  std::size_t parts = 1, part_bytes = 0;  // main's column tiles a stored panel holds (NEON)
  double unpack_cycles = 0.0;             // the unpacker's cycles per weight (x86)
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
                                     const dispatch_options& opt) noexcept {
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
  if (r.rows8 != nullptr) r.unpack_cycles = kernels::gemv::dense_unpack_cycles(r.row1->w_bits);
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
                           const dispatch_options& opt,
                           const core_profile& core = host_core_profile()) noexcept {
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
    const double s = expected_throughput(d, m, n, k, false, false, 0, core);
    double best = s > 0.0 ? 1.0 / (1.0 / s + f->unpack_cycles / static_cast<double>(m)) : 0.0;
    run[m] = &d == &own ? nullptr : &d;
    for_each_ukernel([&](const kernels::ukernel_desc& t) {
      // Where no GEMV tile holds M rows (Armv7: 1-row kernels only), one runs a tile of rows
      // after another, each reading every weight: its rate at its own rows, less the padding.
      if (!over_panels(t) || (t.mr < m && tallest >= m)) return;
      const double st = t.mr >= m ? expected_throughput(t, m, n, k, false, false, 0, core)
                                  : expected_throughput(t, t.mr, n, k, false, false, 0, core) *
                                        static_cast<double>(m) /
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
  (void)c, (void)w_bits, (void)n, (void)k, (void)opt, (void)core;
  return false;
#endif
}

inline layout_choice choose_layouts(format wf, format af, std::size_t n, std::size_t k,
                                    const dispatch_options& opt) noexcept {
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
    dispatch_options o = opt;
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
  // One bit-dense layout wherever the host has the family for the weights' width and the main
  // kernel takes its panels unpacked, whatever the model picked at small M (so the default's
  // size does not depend on the core profile or the shape): each M = 1..small_m_max runs the
  // best by the model of the family's 1-row kernel (M = 1), its 8-row kernel, and the main
  // kernel (or its taller sibling) charged the unpack per call (its cycles per weight over M
  // rows); larger M the main kernel on unpacked panels.
  const dense_layout dense = dense_family_for(*c.kernels[0], wf.bits, opt);
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
  const double unpack = dense.unpack_cycles;
  for (std::size_t m = 1; m <= small_m_max; ++m) {
    const kernels::ukernel_desc& own = kernels::kernel_for_rows(*c.kernels[0], m);
    const kernels::ukernel_desc& main_m = c.for_m[m] == 0 && c.run[m] != nullptr ? *c.run[m] : own;
    const double s = expected_throughput(main_m, m, n, k);
    double best = s > 0.0 ? 1.0 / (1.0 / s + unpack / static_cast<double>(m)) : 0.0;
    c.run[m] = &main_m == &own ? nullptr : &main_m;
    for (const kernels::ukernel_desc* t : {dense.row1, dense.rows8}) {
      if (t->mr < m) continue;
      const double st = expected_throughput(*t, m, n, k);
      if (st > best) {
        best = st;
        c.run[m] = t;
      }
    }
    c.for_m[m] = 0;
  }
  c.count = 1;
  c.dense = dense;
  return c;
}
}  // namespace detail
}  // namespace lowbit
