// The x86 lookup-table kernels (activation-sum and product tables) through the common tester.
#if defined(__x86_64__)

#include <random>
#include <string>
#include <vector>

#include "lowbit/kernels/lut/lut_x86.hpp"
#include "ukernel_tester.hpp"

TEST_CASE("x86 lookup-table kernel names say their bits, tile and K step", "[ukernel][lut][x86]") {
  for (const auto& d : lowbit::kernels::lut::x86_ukernels()) {
    const std::string name = d.name;
    INFO(name);
    const std::string algo =
        d.algo == lowbit::algorithm::lut_actsum ? "lut_actsum_" : "lut_product_";
    CHECK(name.rfind(algo, 0) == 0);
    const std::string w = "_w" + std::to_string(d.w_bits), a = "a" + std::to_string(d.a_bits) + "_";
    // (signed-weight siblings: "_w2sa2_")
    CHECK(name.find(w + (d.w_offset != 0 ? "s" : "") + a) != std::string::npos);
    CHECK(name.find("_" + std::to_string(d.mr) + "x" + std::to_string(d.nr) + "c" +
                    std::to_string(d.k_step) + "__") != std::string::npos);
    CHECK(d.kc_max % d.k_step == 0);
  }
}

TEST_CASE("x86 lookup-table microkernels match the naive u-code dot product",
          "[ukernel][lut][x86]") {
  for (const auto& d : lowbit::kernels::lut::x86_ukernels()) {
    INFO(d.name);
    lowbit::test::ukernel_tester(d).test_all();
  }
}

namespace {

// A vector activation-sum packer against the scalar one it replaces, byte for byte, over every
// K tail (k = 1 .. 4 vector steps + 1), every row count, strided rows; and its row sums.
template <class Vector, class Cell, int MR, int V, int NV>
void check_vector_actsum_packer() {
  using scalar = typename Vector::base;  // the scalar packer of the same layout
  std::mt19937 rng(Cell::w_bits * 10 + Cell::a_bits + MR);
  // Long K runs every few k only: each k is a few vector steps of every tail already.
  for (std::size_t k = 1; k <= 4 * Vector::step_codes + 1;
       k += k < 2 * Vector::step_codes + 2 ? 1 : 7)
    for (std::size_t rows = 1; rows <= MR; ++rows)
      for (std::size_t pad : {0, 3}) {
        const std::size_t ldu = k + pad;
        std::vector<std::uint8_t> a(rows * ldu, 0xFF);  // 0xFF in the padding: never read
        for (std::size_t i = 0; i < rows; ++i)
          for (std::size_t x = 0; x < k; ++x)
            a[i * ldu + x] = static_cast<std::uint8_t>(rng() % (Cell::amax + 1));
        const std::size_t bytes = scalar::a_bytes(k);
        std::vector<std::uint8_t> want(bytes + 16, 0xA5), got(bytes + 16, 0xA5), got2 = got;
        scalar::pack_a(a.data(), ldu, rows, k, want.data());
        Vector::pack_a(a.data(), ldu, rows, k, got.data());
        std::vector<std::uint32_t> sums(MR, 7), expect(MR, 7);
        for (std::size_t i = 0; i < rows; ++i)
          for (std::size_t x = 0; x < k; ++x) expect[i] += a[i * ldu + x];
        const bool bad = Vector::pack_checked(a.data(), ldu, rows, k, got2.data(), sums.data(),
                                              static_cast<std::uint8_t>(~Cell::amax));
        INFO("w" << Cell::w_bits << "a" << Cell::a_bits << " MR=" << MR << " k=" << k
                 << " rows=" << rows << " pad=" << pad);
        REQUIRE(got == want);  // including the 16 bytes past the panel: untouched
        REQUIRE(got2 == want);
        REQUIRE_FALSE(bad);
        REQUIRE(sums == expect);
      }
}

template <class Cell, int MR>
void check_sse41_packer() {
  check_vector_actsum_packer<lowbit::kernels::lut::actsum_pack_sse41<Cell, MR, 32, 2>, Cell, MR, 32,
                             2>();
}

template <class Cell>
void check_vbmi_packer() {
  check_vector_actsum_packer<lowbit::kernels::lut::actsum_pack_vbmi<Cell, 8, 64, 1>, Cell, 8, 64,
                             1>();
}

}  // namespace

TEST_CASE("the vector activation-sum packer writes the scalar packer's panel",
          "[ukernel][lut][x86]") {
  if ((lowbit::detail::host_features() & lowbit::detail::x86_sse4) != lowbit::detail::x86_sse4) {
    WARN("skipping: the host lacks SSE4.1");
    return;
  }
  using namespace lowbit::kernels::lut::cells;
  check_sse41_packer<p_w1a1, 4>();
  check_sse41_packer<p_w1a2, 4>();
  check_sse41_packer<p_w2a1, 4>();
  check_sse41_packer<p_w2a2, 4>();
  check_sse41_packer<p_w1a1, 8>();
  check_sse41_packer<p_w1a2, 8>();
  check_sse41_packer<p_w2a1, 8>();
  check_sse41_packer<p_w2a2, 8>();
}

TEST_CASE("the vector packer of the vpermb tables writes the scalar packer's panel",
          "[ukernel][lut][x86]") {
  if ((lowbit::detail::host_features() & lowbit::kernels::lut::avx512vbmi::features) !=
      lowbit::kernels::lut::avx512vbmi::features) {
    WARN("skipping: the host lacks AVX-512 VBMI");
    return;
  }
  using namespace lowbit::kernels::lut::cells;
  check_vbmi_packer<v_w2a1>();  // k-triples
  check_vbmi_packer<v_w2a2>();
  check_vbmi_packer<v_w4a2>();
  check_vbmi_packer<v_w3a2>();  // k-pairs
  check_vbmi_packer<v_w3a3>();
  check_vbmi_packer<v_w3a4>();
}

#endif  // __x86_64__
