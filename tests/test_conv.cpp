// conv2d against a naive 7-loop reference convolution, bit-exactly, over kernel sizes, strides,
// padding (symmetric and asymmetric), dilation, groups and depthwise, odd channel counts, 1x1
// spatial inputs, zero points, every format pair on a small layer, and every ISA level the host
// runs. Padding is real zero, including for {-1,+1} activations that have no zero code.
#include <map>
#include <random>
#include <string>
#include <vector>

#include "gemm_tester.hpp"
#include "lowbit/conv.hpp"
#include "lowbit/conv/a_sources.hpp"   // detail::conv_a_sources
#include "lowbit/conv/access.hpp"      // detail::conv_access
#include "lowbit/dispatch/select.hpp"  // detail::for_each_ukernel, select_ukernel

using namespace lowbit;

namespace {

struct conv_case {
  tensor_shape in;
  conv_params p;
};

// The value of every code (value_at), row-major: the references decode each code once.
std::vector<std::int32_t> values_of(const std::vector<std::uint8_t>& x, std::size_t rows,
                                    std::size_t cols, format f) {
  const matrix_ref m = codes(x.data(), rows, cols);
  std::vector<std::int32_t> v(rows * cols);
  for (std::size_t r = 0; r < rows; ++r)
    for (std::size_t k = 0; k < cols; ++k) v[r * cols + k] = value_at(m, f, r, k);
  return v;
}

// f(k, (a - a_zero)(w - w_zero[oc])) for each window position k (OHWI order) of output pixel
// (b, oy, ox) and channel oc that lies inside the input: padded taps are zero and skipped.
// xv: the input's values (NHWC), wv: the weights' values (OC x taps * channels per group).
template <class F>
void window_products(const std::vector<std::int32_t>& xv, const tensor_shape& in,
                     std::int32_t a_zero, const std::vector<std::int32_t>& wv,
                     const std::vector<std::int32_t>& w_zero, const conv_params& p, std::size_t b,
                     std::size_t oy, std::size_t ox, std::size_t oc, F&& f) {
  const std::size_t cg = p.in_per_group(), g = oc / p.out_per_group();
  for (std::size_t ky = 0; ky < p.kernel_h; ++ky)
    for (std::size_t kx = 0; kx < p.kernel_w; ++kx) {
      const long iy = long(oy * p.stride_h + ky * p.dilation_h) - long(p.pad_top);
      const long ix = long(ox * p.stride_w + kx * p.dilation_w) - long(p.pad_left);
      if (iy < 0 || ix < 0 || iy >= long(in.h) || ix >= long(in.w)) continue;
      const std::size_t pixel = (b * in.h + std::size_t(iy)) * in.w + std::size_t(ix);
      for (std::size_t c = 0; c < cg; ++c) {
        const std::size_t k = (ky * p.kernel_w + kx) * cg + c;
        f(k, std::int64_t{xv[pixel * in.c + g * cg + c] - a_zero} *
                 (wv[oc * p.taps() * cg + k] - w_zero[oc]));
      }
    }
}

// The definition: sum over the window of (a - a_zero)(w - w_zero[oc]); outside taps are zero.
std::vector<std::int32_t> reference_conv(const std::vector<std::uint8_t>& x, const tensor_shape& in,
                                         format af, std::int32_t a_zero,
                                         const std::vector<std::uint8_t>& w, const conv_params& p,
                                         format wf, const std::vector<std::int32_t>& w_zero) {
  const std::size_t oh = p.out_h(in.h), ow = p.out_w(in.w), cg = p.in_per_group();
  std::vector<std::int32_t> out(in.n * oh * ow * p.out_channels, 0);
  const auto xv = values_of(x, in.n * in.h * in.w, in.c, af);
  const auto wv = values_of(w, p.out_channels, p.taps() * cg, wf);
  for (std::size_t b = 0; b < in.n; ++b)
    for (std::size_t oy = 0; oy < oh; ++oy)
      for (std::size_t ox = 0; ox < ow; ++ox)
        for (std::size_t oc = 0; oc < p.out_channels; ++oc) {
          std::int64_t s = 0;
          window_products(xv, in, a_zero, wv, w_zero, p, b, oy, ox, oc,
                          [&](std::size_t, std::int64_t v) { s += v; });
          out[((b * oh + oy) * ow + ox) * p.out_channels + oc] = static_cast<std::int32_t>(s);
        }
  return out;
}

void check_conv(const conv_case& cc, format wf, format af, bool zero_points,
                const pack_options& opt = {}, unsigned seed = 1) {
  std::mt19937 rng(seed);
  const conv_params& p = cc.p;
  std::vector<std::uint8_t> x(cc.in.n * cc.in.h * cc.in.w * cc.in.c),
      w(p.out_channels * p.taps() * p.in_per_group());
  for (auto& v : x) v = test::random_code(rng, af, 0);
  for (auto& v : w) v = test::random_code(rng, wf, 0);
  std::int32_t a_zero = 0;
  std::vector<std::int32_t> w_zero(p.out_channels, 0);
  if (zero_points) {
    a_zero = static_cast<std::int32_t>(rng() % 3);  // 1 and 2 may not be codes of odd formats
    for (auto& z : w_zero) z = static_cast<std::int32_t>(rng() % 5) - 2;
  }
  // The same inputs for every kernel of a width pair: the reference is computed once for each.
  static std::map<std::vector<std::size_t>, std::vector<std::int32_t>> references;
  std::vector<std::size_t> key{cc.in.n, cc.in.h, cc.in.w, cc.in.c, seed, std::size_t{zero_points}};
  key.insert(key.end(), {p.in_channels, p.out_channels, p.kernel_h, p.kernel_w, p.stride_h});
  key.insert(key.end(), {p.stride_w, p.pad_top, p.pad_left, p.pad_bottom, p.pad_right});
  key.insert(key.end(), {p.dilation_h, p.dilation_w, p.groups});
  for (format f : {wf, af}) key.insert(key.end(), {std::size_t(f.bits), std::size_t(f.enc)});
  auto found = references.find(key);
  if (found == references.end())
    found = references.emplace(key, reference_conv(x, cc.in, af, a_zero, w, p, wf, w_zero)).first;
  const std::vector<std::int32_t>& expect = found->second;
  packed_conv_weights pw;
  const status ps = pack_conv_weights(w.data(), p, wf, af, pw, opt);
  INFO("in " << cc.in.n << "x" << cc.in.h << "x" << cc.in.w << "x" << cc.in.c << " k " << p.kernel_h
             << "x" << p.kernel_w << " s " << p.stride_h << " d " << p.dilation_h << " pad "
             << p.pad_top << p.pad_left << p.pad_bottom << p.pad_right << " groups " << p.groups
             << " oc " << p.out_channels << " w" << wf.bits << encoding_name(wf.enc) << " a"
             << af.bits << encoding_name(af.enc) << " zeros " << zero_points << " kernel "
             << pw.kernel_name());
  REQUIRE(ps.ok());
  std::vector<std::int32_t> got(expect.size(), 0x1234567);
  int32_output o{got.data()};
  o.zeros = {a_zero, w_zero.data(), w_zero.size()};
  const status s = conv2d(x.data(), cc.in, af, pw, o);
  REQUIRE(s.ok());
  // Catch2's INFO and REQUIRE cost a message and an assertion each: only a mismatch reports.
  for (std::size_t i = 0; i < got.size(); ++i)
    if (got[i] != expect[i]) {
      INFO("output " << i);
      REQUIRE(got[i] == expect[i]);
    }
}

// The kernels the host runs that have a capability (conv2d's in-place paths).
template <class Has>
std::vector<const kernels::ukernel_desc*> host_kernels(Has has) {
  std::vector<const kernels::ukernel_desc*> ks;
  detail::for_each_ukernel([&](const kernels::ukernel_desc& d) {
    if (has(d) && (d.features & ~allowed_features()) == 0) ks.push_back(&d);
  });
  return ks;
}

conv_params make(std::size_t ic, std::size_t oc, std::size_t k, std::size_t stride, std::size_t pad,
                 std::size_t dil = 1, std::size_t groups = 1) {
  conv_params p;
  p.in_channels = ic;
  p.out_channels = oc;
  p.kernel_h = p.kernel_w = k;
  p.stride_h = p.stride_w = stride;
  p.pad_top = p.pad_left = p.pad_bottom = p.pad_right = pad;
  p.dilation_h = p.dilation_w = dil;
  p.groups = groups;
  return p;
}

}  // namespace

