// The vector quantize / dequantize rows (detail/quantize_ops.hpp) against the scalar loops they
// replace, kept here as the reference: every vector set this host runs, called directly and
// through quantize() / dequantize() under each forced ISA level, gives the same bytes and float
// bits for every format, tail length, special value (NaN, infinities, signed zeros, denormals,
// ties, huge values), zero points at and beyond both ends and tiny and huge scales; invalid codes
// are found at the same index with nothing written.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include <catch2/catch.hpp>

#include "lowbit/detail/quantize_ops.hpp"
#include "lowbit/quantize.hpp"

using namespace lowbit;

namespace {

// The scalar rounding rule as quantize.hpp wrote it before the vector rows.
std::int32_t ref_nearest_value(format f, float y) {
  const float lo = static_cast<float>(min_value(f)), hi = static_cast<float>(max_value(f));
  if (!(y >= lo)) return min_value(f);
  if (y > hi) return max_value(f);
  if (f.enc == encoding::odd_symmetric) {
    const float t = std::floor(y);
    const std::int32_t base = static_cast<std::int32_t>(t);
    std::int32_t v = base % 2 != 0 ? base : base - 1;
    const float d0 = y - static_cast<float>(v), d1 = static_cast<float>(v + 2) - y;
    if (d1 < d0 || (d1 == d0 && y >= 0)) v += 2;
    return v < min_value(f) ? min_value(f) : (v > max_value(f) ? max_value(f) : v);
  }
  const std::int32_t v = static_cast<std::int32_t>(std::round(y));
  return v < min_value(f) ? min_value(f) : (v > max_value(f) ? max_value(f) : v);
}

std::uint8_t ref_output_byte(format f, std::int32_t v) {
  if (f.enc == encoding::signed_int || f.enc == encoding::ternary)
    return static_cast<std::uint8_t>(static_cast<std::int8_t>(v));
  return static_cast<std::uint8_t>(code_of_value(f, v));
}

void ref_quantize(const float* x, std::size_t n, format f, quant_params p, std::uint8_t* out) {
  for (std::size_t i = 0; i < n; ++i) {
    const float y = x[i] / p.scale + static_cast<float>(p.zero_point);
    out[i] = ref_output_byte(f, ref_nearest_value(f, y));
  }
}

// The scalar dequantize loop (codes already validated).
void ref_dequantize(const matrix_ref& m, format f, quant_params p, float* out) {
  const std::size_t stride = detail::effective_stride(m, f.bits);
  const auto* base = static_cast<const std::uint8_t*>(m.data);
  for (std::size_t r = 0; r < m.rows; ++r)
    for (std::size_t k = 0; k < m.cols; ++k) {
      const std::uint8_t* row = base + r * stride;
      const std::uint32_t code = m.store == storage::one_per_byte
                                     ? (row[k] & code_mask(f))
                                     : detail::read_bitpacked(row, k, f.bits);
      out[r * m.cols + k] = p.scale * static_cast<float>(code_value(f, code) - p.zero_point);
    }
}

std::vector<format> all_formats() {
  std::vector<format> v;
  for (int b = 1; b <= 8; ++b)
    for (encoding e :
         {encoding::unsigned_int, encoding::signed_int, encoding::odd_symmetric, encoding::ternary})
      if (is_valid(format{b, e})) v.push_back(format{b, e});
  return v;
}

// The vector sets this host runs.
std::vector<const detail::quantize_ops*> runnable_sets() {
  std::vector<const detail::quantize_ops*> sets;
  const feature_set host = detail::host_features();
#if defined(LOWBIT_X86_QUANTIZE_OPS)
  if ((host & detail::x86_sse4) == detail::x86_sse4) sets.push_back(&detail::sse41_quantize_ops());
  if ((host & detail::x86_avx2) == detail::x86_avx2) sets.push_back(&detail::avx2_quantize_ops());
  if ((host & detail::x86_avx512) == detail::x86_avx512)
    sets.push_back(&detail::avx512_quantize_ops());
#elif defined(LOWBIT_NEON_QUANTIZE_OPS)
  if (host & bit(cpu_feature::neon)) sets.push_back(&detail::neon_quantize_ops());
#else
  (void)host;
#endif
#if defined(LOWBIT_XSIMD_FLOAT)
  sets.push_back(detail::portable_quantize_ops());  // xsimd, the build's own architecture
#endif
  return sets;
}

// The set quantize() uses at isa::scalar: xsimd's where it is on, else the scalar loop (nullptr).
#if defined(LOWBIT_XSIMD_FLOAT)
constexpr const char* portable_set = "xsimd";
#else
constexpr const char* portable_set = nullptr;
#endif

// ISA levels to force, with the set quantize() must then use (nullptr: the scalar loop).
struct forced_level {
  isa level;
  const char* set;
};

std::vector<forced_level> runnable_levels() {
  std::vector<forced_level> v{{isa::scalar, portable_set}};
  const feature_set host = detail::host_features();
  auto runs = [&](isa l) { return (host & isa_features(l)) == isa_features(l); };
#if defined(LOWBIT_X86_QUANTIZE_OPS)
  if (runs(isa::sse4)) v.push_back({isa::sse4, "sse4"});
  if (runs(isa::avx2)) v.push_back({isa::avx2, "avx2"});
  if (runs(isa::avx512)) v.push_back({isa::avx512, "avx512"});
  if (runs(isa::avx512icl)) v.push_back({isa::avx512icl, "avx512"});
#elif defined(LOWBIT_NEON_QUANTIZE_OPS)
  if (runs(isa::neon)) v.push_back({isa::neon, "neon"});
#else
  (void)runs;
#endif
  return v;
}

struct isa_guard {
  ~isa_guard() { force_isa(isa::native); }
};

float bits_to_float(std::uint32_t u) {
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}

// Inputs a quantizer can meet at its edges: NaNs, infinities, signed zeros, denormals, the
// largest floats, and for the given scale and zero point the values that land on and next to
// every tie (k + 0.5 and, for odd-symmetric, even k) across the format's range and beyond.
std::vector<float> special_values(format f, quant_params p) {
  const float inf = std::numeric_limits<float>::infinity();
  std::vector<float> v = {std::numeric_limits<float>::quiet_NaN(),
                          -std::numeric_limits<float>::quiet_NaN(),
                          bits_to_float(0x7F800001u),  // a signaling NaN
                          bits_to_float(0xFFC12345u),
                          inf,
                          -inf,
                          0.0f,
                          -0.0f,
                          bits_to_float(1u),
                          -bits_to_float(1u),
                          bits_to_float(0x007FFFFFu),
                          -bits_to_float(0x007FFFFFu),
                          std::numeric_limits<float>::min(),
                          -std::numeric_limits<float>::min(),
                          std::numeric_limits<float>::max(),
                          -std::numeric_limits<float>::max(),
                          1e30f,
                          -1e30f,
                          2147483648.0f,
                          -2147483904.0f};
  const int lo = min_value(f) - 3, hi = max_value(f) + 3;
  for (int k = lo; k <= hi; ++k)
    for (float frac : {0.0f, 0.5f, -0.5f, 0.25f}) {
      const float y = static_cast<float>(k) + frac;  // the quantized-domain target
      const float x = (y - static_cast<float>(p.zero_point)) * p.scale;
      v.push_back(x);
      v.push_back(std::nextafter(x, inf));
      v.push_back(std::nextafter(x, -inf));
    }
  return v;
}

std::vector<quant_params> param_set(format f) {
  const std::int32_t lo = min_value(f), hi = max_value(f);
  std::vector<quant_params> v;
  for (float s : {1.0f, 0.5f, 0.1f, 3.0f, 1e-3f, 7.3e-39f, 1e-45f, 3e38f})
    for (std::int32_t z :
         {0, lo, hi, lo - 1, hi + 1, 1000, -1000, 16777217,
          std::numeric_limits<std::int32_t>::min(), std::numeric_limits<std::int32_t>::max()})
      v.push_back({s, z});
  return v;
}

}  // namespace

