// docs/errors.md as a test: every row of the validation table (entry, invalid input, errc, the
// argument named) is one row here, and every failed call leaves its output untouched. Also the
// regressions the fuzzers (tests/fuzz/) found.
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "lowbit/conv.hpp"
#include "lowbit/gemm.hpp"
#include "lowbit/quantize.hpp"
#include "lowbit/reference.hpp"

using namespace lowbit;

namespace {

const format u2{2, encoding::unsigned_int}, s2{2, encoding::signed_int};
const format u8{8, encoding::unsigned_int}, t2{2, encoding::ternary};
const std::size_t big = SIZE_MAX / 8;  // times 2^24 rows overflows size_t (32 and 64 bits)
const std::size_t above_i32 = std::size_t{1} << 31;

struct row {
  const char* entry;
  status s;
  errc code;
  const char* arg;
};

void check_table(const std::vector<row>& rows) {
  for (const row& r : rows) {
    char msg[256];
    r.s.describe(msg, sizeof msg);
    INFO(r.entry << ": " << msg);
    CHECK(r.s.code() == r.code);
    CHECK(std::string(r.s.argument()) == r.arg);
  }
}

packed_weights pack(std::size_t n, std::size_t k, format wf = s2, format af = u2,
                    const pack_options& opt = {}) {
  std::vector<std::uint8_t> w(n * k, 1);
  packed_weights p;
  REQUIRE(pack_weights(codes(w.data(), n, k), wf, af, p, opt).ok());
  return p;
}

conv_params conv(std::size_t ic, std::size_t oc, std::size_t k, std::size_t groups = 1) {
  conv_params p;
  p.in_channels = ic;
  p.out_channels = oc;
  p.kernel_h = p.kernel_w = k;
  p.groups = groups;
  return p;
}

}  // namespace

TEST_CASE("errors table: pack_weights", "[errors][table]") {
  std::vector<std::uint8_t> w(64 * 64, 1), bad(16, 1), tern(16, 0);
  bad[5] = 0x10;
  tern[3] = 2;
  packed_weights p;
  dispatch_options name, algo, group;
  name.kernel_name = "no_such_kernel";
  algo.algo = algorithm::bitplane;  // no bitplane kernel runs on the scalar ISA level
  algo.cap = isa::scalar;
  group.kernel_name = "scalar_w8a8_4x4__scalar";
  group.k_group = std::size_t{1} << 31;  // above the kernel's kc_max
  const matrix_ref m = codes(w.data(), 4, 16);
  // Pack-time group scales (4 x 2 with k_group 8).
  const std::vector<float> gsc(8, 1.0f);
  const std::vector<std::uint16_t> ghalf(8, 0x3C00);
  std::vector<std::int32_t> gz(8, 0);
  gz[3] = 2;  // s2 weights: -2..1
  dispatch_options g_nok, g_both, g_count, g_zeros, g_zrange;
  for (dispatch_options* o : {&g_nok, &g_both, &g_count, &g_zeros, &g_zrange}) {
    o->k_group = 8;
    o->group_scales = gsc.data();
    o->group_scale_count = 8;
  }
  g_nok.k_group = 0;
  g_both.group_scales_f16 = ghalf.data();
  g_count.group_scale_count = 4;
  g_zeros.group_scales = nullptr;
  g_zeros.group_zeros = g_zrange.group_zeros = gz.data();
  check_table({
      {"bits 0", pack_weights(m, {0, encoding::unsigned_int}, u2, p), errc::invalid_bits,
       "w_format.bits"},
      {"bits 9", pack_weights(m, {9, encoding::signed_int}, u2, p), errc::invalid_bits,
       "w_format.bits"},
      {"ternary 3-bit", pack_weights(m, {3, encoding::ternary}, u2, p), errc::invalid_bits,
       "w_format.bits"},
      {"encoding", pack_weights(m, {2, static_cast<encoding>(7)}, u2, p), errc::invalid_encoding,
       "w_format.enc"},
      {"a bits", pack_weights(m, s2, {12, encoding::unsigned_int}, p), errc::invalid_bits,
       "a_format.bits"},
      {"a encoding", pack_weights(m, s2, {2, static_cast<encoding>(4)}, p), errc::invalid_encoding,
       "a_format.enc"},
      {"N 0", pack_weights(codes(w.data(), 0, 16), s2, u2, p), errc::invalid_dimension, "N"},
      {"N > int32", pack_weights(codes(w.data(), above_i32, 16), s2, u2, p),
       errc::invalid_dimension, "N"},
      {"K 0", pack_weights(codes(w.data(), 4, 0), s2, u2, p), errc::invalid_dimension, "K"},
      {"K > int32", pack_weights(codes(w.data(), 4, above_i32), s2, u2, p), errc::invalid_dimension,
       "K"},
      {"null", pack_weights(codes(nullptr, 4, 16), s2, u2, p), errc::null_pointer, "w.data"},
      {"storage", pack_weights({w.data(), 4, 16, 0, static_cast<storage>(5)}, s2, u2, p),
       errc::invalid_argument, "w.data"},
      {"stride", pack_weights(codes(w.data(), 4, 16, 15), s2, u2, p),
       errc::leading_dimension_too_small, "w.stride"},
      {"bitpacked stride", pack_weights(bitpacked_codes(w.data(), 4, 16, 3), s2, u2, p),
       errc::leading_dimension_too_small, "w.stride"},
      {"N * stride overflow",
       pack_weights(codes(w.data(), std::size_t{1} << 24, 16, big), s2, u2, p), errc::size_overflow,
       "N"},
      {"K limit", pack_weights(codes(w.data(), 1, 33026), u8, u8, p), errc::accumulator_overflow,
       "K"},
      {"code above width", pack_weights(codes(bad.data(), 1, 16), s2, u2, p), errc::invalid_code,
       "w.data"},
      {"ternary 0b10", pack_weights(codes(tern.data(), 1, 16), t2, u2, p), errc::invalid_code,
       "w.data"},
      {"unknown kernel", pack_weights(m, s2, u2, p, name), errc::unsupported_isa,
       "options.kernel_name"},
      {"algorithm without kernel", pack_weights(m, s2, u2, p, algo), errc::unsupported_isa,
       "options.algo"},
      {"k_group above kc_max", pack_weights(m, s2, u2, p, group), errc::unsupported_isa,
       "options.kernel_name"},
      {"group scales without k_group", pack_weights(m, s2, u2, p, g_nok), errc::invalid_argument,
       "options.k_group"},
      {"group scales as floats and binary16", pack_weights(m, s2, u2, p, g_both),
       errc::invalid_argument,
       "options.group_scales_f16 (ambiguous: options.group_scales is given too; give one)"},
      {"group_scale_count", pack_weights(m, s2, u2, p, g_count), errc::dimension_mismatch,
       "options.group_scale_count"},
      {"group zeros without scales", pack_weights(m, s2, u2, p, g_zeros), errc::null_pointer,
       "options.group_scales (needed with options.group_zeros)"},
      {"group zero out of range", pack_weights(m, s2, u2, p, g_zrange), errc::invalid_argument,
       "options.group_zeros"},
  });
  CHECK(p.empty());
}