TEST_CASE("conv2d geometry grid", "[conv]") {
  const format af{2, encoding::unsigned_int};
  // Signed weights store their values (no activation sums on int8-dot kernels); odd-symmetric
  // ones need the window sums of every output pixel (im2col_source::scan).
  for (format wf : {format{2, encoding::signed_int}, format{3, encoding::odd_symmetric}})
    for (std::size_t k : {1, 3, 5, 7})
      for (std::size_t stride : {1, 2})
        for (std::size_t pad : {0, 1})
          for (std::size_t dil : {1, 2}) {
            if ((k - 1) * dil + 1 > 8 + 2 * pad) continue;  // no output on the 9x8 input
            check_conv({{1, 9, 8, 5}, make(5, 7, k, stride, pad, dil)}, wf, af, true);
          }
  const format wf{2, encoding::signed_int};
  // A window taller than the scan's cached rows (16), with window sums.
  conv_params tall = make(3, 4, 1, 1, 0);
  tall.kernel_h = 17;
  tall.kernel_w = 2;
  tall.pad_top = tall.pad_bottom = 5;
  check_conv({{2, 9, 6, 3}, tall}, {3, encoding::odd_symmetric}, af, true);
  conv_params asym = make(3, 4, 3, 1, 0);
  asym.pad_top = 2;
  asym.pad_left = 0;
  asym.pad_bottom = 1;
  asym.pad_right = 3;
  check_conv({{2, 6, 5, 3}, asym}, wf, af, true);
  conv_params rect = make(4, 6, 1, 2, 1);
  rect.kernel_h = 3;
  rect.kernel_w = 5;
  rect.stride_w = 1;
  rect.pad_left = rect.pad_right = 2;
  check_conv({{1, 7, 9, 4}, rect}, wf, af, false);
  check_conv({{1, 1, 1, 9}, make(9, 5, 1, 1, 0)}, wf, af, true);         // 1x1 spatial
  check_conv({{1, 1, 1, 3}, make(3, 5, 3, 1, 1)}, wf, af, true);         // 1x1 spatial, padded 3x3
  check_conv({{3, 5, 5, 6}, make(6, 4, 1, 1, 0, 1, 2)}, wf, af, true);   // groups, direct 1x1
  check_conv({{1, 6, 7, 6}, make(6, 9, 3, 2, 1, 1, 3)}, wf, af, true);   // groups, im2col
  check_conv({{1, 8, 8, 5}, make(5, 5, 3, 1, 1, 1, 5)}, wf, af, true);   // depthwise
  check_conv({{2, 7, 6, 4}, make(4, 8, 3, 2, 1, 2, 4)}, wf, af, true);   // depthwise x2, dilated
  check_conv({{1, 9, 9, 3}, make(3, 3, 5, 2, 2, 1, 3)}, wf, af, false);  // depthwise 5x5 s2
}

