// lowbit: int8 dot-product kernel on AMX (TDPBUSD on 16 x 64-byte tiles), Sapphire Rapids and
// later.
//
// Panels are the AVX-512 VNNI kernel's: weights in the k4 layout with NR = 32 (128 bytes per 4
// values of K: 32 columns x 4 bytes), stored as s8 = u - w_offset (pack_weights may choose the
// offset, as for vpdpbusd); activations as u8 read in place (dot_pack_rows_ref: a row pointer
// and stride; copies only at edges). TDPBUSD is vpdpbusd on tiles: C[m][n] += sum of 4 u8 x s8
// products A[m][4k..4k+3] * B[k][4n..4n+3], added to the int32 lane with no saturation, so int32
// sums wrap mod 2^32, which is what S is defined as; kc is limited only by the driver's blocking.
//
// Per 64 values of K: A tile t = 16 rows x 64 bytes at the rows' stride; B tile j = 16 k4-rows x
// 64 bytes (columns 16j..16j+15) at stride 128 in the panel; 2 x 2 C tiles of 16 x 16 int32, so
// the kernel's tile is 32 x 32 (a 16 x 32 one, 2 loads per 2 TDPBUSD, ran at two thirds of its
// rate: docs/performance.md). The K tail (kc not a multiple of 64) is copied, zero-padded, into
// stack tiles: nothing reads past a row or past the panel.
//
// Tile configuration (palette 1, every tile used 16 rows x 64 bytes) is per thread. Each call
// stores the current one (sttilecfg, about 5 ns here) and loads its own only when it differs,
// since another library may have configured or released the tiles in between (ldtilecfg costs
// about 50 ns with the release). The calling thread is left with this configuration and its
// tiles in use: no tilerelease, which would make every call pay the load again (a 32 x 32 tile
// over K = 576 takes about 200 ns). The cost of leaving them is the 8 KiB of tile state the OS
// saves on a context switch of this thread, until it exits or something else releases them.
#pragma once

#if defined(__x86_64__)

#include <immintrin.h>

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "lowbit/isa.hpp"
#include "lowbit/kernels/dot/dot_avx512vnni.hpp"
#include "lowbit/kernels/dot/dot_pack_x86.hpp"
#include "lowbit/kernels/ukernel.hpp"

// Entry points carry the AMX target (their features, dot_x86.hpp's descriptor). The bodies
// carry AVX-512 VNNI's: the tile instructions are inline asm, which needs no target, and so
// they inline into avx512vnni::group_tile (run_grouped), whose ops have that target.
#define LOWBIT_AMX_ENTRY __attribute__((target(LOWBIT_X86_TARGET_AMX_INT8)))
#define LOWBIT_AMX_OP __attribute__((target(LOWBIT_X86_TARGET_AVX512VNNI), always_inline)) inline

// The tile instructions as inline asm (AT&T operand order) with a memory clobber. Not the
// compilers' intrinsics: GCC 12's tileloadd / tilestored asm names no memory operand (the
// compiler may drop or move the stores that fill a stack tile), and its ldtilecfg / sttilecfg
// declare 8 of the 64 bytes they access.
// clang-format off
#define LOWBIT_TILE_LOAD(t, base, stride)                        \
  __asm__ volatile("tileloadd (%0,%1,1), %%tmm" #t                \
                   :: "r"(base), "r"(std::size_t{stride}) : "memory")
#define LOWBIT_TILE_STORE(t, base, stride)                       \
  __asm__ volatile("tilestored %%tmm" #t ", (%0,%1,1)"            \
                   :: "r"(base), "r"(std::size_t{stride}) : "memory")
