// ResNet-18's convolutions end to end with lowbit::conv2d, batch 1, random weights, entirely in
// the integer domain: every layer requantizes (quantized_output) straight into the next layer's
// activation codes.
//
//   resnet18 [--bits 2|4] [--runs N] [--small] [--check]
//
// Formats: weights signed b-bit, activations unsigned b-bit (zero point 0, i.e. after ReLU);
// conv1 reads the RGB image as 8-bit unsigned codes (wb x a8). Each block computes
// relu(conv_b(relu(conv_a(x))) + shortcut): conv_b and the 1x1 stride-2 downsample requantize to
// signed 8-bit at the activation scale, the add and ReLU happen in integers and clamp to the b-bit
// activation range. The max pool after conv1 is done in integers too (max of unsigned codes); the
// global average pool is an integer mean; the FC layer is skipped.
// Per-layer requantization multipliers are calibrated on the first pass from the RMS of the exact
// int32 result. With --check, that first pass also compares every layer's int32 result with a
// naive reference convolution and its requantized codes with an independent requantization.
// --small uses a 56x56 input (the ctest mode).
#include <lowbit/conv.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

namespace {

using lowbit::conv_params;
using lowbit::format;
using lowbit::tensor_shape;

struct layer {
  std::string name;
  conv_params p;
  tensor_shape in;
  format af;                    // this layer's input format
  bool pre_add = false;         // output: signed 8-bit before a residual add, else b-bit with ReLU
  std::vector<std::uint8_t> w;  // OHWI, int8 values of signed codes
  lowbit::packed_conv_weights pw;
  lowbit::fixed_multiplier mult;
  std::vector<std::int32_t> bias;  // per output channel, at the accumulator's scale
  std::vector<double> times_us;
};

conv_params make_params(std::size_t ic, std::size_t oc, std::size_t k, std::size_t stride) {
  conv_params p;
  p.in_channels = ic;
  p.out_channels = oc;
  p.kernel_h = p.kernel_w = k;
  p.stride_h = p.stride_w = stride;
  p.pad_top = p.pad_left = p.pad_bottom = p.pad_right = k / 2;
  return p;
}

tensor_shape out_shape(const layer& l) {
  return {l.in.n, l.p.out_h(l.in.h), l.p.out_w(l.in.w), l.p.out_channels};
}

std::size_t elements(const tensor_shape& s) { return s.n * s.h * s.w * s.c; }

// The definition, sum over the window of a * w with zero padding; a: unsigned codes (zero point
// 0), w: int8 values.
std::vector<std::int32_t> reference_conv(const std::uint8_t* x, const layer& l) {
  const conv_params& p = l.p;
  const tensor_shape o = out_shape(l);
  std::vector<std::int32_t> out(elements(o));
  for (std::size_t oy = 0; oy < o.h; ++oy)
    for (std::size_t ox = 0; ox < o.w; ++ox)
      for (std::size_t oc = 0; oc < o.c; ++oc) {
        std::int32_t s = 0;
        for (std::size_t ky = 0; ky < p.kernel_h; ++ky)
          for (std::size_t kx = 0; kx < p.kernel_w; ++kx) {
            const long iy = long(oy * p.stride_h + ky) - long(p.pad_top);
            const long ix = long(ox * p.stride_w + kx) - long(p.pad_left);
            if (iy < 0 || ix < 0 || iy >= long(l.in.h) || ix >= long(l.in.w)) continue;
            const std::uint8_t* a = x + (std::size_t(iy) * l.in.w + std::size_t(ix)) * l.in.c;
            const std::uint8_t* w = &l.w[((oc * p.kernel_h + ky) * p.kernel_w + kx) * l.in.c];
            for (std::size_t c = 0; c < l.in.c; ++c)
              s += std::int32_t{a[c]} * std::int32_t{static_cast<std::int8_t>(w[c])};
          }
        out[(oy * o.w + ox) * o.c + oc] = s;
      }
  return out;
}

// Requantization written out independently of lowbit: round(t * m0 / 2^(31 - shift)), halves
// away from zero, then clamp to [lo, hi].
std::int32_t requantize(std::int32_t t, lowbit::fixed_multiplier m, std::int32_t lo,
                        std::int32_t hi) {
  const long double exact = static_cast<long double>(t) * m.m0 / std::ldexp(1.0L, 31 - m.shift);
  const long double r = exact < 0 ? -std::floor(-exact + 0.5L) : std::floor(exact + 0.5L);
  return static_cast<std::int32_t>(std::min<long double>(std::max<long double>(r, lo), hi));
}

struct network {
  int bits = 2;
  std::vector<layer> layers;
  format act() const { return {bits, lowbit::encoding::unsigned_int}; }
  std::int32_t act_max() const { return (1 << bits) - 1; }
};

network build(int bits, std::size_t hw, std::mt19937& rng) {
  network net;
  net.bits = bits;
  const format wf{bits, lowbit::encoding::signed_int};
  auto add = [&](std::string name, tensor_shape in, conv_params p, format af, bool pre_add) {
    layer l;
    l.name = std::move(name);
    l.p = p;
    l.in = in;
    l.af = af;
    l.pre_add = pre_add;
    l.w.resize(p.out_channels * p.taps() * p.in_channels);
    std::uniform_int_distribution<int> d(-(1 << (bits - 1)), (1 << (bits - 1)) - 1);
    for (auto& v : l.w) v = static_cast<std::uint8_t>(static_cast<std::int8_t>(d(rng)));
    lowbit::check(lowbit::pack_conv_weights(l.w.data(), p, wf, af, l.pw));
    net.layers.push_back(std::move(l));
    return out_shape(net.layers.back());
  };
  tensor_shape s = add("conv1 7x7/2", {1, hw, hw, 3}, make_params(3, 64, 7, 2),
                       {8, lowbit::encoding::unsigned_int}, false);
  s = {1, (s.h + 1) / 2, (s.w + 1) / 2, s.c};  // 3x3/2 max pool, padding 1
  std::size_t channels = 64;
  for (int stage = 0; stage < 4; ++stage) {
    for (int block = 0; block < 2; ++block) {
      const std::size_t oc = channels << (stage > 0 && block == 0 ? 1 : 0);
      const std::size_t stride = stage > 0 && block == 0 ? 2 : 1;
      const std::string prefix =
          "layer" + std::to_string(stage + 1) + "." + std::to_string(block) + ".";
      const tensor_shape in = s;
      s = add(prefix + "conv1 3x3" + (stride == 2 ? "/2" : ""), in,
              make_params(in.c, oc, 3, stride), net.act(), false);
      s = add(prefix + "conv2 3x3", s, make_params(oc, oc, 3, 1), net.act(), true);
      if (stride == 2)
        add(prefix + "downsample 1x1/2", in, make_params(in.c, oc, 1, 2), net.act(), true);
      channels = oc;
    }
  }
  return net;
}

// Runs one layer with the quantized output stage; on the calibration pass first with int32
// output to choose the multiplier (and to check against the reference).
bool run_layer(layer& l, const network& net, const std::uint8_t* x, std::uint8_t* y,
               lowbit::workspace& ws, bool calibrate, bool check, bool timed) {
  const std::size_t n_out = elements(out_shape(l));
  const std::int32_t lo = l.pre_add ? -128 : 0, hi = l.pre_add ? 127 : net.act_max();
  std::vector<std::int32_t> t;
  if (calibrate) {
    t.resize(n_out);
    lowbit::int32_output o32;
    o32.data = t.data();
    lowbit::check(lowbit::conv2d(x, l.in, l.af, l.pw, o32, ws));
    if (check) {
      const std::vector<std::int32_t> ref = reference_conv(x, l);
      for (std::size_t i = 0; i < n_out; ++i)
        if (t[i] != ref[i]) {
          std::printf("MISMATCH %s: int32 output %zu is %d, reference %d\n", l.name.c_str(), i,
                      t[i], ref[i]);
          return false;
        }
    }
    // Folded batch norm, roughly: a per-channel int32 bias centres each channel (random signed
    // weights are not zero-mean: 2-bit values -2..1 average -0.5), and the multiplier maps the
    // RMS of the centred result to half the activation range: varied codes, some clamped.
    const std::size_t oc = l.p.out_channels, pixels = n_out / oc;
    std::vector<double> mean(oc, 0.0);
    for (std::size_t i = 0; i < n_out; ++i) mean[i % oc] += t[i];
    l.bias.resize(oc);
    for (std::size_t c = 0; c < oc; ++c)
      l.bias[c] = -static_cast<std::int32_t>(std::lround(mean[c] / double(pixels)));
    double sq = 0;
    for (std::size_t i = 0; i < n_out; ++i) {
      const double v = double(t[i]) + l.bias[i % oc];
      sq += v * v;
    }
    const double rms = std::sqrt(sq / double(n_out));
    lowbit::check(lowbit::make_fixed_multiplier(rms > 0 ? 0.5 * net.act_max() / rms : 1.0, l.mult));
  }
  lowbit::quantized_output q;
  q.data = y;
  q.out_format = l.pre_add ? format{8, lowbit::encoding::signed_int} : net.act();
  q.multipliers = &l.mult;
  q.bias = l.bias.data();
  const auto t0 = std::chrono::steady_clock::now();
  lowbit::check(lowbit::conv2d(x, l.in, l.af, l.pw, q, ws));
  const auto t1 = std::chrono::steady_clock::now();
  if (timed) l.times_us.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
  if (check)
    for (std::size_t i = 0; i < n_out; ++i) {
      const std::int32_t want = requantize(t[i] + l.bias[i % l.p.out_channels], l.mult, lo, hi);
      const std::int32_t got = l.pre_add ? std::int32_t{static_cast<std::int8_t>(y[i])} : y[i];
      if (got != want) {
        std::printf("MISMATCH %s: requantized output %zu is %d, expected %d\n", l.name.c_str(), i,
                    got, want);
        return false;
      }
    }
  return true;
}

struct pass_result {
  bool ok = true;
  double other_us = 0;  // max pool, residual adds, average pool
  std::uint32_t checksum = 0;
  std::size_t nonzero = 0;  // channels of the pooled output that are not zero
};

pass_result run_network(network& net, const std::vector<std::uint8_t>& image, lowbit::workspace& ws,
                        bool calibrate, bool check, bool timed) {
  pass_result r;
  using clock = std::chrono::steady_clock;
  std::vector<std::uint8_t> x, h, y, d;
  std::size_t li = 0;
  auto conv = [&](const std::vector<std::uint8_t>& in, std::vector<std::uint8_t>& out) {
    layer& l = net.layers[li++];
    out.resize(elements(out_shape(l)));
    if (!run_layer(l, net, in.data(), out.data(), ws, calibrate, check, timed)) r.ok = false;
    return out_shape(l);
  };
  tensor_shape s = conv(image, h);
  if (!r.ok) return r;
  // 3x3/2 max pool, padding 1 (padded taps ignored): on unsigned codes the max code is the max.
  auto t0 = clock::now();
  const tensor_shape ps{1, (s.h + 1) / 2, (s.w + 1) / 2, s.c};
  x.assign(elements(ps), 0);
  for (std::size_t oy = 0; oy < ps.h; ++oy)
    for (std::size_t ox = 0; ox < ps.w; ++ox)
      for (std::size_t ky = 0; ky < 3; ++ky)
        for (std::size_t kx = 0; kx < 3; ++kx) {
          const long iy = long(2 * oy + ky) - 1, ix = long(2 * ox + kx) - 1;
          if (iy < 0 || ix < 0 || iy >= long(s.h) || ix >= long(s.w)) continue;
          const std::uint8_t* src = &h[(std::size_t(iy) * s.w + std::size_t(ix)) * s.c];
          std::uint8_t* dst = &x[(oy * ps.w + ox) * s.c];
          for (std::size_t c = 0; c < s.c; ++c) dst[c] = std::max(dst[c], src[c]);
        }
  r.other_us += std::chrono::duration<double, std::micro>(clock::now() - t0).count();
  s = ps;
  for (int stage = 0; stage < 4; ++stage)
    for (int block = 0; block < 2; ++block) {
      conv(x, h);
      s = conv(h, y);
      const bool down = stage > 0 && block == 0;
      if (down) conv(x, d);
      if (!r.ok) return r;
      // relu(y + shortcut) at the activation scale, clamped to the b-bit code range.
      t0 = clock::now();
      x.resize(elements(s));
      for (std::size_t i = 0; i < x.size(); ++i) {
        const int sc = down ? int{static_cast<std::int8_t>(d[i])} : int{x[i]};
        const int v = int{static_cast<std::int8_t>(y[i])} + sc;
        x[i] = static_cast<std::uint8_t>(std::clamp(v, 0, net.act_max()));
      }
      r.other_us += std::chrono::duration<double, std::micro>(clock::now() - t0).count();
    }
  // Global average pool: per-channel sums of codes (the mean up to a constant factor), hashed
  // into a checksum of the pass; the nonzero share shows the codes did not all clamp to zero.
  const std::size_t pixels = s.h * s.w;
  for (std::size_t c = 0; c < s.c; ++c) {
    std::uint32_t sum = 0;
    for (std::size_t p = 0; p < pixels; ++p) sum += x[p * s.c + c];
    r.checksum = r.checksum * 31u + sum;
    r.nonzero += sum != 0;
  }
  return r;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n == 0 ? 0.0 : (n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]));
}