TEST_CASE("conv2d: every format pair, padding exact for {-1,+1} activations", "[conv]") {
  for (int wb : {1, 2, 3, 4, 8})
    for (int ab : {1, 2, 4, 8})
      for (format wf : test::all_formats(wb))
        for (format af : test::all_formats(ab)) {
          check_conv({{1, 6, 5, 3}, make(3, 5, 3, 1, 1)}, wf, af, true);
          check_conv({{1, 5, 5, 4}, make(4, 4, 3, 2, 1, 1, 4)}, wf, af, true);
        }
}

TEST_CASE("conv2d reading window rows in place (segmented panels) matches the reference",
          "[conv][kernels]") {
  // Kernels that keep runs of codes read each window row (kernel_w * in_c bytes, a multiple of 4)
  // from the input; pixels whose window crosses a border get an im2col row. Output rows of 9 and
  // 11 pixels put panel boundaries mid-row and across images (batch 2).
  const auto ks = host_kernels([](const kernels::ukernel_desc& d) {
    return kernels::keeps_runs(d, kernels::a_run_kind::codes);
  });
  for (const kernels::ukernel_desc* d : ks) {
    pack_options opt;
    opt.kernel_name = d->name;
    conv_params asym = make(8, 40, 3, 1, 0);
    asym.pad_top = 2;
    asym.pad_left = 0;
    asym.pad_bottom = 1;
    asym.pad_right = 3;
    conv_params strip = make(4, 33, 1, 1, 0);  // 1x2 window: 8-byte rows, the shortest
    strip.kernel_w = 2;
    const conv_case cases[] = {
        {{2, 9, 11, 8}, make(8, 40, 3, 1, 1)},     // 3x3 s1 p1, 24-byte rows
        {{2, 11, 9, 4}, make(4, 33, 3, 2, 1)},     // 3x3 s2, 12-byte rows
        {{1, 13, 12, 16}, make(16, 20, 1, 2, 0)},  // 1x1 s2 (a downsample)
        {{1, 12, 10, 4}, make(4, 9, 5, 1, 2)},     // 5x5
        {{1, 17, 15, 4}, make(4, 64, 7, 2, 3)},    // 7x7 s2 p3
        {{2, 7, 9, 8}, asym},
        {{1, 5, 30, 4}, strip},
        {{2, 30, 31, 8}, make(8, 17, 3, 1, 1)},  // several MC blocks
    };
    for (const conv_case& cc : cases)
      for (auto [wf, af] :
           {std::pair<format, format>{{2, encoding::signed_int}, {2, encoding::unsigned_int}},
            {{3, encoding::odd_symmetric}, {4, encoding::unsigned_int}},
            {{8, encoding::unsigned_int}, {8, encoding::unsigned_int}},
            {{2, encoding::signed_int}, {1, encoding::odd_symmetric}}})
        for (bool zeros : {false, true}) check_conv(cc, wf, af, zeros, opt);
  }
}