TEST_CASE("errors table: gemm and output stages", "[errors][table]") {
  const std::size_t m = 3, n = 4, k = 16;
  packed_weights p = pack(n, k);
  packed_weights empty;
  std::vector<std::uint8_t> a(m * k, 1), bad = a;
  bad[40] = 0xF0;
  std::vector<std::int32_t> c(m * n, -7);
  auto* cf = reinterpret_cast<float*>(c.data());
  auto* cq = reinterpret_cast<std::uint8_t*>(c.data());
  const matrix_ref am = codes(a.data(), m, k);
  const int32_output o{c.data()};
  const std::int32_t two_zeros[2] = {0, 0};
  int32_output zc{c.data()};
  zc.zeros = {0, two_zeros, 2};
  const float one = 1.0f;
  float_output f_noscale{cf}, f_count{cf}, f_clamp{cf}, f_group{cf};
  f_count.w_scales = f_clamp.w_scales = f_group.w_scales = &one;
  f_count.w_scale_count = 3;
  f_clamp.clamp_min = 1.0f;
  f_clamp.clamp_max = 0.0f;
  f_group.w_group_scales = &one;
  // Weights with pack-time group scales and zero points (4 x 2, k_group 8), and stages that
  // give scales or zero points as well.
  const std::vector<float> gsc(8, 1.0f);
  const std::vector<std::int32_t> gz(8, 0);
  pack_options stored_opt;
  stored_opt.k_group = 8;
  stored_opt.group_scales = gsc.data();
  stored_opt.group_scale_count = 8;
  stored_opt.group_zeros = gz.data();
  const packed_weights p_stored = pack(n, k, s2, u2, stored_opt);
  float_output f_st_group{cf}, f_st_zeros{cf}, f_st_scales{cf}, f_st_wz{cf};
  f_st_group.w_group_scales = gsc.data();
  f_st_zeros.w_group_zeros = gz.data();
  f_st_scales.w_scales = &one;
  f_st_wz.zeros = {0, two_zeros, 1};
  const fixed_multiplier mult{1 << 30, 0};
  const fixed_multiplier bad_shift{1 << 30, 31};  // 31 - shift must lie in 1..62
  quantized_output q_bits, q_null, q_count, q_order, q_above, q_below, q_odd, q_shift;
  for (quantized_output* q :
       {&q_bits, &q_null, &q_count, &q_order, &q_above, &q_below, &q_odd, &q_shift}) {
    q->data = cq;
    q->multipliers = &mult;
  }
  q_shift.multipliers = &bad_shift;
  q_bits.out_format = {9, encoding::unsigned_int};
  q_null.multipliers = nullptr;
  q_count.multiplier_count = 2;
  q_order.clamp_min = 5;
  q_order.clamp_max = 4;
  q_above.out_format = q_below.out_format = u2;  // values 0..3
  q_above.clamp_min = 5;
  q_below.clamp_max = -1;
  q_odd.out_format = {2, encoding::odd_symmetric};  // values -3, -1, 1, 3
  q_odd.clamp_min = q_odd.clamp_max = 2;
  // Zero points outside [max_value - 510, min_value + 510] of their format (output.hpp).
  quantized_output q_zero;
  q_zero.data = cq;
  q_zero.multipliers = &mult;
  q_zero.out_zero = -256;  // u8 output: zero points -255..510
  int32_output za{c.data()}, zw{c.data()};
  za.zeros.a_zero = 1000;                             // u2 activations: zero points -507..510
  const std::int32_t far_zeros[4] = {0, 0, -510, 0};  // s2 weights: zero points -509..508
  zw.zeros = {0, far_zeros, 4};
  // Zero points that push |a - za| * |w - zw| * K past 2^31 - 1.
  std::vector<std::uint8_t> w8(40000, 1), a8(40000, 1);
  packed_weights p8;
  REQUIRE(pack_weights(codes(w8.data(), 1, 40000), {8, encoding::signed_int}, u8, p8).ok());
  const std::int32_t wz = 127;
  std::int32_t c8 = 0;
  int32_output o8{&c8};
  o8.zeros = {0, &wz, 1};  // |a| up to 255, |w - 127| up to 255: K limit 33025
  alignas(64) static std::uint8_t small[128];
  workspace tiny(small, sizeof small);
  // Outputs one element (byte) short of (M - 1) * ld + N, and strides past size_t.
  int32_output o_short{c.data()};
  o_short.capacity = m * n - 1;
  float_output f_short{cf};
  f_short.w_scales = &one;
  f_short.capacity = m * n - 1;
  quantized_output q_short;
  q_short.data = cq;
  q_short.multipliers = &mult;
  q_short.ld = 2 * n;
  q_short.capacity = 2 * n * (m - 1) + n - 1;
  const int32_output o_wide{c.data(), std::size_t{1} << (sizeof(std::size_t) * 8 - 1)};

  check_table({
      {"a bits", gemm(am, {0, encoding::unsigned_int}, p, o), errc::invalid_bits, "a_format.bits"},
      {"a encoding", gemm(am, {2, static_cast<encoding>(9)}, p, o), errc::invalid_encoding,
       "a_format.enc"},
      {"empty weights", gemm(am, u2, empty, o), errc::wrong_packing, "weights (empty)"},
      {"M 0", gemm(codes(a.data(), 0, k), u2, p, o), errc::invalid_dimension, "M"},
      {"M > int32", gemm(codes(a.data(), above_i32, k), u2, p, o), errc::invalid_dimension, "M"},
      {"K 0", gemm(codes(a.data(), m, 0), u2, p, o), errc::invalid_dimension, "K"},
      {"null", gemm(codes(nullptr, m, k), u2, p, o), errc::null_pointer, "a.data"},
      {"stride", gemm(codes(a.data(), m, k, 3), u2, p, o), errc::leading_dimension_too_small,
       "a.stride"},
      {"M * stride overflow", gemm(codes(a.data(), std::size_t{1} << 24, k, big), u2, p, o),
       errc::size_overflow, "M"},
      {"K mismatch", gemm(codes(a.data(), m, 15), u2, p, o), errc::dimension_mismatch, "K"},
      {"a wider than packed", gemm(am, {3, encoding::unsigned_int}, p, o), errc::wrong_packing,
       "a_format.bits"},
      {"out.data", gemm(am, u2, p, int32_output{nullptr}), errc::null_pointer, "out.data"},
      {"out.ld", gemm(am, u2, p, int32_output{c.data(), 3}), errc::leading_dimension_too_small,
       "out.ld"},
      {"w_zero_count", gemm(am, u2, p, zc), errc::dimension_mismatch, "zeros.w_zero_count"},
      {"w_scales", gemm(am, u2, p, f_noscale), errc::null_pointer, "out.w_scales"},
      {"w_scale_count", gemm(am, u2, p, f_count), errc::dimension_mismatch, "out.w_scale_count"},
      {"float clamp", gemm(am, u2, p, f_clamp), errc::invalid_argument, "out.clamp_min"},
      {"group scales, ungrouped", gemm(am, u2, p, f_group), errc::wrong_packing,
       "out.w_group_scales (weights not packed with k_group)"},
      {"group scales at pack time and call time", gemm(am, u2, p_stored, f_st_group),
       errc::invalid_argument,
       "out.w_group_scales (ambiguous: the weights hold pack-time group scales, "
       "pack_options::group_scales; give one or the other)"},
      {"group zeros at call time on pack-time scales", gemm(am, u2, p_stored, f_st_zeros),
       errc::invalid_argument,
       "out.w_group_zeros (the weights hold pack-time group scales: zero points go with them, "
       "pack_options::group_zeros)"},
      {"w_scales on pack-time group scales", gemm(am, u2, p_stored, f_st_scales),
       errc::invalid_argument,
       "out.w_scales (the weights' pack-time group scales replace it: leave it null)"},
      {"zeros.w_zeros on pack-time group zeros", gemm(am, u2, p_stored, f_st_wz),
       errc::invalid_argument,
       "out.zeros.w_zeros (not with group zero points: the weights hold them)"},
      {"out_format", gemm(am, u2, p, q_bits), errc::invalid_bits, "out.out_format.bits"},
      {"multipliers", gemm(am, u2, p, q_null), errc::null_pointer, "out.multipliers"},
      {"multiplier_count", gemm(am, u2, p, q_count), errc::dimension_mismatch,
       "out.multiplier_count"},
      {"multiplier shift", gemm(am, u2, p, q_shift), errc::invalid_argument,
       "out.multipliers[].shift"},
      {"out_zero outside the format's zero points", gemm(am, u2, p, q_zero), errc::invalid_argument,
       "out.out_zero"},
      {"quantized clamp order", gemm(am, u2, p, q_order), errc::invalid_argument, "out.clamp_min"},
      {"clamp above the format", gemm(am, u2, p, q_above), errc::invalid_argument, "out.clamp_min"},
      {"clamp below the format", gemm(am, u2, p, q_below), errc::invalid_argument, "out.clamp_max"},
      {"clamp with no odd value", gemm(am, u2, p, q_odd), errc::invalid_argument, "out.clamp_min"},
      {"a_zero outside the format's zero points", gemm(am, u2, p, za), errc::invalid_argument,
       "zeros.a_zero"},
      {"a w_zeros entry outside the format's zero points", gemm(am, u2, p, zw),
       errc::invalid_argument, "zeros.w_zeros"},
      {"K limit with zero points", gemm(codes(a8.data(), 1, 40000), u8, p8, o8),
       errc::accumulator_overflow, "K"},
      {"workspace", gemm(am, u2, p, o, tiny), errc::buffer_too_small, "workspace"},
      {"int32 capacity", gemm(am, u2, p, o_short), errc::buffer_too_small, "out.capacity"},
      {"float capacity", gemm(am, u2, p, f_short), errc::buffer_too_small, "out.capacity"},
      {"quantized capacity", gemm(am, u2, p, q_short), errc::buffer_too_small, "out.capacity"},
      {"(M - 1) * ld overflow", gemm(am, u2, p, o_wide), errc::size_overflow,
       "out (M - 1) * ld + N"},
      {"invalid code", gemm(codes(bad.data(), m, k), u2, p, o), errc::invalid_code, "a.data"},
  });
  for (std::int32_t v : c) CHECK(v == -7);
  CHECK(c8 == 0);
  // The short output's error names the capacity given and the size needed; the exact size runs.
  const status s = gemm(am, u2, p, o_short);
  CHECK(s.value() == static_cast<std::int64_t>(m * n - 1));
  CHECK(s.limit() == static_cast<std::int64_t>(m * n));
  o_short.capacity = m * n;
  CHECK(gemm(am, u2, p, o_short).ok());
}

