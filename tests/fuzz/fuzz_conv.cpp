// libFuzzer target: pack_conv_weights + conv2d over random geometry (kernel, stride, dilation,
// asymmetric padding, groups and depthwise, channels, spatial sizes including ones with no
// output), formats, zero points, output stages, forced ISA levels or kernels, and executors.
// Results must equal a naive convolution (padding is real zero) bit-exactly; invalid parameters
// must give the documented error and leave the output untouched.
#include <cstdint>
#include <cstring>
#include <vector>

#include "fuzz_common.hpp"
#include "lowbit/conv.hpp"

using namespace lowbit;

namespace {

std::int32_t value_of_byte(format f, std::uint8_t b) { return code_value(f, b & code_mask(f)); }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static thread_pool pool(2);
  fuzz::reader r(data, size);
  const format wf = fuzz::any_format(r), af = fuzz::any_format(r);

  // Geometry: groups x (channels per group), depthwise sometimes; small spatial sizes.
  conv_params p;
  const bool depthwise = r.range(0, 3) == 0;
  p.groups = depthwise ? r.range(2, 8) : r.range(1, 3);
  const std::size_t cg = depthwise ? 1 : r.range(1, 6), ng = r.range(1, depthwise ? 3 : 6);
  p.in_channels = p.groups * cg;
  p.out_channels = p.groups * ng;
  p.kernel_h = r.range(1, 5);
  p.kernel_w = r.range(1, 5);
  p.stride_h = r.range(1, 3);
  p.stride_w = r.range(1, 3);
  p.dilation_h = r.range(1, 3);
  p.dilation_w = r.range(1, 3);
  if (r.flag()) {
    p.pad_top = r.range(0, 3);
    p.pad_left = r.range(0, 3);
    p.pad_bottom = r.range(0, 3);
    p.pad_right = r.range(0, 3);
  }
  tensor_shape in{r.range(1, 2), r.range(1, 9), r.range(1, 9), p.in_channels};

  // Sometimes one invalid parameter, with the error validate_conv_params documents.
  errc pack_want = errc::ok;
  switch (r.range(0, 24)) {
    case 0:
      p.groups = 0;
      pack_want = errc::invalid_argument;
      break;
    case 1:
      if (p.in_channels > 1) {
        p.groups = p.in_channels + 1;  // cannot divide
        pack_want = errc::invalid_argument;
      }
      break;
    case 2:
      p.stride_w = 0;
      pack_want = errc::invalid_argument;
      break;
    case 3:
      p.dilation_h = 0;
      pack_want = errc::invalid_argument;
      break;
    case 4:
      p.kernel_w = 0;
      pack_want = errc::invalid_dimension;
      break;
    case 5:
      p.pad_right = (std::size_t{1} << 24) + 1;
      pack_want = errc::invalid_dimension;
      break;
    default:
      break;
  }

  // OHWI weights and NHWC input, one code per byte.
  const std::size_t taps = p.kernel_h * p.kernel_w;
  std::vector<std::uint8_t> w(p.out_channels * taps * cg), x(in.n * in.h * in.w * in.c);
  for (auto& b : w) b = fuzz::code_byte(r, wf, fuzz::valid_code(r, wf));
  for (auto& b : x) b = fuzz::code_byte(r, af, fuzz::valid_code(r, af));
  std::uint8_t inv;
  const std::size_t bad = r.range(0, 15);
  bool w_invalid = false, x_invalid = false;
  if (bad == 0 && !w.empty() && fuzz::invalid_byte(r, wf, inv)) {
    w[r.range(0, w.size() - 1)] = inv;
    w_invalid = pack_want == errc::ok;
  }
  if (bad == 1 && fuzz::invalid_byte(r, af, inv)) {
    x[r.range(0, x.size() - 1)] = inv;
    x_invalid = true;
  }

  pack_options opt;
  switch (r.range(0, 3)) {
    case 1:
      opt.cap = static_cast<isa>(r.range(0, static_cast<std::size_t>(isa::native)));
      break;
    case 2: {
      std::vector<const char*> names;
      detail::for_each_ukernel([&](const kernels::ukernel_desc& d) {
        if ((d.features & ~detail::host_features()) == 0 && d.w_bits >= wf.bits &&
            d.a_bits >= af.bits)
          names.push_back(d.name);
      });
      if (!names.empty()) opt.kernel_name = names[r.range(0, names.size() - 1)];
      break;
    }
    default:
      break;
  }