TEST_CASE("conv2d reading gapped window rows (few channels) matches the reference",
          "[conv][kernels]") {
  // Window rows of kernel_w * in_c bytes that are not whole k steps (a first layer's 7 x 3 = 21)
  // are read in place with a gap of the next bytes, multiplied by zero weights of a second
  // packing. Borders and the input's last bytes (where the gap would read past the end) take
  // scratch rows; weight zero points (activation sums needed) fall back to the plain packing.
  const auto ks = host_kernels([](const kernels::ukernel_desc& d) {
    return kernels::keeps_runs(d, kernels::a_run_kind::codes);
  });
  for (const kernels::ukernel_desc* d : ks) {
    pack_options opt;
    opt.kernel_name = d->name;
    conv_params asym = make(3, 16, 7, 2, 0);
    asym.pad_top = 1;
    asym.pad_left = 3;
    asym.pad_bottom = 2;
    asym.pad_right = 0;
    conv_params wide = make(2, 9, 1, 1, 0);  // 1x3 window of 2 channels: 6-byte rows, gap 2
    wide.kernel_w = 3;
    const conv_case cases[] = {
        {{1, 23, 21, 3}, make(3, 64, 7, 2, 3)},  // conv1 of ResNet: 21-byte rows, gap 3
        {{2, 9, 11, 3}, make(3, 20, 3, 1, 1)},   // 9 -> 12, batch 2
        {{1, 6, 6, 3}, make(3, 8, 3, 1, 0)},     // unpadded: the last window ends the input
        {{1, 12, 10, 1}, make(1, 9, 5, 1, 2)},   // 5 -> 8
        {{1, 11, 13, 5}, make(5, 33, 3, 2, 1)},  // 15 -> 16
        {{2, 19, 17, 3}, asym},
        {{1, 7, 9, 2}, wide},
    };
    for (const conv_case& cc : cases)
      for (auto [wf, af] :
           {std::pair<format, format>{{2, encoding::signed_int}, {2, encoding::unsigned_int}},
            {{4, encoding::signed_int}, {4, encoding::unsigned_int}},
            {{8, encoding::unsigned_int}, {8, encoding::unsigned_int}},
            {{2, encoding::ternary}, {3, encoding::signed_int}},
            {{2, encoding::signed_int}, {1, encoding::odd_symmetric}}}) {
        packed_conv_weights pw;
        std::vector<std::uint8_t> w(cc.p.out_channels * cc.p.taps() * cc.in.c, 0);
        REQUIRE(pack_conv_weights(w.data(), cc.p, wf, af, pw, opt).ok());
        INFO("kernel " << d->name << " c " << cc.in.c << " k " << cc.p.kernel_w);
        CHECK(detail::conv_access::gapped(pw) != nullptr);  // every case here has a gap
        for (bool zeros : {false, true}) check_conv(cc, wf, af, zeros, opt);
      }
  }
}

TEST_CASE("conv2d packing windows from the input's rows (copied runs) matches the reference",
          "[conv][kernels]") {
  // Kernels that copy runs of codes pack windows straight from the input: bitplane on AVX-512 takes
  // few-channel windows (window rows of at most 64 codes), the vpermb tables window rows of
  // whole k-pairs or k-triples of any length; borders come from scratch rows. Runs of 9, 21, 63
  // and 64 codes put word boundaries inside and at the end of runs; runs of 192 and 120 codes
  // are whole and partial 32-group steps of the table packer, and a single run (a 1x1 window)
  // may end inside a group (rows it cannot take fall back to im2col rows); {-1,+1} activations
  // check the padding correction, signed activations the
  // converted (im2col) path beside it.
  const auto ks = host_kernels([](const kernels::ukernel_desc& d) {
    return (d.a_runs.kinds & ~d.a_runs.kept & 1u) != 0;  // copied runs of codes
  });
  for (const kernels::ukernel_desc* d : ks) {
    pack_options opt;
    opt.kernel_name = d->name;
    conv_params asym = make(3, 16, 7, 2, 0);
    asym.pad_top = 1;
    asym.pad_left = 3;
    asym.pad_bottom = 2;
    asym.pad_right = 0;
    conv_params tall = make(2, 5, 1, 1, 0);  // 13x3 window: 13 runs of 6 codes
    tall.kernel_h = 13;
    tall.kernel_w = 3;
    tall.pad_top = tall.pad_bottom = 6;
    tall.pad_left = tall.pad_right = 1;
    const conv_case cases[] = {
        {{1, 23, 21, 3}, make(3, 40, 7, 2, 3)},    // ResNet conv1: runs of 21
        {{2, 9, 11, 3}, make(3, 20, 3, 1, 1)},     // runs of 9, batch 2
        {{1, 13, 12, 64}, make(64, 33, 1, 2, 0)},  // a downsample: one run of 64
        {{1, 8, 7, 21}, make(21, 9, 3, 1, 1)},     // runs of 63
        {{2, 19, 17, 3}, asym},
        {{1, 15, 9, 2}, tall},
        {{1, 9, 10, 64}, make(64, 24, 3, 1, 1)},  // runs of 192
        {{1, 7, 9, 40}, make(40, 12, 3, 2, 1)},   // runs of 120
        {{1, 9, 9, 21}, make(21, 10, 1, 2, 0)},   // one run of 21: a k-pair straddles its end
    };
    for (const conv_case& cc : cases)
      for (auto [wf, af] :
           {std::pair<format, format>{{1, encoding::odd_symmetric}, {1, encoding::odd_symmetric}},
            {{2, encoding::signed_int}, {2, encoding::unsigned_int}},
            {{1, encoding::odd_symmetric}, {2, encoding::unsigned_int}},
            {{2, encoding::signed_int}, {2, encoding::signed_int}}}) {
        if (wf.bits > d->w_bits || af.bits > d->a_bits) continue;
        for (bool zeros : {false, true}) check_conv(cc, wf, af, zeros, opt);
      }
  }
}