TEST_CASE("errors table: reference_gemm", "[errors][table]") {
  std::vector<std::uint8_t> a(64, 1), w(64, 1), bad(64, 1);
  bad[2] = 0x40;
  std::vector<std::int32_t> c(16, -7);
  const matrix_ref am = codes(a.data(), 4, 16), wm = codes(w.data(), 4, 16);
  check_table({
      {"a bits", reference_gemm(am, {0, encoding::unsigned_int}, wm, s2, c.data(), 4),
       errc::invalid_bits, "a_format.bits"},
      {"w bits", reference_gemm(am, u2, wm, {9, encoding::signed_int}, c.data(), 4),
       errc::invalid_bits, "w_format.bits"},
      {"M 0", reference_gemm(codes(a.data(), 0, 16), u2, wm, s2, c.data(), 4),
       errc::invalid_dimension, "M"},
      {"a.stride", reference_gemm(codes(a.data(), 4, 16, 2), u2, wm, s2, c.data(), 4),
       errc::leading_dimension_too_small, "a.stride"},
      {"N 0", reference_gemm(am, u2, codes(w.data(), 0, 16), s2, c.data(), 4),
       errc::invalid_dimension, "N"},
      {"w null", reference_gemm(am, u2, codes(nullptr, 4, 16), s2, c.data(), 4), errc::null_pointer,
       "w.data"},
      {"K mismatch", reference_gemm(am, u2, codes(w.data(), 4, 8), s2, c.data(), 4),
       errc::dimension_mismatch, "w.cols"},
      {"c null", reference_gemm(am, u2, wm, s2, nullptr, 4), errc::null_pointer, "c"},
      {"ldc", reference_gemm(am, u2, wm, s2, c.data(), 3), errc::leading_dimension_too_small,
       "ldc"},
      {"a code", reference_gemm(codes(bad.data(), 4, 16), u2, wm, s2, c.data(), 4),
       errc::invalid_code, "a.data"},
      {"w code", reference_gemm(am, u2, codes(bad.data(), 4, 16), s2, c.data(), 4),
       errc::invalid_code, "w.data"},
  });
  std::vector<std::uint8_t> k8(33026, 1);
  check_table(
      {{"K limit",
        reference_gemm(codes(k8.data(), 1, 33026), u8, codes(k8.data(), 1, 33026), u8, c.data(), 1),
        errc::accumulator_overflow, "K"}});
  for (std::int32_t v : c) CHECK(v == -7);
}

