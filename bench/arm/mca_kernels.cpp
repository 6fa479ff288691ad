// lowbit's NEON microkernels for bench/arm/mca (llvm-mca cycle estimates; docs/arm-mca.md).
//
// Usage:
//   mca_kernels list
//       one line per NEON kernel registered in this build (whatever the CPU supports):
//       name mr nr k_step run_address
//   mca_kernels run <kernel> <K> <calls>
//       packs one MR x K A panel and one NR x K W panel of random u-codes with the kernel's own
//       packers, then calls its run() <calls> times (cache-resident panels, accumulate off).
//       A kernel with run_grouped and a K step dividing 32 is also listed as <kernel>_g32 at
//       run_grouped's address: K in groups of 32 with per-group scales in the caller's N x groups
//       rows and column terms (a GEMV's one row tile), run_grouped <calls> times. One that
//       also reads binary16 scale tables (ukernel_desc::grouped_f16) is listed again as
//       <kernel>_g32s: the same call on the weights' stored scales (group_args::scales_f16, the
//       group-major table of binary16 a packing with pack_options::group_scales holds).
//       A kernel that computes only a tile's live rows (ukernel_desc::live_rows_min: the NEON
//       8-row GEMV kernels) is also listed as <kernel>_r<R>, tile R rows, for each row count R
//       below MR that it computes (2 and 4, or 4): run() on a panel of R rows.
//
// The script links this program without PIE, so the addresses that `list` prints are those of
// the disassembly. It runs `run` under QEMU with its execution log on and keeps the blocks that
// lie inside the kernel's run(): that is the exact instruction stream of one call, which it
// feeds to llvm-mca.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "lowbit/detail/half.hpp"
#include "lowbit/kernels/neon/neon_kernels.hpp"

