// One parametrised tester for every microkernel (XNNPACK style): it packs random u-codes with the
// kernel's own packers, runs the kernel, and compares the tile bit-exactly with a naive sum.
// Cases: k equal to, below, above and a multiple of the K step; m and n below and at the tile;
// strided inputs; accumulate on/off; worst-case codes at kc_max (the accumulator bound); A read
// through run tables (an indirect A) and panels assembled from bit-plane rows, against plain rows.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include "lowbit/detail/aligned_buffer.hpp"
#include "lowbit/dispatch/cpu_features.hpp"
#include "lowbit/kernels/ukernel.hpp"

namespace lowbit {
namespace test {

// True when the host (capped by nothing) can execute the kernel's code.
inline bool host_can_run(const kernels::ukernel_desc& d) {
  return (d.features & ~detail::host_features()) == 0;
}

class ukernel_tester {
 public:
  explicit ukernel_tester(const kernels::ukernel_desc& d) : d_(d) {}

  // Runs one case: `m` x `n` live rows (<= MR, NR), `k` values, input row stride k + pad.
  // mode 0: random codes; 1: all codes at their maximum; 2: alternating 0 / max.
  void test(std::size_t m, std::size_t n, std::size_t k, bool accumulate, int mode,
            std::size_t pad = 0, unsigned seed = 1) const {
    const std::size_t ldu = k + pad;
    const unsigned amax = (1u << d_.a_bits) - 1, wmax = (1u << d_.w_bits) - 1;
    std::mt19937 rng(seed + static_cast<unsigned>(m * 131 + n * 17 + k));
    std::vector<std::uint8_t> a(std::max<std::size_t>(1, m * ldu), 0xEE),
        w(std::max<std::size_t>(1, n * ldu), 0xEE);
    auto gen = [&](std::size_t idx, unsigned maxv) -> std::uint8_t {
      if (mode == 1) return static_cast<std::uint8_t>(maxv);
      if (mode == 2) return static_cast<std::uint8_t>((idx & 1) ? maxv : 0);
      return static_cast<std::uint8_t>(rng() % (maxv + 1));
    };
    for (std::size_t i = 0; i < m; ++i)
      for (std::size_t x = 0; x < k; ++x) a[i * ldu + x] = gen(i + x, amax);
    for (std::size_t j = 0; j < n; ++j)
      for (std::size_t x = 0; x < k; ++x) w[j * ldu + x] = gen(j + x + 1, wmax);

    detail::aligned_buffer ap(d_.a_panel_bytes(k) + 64), wp(d_.w_panel_bytes(k) + 64);
    // Poison the panels: packers must write every byte the kernel reads.
    std::fill_n(ap.bytes(), ap.size(), std::uint8_t{0xA5});
    std::fill_n(wp.bytes(), wp.size(), std::uint8_t{0x5A});
    d_.pack_a(a.data(), ldu, m, k, ap.data());
    d_.pack_w(w.data(), ldu, n, k, wp.data());

    const std::size_t ldc = d_.nr + 3;
    std::vector<std::int32_t> c(d_.mr * ldc, 0), expect(d_.mr * ldc, 0);
    for (std::size_t i = 0; i < c.size(); ++i) {
      c[i] = accumulate ? static_cast<std::int32_t>(rng()) : 0x7EADBEEF;
      expect[i] = accumulate ? c[i] : 0;
    }
    // The naive sum over the padded depth kp, modulo 2^32 as the kernels' int32 lanes: each
    // of the tile's rows (dead ones, i >= m or j >= n, are zero u-codes) minus the kernel's
    // offsets, and kp - k padding steps that each add a_offset * w_offset (zero codes).
    const std::size_t kp = kernels::round_up(k, d_.k_step);
    std::vector<std::int64_t> av(d_.mr * k), wv(d_.nr * k);
    for (std::size_t i = 0; i < d_.mr; ++i)
      for (std::size_t x = 0; x < k; ++x)
        av[i * k + x] = std::int64_t{i < m ? a[i * ldu + x] : std::uint8_t{0}} - d_.a_offset;
    for (std::size_t j = 0; j < d_.nr; ++j)
      for (std::size_t x = 0; x < k; ++x)
        wv[j * k + x] = std::int64_t{j < n ? w[j * ldu + x] : std::uint8_t{0}} - d_.w_offset;
    const auto pad_steps = static_cast<std::uint32_t>(kp - k);
    const auto pad_term = static_cast<std::uint32_t>(std::int64_t{d_.a_offset} * d_.w_offset);
    for (std::size_t i = 0; i < d_.mr; ++i)
      for (std::size_t j = 0; j < d_.nr; ++j) {
        std::uint32_t s = static_cast<std::uint32_t>(expect[i * ldc + j]);
        const std::int64_t* ar = av.data() + i * k;
        const std::int64_t* wr = wv.data() + j * k;
        for (std::size_t x = 0; x < k; ++x) s += static_cast<std::uint32_t>(ar[x] * wr[x]);
        s += pad_steps * pad_term;
        expect[i * ldc + j] = static_cast<std::int32_t>(s);
      }
    if (d_.pack_a_checked != nullptr) {  // the same panel, the row sums, and no invalid code
      detail::aligned_buffer ap2(d_.a_panel_bytes(k) + 64);
      std::fill_n(ap2.bytes(), ap2.size(), std::uint8_t{0xA5});
      std::vector<std::uint32_t> sums(d_.mr, 0), expect_sums(d_.mr, 0);
      for (std::size_t i = 0; i < m; ++i) {
        sums[i] = expect_sums[i] = static_cast<std::uint32_t>(rng() % 100000);  // adds to these
        for (std::size_t x = 0; x < k; ++x) expect_sums[i] += a[i * ldu + x];
      }
      INFO(d_.name << " pack_a_checked m=" << m << " k=" << k << " mode=" << mode);
      CHECK_FALSE(d_.pack_a_checked(a.data(), ldu, m, k, ap2.data(), sums.data(),
                                    static_cast<std::uint8_t>(~amax)));
      REQUIRE(std::equal(ap.bytes(), ap.bytes() + d_.a_panel_bytes(k), ap2.bytes()));
      REQUIRE(sums == expect_sums);
      // Validation only (the driver needs no sums): the same panel.
      std::fill_n(ap2.bytes(), ap2.size(), std::uint8_t{0x5A});
      CHECK_FALSE(d_.pack_a_checked(a.data(), ldu, m, k, ap2.data(), nullptr,
                                    static_cast<std::uint8_t>(~amax)));
      REQUIRE(std::equal(ap.bytes(), ap.bytes() + d_.a_panel_bytes(k), ap2.bytes()));
    }
    std::vector<std::int32_t> c_checked = c;
    d_.run(k, ap.data(), wp.data(), c.data(), ldc, accumulate);
    for (std::size_t i = 0; i < d_.mr; ++i)
      for (std::size_t j = 0; j < d_.nr; ++j)
        if (c[i * ldc + j] != expect[i * ldc + j]) {  // a message only for a mismatch: cheap
          INFO(d_.name << " m=" << m << " n=" << n << " k=" << k << " acc=" << accumulate
                       << " mode=" << mode << " tile(" << i << "," << j << ")");
          REQUIRE(c[i * ldc + j] == expect[i * ldc + j]);
        }
    if (d_.run_checked != nullptr) {  // the same sums, and every code is valid
      const auto high = static_cast<std::uint8_t>(~amax);
      INFO(d_.name << " run_checked m=" << m << " n=" << n << " k=" << k);
      CHECK_FALSE(d_.run_checked(k, ap.data(), wp.data(), c_checked.data(), ldc, accumulate, high));
      REQUIRE(c_checked == c);
    }
  }

