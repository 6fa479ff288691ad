// lowbit internal: the GEMM driver, BLIS loops around one microkernel.
//
//   for ic in M, step MC:            activations of MC rows -> u-codes -> packed A block (all of K)
//     for jt in N, step NR:          one packed weight panel (prepacked: nothing to do here)
//       for it in MC, step MR:       one MR x NR tile
//         for kb in K, step KC:      microkernel, accumulating in a tile buffer (or in C)
//         epilogue:                  u-code sums -> exact int32 -> output stage, while hot
//
// NC is all of N (weights are packed once, whole), and K blocks sit innermost so the epilogue is
// fused per tile without an M x N accumulator; KC only respects the kernel's accumulator bound.
// The A block (MC x K, low-bit) stays in L2 while weight panels stream through L1. A kernel that
// reads A in place swaps the it and jt loops when the weights are small (gemm_block_runner).
//
// A is validated (and its row sums taken, when the epilogue needs them) just before it is
// packed, per block or per MR rows, so A is read from memory once (a whole-matrix pre-pass read
// it twice: at small N that second read cost as much as a tenth of the call) and the pass runs
// in parallel with the rest. An invalid code therefore stops only the rows from its MR-row group
// to the end of its block: other rows may already hold results. The error names the first
// invalid code of the whole matrix whatever the thread count.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "lowbit/detail/codes.hpp"
#include "lowbit/detail/half.hpp"
#include "lowbit/detail/row_scan.hpp"
#include "lowbit/dispatch/core_profile.hpp"
#include "lowbit/driver/epilogue.hpp"
#include "lowbit/driver/ops.hpp"
#include "lowbit/executor.hpp"
#include "lowbit/format.hpp"
#include "lowbit/kernels/ukernel.hpp"
#include "lowbit/output.hpp"
#include "lowbit/packed_weights.hpp"
#include "lowbit/status.hpp"
#include "lowbit/workspace.hpp"

namespace lowbit {
namespace detail {

// The per-tile step stays inside the loops (bitplane tiles are ~700 cycles: a call costs).
#if defined(__GNUC__) || defined(__clang__)
#define LOWBIT_DRIVER_INLINE __attribute__((always_inline)) inline
#else
#define LOWBIT_DRIVER_INLINE inline
#endif

// The error with the lowest value (for invalid codes: the flat index) among concurrent tasks.
class first_error {
 public:
  void record(const status& s) noexcept {
    if (s.ok()) return;
    while (lock_.test_and_set(std::memory_order_acquire)) {
    }
    if (first_.ok() || s.value() < first_.value()) first_ = s;
    lock_.clear(std::memory_order_release);
  }
  status get() const noexcept { return first_; }

 private:
  std::atomic_flag lock_ = ATOMIC_FLAG_INIT;
  status first_;
};
constexpr std::size_t max_tile_elements = 4096;  // MR * NR of any kernel
// Block sizes (MC caps, the A-outer weight bound, the thread split) come from the host's core
// profile (dispatch/core_profile.hpp block_sizes): make_plan copies the ones it uses into the plan.

// How a block's A panels are made (a source's packing()): by the kernel's packer from u-code
// rows; by the kernel (a_runs_contract::make) from a table of runs the source builds, of codes
// or of bit planes (an indirect A: conv2d's window rows, in its input or its bit-plane image);
// or assembled by the source in the kernel's bit-plane layout (conv2d's plane image, for
// windows a run table cannot describe).
enum class a_from : std::uint8_t { rows, runs, planes };
struct a_packing {
  a_from from = a_from::rows;
  kernels::a_run_kind kind = kernels::a_run_kind::codes;  // of the runs
  bool rows() const noexcept { return from == a_from::rows; }
};

// Supplies u-codes of activation rows to the driver. A plain matrix: unsigned and odd-symmetric
// one-per-byte codes are used in place; anything else is converted into scratch.
struct matrix_source {
  const matrix_ref* m;
  format f;

  bool in_place() const noexcept {
    return m->store == storage::one_per_byte && make_u_transform(f).identity;
  }
  // Adds source-specific terms to a row of exact results (convolution padding); none here, so
  // int32 results may be written straight to the output.
  bool corrects() const noexcept { return false; }
  void correct(std::size_t, std::size_t, std::size_t, std::int32_t*) const noexcept {}
  // The same for one K group of weights packed in groups (per-group scales).
  void correct_kgroup(std::size_t, std::size_t, std::size_t, std::size_t,
                      std::int32_t*) const noexcept {}
  // Validates rows [r0, r0 + nr) and writes their u-code sums to sums[0, nr); without
  // sums_needed, only validates (sums[] may still be used as scratch).
  status scan(std::size_t r0, std::size_t nr, std::uint32_t* sums, const driver_ops& ops,
              bool sums_needed = true) const noexcept {
    if (!sums_needed)
      return validate_row_block(*m, f, r0, nr, sums, "a.data", ops.any_high, ops.scan_row);
    return scan_row_block(*m, f, r0, nr, sums, "a.data", ops.scan_row);
  }
  // The bits no valid byte has, when a kernel reading the rows in place can validate them as it
  // goes (ukernel_desc::run_checked): unsigned and odd-symmetric one-byte codes below 8 bits,
  // the formats validate_row_block checks with any_high. 0: validate by scan().
  std::uint8_t check_high() const noexcept {
    if (!in_place()) return 0;
    return make_u_transform(f).high;
  }
  // A plain matrix's panels are packed from its rows: it makes no run tables and no bit-plane
  // panels (conv2d's im2col_source does).
  a_packing packing(const kernels::ukernel_desc&, std::size_t) const noexcept { return {}; }
  kernels::a_run_table runs(std::size_t, std::size_t, const kernels::ukernel_desc&,
                            kernels::a_run_kind kind, std::uint8_t*,
                            const std::uint8_t** slot) const noexcept {
    return {kind, 0, 0, slot};
  }
  void pack_planes(std::size_t, std::size_t, const kernels::ukernel_desc&,
                   std::uint8_t*) const noexcept {}
  // Asks for rows [r0, r0 + nr) ahead of use (into L2): validating a micro-panel stalls on
  // memory otherwise, while the kernel on the previous one would have hidden the wait.
  void prefetch(std::size_t r0, std::size_t nr) const noexcept {
    const std::size_t stride = effective_stride(*m, f.bits);
    const std::size_t bytes = m->store == storage::one_per_byte ? m->cols : stride;
    const auto* base = static_cast<const std::uint8_t*>(m->data) + r0 * stride;
    for (std::size_t r = 0; r < nr; ++r, base += stride)
      for (std::size_t x = 0; x < bytes; x += 64) __builtin_prefetch(base + x, 0, 2);
  }
  // Rows [r0, r0 + nr), all K columns, as u-codes; row stride returned in ld.
  const std::uint8_t* rows(std::size_t r0, std::size_t nr, std::uint8_t* scratch,
                           std::size_t& ld) const noexcept {
    const std::size_t stride = effective_stride(*m, f.bits);
    const auto* base = static_cast<const std::uint8_t*>(m->data);
    if (in_place()) {
      ld = stride;
      return base + r0 * ld;
    }
    ld = m->cols;
    if (m->store == storage::one_per_byte) {
      const u_transform t = make_u_transform(f);
      for (std::size_t r = 0; r < nr; ++r)
        convert_row_bytes(t, base + (r0 + r) * stride, m->cols, scratch + r * ld);
    } else {
      for (std::size_t r = 0; r < nr; ++r)
        for (std::size_t k = 0; k < m->cols; ++k)
          scratch[r * ld + k] = u_code(f, read_bitpacked(base + (r0 + r) * stride, k, f.bits));
    }
    return scratch;
  }
};

struct gemm_plan {
  std::size_t m, n, k, kc, k_blocks;
  std::size_t mr, m_tiles, m_blocks, mc;  // MR; MR-row tiles, M blocks, the tallest block's rows
  bool split_n;                           // tasks also split N (run_tasks)
  std::size_t a_kblock_stride, a_panel_stride;
  std::size_t w_panel_bytes;              // one NR-row weight panel, all K blocks
  std::size_t off_rowcoef, off_colconst;  // shared
  std::size_t off_rowsum, off_scratch, off_apack, off_gsums, off_gtables, per_thread;  // per thread
  std::size_t off_wunpack, wunpack_bytes;  // per thread: weight panels unpacked per call
  std::size_t off_threads, threads, total;
  std::size_t tasks_per_thread;          // block_sizes: run_tasks' N split
  std::size_t a_outer_max_weight_bytes;  // block_sizes: the block runner's loop order

