// lowbit internal: the bodies of the vector quantize / dequantize rows, written once.
//
// No include guard: each ISA header (x86/quantize_ops_sse41.hpp, _avx2.hpp, _avx512.hpp,
// arm/quantize_ops_neon.hpp) includes this file once, after defining
//   LOWBIT_QOPS_NS     the namespace below lowbit::detail that gets this ISA's copy,
//   LOWBIT_QOPS_ATTR   the attribute compiling it for that ISA (a target string from isa.hpp on
//                      x86; empty where the ISA is the baseline, as NEON), and
//   LOWBIT_QOPS_LANES  float lanes in one of its vector registers (4, 8 or 16).
// It ends with #undef of all three. The vectors are the compilers' generic vector types
// (vector_size), not intrinsics: quantize.hpp must stay cheap to include, and <immintrin.h> alone
// costs a TU about a second. Every function carries the ISA's attribute, so GCC lowers the
// vector operations for that ISA (lowered in a function without it, GCC 12 splits float
// comparisons of wide vectors into scalar ones).
//
// The operations and their order are the scalar code's (quantize.hpp), so results are the same
// bits; docs/architecture.md ("quantize() and dequantize() on vectors") gives the argument for
// each step.

#if !defined(LOWBIT_QOPS_NS) || !defined(LOWBIT_QOPS_ATTR) || !defined(LOWBIT_QOPS_LANES)
#error "define LOWBIT_QOPS_NS, LOWBIT_QOPS_ATTR and LOWBIT_QOPS_LANES first"
#endif

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "lowbit/detail/quantize_ops_types.hpp"

// Armv7 NEON: float vector instructions flush denormals to zero, so the generic float vectors are
// compiled to VFP, one lane at a time (arm/quantize_ops_neon.hpp); quantize_16 runs its rounding
// with NEON intrinsics where no lane is denormal or NaN.
#if defined(__arm__) && !defined(__aarch64__) && LOWBIT_QOPS_LANES == 4 && \
    (defined(__ARM_NEON) || defined(__ARM_NEON__))
#include <arm_neon.h>
#define LOWBIT_QOPS_ARMV7_NEON 1
#endif

#define LOWBIT_QOPS_INLINE LOWBIT_QOPS_ATTR __attribute__((always_inline)) inline
// The entries are called through quantize_ops' pointers. Never inlined where a caller's constant
// table lets GCC see through them: its -Warray-bounds then reasons about paths that are never
// taken (a bit-packed buffer's size against the one-per-byte check).
#define LOWBIT_QOPS_ENTRY LOWBIT_QOPS_ATTR __attribute__((noinline)) inline

