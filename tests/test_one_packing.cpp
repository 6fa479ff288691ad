// One packing for every M: pack_weights without a hint holds one bit-dense layout (unpacked per
// call for large M) or the main layout and the small-M layouts (docs/gemv.md), and each gemm
// call runs the layout for its M. One packed object is driven at several M through the int32,
// float and quantized stages, against the reference, under every ISA level this host runs;
// hinted packing gives the same results.
#include <algorithm>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "gemm_tester.hpp"
#include "lowbit/dispatch/select.hpp"
#include "lowbit/executor.hpp"
#include "lowbit/gemm.hpp"
#include "lowbit/output.hpp"
#include "lowbit/reference.hpp"

using namespace lowbit;

namespace {

const std::vector<std::size_t> rows_tested{1, 2, 7, 8, 9, 64, 1000};

// ISA levels this host runs and the process-wide cap allows (LOWBIT_ISA; native last): each
// one's kernels are forced in turn.
std::vector<isa> host_levels() {
  std::vector<isa> out;
  for (isa l : {isa::scalar, isa::sse4, isa::avx2, isa::avxvnni, isa::avx512, isa::avx512vnni,
                isa::avx512icl, isa::avx512icl_avxvnni, isa::amx, isa::neon, isa::neon_dotprod,
                isa::neon_i8mm})
    if ((isa_features(l) & ~allowed_features()) == 0) out.push_back(l);
  out.push_back(isa::native);
  return out;
}

// Whether the host runs level l under the cap; if not, says the test is skipped (x86 cases only).
[[maybe_unused]] bool host_runs(isa l) {
  if ((isa_features(l) & ~allowed_features()) == 0) return true;
  WARN("skipping: the host or LOWBIT_ISA excludes " << isa_name(l));
  return false;
}

struct data {
  std::size_t m, n, k;
  std::vector<std::uint8_t> a, w;
  std::vector<std::int32_t> t;  // reference int32 result, M x N
};

data make_data(format wf, format af, std::size_t m, std::size_t n, std::size_t k, unsigned seed) {
  data d{m,
         n,
         k,
         std::vector<std::uint8_t>(m * k),
         std::vector<std::uint8_t>(n * k),
         std::vector<std::int32_t>(m * n)};
  std::mt19937 rng(seed);
  for (auto& x : d.a) x = test::random_code(rng, af, 0);
  for (auto& x : d.w) x = test::random_code(rng, wf, 0);
  REQUIRE(
      reference_gemm(codes(d.a.data(), m, k), af, codes(d.w.data(), n, k), wf, d.t.data(), n).ok());
  return d;
}

// Runs pw at the first `m` rows of d through all three stages and checks each bit-exactly.
void check_stages(const packed_weights& pw, format af, const data& d, std::size_t m) {
  const std::size_t n = d.n, k = d.k;
  INFO("M=" << m << " runs " << pw.kernel_name(m));
  const matrix_ref a = codes(d.a.data(), m, k);
  std::vector<std::int32_t> c(m * n, 0x5EEDF00D);
  REQUIRE(gemm(a, af, pw, int32_output{c.data(), n}).ok());
  for (std::size_t x = 0; x < m * n; ++x)
    if (c[x] != d.t[x]) {
      INFO("int32 at (" << x / n << "," << x % n << ")");
      REQUIRE(c[x] == d.t[x]);
    }

  std::vector<float> scales(n), bias(n), f(m * n), fref(m * n);
  for (std::size_t j = 0; j < n; ++j) {
    scales[j] = 0.01f + 0.001f * static_cast<float>(j % 17);
    bias[j] = 0.5f - 0.125f * static_cast<float>(j % 9);
  }
  float_output fo;
  fo.data = f.data();
  fo.a_scale = 0.37f;
  fo.w_scales = scales.data();
  fo.w_scale_count = n;
  fo.bias = bias.data();
  REQUIRE(gemm(a, af, pw, fo).ok());
  fo.data = fref.data();
  for (std::size_t i = 0; i < m; ++i)
    detail::float_row_generic(d.t.data() + i * n, n, detail::float_params_at(fo, 0),
                              fref.data() + i * n);
  for (std::size_t x = 0; x < m * n; ++x)
    if (std::memcmp(&f[x], &fref[x], sizeof(float)) != 0) {
      INFO("float at (" << x / n << "," << x % n << ")");
      REQUIRE(f[x] == fref[x]);
    }

  std::vector<fixed_multiplier> mult(n);
  std::vector<std::int32_t> qbias(n);
  for (std::size_t j = 0; j < n; ++j) {
    REQUIRE(make_fixed_multiplier(0.003 + 0.0007 * static_cast<double>(j % 13), mult[j]).ok());
    qbias[j] = static_cast<std::int32_t>(j % 11) - 5;
  }
  std::vector<std::uint8_t> q(m * n), qref(m * n);
  quantized_output qo;
  qo.data = q.data();
  qo.out_format = format{4, encoding::signed_int};
  qo.multipliers = mult.data();
  qo.multiplier_count = n;
  qo.bias = qbias.data();
  REQUIRE(gemm(a, af, pw, qo).ok());
  const detail::requant_params rp = detail::make_requant_params(qo);
  for (std::size_t i = 0; i < m; ++i)
    detail::requant_row_generic(d.t.data() + i * n, n, rp, qref.data() + i * n);
  for (std::size_t x = 0; x < m * n; ++x)
    if (q[x] != qref[x]) {
      INFO("quantized at (" << x / n << "," << x % n << ")");
      REQUIRE(int{q[x]} == int{qref[x]});
    }
}

// pw at all of d's rows on two threads (tasks split along N too) in a caller-owned workspace of
// the size gemm_workspace_size asks (convert: the activations need converting), int32 output.
[[maybe_unused]] void check_two_threads(const packed_weights& pw, format af, const data& d,
                                        bool convert) {
  thread_pool pool(2);
  const std::size_t bytes = gemm_workspace_size(pw, d.m, convert, 2);
  std::vector<std::uint8_t> buf(bytes);
  workspace ws(buf.data(), bytes);
  std::vector<std::int32_t> out(d.m * d.n);
  REQUIRE(gemm(codes(d.a.data(), d.m, d.k), af, pw, int32_output{out.data(), d.n}, ws, &pool).ok());
  CHECK(std::equal(out.begin(), out.end(), d.t.begin()));
}

struct cell {
  format wf, af;
};

// The weights of the a8 bit-dense kernels' cells: w1 odd-symmetric, w2 and w4 signed.
[[maybe_unused]] format dense_weight_format(int bits) {
  return {bits, bits == 1 ? encoding::odd_symmetric : encoding::signed_int};
}

// N x K zero codes of format wf packed for af (layouts and sizes do not depend on the values).
[[maybe_unused]] packed_weights pack_zeros(format wf, format af, std::size_t n, std::size_t k,
                                           const pack_options& opt = {}) {
  const std::vector<std::uint8_t> w(n * k, 0);
  packed_weights pw;
  REQUIRE(pack_weights(codes(w.data(), n, k), wf, af, pw, opt).ok());
  return pw;
}

// Every width pair a small-M kernel serves (w1/w2/w4 with a8; w1/w2 with a1/a2), and others.
const cell cells[] = {
    {{4, encoding::signed_int}, {8, encoding::unsigned_int}},
    {{2, encoding::signed_int}, {8, encoding::unsigned_int}},
    {{1, encoding::odd_symmetric}, {8, encoding::unsigned_int}},
    {{2, encoding::signed_int}, {2, encoding::unsigned_int}},
    {{1, encoding::odd_symmetric}, {1, encoding::odd_symmetric}},
    {{1, encoding::odd_symmetric}, {2, encoding::unsigned_int}},
    {{2, encoding::unsigned_int}, {1, encoding::unsigned_int}},
    {{4, encoding::unsigned_int}, {4, encoding::unsigned_int}},
    {{3, encoding::signed_int}, {8, encoding::signed_int}},
    {{8, encoding::signed_int}, {8, encoding::unsigned_int}},
};

// Packs d's weights by default under every ISA level this host runs and checks each of `rows`
// (up to d.m): the kernel name query_kernel_for_rows (lowbit_info) gives, and all three stages.
void check_every_level(const cell& c, const data& d, const std::vector<std::size_t>& rows) {
  for (isa level : host_levels()) {
    pack_options opt;
    opt.cap = level;
    packed_weights pw;
    REQUIRE(pack_weights(codes(d.w.data(), d.n, d.k), c.wf, c.af, pw, opt).ok());
    INFO("w" << c.wf.bits << encoding_name(c.wf.enc) << " a" << c.af.bits << encoding_name(c.af.enc)
             << " isa " << isa_name(level) << " main " << pw.kernel_name() << " small layouts "
             << pw.small_layouts());
    for (std::size_t m : rows) {
      // The scalar kernel at M = 1000 was three quarters of this test's time under the
      // sanitizers and QEMU; the driver's M blocking is the same code at every level, and
      // the other levels run M = 1000.
      if (level == isa::scalar && m > 64) continue;
      const kernels::ukernel_desc* q = query_kernel_for_rows(c.wf, c.af, d.n, d.k, m, opt);
      REQUIRE(q != nullptr);
      CHECK(std::string(q->name) == pw.kernel_name(m));
      check_stages(pw, c.af, d, m);
    }
  }
}

}  // namespace

