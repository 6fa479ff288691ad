// Prints the bit pattern of every float that lowbit's public float paths produce, on fixed
// pseudo-random data, under every ISA level the host runs: gemm and conv2d through float_output
// (per-tensor and per-channel scales, bias, clamps, zero points, per-group scales on weights
// packed with k_group) and quantize.hpp (parameters, codes, dequantized values).
//
// Built twice (tests/extra.cmake): with the build's flags and with -O3 -march=native
// -ffp-contract=fast (x86: FMA contraction possible; aarch64, whose baseline contracts already:
// -ffp-contract=off), and compare.sh checks the two outputs are identical line for line: the
// library's float results must not depend on the flags of the user's translation unit.
// Inputs are made from integer bit patterns, never from float arithmetic, so that only the
// library's own float code can differ between the builds.
//
// Output: "case <label>" lines, each followed by one "<hex bits> <value>" line per output
// element (codes and zero points as "<int>"), or "status <message>" when a call fails.
#include <lowbit/conv.hpp>
#include <lowbit/detail/half.hpp>
#include <lowbit/quantize.hpp>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

namespace {

using namespace lowbit;

// splitmix64: the same numbers on every platform and build.
struct rng {
  std::uint64_t s;
  std::uint32_t next() noexcept {
    std::uint64_t z = (s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return static_cast<std::uint32_t>((z ^ (z >> 31)) >> 32);
  }
  // A float with a random 23-bit mantissa in [2^e, 2^(e+1)), negative when `sign` and a coin
  // says so: built from bits, so no float operation is involved.
  float in_octave(int e, bool sign) noexcept {
    const std::uint32_t r = next();
    std::uint32_t bits = static_cast<std::uint32_t>(127 + e) << 23 | (r & 0x7fffffu);
    if (sign && (r >> 31)) bits |= 0x80000000u;
    float f;
    std::memcpy(&f, &bits, sizeof f);
    return f;
  }
  std::uint8_t code(format f) noexcept {  // a valid code, one per byte (ternary: 0, 1 or 3)
    std::uint32_t c;
    do c = next() & code_mask(f);
    while (!is_valid_code(f, c));
    return static_cast<std::uint8_t>(c);
  }
};

std::string fmt_name(format f) {
  const char* e = f.enc == encoding::unsigned_int    ? "u"
                  : f.enc == encoding::signed_int    ? "s"
                  : f.enc == encoding::odd_symmetric ? "o"
                                                     : "t";
  return e + std::to_string(f.bits);
}

void header(const std::string& label) { std::printf("case %s\n", label.c_str()); }

void print_status(const status& s) {
  char buf[256];
  s.describe(buf, sizeof buf);
  std::printf("status %s\n", buf);
}

void print_floats(const float* v, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) {
    std::uint32_t b;
    std::memcpy(&b, &v[i], sizeof b);
    std::printf("%08x %.9g\n", static_cast<unsigned>(b), static_cast<double>(v[i]));
  }
}

void print_ints(const std::uint8_t* v, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) std::printf("%u\n", static_cast<unsigned>(v[i]));
}

// The ISA levels this host can run (each caps dispatch in turn; scalar is the portable path).
std::vector<isa> host_levels() {
  std::vector<isa> v;
  for (int i = 0; i < static_cast<int>(isa::native); ++i) {
    const isa l = static_cast<isa>(i);
    if ((isa_features(l) & ~detail::host_features()) == 0) v.push_back(l);
  }
  return v;
}

// Per-channel (or per-tensor) float stage inputs for N channels, made from bits.
struct stage_data {
  std::vector<float> w_scales, bias, group_scales;
  std::vector<std::int32_t> w_zeros, group_zeros;
  float a_scale = 1.0f;
  std::int32_t a_zero = 0;

  stage_data(rng& r, std::size_t n, std::size_t groups, format wf, format af) {
    a_scale = r.in_octave(-3, false);
    for (std::size_t j = 0; j < n; ++j) {
      w_scales.push_back(r.in_octave(-7, false));
      bias.push_back(r.in_octave(-1, true));
      // Weight zero points within the format's range (odd-symmetric and ternary: none).
      const bool zeros = wf.enc == encoding::unsigned_int || wf.enc == encoding::signed_int;
      w_zeros.push_back(zeros ? min_value(wf) + static_cast<std::int32_t>(r.next() % 3) : 0);
    }
    for (std::size_t x = 0; x < n * groups; ++x) group_scales.push_back(r.in_octave(-8, false));
    // Per-group weight zero points anywhere in the weight format's value range.
    const auto span = static_cast<std::uint64_t>(max_value(wf) - min_value(wf) + 1);
    for (std::size_t x = 0; x < n * groups; ++x)
      group_zeros.push_back(min_value(wf) + static_cast<std::int32_t>(r.next() % span));
    if (af.enc == encoding::unsigned_int) a_zero = (max_value(af) + 1) / 2;
  }
};

