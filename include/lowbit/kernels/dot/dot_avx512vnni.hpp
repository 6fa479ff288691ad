// lowbit: int8 dot-product kernel on AVX-512 VNNI (vpdpbusd on zmm).
//
// Panels: weights in the k4 layout, activations read in place (dot_pack_rows_ref in
// dot_pack_x86.hpp); activations as u8, weights as s8 = u - 128, so one kernel
// serves every cell up to w8a8 (the driver removes the offset from column sums). Per 4 values of
// K the 4 A bytes of row i are broadcast (a pure load) and vpdpbusd adds the 4 products of 16
// columns into int32 lanes with no intermediate saturation. int32 sums wrap mod 2^32, which is
// what S is defined as, so kc is limited only by the driver's blocking.
//
// Tile 8 x 32: 16 accumulators cover vpdpbusd's 5-cycle latency at 2 per cycle; per step 8
// broadcasts + 2 W loads feed 16 vpdpbusd (8 cycles): ceiling 128 MAC/cycle.
#pragma once

#if defined(__x86_64__)

#include <immintrin.h>

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "lowbit/kernels/dot/dot_pack_x86.hpp"
#include "lowbit/kernels/ukernel.hpp"

#define LOWBIT_TARGET_VNNI512 \
  __attribute__((             \
      target("popcnt,avx2,fma,bmi2,avx512f,avx512bw,avx512vl,avx512dq,avx512cd,avx512vnni")))

namespace lowbit {
namespace kernels {
namespace dot {

constexpr feature_set avx512vnni_dot_features = detail::x86_avx512vnni;

template <int MR, int NV>
struct dot_vnni_avx512 {
  static constexpr int L = 16;
  static constexpr int NR = NV * L;
  static constexpr int k_step = 4;
  static constexpr int w_offset = 128;        // the default; pack_weights may choose another
  static constexpr bool any_w_offset = true;  // s8 weights, no pair sums: no saturation limit
  static constexpr std::uint32_t kc_max = 1u << 20;  // int32 sums wrap mod 2^32: no bound

  using pack_a_t = dot_pack_rows_ref<MR>;  // A read in place (a copy only at edges)
  static constexpr bool a_in_place = true;
  static constexpr bool a_segments = true;  // also from segmented panels (conv2d's window rows)
  static constexpr bool a_checked = true;   // run_checked validates A as it reads it
  // perf, 3136 x 64 x 576: the packer is 0.3% of the call (it writes a header per block).
  static constexpr float a_pack_cycles = 0.02f;
  using pack_w_t = dot_pack_k4<NR, w_offset>;

  LOWBIT_TARGET_VNNI512 static void run(std::size_t kc, const void* a_panel, const void* w_panel,
                                        std::int32_t* c, std::size_t ldc,
                                        bool accumulate) noexcept {
    // Segmented panels have their own loop, kept out of this one (sharing a body cost the plain
    // GEMM 2-3%).
    if (__builtin_expect(pack_a_t::segmented(a_panel), 0))
      return run_segments(a_panel, w_panel, c, ldc, accumulate);
    typename pack_a_t::header h;
    std::memcpy(&h, a_panel, sizeof h);
    const auto* w = static_cast<const std::uint8_t*>(w_panel);
    const std::uint8_t* a = h.rows;
    const std::size_t kp = h.stride;
    const std::size_t nk = (kc + 3) / 4;
    __m512i acc[MR][NV];
#pragma GCC unroll 8
    for (int i = 0; i < MR; ++i)
#pragma GCC unroll 8
      for (int j = 0; j < NV; ++j) acc[i][j] = _mm512_setzero_si512();
    for (std::size_t s = 0; s < nk; ++s, a += 4, w += 4 * NR)
      step(acc, w, [&](int i) { return a + i * kp; });
    store(acc, c, ldc, accumulate);
  }

  // run() that also validates the panel's activations as it reads them: ORs every A byte of the
  // kc columns into one register (one full load per row and 64 columns, next to the 16 steps
  // that broadcast them) and returns whether any has a bit of `high` set, i.e. an invalid code of
  // a one-byte format. This replaces a separate pass over A before the kernel (about 9% of a
  // w2a2 GEMM at N = 64); the extra loads and ORs leave the vpdpbusd ports alone.
  LOWBIT_TARGET_VNNI512 static bool run_checked(std::size_t kc, const void* a_panel,
                                                const void* w_panel, std::int32_t* c,
                                                std::size_t ldc, bool accumulate,
                                                std::uint8_t high) noexcept {
    typename pack_a_t::header h;
    std::memcpy(&h, a_panel, sizeof h);
    if (__builtin_expect(h.segments != nullptr, 0)) {
      run_segments(a_panel, w_panel, c, ldc, accumulate);
      return segments_have_high(h, high);
    }
    const auto* w = static_cast<const std::uint8_t*>(w_panel);
    const std::uint8_t* a = h.rows;
    const std::size_t kp = h.stride;
    __m512i acc[MR][NV];
#pragma GCC unroll 8
    for (int i = 0; i < MR; ++i)
#pragma GCC unroll 8
      for (int j = 0; j < NV; ++j) acc[i][j] = _mm512_setzero_si512();
    __m512i seen = _mm512_setzero_si512();
    std::size_t k0 = 0;
    for (; k0 + 64 <= kc; k0 += 64) {
#pragma GCC unroll 8
      for (int i = 0; i < MR; ++i) seen = _mm512_or_si512(seen, _mm512_loadu_si512(a + i * kp));
#pragma GCC unroll 2
      for (int s = 0; s < 16; ++s, a += 4, w += 4 * NR)
        step(acc, w, [&](int i) { return a + i * kp; });
    }
    if (k0 < kc) {  // the last 1..63 columns: masked loads (no fault past the row)
      const __mmask64 live = (__mmask64{1} << (kc - k0)) - 1;
#pragma GCC unroll 8
      for (int i = 0; i < MR; ++i)
        seen = _mm512_or_si512(seen, _mm512_maskz_loadu_epi8(live, a + i * kp));
      for (std::size_t s = 0; s < (kc - k0 + 3) / 4; ++s, a += 4, w += 4 * NR)
        step(acc, w, [&](int i) { return a + i * kp; });
    }
    store(acc, c, ldc, accumulate);
    return _mm512_test_epi8_mask(seen, _mm512_set1_epi8(static_cast<char>(high))) != 0;
  }