TEST_CASE("one default packing serves every M bit-exactly under every ISA level",
          "[gemm][one_packing]") {
  const std::size_t n = 100, k = 333;
  for (const cell& c : cells)
    check_every_level(c, make_data(c.wf, c.af, 1000, n, k, 11u + static_cast<unsigned>(c.wf.bits)),
                      rows_tested);
}

TEST_CASE("packing with and without m_hint gives identical results", "[gemm][one_packing]") {
  const std::size_t n = 130, k = 1000;
  for (const cell& c : cells) {
    const data d = make_data(c.wf, c.af, 64, n, k, 5u);
    packed_weights plain;
    REQUIRE(pack_weights(codes(d.w.data(), n, k), c.wf, c.af, plain).ok());
    for (std::size_t hint : {1, 8, 64}) {
      pack_options opt;
      opt.m_hint = hint;
      packed_weights hinted;
      REQUIRE(pack_weights(codes(d.w.data(), n, k), c.wf, c.af, hinted, opt).ok());
      CHECK(hinted.small_layouts() == 0);  // a hint packs one layout
      for (std::size_t m : {std::size_t{1}, std::size_t{8}, std::size_t{64}}) {
        INFO("w" << c.wf.bits << " a" << c.af.bits << " hint " << hint << " M=" << m << ": "
                 << plain.kernel_name(m) << " / " << hinted.kernel_name(m));
        std::vector<std::int32_t> x(m * n), y(m * n);
        const matrix_ref a = codes(d.a.data(), m, k);
        REQUIRE(gemm(a, c.af, plain, int32_output{x.data(), n}).ok());
        REQUIRE(gemm(a, c.af, hinted, int32_output{y.data(), n}).ok());
        CHECK(x == y);
        CHECK(std::equal(x.begin(), x.end(), d.t.begin()));
      }
    }
  }
}