TEST_CASE("conv weights are chosen for A read in place where conv2d can", "[conv][dispatch]") {
  // Segment kernels read window rows of whole k steps (a strided 1x1, few channels); plane-run
  // kernels read 64-channel windows from the bit-plane image (not a strided 1x1, which reads a
  // quarter of its input); 1x1 stride 1 is a direct GEMM; dilated, grouped or depthwise windows
  // are copied: those keep the plain GEMM model.
  const format af{2, encoding::unsigned_int}, sf{2, encoding::signed_int};
  const auto sources = [](const conv_params& p, format f) {
    const pack_options o = detail::conv_a_sources(p, f, {});
    return std::pair<bool, bool>{o.a_in_place, o.a_plane_image};
  };
  using both = std::pair<bool, bool>;
  CHECK(sources(make(64, 128, 1, 2, 0), af) == both{true, false});
  CHECK(sources(make(4, 16, 3, 1, 1), af) == both{true, false});
  CHECK(sources(make(64, 64, 3, 1, 1), af) == both{true, true});
  CHECK(sources(make(64, 64, 3, 1, 1), sf) == both{false, true});  // codes converted
  CHECK(sources(make(64, 128, 3, 2, 1), af) == both{true, true});
  CHECK(sources(make(64, 64, 1, 1, 0), af) == both{false, false});
  CHECK(sources(make(64, 64, 3, 1, 1, 2), af) == both{false, false});
  CHECK(sources(make(128, 128, 3, 1, 1, 1, 2), af) == both{false, false});
  CHECK(sources(make(8, 8, 3, 1, 1, 1, 8), af) == both{false, false});
  // The packing asks the selection with these hints: the kernel is the hinted choice.
  const conv_params down = make(64, 128, 1, 2, 0);
  std::vector<std::uint8_t> w(128 * 64, 1);
  packed_conv_weights pw;
  REQUIRE(pack_conv_weights(w.data(), down, sf, af, pw).ok());
  pack_options hint;
  hint.a_in_place = true;
  // (or its signed-weight sibling, which pack_weights switches to for signed codes).
  const kernels::ukernel_desc* d = select_ukernel(2, 2, 128, 64, hint);
  CHECK(std::string(pw.kernel_name()) == (d->signed_w ? d->signed_w : d)->name);
}

TEST_CASE("conv2d assembling bit-plane panels from plane rows matches the reference",
          "[conv][kernels]") {
  // Kernels with a plane_row get the input as bit planes once, and each panel is assembled
  // from the planes' words per tap (groups of whole 64-channel words only). Every such kernel on
  // the host, with the pad code's planes at borders (and the {-1,+1} correction), converted
  // signed codes, groups, dilation, a window taller than the cached 16 rows and several MC blocks.
  const auto ks =
      host_kernels([](const kernels::ukernel_desc& d) { return d.a_runs.plane_row != nullptr; });
  conv_params asym = make(64, 24, 3, 1, 0);
  asym.pad_top = 2;
  asym.pad_left = 0;
  asym.pad_bottom = 1;
  asym.pad_right = 3;
  conv_params tall = make(64, 8, 1, 1, 0);
  tall.kernel_h = 17;
  tall.pad_top = tall.pad_bottom = 8;
  const conv_case cases[] = {
      {{2, 9, 11, 64}, make(64, 40, 3, 1, 1)},         // 3x3 s1 p1, panels across rows, images
      {{1, 11, 9, 128}, make(128, 33, 3, 2, 1)},       // 3x3 s2, two words per tap
      {{1, 5, 30, 128}, make(128, 9, 3, 2, 1)},        // 3x3 s2, whole panels inside a row
      {{1, 13, 12, 64}, make(64, 20, 1, 2, 0)},        // 1x1 s2 (a downsample)
      {{1, 9, 10, 64}, make(64, 16, 3, 1, 2, 2)},      // dilated
      {{1, 7, 8, 192}, make(192, 18, 3, 1, 1, 1, 3)},  // 3 groups of 64 channels
      {{1, 7, 9, 64}, asym},
      {{1, 12, 5, 64}, tall},
  };
  const conv_case big{{2, 30, 31, 64}, make(64, 12, 3, 1, 1)};  // several MC blocks
  for (const kernels::ukernel_desc* d : ks) {
    pack_options opt;
    opt.kernel_name = d->name;
    const int wb = d->w_bits, ab = d->a_bits;
    const std::pair<format, format> pairs[] = {
        {{wb, encoding::signed_int}, {ab, encoding::unsigned_int}},
        {{wb, encoding::odd_symmetric}, {ab, encoding::odd_symmetric}},
        {{wb, encoding::unsigned_int},
         {ab, ab == 1 ? encoding::odd_symmetric : encoding::signed_int}},
    };
    for (const conv_case& cc : cases)
      for (const auto& [wf, af] : pairs)
        for (bool zeros : {false, true}) check_conv(cc, wf, af, zeros, opt);
    check_conv(big, pairs[0].first, pairs[0].second, true, opt);
    if (ab > 1)  // activations narrower than the kernel's planes: the top planes are zero
      check_conv(cases[0], {wb, encoding::signed_int}, {ab - 1, encoding::unsigned_int}, true, opt);
  }
}

TEST_CASE("conv2d under every ISA level the host runs", "[conv][dispatch]") {
  for (isa level : {isa::scalar, isa::sse4, isa::avx2, isa::avx512, isa::avx512vnni, isa::avx512icl,
                    isa::neon, isa::neon_dotprod}) {
    if ((isa_features(level) & ~detail::host_features()) != 0) continue;
    pack_options opt;
    opt.cap = level;
    for (auto [wb, ab] : {std::pair<int, int>{1, 1}, {2, 2}, {4, 4}, {8, 8}, {1, 2}, {4, 8}}) {
      const format wf{wb, wb == 1 ? encoding::odd_symmetric : encoding::signed_int};
      const format af{ab, ab == 1 ? encoding::odd_symmetric : encoding::unsigned_int};
      check_conv({{1, 10, 9, 19}, make(19, 33, 3, 1, 1)}, wf, af, true, opt);
      check_conv({{2, 7, 7, 64}, make(64, 40, 1, 1, 0)}, wf, af, false, opt);
    }
  }
}