 private:
  // Whether a segmented panel's runs hold a byte with a bit of `high` set.
  LOWBIT_TARGET_VNNI512 static bool segments_have_high(const typename pack_a_t::header& h,
                                                       std::uint8_t high) noexcept {
    __m512i seen = _mm512_setzero_si512();
    for (std::size_t g = 0; g < h.n_segments * MR; ++g)
      for (std::size_t x = 0; x < h.seg_bytes; x += 64) {
        const std::size_t left = h.seg_bytes - x;
        const __mmask64 live = left >= 64 ? ~__mmask64{0} : (__mmask64{1} << left) - 1;
        seen = _mm512_or_si512(seen, _mm512_maskz_loadu_epi8(live, h.segments[g] + x));
      }
    return _mm512_test_epi8_mask(seen, _mm512_set1_epi8(static_cast<char>(high))) != 0;
  }

  // The same steps over a segmented panel: each row's A pointer is reloaded per run of K.
  LOWBIT_TARGET_VNNI512 __attribute__((noinline)) static void run_segments(
      const void* a_panel, const void* w_panel, std::int32_t* c, std::size_t ldc,
      bool accumulate) noexcept {
    typename pack_a_t::header h;
    std::memcpy(&h, a_panel, sizeof h);
    const auto* w = static_cast<const std::uint8_t*>(w_panel);
    __m512i acc[MR][NV];
#pragma GCC unroll 8
    for (int i = 0; i < MR; ++i)
#pragma GCC unroll 8
      for (int j = 0; j < NV; ++j) acc[i][j] = _mm512_setzero_si512();
    const std::size_t run_bytes = h.seg_bytes;
    for (std::size_t g = 0; g < h.n_segments; ++g) {
      const std::uint8_t* rp[MR];
#pragma GCC unroll 8
      for (int i = 0; i < MR; ++i) rp[i] = h.segments[g * MR + static_cast<std::size_t>(i)];
      for (std::size_t s = 0; s < run_bytes; s += 4, w += 4 * NR)
        step(acc, w, [&](int i) { return rp[i] + s; });
    }
    store(acc, c, ldc, accumulate);
  }

  // One K step of 4: the NV weight vectors, then per row its 4 activation bytes (at row_at(i))
  // broadcast into NV vpdpbusd.
  template <class RowAt>
  LOWBIT_TARGET_VNNI512 __attribute__((always_inline)) static inline void step(
      __m512i (&acc)[MR][NV], const std::uint8_t* w, RowAt row_at) noexcept {
    __m512i wv[NV];
#pragma GCC unroll 8
    for (int j = 0; j < NV; ++j) wv[j] = _mm512_load_si512(w + 64 * j);
#pragma GCC unroll 8
    for (int i = 0; i < MR; ++i) {
      std::int32_t a4;
      std::memcpy(&a4, row_at(i), 4);
      const __m512i av = _mm512_set1_epi32(a4);
#pragma GCC unroll 8
      for (int j = 0; j < NV; ++j) acc[i][j] = _mm512_dpbusd_epi32(acc[i][j], av, wv[j]);
    }
  }

  LOWBIT_TARGET_VNNI512 __attribute__((always_inline)) static inline void store(
      __m512i (&acc)[MR][NV], std::int32_t* c, std::size_t ldc, bool accumulate) noexcept {
#pragma GCC unroll 8
    for (int i = 0; i < MR; ++i)
#pragma GCC unroll 8
      for (int j = 0; j < NV; ++j) {
        std::int32_t* ci = c + i * ldc + L * j;
        __m512i r = acc[i][j];
        if (accumulate) r = _mm512_add_epi32(r, _mm512_loadu_si512(ci));
        _mm512_storeu_si512(ci, r);
      }
  }
};

}  // namespace dot
}  // namespace kernels
}  // namespace lowbit

#undef LOWBIT_TARGET_VNNI512

#endif  // __x86_64__