enum class stage_kind {
  tensor,
  channel_bias_relu,
  channel_bias_relu6,
  groups_bias,
  groups_zeros,
  groups_stored16,  // scales (truncated to binary16) and zero points stored at pack time
  groups_stored32,  // the same with the scales as floats
};

const char* stage_name(stage_kind s) {
  switch (s) {
    case stage_kind::tensor:
      return "tensor";
    case stage_kind::channel_bias_relu:
      return "channel+bias+relu+zeros";
    case stage_kind::channel_bias_relu6:
      return "channel+bias+relu6";
    case stage_kind::groups_bias:
      return "group_scales+bias+zeros";
    case stage_kind::groups_zeros:
      return "group_scales+group_zeros+bias";
    case stage_kind::groups_stored16:
      return "stored binary16 group_scales+group_zeros+bias";
    case stage_kind::groups_stored32:
      return "stored float group_scales+group_zeros+bias";
  }
  return "?";
}

float_output make_stage(stage_kind kind, const stage_data& sd, std::size_t n, float* out) {
  float_output o;
  o.data = out;
  o.a_scale = sd.a_scale;
  switch (kind) {
    case stage_kind::tensor:
      o.w_scales = sd.w_scales.data();
      o.w_scale_count = 1;
      break;
    case stage_kind::channel_bias_relu:
      o.w_scales = sd.w_scales.data();
      o.w_scale_count = n;
      o.bias = sd.bias.data();
      o.clamp_min = 0.0f;
      o.zeros.a_zero = sd.a_zero;
      o.zeros.w_zeros = sd.w_zeros.data();
      o.zeros.w_zero_count = n;
      break;
    case stage_kind::channel_bias_relu6:
      o.w_scales = sd.w_scales.data();
      o.w_scale_count = n;
      o.bias = sd.bias.data();
      o.clamp_min = 0.0f;
      o.clamp_max = 6.0f;
      break;
    case stage_kind::groups_bias:
      o.w_group_scales = sd.group_scales.data();
      o.bias = sd.bias.data();
      o.zeros.a_zero = sd.a_zero;
      o.zeros.w_zeros = sd.w_zeros.data();
      o.zeros.w_zero_count = n;
      break;
    case stage_kind::groups_zeros:
      o.w_group_scales = sd.group_scales.data();
      o.w_group_zeros = sd.group_zeros.data();
      o.bias = sd.bias.data();
      o.zeros.a_zero = sd.a_zero;
      break;
    case stage_kind::groups_stored16:
    case stage_kind::groups_stored32:  // the weights hold the scales and zero points
      o.bias = sd.bias.data();
      o.zeros.a_zero = sd.a_zero;
      break;
  }
  return o;
}

void gemm_case(isa level, format wf, format af, std::size_t m, std::size_t n, std::size_t k,
               std::size_t k_group, stage_kind kind) {
  rng r{m * 1000003u + n * 1009u + k * 31u + static_cast<unsigned>(wf.bits * 8 + af.bits) +
        (k_group << 20)};
  std::vector<std::uint8_t> a(m * k), w(n * k);
  for (auto& c : a) c = r.code(af);
  for (auto& c : w) c = r.code(wf);
  const std::size_t groups = k_group ? (k + k_group - 1) / k_group : 0;
  const stage_data sd(r, n, groups, wf, af);
  pack_options opt;
  opt.cap = level;
  opt.k_group = k_group;
  // Pack-time scales: binary16 bits of the scales cut to 11 significant bits, or the floats.
  std::vector<std::uint16_t> halves(sd.group_scales.size());
  if (kind == stage_kind::groups_stored16 || kind == stage_kind::groups_stored32) {
    for (std::size_t x = 0; x < halves.size(); ++x) {
      std::uint32_t b;
      std::memcpy(&b, &sd.group_scales[x], sizeof b);
      b &= ~0x1FFFu;
      float f;
      std::memcpy(&f, &b, sizeof f);
      if (!detail::float_to_half_exact(f, halves[x])) halves[x] = 0x3C00;  // outside: 1.0
    }
    if (kind == stage_kind::groups_stored16)
      opt.group_scales_f16 = halves.data();
    else
      opt.group_scales = sd.group_scales.data();
    opt.group_scale_count = sd.group_scales.size();
    opt.group_zeros = sd.group_zeros.data();
  }
  std::string label = std::string("gemm ") + isa_name(level) + " w" + fmt_name(wf) + " a" +
                      fmt_name(af) + " M=" + std::to_string(m) + " N=" + std::to_string(n) +
                      " K=" + std::to_string(k) + " k_group=" + std::to_string(k_group) + " " +
                      stage_name(kind);
  packed_weights pw;
  const status ps = pack_weights(codes(w.data(), n, k), wf, af, pw, opt);
  if (!ps.ok()) {
    header(label);
    print_status(ps);
    return;
  }
  header(label + " kernel=" + pw.kernel_name(m));
  std::vector<float> out(m * n);
  const status s = gemm(codes(a.data(), m, k), af, pw, make_stage(kind, sd, n, out.data()));
  if (!s.ok()) return print_status(s);
  print_floats(out.data(), out.size());
}