  // M block ib: rows [first, first + rows). Blocks share the tiles evenly (sizes differ by at
  // most one tile), so no block is a sliver and equal block counts per thread mean equal work.
  std::size_t block_first(std::size_t ib) const noexcept { return ib * m_tiles / m_blocks * mr; }
  std::size_t block_rows(std::size_t ib) const noexcept {
    const std::size_t end = (ib + 1) * m_tiles / m_blocks * mr;
    return (end < m ? end : m) - block_first(ib);
  }
};

inline gemm_plan make_plan(const kernels::ukernel_desc& d, std::size_t m, std::size_t n,
                           std::size_t k, std::size_t kc, bool needs_scratch,
                           std::size_t threads = 1, bool grouped = false,
                           const block_sizes& bs = host_core_profile().blocks) noexcept {
  gemm_plan p{};
  p.tasks_per_thread = bs.tasks_per_thread;
  p.a_outer_max_weight_bytes = bs.a_outer_max_weight_bytes;
  p.m = m;
  p.n = n;
  p.k = k;
  p.kc = kc;
  p.mr = d.mr;
  p.k_blocks = (k + kc - 1) / kc;
  p.a_kblock_stride = round64(d.a_panel_bytes(kc));
  p.a_panel_stride = p.k_blocks * p.a_kblock_stride;
  p.w_panel_bytes = p.k_blocks * round64(d.w_panel_bytes(kc));
  p.threads = threads ? threads : 1;
  // MC: the A block (u-code scratch plus twice its packed panels) within bs.a_block_bytes
  // (about 1 MiB, inside L2), and at most bs.mc_max rows (1024). Panels are counted at their real
  // size (a 1-bit plane is k/8 bytes a row, an int8 panel k), so compact bitplane blocks grow to
  // 1024 rows: on 1024^3 w1a1 the old 2k-bytes-a-row rule cut 510 + 510 + 4 rows, the 4-row block
  // streaming every weight panel again.
  const std::size_t row_bytes = 2 * p.a_panel_stride / d.mr + (needs_scratch ? k : 0) + 1;
  std::size_t cap_tiles = bs.a_block_bytes / row_bytes / d.mr;
  if (cap_tiles > bs.mc_max / d.mr) cap_tiles = bs.mc_max / d.mr;
  if (cap_tiles < 1) cap_tiles = 1;
  p.m_tiles = (m + d.mr - 1) / d.mr;
  if (p.m_tiles == 0) p.m_tiles = 1;
  std::size_t blocks = (p.m_tiles + cap_tiles - 1) / cap_tiles;
  // With threads: a multiple of the thread count of equal blocks, so every thread gets the same
  // work without splitting N (a split makes every N chunk repeat its block's validation and
  // packing). On 1024^3 w1a1 at 2 threads, two 512-row blocks scaled 1.84-1.89x, four 256-row
  // ones 1.78-1.83x; on 2048^3 w8a8, nine equal blocks left one thread a fifth block (1.79x).
  // Weights beyond a_outer_max_weight_bytes stream from L3 once per block, so when a thread would
  // have fewer than two blocks the count is kept and run_tasks splits N instead (1024^3 w8a8:
  // three 342-row blocks in two N chunks scaled 1.93x, four 256-row blocks 1.73x).
  // Small M (fewer than min_thread_tiles tiles a thread): one tile more or less is a large
  // share of a block, so blocks of at least min_block_tiles are split along N as well, into
  // tasks_per_thread tasks a thread that the pool balances.
  const std::size_t weight_bytes = (n + d.nr - 1) / d.nr * p.w_panel_bytes;
  if (p.threads > 1) {
    const std::size_t most = p.m_tiles / bs.min_block_tiles;
    std::size_t wanted = blocks;
    if (p.m_tiles < p.threads * bs.min_thread_tiles) {
      p.split_n = true;
      wanted = bs.tasks_per_thread * p.threads;
    } else if (weight_bytes <= bs.a_outer_max_weight_bytes || blocks >= 2 * p.threads) {
      wanted = (blocks + p.threads - 1) / p.threads * p.threads;
    }
    // At least min_block_tiles a block, unless L2 already made them shorter (large A panels:
    // activation-sum tables); then rounding up to the thread count adds little.
    if (wanted > most && (p.split_n || blocks <= most)) wanted = most;
    if (wanted > p.m_tiles) wanted = p.m_tiles;  // never an empty block
    if (wanted > blocks) blocks = wanted;
  }
  p.mc = (p.m_tiles + blocks - 1) / blocks * d.mr;
  p.m_blocks = m ? blocks : 0;
  std::size_t off = 0;
  p.off_rowcoef = off;
  off += round64(n * sizeof(std::uint32_t));
  p.off_colconst = off;
  off += round64(n * sizeof(std::uint32_t));
  p.off_threads = off;
  p.off_rowsum = 0;  // the block's row sums
  p.off_scratch = round64(p.mc * sizeof(std::uint32_t));
  // Scratch rows have 64 bytes of slack after the last: sources may store a short copy whole.
  p.off_apack = p.off_scratch + (needs_scratch ? round64(p.mc * k + 64) : 0);
  p.off_gsums = p.off_apack + (p.mc / d.mr) * p.a_panel_stride;
  // Grouped: two row terms per row and group, for whole MR-row tiles, then a column tile's
  // tables of scales, x, column terms and their constant part, NR per group each
  // (grouped_block_runner).
  p.off_gtables =
      p.off_gsums + (grouped ? round64(2 * p.mc * p.k_blocks * sizeof(std::uint32_t)) : 0);
  p.per_thread =
      p.off_gtables + (grouped ? 4 * round64(std::size_t{d.nr} * p.k_blocks * sizeof(float)) : 0);
  p.total = off + p.threads * p.per_thread;
  return p;
}

// The plan of a gemm call with m rows on layout w: make_plan for the kernel the call runs, and
// when it runs on panels unpacked per call (packed_weights::unpacks_for), room for them in each
// thread's scratch: all of N's panels when they fit the A-outer weight bound (the block runner
// then unpacks a task's panels once, before its row tiles), else one panel, unpacked before the
// row tiles that use it.
inline gemm_plan plan_for_call(const packed_weights& w, std::size_t m, bool needs_scratch,
                               std::size_t threads, bool grouped) noexcept {
  const kernels::ukernel_desc& d = w.kernel_for_call(m);
  gemm_plan p = make_plan(d, m, w.rows(), w.cols(), w.kc(), needs_scratch, threads, grouped);
  if (!w.unpacks_for(m)) return p;
  const std::size_t all = (w.rows() + d.nr - 1) / d.nr * p.w_panel_bytes;
  p.wunpack_bytes = all <= p.a_outer_max_weight_bytes ? all : p.w_panel_bytes;
  p.off_wunpack = p.per_thread;
  p.per_thread += round64(p.wunpack_bytes);
  p.total = p.off_threads + p.threads * p.per_thread;
  return p;
}

// Runs a block runner over all of C: serially, or as M blocks x N chunks on an executor. When
// the M blocks do not divide evenly among the threads (small M: GEMV, batch 8), N is split so
// every thread has work; each task packs its own A block (small when M is small). A runner
// fails only on an invalid activation code, found before it writes anything; the error returned
// is the one with the lowest index (the first invalid code of A), so it does not depend on the
// thread count or the order tasks ran in.
template <class Runner>
status run_tasks(const Runner& runner, const gemm_plan& p, std::uint8_t* base, std::size_t tiles,
                 executor* ex) noexcept {
  const std::size_t threads = ex ? ex->threads() : 1;
  if (threads <= 1) {
    for (std::size_t ib = 0; ib < p.m_blocks; ++ib)
      LOWBIT_RETURN_IF_ERROR(
          runner(p.block_first(ib), p.block_rows(ib), 0, tiles, base + p.off_threads));
    return status::success();
  }
  std::size_t n_chunks = 1;
  if (p.split_n || p.m_blocks % threads != 0)
    n_chunks = (p.tasks_per_thread * threads + p.m_blocks - 1) / p.m_blocks;
  if (n_chunks > tiles) n_chunks = tiles;
  struct job {
    const Runner* runner;
    const gemm_plan* p;
    std::uint8_t* base;
    std::size_t tiles, n_chunks;
    first_error error;
  } j{&runner, &p, base, tiles, n_chunks, {}};
  ex->parallel_for(
      p.m_blocks * n_chunks,
      [](void* ctx, std::size_t i, std::size_t thread) {
        job& jb = *static_cast<job*>(ctx);
        const std::size_t ib = i / jb.n_chunks, c = i % jb.n_chunks;
        jb.error.record((*jb.runner)(jb.p->block_first(ib), jb.p->block_rows(ib),
                                     c * jb.tiles / jb.n_chunks, (c + 1) * jb.tiles / jb.n_chunks,
                                     jb.base + jb.p->off_threads + thread * jb.p->per_thread));
      },
      &j);
  return j.error.get();
}

// Packs rows [ic + i0, ic + i0 + nrows) of an A block (i0 a multiple of MR) into its micro-panels
// of apack; returns those rows as u-codes and their stride (scratch holds the block's rows at
// stride K when the source converts), or nullptr when the panels do not come from rows.
template <class Source>
const std::uint8_t* pack_a_rows(const Source& src, const kernels::ukernel_desc& d,
                                const gemm_plan& p, std::size_t ic, std::size_t i0,
                                std::size_t nrows, std::uint8_t* scratch, std::uint8_t* apack,
                                std::size_t& ldu, a_packing how = {}) noexcept {
  if (!how.rows()) {  // the source makes the panels: no u-code rows to return
    // The table the source fills: in the panel itself where the kernel keeps it there (else at
    // most max_run_slots, kernels::takes_runs).
    const std::uint8_t* slots[kernels::max_run_slots];
    const bool in_panel =
        how.from == a_from::runs && kernels::keeps_runs(d, how.kind) && d.a_runs.table_offset != 0;
    for (std::size_t it = 0; it < nrows; it += d.mr) {
      const std::size_t rows = (nrows - it) < d.mr ? (nrows - it) : d.mr;
      std::uint8_t* panel = apack + ((i0 + it) / d.mr) * p.a_panel_stride;
      if (how.from == a_from::runs) {
        const std::uint8_t** slot =
            in_panel ? reinterpret_cast<const std::uint8_t**>(panel + d.a_runs.table_offset)
                     : slots;
        d.a_runs.make(src.runs(ic + i0 + it, rows, d, how.kind, scratch + (i0 + it) * p.k, slot),
                      rows, panel);
      } else {
        src.pack_planes(ic + i0 + it, rows, d, panel);
        if (d.a_runs.finish != nullptr) d.a_runs.finish(p.k, panel);
      }
    }
    ldu = p.k;
    return nullptr;
  }
  const std::uint8_t* u = src.rows(ic + i0, nrows, scratch + i0 * p.k, ldu);
  for (std::size_t it = 0; it < nrows; it += d.mr) {
    const std::size_t rows = (nrows - it) < d.mr ? (nrows - it) : d.mr;
    for (std::size_t kb = 0; kb < p.k_blocks; ++kb) {
      const std::size_t kcb = (kb + 1 < p.k_blocks) ? p.kc : p.k - kb * p.kc;
      d.pack_a(u + it * ldu + kb * p.kc, ldu, rows, kcb,
               apack + ((i0 + it) / d.mr) * p.a_panel_stride + kb * p.a_kblock_stride);
    }
  }
  return u;
}

// The whole A block of rows [ic, ic + mc).
template <class Source>
const std::uint8_t* pack_a_block(const Source& src, const kernels::ukernel_desc& d,
                                 const gemm_plan& p, std::size_t ic, std::size_t mc,
                                 std::uint8_t* scratch, std::uint8_t* apack,
                                 std::size_t& ldu) noexcept {
  return pack_a_rows(src, d, p, ic, 0, mc, scratch, apack, ldu);
}

// The whole A block of rows [ic, ic + mc) read in place (Source::check_high() != 0) through the
// kernel's validating packer: writes each row's u-code sum to rowsum[0, mc) (zeros when the
// epilogue needs no sums: the packer then only validates); false when a byte has a bit of
// `high` (the sums are then meaningless).
template <class Source>
bool pack_a_block_checked(const Source& src, const kernels::ukernel_desc& d, const gemm_plan& p,
                          std::size_t ic, std::size_t mc, std::uint8_t* apack,
                          std::uint32_t* rowsum, std::uint8_t high, bool row_sums) noexcept {
  std::size_t ldu = 0;
  const std::uint8_t* u = src.rows(ic, mc, nullptr, ldu);  // in place: no scratch
  std::memset(rowsum, 0, mc * sizeof(std::uint32_t));
  bool bad = false;
  for (std::size_t it = 0; it < mc; it += d.mr) {
    const std::size_t rows = (mc - it) < d.mr ? (mc - it) : d.mr;
    if (it + d.mr < mc)
      src.prefetch(ic + it + d.mr, (mc - it - d.mr) < d.mr ? (mc - it - d.mr) : d.mr);
    for (std::size_t kb = 0; kb < p.k_blocks; ++kb) {
      const std::size_t kcb = (kb + 1 < p.k_blocks) ? p.kc : p.k - kb * p.kc;
      bad |= d.pack_a_checked(u + it * ldu + kb * p.kc, ldu, rows, kcb,
                              apack + (it / d.mr) * p.a_panel_stride + kb * p.a_kblock_stride,
                              row_sums ? rowsum + it : nullptr, high);
    }
  }
  return !bad;
}

// Per-group weight scales: each K block is one quantization group; its exact integer result
// T_g[i][j] = alpha * S'_g + x_g[j] * y_g[i] + p_g[i] + c1 * colsum_g[j] (epilogue.hpp; sa_g: the
// row's u-code sum over the group, x_g: from the group's or the channel's weight zero point) is
// scaled and accumulated in float, in group order. A kernel with run_grouped applies the scales
// inside its accumulation (ukernel.hpp, group_args); the others run once per group and the loop
// below scales outside, with the same arithmetic.
template <class Source>
struct grouped_block_runner {
  const Source& src;
  const float_output& out;
  const packed_weights& w;
  const kernels::ukernel_desc& d;
  const gemm_plan& p;
  const std::uint32_t* col_x;  // x[n] of each channel's zero point (epilogue_algebra::x)
  epilogue_algebra algebra;