TEST_CASE("conv2d rejects bad geometry and writes nothing", "[conv][errors]") {
  const format f{2, encoding::unsigned_int};
  std::vector<std::uint8_t> w(8 * 25 * 8, 1), x(1 * 4 * 4 * 8, 1);
  packed_conv_weights pw;
  conv_params p = make(8, 8, 3, 1, 0);
  p.groups = 3;
  CHECK(pack_conv_weights(w.data(), p, f, f, pw).code() == errc::invalid_argument);
  p = make(8, 8, 3, 0, 0);
  CHECK(pack_conv_weights(w.data(), p, f, f, pw).code() == errc::invalid_argument);
  p = make(8, 8, 5, 1, 0);
  REQUIRE(pack_conv_weights(w.data(), p, f, f, pw).ok());
  std::vector<std::int32_t> out(64, 7);
  // A 5x5 kernel on a 4x4 input without padding has no output.
  CHECK(conv2d(x.data(), {1, 4, 4, 8}, f, pw, int32_output{out.data()}).code() ==
        errc::invalid_dimension);
  CHECK(conv2d(x.data(), {1, 8, 8, 7}, f, pw, int32_output{out.data()}).code() ==
        errc::dimension_mismatch);
  x[5] = 9;  // not a 2-bit code
  p = make(8, 8, 1, 1, 0);
  REQUIRE(pack_conv_weights(w.data(), p, f, f, pw).ok());
  CHECK(conv2d(x.data(), {1, 4, 4, 8}, f, pw, int32_output{out.data()}).code() ==
        errc::invalid_code);
  for (std::int32_t v : out) CHECK(v == 7);
}

namespace {

// Per-group weight scales (float_output::w_group_scales, weights packed with k_group = G): the
// exact integer T_g of each K group, from the definition (padded taps contribute nothing), and
// the documented float order: acc = 0; acc += scale[oc][g] * float(T_g) in group order; then
// clamp(a_scale * acc + bias[oc]). Each product is rounded on its own (volatile: no FMA here).
std::vector<float> reference_conv_groups(const std::vector<std::uint8_t>& x, const tensor_shape& in,
                                         format af, std::int32_t a_zero,
                                         const std::vector<std::uint8_t>& w, const conv_params& p,
                                         format wf, const std::vector<std::int32_t>& w_zero,
                                         std::size_t group, const std::vector<float>& scales,
                                         float a_scale, const std::vector<float>& bias) {
  const std::size_t oh = p.out_h(in.h), ow = p.out_w(in.w), k = p.taps() * p.in_per_group(),
                    groups = (k + group - 1) / group;
  std::vector<float> out(in.n * oh * ow * p.out_channels);
  const auto xv = values_of(x, in.n * in.h * in.w, in.c, af);
  const auto wv = values_of(w, p.out_channels, k, wf);
  std::vector<std::int64_t> t(groups);
  for (std::size_t b = 0; b < in.n; ++b)
    for (std::size_t oy = 0; oy < oh; ++oy)
      for (std::size_t ox = 0; ox < ow; ++ox)
        for (std::size_t oc = 0; oc < p.out_channels; ++oc) {
          for (auto& v : t) v = 0;
          window_products(xv, in, a_zero, wv, w_zero, p, b, oy, ox, oc,
                          [&](std::size_t kk, std::int64_t v) { t[kk / group] += v; });
          float acc = 0.0f;
          for (std::size_t g = 0; g < groups; ++g) {
            volatile float prod = scales[oc * groups + g] * static_cast<float>(t[g]);
            acc = acc + prod;
          }
          volatile float v = a_scale * acc;
          float r = v + bias[oc];
          r = r < 0.0f ? 0.0f : r;  // the stage's ReLU
          out[((b * oh + oy) * ow + ox) * p.out_channels + oc] = r;
        }
  return out;
}

// conv2d with per-group scales against the reference, bit for bit; nothing else is written.
void check_conv_groups(const conv_case& cc, format wf, format af, std::int32_t a_zero, bool w_zeros,
                       std::size_t group, const pack_options& base = {}, unsigned seed = 7) {
  std::mt19937 rng(seed);
  const conv_params& p = cc.p;
  const std::size_t k = p.taps() * p.in_per_group(), groups = (k + group - 1) / group;
  std::vector<std::uint8_t> x(cc.in.n * cc.in.h * cc.in.w * cc.in.c), w(p.out_channels * k);
  for (auto& v : x) v = test::random_code(rng, af, 0);
  for (auto& v : w) v = test::random_code(rng, wf, 0);
  std::vector<std::int32_t> w_zero(p.out_channels, 0);
  if (w_zeros)
    for (auto& z : w_zero) z = static_cast<std::int32_t>(rng() % 5) - 2;
  std::vector<float> scales(p.out_channels * groups), bias(p.out_channels);
  for (auto& s : scales) s = 0.001f * static_cast<float>(1 + rng() % 997);
  for (auto& b : bias) b = 0.01f * static_cast<float>(static_cast<int>(rng() % 201) - 100);
  const auto expect =
      reference_conv_groups(x, cc.in, af, a_zero, w, p, wf, w_zero, group, scales, 0.25f, bias);
  pack_options opt = base;
  opt.k_group = group;
  packed_conv_weights pw;
  const status ps = pack_conv_weights(w.data(), p, wf, af, pw, opt);
  INFO("in " << cc.in.n << "x" << cc.in.h << "x" << cc.in.w << "x" << cc.in.c << " k " << p.kernel_h
             << "x" << p.kernel_w << " s " << p.stride_h << " pad " << p.pad_top << " groups "
             << p.groups << " oc " << p.out_channels << " w" << wf.bits << encoding_name(wf.enc)
             << " a" << af.bits << encoding_name(af.enc) << " a_zero " << a_zero << " k_group "
             << group << " kernel " << pw.kernel_name() << " " << ps.message());
  REQUIRE(ps.ok());
  REQUIRE(pw.k_group() == group);
  std::vector<float> got(expect.size() + 5, -7.0f);
  float_output o;
  o.data = got.data();
  o.capacity = expect.size();
  o.a_scale = 0.25f;
  o.w_group_scales = scales.data();
  o.bias = bias.data();
  o.clamp_min = 0.0f;
  o.zeros = {a_zero, w_zero.data(), w_zero.size()};
  workspace ws;  // grows as needed, like the default one
  const status s = conv2d(x.data(), cc.in, af, pw, o, ws, nullptr);
  INFO(s.message());
  REQUIRE(s.ok());
  for (std::size_t i = 0; i < expect.size(); ++i)
    if (got[i] != expect[i]) {
      INFO("output " << i);
      REQUIRE(got[i] == expect[i]);
    }
  for (std::size_t i = expect.size(); i < got.size(); ++i) REQUIRE(got[i] == -7.0f);
  // The same on two threads, and through the default per-thread workspace.
  thread_pool pool(2);
  std::vector<float> got2(got.size(), -7.0f);
  o.data = got2.data();
  REQUIRE(conv2d(x.data(), cc.in, af, pw, o, ws, &pool).ok());
  REQUIRE(got2 == got);
  std::fill(got2.begin(), got2.end(), -7.0f);
  REQUIRE(conv2d(x.data(), cc.in, af, pw, o).ok());
  REQUIRE(got2 == got);
}

}  // namespace

