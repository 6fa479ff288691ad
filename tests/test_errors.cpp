// Every documented error: the right code, the argument named, and nothing written to the output.
#include <cstdio>
#include <string>
#include <vector>

#include <unistd.h>
#include <catch2/catch.hpp>

#include "lowbit/conv.hpp"
#include "lowbit/dispatch/select.hpp"
#include "lowbit/gemm.hpp"
#include "lowbit/quantize.hpp"
#include "lowbit/reference.hpp"

using namespace lowbit;

namespace {
const format u2{2, encoding::unsigned_int};
const format s2{2, encoding::signed_int};

packed_weights packed(std::size_t n, std::size_t k) {
  std::vector<std::uint8_t> w(n * k, 1);
  packed_weights p;
  REQUIRE(pack_weights(codes(w.data(), n, k), s2, u2, p).ok());
  return p;
}
}  // namespace

TEST_CASE("pack_weights rejects bad arguments and leaves the output empty", "[errors]") {
  std::vector<std::uint8_t> w(64, 1);
  packed_weights p = packed(4, 16);
  REQUIRE_FALSE(p.empty());
  struct bad {
    matrix_ref m;
    format wf, af;
    errc code;
    const char* arg;
  };
  const bad cases[] = {
      {codes(w.data(), 4, 16),
       {0, encoding::unsigned_int},
       u2,
       errc::invalid_bits,
       "w_format.bits"},
      {codes(w.data(), 4, 16),
       {9, encoding::unsigned_int},
       u2,
       errc::invalid_bits,
       "w_format.bits"},
      {codes(w.data(), 4, 16), {3, encoding::ternary}, u2, errc::invalid_bits, "w_format.bits"},
      {codes(w.data(), 4, 16),
       {2, static_cast<encoding>(9)},
       u2,
       errc::invalid_encoding,
       "w_format.enc"},
      {codes(w.data(), 4, 16),
       s2,
       {12, encoding::unsigned_int},
       errc::invalid_bits,
       "a_format.bits"},
      {codes(nullptr, 4, 16), s2, u2, errc::null_pointer, "w.data"},
      {codes(w.data(), 0, 16), s2, u2, errc::invalid_dimension, "N"},
      {codes(w.data(), 4, 0), s2, u2, errc::invalid_dimension, "K"},
      {codes(w.data(), 4, 16, 8), s2, u2, errc::leading_dimension_too_small, "w.stride"},
      {codes(w.data(), std::size_t{INT32_MAX} + 1, 16), s2, u2, errc::invalid_dimension, "N"},
  };
  for (const bad& b : cases) {
    const status s = pack_weights(b.m, b.wf, b.af, p);
    INFO(b.arg);
    CHECK(s.code() == b.code);
    CHECK(std::string(s.argument()) == b.arg);
    CHECK(p.empty());
  }
  // An invalid code: bits above the width, named by its flat index.
  w[5] = 0x10;
  const status s = pack_weights(codes(w.data(), 4, 16), s2, u2, p);
  CHECK(s.code() == errc::invalid_code);
  CHECK(s.value() == 5);
  // Ternary 0b10.
  std::vector<std::uint8_t> t(16, 0);
  t[3] = 2;
  CHECK(pack_weights(codes(t.data(), 1, 16), {2, encoding::ternary}, u2, p).code() ==
        errc::invalid_code);
  // A forced kernel name that does not exist.
  dispatch_options opt;
  opt.kernel_name = "no_such_kernel";
  std::vector<std::uint8_t> ok(16, 1);
  CHECK(pack_weights(codes(ok.data(), 1, 16), s2, u2, p, opt).code() == errc::unsupported_isa);
}