  const driver_ops& ops;

  status operator()(std::size_t ic, std::size_t mc, std::size_t jt0, std::size_t jt1,
                    std::uint8_t* region) const noexcept {
    const std::size_t mr = d.mr, nr = d.nr, n = p.n, k = p.k, kc = p.kc, groups = p.k_blocks;
    // Validation only: the per-group sums below replace the row sums.
    LOWBIT_RETURN_IF_ERROR(
        src.scan(ic, mc, reinterpret_cast<std::uint32_t*>(region + p.off_rowsum), ops, false));
    alignas(64) std::int32_t tile[max_tile_elements];
    alignas(64) float facc[max_tile_elements];
    std::uint8_t* apack = region + p.off_apack;
    // Row terms y and p per MR-row tile, group and row: [tile][g][i], padding rows zero.
    const std::size_t tiles_m = (mc + mr - 1) / mr, terms = tiles_m * groups * mr;
    auto* row_y = reinterpret_cast<std::uint32_t*>(region + p.off_gsums);
    std::uint32_t* row_p = row_y + terms;
    std::size_t ldu = 0;
    const std::uint8_t* u = pack_a_block(src, d, p, ic, mc, region + p.off_scratch, apack, ldu);
    // A local copy: its terms stay in registers (the tables below are uint32_t stores, which
    // may alias a member read through this).
    const epilogue_algebra e = algebra;
    const std::uint32_t c1 = e.c1;
    // The scales and zero points: the caller's N x groups rows (out.w_group_scales,
    // w_group_zeros), or the weights' pack-time ones, NR a group per column panel, binary16 or
    // float (packed_weights::group_scales, group_zeros).
    const bool stored = out.w_group_scales == nullptr;
    const std::size_t sbytes = stored ? w.group_scale_bytes() : 0;
    const std::int32_t* gz = out.w_group_zeros;
    const bool group_zeros = gz != nullptr || (stored && w.has_group_zeros());
    const auto zero_at = [&](std::size_t c, std::size_t g) noexcept {
      return gz != nullptr ? gz[c * groups + g] : w.group_zero(c, g);
    };
    // One x for every column (no zero points per group, none or one per channel): x * y folds
    // into p, and the kernels skip a multiply per element and group.
    bool uniform = !group_zeros;
    for (std::size_t j = 1; j < n && uniform; ++j) uniform = col_x[j] == col_x[0];
    const bool in_kernel = d.run_grouped != nullptr && !src.corrects();
    // p's coefficient of the row sum sa. When it is zero (weights stored as their values, one x
    // for all columns: the row sums cancel), p_g is the same for every row and goes into the
    // column-term table; the kernels then have no row terms to add (group_args::rows_zero) and
    // the row sums are not needed.
    const bool fold = in_kernel && uniform && e.rowcoef(col_x[0]) == 0;
    if (fold) std::memset(row_y, 0, 2 * terms * sizeof(std::uint32_t));  // row_p follows row_y
    for (std::size_t i = 0; i < tiles_m * mr && !fold; ++i)
      for (std::size_t g = 0; g < groups; ++g) {
        const std::size_t k0 = g * kc, k1 = (k0 + kc) < k ? (k0 + kc) : k;
        const auto kg = static_cast<std::uint32_t>(k1 - k0);
        const auto kpg = static_cast<std::uint32_t>(kernels::round_up(k1 - k0, d.k_step));
        const std::size_t at = ((i / mr) * groups + g) * mr + i % mr;
        if (i >= mc) {
          row_y[at] = row_p[at] = 0;
          continue;
        }
        std::uint32_t sa = 0;
        const std::uint8_t* ui = u + i * ldu;
        for (std::size_t x = k0; x < k1; ++x) sa += ui[x];
        row_y[at] = e.y(sa, kg);
        row_p[at] = e.p(sa, kpg) + (uniform ? col_x[0] * row_y[at] : 0);
      }
    const std::size_t ldo = out.ld ? out.ld : n;
    // A column tile's tables for run_grouped (group-major, NR a group): x when it is not uniform
    // (zero past the columns), the column terms c1 * colsum_g (+ p_g when folded) when either is
    // present, and the scales when several row tiles share them (one row tile reads the caller's
    // rows directly). t_p holds the column terms' constant part, p_g or zero, for every column.
    const std::size_t tsize = round64(nr * groups * sizeof(float));
    auto* t_scales = reinterpret_cast<float*>(region + p.off_gtables);
    auto* t_x = reinterpret_cast<std::uint32_t*>(region + p.off_gtables + tsize);
    auto* t_col = reinterpret_cast<std::uint32_t*>(region + p.off_gtables + 2 * tsize);
    auto* t_p = reinterpret_cast<std::uint32_t*>(region + p.off_gtables + 3 * tsize);
    const bool col_table = in_kernel && (c1 != 0 || fold);
    for (std::size_t g = 0; g < groups && col_table; ++g) {
      const std::size_t k0 = g * kc, k1 = (k0 + kc) < k ? (k0 + kc) : k;
      const auto kg = static_cast<std::uint32_t>(k1 - k0);
      const auto kpg = static_cast<std::uint32_t>(kernels::round_up(k1 - k0, d.k_step));
      const std::uint32_t pg = fold ? e.constant(col_x[0], kg, kpg) : 0;
      for (std::size_t j = 0; j < nr; ++j) t_p[g * nr + j] = pg;
    }
    // Kernels tell the table from the caller's rows by scale_col == 1, which the rows also have
    // with one group: then they would load whole vectors past the last column, so one group
    // always goes through the table. Stored scales are tables already (float), or are read as
    // binary16 tables by kernels that can (ukernel_desc::grouped_f16) and converted into the
    // table for the others.
    const bool scale_table = !stored && (tiles_m > 1 || groups == 1);
    const bool f16_direct = stored && sbytes == 2 && in_kernel && d.grouped_f16;
    const std::size_t gsum_bytes = groups * nr * sizeof(std::uint32_t);  // one panel's
    // Kernels that finish the float stage themselves take the tile's bias NR wide (zero past
    // the columns) in the tile scratch, which only the per-group loop uses.
    const bool finish = in_kernel && d.grouped_finish;
    auto* fbias = reinterpret_cast<float*>(tile);
    for (std::size_t jt = jt0 * nr; jt < jt1 * nr && jt < n; jt += nr) {
      const std::size_t cols = (n - jt) < nr ? (n - jt) : nr;
      const std::uint32_t* sums = w.group_column_sums(jt / nr);  // [g * nr + j]
      if (finish && out.bias != nullptr)
        for (std::size_t j = 0; j < nr; ++j) fbias[j] = j < cols ? out.bias[jt + j] : 0.0f;
      // This tile's scales, scale(j, g) = sc[j * s_col + g * s_group] (or the binary16 table sc16).
      const float* sc = stored ? nullptr : out.w_group_scales + jt * groups;
      std::size_t s_col = groups, s_group = 1;
      const std::uint16_t* sc16 = nullptr;
      if (stored) {
        s_col = 1;
        s_group = nr;
        const void* st = w.group_scales(jt / nr);
        if (sbytes == 4) {
          sc = static_cast<const float*>(st);
        } else if (f16_direct) {
          sc16 = static_cast<const std::uint16_t*>(st);
        } else {
          halves_to_floats(static_cast<const std::uint16_t*>(st), groups * nr, t_scales,
                           d.features);
          sc = t_scales;
        }
      }
      if (in_kernel) {
        // c1 * colsum_g + t_p for the whole panel, one vector exact row over its stored sums (the
        // row term's coefficients are the sums themselves, times a row sum of zero).
        if (col_table)
          ops.exact_row(reinterpret_cast<const std::int32_t*>(sums), c1, sums, 0, t_p, groups * nr,
                        reinterpret_cast<std::int32_t*>(t_col));
        for (std::size_t g = 0; g < groups && !uniform; ++g)
          for (std::size_t j = 0; j < nr; ++j)
            t_x[g * nr + j] =
                j >= cols ? 0 : (group_zeros ? e.x(zero_at(jt + j, g)) : col_x[jt + j]);
        // 16 groups at a time: each column's 16 scales are one line of its row, read in order,
        // and stored into 16 of the table's rows (a 4 KiB block that stays in L1). Group by group
        // over all the columns read a line of every row per group and missed in L1.
        if (scale_table) {
          for (std::size_t g0 = 0; g0 < groups; g0 += 16) {
            const std::size_t gn = (groups - g0) < 16 ? (groups - g0) : 16;
            for (std::size_t j = 0; j < cols; ++j)
              for (std::size_t g = 0; g < gn; ++g)
                t_scales[(g0 + g) * nr + j] = sc[j * groups + g0 + g];
            for (std::size_t g = 0; g < gn; ++g)
              for (std::size_t j = cols; j < nr; ++j) t_scales[(g0 + g) * nr + j] = 0.0f;
          }
          sc = t_scales;
          s_col = 1;
          s_group = nr;
        }
      }
      // What the next column tile's tables read, asked for a share per row tile: its per-group
      // column sums and, for the scale table, its rows of scales or its stored scales (all
      // contiguous, but the prefetchers stopped at each page). A single row tile's kernel reads
      // the stored scales as one stream beside the weights.
      const std::size_t jn = jt + nr, ncols = jn < n ? ((n - jn) < nr ? (n - jn) : nr) : 0;
      const bool ahead = in_kernel && jn < jt1 * nr && ncols != 0;
      const auto* next_scales =
          !ahead ? nullptr
                 : (stored ? static_cast<const char*>(w.group_scales(jn / nr))
                           : reinterpret_cast<const char*>(out.w_group_scales + jn * groups));
      const std::size_t scale_bytes =
          !ahead ? 0
                 : (stored ? (tiles_m > 1 ? groups * nr * sbytes : 0)
                           : (scale_table ? ncols * groups * sizeof(float) : 0));
      const auto* next_sums = reinterpret_cast<const char*>(sums + groups * nr);
      const std::size_t sum_bytes = ahead && col_table ? gsum_bytes : 0;
      for (std::size_t it = 0; it < mc; it += mr) {
        const std::size_t rows = (mc - it) < mr ? (mc - it) : mr;
        const std::uint8_t* ap = apack + (it / mr) * p.a_panel_stride;
        const std::uint32_t* ty = row_y + (it / mr) * groups * mr;
        const std::uint32_t* tp = row_p + (it / mr) * groups * mr;
        if (ahead) {
          const std::size_t r = it / mr;
          for (std::size_t b = r * sum_bytes / tiles_m / 64 * 64; b < (r + 1) * sum_bytes / tiles_m;
               b += 64)
            __builtin_prefetch(next_sums + b, 0, 3);
          for (std::size_t b = r * scale_bytes / tiles_m / 64 * 64;
               b < (r + 1) * scale_bytes / tiles_m; b += 64)
            __builtin_prefetch(next_scales + b, 0, 3);
        }
        if (in_kernel) {
          kernels::group_args ga{
              groups,
              kc,
              k - (groups - 1) * kc,
              ap,
              p.a_kblock_stride,
              static_cast<const std::uint8_t*>(w.panel(jt / nr, 0)),
              static_cast<std::size_t>(static_cast<const std::uint8_t*>(w.panel(jt / nr, 1)) -
                                       static_cast<const std::uint8_t*>(w.panel(jt / nr, 0))),
              cols,
              e.alpha,
              ty,
              tp,
              uniform ? nullptr : t_x,
              col_table ? t_col : nullptr,
              sc,
              s_col,
              s_group,
              facc,
              fold};
          ga.scales_f16 = sc16;
          if (finish) {
            ga.finish = true;
            ga.a_scale = out.a_scale;
            ga.lo = out.clamp_min;
            ga.hi = out.clamp_max;
            ga.bias = out.bias != nullptr ? fbias : nullptr;
          }
          d.run_grouped(ga);
        } else {
          for (std::size_t x = 0; x < rows * nr; ++x) facc[x] = 0.0f;
          for (std::size_t g = 0; g < groups; ++g) {
            const std::size_t kg = (g + 1 < groups) ? kc : k - g * kc;
            d.run(kg, ap + g * p.a_kblock_stride, w.panel(jt / nr, g), tile, nr, false);
            const std::uint32_t* swg = sums + g * nr;  // [j]: column jt + j's sum
            for (std::size_t i = 0; i < rows; ++i) {
              const std::uint32_t y = ty[g * mr + i], pr = tp[g * mr + i];
              std::int32_t* ti = tile + i * nr;  // T_g of this row, exact
              for (std::size_t j = 0; j < cols; ++j) {
                const std::size_t c = jt + j;
                const std::uint32_t xg =
                    uniform ? 0 : (group_zeros ? e.x(zero_at(c, g)) : col_x[c]);
                ti[j] = static_cast<std::int32_t>(e.alpha * static_cast<std::uint32_t>(ti[j]) +
                                                  xg * y + pr + c1 * swg[j]);
              }
              src.correct_kgroup(ic + it + i, jt, cols, g, ti);
              for (std::size_t j = 0; j < cols; ++j)
                facc[i * nr + j] = group_term(facc[i * nr + j], sc[j * s_col + g * s_group], ti[j]);
            }
          }
        }
        for (std::size_t i = 0; i < rows; ++i) {
          float* dst = out.data + (ic + it + i) * ldo + jt;
          if (finish)  // the kernel applied the stage
            std::memcpy(dst, facc + i * nr, cols * sizeof(float));
          else
            for (std::size_t j = 0; j < cols; ++j)
              dst[j] = group_finish(out, jt + j, facc[i * nr + j]);
        }
      }
    }
    return status::success();
  }
};

// Work of one task: rows [ic, ic + mc) of C, tiles [jt0, jt1) of N, with one thread's scratch.
template <class Source, class Stage>
struct gemm_block_runner {
  const Source& src;
  const Stage& out;
  const packed_weights& w;
  const kernels::ukernel_desc& d;
  const gemm_plan& p;
  const std::uint32_t* rowcoef;
  const std::uint32_t* colconst;
  std::uint32_t alpha;
  const driver_ops& ops;
  bool row_sums;   // some rowcoef is non-zero: the epilogue needs the u-code sums of A's rows
  bool direct;     // the kernel's sums are the int32 results: full tiles go straight to C
  bool constants;  // some colconst is non-zero
  bool unpack;     // weight panels are unpacked per call (packed_weights::unpacks_for)