TEST_CASE("conv2d with per-group weight scales on every path; padding exact for every encoding",
          "[conv][groups]") {
  const format s2{2, encoding::signed_int}, u2{2, encoding::unsigned_int},
      o2{2, encoding::odd_symmetric}, u4{4, encoding::unsigned_int}, s4{4, encoding::signed_int},
      o1{1, encoding::odd_symmetric}, u8{8, encoding::unsigned_int};
  // (activation format, zero point): an exact zero code, and none (padding corrected per group).
  const std::pair<format, std::int32_t> acts[] = {{u2, 0}, {u2, -1}, {o2, 0}, {o2, 1},
                                                  {u4, 3}, {s4, 0},  {o1, 0}, {u8, 200}};
  for (const auto& [af, a_zero] : acts)
    for (const format wf : {s2, u4, o1}) {
      const bool wz = wf.enc == encoding::unsigned_int;
      // The cases: 3x3 8 -> 4 on 1x3x3x8 without padding; a 1x1 pad-1 layer on 1x1x4.
      check_conv_groups({{1, 3, 3, 8}, make(8, 4, 3, 1, 0)}, wf, af, a_zero, wz, 8);
      check_conv_groups({{1, 1, 1, 4}, make(4, 4, 1, 1, 1)}, wf, af, a_zero, wz, 4);
      // im2col with groups of K across taps (cg = 6, G = 8), several K groups a tap (cg = 64,
      // G = 32), and several taps a group (cg = 16, G = 64); a last partial group.
      check_conv_groups({{2, 5, 6, 6}, make(6, 7, 3, 1, 1)}, wf, af, a_zero, wz, 8);
      check_conv_groups({{1, 6, 5, 64}, make(64, 20, 3, 2, 1)}, wf, af, a_zero, wz, 32);
      check_conv_groups({{1, 5, 5, 16}, make(16, 9, 3, 1, 2)}, wf, af, a_zero, wz, 64);
      // The direct 1x1 path (no padding), convolution groups, and depthwise (any G).
      check_conv_groups({{2, 4, 5, 64}, make(64, 17, 1, 1, 0)}, wf, af, a_zero, wz, 32);
      check_conv_groups({{1, 6, 6, 12}, make(12, 10, 3, 1, 1, 1, 2)}, wf, af, a_zero, wz, 8);
      check_conv_groups({{1, 7, 6, 8}, make(8, 8, 3, 1, 1, 1, 8)}, wf, af, a_zero, wz, 4);
      check_conv_groups({{1, 7, 6, 8}, make(8, 16, 3, 2, 1, 1, 8)}, wf, af, a_zero, wz, 2);
    }
}