struct conv_case {
  const char* name;
  tensor_shape in;
  std::size_t out_c, kernel, pad, groups, k_group;
  format wf, af;
};

void run_conv(isa level, const conv_case& cc, stage_kind kind) {
  conv_params p;
  p.in_channels = cc.in.c;
  p.out_channels = cc.out_c;
  p.kernel_h = p.kernel_w = cc.kernel;
  p.pad_top = p.pad_left = p.pad_bottom = p.pad_right = cc.pad;
  p.groups = cc.groups;
  const std::size_t k = p.taps() * p.in_per_group();
  rng r{cc.out_c * 7919u + k * 131u + static_cast<unsigned>(cc.wf.bits * 8 + cc.af.bits) +
        (cc.k_group << 20) + cc.groups};
  std::vector<std::uint8_t> x(cc.in.n * cc.in.h * cc.in.w * cc.in.c), w(cc.out_c * k);
  for (auto& c : x) c = r.code(cc.af);
  for (auto& c : w) c = r.code(cc.wf);
  const std::size_t groups = cc.k_group ? (k + cc.k_group - 1) / cc.k_group : 0;
  const stage_data sd(r, cc.out_c, groups, cc.wf, cc.af);
  pack_options opt;
  opt.cap = level;
  opt.k_group = cc.k_group;
  std::string label = std::string("conv2d ") + isa_name(level) + " " + cc.name + " w" +
                      fmt_name(cc.wf) + " a" + fmt_name(cc.af) + " " + stage_name(kind);
  packed_conv_weights pw;
  const status ps = pack_conv_weights(w.data(), p, cc.wf, cc.af, pw, opt);
  if (!ps.ok()) {
    header(label);
    print_status(ps);
    return;
  }
  header(label + " kernel=" + pw.kernel_name());
  const std::size_t pixels = cc.in.n * p.out_h(cc.in.h) * p.out_w(cc.in.w);
  std::vector<float> out(pixels * cc.out_c);
  const status s = conv2d(x.data(), cc.in, cc.af, pw, make_stage(kind, sd, cc.out_c, out.data()));
  if (!s.ok()) return print_status(s);
  print_floats(out.data(), out.size());
}

void quantize_cases() {
  const std::size_t n = 300;
  rng r{12345};
  std::vector<float> x(n), pos(n);
  for (std::size_t i = 0; i < n; ++i) {
    x[i] = r.in_octave(static_cast<int>(r.next() % 6) - 3, true);
    pos[i] = r.in_octave(static_cast<int>(r.next() % 6) - 3, false);
  }
  const format fs[] = {{8, encoding::unsigned_int},  {8, encoding::signed_int},
                       {4, encoding::unsigned_int},  {4, encoding::signed_int},
                       {2, encoding::signed_int},    {2, encoding::odd_symmetric},
                       {1, encoding::odd_symmetric}, {2, encoding::ternary}};
  for (format f : fs)
    for (quant_mode mode : {quant_mode::symmetric, quant_mode::asymmetric}) {
      const bool unsigned_sym = f.enc == encoding::unsigned_int && mode == quant_mode::symmetric;
      const std::vector<float>& data = unsigned_sym ? pos : x;
      header(std::string("quantize ") + fmt_name(f) +
             (mode == quant_mode::symmetric ? " symmetric" : " asymmetric"));
      quant_params qp;
      const status s = choose_quant_params(data.data(), n, f, mode, qp);
      if (!s.ok()) {
        print_status(s);
        continue;
      }
      print_floats(&qp.scale, 1);
      std::printf("%d\n", static_cast<int>(qp.zero_point));
      std::vector<std::uint8_t> c(n);
      std::vector<float> back(n);
      if (!quantize(data.data(), n, f, qp, c.data()).ok() ||
          !dequantize(codes(c.data(), 1, n), f, qp, back.data()).ok()) {
        std::printf("status quantize/dequantize failed\n");
        continue;
      }
      print_ints(c.data(), n);
      print_floats(back.data(), n);
    }
  // Per channel, and packing straight from float weights (scales and zero points written out).
  const std::size_t rows = 5, cols = 60;
  for (quant_mode mode : {quant_mode::symmetric, quant_mode::asymmetric}) {
    const format wf{4, encoding::signed_int}, af{8, encoding::unsigned_int};
    header(std::string("quantize per_channel s4 ") +
           (mode == quant_mode::symmetric ? "symmetric" : "asymmetric"));
    quant_params qp[rows];
    std::vector<std::uint8_t> c(rows * cols);
    if (!choose_quant_params_per_channel(x.data(), rows, cols, cols, wf, mode, qp).ok() ||
        !quantize_per_channel(x.data(), rows, cols, cols, wf, qp, c.data(), cols).ok()) {
      std::printf("status per-channel quantization failed\n");
      continue;
    }
    for (const quant_params& q : qp) {
      print_floats(&q.scale, 1);
      std::printf("%d\n", static_cast<int>(q.zero_point));
    }
    print_ints(c.data(), c.size());
    header(std::string("pack_weights_from_float s4 ") +
           (mode == quant_mode::symmetric ? "symmetric" : "asymmetric"));
    packed_weights pw;
    float scales[rows];
    std::int32_t zeros[rows];
    const status s =
        pack_weights_from_float(x.data(), rows, cols, cols, wf, af, mode, pw, scales, zeros);
    if (!s.ok()) {
      print_status(s);
      continue;
    }
    print_floats(scales, rows);
    for (std::int32_t z : zeros) std::printf("%d\n", static_cast<int>(z));
  }
}

}  // namespace