TEST_CASE("errors table: validate_codes", "[errors][table]") {
  const format u2{2, encoding::unsigned_int};
  std::vector<std::uint8_t> a(64, 1), bad(64, 1);
  bad[37] = 4;
  check_table({
      {"a bits", validate_codes(codes(a.data(), 4, 16), {9, encoding::unsigned_int}),
       errc::invalid_bits, "a_format.bits"},
      {"M 0", validate_codes(codes(a.data(), 0, 16), u2), errc::invalid_dimension, "M"},
      {"a null", validate_codes(codes(nullptr, 4, 16), u2), errc::null_pointer, "a.data"},
      {"a.stride", validate_codes(codes(a.data(), 4, 16, 2), u2), errc::leading_dimension_too_small,
       "a.stride"},
      {"a code", validate_codes(codes(bad.data(), 4, 16), u2), errc::invalid_code, "a.data"},
      {"M * stride overflow",
       validate_codes(codes(a.data(), std::size_t{1} << 30, 16, SIZE_MAX / 8), u2),
       errc::size_overflow, "M"},
  });
  CHECK(validate_codes(codes(bad.data(), 4, 16), u2).value() == 37);
  CHECK(validate_codes(codes(a.data(), 4, 16), u2).ok());
}

TEST_CASE("errors table: pack_conv_weights and conv2d", "[errors][table]") {
  std::vector<std::uint8_t> w(8 * 9 * 8, 1), bad_w = w, x(2 * 4 * 4 * 8, 1), bad_x = x;
  bad_w[7] = 0x30;
  bad_x[9] = 0x30;
  packed_conv_weights pw;
  auto with = [](conv_params p, void (*edit)(conv_params&)) {
    edit(p);
    return p;
  };
  const conv_params ok = conv(8, 8, 3);
  const std::vector<float> gsc(8 * 9, 1.0f);
  pack_options stored;
  stored.k_group = 8;
  stored.group_scales = gsc.data();
  stored.group_scale_count = gsc.size();
  check_table({
      {"pack-time group scales", pack_conv_weights(w.data(), ok, u2, u2, pw, stored),
       errc::invalid_argument,
       "options.group_scales (pack_conv_weights stores no group scales: give conv2d "
       "float_output::w_group_scales)"},
      {"groups 0", pack_conv_weights(w.data(), conv(8, 8, 3, 0), u2, u2, pw),
       errc::invalid_argument, "params.groups"},
      {"in_channels 0", pack_conv_weights(w.data(), conv(0, 8, 3), u2, u2, pw),
       errc::invalid_dimension, "params.in_channels"},
      {"out_channels 0", pack_conv_weights(w.data(), conv(8, 0, 3), u2, u2, pw),
       errc::invalid_dimension, "params.out_channels"},
      {"groups vs in", pack_conv_weights(w.data(), conv(8, 6, 3, 3), u2, u2, pw),
       errc::invalid_argument, "params.groups (does not divide in_channels)"},
      {"groups vs out", pack_conv_weights(w.data(), conv(8, 6, 3, 4), u2, u2, pw),
       errc::invalid_argument, "params.groups (does not divide out_channels)"},
      {"kernel 0", pack_conv_weights(w.data(), conv(8, 8, 0), u2, u2, pw), errc::invalid_dimension,
       "params.kernel"},
      {"stride 0",
       pack_conv_weights(w.data(), with(ok, [](conv_params& p) { p.stride_h = 0; }), u2, u2, pw),
       errc::invalid_argument, "params.stride"},
      {"dilation 0",
       pack_conv_weights(w.data(), with(ok, [](conv_params& p) { p.dilation_w = 0; }), u2, u2, pw),
       errc::invalid_argument, "params.dilation"},
      {"above 2^24",
       pack_conv_weights(w.data(), with(ok, [](conv_params& p) { p.pad_top = (1u << 24) + 1; }), u2,
                         u2, pw),
       errc::invalid_dimension, "params (a size above 2^24)"},
      {"w bits", pack_conv_weights(w.data(), ok, {0, encoding::unsigned_int}, u2, pw),
       errc::invalid_bits, "w_format.bits"},
      {"a bits", pack_conv_weights(w.data(), ok, u2, {9, encoding::unsigned_int}, pw),
       errc::invalid_bits, "a_format.bits"},
      {"w null", pack_conv_weights(nullptr, ok, u2, u2, pw), errc::null_pointer, "w"},
      {"K limit", pack_conv_weights(w.data(), conv(4096, 1, 3), u8, u8, pw),
       errc::accumulator_overflow, "kernel_h * kernel_w * in_channels / groups"},
      {"w code", pack_conv_weights(bad_w.data(), ok, u2, u2, pw), errc::invalid_code, "w"},
  });
  CHECK(pw.empty());

  packed_conv_weights empty;
  REQUIRE(pack_conv_weights(w.data(), ok, u2, u2, pw).ok());
  std::vector<std::int32_t> out(2 * 4 * 4 * 8, -7);
  const int32_output o{out.data()};
  const tensor_shape in{2, 4, 4, 8};
  conv_params padded = ok;
  padded.pad_top = padded.pad_bottom = std::size_t{1} << 24;
  packed_conv_weights pw_padded;
  REQUIRE(pack_conv_weights(w.data(), padded, u2, u2, pw_padded).ok());
  check_table({
      {"a bits", conv2d(x.data(), in, {0, encoding::unsigned_int}, pw, o), errc::invalid_bits,
       "a_format.bits"},
      {"empty weights", conv2d(x.data(), in, u2, empty, o), errc::wrong_packing, "weights (empty)"},
      {"input null", conv2d(nullptr, in, u2, pw, o), errc::null_pointer, "input"},
      {"input shape 0", conv2d(x.data(), {0, 4, 4, 8}, u2, pw, o), errc::invalid_dimension,
       "input shape"},
      {"channels", conv2d(x.data(), {2, 4, 4, 7}, u2, pw, o), errc::dimension_mismatch, "input.c"},
      {"a wider than packed", conv2d(x.data(), in, {4, encoding::unsigned_int}, pw, o),
       errc::wrong_packing, "a_format.bits"},
      {"no output", conv2d(x.data(), {2, 2, 4, 8}, u2, pw, o), errc::invalid_dimension,
       "output size (kernel larger than padded input)"},
      {"pixels overflow",
       conv2d(x.data(), {SIZE_MAX / 2, std::size_t{1} << 30, 3, 8}, u2, pw_padded, o),
       errc::size_overflow, "input shape"},
      // Regression (fuzz finding): batch * out_h wrapped unchecked before the * out_w check.
      {"batch * out_h overflow", conv2d(x.data(), {SIZE_MAX / 64, 1, 3, 8}, u2, pw_padded, o),
       errc::size_overflow, "input shape"},
      {"stage", conv2d(x.data(), in, u2, pw, int32_output{nullptr}), errc::null_pointer,
       "out.data"},
      {"input code", conv2d(bad_x.data(), in, u2, pw, o), errc::invalid_code, "input"},
  });
  for (std::int32_t v : out) CHECK(v == -7);
}