TEST_CASE("quantize ops: every set writes the scalar loop's codes", "[quantize_ops]") {
  std::mt19937 rng(27);
  const auto sets = runnable_sets();
  INFO("vector sets: " << sets.size());
  for (const detail::quantize_ops* ops : sets)
    for (format f : all_formats())
      for (quant_params p : param_set(f)) {
        INFO("set " << ops->isa << " format " << f.bits << "/" << encoding_name(f.enc) << " scale "
                    << p.scale << " zero " << p.zero_point);
        std::vector<float> x = special_values(f, p);
        std::uniform_real_distribution<float> in_range(
            (static_cast<float>(min_value(f) - 2) - static_cast<float>(p.zero_point)) * p.scale,
            (static_cast<float>(max_value(f) + 2) - static_cast<float>(p.zero_point)) * p.scale);
        for (int i = 0; i < 64; ++i) x.push_back(in_range(rng));
        std::shuffle(x.begin(), x.end(), rng);
        const auto qp = detail::make_quantize_row_params(f, p.scale, p.zero_point);
        // Every length up to 70 (each tail of every width), from an odd offset too.
        for (std::size_t off : {std::size_t{0}, std::size_t{3}})
          for (std::size_t n = 0; n <= 70 && off + n <= x.size(); ++n) {
            std::vector<std::uint8_t> want(n + 1, 0xA5), got(n + 1, 0xA5);
            ref_quantize(x.data() + off, n, f, p, want.data());
            ops->quantize_row(x.data() + off, n, qp, got.data());
            if (got != want) {  // the byte past the end untouched too; a message only on failure
              INFO("n " << n << " offset " << off);
              REQUIRE(got == want);
            }
          }
        std::vector<std::uint8_t> want(x.size()), got(x.size());
        ref_quantize(x.data(), x.size(), f, p, want.data());
        ops->quantize_row(x.data(), x.size(), qp, got.data());
        REQUIRE(got == want);
      }
}