#if defined(__x86_64__)
TEST_CASE("default packing runs the bit-dense gemv kernels at M = 1 where the host has them",
          "[gemm][one_packing][x86]") {
  if (!host_runs(isa::avx512vnni)) return;
  const std::size_t n = 4096, k = 4096;
  for (const cell& c : cells) {
    if (c.wf.bits > 4 || (c.af.bits != 8 && c.af.bits > 2)) continue;
    pack_options hint1;
    hint1.m_hint = 1;
    const kernels::ukernel_desc* hinted = query_kernel(c.wf, c.af, n, k, hint1);
    const kernels::ukernel_desc* plain = query_kernel_for_rows(c.wf, c.af, n, k, 1);
    REQUIRE(hinted != nullptr);
    REQUIRE(plain != nullptr);
    INFO("w" << c.wf.bits << " a" << c.af.bits << ": hinted " << hinted->name << ", default "
             << plain->name);
    // The hinted kernel, or (one bit-dense layout for every M) the 1-row kernel over the 8-row
    // kernel's panels: bit-dense either way, of the same width.
    CHECK(plain->mr == 1);
    CHECK(plain->w_bits == hinted->w_bits);
    CHECK(plain->bytes_per_weight > 0.0f);
    // Large M runs the main layout's kernel (or its short-tile sibling).
    CHECK(query_kernel_for_rows(c.wf, c.af, n, k, 256) ==
          &kernels::kernel_for_rows(*query_kernel(c.wf, c.af, n, k), 256));
  }
}

TEST_CASE("default packing of 1/2/4-bit weights holds one bit-dense layout",
          "[gemm][one_packing][x86]") {
  if (!host_runs(isa::avx512vnni)) return;
  const std::size_t n = 4096, k = 4096;
  const format af{8, encoding::unsigned_int};
  for (int bits : {1, 2, 4}) {
    const format wf = dense_weight_format(bits);
    const packed_weights pw = pack_zeros(wf, af, n, k);
    INFO("w" << bits << "a8: main " << pw.kernel_name() << ", stored " << pw.stored_kernel()->name);
    CHECK(pw.small_layouts() == 0);
    CHECK(pw.stored_kernel()->bytes_per_weight * 8.0f == static_cast<float>(bits));
    // The bit-dense panels and one row of column sums, nothing else.
    CHECK(pw.size_bytes() == n * k * static_cast<std::size_t>(bits) / 8 + n * 4);
    CHECK(!pw.unpacks_for(1));
    CHECK(!pw.unpacks_for(8));
    CHECK(pw.unpacks_for(256));
    CHECK(std::string(pw.kernel_name(256)) == kernels::kernel_for_rows(*pw.kernel(), 256).name);
    // A hint still packs one layout, as before.
    pack_options hint;
    hint.m_hint = 256;
    const packed_weights hinted = pack_zeros(wf, af, n, k, hint);
    CHECK(!hinted.unpacks_for(256));
    CHECK(hinted.stored_kernel() == hinted.kernel());
  }
}