  // run_checked's report, for `bits`-wide codes (high = the bits above them): false for valid
  // rows, true when one byte the panel covers has a high bit, whichever row and column it is in
  // (the first and last, across the 64-column chunks, in the masked tail); false when the bad
  // byte lies in a row's padding past k, which the kernel does not read.
  void test_checked(std::size_t m, std::size_t k, std::size_t pad, unsigned bits) const {
    detail::aligned_buffer ap(d_.a_panel_bytes(k) + 64), wp(d_.w_panel_bytes(k) + 64);
    std::vector<std::uint8_t> w(d_.nr * k, 1);
    d_.pack_w(w.data(), k, d_.nr, k, wp.data());
    std::vector<std::int32_t> c(d_.mr * d_.nr);
    INFO(d_.name << " run_checked");
    sweep_bad_byte(m, k, pad, bits, [&](const std::uint8_t* a, std::size_t ldu, std::uint8_t high) {
      d_.pack_a(a, ldu, m, k, ap.data());
      return d_.run_checked(k, ap.data(), wp.data(), c.data(), d_.nr, false, high);
    });
  }

  // pack_a_checked's report, as run_checked's.
  void test_pack_checked(std::size_t m, std::size_t k, std::size_t pad, unsigned bits) const {
    detail::aligned_buffer ap(d_.a_panel_bytes(k) + 64);
    std::vector<std::uint32_t> sums(d_.mr);
    INFO(d_.name << " pack_a_checked");
    sweep_bad_byte(m, k, pad, bits, [&](const std::uint8_t* a, std::size_t ldu, std::uint8_t high) {
      return d_.pack_a_checked(a, ldu, m, k, ap.data(), sums.data(), high);
    });
    INFO(d_.name << " pack_a_checked, validation only");
    sweep_bad_byte(m, k, pad, bits, [&](const std::uint8_t* a, std::size_t ldu, std::uint8_t high) {
      return d_.pack_a_checked(a, ldu, m, k, ap.data(), nullptr, high);
    });
  }