  status operator()(std::size_t ic, std::size_t mc, std::size_t jt0, std::size_t jt1,
                    std::uint8_t* region) const noexcept {
    const std::size_t mr = d.mr, nr = d.nr, n = p.n;
    auto* rowsum = reinterpret_cast<std::uint32_t*>(region + p.off_rowsum);  // rows ic..
    std::uint8_t* wbuf = unpack ? region + p.off_wunpack : nullptr;
    requant_params requant{};
    if constexpr (std::is_same<Stage, quantized_output>::value) requant = make_requant_params(out);
    std::uint8_t* apack = region + p.off_apack;
    std::uint8_t* scratch = region + p.off_scratch;
    alignas(64) std::int32_t tbuf[max_tile_elements];  // one tile's sums
    alignas(64) std::int32_t trow[max_tile_elements];  // one tile of exact results
    std::size_t ldu = 0;
    const std::size_t j_end = (jt1 * nr < n) ? jt1 * nr : n;
    const a_packing how = src.packing(d, p.k_blocks);
    // Loop order: for a kernel that reads A in place (strided rows stream badly from L2) and a
    // task's weight panels within a quarter of L2, each A micro-panel stays in L1 while all of
    // them stream past, validated and packed just before (A is read from memory once).
    // Otherwise each weight panel stays in L1 while the whole A block, validated and packed
    // first, streams from L2 (BLIS order). Kernel alone in these loops: on 3136 x 64 x 576,
    // A-outer 12% faster; on 49 x 512 x 4608 (2.3 MiB of weights), W-outer 30% faster. Packed
    // A (bitplane) gains nothing A-outer in GEMMs and loses 4-19% in convolutions.
    const std::size_t task_bytes = (jt1 - jt0) * p.w_panel_bytes;
    if (d.prefers_a_outer && task_bytes <= p.a_outer_max_weight_bytes &&
        (!unpack || task_bytes <= p.wunpack_bytes)) {
      if (unpack) unpack_panels(jt0, jt1, wbuf);
      // Without row sums, a kernel that validates as it reads (run_checked) does so in each
      // group's first tile, which then goes through the scratch tile: C stays untouched from an
      // invalid code's group on, as with the separate pass this replaces.
      const std::uint8_t high =
          !row_sums && d.run_checked != nullptr && how.rows() ? src.check_high() : 0;
      for (std::size_t it = 0; it < mc; it += mr) {
        const std::size_t rows = (mc - it) < mr ? (mc - it) : mr;
        if (high == 0) LOWBIT_RETURN_IF_ERROR(src.scan(ic + it, rows, rowsum + it, ops, row_sums));
        if (!row_sums) std::memset(rowsum + it, 0, rows * sizeof(std::uint32_t));
        pack_a_rows(src, d, p, ic, it, rows, scratch, apack, ldu, how);
        if (it + mr < mc) src.prefetch(ic + it + mr, (mc - it - mr) < mr ? (mc - it - mr) : mr);
        std::size_t jt = jt0 * nr;
        if (high != 0 && jt < j_end &&
            !checked_tile(ic, mc, it, jt, apack, rowsum, requant, tbuf, trow, high, wbuf)) {
          const status s = src.scan(ic + it, rows, rowsum + it, ops, false);  // names the code
          return s.ok() ? status{errc::invalid_code, "a.data", -1} : s;
        }
        for (jt += high != 0 ? nr : 0; jt < j_end; jt += nr)
          tile(ic, mc, it, jt, apack, rowsum, requant, tbuf, trow, how,
               unpack ? wbuf + (jt / nr - jt0) * p.w_panel_bytes : nullptr);
      }
      return status::success();
    }
    // A packer that validates and sums as it reads (pack_a_checked) replaces the separate pass;
    // on an invalid code the scan names it, and the whole block stays untouched.
    const std::uint8_t high = d.pack_a_checked != nullptr && how.rows() ? src.check_high() : 0;
    if (high != 0) {
      if (!pack_a_block_checked(src, d, p, ic, mc, apack, rowsum, high, row_sums)) {
        const status s = src.scan(ic, mc, rowsum, ops, false);
        return s.ok() ? status{errc::invalid_code, "a.data", -1} : s;
      }
    } else {
      LOWBIT_RETURN_IF_ERROR(src.scan(ic, mc, rowsum, ops, row_sums));
      if (!row_sums) std::memset(rowsum, 0, mc * sizeof(std::uint32_t));  // multiplied by zeros
      pack_a_rows(src, d, p, ic, 0, mc, scratch, apack, ldu, how);
    }
    for (std::size_t jt = jt0 * nr; jt < j_end; jt += nr) {
      if (unpack) unpack_panels(jt / nr, jt / nr + 1, wbuf);  // used by every row tile below
      for (std::size_t it = 0; it < mc; it += mr)
        tile(ic, mc, it, jt, apack, rowsum, requant, tbuf, trow, how, wbuf);
    }
    return status::success();
  }

