// lowbit: int8 dot-product kernel on AVX-512 VNNI (vpdpbusd on zmm): AVX-512's vector ops plus
// _mm512_dpbusd_epi32, and a kernel that reads A in place (dot_vnni_rows, registered in
// dot_x86.hpp) built from dot_body_x86-inl.hpp's tile steps in namespace dot::avx512vnni.
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

#include "lowbit/kernels/dot/dot_avx512.hpp"

#define LOWBIT_DOT_NS avx512vnni
#define LOWBIT_DOT_TARGET LOWBIT_X86_TARGET_AVX512VNNI
#include "lowbit/kernels/dot/dot_body_x86-inl.hpp"

namespace lowbit::kernels::dot::avx512vnni {

// AVX-512's ops (their target is a subset of this one, so they inline here) and vpdpbusd.
struct ops : avx512::ops {
  LOWBIT_DOT_OP static vec dpbusd(vec acc, vec a, vec b) noexcept {
    return _mm512_dpbusd_epi32(acc, a, b);
  }
};

// dot_vnni (its constants and W panels) with A read in place.
template <int MR, int NV>
struct dot_vnni_rows : dot_vnni<ops, MR, NV> {
  using tile = dot_tile<ops, MR, NV>;
  using vnni = mac_dpbusd<ops>;
  static constexpr int NR = tile::NR;

  using pack_a_t = dot_pack_rows_ref<MR>;  // A read in place (a copy only at edges)
  static constexpr bool a_in_place = true;
  // Also through run tables of codes (conv2d's window rows), read in place.
  static constexpr a_runs_contract a_runs() noexcept { return pack_a_t::runs_contract(); }
  static constexpr bool a_checked = true;  // run_checked validates A as it reads it
  // perf, 3136 x 64 x 576: the packer is 0.3% of the call (it writes a header per block).
  static constexpr float a_pack_cycles = 0.02f;

  LOWBIT_DOT_ENTRY static void run(std::size_t kc, const void* a_panel, const void* w_panel,
                                   std::int32_t* c, std::size_t ldc, bool accumulate) noexcept {
    // Segmented panels have their own loop, kept out of this one (sharing a body cost the plain
    // GEMM 2-3%).
    if (__builtin_expect(pack_a_t::segmented(a_panel), 0))
      return run_segments(a_panel, w_panel, c, ldc, accumulate);
    __m512i acc[MR][NV];
    tile::zero(acc);
    sums_onto(kc, a_panel, w_panel, acc);
    tile::store(acc, c, ldc, accumulate);
  }

  // The exact sums of a panel of rows read in place, added onto acc (run's, and run_grouped's
  // groups: the driver packs grouped blocks from rows, never from segments).
  LOWBIT_DOT_OP static void sums_onto(std::size_t kc, const void* a_panel, const void* w_panel,
                                      __m512i (&acc)[MR][NV]) noexcept {
    typename pack_a_t::header h;
    std::memcpy(&h, a_panel, sizeof h);
    const auto* w = static_cast<const std::uint8_t*>(w_panel);
    const std::uint8_t* a = h.rows;
    const std::size_t kp = h.stride;
    const std::size_t nk = (kc + 3) / 4;
    const auto row = [&](int i) { return a + i * kp; };
    for (std::size_t s = 0; s < nk; ++s, a += 4, w += 4 * NR) tile::step(acc, w, row, vnni{});
  }
  LOWBIT_DOT_ENTRY static void run_grouped(const group_args& ga) noexcept {
    group_tile<ops, MR, NV>::template run<dot_vnni_rows>(ga);
  }

  // run() that also validates the panel's activations as it reads them: ORs every A byte of the
  // kc columns into one register (one full load per row and 64 columns, next to the 16 steps
  // that broadcast them) and returns whether any has a bit of `high` set, i.e. an invalid code of
  // a one-byte format. This replaces a separate pass over A before the kernel (about 9% of a
  // w2a2 GEMM at N = 64); the extra loads and ORs leave the vpdpbusd ports alone.
  LOWBIT_DOT_ENTRY static bool run_checked(std::size_t kc, const void* a_panel, const void* w_panel,
                                           std::int32_t* c, std::size_t ldc, bool accumulate,
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
    tile::zero(acc);
    __m512i seen = _mm512_setzero_si512();
    const auto row = [&](int i) { return a + i * kp; };
    std::size_t k0 = 0;
    for (; k0 + 64 <= kc; k0 += 64) {
#pragma GCC unroll 8
      for (int i = 0; i < MR; ++i) seen = _mm512_or_si512(seen, _mm512_loadu_si512(a + i * kp));
#pragma GCC unroll 2
      for (int s = 0; s < 16; ++s, a += 4, w += 4 * NR) tile::step(acc, w, row, vnni{});
    }
    if (k0 < kc) {  // the last 1..63 columns: masked loads (no fault past the row)
      const __mmask64 live = (__mmask64{1} << (kc - k0)) - 1;
#pragma GCC unroll 8
      for (int i = 0; i < MR; ++i)
        seen = _mm512_or_si512(seen, _mm512_maskz_loadu_epi8(live, a + i * kp));
      for (std::size_t s = 0; s < (kc - k0 + 3) / 4; ++s, a += 4, w += 4 * NR)
        tile::step(acc, w, row, vnni{});
    }
    tile::store(acc, c, ldc, accumulate);
    return _mm512_test_epi8_mask(seen, _mm512_set1_epi8(static_cast<char>(high))) != 0;
  }

 private:
  // Whether a segmented panel's runs hold a byte with a bit of `high` set.
  LOWBIT_DOT_ENTRY static bool segments_have_high(const typename pack_a_t::header& h,
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
  LOWBIT_DOT_ENTRY __attribute__((noinline)) static void run_segments(const void* a_panel,
                                                                      const void* w_panel,
                                                                      std::int32_t* c,
                                                                      std::size_t ldc,
                                                                      bool accumulate) noexcept {
    typename pack_a_t::header h;
    std::memcpy(&h, a_panel, sizeof h);
    const auto* w = static_cast<const std::uint8_t*>(w_panel);
    __m512i acc[MR][NV];
    tile::zero(acc);
    const std::size_t run_bytes = h.seg_bytes;
    for (std::size_t g = 0; g < h.n_segments; ++g) {
      const std::uint8_t* rp[MR];
#pragma GCC unroll 8
      for (int i = 0; i < MR; ++i) rp[i] = h.segments[g * MR + static_cast<std::size_t>(i)];
      std::size_t s = 0;
      const auto row = [&](int i) { return rp[i] + s; };
      for (; s < run_bytes; s += 4, w += 4 * NR) tile::step(acc, w, row, vnni{});
    }
    tile::store(acc, c, ldc, accumulate);
  }
};

}  // namespace lowbit::kernels::dot::avx512vnni

#include "lowbit/kernels/dot/dot_end_x86-inl.hpp"

#endif  // __x86_64__