TEST_CASE("gemm rejects bad arguments and writes nothing", "[errors]") {
  const std::size_t m = 3, n = 4, k = 16;
  packed_weights p = packed(n, k);
  std::vector<std::uint8_t> a(m * k, 1);
  std::vector<std::int32_t> c(m * n, -7);
  auto untouched = [&] {
    for (std::int32_t v : c)
      if (v != -7) return false;
    return true;
  };
  struct bad {
    status s;
    errc code;
  };
  packed_weights empty;
  std::vector<std::uint8_t> bad_codes = a;
  bad_codes[40] = 0xF0;
  const fixed_multiplier mult{1 << 30, 0};
  quantized_output q;
  q.data = reinterpret_cast<std::uint8_t*>(c.data());
  q.multipliers = &mult;
  q.multiplier_count = 2;  // neither 1 nor N
  float_output f;
  f.data = reinterpret_cast<float*>(c.data());  // w_scales missing
  const bad cases[] = {
      {gemm(codes(a.data(), m, k), u2, empty, int32_output{c.data()}), errc::wrong_packing},
      {gemm(codes(a.data(), m, 15), u2, p, int32_output{c.data()}), errc::dimension_mismatch},
      {gemm(codes(a.data(), m, k), {3, encoding::unsigned_int}, p, int32_output{c.data()}),
       errc::wrong_packing},
      {gemm(codes(a.data(), m, k), {0, encoding::unsigned_int}, p, int32_output{c.data()}),
       errc::invalid_bits},
      {gemm(codes(nullptr, m, k), u2, p, int32_output{c.data()}), errc::null_pointer},
      {gemm(codes(a.data(), 0, k), u2, p, int32_output{c.data()}), errc::invalid_dimension},
      {gemm(codes(a.data(), m, k, 3), u2, p, int32_output{c.data()}),
       errc::leading_dimension_too_small},
      {gemm(codes(a.data(), m, k), u2, p, int32_output{nullptr}), errc::null_pointer},
      {gemm(codes(a.data(), m, k), u2, p, int32_output{c.data(), 2}),
       errc::leading_dimension_too_small},
      {gemm(codes(bad_codes.data(), m, k), u2, p, int32_output{c.data()}), errc::invalid_code},
      {gemm(codes(a.data(), m, k), u2, p, q), errc::dimension_mismatch},
      {gemm(codes(a.data(), m, k), u2, p, f), errc::null_pointer},
  };
  for (const bad& b : cases) {
    char msg[256];
    b.s.describe(msg, sizeof msg);
    INFO(msg);
    CHECK(b.s.code() == b.code);
    CHECK(untouched());
  }
  // A caller-owned workspace that is too small says how much it needs.
  alignas(64) static std::uint8_t small[128];
  workspace ws(small, sizeof small);
  const status s = gemm(codes(a.data(), m, k), u2, p, int32_output{c.data()}, ws);
  CHECK(s.code() == errc::buffer_too_small);
  CHECK(s.limit() > 128);
  CHECK(untouched());
  // ... and a large enough one works without allocating.
  std::vector<std::uint8_t> big(gemm_workspace_size(p, m));
  workspace ws2(big.data(), big.size());
  CHECK(gemm(codes(a.data(), m, k), u2, p, int32_output{c.data()}, ws2).ok());
}

TEST_CASE("zero points that could overflow the accumulator are refused", "[errors][limits]") {
  const format u8{8, encoding::unsigned_int}, s8{8, encoding::signed_int};
  const std::size_t k = 40000;  // fine without zero points for u8 x s8: 255 * 128 * 40000 < 2^31
  std::vector<std::uint8_t> w(k, 1), a(k, 1);
  packed_weights p;
  REQUIRE(pack_weights(codes(w.data(), 1, k), s8, u8, p).ok());
  std::int32_t c = 0;
  std::int32_t wz = 127;  // |w - 127| up to 255
  int32_output o{&c};
  o.zeros = {0, &wz, 1};  // |a| up to 255: 255 * 255 * 40000 > 2^31
  const status s = gemm(codes(a.data(), 1, k), u8, p, o);
  CHECK(s.code() == errc::accumulator_overflow);
  CHECK(s.argument() == std::string("K"));
}

TEST_CASE("status messages name the argument and the limit", "[errors]") {
  const status s{errc::invalid_bits, "w_format.bits", 9, 8};
  char buf[128];
  s.describe(buf, sizeof buf);
  CHECK(std::string(buf) == "lowbit: invalid bit width: w_format.bits = 9 (expected 1..8)");
  CHECK_THROWS_AS(check(s), lowbit::error);
  try {
    check(s);
  } catch (const lowbit::error& e) {
    CHECK(e.code() == errc::invalid_bits);
    CHECK(std::string(e.what()) == buf);
  }
  CHECK_NOTHROW(check(status::success()));
}