  // The stored panels of tiles [t0, t1), every K block, unpacked into the kernel's at dst (the
  // plan's w_panel_bytes a tile).
  void unpack_panels(std::size_t t0, std::size_t t1, std::uint8_t* dst) const noexcept {
    const std::size_t kb_stride = p.w_panel_bytes / p.k_blocks;
    for (std::size_t t = t0; t < t1; ++t, dst += p.w_panel_bytes)
      for (std::size_t kb = 0; kb < p.k_blocks; ++kb) {
        const std::size_t kcb = (kb + 1 < p.k_blocks) ? p.kc : p.k - kb * p.kc;
        w.unpack_panel(t, kb, kcb, dst + kb * kb_stride);
      }
  }

  // tile() through run_checked, into the scratch tile: false (and C untouched) when an
  // activation byte has a bit of `high` set.
  LOWBIT_DRIVER_INLINE bool checked_tile(std::size_t ic, std::size_t mc, std::size_t it,
                                         std::size_t jt, const std::uint8_t* apack,
                                         const std::uint32_t* rowsum, const requant_params& requant,
                                         std::int32_t* tile, std::int32_t* trow, std::uint8_t high,
                                         const std::uint8_t* wu) const noexcept {
    bool bad = false;
    for_k_blocks(apack, it, jt, wu, [&](std::size_t kcb, const void* a, const void* wp, bool acc) {
      bad |= d.run_checked(kcb, a, wp, tile, d.nr, acc, high);
    });
    if (bad) return false;
    epilogue(ic, mc, it, jt, rowsum, requant, tile, trow);
    return true;
  }

