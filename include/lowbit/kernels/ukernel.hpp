// lowbit: the contract between the GEMM driver and a microkernel.
//
// Every algorithm family (lookup table, bitplane popcount, int8 dot, scalar) and every ISA
// implements the same small interface, described by a `ukernel_desc`. The driver never looks
// inside a packed panel: a kernel declares its tile (MR x NR), its K step and its panel sizes,
// and brings its own packers, so the packed layout belongs to the kernel that reads it.
//
// What a kernel computes. Every encoding of a b-bit operand is an affine image of an unsigned
// "u-code" u in [0, 2^b - 1] (see lowbit/format.hpp: value = alpha * u + beta). Kernels work on
// u-codes only and compute the unsigned dot product
//
//     S[i][j] = sum_k  ua[i][k] * uw[j][k]        (modulo 2^32, stored as int32)
//
// The driver turns S into values, zero-point corrections and output stages in the epilogue,
// using the row sums of ua and column sums of uw. So signed, odd-symmetric and ternary formats
// run the same kernel as unsigned ones, and zero padding (u = 0) contributes exactly nothing.
//
// Optional operand offsets: a kernel may store (u - a_offset) / (u - w_offset) in its panels when
// its instructions need that (for example 8-bit u-codes as int8 for a u8 x s8 dot product); it
// then computes S' = sum (ua - a_offset)(uw - w_offset) over the *padded* K, and the driver
// recovers S exactly from the sums. Padding must still be stored as u = 0, i.e. as -offset.
// A kernel whose weight operand is a plain int8 (vpdpbusd) may also let pack_weights choose the
// weight offset (pack_w_offset): for signed, unsigned (below 8 bits) and ternary weights it picks
// the one that stores each weight's value itself, so the row-sum term of the epilogue vanishes and
// the driver skips the row sums (with unsigned activations the kernel's result is then final).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "lowbit/isa.hpp"

