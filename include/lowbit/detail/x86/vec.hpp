// lowbit internal: x86 vector traits, one struct per register width, shared by the kernel
// families that write their bodies once over an `ops` struct (kernels/dot, kernels/lut) and by
// the driver's x86 rows (driver/x86).
//
// Each struct is the integer vocabulary the bodies use on that width: the vector type, the
// number of 32-bit lanes, loads and stores (aligned and not), broadcasts, lane-wise adds and
// subtracts, the 16-bit shifts by 8, pmaddubsw / pmaddwd and psadbw against zero; on the sse4
// and avx2 widths also 32-bit multiplies and the float lanes the driver's rows use
// (driver/x86/ops_body_x86-inl.hpp). A family's
// `ops` derives from the struct of its width and adds what only it needs (table lookups, pinned
// accumulations, dpbusd). Every function is always-inline with the smallest target that has its
// instructions, so it inlines into any body compiled for that level or a later one (GCC inlines
// a target-attributed function only into a caller whose target includes it).
//   sse4:   "ssse3,sse4.1" (pmaddubsw is SSSE3; nothing here needs more than SSE4.1)
//   avx2:   LOWBIT_X86_TARGET_AVX2
//   avx512: LOWBIT_X86_TARGET_AVX512 (F, BW, VL, DQ, CD)
// A new x86 level with a new register width adds its struct here.
#pragma once

#if defined(__x86_64__)

#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "lowbit/isa.hpp"