namespace {
std::string message(const status& s) {
  char buf[320];
  s.describe(buf, sizeof buf);
  return buf;
}

// Runs f with stderr (file descriptor 2) going to a temporary file; returns what it wrote.
template <class F>
std::string capture_stderr(F&& f) {
  std::fflush(stderr);
  std::FILE* tmp = std::tmpfile();
  REQUIRE(tmp != nullptr);
  const int saved = dup(2);
  dup2(fileno(tmp), 2);
  f();
  std::fflush(stderr);
  dup2(saved, 2);
  close(saved);
  std::rewind(tmp);
  std::string out;
  char buf[512];
  while (std::fgets(buf, sizeof buf, tmp)) out += buf;
  std::fclose(tmp);
  return out;
}
}  // namespace

TEST_CASE("error messages print the value given and the value expected", "[errors]") {
  std::vector<std::uint8_t> w(4 * 16, 1), a(3 * 16, 1);
  packed_weights p = packed(4, 16);
  std::vector<std::int32_t> c(3 * 4, -7);
  // A kernel name: the name given, not the algorithm enum.
  pack_options name;
  name.kernel_name = "no_such_kernel";
  packed_weights q;
  const std::string m1 = message(pack_weights(codes(w.data(), 4, 16), s2, u2, q, name));
  CHECK(m1.find("options.kernel_name = \"no_such_kernel\" (expected ") != std::string::npos);
  // A real: the value the caller set, and the bound it broke.
  const float one = 1.0f;
  float_output f{reinterpret_cast<float*>(c.data())};
  f.w_scales = &one;
  f.clamp_min = 1.0f;
  f.clamp_max = 0.5f;
  CHECK(message(gemm(codes(a.data(), 3, 16), u2, p, f)) ==
        "lowbit: invalid argument: out.clamp_min = 1 (expected at most out.clamp_max = 0.5)");
  fixed_multiplier fm;
  CHECK(message(make_fixed_multiplier(-0.5, fm)) ==
        "lowbit: invalid argument: multiplier = -0.5 (expected a finite real, at least 0)");
  // An invalid code: the message says the number is its index.
  std::vector<std::uint8_t> bad = a;
  bad[40] = 0xF0;
  CHECK(message(gemm(codes(bad.data(), 3, 16), u2, p, int32_output{c.data()})) ==
        "lowbit: invalid code: a.data: the code at flat index 40 (row * cols + col) (expected "
        "only codes of the format)");
  // A mismatch: the value expected, not a limit.
  CHECK(message(gemm(codes(a.data(), 3, 15), u2, p, int32_output{c.data()})) ==
        "lowbit: dimension mismatch: K = 15 (expected 16)");
  // Bounds: at most / at least, from the side the value broke.
  CHECK(message(status{errc::accumulator_overflow, "K", 33026, 33025}) ==
        "lowbit: accumulator could overflow: K = 33026 (expected at most 33025)");
  CHECK(message(status{errc::buffer_too_small, "out.capacity", 11, 12}) ==
        "lowbit: buffer too small: out.capacity = 11 (expected at least 12)");
  CHECK(message(status{errc::invalid_dimension, "M", 0, 2147483647}) ==
        "lowbit: invalid dimension: M = 0 (expected 1..2147483647)");
  // A zero point: the range the format accepts.
  int32_output z{c.data()};
  z.zeros.a_zero = 1000;
  const status zs = gemm(codes(a.data(), 3, 16), u2, p, z);
  CHECK(message(zs) == "lowbit: invalid argument: zeros.a_zero = 1000 (expected -507..510)");
  CHECK(zs.value() == 1000);
  CHECK(zs.limit() == 510);
  for (std::int32_t v : c) CHECK(v == -7);
}