  // The indirect A (ukernel_desc::a_runs): m live rows whose K is n_runs runs of len each
  // (codes, or 64-bit words per plane made by plane_row), every run copied to a buffer of its
  // own, made into a panel by a_runs.make and run; bit-identical on the live rows to the panel
  // pack_a makes from the same rows (rows past m repeat row 0's runs; their results are not
  // stored). With assemble, the panel is instead assembled from plane_row's words as conv2d
  // does ([plane][chunk][row], dead rows zero) and completed by a_runs.finish.
  // With in_panel, the table is written where the kernel keeps it in the panel
  // (a_runs_contract::table_offset), as the driver does.
  void test_runs(kernels::a_run_kind kind, std::size_t m, std::size_t n_runs, std::size_t len,
                 bool assemble = false, bool in_panel = false) const {
    const bool planes = kind == kernels::a_run_kind::planes;
    const std::size_t k = planes ? n_runs * len * 64 : n_runs * len, nr = d_.nr, mr = d_.mr;
    std::mt19937 rng(static_cast<unsigned>(m * 31 + n_runs * 7 + len));
    std::vector<std::uint8_t> a(m * k), w(nr * k);
    for (auto& x : a) x = static_cast<std::uint8_t>(rng() % (1u << d_.a_bits));
    for (auto& x : w) x = static_cast<std::uint8_t>(rng() % (1u << d_.w_bits));
    detail::aligned_buffer ap(d_.a_panel_bytes(k) + 64), wp(d_.w_panel_bytes(k) + 64);
    d_.pack_w(w.data(), k, nr, k, wp.data());
    d_.pack_a(a.data(), k, m, k, ap.data());
    std::vector<std::int32_t> expect(mr * nr), c(mr * nr);
    d_.run(k, ap.data(), wp.data(), expect.data(), nr, false);

    // Each row's plane words (plane after plane, k / 64 words each), or its codes.
    const std::size_t words = k / 64;
    std::vector<std::vector<std::uint64_t>> plane_rows(
        m, std::vector<std::uint64_t>(planes ? d_.a_bits * words : 0));
    if (planes)
      for (std::size_t r = 0; r < m; ++r)
        d_.a_runs.plane_row(a.data() + r * k, k, 1, k, plane_rows[r].data());
    std::fill_n(ap.bytes(), ap.size(), std::uint8_t{0xA5});
    if (assemble) {  // conv2d's pack_planes: words [plane][chunk][row], dead rows zero
      auto* out = reinterpret_cast<std::uint64_t*>(ap.data());
      for (std::size_t q = 0; q < d_.a_bits; ++q)
        for (std::size_t x = 0; x < words; ++x)
          for (std::size_t i = 0; i < mr; ++i)
            out[(q * words + x) * mr + i] = i < m ? plane_rows[i][q * words + x] : 0;
      if (d_.a_runs.finish != nullptr) d_.a_runs.finish(k, ap.data());
      d_.run(k, ap.data(), wp.data(), c.data(), nr, false);
    } else {
      // Runs in buffers of their own (64-byte aligned, poisoned past their end), the table in
      // an a_run_table's order.
      const std::size_t n_planes = planes ? d_.a_bits : 1, run_bytes = planes ? len * 8 : len;
      std::vector<detail::aligned_buffer> bufs;
      std::vector<const std::uint8_t*> slot(n_planes * n_runs * mr);
      for (std::size_t q = 0; q < n_planes; ++q)
        for (std::size_t g = 0; g < n_runs; ++g)
          for (std::size_t i = 0; i < m; ++i) {
            bufs.emplace_back(run_bytes + 64);
            std::fill_n(bufs.back().bytes(), run_bytes + 64, std::uint8_t{0xFF});
            const void* src =
                planes ? static_cast<const void*>(plane_rows[i].data() + q * words + g * len)
                       : static_cast<const void*>(a.data() + i * k + g * len);
            std::memcpy(bufs.back().data(), src, run_bytes);
            slot[(q * n_runs + g) * mr + i] = bufs.back().bytes();
          }
      for (std::size_t x = 0; x < slot.size(); ++x)
        if (x % mr >= m) slot[x] = slot[x - x % mr];
      const std::uint8_t** table = slot.data();
      if (in_panel) {
        table = reinterpret_cast<const std::uint8_t**>(ap.bytes() + d_.a_runs.table_offset);
        std::copy(slot.begin(), slot.end(), table);
      }
      const kernels::a_run_table t{kind, n_runs, len, table};
      REQUIRE(t.k() == k);
      d_.a_runs.make(t, m, ap.data());
      kernels::run_for_runs(d_, kind)(k, ap.data(), wp.data(), c.data(), nr, false);
    }
    for (std::size_t i = 0; i < m; ++i)
      for (std::size_t j = 0; j < nr; ++j)
        if (c[i * nr + j] != expect[i * nr + j]) {
          INFO(d_.name << (planes ? " planes" : " codes") << (assemble ? " assembled" : " runs")
                       << (in_panel ? " in the panel" : "") << " m=" << m << " n_runs=" << n_runs
                       << " len=" << len << " tile(" << i << "," << j << ")");
          REQUIRE(c[i * nr + j] == expect[i * nr + j]);
        }
  }