  // One MR x NR tile at rows ic + it, columns jt: the kernel over every K block, then the
  // epilogue while the tile is hot. wu: the tile's unpacked weight panel, or nullptr (stored).
  LOWBIT_DRIVER_INLINE void tile(std::size_t ic, std::size_t mc, std::size_t it, std::size_t jt,
                                 const std::uint8_t* apack, const std::uint32_t* rowsum,
                                 const requant_params& requant, std::int32_t* tile,
                                 std::int32_t* trow, a_packing how,
                                 const std::uint8_t* wu) const noexcept {
    const std::size_t mr = d.mr, nr = d.nr, n = p.n;
    const kernels::run_fn run =
        how.from == a_from::runs ? kernels::run_for_runs(d, how.kind) : d.run;
    const std::size_t cols = (n - jt) < nr ? (n - jt) : nr;
    const std::size_t rows = (mc - it) < mr ? (mc - it) : mr;
    if constexpr (std::is_same<Stage, int32_output>::value) {
      if (direct && rows == mr && cols == nr) {
        const std::size_t ldc = out.ld ? out.ld : n;
        std::int32_t* c = out.data + (ic + it) * ldc + jt;
        for_k_blocks(apack, it, jt, wu,
                     [&](std::size_t kcb, const void* a, const void* wp, bool acc) {
                       run(kcb, a, wp, c, ldc, acc);
                     });
        return;
      }
    }
    for_k_blocks(apack, it, jt, wu, [&](std::size_t kcb, const void* a, const void* wp, bool acc) {
      run(kcb, a, wp, tile, nr, acc);
    });
    epilogue(ic, mc, it, jt, rowsum, requant, tile, trow);
  }

