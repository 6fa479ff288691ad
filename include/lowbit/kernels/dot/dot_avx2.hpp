// lowbit: int8 dot-product kernels on AVX2 (vpmaddubsw / vpmaddwd on ymm): the vector ops of
// dot_body_x86-inl.hpp on ymm, and the kernels it then defines in namespace dot::avx2
// (dot_maddubs, dot_madd16; registered in dot_x86.hpp).
//
// 3 ops per 32 MACs (8-bit), 2 per 32 (low-bit), 2 per 16 (w8a8). Tiles 4 x 16: 8 accumulators
// + 2 W + 1 broadcast + constants fit 16 ymm.
#pragma once

#if defined(__x86_64__)

#include <immintrin.h>

#include <cstddef>
#include <cstdint>

#include "lowbit/detail/x86/vec.hpp"

#define LOWBIT_DOT_NS avx2
#define LOWBIT_DOT_TARGET LOWBIT_X86_TARGET_AVX2
#include "lowbit/kernels/dot/dot_body_x86-inl.hpp"

namespace lowbit::kernels::dot::avx2 {

struct ops : detail::x86::vec_avx2 {
  // The per-group epilogue (group_tile): float lanes, column masks as lane masks, gathers.
  static constexpr bool group_ops = true;
  using fvec = __m256;
  using cmask = __m256i;
  LOWBIT_DOT_OP static cmask col_mask(std::size_t left) noexcept {
    const int n = left >= 8 ? 8 : static_cast<int>(left);
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), iota());
  }
  LOWBIT_DOT_OP static vec iota() noexcept { return _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7); }
  LOWBIT_DOT_OP static vec set1(std::int32_t x) noexcept { return _mm256_set1_epi32(x); }
  LOWBIT_DOT_OP static vec mullo(vec a, vec b) noexcept { return _mm256_mullo_epi32(a, b); }
  LOWBIT_DOT_OP static fvec gather_f(cmask m, vec idx, const float* base) noexcept {
    return _mm256_mask_i32gather_ps(_mm256_setzero_ps(), base, idx, _mm256_castsi256_ps(m), 4);
  }
  LOWBIT_DOT_OP static fvec fzero() noexcept { return _mm256_setzero_ps(); }
  LOWBIT_DOT_OP static fvec cvt(vec v) noexcept { return _mm256_cvtepi32_ps(v); }
  LOWBIT_DOT_OP static fvec fmul(fvec a, fvec b) noexcept { return _mm256_mul_ps(a, b); }
  LOWBIT_DOT_OP static fvec fadd(fvec a, fvec b) noexcept { return _mm256_add_ps(a, b); }
  // The product as an opaque register value: no FMA with the add that follows.
  LOWBIT_DOT_OP static fvec unfused(fvec v) noexcept {
    __asm__("" : "+x"(v));
    return v;
  }
  LOWBIT_DOT_OP static fvec fset1(float x) noexcept { return _mm256_set1_ps(x); }
  // b where a > b is false (b when either is NaN).
  LOWBIT_DOT_OP static fvec fmax(fvec a, fvec b) noexcept { return _mm256_max_ps(a, b); }
  // b where a < b is false.
  LOWBIT_DOT_OP static fvec fmin(fvec a, fvec b) noexcept { return _mm256_min_ps(a, b); }
  LOWBIT_DOT_OP static fvec floadu(const float* p) noexcept { return _mm256_loadu_ps(p); }
  LOWBIT_DOT_OP static void fstoreu(float* p, fvec v) noexcept { _mm256_storeu_ps(p, v); }
};

}  // namespace lowbit::kernels::dot::avx2

#include "lowbit/kernels/dot/dot_end_x86-inl.hpp"

#endif  // __x86_64__