bool run(int bits, std::size_t hw, int runs, bool check) {
  std::mt19937 rng(2024u + unsigned(bits));
  network net = build(bits, hw, rng);
  std::vector<std::uint8_t> image(hw * hw * 3);
  for (auto& v : image) v = static_cast<std::uint8_t>(rng() & 0xff);
  lowbit::workspace ws;

  const pass_result first = run_network(net, image, ws, true, check, false);
  if (!first.ok) return false;
  std::vector<double> totals, others;
  for (int i = 0; i < runs; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    const pass_result r = run_network(net, image, ws, false, false, true);
    totals.push_back(
        std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count());
    others.push_back(r.other_us);
    if (r.checksum != first.checksum) {
      std::printf("MISMATCH: run %d checksum %08x, first pass %08x\n", i, r.checksum,
                  first.checksum);
      return false;
    }
  }

  std::printf("\nResNet-18 convolutions, w%da%d (conv1 w%da8), %zux%zu input, median of %d runs\n",
              bits, bits, bits, hw, hw, runs);
  std::printf("%-26s %-16s %-13s %-30s %10s %8s\n", "layer", "input", "out", "kernel", "time us",
              "GOPS");
  double conv_sum = 0, macs_sum = 0;
  for (const layer& l : net.layers) {
    const tensor_shape o = out_shape(l);
    const double macs = double(elements(o)) * double(l.p.taps() * l.p.in_channels);
    const double t = median(l.times_us);
    conv_sum += t;
    macs_sum += macs;
    char in[32], out[32];
    std::snprintf(in, sizeof in, "%zux%zux%zu", l.in.h, l.in.w, l.in.c);
    std::snprintf(out, sizeof out, "%zux%zux%zu", o.h, o.w, o.c);
    std::printf("%-26s %-16s %-13s %-30s %10.1f %8.1f\n", l.name.c_str(), in, out,
                l.pw.kernel_name(), t, 2e-3 * macs / t);
  }
  std::printf("%-26s %88.1f\n", "pool + residual adds", median(others));
  std::printf("%-26s %88.1f %8.1f\n", "sum of conv medians", conv_sum, 2e-3 * macs_sum / conv_sum);
  std::printf("%-26s %88.1f\n", "total (median pass)", median(totals));
  std::printf(
      "%.3f GMACs in %zu convolutions; pooled output: %zu of 512 channels nonzero, "
      "checksum %08x%s\n",
      macs_sum * 1e-9, net.layers.size(), first.nonzero, first.checksum,
      check ? "; every layer's int32 and requantized output matched the reference" : "");
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<int> bits = {2, 4};
  int runs = 5;
  bool small = false, check = false;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--small") == 0) {
      small = true;
    } else if (std::strcmp(argv[i], "--check") == 0) {
      check = true;
    } else if (std::strcmp(argv[i], "--runs") == 0 && i + 1 < argc) {
      runs = std::max(1, std::atoi(argv[++i]));
    } else if (std::strcmp(argv[i], "--bits") == 0 && i + 1 < argc) {
      const int b = std::atoi(argv[++i]);
      if (b < 2 || b > 8) {
        std::fprintf(stderr, "--bits: 2..8\n");
        return 2;
      }
      bits = {b};
    } else {
      std::fprintf(stderr, "usage: %s [--bits 2..8] [--runs N] [--small] [--check]\n", argv[0]);
      return 2;
    }
  }
  for (int b : bits)
    if (!run(b, small ? 56 : 224, runs, check)) return 1;
  return 0;
}