  // test_runs over the run tables the kernel declares it takes (and, for kernels whose panels
  // are bit planes, assembled panels). Returns how many cases ran.
  int test_all_runs() const {
    using kernels::a_run_kind;
    const kernels::a_runs_contract& c = d_.a_runs;
    int cases = 0;
    const auto fits = [&](a_run_kind kind, std::size_t n_runs, std::size_t len) {
      const std::size_t k = kind == a_run_kind::planes ? n_runs * len * 64 : n_runs * len;
      return k <= d_.kc_max && kernels::takes_runs(d_, kind, n_runs, len);
    };
    // Each table as a separate array, and, for kinds the kernel keeps, in the panel.
    const auto both = [&](a_run_kind kind, std::size_t m, std::size_t n_runs, std::size_t len) {
      test_runs(kind, m, n_runs, len);
      if (kernels::keeps_runs(d_, kind) && c.table_offset != 0)
        test_runs(kind, m, n_runs, len, false, true);
      ++cases;
    };
    for (std::size_t m : {std::size_t{d_.mr}, std::size_t{1}}) {
      const std::size_t first =
          kernels::round_up(std::max<std::size_t>(c.min_len, 3), c.len_multiple);
      for (std::size_t len : {first, kernels::round_up(64, c.len_multiple), std::size_t{5}})
        for (std::size_t n_runs : {1, 3, 7})
          if (fits(a_run_kind::codes, n_runs, len)) both(a_run_kind::codes, m, n_runs, len);
      for (std::size_t len : {1, 2})
        for (std::size_t n_runs : {1, 3})
          if (fits(a_run_kind::planes, n_runs, len)) both(a_run_kind::planes, m, n_runs, len);
      if (c.plane_row != nullptr)
        for (std::size_t n_runs : {1, 3})
          if (n_runs * 64 <= d_.kc_max) {
            test_runs(a_run_kind::planes, m, n_runs, 1, true);
            ++cases;
          }
    }
    return cases;
  }