TEST_CASE("default bitplane packing of 1/2-bit weights and activations holds one layout",
          "[gemm][one_packing][x86]") {
  if (!host_runs(isa::avx512icl)) return;
  const std::size_t n = 4096, k = 4096;
  // Capped at the bitplane level: above it (AMX) the int8 tile kernel is the main one.
  pack_options opt;
  opt.cap = isa::avx512icl;
  // w1a1, w1a2 (w2a1 packs the signed-plane kernel, whose panels no 1-row kernel reads)
  const cell bitplane_cells[] = {cells[4], cells[5]};
  for (const cell& c : bitplane_cells) {
    const packed_weights pw = pack_zeros(c.wf, c.af, n, k, opt);
    INFO("w" << c.wf.bits << "a" << c.af.bits << ": main " << pw.kernel_name() << ", M=1 runs "
             << pw.kernel_name(1));
    // Where the core profile rates another main kernel higher (w1a2: the activation-sum tables
    // on the reference and Zen profiles), the default holds that kernel's layout and the 1-row
    // kernel's (docs/gemv.md, "Otherwise").
    if (pw.kernel()->algo != algorithm::bitplane) continue;
    // M = 1 runs a 1-row bitplane kernel over the main kernel's own panels.
    CHECK(pw.small_layouts() == 0);
    CHECK(pw.kernel_for_call(1).mr == 1);
    CHECK(pw.kernel_for_call(1).bytes_per_weight > 0.0f);
    CHECK(pw.size_bytes() == n * k * static_cast<std::size_t>(c.wf.bits) / 8 + n * 4);
  }
}

TEST_CASE("panels unpacked per call: both loop orders, K blocks, threads, caller workspace",
          "[gemm][one_packing][x86]") {
  if (!host_runs(isa::avx512vnni)) return;
  struct shape {
    std::size_t m, n, k;
  };
  // Small weights (A outer, all panels unpacked once), weights past the A-outer bound (one panel
  // unpacked before its row tiles), and K past the bit-dense kernels' 65536 (two K blocks).
  const shape shapes[] = {{37, 70, 200}, {40, 700, 1000}, {9, 40, 65536 + 100}};
  const cell dense_cells[] = {cells[0], cells[1], cells[2], cells[7]};
  // Each level's main kernel on unpacked panels: the AVX-512 VNNI one, and on AMX hosts the AMX
  // one (the same k4 panels).
  for (isa level : {isa::avx512icl_avxvnni, isa::native}) {
    pack_options opt;
    opt.cap = level;
    for (const shape& sh : shapes)
      for (const cell& c : dense_cells) {
        const data d = make_data(c.wf, c.af, sh.m, sh.n, sh.k, 7u + static_cast<unsigned>(sh.k));
        packed_weights pw;
        REQUIRE(pack_weights(codes(d.w.data(), sh.n, sh.k), c.wf, c.af, pw, opt).ok());
        INFO(isa_name(level) << " w" << c.wf.bits << " a" << c.af.bits << " " << sh.m << "x" << sh.n
                             << "x" << sh.k << " runs " << pw.kernel_name(sh.m));
        // Where the profile's rates pick a main kernel that takes no unpacked panels (the 6 x 16
        // AVX-VNNI tile, which pads N = 40 or 70 less, on a host that has it), the default holds
        // that kernel's layout; the results are checked either way.
        const kernels::ukernel_desc& main = *pw.kernel();
        if (main.algo == algorithm::dot_i8 && main.nr == 32) CHECK(pw.unpacks_for(sh.m));
        check_stages(pw, c.af, d, sh.m);
        check_two_threads(pw, c.af, d, false);
      }
  }
}
#endif