  // f(kc of the block, A panel, W panel, accumulate) for each K block of the tile at (it, jt);
  // the W panels are the stored ones, or those unpacked at wu.
  template <class F>
  LOWBIT_DRIVER_INLINE void for_k_blocks(const std::uint8_t* apack, std::size_t it, std::size_t jt,
                                         const std::uint8_t* wu, F&& f) const noexcept {
    const std::uint8_t* ap = apack + (it / d.mr) * p.a_panel_stride;
    const std::size_t wu_stride = p.w_panel_bytes / p.k_blocks;
    for (std::size_t kb = 0; kb < p.k_blocks; ++kb) {
      const std::size_t kcb = (kb + 1 < p.k_blocks) ? p.kc : p.k - kb * p.kc;
      f(kcb, ap + kb * p.a_kblock_stride,
        wu != nullptr ? static_cast<const void*>(wu + kb * wu_stride) : w.panel(jt / d.nr, kb),
        kb > 0);
    }
  }

  // The tile's sums (at stride NR) to exact results, the output stage and C.
  LOWBIT_DRIVER_INLINE void epilogue(std::size_t ic, std::size_t mc, std::size_t it, std::size_t jt,
                                     const std::uint32_t* rowsum, const requant_params& requant,
                                     std::int32_t* tile, std::int32_t* trow) const noexcept {
    const std::size_t mr = d.mr, nr = d.nr, n = p.n;
    const std::size_t cols = (n - jt) < nr ? (n - jt) : nr;
    const std::size_t rows = (mc - it) < mr ? (mc - it) : mr;
    if constexpr (std::is_same<Stage, int32_output>::value) {
      if (!src.corrects()) {
        ops.exact_tile(tile, nr, rows, alpha, rowcoef + jt, rowsum + it, colconst + jt, cols,
                       out.data + (ic + it) * (out.ld ? out.ld : n) + jt, out.ld ? out.ld : n);
        return;
      }
    }
    if constexpr (!std::is_same<Stage, int32_output>::value) {
      // The exact step and the stage in one call per tile, the terms that are all zero left out.
      if (!src.corrects()) {
        const std::size_t ldo = out.ld ? out.ld : n;
        const std::uint32_t* rc = row_sums ? rowcoef + jt : nullptr;
        const std::uint32_t* cc = constants ? colconst + jt : nullptr;
        if constexpr (std::is_same<Stage, quantized_output>::value)
          ops.requant_tile(tile, nr, rows, alpha, rc, rowsum + it, cc, cols, requant, jt,
                           out.data + (ic + it) * ldo + jt, ldo);
        else
          ops.float_tile(tile, nr, rows, alpha, rc, rowsum + it, cc, cols, float_params_at(out, jt),
                         out.data + (ic + it) * ldo + jt, ldo);
        return;
      }
    }
    ops.exact_tile(tile, nr, rows, alpha, rowcoef + jt, rowsum + it, colconst + jt, cols, trow, nr);
    for (std::size_t i = 0; i < rows; ++i) {
      const std::size_t row = ic + it + i;
      src.correct(row, jt, cols, trow + i * nr);
      if constexpr (std::is_same<Stage, quantized_output>::value)
        ops.requant_row(trow + i * nr, cols, requant_params_at(requant, jt),
                        out.data + row * (out.ld ? out.ld : n) + jt);
      else if constexpr (std::is_same<Stage, float_output>::value)
        ops.float_row(trow + i * nr, cols, float_params_at(out, jt),
                      out.data + row * (out.ld ? out.ld : n) + jt);
      else
        store_row(out, n, row, jt, cols, trow + i * nr);
    }
  }
};

template <class Source, class Stage>
status run_gemm(const Source& src, format af, const packed_weights& w, const Stage& out,
                const zero_points& zeros, std::size_t m, workspace& ws, executor* ex) noexcept {
  const kernels::ukernel_desc& d = w.kernel_for_call(m);
  const std::size_t n = w.rows(), k = w.cols(), kc = w.kc();
  const std::size_t threads = ex ? ex->threads() : 1;
  bool grouped = false;
  if constexpr (std::is_same<Stage, float_output>::value)
    grouped = out.w_group_scales != nullptr || w.has_group_scales();
  const gemm_plan p = plan_for_call(w, m, !src.in_place(), threads, grouped);
  // Panels unpacked per call store u - unpack_w_offset(), the stored ones u - w_offset().
  const bool unpack = w.unpacks_for(m);
  const int w_offset = unpack ? w.unpack_w_offset() : w.w_offset();
  std::uint8_t* base = nullptr;
  LOWBIT_RETURN_IF_ERROR(ws.acquire(p.total, base));
  const driver_ops& ops = driver_ops_for(d.features);
  auto* rowcoef = reinterpret_cast<std::uint32_t*>(base + p.off_rowcoef);
  auto* colconst = reinterpret_cast<std::uint32_t*>(base + p.off_colconst);

  const std::size_t tiles = (n + d.nr - 1) / d.nr;
  if constexpr (std::is_same<Stage, float_output>::value) {
    if (grouped) {
      // The grouped loops run the stored panels (u - w_offset()) and form the per-group terms
      // per block; colconst keeps each column's x.
      const epilogue_algebra e =
          make_epilogue_algebra(af, w.weight_format(), d.a_offset, w.w_offset(), zeros.a_zero);
      for (std::size_t j = 0; j < n; ++j) colconst[j] = e.x(zeros.w_zero(j));
      const grouped_block_runner<Source> runner{src, out, w, d, p, colconst, e, ops};
      return run_tasks(runner, p, base, tiles, ex);
    }
  }
  std::size_t k_padded = 0;
  for (std::size_t kb = 0; kb < p.k_blocks; ++kb) {
    const std::size_t kcb = (kb + 1 < p.k_blocks) ? kc : k - kb * kc;
    k_padded += kernels::round_up(kcb, d.k_step);
  }
  const epilogue_algebra e =
      make_epilogue_algebra(af, w.weight_format(), d.a_offset, w_offset, zeros.a_zero);
  make_coefficients(e, zeros, w.column_sums(), n, k, k_padded, rowcoef, colconst);
  const std::uint32_t alpha = e.alpha;
  // Weights that store their values (pack_weights' choice of offset) and no weight zero points
  // leave every rowcoef zero: no row sums. If colconst is zero too (unsigned activations without
  // a zero point) and alpha is 1, the kernel's sums are already the int32 results.
  const bool row_sums = row_sums_needed(w_offset, af, w.weight_format(), zeros, n);
  bool constants = false;
  for (std::size_t j = 0; j < n; ++j) constants |= colconst[j] != 0;
  const bool direct = !row_sums && !constants && alpha == 1 && !src.corrects();
  const gemm_block_runner<Source, Stage> runner{
      src, out, w, d, p, rowcoef, colconst, alpha, ops, row_sums, direct, constants, unpack};
  return run_tasks(runner, p, base, tiles, ex);
}

}  // namespace detail
}  // namespace lowbit