TEST_CASE("quantize ops: random floats of every magnitude", "[quantize_ops]") {
  std::mt19937 rng(4);
  std::vector<float> x(1000);
  for (const detail::quantize_ops* ops : runnable_sets())
    for (format f : all_formats())
      for (int trial = 0; trial < 20; ++trial) {
        for (auto& v : x) v = bits_to_float(static_cast<std::uint32_t>(rng()));  // NaNs included
        const quant_params p{
            bits_to_float(0x00800000u + static_cast<std::uint32_t>(rng() % 0x7E000000u)),
            static_cast<std::int32_t>(rng() % 64) - 32};
        std::vector<std::uint8_t> want(x.size()), got(x.size());
        ref_quantize(x.data(), x.size(), f, p, want.data());
        ops->quantize_row(x.data(), x.size(),
                          detail::make_quantize_row_params(f, p.scale, p.zero_point), got.data());
        INFO("set " << ops->isa << " format " << f.bits << "/" << encoding_name(f.enc) << " scale "
                    << p.scale);
        REQUIRE(got == want);
      }
}

TEST_CASE("quantize ops: the validity check flags exactly the invalid bytes", "[quantize_ops]") {
  for (const detail::quantize_ops* ops : runnable_sets())
    for (format f : all_formats()) {
      detail::u_table t;
      detail::make_u_table(f, t);
      const detail::code_check check = detail::make_code_check(f);
      for (std::size_t n : {1u, 3u, 15u, 16u, 17u, 31u, 33u, 63u, 64u, 65u, 130u}) {
        std::vector<std::uint8_t> row(n + 1, 0);
        row[n] = 0xFF;  // past the end: never read
        for (unsigned b = 0; b < 256; ++b)
          for (std::size_t pos : {std::size_t{0}, n / 2, n - 1}) {
            std::fill(row.begin(), row.begin() + static_cast<std::ptrdiff_t>(n), 0);
            row[pos] = static_cast<std::uint8_t>(b);
            INFO("set " << ops->isa << " format " << f.bits << "/" << encoding_name(f.enc) << " n "
                        << n << " byte " << b << " at " << pos);
            REQUIRE(ops->any_invalid(row.data(), n, check) == !t.valid[b]);
          }
      }
    }
}