TEST_CASE("zero points: the accepted range per format, at both ends", "[errors][output]") {
  const format u8{8, encoding::unsigned_int}, s8{8, encoding::signed_int};
  const format pm1{1, encoding::odd_symmetric}, t2{2, encoding::ternary};
  CHECK(detail::zero_point_min(u8) == -255);
  CHECK(detail::zero_point_max(u8) == 510);
  CHECK(detail::zero_point_min(s8) == -383);
  CHECK(detail::zero_point_max(s8) == 382);
  CHECK(detail::zero_point_min(u2) == -507);
  CHECK(detail::zero_point_max(u2) == 510);
  CHECK(detail::zero_point_min(pm1) == -509);
  CHECK(detail::zero_point_max(pm1) == 509);
  CHECK(detail::zero_point_min(t2) == -509);
  // The ends themselves are accepted, exactly (the int32 stage against the definition).
  std::vector<std::uint8_t> w(2 * 16), a(3 * 16);
  for (std::size_t i = 0; i < w.size(); ++i) w[i] = static_cast<std::uint8_t>(i % 4);
  for (std::size_t i = 0; i < a.size(); ++i) a[i] = static_cast<std::uint8_t>((i * 7) % 4);
  packed_weights p;
  REQUIRE(pack_weights(codes(w.data(), 2, 16), s2, u2, p).ok());
  for (std::int32_t za : {-507, 510, -508, 511})
    for (std::int32_t zw : {-509, 508}) {
      std::vector<std::int32_t> c(3 * 2, -7);
      int32_output o{c.data()};
      o.zeros = {za, &zw, 1};
      const status s = gemm(codes(a.data(), 3, 16), u2, p, o);
      INFO("a_zero " << za << " w_zero " << zw << ": " << message(s));
      if (za < -507 || za > 510) {
        CHECK(s.code() == errc::invalid_argument);
        for (std::int32_t v : c) CHECK(v == -7);
        continue;
      }
      REQUIRE(s.ok());
      for (std::size_t i = 0; i < 3; ++i)
        for (std::size_t j = 0; j < 2; ++j) {
          std::int64_t t = 0;
          for (std::size_t x = 0; x < 16; ++x)
            t += (std::int64_t{code_value(u2, a[i * 16 + x])} - za) *
                 (std::int64_t{code_value(s2, w[j * 16 + x])} - zw);
          CHECK(c[i * 2 + j] == t);
        }
    }
}

TEST_CASE("a requested ISA level the CPU cannot run warns once and uses the host's best",
          "[errors][dispatch]") {
  dispatch_options native;
  for (int i = 0; i < static_cast<int>(isa::native); ++i) {
    const isa level = static_cast<isa>(i);
    const feature_set missing = isa_features(level) & ~detail::host_features();
    if (missing == 0) continue;
    dispatch_options capped;
    capped.cap = level;
    INFO("level " << isa_name(level));
    const std::string first = capture_stderr([&] {
      CHECK(allowed_features(capped) == detail::host_features());
      CHECK(select_ukernel(2, 2, 256, 1152, capped) == select_ukernel(2, 2, 256, 1152, native));
    });
    CHECK(first.find(std::string("lowbit: ISA level ") + isa_name(level)) != std::string::npos);
    CHECK(first.find(std::string("using ") + isa_name(host_isa())) != std::string::npos);
    // Once per level.
    const std::string again =
        capture_stderr([&] { CHECK(select_ukernel(8, 8, 256, 1152, capped) != nullptr); });
    CHECK(again.empty());
  }
}

TEST_CASE("LOWBIT_VERBOSE logs the kernel kernel_name() reports", "[errors][dispatch]") {
  // Signed 2-bit weights: pack_weights may switch to a signed-weight sibling after choosing; the
  // log names the kernel packed.
  std::vector<std::uint8_t> w(64 * 256, 1);
  const bool was = detail::settings().verbose;
  detail::settings().verbose = true;
  packed_weights p;
  const std::string log =
      capture_stderr([&] { REQUIRE(pack_weights(codes(w.data(), 64, 256), s2, u2, p).ok()); });
  detail::settings().verbose = was;
  INFO(log);
  CHECK(log.find(std::string("-> ") + p.kernel_name() + " ") != std::string::npos);
  const kernels::ukernel_desc* d = query_kernel(s2, u2, 64, 256);
  REQUIRE(d != nullptr);
  CHECK(std::string(d->name) == p.kernel_name());
}

