// libFuzzer target: codes matrices of arbitrary rows, cols, stride, storage and format handed to
// pack_weights, to gemm as activations, to reference_gemm and to dequantize, including sizes and
// strides that are zero, too small, above the int32 limit or overflowing size_t. Each call must
// return exactly the error docs/errors.md lists (first failing check wins), naming the argument,
// and must never read past the bytes a valid matrix of that shape occupies: the buffer handed in
// is exactly that long (or a few bytes when an error is due before any code is read), so ASan
// catches any overread. Accepted calls are checked against reference_gemm.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "fuzz_common.hpp"
#include "lowbit/gemm.hpp"
#include "lowbit/quantize.hpp"
#include "lowbit/reference.hpp"

using namespace lowbit;

namespace {

constexpr std::size_t max_read = std::size_t{1} << 20;  // larger valid inputs are not built

struct expectation {
  errc code = errc::ok;
  std::string arg;
  bool reads = false;  // the library reads the codes (so the buffer must be complete)
};

// A size from interesting classes: small, around the int32 limit, huge, or any 64-bit value.
std::size_t any_size(fuzz::reader& r, std::size_t small_max) {
  switch (r.range(0, 9)) {
    case 0:
      return 0;
    case 1:
      return static_cast<std::size_t>(std::numeric_limits<std::int32_t>::max()) + r.range(0, 2) - 1;
    case 2:
      return std::numeric_limits<std::size_t>::max() - r.range(0, 3);
    case 3:
      return std::size_t{1} << r.range(20, 63);
    case 4:
      return r.u64();
    default:
      return r.range(1, small_max);
  }
}

format maybe_bad_format(fuzz::reader& r) {
  format f = fuzz::any_format(r);
  switch (r.range(0, 15)) {
    case 0:
      f.bits = static_cast<int>(r.range(0, 40)) - 20;  // mostly outside 1..8
      break;
    case 1:
      f.enc = static_cast<encoding>(r.range(4, 255));
      break;
    case 2:
      f.enc = encoding::ternary;  // at a random width
      break;
    default:
      break;
  }
  return f;
}

// detail::validate_format's contract, restated.
bool format_error(format f, const char* bits_name, const char* enc_name, expectation& e) {
  if (static_cast<unsigned>(f.enc) > 3u) {
    e = {errc::invalid_encoding, enc_name};
    return true;
  }
  if (f.bits < 1 || f.bits > 8 || (f.enc == encoding::ternary && f.bits != 2)) {
    e = {errc::invalid_bits, bits_name};
    return true;
  }
  return false;
}

// detail::validate_matrix's contract, restated; also returns the bytes a valid matrix occupies.
bool matrix_error(const matrix_ref& m, format f, const char* data, const char* rows,
                  const char* cols, const char* stride, expectation& e, std::size_t& bytes) {
  const std::size_t i32 = static_cast<std::size_t>(std::numeric_limits<std::int32_t>::max());
  bytes = 0;
  if (m.rows == 0 || m.rows > i32) return e = {errc::invalid_dimension, rows}, true;
  if (m.cols == 0 || m.cols > i32) return e = {errc::invalid_dimension, cols}, true;
  if (m.data == nullptr) return e = {errc::null_pointer, data}, true;
  if (m.store != storage::one_per_byte && m.store != storage::bitpacked)
    return e = {errc::invalid_argument, data}, true;
  const std::size_t need = row_bytes(m.store, m.cols, f.bits);
  if (m.stride != 0 && m.stride < need)
    return e = {errc::leading_dimension_too_small, stride}, true;
  const std::size_t eff = m.stride ? m.stride : need;
  std::size_t total = 0;
  if (__builtin_mul_overflow(m.rows - 1, eff, &total) || m.rows > SIZE_MAX / eff)
    return e = {errc::size_overflow, rows}, true;
  bytes = total + need;  // cannot overflow: rows * eff fits
  return false;
}

// The first invalid code's flat index, or -1 (matrix.hpp's rules, restated).
std::int64_t first_invalid(const matrix_ref& m, format f) {
  const std::size_t eff = m.stride ? m.stride : row_bytes(m.store, m.cols, f.bits);
  const auto* base = static_cast<const std::uint8_t*>(m.data);
  for (std::size_t r = 0; r < m.rows; ++r)
    for (std::size_t k = 0; k < m.cols; ++k) {
      const std::uint8_t* row = base + r * eff;
      std::uint32_t code;
      if (m.store == storage::bitpacked) {
        code = 0;
        for (int b = 0; b < f.bits; ++b) {
          const std::size_t bit =
              k * static_cast<std::size_t>(f.bits) + static_cast<std::size_t>(b);
          code |= static_cast<std::uint32_t>(row[bit / 8] >> (bit % 8) & 1u) << b;
        }
      } else {
        const std::uint8_t x = row[k];
        const std::uint32_t high = x & ~code_mask(f) & 0xFFu;
        code = x & code_mask(f);
        const bool sext = (f.enc == encoding::signed_int || f.enc == encoding::ternary) &&
                          high == (~code_mask(f) & 0xFFu) && (code >> (f.bits - 1)) != 0;
        if (high != 0 && !sext) return static_cast<std::int64_t>(r * m.cols + k);
      }
      if (!is_valid_code(f, code)) return static_cast<std::int64_t>(r * m.cols + k);
    }
  return -1;
}

void check(const status& s, const expectation& e, const char* what) {
  fuzz::expect_code(s, e.code, what);
  if (e.code != errc::ok && !e.arg.empty() && e.arg != s.argument()) {
    std::fprintf(stderr, "lowbit fuzz: %s: argument '%s', want '%s'\n", what, s.argument(),
                 e.arg.c_str());
    __builtin_trap();
  }
}

// The matrix under test: shape and storage from the input, bytes exactly as long as allowed.
struct subject {
  matrix_ref m;
  std::vector<std::uint8_t> bytes;
};

void make_subject(fuzz::reader& r, format f, subject& s) {
  s.m.rows = any_size(r, 9);
  s.m.cols = any_size(r, 70);
  const std::size_t st = r.range(0, 5);
  s.m.store = st < 3 ? storage::bitpacked
                     : (st < 5 ? storage::one_per_byte : static_cast<storage>(r.range(2, 255)));
  const int bits = f.bits >= 1 && f.bits <= 8 ? f.bits : 8;
  const std::size_t need =
      s.m.cols <= (std::size_t{1} << 40) ? row_bytes(s.m.store, s.m.cols, bits) : 0;
  switch (r.range(0, 6)) {
    case 0:
      s.m.stride = 0;
      break;
    case 1:
      s.m.stride = need ? need - r.range(1, need < 8 ? need : 8) : 0;  // too small
      break;
    case 2:
      s.m.stride = any_size(r, 200);
      break;
    default:
      s.m.stride = need + r.range(0, 9);
      break;
  }
}

// Gives the subject its bytes: all of them when the call will read, else a token few.
bool fill(fuzz::reader& r, subject& s, const expectation& e, std::size_t bytes) {
  const std::size_t len = e.code == errc::ok || e.reads ? bytes : 8;
  if (len > max_read) return false;
  s.bytes.resize(len);
  // Mostly valid-looking bytes (low codes), sometimes anything.
  const bool wild = r.range(0, 3) == 0;
  for (auto& b : s.bytes) b = wild ? r.bulk() : static_cast<std::uint8_t>(r.bulk() & 0x3F);
  if (s.m.data != nullptr) s.m.data = s.bytes.data();
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::reader r(data, size);
  const std::size_t op = r.range(0, 2);
  const format f = maybe_bad_format(r);
  subject s;
  make_subject(r, f, s);
  s.m.data = r.range(0, 15) == 0 ? nullptr : &s;  // placeholder: non-null until filled
  std::size_t bytes = 0;
  expectation e;

  if (op == 0) {  // pack_weights(W = subject)
    const format af = maybe_bad_format(r);
    if (!format_error(f, "w_format.bits", "w_format.enc", e) &&
        !format_error(af, "a_format.bits", "a_format.enc", e) &&
        !matrix_error(s.m, f, "w.data", "N", "K", "w.stride", e, bytes)) {
      if (static_cast<std::int64_t>(s.m.cols) > max_k(af, f)) {
        e = {errc::accumulator_overflow, "K"};
      } else {
        e.reads = true;
        if (!fill(r, s, e, bytes)) return 0;
        const std::int64_t bad = first_invalid(s.m, f);
        if (bad >= 0) e = {errc::invalid_code, "w.data", true};
      }
    }
    if (s.bytes.empty() && !fill(r, s, e, bytes)) return 0;
    packed_weights pw;
    const status st = pack_weights(s.m, f, af, pw);
    check(st, e, "pack_weights");
    fuzz::expect(st.ok() != pw.empty(), "pack_weights: weights present iff success");
    if (e.code == errc::invalid_code)
      fuzz::expect(st.value() == first_invalid(s.m, f), "invalid code index", st.value());
    return 0;
  }

  if (op == 1) {  // gemm(A = subject) against small valid weights, and reference_gemm
    const format wf = fuzz::any_format(r);
    const std::size_t n = r.range(1, 12);
    const std::size_t kw =
        s.m.cols >= 1 && s.m.cols <= 512 && r.range(0, 7) != 0 ? s.m.cols : r.range(1, 40);
    fuzz::stored_matrix w;
    fuzz::store(r, wf, n, kw, r.flag(), w);
    // Usually packed for 8-bit activations (any valid A format fits), sometimes narrower.
    const format af_pack =
        r.range(0, 5) == 0 ? fuzz::any_format(r) : format{8, encoding::unsigned_int};
    packed_weights pw;
    fuzz::expect(pack_weights(w.ref, wf, af_pack, pw).ok(), "pack_weights of valid weights");
    std::vector<std::int32_t> out(64 * n, 0x5A5A5A5A);
    if (!format_error(f, "a_format.bits", "a_format.enc", e) &&
        !matrix_error(s.m, f, "a.data", "M", "K", "a.stride", e, bytes)) {
      if (s.m.cols != kw) {
        e = {errc::dimension_mismatch, "K"};
      } else if (f.bits > af_pack.bits) {
        e = {errc::wrong_packing, "a_format.bits"};
      } else {
        e.reads = true;
        if (s.m.rows > 64) return 0;  // the output holds 64 rows
        if (!fill(r, s, e, bytes)) return 0;
        if (first_invalid(s.m, f) >= 0) e = {errc::invalid_code, "a.data", true};
      }
    }
    if (s.bytes.empty() && !fill(r, s, e, bytes)) return 0;
    const status st = gemm(s.m, f, pw, int32_output{out.data(), n});
    check(st, e, "gemm");
    if (!st.ok()) {
      // An invalid code may leave the tiles of earlier MR-row groups computed (A-outer order
      // validates each group just before its tiles, docs/errors.md); from its group on, and for
      // every other error, nothing is written.
      std::size_t untouched_from = 0;
      if (e.code == errc::invalid_code && st.value() >= 0 && s.m.cols > 0) {
        const std::size_t mr = kernels::kernel_for_rows(*pw.kernel(), s.m.rows).mr;
        untouched_from = static_cast<std::size_t>(st.value()) / s.m.cols / mr * mr * n;
      }
      for (std::size_t i = untouched_from; i < out.size(); ++i)
        fuzz::expect(out[i] == 0x5A5A5A5A, "failed gemm wrote its output");
      if (e.code == errc::invalid_code)
        fuzz::expect(st.value() == first_invalid(s.m, f), "invalid code index", st.value());
      return 0;
    }
    std::vector<std::int32_t> ref(s.m.rows * n);
    fuzz::expect(reference_gemm(s.m, f, w.ref, wf, ref.data(), n).ok(), "reference_gemm");
    for (std::size_t i = 0; i < ref.size(); ++i)
      fuzz::expect(out[i] == ref[i], "gemm differs from reference_gemm", out[i], ref[i]);
    return 0;
  }

  // dequantize(codes = subject)
  quant_params qp;
  qp.zero_point = static_cast<std::int32_t>(r.range(0, 20)) - 10;
  switch (r.range(0, 7)) {
    case 0:
      qp.scale = 0.0f;
      break;
    case 1:
      qp.scale = std::numeric_limits<float>::quiet_NaN();
      break;
    case 2:
      qp.scale = -1.0f;
      break;
    case 3:
      qp.scale = std::numeric_limits<float>::infinity();
      break;
    default:
      qp.scale = 0.25f;
      break;
  }
  const bool null_out = r.range(0, 15) == 0;
  std::vector<float> x;
  if (!format_error(f, "format.bits", "format.enc", e)) {
    if (!(qp.scale > 0.0f) || !std::isfinite(qp.scale)) {
      e = {errc::invalid_argument, "params.scale"};
    } else if (!matrix_error(s.m, f, "codes.data", "codes.rows", "codes.cols", "codes.stride", e,
                             bytes)) {
      if (null_out) {
        e = {errc::null_pointer, "x_out"};
      } else {
        e.reads = true;
        if (s.m.rows * s.m.cols > max_read) return 0;
        if (!fill(r, s, e, bytes)) return 0;
        if (first_invalid(s.m, f) >= 0) e = {errc::invalid_code, "codes.data", true};
        x.assign(s.m.rows * s.m.cols, -12345.0f);
      }
    }
  }
  if (s.bytes.empty() && !fill(r, s, e, bytes)) return 0;
  float unused = 0.0f;  // a non-null x_out for calls that must fail before writing
  const status st = dequantize(s.m, f, qp, null_out ? nullptr : (x.empty() ? &unused : x.data()));
  check(st, e, "dequantize");
  if (!st.ok()) {
    for (float v : x) fuzz::expect(v == -12345.0f, "failed dequantize wrote its output");
    return 0;
  }
  for (std::size_t i = 0; i < s.m.rows; ++i)
    for (std::size_t k = 0; k < s.m.cols; ++k) {
      const std::int32_t v = value_at(s.m, f, i, k);
      fuzz::expect(x[i * s.m.cols + k] == qp.scale * static_cast<float>(v - qp.zero_point),
                   "dequantize value");
    }
  return 0;
}