TEST_CASE("errors table: quantization helpers", "[errors][table]") {
  const float x[4] = {1, -2, 3, 4}, inf_x[2] = {1, INFINITY};
  std::uint8_t q[4] = {1, 1, 1, 1};
  float back[4];
  quant_params qp, qps[4];
  packed_weights pw;
  float scales[4];
  std::int32_t zeros[4];
  const std::size_t huge = SIZE_MAX / 4 + 1;  // huge * huge overflows size_t
  check_table({
      {"choose bits",
       choose_quant_params(x, 4, {0, encoding::signed_int}, quant_mode::symmetric, qp),
       errc::invalid_bits, "format.bits"},
      {"choose x", choose_quant_params(nullptr, 4, s2, quant_mode::symmetric, qp),
       errc::null_pointer, "x"},
      {"choose n", choose_quant_params(x, 0, s2, quant_mode::symmetric, qp),
       errc::invalid_dimension, "n"},
      {"choose finite", choose_quant_params(inf_x, 2, s2, quant_mode::symmetric, qp),
       errc::invalid_argument, "x (not finite)"},
      {"symmetric unsigned, negative data",
       choose_quant_params(x, 4, u2, quant_mode::symmetric, qp), errc::unsupported_format,
       "symmetric unsigned with negative data"},
      {"symmetric 1-bit signed",
       choose_quant_params(x, 4, {1, encoding::signed_int}, quant_mode::symmetric, qp),
       errc::unsupported_format, "format.bits (no positive value)"},
      {"asymmetric ternary", choose_quant_params(x, 4, t2, quant_mode::asymmetric, qp),
       errc::unsupported_format, "format.enc (symmetric by definition)"},
      {"quantize scale", quantize(x, 4, s2, {0.0f, 0}, q), errc::invalid_argument, "params.scale"},
      {"quantize NaN scale", quantize(x, 4, s2, {NAN, 0}, q), errc::invalid_argument,
       "params.scale"},
      {"quantize bits", quantize(x, 4, {9, encoding::signed_int}, {1.0f, 0}, q), errc::invalid_bits,
       "format.bits"},
      {"quantize x", quantize(nullptr, 4, s2, {1.0f, 0}, q), errc::null_pointer, "x"},
      {"quantize out", quantize(x, 4, s2, {1.0f, 0}, nullptr), errc::null_pointer, "codes_out"},
      {"dequantize scale", dequantize(codes(q, 1, 4), s2, {-1.0f, 0}, back), errc::invalid_argument,
       "params.scale"},
      {"dequantize rows", dequantize(codes(q, 0, 4), s2, {1.0f, 0}, back), errc::invalid_dimension,
       "codes.rows"},
      {"dequantize cols", dequantize(codes(q, 1, 0), s2, {1.0f, 0}, back), errc::invalid_dimension,
       "codes.cols"},
      {"dequantize null", dequantize(codes(nullptr, 1, 4), s2, {1.0f, 0}, back), errc::null_pointer,
       "codes.data"},
      {"dequantize stride", dequantize(bitpacked_codes(q, 2, 8, 1), s2, {1.0f, 0}, back),
       errc::leading_dimension_too_small, "codes.stride"},
      {"dequantize x_out", dequantize(codes(q, 1, 4), s2, {1.0f, 0}, nullptr), errc::null_pointer,
       "x_out"},
      {"per channel w",
       choose_quant_params_per_channel(nullptr, 1, 4, 4, s2, quant_mode::symmetric, qps),
       errc::null_pointer, "w"},
      {"per channel out",
       choose_quant_params_per_channel(x, 1, 4, 4, s2, quant_mode::symmetric, nullptr),
       errc::null_pointer, "params_out"},
      {"per channel N", choose_quant_params_per_channel(x, 0, 4, 4, s2, quant_mode::symmetric, qps),
       errc::invalid_dimension, "N"},
      {"per channel ld",
       choose_quant_params_per_channel(x, 1, 4, 3, s2, quant_mode::symmetric, qps),
       errc::leading_dimension_too_small, "ld"},
      {"quantize per channel w", quantize_per_channel(nullptr, 1, 4, 4, s2, qps, q, 4),
       errc::null_pointer, "w"},
      {"quantize per channel params", quantize_per_channel(x, 1, 4, 4, s2, nullptr, q, 4),
       errc::null_pointer, "params"},
      {"quantize per channel ld", quantize_per_channel(x, 1, 4, 3, s2, qps, q, 4),
       errc::leading_dimension_too_small, "ld"},
      {"quantize per channel ld_codes", quantize_per_channel(x, 1, 4, 4, s2, qps, q, 3),
       errc::leading_dimension_too_small, "ld_codes"},
      {"from float scales",
       pack_weights_from_float(x, 1, 4, 4, s2, u2, quant_mode::symmetric, pw, nullptr, zeros),
       errc::null_pointer, "scales_out"},
      {"from float zeros",
       pack_weights_from_float(x, 1, 4, 4, s2, u2, quant_mode::symmetric, pw, scales, nullptr),
       errc::null_pointer, "zeros_out"},
      {"from float N * K",
       pack_weights_from_float(x, huge, huge, huge, s2, u2, quant_mode::symmetric, pw, scales,
                               zeros),
       errc::size_overflow, "N * K"},
      {"per channel N * ld",
       choose_quant_params_per_channel(x, 3, 4, SIZE_MAX / 2, s2, quant_mode::symmetric, qps),
       errc::size_overflow, "N * ld"},
      {"quantize per channel N * ld", quantize_per_channel(x, 3, 4, SIZE_MAX / 2, s2, qps, q, 4),
       errc::size_overflow, "N * ld"},
      {"quantize per channel N * ld_codes",
       quantize_per_channel(x, 3, 4, 4, s2, qps, q, SIZE_MAX / 2), errc::size_overflow,
       "N * ld_codes"},
      {"quantize per channel codes_out", quantize_per_channel(x, 1, 4, 4, s2, qps, nullptr, 4),
       errc::null_pointer, "codes_out"},
  });
  CHECK(q[0] == 1);
  // A bad scale in a later row leaves every row's codes untouched.
  const float w2[8] = {1, 2, 3, 4, 5, 6, 7, 8};
  const quant_params rows2[2] = {{1.0f, 0}, {0.0f, 0}};
  std::uint8_t q2[8] = {9, 9, 9, 9, 9, 9, 9, 9};
  CHECK(quantize_per_channel(w2, 2, 4, 4, {4, encoding::signed_int}, rows2, q2, 4).code() ==
        errc::invalid_argument);
  for (std::uint8_t v : q2) CHECK(v == 9);
  fixed_multiplier fm;
  check_table({
      {"negative multiplier", make_fixed_multiplier(-0.5, fm), errc::invalid_argument,
       "multiplier"},
      {"NaN multiplier", make_fixed_multiplier(NAN, fm), errc::invalid_argument, "multiplier"},
      {"multiplier too large", make_fixed_multiplier(std::ldexp(1.0, 31), fm),
       errc::invalid_argument, "multiplier exponent"},
      {"multiplier too small", make_fixed_multiplier(std::ldexp(1.0, -40), fm),
       errc::invalid_argument, "multiplier exponent"},
      {"multiplier 2^30", make_fixed_multiplier(std::ldexp(1.0, 30), fm), errc::invalid_argument,
       "multiplier exponent"},
  });
  // Every value below 2^30 is accepted: one just below rounds to the largest multiplier.
  REQUIRE(make_fixed_multiplier(std::ldexp(1.0, 30) * (1 - 1e-12), fm).ok());
  CHECK(fm.m0 == std::numeric_limits<std::int32_t>::max());
  CHECK(fm.shift == 30);
  REQUIRE(make_fixed_multiplier(std::ldexp(1.0, 30) - 0.5, fm).ok());
  CHECK(fm.m0 == std::numeric_limits<std::int32_t>::max());
  REQUIRE(make_fixed_multiplier(std::ldexp(1.0, 29) * (1 - 1e-12), fm).ok());
  CHECK(fm.m0 == 1 << 30);
  CHECK(fm.shift == 30);
}

