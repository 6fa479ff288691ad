// lowbit: lookup-table kernels on AVX-512 VBMI (vpermb: 64-entry tables, vpermi2b: 128): the
// AVX-512BW ops of lut_avx512bw.hpp with these lookups, and the kernels lut_body_x86-inl.hpp then
// defines in namespace lut::avx512vbmi (actsum_nv1, product; registered in lut_x86.hpp).
//
// - actsum_nv1: one vpermb looks up 64 index bytes (64 columns, or 32 columns x 2 weight digits)
//   in the 64-byte table of one (row, group of G k), so with 6 index bits it does 6 (w1), 3 (w2),
//   2 (w3) or 1.5 (w4, two digits) MACs per byte. The table is vpermb's memory operand. Tile
//   MR x NR with NR = 64 (32 for two digits): 26 of the 32 zmm at MR = 8, no spills. Ceiling
//   (lookup + add on ports 0 and 5, one vpermb per cycle): 64 * MACs per byte per cycle, i.e.
//   384 (w1), 192 (w2), 128 (w3), 96 (w4); the widening adds 3/F ops per lookup.
//   Why not vpermi2b (128 entries) here: it runs at half vpermb's rate (0.5/cycle) while a 7th
//   index bit adds at most 7/6 the MACs per lookup, so for activation-sum tables it never pays;
//   wider cells use weight digits (w4a2) or chunked tables (w2a4) on vpermb instead.
// - product (w + a <= 6 bits: vpermb; 7: vpermi2b), tile 4 x 4: 25 (26) of the 32 zmm. Per lookup
//   vpord + vpermb + vpaddb on ports 0 and 5: ceiling 64 * 2 / 3 = 42.7 MAC/cycle; vpermi2b
//   issues one per two cycles here: 32.
#pragma once

#if defined(__x86_64__)

#include <immintrin.h>

#include "lowbit/kernels/lut/lut_avx512bw.hpp"

#define LOWBIT_LUT_NS avx512vbmi
#define LOWBIT_LUT_TARGET LOWBIT_LUT_TARGET_AVX512VBMI
#include "lowbit/kernels/lut/lut_body_x86-inl.hpp"

namespace lowbit {
namespace kernels {
namespace lut {
namespace avx512vbmi {

struct ops : avx512bw::ops {
  static constexpr int table_bytes = 64;
  LOWBIT_LUT_OP static vec table(const std::uint8_t* p) noexcept { return load(p); }
  // The masked vpermb with a pass-through is the plain one without GCC 12's -Wuninitialized on
  // the intrinsic's undefined operand.
  LOWBIT_LUT_OP static vec lookup(vec t, vec idx) noexcept {
    return _mm512_mask_permutexvar_epi8(zero(), ~__mmask64{0}, idx, t);
  }
  LOWBIT_LUT_OP static vec lookup2(vec t0, vec idx, vec t1) noexcept {
    return _mm512_permutex2var_epi8(t0, idx, t1);
  }
};

}  // namespace avx512vbmi
}  // namespace lut
}  // namespace kernels
}  // namespace lowbit

#include "lowbit/kernels/lut/lut_end_x86-inl.hpp"

#endif  // __x86_64__