#if defined(__ARM_NEON)
TEST_CASE("default Arm packing of 1/2/4-bit weights holds one bit-dense layout",
          "[gemm][one_packing][arm]") {
  const std::size_t n = 1024, k = 1024;
  const format af{8, encoding::unsigned_int};
  for (isa level : host_levels()) {
    if (level == isa::scalar) continue;
    pack_options opt;
    opt.cap = level;
    for (int bits : {1, 2, 4}) {
      const format wf = dense_weight_format(bits);
      const packed_weights pw = pack_zeros(wf, af, n, k, opt);
      INFO("w" << bits << "a8 isa " << isa_name(level) << ": main " << pw.kernel_name()
               << ", stored " << pw.stored_kernel()->name << ", M=1 runs " << pw.kernel_name(1)
               << ", M=8 runs " << pw.kernel_name(8) << ", " << pw.size_bytes() << " bytes");
      CHECK(pw.small_layouts() == 0);
      CHECK(pw.stored_kernel()->bytes_per_weight * 8.0f == static_cast<float>(bits));
      // The bit-dense panels and one row of column sums, nothing else.
      CHECK(pw.size_bytes() == n * k * static_cast<std::size_t>(bits) / 8 + n * 4);
      // M = 1 runs a GEMV kernel of the weights' width on the stored panels, large M the int8
      // main kernel on panels unpacked per call.
      CHECK(!pw.unpacks_for(1));
      CHECK(pw.kernel_for_call(1).w_bits == bits);
      CHECK(detail::same_panels(pw.kernel_for_call(1), *pw.stored_kernel()));
      CHECK(pw.unpacks_for(256));
      CHECK(std::string(pw.kernel_name(256)) == kernels::kernel_for_rows(*pw.kernel(), 256).name);
      for (std::size_t m = 1; m <= detail::small_m_max; ++m)
        if (!pw.unpacks_for(m))
          CHECK(detail::same_panels(pw.kernel_for_call(m), *pw.stored_kernel()));
    }
  }
  // A hint packs one layout, as before: at a small M the GEMV kernel's (bit-dense), at a large
  // one the main kernel's own.
  for (int bits : {1, 2, 4}) {
    const format wf = dense_weight_format(bits);
    for (std::size_t hint : {1, 8, 256}) {
      pack_options opt;
      opt.m_hint = hint;
      const packed_weights hinted = pack_zeros(wf, af, n, k, opt);
      INFO("w" << bits << "a8 hint " << hint << ": " << hinted.kernel_name());
      CHECK(hinted.small_layouts() == 0);
      CHECK(hinted.stored_kernel() == hinted.kernel());
      CHECK(!hinted.unpacks_for(hint));
      if (hinted.kernel()->bytes_per_weight > 0.0f)
        CHECK(hinted.size_bytes() == n * k * hinted.kernel()->w_bits / 8 + n * 4);
    }
  }
}

TEST_CASE("Arm panels unpacked per call: every int8 main kernel, partial tiles, threads",
          "[gemm][one_packing][arm]") {
  struct shape {
    std::size_t m, n, k;
  };
  // N not a multiple of 8 or 4 (AArch64's 4-column widening tiles are halves of 8-column stored
  // panels, the last one alone), K not a multiple of 32.
  const shape shapes[] = {{37, 70, 200}, {40, 302, 1000}};
  const cell dense_cells[] = {cells[0], cells[1], cells[2], cells[7], cells[8]};
  for (const shape& sh : shapes)
    for (const cell& c : dense_cells) {
      const data d = make_data(c.wf, c.af, sh.m, sh.n, sh.k, 7u + static_cast<unsigned>(sh.k));
      for (isa level : host_levels()) {
        if (level == isa::scalar) continue;
        pack_options opt;
        opt.cap = level;
        packed_weights pw;
        REQUIRE(pack_weights(codes(d.w.data(), sh.n, sh.k), c.wf, c.af, pw, opt).ok());
        INFO("w" << c.wf.bits << " a" << c.af.bits << " isa " << isa_name(level) << " " << sh.m
                 << "x" << sh.n << "x" << sh.k << " runs " << pw.kernel_name(sh.m) << " stored "
                 << pw.stored_kernel()->name);
        CHECK(pw.unpacks_for(sh.m));
        check_stages(pw, c.af, d, sh.m);
        check_two_threads(pw, c.af, d, true);  // w3a8's signed activations are converted
      }
    }
}

TEST_CASE("a shared Arm GEMV layout runs the 1-row and the 8-row kernel bit-exactly",
          "[gemm][one_packing][arm]") {
  // Wide enough for the model to pick the small-M kernels (K past one 32-code step, N past one
  // column tile with a partial one).
  const std::size_t n = 1030, k = 1000;
  for (const cell& c : {cells[0], cells[1], cells[2]})
    check_every_level(c, make_data(c.wf, c.af, 8, n, k, 3u + static_cast<unsigned>(c.wf.bits)),
                      {1, 2, 3, 4, 5, 6, 7, 8});
}
#endif