TEST_CASE("errors table: workspace", "[errors][table]") {
  alignas(64) static std::uint8_t buf[256];
  workspace ws(buf, sizeof buf);
  std::uint8_t* out = nullptr;
  const status s = ws.acquire(sizeof buf, out);  // the alignment slack does not fit
  CHECK(s.code() == errc::buffer_too_small);
  CHECK(std::string(s.argument()) == "workspace");
  CHECK(s.limit() == static_cast<std::int64_t>(sizeof buf + 64));
  CHECK(ws.acquire(sizeof buf - 64, out).ok());
}

// Fuzz finding: a quantized_output clamp range outside the output format's values used to emit a
// byte that is no code of the format (0xFF for 2-bit unsigned with clamp_min = 5).
TEST_CASE("regression: quantized clamp outside the format is refused", "[errors][regression]") {
  packed_weights p = pack(1, 4);
  std::vector<std::uint8_t> a(4, 1);
  std::uint8_t c = 0x11;
  const fixed_multiplier mult{1 << 30, 0};
  quantized_output q;
  q.data = &c;
  q.multipliers = &mult;
  q.out_format = u2;
  q.clamp_min = 5;
  CHECK(gemm(codes(a.data(), 1, 4), u2, p, q).code() == errc::invalid_argument);
  CHECK(c == 0x11);
  q.clamp_min = 3;  // the top value itself is fine
  REQUIRE(gemm(codes(a.data(), 1, 4), u2, p, q).ok());
  CHECK(c == 3);
}