namespace lowbit {
namespace detail {
namespace LOWBIT_QOPS_NS {

constexpr int lanes = LOWBIT_QOPS_LANES;
constexpr std::size_t block = 16;  // floats per step: 16 / lanes registers, one 16-byte store
typedef float vf __attribute__((vector_size(4 * lanes)));
typedef std::int32_t vi __attribute__((vector_size(4 * lanes)));
typedef std::uint32_t vu __attribute__((vector_size(4 * lanes)));
typedef std::uint8_t vbyte __attribute__((vector_size(4 * lanes)));  // a register of bytes
typedef std::int8_t vsbyte __attribute__((vector_size(4 * lanes)));  // its comparison masks
typedef std::uint8_t v16b __attribute__((vector_size(16)));
typedef std::uint8_t v8b __attribute__((vector_size(8)));
typedef std::uint16_t v16h __attribute__((vector_size(32)));
typedef std::uint32_t v16u __attribute__((vector_size(64)));

// The constants of one quantize call, in registers.
struct quantize_consts {
  vf scale, zero, lo, hi;
  std::int32_t out_add, out_shift;
  bool odd;
};

// One register of x: y = x / scale + zero_point, an IEEE division then an add (nothing to
// contract into an FMA).
LOWBIT_QOPS_INLINE vf quotient(const float* x, const quantize_consts& k) noexcept {
  vf v;
  std::memcpy(&v, x, sizeof v);
  return v / k.scale + k.zero;
}

// The value each lane of y quantizes to, as an output byte in an int32 lane.
LOWBIT_QOPS_INLINE vi nearest_byte(vf y, const quantize_consts& k) noexcept {
  // Clamp to [lo, hi]; !(y >= lo), NaN included, gives lo, as in nearest_value. (Casts between
  // vector types of one size reinterpret the bits.)
  const vi ge = y >= k.lo;
  vf c = (vf)((ge & (vi)y) | (~ge & (vi)k.lo));
  const vi gt = c > k.hi;
  c = (vf)((gt & (vi)k.hi) | (~gt & (vi)c));
  // |c| <= 255 now: truncation to int32 is exact, and c - trunc(c) is exact.
  const vi t = __builtin_convertvector(c, vi);
  const vf tf = __builtin_convertvector(t, vf);
  vi r;
  if (k.odd) {
    // Nearest odd integer, an even c going away from zero (0 to +1): with b = floor(c), the
    // candidates are (b - 1) | 1 and that + 2; the upper one wins iff b is even and c > b or
    // b >= 0 (c == b is a tie then). Comparison masks are -1 where true.
    const vi lt = c < tf;
    const vi above = c > tf;
    const vi b = t + lt;  // floor(c)
    const vi up = ((b & 1) == 0) & ((above | lt) | (b >= 0));
    r = ((b - 1) | 1) - (up + up);
  } else {
    // std::round: ties away from zero.
    const vf d = c - tf;
    r = t - (d >= 0.5f) + (d <= -0.5f);
  }
  // The output byte: code (v + mask) / 2 for odd-symmetric, else the int8 value's byte.
  return ((r + k.out_add) >> k.out_shift) & 0xFF;
}

#if defined(LOWBIT_QOPS_ARMV7_NEON)
// nearest_byte with NEON's float instructions, which flush denormal inputs and results to zero
// and return NaN from vmax/vmin of a NaN: exact when no lane of y is denormal or NaN (then no
// intermediate is denormal: c - trunc(c) is 0, c itself or a multiple of 2^-23), which the
// caller checks. GCC 12's arm_neon.h writes the float comparisons as generic vector code, which
// it compiles to VFP: the comparisons here are integer ones on the bits of c - trunc(c) (for
// floats of one sign the bit patterns order as the values).
LOWBIT_QOPS_INLINE vi nearest_byte_neon(vf yv, const quantize_consts& k) noexcept {
  const float32x4_t c = vminq_f32(vmaxq_f32((float32x4_t)yv, (float32x4_t)k.lo), (float32x4_t)k.hi);
  const vi t = (vi)vcvtq_s32_f32(c);
  const vi d = (vi)vsubq_f32(c, vcvtq_f32_s32((int32x4_t)t));  // c - trunc(c), its bits
  vi r;
  if (k.odd) {
    const vi lt = (vu)d > 0x80000000u;  // c < trunc(c) (-0 is not)
    const vi above = d > 0;             // c > trunc(c)
    const vi b = t + lt;
    const vi up = ((b & 1) == 0) & ((above | lt) | (b >= 0));
    r = ((b - 1) | 1) - (up + up);
  } else {
    const vi half = d >= 0x3F000000;             // c - trunc(c) >= 0.5
    const vi minus_half = (vu)d >= 0xBF000000u;  // c - trunc(c) <= -0.5
    r = t - half + minus_half;
  }
  return ((r + k.out_add) >> k.out_shift) & 0xFF;
}

// Lanes of y holding a denormal or a NaN (exponent field 0 or all ones, fraction not 0).
LOWBIT_QOPS_INLINE vi special_lanes(vf y) noexcept {
  const vi b = (vi)y, e = b & 0x7F800000;
  return ((e == 0) | (e == 0x7F800000)) & ((b & 0x007FFFFF) != 0);
}
#endif

// 16 floats to 16 bytes. The bytes (0..255 in int32 lanes) are narrowed with one conversion on
// 16 lanes, or by picking every fourth byte (little-endian): GCC 12 converts a narrower vector
// one lane at a time.
LOWBIT_QOPS_INLINE v16b pack_16(vi r0, vi r1, vi r2, vi r3) noexcept {
  const v8b ab = __builtin_shufflevector((vbyte)r0, (vbyte)r1, 0, 4, 8, 12, 16, 20, 24, 28);
  const v8b cd = __builtin_shufflevector((vbyte)r2, (vbyte)r3, 0, 4, 8, 12, 16, 20, 24, 28);
  return __builtin_shufflevector(ab, cd, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
}

#if !defined(LOWBIT_QOPS_ARMV7_NEON)
LOWBIT_QOPS_INLINE void quantize_16(const float* x, const quantize_consts& k,
                                    std::uint8_t* out) noexcept {
#if LOWBIT_QOPS_LANES == 16
  const v16b o = __builtin_convertvector(nearest_byte(quotient(x, k), k), v16b);
#elif LOWBIT_QOPS_LANES == 8
  const vbyte a = (vbyte)nearest_byte(quotient(x, k), k);
  const vbyte b = (vbyte)nearest_byte(quotient(x + 8, k), k);
  const v16b o =
      __builtin_shufflevector(a, b, 0, 4, 8, 12, 16, 20, 24, 28, 32, 36, 40, 44, 48, 52, 56, 60);
#else
  const v16b o = pack_16(nearest_byte(quotient(x, k), k), nearest_byte(quotient(x + 4, k), k),
                         nearest_byte(quotient(x + 8, k), k), nearest_byte(quotient(x + 12, k), k));
#endif
  std::memcpy(out, &o, sizeof o);
}
#else
// Armv7: the generic body, every float operation on VFP; for blocks with a denormal or NaN
// quotient.
LOWBIT_QOPS_ATTR __attribute__((noinline)) inline void quantize_16_vfp(const float* x,
                                                                       const quantize_consts& k,
                                                                       std::uint8_t* out) noexcept {
  const v16b o = pack_16(nearest_byte(quotient(x, k), k), nearest_byte(quotient(x + 4, k), k),
                         nearest_byte(quotient(x + 8, k), k), nearest_byte(quotient(x + 12, k), k));
  std::memcpy(out, &o, sizeof o);
}

// Armv7: the quotients on VFP (IEEE), one lane at a time, the rest on NEON unless a quotient is
// denormal or NaN.
LOWBIT_QOPS_INLINE vf quotient_vfp(const float* x, float scale, float zero) noexcept {
  return vf{x[0] / scale + zero, x[1] / scale + zero, x[2] / scale + zero, x[3] / scale + zero};
}

LOWBIT_QOPS_INLINE void quantize_16(const float* x, const quantize_consts& k,
                                    std::uint8_t* out) noexcept {
  const float scale = k.scale[0], zero = k.zero[0];
  const vf y0 = quotient_vfp(x, scale, zero), y1 = quotient_vfp(x + 4, scale, zero);
  const vf y2 = quotient_vfp(x + 8, scale, zero), y3 = quotient_vfp(x + 12, scale, zero);
  const vi den = special_lanes(y0) | special_lanes(y1) | special_lanes(y2) | special_lanes(y3);
  if ((den[0] | den[1] | den[2] | den[3]) != 0) return quantize_16_vfp(x, k, out);
  const v16b o = pack_16(nearest_byte_neon(y0, k), nearest_byte_neon(y1, k),
                         nearest_byte_neon(y2, k), nearest_byte_neon(y3, k));
  std::memcpy(out, &o, sizeof o);
}
#endif

// Whole blocks. Not inlined: the entry calls it for the row and for a padded tail, and the loop
// holds its constants in registers.
LOWBIT_QOPS_ATTR __attribute__((noinline)) inline void quantize_blocks(const float* x,
                                                                       std::size_t blocks,
                                                                       const quantize_row_params& p,
                                                                       std::uint8_t* out) noexcept {
  const quantize_consts k{vf{} + p.scale, vf{} + p.zero, vf{} + p.lo, vf{} + p.hi,
                          p.out_add,      p.out_shift,   p.odd};
  for (std::size_t i = 0; i < blocks; ++i) quantize_16(x + i * block, k, out + i * block);
}

LOWBIT_QOPS_ENTRY void quantize_row(const float* x, std::size_t n, const quantize_row_params& p,
                                    std::uint8_t* out) noexcept {
  const std::size_t full = n / block, rest = n % block;
  quantize_blocks(x, full, p, out);
  if (rest != 0) {  // the tail through a zero-padded copy
    float xs[block] = {};
    std::uint8_t os[block];
    std::memcpy(xs, x + full * block, rest * sizeof(float));
    quantize_blocks(xs, 1, p, os);
    std::memcpy(out + full * block, os, rest);
  }
}

// Whether any byte of p[0..n) is invalid for the format (codes.hpp's code_of_byte).
LOWBIT_QOPS_INLINE vsbyte invalid_bytes(const std::uint8_t* p, const code_check& c) noexcept {
  vbyte x;
  std::memcpy(&x, p, sizeof x);
  const vbyte high = x & c.high;
  vsbyte bad = high != 0;
  if (c.sign_extension_ok)  // a negative int8 value: every high bit and the sign bit set
    bad &= ~((high == c.high) & ((x & c.sign) != 0));
  if (c.ternary) bad |= (x & 3) == 2;
  return bad;
}

LOWBIT_QOPS_ATTR __attribute__((noinline)) inline vsbyte invalid_blocks(
    const std::uint8_t* p, std::size_t blocks, const code_check& cr) noexcept {
  const code_check c = cr;
  vsbyte bad = vsbyte{};
  for (std::size_t i = 0; i < blocks; ++i) bad |= invalid_bytes(p + i * sizeof(vbyte), c);
  return bad;
}

LOWBIT_QOPS_ENTRY bool any_invalid(const std::uint8_t* p, std::size_t n,
                                   const code_check& c) noexcept {
  constexpr std::size_t w = sizeof(vbyte);
  const std::size_t full = n / w, rest = n % w;
  vsbyte bad = invalid_blocks(p, full, c);
  if (rest != 0) {
    std::uint8_t tail[w] = {};  // 0 is a valid code of every format
    std::memcpy(tail, p + full * w, rest);
    bad |= invalid_blocks(tail, 1, c);
  }
  std::uint64_t words[w / 8];
  std::memcpy(words, &bad, sizeof words);
  std::uint64_t any = 0;
  for (const std::uint64_t word : words) any |= word;
  return any != 0;
}

// x = scale * float(value - zero_point), the int32 arithmetic modulo 2^32 as the scalar code's.
// 16 codes per step whatever the register width: GCC 12 widens bytes to int32 lanes in one
// conversion only one lane at a time, but a full 16 bytes to uint16, then to uint32, with
// (v)pmovzx (uxtl on Arm); the rest is done a register at a time.
struct dequantize_consts {
  vu mask, sign, offset;
  std::uint32_t shift;
  vf scale;
};

LOWBIT_QOPS_INLINE void dequantize_part(const v16u& w, int j, const dequantize_consts& k,
                                        float* out) noexcept {
  vu u;
  std::memcpy(&u, reinterpret_cast<const char*>(&w) + j * sizeof(vu), sizeof u);
  u &= k.mask;
  u = ((u ^ k.sign) - k.sign) << k.shift;  // the value: sign-extended, doubled if odd-symmetric
  u += k.offset;                           // + beta - zero_point
  const vf x = __builtin_convertvector((vi)u, vf) * k.scale;
  std::memcpy(out + j * lanes, &x, sizeof x);
}

LOWBIT_QOPS_INLINE void dequantize_16(const std::uint8_t* codes, const dequantize_consts& k,
                                      float* out) noexcept {
  v16b b;
  std::memcpy(&b, codes, sizeof b);
  const v16u w = __builtin_convertvector(__builtin_convertvector(b, v16h), v16u);
  dequantize_part(w, 0, k, out);
  if (lanes < 16) dequantize_part(w, 1 % (16 / lanes), k, out);
  if (lanes < 8) {
    dequantize_part(w, 2 % (16 / lanes), k, out);
    dequantize_part(w, 3 % (16 / lanes), k, out);
  }
}

LOWBIT_QOPS_ATTR __attribute__((noinline)) inline void dequantize_blocks(
    const std::uint8_t* codes, std::size_t blocks, const dequantize_row_params& p,
    float* out) noexcept {
  const dequantize_consts k{vu{} + p.mask, vu{} + p.sign, vu{} + p.offset, p.shift, vf{} + p.scale};
  for (std::size_t i = 0; i < blocks; ++i) dequantize_16(codes + i * block, k, out + i * block);
}

LOWBIT_QOPS_ENTRY void dequantize_row(const std::uint8_t* codes, std::size_t n,
                                      const dequantize_row_params& p, float* out) noexcept {
  const std::size_t full = n / block, rest = n % block;
  dequantize_blocks(codes, full, p, out);
  if (rest != 0) {
    std::uint8_t cs[block] = {};
    float os[block];
    std::memcpy(cs, codes + full * block, rest);
    dequantize_blocks(cs, 1, p, os);
    std::memcpy(out + full * block, os, rest * sizeof(float));
  }
}

}  // namespace LOWBIT_QOPS_NS
}  // namespace detail
}  // namespace lowbit

#undef LOWBIT_QOPS_INLINE
#undef LOWBIT_QOPS_ENTRY
#undef LOWBIT_QOPS_NS
#undef LOWBIT_QOPS_ATTR
#undef LOWBIT_QOPS_LANES
#undef LOWBIT_QOPS_ARMV7_NEON