TEST_CASE("conv2d with per-group scales on every kernel the host runs", "[conv][groups]") {
  // Each kernel forced by name, on window shapes its in-place paths would take without groups.
  const std::size_t group = 64;
  std::vector<const kernels::ukernel_desc*> ks = host_kernels([&](const kernels::ukernel_desc& d) {
    return group % d.k_step == 0 && group <= d.kc_max && d.w_bits >= 2 && d.a_bits >= 2;
  });
  REQUIRE_FALSE(ks.empty());
  for (const kernels::ukernel_desc* d : ks) {
    pack_options opt;
    opt.kernel_name = d->name;
    const format wf{2, encoding::signed_int}, af{2, encoding::unsigned_int};
    check_conv_groups({{1, 6, 7, 64}, make(64, 33, 3, 1, 1)}, wf, af, -1, false, group, opt);
    check_conv_groups({{1, 5, 5, 64}, make(64, 16, 1, 1, 0)}, wf, af, 0, true, group, opt);
  }
}

TEST_CASE("conv2d group scales on weights packed without k_group are refused", "[conv][groups]") {
  const format wf{2, encoding::signed_int}, af{2, encoding::odd_symmetric};
  std::vector<std::uint8_t> w(16 * 9 * 8, 1), x(3 * 3 * 8, 1);
  std::vector<float> gs(16 * 9, 1.0f), out(16 * 9, -7.0f);
  for (const conv_params& p : {make(8, 4, 3, 1, 0), make(8, 16, 3, 1, 1, 1, 8), make(8, 4, 1, 1, 0),
                               make(8, 4, 3, 1, 1, 1, 2)}) {
    packed_conv_weights pw;
    REQUIRE(pack_conv_weights(w.data(), p, wf, af, pw).ok());
    float_output o;
    o.data = out.data();
    o.w_group_scales = gs.data();  // w_scales left null
    const status s = conv2d(x.data(), {1, 3, 3, 8}, af, pw, o);
    CHECK(s.code() == errc::wrong_packing);
    CHECK(std::string(s.argument()) == "out.w_group_scales (weights not packed with k_group)");
    for (float v : out) REQUIRE(v == -7.0f);
  }
}

TEST_CASE("conv2d: oversized shapes; short outputs; grouped invalid codes", "[conv][errors]") {
  const format f{2, encoding::unsigned_int};
  std::vector<std::uint8_t> w(8 * 64, 1), x(4 * 4 * 64, 1);
  packed_conv_weights pw;
  REQUIRE(pack_conv_weights(w.data(), make(64, 8, 1, 1, 0), f, f, pw).ok());
  std::vector<std::int32_t> out(4 * 4 * 8 + 1, 7);
  // N * H * W * C past size_t: refused before anything is read.
  const std::size_t huge = std::size_t{1} << (sizeof(std::size_t) * 8 - 2);
  for (const tensor_shape in :
       {tensor_shape{huge, 1, 1, 64}, tensor_shape{1, huge, 1, 64}, tensor_shape{1, 1, huge, 64},
        tensor_shape{SIZE_MAX, 1, 1, 64}, tensor_shape{3, SIZE_MAX / 2, 5, 64}}) {
    const status s = conv2d(x.data(), in, f, pw, int32_output{out.data()});
    CHECK(s.code() == errc::size_overflow);
  }
  // K and the weights' size past size_t.
  conv_params big = make(std::size_t{1} << 24, 8, 1, 1, 0);
  big.kernel_h = big.kernel_w = std::size_t{1} << 24;
  packed_conv_weights pb;
  CHECK(pack_conv_weights(w.data(), big, f, f, pb).code() == errc::size_overflow);
  // An output one element short: refused, nothing written.
  int32_output o{out.data()};
  o.capacity = 4 * 4 * 8 - 1;
  const status s = conv2d(x.data(), {1, 4, 4, 64}, f, pw, o);
  CHECK(s.code() == errc::buffer_too_small);
  CHECK(std::string(s.argument()) == "out.capacity");
  CHECK(s.value() == 4 * 4 * 8 - 1);
  for (std::int32_t v : out) REQUIRE(v == 7);
  o.capacity = 4 * 4 * 8;
  CHECK(conv2d(x.data(), {1, 4, 4, 64}, f, pw, o).ok());
  CHECK(out.back() == 7);
  // Grouped: the error names the first bad code of the whole input by its flat index.
  conv_params g = make(64, 8, 1, 1, 0, 1, 2);
  REQUIRE(pack_conv_weights(w.data(), g, f, f, pw).ok());
  // Group 1's code at 40 (pixel 0) comes before group 0's at 67 (pixel 1).
  x[40] = 9;
  x[64 + 3] = 9;
  const status bad = conv2d(x.data(), {1, 4, 4, 64}, f, pw, int32_output{out.data()});
  CHECK(bad.code() == errc::invalid_code);
  CHECK(bad.value() == 40);
  x[11] = 9;
  CHECK(conv2d(x.data(), {1, 4, 4, 64}, f, pw, int32_output{out.data()}).value() == 11);
  x[11] = x[40] = 1;
  CHECK(conv2d(x.data(), {1, 4, 4, 64}, f, pw, int32_output{out.data()}).value() == 64 + 3);
}