TEST_CASE("quantization helpers validate too", "[errors]") {
  const float x[4] = {1, 2, 3, 4};
  std::uint8_t q[4];
  quant_params p;
  CHECK(choose_quant_params(nullptr, 4, s2, quant_mode::symmetric, p).code() == errc::null_pointer);
  CHECK(choose_quant_params(x, 4, {1, encoding::signed_int}, quant_mode::symmetric, p).code() ==
        errc::unsupported_format);
  CHECK(quantize(x, 4, s2, {0.0f, 0}, q).code() == errc::invalid_argument);
  CHECK(quantize(x, 4, s2, {1.0f, 0}, nullptr).code() == errc::null_pointer);
}

TEST_CASE("conv2d: zero points, workspace and invalid codes (docs/errors.md)", "[errors][conv]") {
  // Zero points beyond 510 of their format's values are refused before the input is read
  // (depthwise included: its int16 centered values then always fit), nothing written.
  const format u8{8, encoding::unsigned_int};
  const format pm1{1, encoding::odd_symmetric};
  conv_params dw;
  dw.in_channels = dw.out_channels = dw.groups = 4;
  dw.kernel_h = dw.kernel_w = 3;
  dw.pad_top = dw.pad_left = dw.pad_bottom = dw.pad_right = 1;
  const tensor_shape in{1, 5, 5, 4};
  std::vector<std::uint8_t> w(4 * 9, 1), x(5 * 5 * 4, 200);
  std::vector<std::int32_t> c(5 * 5 * 4, -7);
  auto untouched = [&] {
    for (std::int32_t v : c)
      if (v != -7) return false;
    return true;
  };
  packed_conv_weights pw;
  REQUIRE(pack_conv_weights(w.data(), dw, pm1, u8, pw).ok());
  REQUIRE(std::string(pw.kernel_name()) == "depthwise_direct");
  int32_output o{c.data()};
  o.zeros.a_zero = -256;  // u8 activations: zero points -255..510
  status s = conv2d(x.data(), in, u8, pw, o);
  CHECK(s.code() == errc::invalid_argument);
  CHECK(std::string(s.argument()) == "zeros.a_zero");
  CHECK(s.value() == -256);
  CHECK(untouched());
  o.zeros.a_zero = -255;  // the end of the range: fine
  REQUIRE(conv2d(x.data(), in, u8, pw, o).ok());
  std::fill(c.begin(), c.end(), -7);
  // The same for a weight zero point (u8 weights: -255..510), before the input scan.
  packed_conv_weights pw8;
  REQUIRE(pack_conv_weights(w.data(), dw, u8, {1, encoding::unsigned_int}, pw8).ok());
  const std::int32_t wz = 511;
  const format u1{1, encoding::unsigned_int};
  std::vector<std::uint8_t> x1(x.size(), 1);
  x1[37] = 2;  // an invalid code, reported only once the zero points are valid
  int32_output o1{c.data()};
  o1.zeros.w_zeros = &wz;
  s = conv2d(x1.data(), in, u1, pw8, o1);
  CHECK(s.code() == errc::invalid_argument);
  CHECK(std::string(s.argument()) == "zeros.w_zeros");
  CHECK(untouched());
  o1.zeros.w_zeros = nullptr;
  s = conv2d(x1.data(), in, u1, pw8, o1);
  CHECK(s.code() == errc::invalid_code);
  CHECK(s.value() == 37);
  CHECK(untouched());

  // A caller workspace that is too small: buffer_too_small naming the bytes needed.
  alignas(64) static std::uint8_t small[128];
  workspace ws(small, sizeof small);
  s = conv2d(x.data(), in, u8, pw, int32_output{c.data()}, ws);
  CHECK(s.code() == errc::buffer_too_small);
  CHECK(std::string(s.argument()) == "workspace");
  CHECK(s.value() == 128);
  CHECK(s.limit() > 128);
  CHECK(untouched());
}