namespace lowbit {

// The algorithm families. Public so callers can force one (lowbit::force_algorithm,
// LOWBIT_ALGO) and read which one a call used.
enum class algorithm : std::uint8_t {
  scalar,       // portable C++ reference-grade kernel, the fallback everywhere
  lut_product,  // DeepGEMM: table of products, indexed by concatenated (w, a) codes
  lut_actsum,   // table of sums of activations, indexed by the bits of several weights
  bitplane,     // AND + popcount over bit planes
  dot_i8,       // codes widened to 8 bits, int8 dot-product instructions
  automatic     // let dispatch decide (the default)
};

constexpr const char* algorithm_name(algorithm a) noexcept {
  switch (a) {
    case algorithm::scalar:
      return "scalar";
    case algorithm::lut_product:
      return "lut_product";
    case algorithm::lut_actsum:
      return "lut_actsum";
    case algorithm::bitplane:
      return "bitplane";
    case algorithm::dot_i8:
      return "dot_i8";
    case algorithm::automatic:
      return "auto";
  }
  return "?";
}

namespace kernels {

// Packs up to `rows` rows (rows <= MR for A, <= NR for W) of `kc` u-codes each, one u-code per
// byte, row r starting at u + r * ldu, into one micro-panel at `dst` (64-byte aligned, size
// a_panel_bytes(kc) / w_panel_bytes(kc)). Rows rows..MR-1 (NR-1) and k in kc..round_up(kc,
// k_step)-1 must be written as u = 0 (minus the offset). Every input u-code is < 2^bits.
// An A packer may instead record where the rows are and let the kernel read them in place (the
// int8 VNNI kernel does, for whole blocks): callers keep `u` alive and unchanged for as long as
// they use the panel. W panels are stored, so a W packer must copy.
using pack_fn = void (*)(const std::uint8_t* u, std::size_t ldu, std::size_t rows, std::size_t kc,
                         void* dst);

// pack_fn for W with the stored value u - w_offset chosen by the caller (ukernel_desc::
// pack_w_offset). Padding is stored as u = 0, i.e. -w_offset.
using pack_offset_fn = void (*)(const std::uint8_t* u, std::size_t ldu, std::size_t rows,
                                std::size_t kc, void* dst, int w_offset);

// Bytes of one packed micro-panel holding kc (not yet rounded) values per row.
using panel_bytes_fn = std::size_t (*)(std::size_t kc);

// Computes the full MR x NR tile c[i * ldc + j] = (accumulate ? c[i * ldc + j] : 0) + S'[i][j]
// over kc (1 <= kc <= kc_max) values of K, from one packed A micro-panel and one packed W
// micro-panel. No loops over M or N in the caller's sense: the tile is always full.
using run_fn = void (*)(std::size_t kc, const void* a_panel, const void* w_panel, std::int32_t* c,
                        std::size_t ldc, bool accumulate);

// run_fn that also reports whether any activation byte it read (the panel's rows, kc columns)
// has a bit of `high` set: an invalid code of a one-byte format (ukernel_desc::run_checked).
using run_checked_fn = bool (*)(std::size_t kc, const void* a_panel, const void* w_panel,
                                std::int32_t* c, std::size_t ldc, bool accumulate,
                                std::uint8_t high);

// pack_fn that also validates and sums: returns whether any of the rows x kc u-code bytes has a
// bit of `high` set (an invalid code of a one-byte format), and adds each row's u-code sum over
// these kc codes to sums[r] (exact when it returns false; sums == nullptr when the caller needs
// none) (ukernel_desc::pack_a_checked).
using pack_checked_fn = bool (*)(const std::uint8_t* u, std::size_t ldu, std::size_t rows,
                                 std::size_t kc, void* dst, std::uint32_t* sums, std::uint8_t high);

// Completes an A panel of kc values per row that conv2d assembled from a bit-plane image in the
// kernel's own layout (a_runs_contract::finish).
using finish_panel_fn = void (*)(std::size_t kc, void* a_panel);

// An indirect A (XNNPACK's indirection buffer): the MR rows of one micro-panel read through a
// table of pointers to runs anywhere in memory (conv2d's window rows in its input or in its
// bit-plane image, or copies of the windows crossing a border), instead of rows of K codes.
// K is n_runs runs of `len` each, and what a run holds is the table's kind:
// - codes: len u-code bytes; run g of row r starts at slot[g * MR + r];
// - planes: len 64-bit words of one bit plane (K = n_runs * len * 64 codes), in the layout of
//   a_runs_contract::plane_row; run g of row r in plane q < a_bits starts at
//   slot[(q * n_runs + g) * MR + r].
// Rows past the live ones point at live rows' runs (their results are not stored).
enum class a_run_kind : std::uint8_t { codes = 1, planes = 2 };
struct a_run_table {
  a_run_kind kind;
  std::size_t n_runs, len;
  const std::uint8_t* const* slot;  // plane runs point at 8-byte aligned words
  std::size_t k() const noexcept {
    return kind == a_run_kind::planes ? n_runs * len * 64 : n_runs * len;
  }
};
// The largest table: 16 runs of 16 rows; one the kernel does not keep in its panel (which the
// driver holds on its stack) has at most max_run_slots slots.
constexpr std::size_t max_run_runs = 16, max_run_rows = 16;
constexpr std::size_t max_run_slots = max_run_runs * max_run_rows;

// Makes the A panel at dst (a_panel_bytes(t.k()) bytes) from a run table with `rows` live rows
// (a_runs_contract::make).
using from_runs_fn = void (*)(const a_run_table& t, std::size_t rows, void* dst);

// How a kernel reads an indirect A (ukernel_desc::a_runs), the one place it says so. For each
// kind it takes, either its panel keeps the table and the kernel reads the runs where they lie
// (`kept`), or make() copies them into the kernel's usual packed panel. Limits: runs of codes of
// min_len to max_len codes (0: any), a multiple of len_multiple (any length when there is one
// run, with one_run_any_len), K at most max_k (0: any); runs of planes whose table
// (plane_runs_panel, with row terms when the kernel has `finish`) fits a panel of K codes.
// A kernel that takes no runs of planes may still name plane_row: conv2d then assembles its
// panels from a bit-plane image itself (completed by `finish` when its panels carry more).
struct a_runs_contract {
  std::uint8_t kinds = 0;  // the a_run_kind bits the kernel takes
  std::uint8_t kept = 0;   // of those, the kinds whose runs the kernel reads in place
  std::uint32_t max_len = 0, max_k = 0;
  std::uint16_t min_len = 1, len_multiple = 1;
  bool one_run_any_len = false;
  // Cycles per code make() spends copying runs of codes (conv2d's window rows), which dispatch
  // charges instead of an im2col copy plus a_pack_cycles (select.hpp); 0: not measured.
  float cycles = 0.0f;
  from_runs_fn make = nullptr;
  // Where, in bytes from its start, a panel of kept runs holds its table (in the a_run_table's
  // order): the driver has the source write the table there, and make() copies nothing. 0: the
  // source writes it elsewhere and make() copies it.
  std::uint16_t table_offset = 0;
  // run() for panels whose runs of planes are kept (nullptr: run itself).
  run_fn run = nullptr;
  // Packs one row of codes into its a_bits planes of ceil(kc / 64) words each, plane after
  // plane: the words runs of planes point at (conv2d's bit-plane image of its input).
  // nullptr: the kernel's panels are not bit planes.
  pack_fn plane_row = nullptr;
  // Completes a panel conv2d assembled from plane rows; nullptr: nothing to add.
  finish_panel_fn finish = nullptr;
};

// One tile's per-group float accumulation (float_output::w_group_scales), for
// ukernel_desc::run_grouped. The weights are packed one K block per group; for each group g in
// order the kernel forms its exact sum S'_g (as run() would, over kc values, or k_last for the
// last group), then, modulo 2^32, the group's exact integer result
//   T_g[i][j] = alpha * S'_g[i][j] + col_x[g * NR + j] * row_y[g * MR + i]
//               + row_p[g * MR + i] + col_terms[g * NR + j]
// (a null col_x or col_terms: that term is absent), and accumulates acc[i][j] = acc[i][j] +
// scale * float(T_g[i][j]) in float with scale = scales[j * scale_col + g * scale_group], the
// product rounded on its own (never an FMA), starting from acc = 0. The scales come either as
// the caller's N x groups rows (scale_col = groups, scale_group = 1), or as a group-major
// table of NR a group (scale_col = 1, scale_group = NR) the driver made for a column tile that
// many row tiles share. acc (MR x NR floats at stride NR) is written whole at the end. Columns
// j >= cols of the scale rows are not read (the caller ignores their acc); the tables are
// NR wide, and rows past the tile's have zero row terms.
struct group_args {
  std::size_t groups, kc, k_last;  // K groups; values of K per group, and in the last one
  const std::uint8_t* a;           // A panel of group 0; group g's at a + g * a_stride
  std::size_t a_stride;
  const std::uint8_t* w;  // W panel of group 0; group g's at w + g * w_stride
  std::size_t w_stride;
  std::size_t cols;  // valid columns of the tile (1..NR)
  std::uint32_t alpha;
  const std::uint32_t* row_y;      // [g * MR + i]
  const std::uint32_t* row_p;      // [g * MR + i]
  const std::uint32_t* col_x;      // [g * NR + j], or nullptr
  const std::uint32_t* col_terms;  // [g * NR + j], or nullptr
  const float* scales;             // [j * scale_col + g * scale_group]
  // scale_col == 1: the driver's group-major table (NR a group, zero past cols: whole vectors
  // may be loaded); otherwise the caller's rows of scale_col >= 2 groups (read only columns
  // below cols).
  std::size_t scale_col, scale_group;
  float* acc;  // MR x NR, stride NR
  // Every row_y and row_p is zero (the driver folded the row terms, then the same for every row,
  // into col_terms): a kernel may skip them.
  bool rows_zero = false;
  // For kernels with ukernel_desc::grouped_finish: acc ends holding the stage's result instead,
  // clamp(a_scale * acc + bias[j]) (output.hpp's group_finish: the product rounded on its own,
  // no add without a bias, max(lo, min(hi, v)) which equals its clamp for lo <= hi and NaN).
  bool finish = false;
  float a_scale = 1.0f, lo = 0.0f, hi = 0.0f;
  const float* bias = nullptr;  // NR a tile, zero past cols; nullptr: no bias
  // For kernels with ukernel_desc::grouped_f16: when not null, the scales are this group-major
  // table of IEEE binary16 bits instead (NR a group, zero past cols: the weights' pack-time
  // scales, packed_weights::group_scales), each scale its exact float value; `scales` is unused.
  const std::uint16_t* scales_f16 = nullptr;
};
using run_grouped_fn = void (*)(const group_args& g);

// For run_grouped kernels at group g, on the caller's scale rows (scale_col != 1): asks for
// 1/groups of the next column tile's scales ahead of use. A tile's are NR contiguous rows of
// `groups` floats, but read a column of them per group: NR interleaved streams the hardware
// prefetchers do not follow, so without this every line is a demand miss taken a few at a time.
template <int NR>
inline void prefetch_next_group_rows(const group_args& ga, std::size_t g) noexcept {
#if defined(__GNUC__) || defined(__clang__)
  const std::size_t first = g * NR * 4, end = first + NR * 4;  // bytes of the next tile's rows
  const auto* s = reinterpret_cast<const char*>(ga.scales + NR * ga.scale_col);
  for (std::size_t b = first; b < end; b += 64) __builtin_prefetch(s + b, 0, 3);
#else
  (void)ga;
  (void)g;
#endif
}

struct ukernel_desc {
  const char* name;  // says it all: "lut_actsum_w2a2_4x16__avx2"
  algorithm algo;
  feature_set features;   // every CPU feature the code was compiled for
  std::uint8_t w_bits;    // weight u-codes are < 2^w_bits
  std::uint8_t a_bits;    // activation u-codes are < 2^a_bits
  std::uint16_t mr;       // rows of A (and of C) per tile
  std::uint16_t nr;       // rows of W (columns of C) per tile
  std::uint16_t k_step;   // packed K is padded to a multiple of this
  std::uint32_t kc_max;   // largest kc per run() call (a multiple of k_step): bounds narrow
                          // internal accumulators; the driver blocks K by at most this
  std::int16_t a_offset;  // see the file comment; 0 for most kernels
  std::int16_t w_offset;
  float macs_per_cycle;  // measured on a cache-resident tile (docs/performance.md); guides
                         // automatic selection between kernels that all qualify
  panel_bytes_fn a_panel_bytes;
  panel_bytes_fn w_panel_bytes;
  pack_fn pack_a;
  pack_fn pack_w;
  run_fn run;
  // Bytes of packed weight panel per weight (B / 8 for bit-dense panels). 0: not declared, taken
  // as one byte per code. Only the small-M time model in dispatch/select.hpp reads it.
  float bytes_per_weight = 0.0f;
  // Cycles the A packer spends per activation code (per call; measured, docs/performance.md).
  // Packing is paid once per element of A and amortised over N columns, so a kernel with a fast
  // inner loop but a costly packer (activation-sum tables) only wins when N is large.
  float a_pack_cycles = 0.25f;
  // Optional W packer with a caller-chosen offset, for kernels whose weight operand is int8 with
  // no other limit: any offset with every u - w_offset in [-128, 127] is valid. nullptr: the
  // kernel always stores u - w_offset with its own w_offset.
  pack_offset_fn pack_w_offset = nullptr;
  // The driver runs MR tiles outside NR tiles (each A micro-panel stays in L1 while the weight
  // panels stream past) when the weights are small. For kernels that read A in place from
  // strided rows, which stream badly from L2 (driver/driver.hpp); packed A panels stream well.
  bool prefers_a_outer = false;
  // A sibling with fewer rows per tile that reads the same weight panels (same NR, k_step, W
  // packer and offsets). A call whose M it pads less runs it instead (kernel_for_rows): M = 49
  // (a 7x7 feature map) fills seven 7-row tiles exactly where 8-row tiles waste 12.5%.
  const ukernel_desc* short_tile = nullptr;
  // A sibling that stores weights at offset 2^(w_bits - 1) (two's complement planes, the sign
  // plane weighted negative) and otherwise reads the same A panels. For signed weights of
  // exactly w_bits that stores each weight's value, so the epilogue needs no activation row sums
  // (pack_weights switches to it: kernel_for_weights). nullptr: none.
  const ukernel_desc* signed_w = nullptr;
  // For kernels that read A in place: run() that validates the activations it reads
  // (run_checked_fn), so the driver needs no separate pass over A before the kernel when the
  // weights are small enough to keep each A micro-panel in L1 across N. nullptr: not supported.
  run_checked_fn run_checked = nullptr;
  // pack_a that validates the u-codes it reads and sums each row (pack_checked_fn), so the
  // driver needs no separate pass over the block's rows before packing. nullptr: not supported.
  pack_checked_fn pack_a_checked = nullptr;
  // Reading A through run tables (an indirect A, conv2d's window rows) and bit-plane images.
  a_runs_contract a_runs{};
  // Optional: one tile over every K group with the group scales applied inside the kernel's
  // accumulation (group_args). nullptr: the driver calls run() once per group and scales outside.
  run_grouped_fn run_grouped = nullptr;
  // run_grouped also applies the float stage's finish (group_args::finish).
  bool grouped_finish = false;
  // run_grouped reads binary16 scale tables (group_args::scales_f16); otherwise the driver
  // hands it float tables it converts from the stored binary16 scales.
  bool grouped_f16 = false;
  // run() computes only a tile's live rows, rounded up to a power of two >= this; 0: all MR rows.
  std::uint8_t live_rows_min = 0;
};

constexpr ukernel_desc with_signed_w(ukernel_desc d, const ukernel_desc* s) noexcept {
  d.signed_w = s;
  return d;
}

// The panel of kept runs of planes (a_runs_contract::kept): K is n_runs runs of run_words
// 64-bit chunks, and the words of plane q, run g, row r start at runs[(q * n_runs + g) * MR + r]
// (an a_run_table's order). The header and its table are what the panel memory holds.
struct plane_runs_panel {
  std::size_t n_runs, run_words;
  // Followed by a_bits * n_runs * MR run pointers: an a_run_table's slots (of planes).
  static const std::uint8_t** table(void* panel) noexcept {
    return reinterpret_cast<const std::uint8_t**>(static_cast<std::uint8_t*>(panel) +
                                                  sizeof(plane_runs_panel));
  }
  static const std::uint8_t* const* table(const void* panel) noexcept {
    return reinterpret_cast<const std::uint8_t* const*>(static_cast<const std::uint8_t*>(panel) +
                                                        sizeof(plane_runs_panel));
  }
  static std::size_t bytes(std::size_t a_bits, std::size_t n_runs, std::size_t mr) noexcept {
    return sizeof(plane_runs_panel) + a_bits * n_runs * mr * sizeof(const std::uint8_t*);
  }
  // After the table, room for kernels with a_runs_contract::finish: 2 * MR int64 row terms.
  static std::int64_t* row_terms(void* panel, std::size_t a_bits, std::size_t n_runs,
                                 std::size_t mr) noexcept {
    return reinterpret_cast<std::int64_t*>(static_cast<std::uint8_t*>(panel) +
                                           bytes(a_bits, n_runs, mr));
  }
  static const std::int64_t* row_terms(const void* panel, std::size_t a_bits, std::size_t n_runs,
                                       std::size_t mr) noexcept {
    return reinterpret_cast<const std::int64_t*>(static_cast<const std::uint8_t*>(panel) +
                                                 bytes(a_bits, n_runs, mr));
  }
  static std::size_t bytes_with_row_terms(std::size_t a_bits, std::size_t n_runs,
                                          std::size_t mr) noexcept {
    return bytes(a_bits, n_runs, mr) + 2 * mr * sizeof(std::int64_t);
  }
};

// Whether d takes a run table of n_runs runs of len each (codes, or 64-bit words of planes):
// the one check of a_runs_contract's limits.
inline bool takes_runs(const ukernel_desc& d, a_run_kind kind, std::size_t n_runs,
                       std::size_t len) noexcept {
  const a_runs_contract& c = d.a_runs;
  const auto bit = static_cast<std::uint8_t>(kind);
  if ((c.kinds & bit) == 0 || c.make == nullptr || d.mr > max_run_rows || n_runs == 0 ||
      n_runs > max_run_runs || len == 0)
    return false;
  const std::size_t planes = kind == a_run_kind::planes ? d.a_bits : 1;
  if (((c.kept & bit) == 0 || c.table_offset == 0) && planes * n_runs * d.mr > max_run_slots)
    return false;
  if (kind == a_run_kind::planes)  // the kept table, and row terms after it, fit the panel
    return d.a_bits <= 8 && (c.kept & bit) != 0 &&
           (c.finish != nullptr ? plane_runs_panel::bytes_with_row_terms(d.a_bits, n_runs, d.mr)
                                : plane_runs_panel::bytes(d.a_bits, n_runs, d.mr)) <=
               d.a_panel_bytes(n_runs * len * 64);
  return len >= c.min_len && (c.max_len == 0 || len <= c.max_len) &&
         (len % c.len_multiple == 0 || (c.one_run_any_len && n_runs == 1)) &&
         (c.max_k == 0 || n_runs * len <= c.max_k);
}

// Whether d reads runs of this kind where they lie (its panels keep the table).
inline bool keeps_runs(const ukernel_desc& d, a_run_kind kind) noexcept {
  return (d.a_runs.kept & d.a_runs.kinds & static_cast<std::uint8_t>(kind)) != 0;
}

// The run() for panels made from a table of this kind.
inline run_fn run_for_runs(const ukernel_desc& d, a_run_kind kind) noexcept {
  return kind == a_run_kind::planes && d.a_runs.run != nullptr ? d.a_runs.run : d.run;
}

// For make(): the header and table of a plane_runs_panel at dst, from a table of planes (the
// table is copied unless the source wrote it in place, a_runs_contract::table_offset).
inline void keep_plane_runs(const a_run_table& t, std::size_t planes, std::size_t mr,
                            void* dst) noexcept {
  const plane_runs_panel h{t.n_runs, t.len};
  std::memcpy(dst, &h, sizeof h);
  const std::uint8_t** table = plane_runs_panel::table(dst);
  if (t.slot != table) std::memcpy(table, t.slot, planes * t.n_runs * mr * sizeof *table);
}

// The contract of an A packer P that copies runs of codes into its panels: its
// `pack_runs(runs, n_runs, run_bytes, rows, dst)` and its limits `runs_max_bytes`, `runs_max_k`,
// `runs_multiple` (one run of any length when that is above 1) and `runs_cycles`.
template <class P>
void pack_code_runs(const a_run_table& t, std::size_t rows, void* dst) noexcept {
  P::pack_runs(t.slot, t.n_runs, t.len, rows, dst);
}
template <class P>
constexpr a_runs_contract copied_code_runs() noexcept {
  a_runs_contract c;
  c.kinds = static_cast<std::uint8_t>(a_run_kind::codes);
  c.max_len = P::runs_max_bytes;
  c.max_k = P::runs_max_k;
  c.len_multiple = P::runs_multiple;
  c.one_run_any_len = P::runs_multiple > 1;
  c.cycles = P::runs_cycles;
  c.make = &pack_code_runs<P>;
  return c;
}

// The kernel a call with m rows of A runs: d itself, or d's short-tile sibling when that one
// pads M to fewer rows (ties keep d, whose taller tile has the better load-to-compute ratio).
inline const ukernel_desc& kernel_for_rows(const ukernel_desc& d, std::size_t m) noexcept {
  const ukernel_desc* s = d.short_tile;
  if (s != nullptr && m > 0 && (m + s->mr - 1) / s->mr * s->mr < (m + d.mr - 1) / d.mr * d.mr)
    return *s;
  return d;
}

constexpr ukernel_desc with_short_tile(ukernel_desc d, const ukernel_desc* s) noexcept {
  d.short_tile = s;
  return d;
}

// A list of kernels, as each family header exposes it.
struct ukernel_list {
  const ukernel_desc* data;
  std::size_t size;
  const ukernel_desc* begin() const noexcept { return data; }
  const ukernel_desc* end() const noexcept { return data + size; }
};

// A kernel struct may declare `static constexpr float a_pack_cycles` (its A packer's measured
// cost per code); families read it through this trait, 0.25 when undeclared.
template <class K, class = void>
struct a_pack_cycles_of {
  static constexpr float value = 0.25f;
};
template <class K>
struct a_pack_cycles_of<K, std::void_t<decltype(K::a_pack_cycles)>> {
  static constexpr float value = K::a_pack_cycles;
};

// A kernel struct whose weight operand is a plain int8 declares `static constexpr bool
// any_w_offset = true`; its W packer then provides pack_at(..., w_offset).
// A kernel struct that reads A in place declares `static constexpr bool a_in_place = true`.
template <class K, class = void>
struct a_in_place_of {
  static constexpr bool value = false;
};
template <class K>
struct a_in_place_of<K, std::enable_if_t<K::a_in_place>> {
  static constexpr bool value = true;
};

template <class K, class = void>
struct run_checked_of {
  static constexpr run_checked_fn value = nullptr;
};
template <class K>
struct run_checked_of<K, std::enable_if_t<K::a_checked>> {
  static constexpr run_checked_fn value = &K::run_checked;
};

// A packer's pack_checked (ukernel_desc::pack_a_checked) when it has one, else nullptr.
// `present` says so by type: comparing a function's address with nullptr is not a constant
// expression under ASan/UBSan.
template <class P, class = void>
struct pack_checked_of {
  static constexpr pack_checked_fn value = nullptr;
  static constexpr bool present = false;
};
template <class P>
struct pack_checked_of<P, std::void_t<decltype(&P::pack_checked)>> {
  static constexpr pack_checked_fn value = &P::pack_checked;
  static constexpr bool present = true;
};
template <class K>
using pack_a_checked_of = pack_checked_of<typename K::pack_a_t>;

// A kernel struct that reads an indirect A or whose panels are bit planes declares it in one
// function, `static constexpr a_runs_contract a_runs()`; none: an empty contract.
template <class K, class = void>
struct a_runs_of {
  static constexpr a_runs_contract value{};
};
template <class K>
struct a_runs_of<K, std::void_t<decltype(K::a_runs())>> {
  static constexpr a_runs_contract value = K::a_runs();
};

template <class K, class = void>
struct run_grouped_of {
  static constexpr run_grouped_fn value = nullptr;
};
template <class K>
struct run_grouped_of<K, std::enable_if_t<K::grouped>> {
  static constexpr run_grouped_fn value = &K::run_grouped;
};
template <class K, class = void>
struct grouped_finish_of : std::false_type {};
template <class K>
struct grouped_finish_of<K, std::enable_if_t<K::grouped_finish>> : std::true_type {};
template <class K, class = void>
struct grouped_f16_of : std::false_type {};
template <class K>
struct grouped_f16_of<K, std::enable_if_t<K::grouped_f16>> : std::true_type {};

template <class K, class = void>
struct pack_w_offset_of {
  static constexpr pack_offset_fn value = nullptr;
};
template <class K>
struct pack_w_offset_of<K, std::enable_if_t<K::any_w_offset>> {
  static constexpr pack_offset_fn value = &K::pack_w_t::pack_at;
};

// The descriptor of a kernel struct K that names its packers `pack_a_t` / `pack_w_t` (each
// with panel_bytes and pack) and its `run`: the one place every family spells out the field
// order of ukernel_desc. The rest is what a registry line states.
template <class K>
constexpr ukernel_desc describe_kernel(const char* name, algorithm algo, feature_set f, int wb,
                                       int ab, int mr, int nr, int k_step, std::uint32_t kc_max,
                                       float mpc, int a_offset = 0, int w_offset = 0,
                                       float bytes_per_weight = 0.0f) noexcept {
  ukernel_desc d{name,
                 algo,
                 f,
                 static_cast<std::uint8_t>(wb),
                 static_cast<std::uint8_t>(ab),
                 static_cast<std::uint16_t>(mr),
                 static_cast<std::uint16_t>(nr),
                 static_cast<std::uint16_t>(k_step),
                 kc_max,
                 static_cast<std::int16_t>(a_offset),
                 static_cast<std::int16_t>(w_offset),
                 mpc,
                 &K::pack_a_t::panel_bytes,
                 &K::pack_w_t::panel_bytes,
                 &K::pack_a_t::pack,
                 &K::pack_w_t::pack,
                 &K::run};
  d.bytes_per_weight = bytes_per_weight;
  d.a_pack_cycles = a_pack_cycles_of<K>::value;
  d.pack_w_offset = pack_w_offset_of<K>::value;
  d.prefers_a_outer = a_in_place_of<K>::value;
  d.run_checked = run_checked_of<K>::value;
  d.pack_a_checked = pack_a_checked_of<K>::value;
  d.a_runs = a_runs_of<K>::value;
  d.run_grouped = run_grouped_of<K>::value;
  d.grouped_finish = grouped_finish_of<K>::value;
  d.grouped_f16 = grouped_f16_of<K>::value;
  return d;
}

constexpr std::size_t round_up(std::size_t x, std::size_t m) noexcept {
  return (x + m - 1) / m * m;
}

}  // namespace kernels
}  // namespace lowbit
