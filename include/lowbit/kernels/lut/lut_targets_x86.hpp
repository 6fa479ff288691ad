// lowbit: the target strings of the x86 lookup-table kernels, their packers and vector ops, all in
// one place and built from isa.hpp's level strings. The features each level's descriptors declare
// are read back from these strings (detail::target_features), so code and descriptors cannot
// disagree. Macros because __attribute__((target(...))) takes a string literal only.
#pragma once

#include "lowbit/isa.hpp"

// SSSE3 + SSE4.1 (pshufb; pmovzxwd and pblendw): the part of the sse4 level these kernels use and
// have always declared, so they also run on the rare CPUs with SSE4.1 but no SSE4.2 or POPCNT.
#define LOWBIT_LUT_TARGET_SSE41 "ssse3,sse4.1"
#define LOWBIT_LUT_TARGET_AVX2 LOWBIT_X86_TARGET_AVX2
#define LOWBIT_LUT_TARGET_AVX512BW LOWBIT_X86_TARGET_AVX512
// The avx512 level and VBMI (vpermb, vpermi2b), without the rest of the avx512icl level.
#define LOWBIT_LUT_TARGET_AVX512VBMI LOWBIT_X86_TARGET_AVX512 ",avx512vbmi"

namespace lowbit {
namespace kernels {
namespace lut {

static_assert(detail::target_features(LOWBIT_LUT_TARGET_SSE41) ==
                  features(cpu_feature::ssse3, cpu_feature::sse41),
              "within the sse4 level");
static_assert(detail::target_features(LOWBIT_LUT_TARGET_AVX512VBMI) ==
                  (isa_features(isa::avx512) | bit(cpu_feature::avx512vbmi)),
              "within the avx512icl level");

}  // namespace lut
}  // namespace kernels
}  // namespace lowbit
