// lowbit: what the x86 bitplane kernels share outside their tile loops: their target strings,
// reading a plane_runs_panel (conv2d's bit-plane image, read in place) and storing the 64-bit lane
// totals as int32 C. The tile kernels here and the bitplane GEMV kernels (kernels/gemv) keep one
// lane per column, so every total is C[i][j] itself and only its low 32 bits are kept (S is mod
// 2^32).
#pragma once

#if defined(__x86_64__)

#include <immintrin.h>

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "lowbit/isa.hpp"
#include "lowbit/kernels/ukernel.hpp"

// The target strings of the x86 bitplane kernels: AVX2 (popcounts by nibble lookup) and the
// avx512 level with VPOPCNTDQ (not the rest of avx512icl); the features their descriptors
// declare are read back from these strings, so code and descriptors agree.
#define LOWBIT_BITPLANE_TARGET_AVX2 LOWBIT_X86_TARGET_AVX2
#define LOWBIT_BITPLANE_TARGET_AVX512 LOWBIT_X86_TARGET_AVX512 ",avx512vpopcntdq"

namespace lowbit {
namespace kernels {
namespace bitplane {

constexpr feature_set avx2_bitplane_features = detail::target_features(LOWBIT_BITPLANE_TARGET_AVX2);
constexpr feature_set avx512icl_bitplane_features =
    detail::target_features(LOWBIT_BITPLANE_TARGET_AVX512);
static_assert(avx2_bitplane_features == detail::x86_avx2, "the avx2 level");
static_assert(avx512icl_bitplane_features ==
                  (detail::x86_avx512 | bit(cpu_feature::avx512vpopcntdq)),
              "within the avx512icl level");

// A plane_runs_panel's header into h, and its table of run pointers.
inline const std::uint8_t* const* read_plane_runs(const void* panel, plane_runs_panel& h) noexcept {
  std::memcpy(&h, panel, sizeof h);
  return plane_runs_panel::table(panel);
}
// The words a run of planes points at.
inline const std::uint64_t* plane_words(const std::uint8_t* run) noexcept {
  return reinterpret_cast<const std::uint64_t*>(run);
}

// The low 32 bits of the 64-bit lanes of t, in column order, to c (4 columns from a ymm, 8 from a
// zmm), added to what c holds when accumulate. Always-inline with the smallest target that has
// the instructions, so it inlines into the AVX2 and the AVX-512 kernels alike.
__attribute__((target(LOWBIT_X86_TARGET_AVX2), always_inline)) inline void store_low32(
    std::int32_t* c, __m256i t, bool accumulate) noexcept {
  __m128i r = _mm256_castsi256_si128(
      _mm256_permutevar8x32_epi32(t, _mm256_setr_epi32(0, 2, 4, 6, 0, 2, 4, 6)));
  auto* ci = reinterpret_cast<__m128i*>(c);
  if (accumulate) r = _mm_add_epi32(r, _mm_loadu_si128(ci));
  _mm_storeu_si128(ci, r);
}

__attribute__((target(LOWBIT_X86_TARGET_AVX512), always_inline)) inline void store_low32(
    std::int32_t* c, __m512i t, bool accumulate) noexcept {
  // The masked form with an explicit pass-through avoids GCC 12's -Wuninitialized on the plain
  // intrinsic's undefined operand.
  __m256i r = _mm512_mask_cvtepi64_epi32(_mm256_setzero_si256(), 0xFF, t);
  auto* ci = reinterpret_cast<__m256i*>(c);
  if (accumulate) r = _mm256_add_epi32(r, _mm256_loadu_si256(ci));
  _mm256_storeu_si256(ci, r);
}

}  // namespace bitplane
}  // namespace kernels
}  // namespace lowbit

#endif  // __x86_64__