  packed_conv_weights pw;
  const status ps = pack_conv_weights(w.data(), p, wf, af, pw, opt);
  if (w_invalid) pack_want = errc::invalid_code;
  fuzz::expect_code(ps, pack_want, "pack_conv_weights");
  fuzz::expect(ps.ok() != pw.empty(), "packed conv weights present iff success");
  if (!ps.ok()) return 0;

  zero_points z;
  if (r.flag()) z.a_zero = static_cast<std::int32_t>(r.range(0, 6)) - 3;
  std::vector<std::int32_t> wz;
  if (r.flag()) {
    wz.resize(r.flag() ? 1 : p.out_channels);
    for (auto& v : wz) v = static_cast<std::int32_t>(r.range(0, 6)) - 3;
    z.w_zeros = wz.data();
    z.w_zero_count = wz.size();
  }

  errc want = errc::ok;
  auto want_if = [&](bool cond, errc e) {
    if (want == errc::ok && cond) want = e;
  };
  // conv2d's order (conv.hpp): channels, activation width, output size, stage, codes.
  if (r.range(0, 15) == 0) {
    in.c += 1;
    want_if(true, errc::dimension_mismatch);
  }
  const std::size_t oh = p.out_h(in.h), ow = p.out_w(in.w);
  want_if(oh == 0 || ow == 0, errc::invalid_dimension);
  want_if(x_invalid, errc::invalid_code);

  const bool quantized = r.range(0, 3) == 0;
  const std::size_t outputs = in.n * (oh ? oh : 1) * (ow ? ow : 1) * p.out_channels;
  std::vector<std::int32_t> out32(quantized ? 0 : outputs, 0x5EEDF00D);
  std::vector<std::uint8_t> out8(quantized ? outputs : 0, 0xA5);
  quantized_output oq;
  std::vector<fixed_multiplier> mults(1);
  if (quantized) {
    oq.data = out8.data();
    oq.out_format = fuzz::any_format(r);
    oq.out_zero = static_cast<std::int32_t>(r.range(0, 8)) - 4;
    fuzz::expect(make_fixed_multiplier(1.0 / static_cast<double>(r.range(1, 64)), mults[0]).ok(),
                 "make_fixed_multiplier");
    oq.multipliers = mults.data();
    oq.zeros = z;
  }
  int32_output o32{out32.data(), 0, z};
  executor* ex = r.flag() ? &pool : nullptr;
  workspace ws;
  const status s = quantized ? conv2d(x.data(), in, af, pw, oq, ws, ex)
                             : conv2d(x.data(), in, af, pw, o32, ws, ex);
  fuzz::expect_code(s, want, "conv2d");
  if (!s.ok()) {
    for (std::int32_t v : out32) fuzz::expect(v == 0x5EEDF00D, "failed conv2d wrote its output");
    for (std::uint8_t v : out8) fuzz::expect(v == 0xA5, "failed conv2d wrote its output");
    return 0;
  }

  // The naive convolution: sum over the window of (a - za)(w - zw[oc]); outside taps are zero.
  for (std::size_t b = 0; b < in.n; ++b)
    for (std::size_t oy = 0; oy < oh; ++oy)
      for (std::size_t ox = 0; ox < ow; ++ox)
        for (std::size_t oc = 0; oc < p.out_channels; ++oc) {
          const std::size_t g = oc / ng;
          std::int64_t acc = 0;
          for (std::size_t ky = 0; ky < p.kernel_h; ++ky)
            for (std::size_t kx = 0; kx < p.kernel_w; ++kx) {
              const long iy = long(oy * p.stride_h + ky * p.dilation_h) - long(p.pad_top);
              const long ix = long(ox * p.stride_w + kx * p.dilation_w) - long(p.pad_left);
              if (iy < 0 || ix < 0 || iy >= long(in.h) || ix >= long(in.w)) continue;
              for (std::size_t c = 0; c < cg; ++c) {
                const std::size_t pix = (b * in.h + std::size_t(iy)) * in.w + std::size_t(ix);
                const std::int64_t av = value_of_byte(af, x[pix * in.c + g * cg + c]) - z.a_zero;
                const std::int64_t wv =
                    value_of_byte(wf, w[(oc * taps + ky * p.kernel_w + kx) * cg + c]) -
                    z.w_zero(oc);
                acc += av * wv;
              }
            }
          const std::size_t at = ((b * oh + oy) * ow + ox) * p.out_channels + oc;
          const auto t = static_cast<std::int32_t>(acc);
          if (quantized)
            fuzz::expect(out8[at] == fuzz::requantize(oq, t, oc), "quantized conv differs",
                         out8[at], fuzz::requantize(oq, t, oc));
          else
            fuzz::expect(out32[at] == t, "conv2d differs from the naive convolution", out32[at], t);
        }
  return 0;
}