int main() {
  static char buf[1 << 16];
  std::setvbuf(stdout, buf, _IOFBF, sizeof buf);
  const format u8{8, encoding::unsigned_int}, s8{8, encoding::signed_int};
  const format u4{4, encoding::unsigned_int}, s4{4, encoding::signed_int};
  const format u2{2, encoding::unsigned_int}, s2{2, encoding::signed_int};
  const format o1{1, encoding::odd_symmetric};
  const std::pair<format, format> plain[] = {{o1, o1}, {s2, u2}, {s4, u8}, {s8, u8}, {s4, u4}};
  const std::pair<format, format> grouped[] = {{s4, u8}, {s2, u2}, {s8, u8}};
  const conv_case convs[] = {
      {"3x3 pad1 c16->37", {1, 5, 6, 16}, 37, 3, 1, 1, 0, o1, o1},
      {"3x3 pad1 c16->37", {1, 5, 6, 16}, 37, 3, 1, 1, 0, s2, u2},
      {"3x3 pad1 c16->37", {1, 5, 6, 16}, 37, 3, 1, 1, 0, s4, u8},
      {"3x3 pad1 c16->38 groups=2", {1, 5, 6, 16}, 38, 3, 1, 2, 0, s2, u2},
      {"3x3 pad1 depthwise c24", {1, 5, 6, 24}, 24, 3, 1, 24, 0, s4, u8},
      {"1x1 c16->37", {2, 3, 5, 16}, 37, 1, 0, 1, 0, s2, u2},
  };
  const conv_case conv_groups[] = {
      {"3x3 pad1 c32->37 k_group=32", {1, 5, 6, 32}, 37, 3, 1, 1, 32, s4, u8},
      {"3x3 pad1 c32->37 k_group=64", {1, 5, 6, 32}, 37, 3, 1, 1, 64, s2, u2},
      {"3x3 pad1 c64->38 groups=2 k_group=32", {1, 5, 6, 64}, 38, 3, 1, 2, 32, s4, u8},
  };
  for (isa level : host_levels()) {
    for (auto [wf, af] : plain) {
      for (std::size_t m : {1, 3})
        for (stage_kind s :
             {stage_kind::tensor, stage_kind::channel_bias_relu, stage_kind::channel_bias_relu6})
          gemm_case(level, wf, af, m, 37, 256, 0, s);
      gemm_case(level, wf, af, 64, 37, 256, 0, stage_kind::channel_bias_relu);
      gemm_case(level, wf, af, 3, 19, 100, 0, stage_kind::channel_bias_relu);
    }
    for (auto [wf, af] : grouped)
      for (std::size_t kg : {32, 64})
        for (std::size_t m : {1, 3, 64})
          gemm_case(level, wf, af, m, 37, 256, kg, stage_kind::groups_bias);
    for (auto [wf, af] : grouped)
      for (std::size_t m : {1, 3, 64})
        for (stage_kind s :
             {stage_kind::groups_zeros, stage_kind::groups_stored16, stage_kind::groups_stored32})
          gemm_case(level, wf, af, m, 37, 200, 32, s);
    for (const conv_case& cc : convs) run_conv(level, cc, stage_kind::channel_bias_relu);
    run_conv(level, convs[1], stage_kind::tensor);
    for (const conv_case& cc : conv_groups) run_conv(level, cc, stage_kind::groups_bias);
  }
  quantize_cases();
  return std::fflush(stdout) == 0 ? 0 : 1;
}