// Fuzz finding: gemm_workspace_size ignored the per-group row sums that float_output with
// w_group_scales needs, so a caller buffer of exactly that size failed with buffer_too_small.
TEST_CASE("regression: gemm_workspace_size covers per-group scales", "[errors][regression]") {
  const std::size_t m = 5, n = 3, k = 64;
  pack_options opt;
  opt.kernel_name = "scalar_w8a8_4x4__scalar";
  opt.k_group = 16;
  packed_weights p = pack(n, k, s2, u2, opt);
  std::vector<std::uint8_t> a(m * k, 1);
  std::vector<float> out(m * n, 0.0f), gs(n * 4, 0.5f);
  const float one = 1.0f;
  float_output f{out.data()};
  f.w_scales = &one;
  f.w_group_scales = gs.data();
  std::vector<std::uint8_t> buf(gemm_workspace_size(p, m));
  // M past what gemm accepts (2^31 - 1) or near SIZE_MAX: no workspace can serve it.
  CHECK(gemm_workspace_size(p, SIZE_MAX) == SIZE_MAX);
  CHECK(gemm_workspace_size(p, std::size_t{1} << 31) == SIZE_MAX);
  CHECK(gemm_workspace_size(p, 1, true, SIZE_MAX) == SIZE_MAX);
  workspace ws(buf.data(), buf.size());
  REQUIRE(gemm(codes(a.data(), m, k), u2, p, f, ws).ok());
  // Small integers times 0.5: the float result is exact.
  std::vector<std::int32_t> ref(m * n);
  std::vector<std::uint8_t> w(n * k, 1);
  REQUIRE(reference_gemm(codes(a.data(), m, k), u2, codes(w.data(), n, k), s2, ref.data(), n).ok());
  for (std::size_t i = 0; i < m * n; ++i) CHECK(out[i] == 0.5f * static_cast<float>(ref[i]));
}