  // The XNNPACK-style sweep. Returns false (and runs nothing) when the host cannot run it.
  bool test_all() const {
    if (!host_can_run(d_)) {
      WARN("skipping " << d_.name << ": the host lacks a feature it needs");
      return false;
    }
    const std::size_t ks = d_.k_step, mr = d_.mr, nr = d_.nr;
    std::vector<std::size_t> kvals = {1, 2, 3, 5, 7, ks, 2 * ks, 3 * ks + 1, 5 * ks - 1, 257};
    if (ks > 1) kvals.push_back(ks - 1), kvals.push_back(ks + 1);
    std::sort(kvals.begin(), kvals.end());
    kvals.erase(std::unique(kvals.begin(), kvals.end()), kvals.end());
    for (std::size_t k : kvals) {
      if (k == 0 || k > d_.kc_max) continue;
      test(mr, nr, k, false, 0);                                       // k_eq / k_lt / k_gt / k_div
      test(mr, nr, k, true, 0);                                        // accumulate
      test(mr, nr, k, false, 0, 5);                                    // strided input rows
      for (std::size_t m = 1; m <= mr; ++m) test(m, nr, k, false, 0);  // subtile m
      for (std::size_t n = 1; n <= nr; ++n) test(mr, n, k, false, 0);  // subtile n
      test(1, 1, k, false, 2);
    }
    // The accumulator bound: worst-case codes over the largest kc the kernel accepts (capped to
    // keep the test quick; kernels with a narrow internal accumulator have a small kc_max).
    const std::size_t kbig = std::min<std::size_t>(d_.kc_max, 16384) / ks * ks;
    if (kbig > 0) {
      test(mr, nr, kbig, false, 1);
      test(mr, nr, kbig, true, 1);
      test(mr, nr, kbig, false, 0);
      if (kbig > 1) test(mr, nr, kbig - 1, false, 1);
    }
    if (d_.run_checked != nullptr)
      for (std::size_t k : {1, 3, 4, 60, 64, 65, 128, 131, 576, 1000})
        for (std::size_t m : {mr, mr - 1, std::size_t{1}})
          for (std::size_t pad : {0, 4})
            for (unsigned bits : {1u, 2u, 4u, 7u})
              if (m > 0) test_checked(m, k, pad, bits);
    if (d_.pack_a_checked != nullptr)
      for (std::size_t k : {1, 3, 4, 60, 64, 65, 128, 131, 576, 1000})
        for (std::size_t m : {mr, mr - 1, std::size_t{1}})
          for (std::size_t pad : {0, 4})
            for (unsigned bits : {1u, 2u, 4u, 7u})
              if (m > 0) test_pack_checked(m, k, pad, bits);
    // A kernel that declares an indirect A runs at least one case of it.
    const int run_cases = test_all_runs();
    if (d_.a_runs.kinds != 0 || d_.a_runs.plane_row != nullptr) CHECK(run_cases > 0);
    return true;
  }

 private:
  // flagged(a, ldu, high) over m rows of k valid `bits`-wide codes at stride k + pad, then with
  // one bad byte at each of the first, middle and last row and columns 0, k/2, 63, 64 and k-1,
  // then with a bad byte in the last row's padding only.
  template <class Flagged>
  void sweep_bad_byte(std::size_t m, std::size_t k, std::size_t pad, unsigned bits,
                      Flagged&& flagged) const {
    const std::size_t ldu = k + pad;
    const auto high = static_cast<std::uint8_t>(0xFFu << bits);
    std::mt19937 rng(static_cast<unsigned>(m * 7 + k * 3 + pad + bits));
    std::vector<std::uint8_t> a(m * ldu);
    for (auto& x : a) x = static_cast<std::uint8_t>(rng() % (1u << bits));
    INFO("m=" << m << " k=" << k << " pad=" << pad << " bits=" << bits);
    CHECK_FALSE(flagged(a.data(), ldu, high));
    const std::size_t cols[] = {0, k / 2, k > 64 ? 64u : 0u, k > 64 ? 63u : 0u, k - 1};
    for (std::size_t row : {std::size_t{0}, m / 2, m - 1})
      for (std::size_t col : cols) {
        std::uint8_t& x = a[row * ldu + col];
        const std::uint8_t keep = x;
        x = static_cast<std::uint8_t>(keep | (1u << (bits + (row + col) % (8 - bits))));
        INFO("bad code at row " << row << " col " << col);
        CHECK(flagged(a.data(), ldu, high));
        x = keep;
      }
    if (pad > 0) {
      a[(m - 1) * ldu + k] = 0xFF;  // padding, not a code
      CHECK_FALSE(flagged(a.data(), ldu, high));
    }
  }

  const kernels::ukernel_desc& d_;
};

}  // namespace test
}  // namespace lowbit