namespace {

// A valid one-per-byte code, sign-extended at random where the format allows.
std::uint8_t random_valid_byte(std::mt19937& rng, format f) {
  std::uint32_t c;
  do c = rng() & code_mask(f);
  while (f.enc == encoding::ternary && c == 2u);
  const bool may_extend = f.enc == encoding::signed_int || f.enc == encoding::ternary;
  if (may_extend && (c >> (f.bits - 1)) != 0 && (rng() & 1)) c |= ~code_mask(f) & 0xFFu;
  return static_cast<std::uint8_t>(c);
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

}  // namespace

TEST_CASE("quantize ops: every set dequantizes to the scalar loop's bits", "[quantize_ops]") {
  std::mt19937 rng(9);
  for (const detail::quantize_ops* ops : runnable_sets())
    for (format f : all_formats())
      for (float s : {1.0f, 0.1f, 3.3e-3f, 1e-45f, 3e38f, 0.7f})
        for (std::int32_t z : {0, min_value(f), max_value(f), min_value(f) - 1, max_value(f) + 1,
                               -123457, 16777217, 1 << 30, -(1 << 30)}) {
          const quant_params p{s, z};
          const auto dq = detail::make_dequantize_row_params(f, s, z);
          INFO("set " << ops->isa << " format " << f.bits << "/" << encoding_name(f.enc)
                      << " scale " << s << " zero " << z);
          for (std::size_t n = 0; n <= 70; ++n) {
            std::vector<std::uint8_t> c(n);
            for (auto& b : c) b = random_valid_byte(rng, f);
            std::vector<float> want(n + 1, 42.0f), got(n + 1, 42.0f);
            if (n > 0) ref_dequantize(codes(c.data(), 1, n), f, p, want.data());
            ops->dequantize_row(c.data(), n, dq, got.data());
            INFO("n " << n);
            REQUIRE(same_bits(got, want));
          }
        }
}

TEST_CASE("quantize and dequantize give the scalar results under every forced ISA level",
          "[quantize_ops]") {
  isa_guard restore;
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> dist(-300.0f, 300.0f);
  for (const forced_level& l : runnable_levels()) {
    force_isa(l.level);
    const detail::quantize_ops* chosen = detail::quantize_ops_for(allowed_features());
    INFO("forced " << isa_name(l.level));
    if (l.set == nullptr)
      CHECK(chosen == nullptr);
    else
      CHECK((chosen != nullptr && std::strcmp(chosen->isa, l.set) == 0));
    for (format f : all_formats()) {
      INFO("format " << f.bits << "/" << encoding_name(f.enc));
      // quantize, a tensor with a tail, and per channel
      const quant_params p{0.37f, min_value(f) + 1};
      std::vector<float> x = special_values(f, p);
      for (int i = 0; i < 501; ++i) x.push_back(dist(rng));
      std::vector<std::uint8_t> want(x.size()), got(x.size());
      ref_quantize(x.data(), x.size(), f, p, want.data());
      REQUIRE(quantize(x.data(), x.size(), f, p, got.data()).ok());
      REQUIRE(got == want);
      const quant_params pc[3] = {{0.5f, 0}, {1e-3f, max_value(f)}, {7.0f, min_value(f)}};
      const std::size_t rows = 3, cols = 37, ld = 41, ldc = 40;
      std::vector<float> w(rows * ld);
      for (auto& v : w) v = dist(rng);
      std::vector<std::uint8_t> cw(rows * ldc, 0), cg(rows * ldc, 0);
      for (std::size_t r = 0; r < rows; ++r)
        ref_quantize(w.data() + r * ld, cols, f, pc[r], cw.data() + r * ldc);
      REQUIRE(quantize_per_channel(w.data(), rows, cols, ld, f, pc, cg.data(), ldc).ok());
      REQUIRE(cg == cw);
      // dequantize, one per byte (rows with a stride) and bit-packed (chunks and tails)
      for (std::size_t cols2 : {1u, 19u, 64u, 300u, 700u}) {
        const std::size_t nrows = 3, stride = cols2 + 5;
        std::vector<std::uint8_t> c(nrows * stride, 0xEE);
        for (std::size_t r = 0; r < nrows; ++r)
          for (std::size_t k = 0; k < cols2; ++k) c[r * stride + k] = random_valid_byte(rng, f);
        const matrix_ref m{c.data(), nrows, cols2, stride, storage::one_per_byte};
        std::vector<float> dw(nrows * cols2), dg(nrows * cols2);
        ref_dequantize(m, f, p, dw.data());
        REQUIRE(dequantize(m, f, p, dg.data()).ok());
        REQUIRE(same_bits(dg, dw));
        // the same codes bit-packed
        const std::size_t pstride = (cols2 * static_cast<std::size_t>(f.bits) + 7) / 8;
        std::vector<std::uint8_t> packed(nrows * pstride, 0);
        for (std::size_t r = 0; r < nrows; ++r)
          for (std::size_t k = 0; k < cols2; ++k) {
            const std::size_t bitpos = k * static_cast<std::size_t>(f.bits);
            const std::uint32_t code = c[r * stride + k] & code_mask(f);
            packed[r * pstride + bitpos / 8] |= static_cast<std::uint8_t>(code << (bitpos % 8));
            if (bitpos % 8 + static_cast<std::size_t>(f.bits) > 8)
              packed[r * pstride + bitpos / 8 + 1] |=
                  static_cast<std::uint8_t>(code >> (8 - bitpos % 8));
          }
        const matrix_ref pm{packed.data(), nrows, cols2, pstride, storage::bitpacked};
        std::vector<float> pg(nrows * cols2);
        REQUIRE(dequantize(pm, f, p, pg.data()).ok());
        REQUIRE(same_bits(pg, dw));
      }
    }
  }
}

TEST_CASE("dequantize names the first invalid code and writes nothing, under every level",
          "[quantize_ops]") {
  isa_guard restore;
  std::mt19937 rng(6);
  for (const forced_level& l : runnable_levels()) {
    force_isa(l.level);
    INFO("forced " << isa_name(l.level));
    for (format f : all_formats()) {
      detail::u_table t;
      detail::make_u_table(f, t);
      std::vector<std::uint8_t> bad_bytes;
      for (unsigned b = 0; b < 256; ++b)
        if (!t.valid[b]) bad_bytes.push_back(static_cast<std::uint8_t>(b));
      if (bad_bytes.empty()) continue;  // 8-bit unsigned, signed, odd-symmetric
      const std::size_t rows = 4, cols = 77, stride = 80;
      for (int trial = 0; trial < 6; ++trial) {
        std::vector<std::uint8_t> c(rows * stride);
        for (auto& b : c) b = random_valid_byte(rng, f);
        const std::size_t first_r = rng() % rows, first_k = rng() % cols;
        c[first_r * stride + first_k] = bad_bytes[rng() % bad_bytes.size()];
        // a later bad code too, and bad bytes in the padding (never read)
        if (first_k + 1 < cols) c[first_r * stride + cols - 1] = bad_bytes[0];
        c[first_r * stride + cols] = bad_bytes[0];
        const matrix_ref m{c.data(), rows, cols, stride, storage::one_per_byte};
        std::vector<float> out(rows * cols, 42.0f);
        const status s = dequantize(m, f, {0.5f, 0}, out.data());
        INFO("format " << f.bits << "/" << encoding_name(f.enc) << " bad at " << first_r << ","
                       << first_k);
        REQUIRE(s.code() == errc::invalid_code);
        CHECK(s.value() == static_cast<std::int64_t>(first_r * cols + first_k));
        for (float v : out) REQUIRE(v == 42.0f);
      }
    }
    // Bit-packed ternary: code 2 is the only invalid one.
    const format t2{2, encoding::ternary};
    std::vector<std::uint8_t> packed(10, 0x55);  // every code 1
    packed[3] = 0x59;                            // code 13 is 2
    std::vector<float> out(40, 42.0f);
    const status s =
        dequantize({packed.data(), 1, 40, 0, storage::bitpacked}, t2, {1.0f, 0}, out.data());
    REQUIRE(s.code() == errc::invalid_code);
    CHECK(s.value() == 13);
    for (float v : out) REQUIRE(v == 42.0f);
  }
}