// clang-format on
#define LOWBIT_TILE_ZERO(t) __asm__ volatile("tilezero %%tmm" #t ::)
// C[t] += A[a] . B[b]: u8 x s8 groups of 4 into int32 lanes.
#define LOWBIT_TILE_DPBUSD(t, a, b) \
  __asm__ volatile("tdpbusd %%tmm" #b ", %%tmm" #a ", %%tmm" #t ::)

namespace lowbit {
namespace kernels {
namespace dot {
namespace amx {

constexpr feature_set features = detail::target_features(LOWBIT_X86_TARGET_AMX_INT8);

// ldtilecfg's 64-byte operand.
struct alignas(64) tile_config {
  std::uint8_t palette = 1, start_row = 0, reserved[14] = {};
  std::uint16_t colsb[16] = {64, 64, 64, 64, 64, 64, 64, 64};  // tiles 0..7: 64 bytes a row
  std::uint8_t rows[16] = {16, 16, 16, 16, 16, 16, 16, 16};    // and 16 rows
};
static_assert(sizeof(tile_config) == 64, "ldtilecfg reads 64 bytes");

// Makes sure this thread's tiles are configured as tile_config says (see the file comment).
LOWBIT_AMX_OP void configure_tiles() noexcept {
  alignas(64) static const tile_config want{};
  alignas(64) std::uint8_t now[64];
  __asm__ volatile("sttilecfg %0" : "=m"(now));
  const __m512i a = _mm512_load_si512(now);
  const __m512i b = _mm512_load_si512(&want);
  if (_mm512_cmpneq_epi64_mask(a, b) != 0) __asm__ volatile("ldtilecfg %0" ::"m"(want));
}

// The 32 x 32 tile: C in tiles 0..3 (rows 16t.., columns 16j.. in tmm(2t + j)), A in 4 and 5,
// B in 6 and 7: all eight tiles, 4 loads per 4 TDPBUSD.
struct dot_amx {
  static constexpr int MR = 32, NR = 32;
  static constexpr int k_step = 4;
  static constexpr std::uint32_t kc_max = 1u << 20;  // int32 sums wrap mod 2^32: no bound
  static constexpr int w_offset = 128;               // the default; pack_weights may choose
  static constexpr bool any_w_offset = true;         // s8 weights, no pair sums
  using pack_a_t = dot_pack_rows_ref<MR>;            // A read in place (a copy only at edges)
  using pack_w_t = dot_pack_k4<NR, w_offset>;
  static constexpr bool a_in_place = true;
  static constexpr bool a_checked = true;
  static constexpr float a_pack_cycles = 0.02f;  // a header per block, as the VNNI kernel's

  LOWBIT_AMX_ENTRY static void run(std::size_t kc, const void* a_panel, const void* w_panel,
                                   std::int32_t* c, std::size_t ldc, bool accumulate) noexcept {
    configure_tiles();
    tiles(kc, a_panel, w_panel, c, ldc, accumulate);
  }

  // ukernel.hpp's run_grouped through the VNNI kernel's body (avx512vnni::group_tile: the same
  // terms, scales and float accumulation), whose int32 accumulators sums_onto adds each group's
  // tiles onto.
  static constexpr bool grouped = true;
  static constexpr bool grouped_finish = true;
  LOWBIT_AMX_ENTRY static void run_grouped(const group_args& ga) noexcept {
    configure_tiles();
    avx512vnni::group_tile<avx512vnni::ops, MR, 2>::template run<dot_amx>(ga);
  }

  // The panels' sums over kc added onto acc (the tiles configured by the caller): computed in
  // the tiles, stored to the stack and added (run_grouped's groups).
  LOWBIT_AMX_OP static void sums_onto(std::size_t kc, const void* a_panel, const void* w_panel,
                                      __m512i (&acc)[MR][2]) noexcept {
    alignas(64) std::int32_t s[MR * NR];
    tiles(kc, a_panel, w_panel, s, NR, false);
#pragma GCC unroll 8
    for (int i = 0; i < MR; ++i)
#pragma GCC unroll 2
      for (int j = 0; j < 2; ++j)
        acc[i][j] = _mm512_add_epi32(acc[i][j], _mm512_load_si512(s + NR * i + 16 * j));
  }

  // run() once the tiles are configured.
  LOWBIT_AMX_OP static void tiles(std::size_t kc, const void* a_panel, const void* w_panel,
                                  std::int32_t* c, std::size_t ldc, bool accumulate) noexcept {
    typename pack_a_t::header h;
    std::memcpy(&h, a_panel, sizeof h);
    const std::size_t ldcb = ldc * sizeof(std::int32_t);
    if (accumulate) {
      LOWBIT_TILE_LOAD(0, c, ldcb);
      LOWBIT_TILE_LOAD(1, c + 16, ldcb);
      LOWBIT_TILE_LOAD(2, c + 16 * ldc, ldcb);
      LOWBIT_TILE_LOAD(3, c + 16 * ldc + 16, ldcb);
    } else {
      LOWBIT_TILE_ZERO(0);
      LOWBIT_TILE_ZERO(1);
      LOWBIT_TILE_ZERO(2);
      LOWBIT_TILE_ZERO(3);
    }
    const auto* w = static_cast<const std::uint8_t*>(w_panel);
    const std::uint8_t* a = h.rows;
    const std::size_t lda = h.stride;
    std::size_t k0 = 0;
    for (; k0 + 64 <= kc; k0 += 64, w += 16 * 128) step(a + k0, lda, w, 128);
    if (k0 < kc) {
      // The last 1..63 values of K: A's live bytes and B's live k4-rows copied into zeroed
      // stack tiles (A's zero columns meet B's zero rows).
      alignas(64) std::uint8_t ta[MR * 64];
      alignas(64) std::uint8_t tb[16 * 128];
      const std::size_t tail = kc - k0, b_rows = (tail + 3) / 4;
      const __mmask64 live = (__mmask64{1} << tail) - 1;
#pragma GCC unroll 4
      for (int i = 0; i < MR; ++i)
        _mm512_store_si512(ta + 64 * i, _mm512_maskz_loadu_epi8(live, a + i * lda + k0));
      for (std::size_t r = 0; r < 16; ++r) {
        const bool in = r < b_rows;
        _mm512_store_si512(tb + 128 * r,
                           in ? _mm512_loadu_si512(w + 128 * r) : _mm512_setzero_si512());
        _mm512_store_si512(tb + 128 * r + 64,
                           in ? _mm512_loadu_si512(w + 128 * r + 64) : _mm512_setzero_si512());
      }
      step(ta, 64, tb, 128);
    }
    LOWBIT_TILE_STORE(0, c, ldcb);
    LOWBIT_TILE_STORE(1, c + 16, ldcb);
    LOWBIT_TILE_STORE(2, c + 16 * ldc, ldcb);
    LOWBIT_TILE_STORE(3, c + 16 * ldc + 16, ldcb);
  }

  // run() that also reports whether any activation byte of the panel's rows (kc columns) has a
  // bit of `high` set: the rows are ORed first (one 64-byte load per row and 64 columns, masked
  // at the tail), then the tiles run on the same rows, now in L1.
  LOWBIT_AMX_ENTRY static bool run_checked(std::size_t kc, const void* a_panel, const void* w_panel,
                                           std::int32_t* c, std::size_t ldc, bool accumulate,
                                           std::uint8_t high) noexcept {
    typename pack_a_t::header h;
    std::memcpy(&h, a_panel, sizeof h);
    __m512i seen = _mm512_setzero_si512();
    for (std::size_t k0 = 0; k0 < kc; k0 += 64) {
      const std::size_t left = kc - k0;
      const __mmask64 live = left >= 64 ? ~__mmask64{0} : (__mmask64{1} << left) - 1;
#pragma GCC unroll 8
      for (int i = 0; i < MR; ++i)
        seen = _mm512_or_si512(seen, _mm512_maskz_loadu_epi8(live, h.rows + i * h.stride + k0));
    }
    run(kc, a_panel, w_panel, c, ldc, accumulate);
    return _mm512_test_epi8_mask(seen, _mm512_set1_epi8(static_cast<char>(high))) != 0;
  }

 private:
  // 64 values of K: A tiles from a (rows at lda), B tiles from w (k4-rows at ldb), into C.
  LOWBIT_AMX_OP static void step(const std::uint8_t* a, std::size_t lda, const std::uint8_t* w,
                                 std::size_t ldb) noexcept {
    LOWBIT_TILE_LOAD(6, w, ldb);
    LOWBIT_TILE_LOAD(7, w + 64, ldb);
    LOWBIT_TILE_LOAD(4, a, lda);
    LOWBIT_TILE_DPBUSD(0, 4, 6);
    LOWBIT_TILE_DPBUSD(1, 4, 7);
    LOWBIT_TILE_LOAD(5, a + 16 * lda, lda);
    LOWBIT_TILE_DPBUSD(2, 5, 6);
    LOWBIT_TILE_DPBUSD(3, 5, 7);
  }
};

}  // namespace amx
}  // namespace dot
}  // namespace kernels
}  // namespace lowbit

#undef LOWBIT_AMX_ENTRY
#undef LOWBIT_AMX_OP
#undef LOWBIT_TILE_LOAD
#undef LOWBIT_TILE_STORE
#undef LOWBIT_TILE_ZERO
#undef LOWBIT_TILE_DPBUSD

#endif  // __x86_64__