namespace lowbit {
namespace detail {
namespace x86 {

#define LOWBIT_VEC_SSE4 __attribute__((target("ssse3,sse4.1"), always_inline)) inline
#define LOWBIT_VEC_AVX2 __attribute__((target(LOWBIT_X86_TARGET_AVX2), always_inline)) inline
#define LOWBIT_VEC_AVX512 __attribute__((target(LOWBIT_X86_TARGET_AVX512), always_inline)) inline

struct vec_sse4 {
  using vec = __m128i;
  static constexpr int lanes = 4;  // 32-bit lanes
  LOWBIT_VEC_SSE4 static vec zero() noexcept { return _mm_setzero_si128(); }
  LOWBIT_VEC_SSE4 static vec load(const void* p) noexcept {
    return _mm_load_si128(static_cast<const vec*>(p));
  }
  LOWBIT_VEC_SSE4 static void store(void* p, vec v) noexcept {
    _mm_store_si128(static_cast<vec*>(p), v);
  }
  LOWBIT_VEC_SSE4 static vec loadu(const void* p) noexcept {
    return _mm_loadu_si128(static_cast<const vec*>(p));
  }
  LOWBIT_VEC_SSE4 static void storeu(void* p, vec v) noexcept {
    _mm_storeu_si128(static_cast<vec*>(p), v);
  }
  LOWBIT_VEC_SSE4 static vec bcast4(const void* p) noexcept {  // 4 bytes to every 32-bit lane
    std::int32_t v;
    std::memcpy(&v, p, 4);
    return _mm_set1_epi32(v);
  }
  LOWBIT_VEC_SSE4 static vec set16(short x) noexcept { return _mm_set1_epi16(x); }
  LOWBIT_VEC_SSE4 static vec ones16() noexcept { return _mm_set1_epi16(1); }
  LOWBIT_VEC_SSE4 static vec or_(vec a, vec b) noexcept { return _mm_or_si128(a, b); }
  LOWBIT_VEC_SSE4 static vec add16(vec a, vec b) noexcept { return _mm_add_epi16(a, b); }
  LOWBIT_VEC_SSE4 static vec sub16(vec a, vec b) noexcept { return _mm_sub_epi16(a, b); }
  LOWBIT_VEC_SSE4 static vec add32(vec a, vec b) noexcept { return _mm_add_epi32(a, b); }
  LOWBIT_VEC_SSE4 static vec add64(vec a, vec b) noexcept { return _mm_add_epi64(a, b); }
  LOWBIT_VEC_SSE4 static vec hi8(vec v) noexcept { return _mm_srli_epi16(v, 8); }
  LOWBIT_VEC_SSE4 static vec shl8(vec v) noexcept { return _mm_slli_epi16(v, 8); }
  LOWBIT_VEC_SSE4 static vec maddubs(vec a, vec b) noexcept { return _mm_maddubs_epi16(a, b); }
  LOWBIT_VEC_SSE4 static vec madd16(vec a, vec b) noexcept { return _mm_madd_epi16(a, b); }
  LOWBIT_VEC_SSE4 static vec sad(vec v) noexcept { return _mm_sad_epu8(v, _mm_setzero_si128()); }
  LOWBIT_VEC_SSE4 static vec set32(int x) noexcept { return _mm_set1_epi32(x); }
  LOWBIT_VEC_SSE4 static vec mullo32(vec a, vec b) noexcept { return _mm_mullo_epi32(a, b); }
  // Float lanes, as many as the 32-bit integer ones.
  using fvec = __m128;
  LOWBIT_VEC_SSE4 static fvec fset(float x) noexcept { return _mm_set1_ps(x); }
  LOWBIT_VEC_SSE4 static fvec floadu(const float* p) noexcept { return _mm_loadu_ps(p); }
  LOWBIT_VEC_SSE4 static void fstoreu(float* p, fvec v) noexcept { _mm_storeu_ps(p, v); }
  LOWBIT_VEC_SSE4 static fvec to_float(vec v) noexcept { return _mm_cvtepi32_ps(v); }
  LOWBIT_VEC_SSE4 static fvec fadd(fvec a, fvec b) noexcept { return _mm_add_ps(a, b); }
  LOWBIT_VEC_SSE4 static fvec fmul(fvec a, fvec b) noexcept { return _mm_mul_ps(a, b); }
  LOWBIT_VEC_SSE4 static fvec fmin(fvec a, fvec b) noexcept { return _mm_min_ps(a, b); }
  LOWBIT_VEC_SSE4 static fvec fmax(fvec a, fvec b) noexcept { return _mm_max_ps(a, b); }
};

struct vec_avx2 {
  using vec = __m256i;
  static constexpr int lanes = 8;
  LOWBIT_VEC_AVX2 static vec zero() noexcept { return _mm256_setzero_si256(); }
  LOWBIT_VEC_AVX2 static vec load(const void* p) noexcept {
    return _mm256_load_si256(static_cast<const vec*>(p));
  }
  LOWBIT_VEC_AVX2 static void store(void* p, vec v) noexcept {
    _mm256_store_si256(static_cast<vec*>(p), v);
  }
  LOWBIT_VEC_AVX2 static vec loadu(const void* p) noexcept {
    return _mm256_loadu_si256(static_cast<const vec*>(p));
  }
  LOWBIT_VEC_AVX2 static void storeu(void* p, vec v) noexcept {
    _mm256_storeu_si256(static_cast<vec*>(p), v);
  }
  LOWBIT_VEC_AVX2 static vec bcast4(const void* p) noexcept {
    std::int32_t v;
    std::memcpy(&v, p, 4);
    return _mm256_set1_epi32(v);
  }
  LOWBIT_VEC_AVX2 static vec set16(short x) noexcept { return _mm256_set1_epi16(x); }
  LOWBIT_VEC_AVX2 static vec ones16() noexcept { return _mm256_set1_epi16(1); }
  LOWBIT_VEC_AVX2 static vec or_(vec a, vec b) noexcept { return _mm256_or_si256(a, b); }
  LOWBIT_VEC_AVX2 static vec add16(vec a, vec b) noexcept { return _mm256_add_epi16(a, b); }
  LOWBIT_VEC_AVX2 static vec sub16(vec a, vec b) noexcept { return _mm256_sub_epi16(a, b); }
  LOWBIT_VEC_AVX2 static vec add32(vec a, vec b) noexcept { return _mm256_add_epi32(a, b); }
  LOWBIT_VEC_AVX2 static vec add64(vec a, vec b) noexcept { return _mm256_add_epi64(a, b); }
  LOWBIT_VEC_AVX2 static vec hi8(vec v) noexcept { return _mm256_srli_epi16(v, 8); }
  LOWBIT_VEC_AVX2 static vec shl8(vec v) noexcept { return _mm256_slli_epi16(v, 8); }
  LOWBIT_VEC_AVX2 static vec maddubs(vec a, vec b) noexcept { return _mm256_maddubs_epi16(a, b); }
  LOWBIT_VEC_AVX2 static vec madd16(vec a, vec b) noexcept { return _mm256_madd_epi16(a, b); }
  LOWBIT_VEC_AVX2 static vec sad(vec v) noexcept {
    return _mm256_sad_epu8(v, _mm256_setzero_si256());
  }
  LOWBIT_VEC_AVX2 static vec set32(int x) noexcept { return _mm256_set1_epi32(x); }
  LOWBIT_VEC_AVX2 static vec mullo32(vec a, vec b) noexcept { return _mm256_mullo_epi32(a, b); }
  using fvec = __m256;
  LOWBIT_VEC_AVX2 static fvec fset(float x) noexcept { return _mm256_set1_ps(x); }
  LOWBIT_VEC_AVX2 static fvec floadu(const float* p) noexcept { return _mm256_loadu_ps(p); }
  LOWBIT_VEC_AVX2 static void fstoreu(float* p, fvec v) noexcept { _mm256_storeu_ps(p, v); }
  LOWBIT_VEC_AVX2 static fvec to_float(vec v) noexcept { return _mm256_cvtepi32_ps(v); }
  LOWBIT_VEC_AVX2 static fvec fadd(fvec a, fvec b) noexcept { return _mm256_add_ps(a, b); }
  LOWBIT_VEC_AVX2 static fvec fmul(fvec a, fvec b) noexcept { return _mm256_mul_ps(a, b); }
  LOWBIT_VEC_AVX2 static fvec fmin(fvec a, fvec b) noexcept { return _mm256_min_ps(a, b); }
  LOWBIT_VEC_AVX2 static fvec fmax(fvec a, fvec b) noexcept { return _mm256_max_ps(a, b); }
};

struct vec_avx512 {
  using vec = __m512i;
  static constexpr int lanes = 16;
  LOWBIT_VEC_AVX512 static vec zero() noexcept { return _mm512_setzero_si512(); }
  LOWBIT_VEC_AVX512 static vec load(const void* p) noexcept { return _mm512_load_si512(p); }
  LOWBIT_VEC_AVX512 static void store(void* p, vec v) noexcept { _mm512_store_si512(p, v); }
  LOWBIT_VEC_AVX512 static vec loadu(const void* p) noexcept { return _mm512_loadu_si512(p); }
  LOWBIT_VEC_AVX512 static void storeu(void* p, vec v) noexcept { _mm512_storeu_si512(p, v); }
  LOWBIT_VEC_AVX512 static vec bcast4(const void* p) noexcept {
    std::int32_t v;
    std::memcpy(&v, p, 4);
    return _mm512_set1_epi32(v);
  }
  LOWBIT_VEC_AVX512 static vec set16(short x) noexcept { return _mm512_set1_epi16(x); }
  LOWBIT_VEC_AVX512 static vec set32(int x) noexcept { return _mm512_set1_epi32(x); }
  LOWBIT_VEC_AVX512 static vec ones16() noexcept { return _mm512_set1_epi16(1); }
  LOWBIT_VEC_AVX512 static vec or_(vec a, vec b) noexcept { return _mm512_or_si512(a, b); }
  LOWBIT_VEC_AVX512 static vec add8(vec a, vec b) noexcept { return _mm512_add_epi8(a, b); }
  LOWBIT_VEC_AVX512 static vec add16(vec a, vec b) noexcept { return _mm512_add_epi16(a, b); }
  LOWBIT_VEC_AVX512 static vec sub16(vec a, vec b) noexcept { return _mm512_sub_epi16(a, b); }
  LOWBIT_VEC_AVX512 static vec add32(vec a, vec b) noexcept { return _mm512_add_epi32(a, b); }
  LOWBIT_VEC_AVX512 static vec sub32(vec a, vec b) noexcept { return _mm512_sub_epi32(a, b); }
  LOWBIT_VEC_AVX512 static vec add64(vec a, vec b) noexcept { return _mm512_add_epi64(a, b); }
  LOWBIT_VEC_AVX512 static vec hi8(vec v) noexcept { return _mm512_srli_epi16(v, 8); }
  LOWBIT_VEC_AVX512 static vec shl8(vec v) noexcept { return _mm512_slli_epi16(v, 8); }
  LOWBIT_VEC_AVX512 static vec maddubs(vec a, vec b) noexcept { return _mm512_maddubs_epi16(a, b); }
  LOWBIT_VEC_AVX512 static vec madd16(vec a, vec b) noexcept { return _mm512_madd_epi16(a, b); }
  LOWBIT_VEC_AVX512 static vec sad(vec v) noexcept { return _mm512_sad_epu8(v, zero()); }
};

#undef LOWBIT_VEC_SSE4
#undef LOWBIT_VEC_AVX2
#undef LOWBIT_VEC_AVX512

}  // namespace x86
}  // namespace detail
}  // namespace lowbit

#endif  // __x86_64__