namespace {

using lowbit::kernels::ukernel_desc;
using lowbit::kernels::ukernel_list;

template <class F>
void for_each_kernel(F f) {
  namespace kernels = lowbit::kernels;  // the macro names kernels::neon::...
  const ukernel_list families[] = {LOWBIT_NEON_FAMILIES};
  for (const ukernel_list& family : families)
    for (const ukernel_desc& d : family) f(d);
}

struct aligned_buffer {
  explicit aligned_buffer(std::size_t bytes) : raw(bytes + 64) {}
  void* get() {
    auto p = reinterpret_cast<std::uintptr_t>(raw.data());
    return raw.data() + ((64 - p % 64) % 64);
  }
  std::vector<std::uint8_t> raw;
};

volatile std::int32_t sink;  // keeps the result observable

constexpr std::size_t group_k = 32;
constexpr const char* grouped_suffix = "_g32";
constexpr const char* stored_suffix = "_g32s";

bool lists_grouped(const ukernel_desc& d) {
  return d.run_grouped != nullptr && group_k % d.k_step == 0;
}
bool lists_stored(const ukernel_desc& d) { return lists_grouped(d) && d.grouped_f16; }

// run_grouped over K / 32 groups of 32 (the A and W panels of each group packed on their own),
// the scales in the caller's N x groups rows, or (stored) the weights' group-major binary16
// table.
int run_grouped_kernel(const ukernel_desc& d, std::size_t k, unsigned long calls, bool stored) {
  if (k % group_k != 0) {
    std::fprintf(stderr, "mca_kernels: K=%zu must be a multiple of %zu\n", k, group_k);
    return 2;
  }
  const std::size_t mr = d.mr, nr = d.nr, groups = k / group_k;
  std::mt19937 rng(12345);
  std::vector<std::uint8_t> a(mr * k), w(nr * k);
  for (auto& v : a) v = static_cast<std::uint8_t>(rng() & ((1u << d.a_bits) - 1));
  for (auto& v : w) v = static_cast<std::uint8_t>(rng() & ((1u << d.w_bits) - 1));
  const std::size_t a_stride = d.a_panel_bytes(group_k), w_stride = d.w_panel_bytes(group_k);
  aligned_buffer a_panel(groups * a_stride), w_panel(groups * w_stride);
  auto* ap = static_cast<std::uint8_t*>(a_panel.get());
  auto* wp = static_cast<std::uint8_t*>(w_panel.get());
  for (std::size_t g = 0; g < groups; ++g) {
    d.pack_a(a.data() + g * group_k, k, mr, group_k, ap + g * a_stride);
    d.pack_w(w.data() + g * group_k, k, nr, group_k, wp + g * w_stride);
  }
  std::vector<std::uint32_t> row_y(groups * mr), row_p(groups * mr), col_t(groups * nr);
  for (auto* v : {&row_y, &row_p, &col_t})
    for (auto& x : *v) x = rng() % 1000;
  std::vector<float> scales(nr * groups), acc(mr * nr);
  for (auto& x : scales) x = static_cast<float>(rng() % 100) / 64.0f;
  std::vector<std::uint16_t> halves(nr * groups);  // [g * nr + j], the same values
  for (std::size_t j = 0; j < nr; ++j)
    for (std::size_t g = 0; g < groups; ++g)
      lowbit::detail::float_to_half_exact(scales[j * groups + g], halves[g * nr + j]);
  lowbit::kernels::group_args ga{
      groups, group_k, group_k,      ap,           a_stride, wp,           w_stride,
      nr,     1,       row_y.data(), row_p.data(), nullptr,  col_t.data(), scales.data(),
      groups, 1,       acc.data()};
  if (stored) {
    ga.scales = nullptr;
    ga.scales_f16 = halves.data();
    ga.scale_col = 1;
    ga.scale_group = nr;
  }
  for (unsigned long i = 0; i < calls; ++i) d.run_grouped(ga);
  float s = 0.0f;
  for (float v : acc) s += v;
  sink = static_cast<std::int32_t>(s);
  return 0;
}

// The row counts below MR that d computes on their own (live_rows_min, doubling).
template <class F>
void for_each_live_rows(const ukernel_desc& d, F f) {
  if (d.live_rows_min == 0) return;
  for (std::size_t r = d.live_rows_min; r < d.mr; r *= 2) f(r);
}

int run_kernel(const char* name, std::size_t k, unsigned long calls) {
  const ukernel_desc* kernel = nullptr;
  for_each_kernel([&](const ukernel_desc& d) {
    if (std::strcmp(d.name, name) == 0) kernel = &d;
  });
  for (const bool stored : {false, true}) {
    const char* suffix = stored ? stored_suffix : grouped_suffix;
    if (kernel != nullptr || std::strlen(name) <= std::strlen(suffix)) continue;
    const std::size_t base_len = std::strlen(name) - std::strlen(suffix);
    if (std::strcmp(name + base_len, suffix) != 0) continue;
    for_each_kernel([&](const ukernel_desc& d) {
      if ((stored ? lists_stored(d) : lists_grouped(d)) && std::strlen(d.name) == base_len &&
          std::strncmp(d.name, name, base_len) == 0)
        kernel = &d;
    });
    if (kernel != nullptr) return run_grouped_kernel(*kernel, k, calls, stored);
  }
  std::size_t rows = 0;  // 0: MR
  if (kernel == nullptr) {
    for_each_kernel([&](const ukernel_desc& d) {
      for_each_live_rows(d, [&](std::size_t r) {
        if (std::string(name) == std::string(d.name) + "_r" + std::to_string(r)) {
          kernel = &d;
          rows = r;
        }
      });
    });
  }
  if (kernel == nullptr) {
    std::fprintf(stderr, "mca_kernels: no NEON kernel named %s\n", name);
    return 2;
  }
  if (k == 0 || k % kernel->k_step != 0 || k > kernel->kc_max) {
    std::fprintf(stderr, "mca_kernels: K=%zu must be a multiple of %u and <= kc_max %lu\n", k,
                 static_cast<unsigned>(kernel->k_step), static_cast<unsigned long>(kernel->kc_max));
    return 2;
  }
  const std::size_t mr = kernel->mr, nr = kernel->nr;
  if (rows == 0) rows = mr;
  std::mt19937 rng(12345);
  std::vector<std::uint8_t> a(mr * k), w(nr * k);
  for (auto& v : a) v = static_cast<std::uint8_t>(rng() & ((1u << kernel->a_bits) - 1));
  for (auto& v : w) v = static_cast<std::uint8_t>(rng() & ((1u << kernel->w_bits) - 1));
  aligned_buffer a_panel(kernel->a_panel_bytes(k)), w_panel(kernel->w_panel_bytes(k));
  kernel->pack_a(a.data(), k, rows, k, a_panel.get());
  kernel->pack_w(w.data(), k, nr, k, w_panel.get());
  std::vector<std::int32_t> c(mr * nr, 0);
  for (unsigned long i = 0; i < calls; ++i)
    kernel->run(k, a_panel.get(), w_panel.get(), c.data(), nr, false);
  std::int32_t s = 0;
  for (std::int32_t v : c) s ^= v;
  sink = s;
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 2 && std::strcmp(argv[1], "list") == 0) {
    for_each_kernel([](const ukernel_desc& d) {
      std::printf("%s %u %u %u 0x%llx\n", d.name, static_cast<unsigned>(d.mr),
                  static_cast<unsigned>(d.nr), static_cast<unsigned>(d.k_step),
                  static_cast<unsigned long long>(reinterpret_cast<std::uintptr_t>(d.run)));
      if (lists_grouped(d))
        std::printf(
            "%s%s %u %u %u 0x%llx\n", d.name, grouped_suffix, static_cast<unsigned>(d.mr),
            static_cast<unsigned>(d.nr), static_cast<unsigned>(group_k),
            static_cast<unsigned long long>(reinterpret_cast<std::uintptr_t>(d.run_grouped)));
      if (lists_stored(d))
        std::printf(
            "%s%s %u %u %u 0x%llx\n", d.name, stored_suffix, static_cast<unsigned>(d.mr),
            static_cast<unsigned>(d.nr), static_cast<unsigned>(group_k),
            static_cast<unsigned long long>(reinterpret_cast<std::uintptr_t>(d.run_grouped)));
      for_each_live_rows(d, [&](std::size_t r) {
        std::printf("%s_r%zu %zu %u %u 0x%llx\n", d.name, r, r, static_cast<unsigned>(d.nr),
                    static_cast<unsigned>(d.k_step),
                    static_cast<unsigned long long>(reinterpret_cast<std::uintptr_t>(d.run)));
      });
    });
    return 0;
  }
  if (argc == 5 && std::strcmp(argv[1], "run") == 0)
    return run_kernel(argv[2], std::strtoul(argv[3], nullptr, 10),
                      std::strtoul(argv[4], nullptr, 10));
  std::fprintf(stderr, "usage: %s list | run <kernel> <K> <calls>\n", argv[0]);
  return 2;
}
