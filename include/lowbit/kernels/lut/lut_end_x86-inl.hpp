// lowbit: closes one ISA's copy of lut_body_x86-inl.hpp. No include guard: each ISA header
// (lut_sse41.hpp ... lut_avx512vbmi.hpp) includes this file last, after its `ops`, so the next
// ISA header can define the body's macros again.

#undef LOWBIT_LUT_NS
#undef LOWBIT_LUT_TARGET
#undef LOWBIT_LUT_OP
#undef LOWBIT_LUT_ENTRY
