// lowbit: int8 dot-product kernels on AVX-512BW without VNNI (vpmaddubsw / vpmaddwd on zmm): the
// vector ops of dot_body_x86-inl.hpp on zmm, and the kernels it then defines in namespace
// dot::avx512 (dot_maddubs, dot_madd16; registered in dot_x86.hpp).
//
// 3 ops per 64 MACs (8-bit), 2 per 64 (low-bit), 2 per 32 (w8a8). Tiles 8 x 32: 16 accumulators
// (+ 16 int16 partial sums in the low-bit variant, whose int32 sums then live in memory) + 2 W
// + 1 broadcast fit 32 zmm.
#pragma once

#if defined(__x86_64__)

#include <immintrin.h>

#include <cstddef>
#include <cstdint>

#include "lowbit/detail/x86/vec.hpp"

#define LOWBIT_DOT_NS avx512
#define LOWBIT_DOT_TARGET LOWBIT_X86_TARGET_AVX512
#include "lowbit/kernels/dot/dot_body_x86-inl.hpp"

namespace lowbit::kernels::dot::avx512 {

struct ops : detail::x86::vec_avx512 {
  // The per-group epilogue (group_tile): float lanes, column masks as mask registers, gathers.
  // (Masked forms with an explicit source: GCC 12 warns on the plain ones' undefined operand.)
  static constexpr bool group_ops = true;
  using fvec = __m512;
  using cmask = __mmask16;
  LOWBIT_DOT_OP static cmask col_mask(std::size_t left) noexcept {
    return left >= 16 ? cmask(0xFFFF) : cmask((1u << left) - 1);
  }
  LOWBIT_DOT_OP static vec iota() noexcept {
    return _mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0);
  }
  LOWBIT_DOT_OP static vec set1(std::int32_t x) noexcept { return _mm512_set1_epi32(x); }
  LOWBIT_DOT_OP static vec mullo(vec a, vec b) noexcept { return _mm512_mullo_epi32(a, b); }
  LOWBIT_DOT_OP static fvec gather_f(cmask m, vec idx, const float* base) noexcept {
    return _mm512_mask_i32gather_ps(_mm512_setzero_ps(), m, idx, base, 4);
  }
  LOWBIT_DOT_OP static fvec fzero() noexcept { return _mm512_setzero_ps(); }
  LOWBIT_DOT_OP static fvec cvt(vec v) noexcept { return _mm512_maskz_cvtepi32_ps(0xFFFF, v); }
  LOWBIT_DOT_OP static fvec fmul(fvec a, fvec b) noexcept { return _mm512_mul_ps(a, b); }
  LOWBIT_DOT_OP static fvec fadd(fvec a, fvec b) noexcept { return _mm512_add_ps(a, b); }
  // The product as an opaque register value: no FMA with the add that follows.
  LOWBIT_DOT_OP static fvec unfused(fvec v) noexcept {
    __asm__("" : "+v"(v));
    return v;
  }
  LOWBIT_DOT_OP static fvec fset1(float x) noexcept { return _mm512_set1_ps(x); }
  // b where a > b is false (b when either is NaN); the masked form: see above.
  LOWBIT_DOT_OP static fvec fmax(fvec a, fvec b) noexcept {
    return _mm512_maskz_max_ps(0xFFFF, a, b);
  }
  // b where a < b is false.
  LOWBIT_DOT_OP static fvec fmin(fvec a, fvec b) noexcept {
    return _mm512_maskz_min_ps(0xFFFF, a, b);
  }
  LOWBIT_DOT_OP static fvec floadu(const float* p) noexcept { return _mm512_loadu_ps(p); }
  LOWBIT_DOT_OP static void fstoreu(float* p, fvec v) noexcept { _mm512_storeu_ps(p, v); }
};

}  // namespace lowbit::kernels::dot::avx512

#include "lowbit/kernels/dot/dot_end_x86-inl.hpp"

#endif  // __x86_64__
