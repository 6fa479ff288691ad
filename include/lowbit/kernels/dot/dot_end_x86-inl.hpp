// lowbit: the end of an x86 int8 dot ISA header (dot_sse4.hpp ... dot_avx512vnni.hpp), included
// last, after the ISA's ops: drops the macros it defined for dot_body_x86-inl.hpp and its ops.
//
// No include guard: each ISA header includes it once.

#undef LOWBIT_DOT_NS
#undef LOWBIT_DOT_TARGET
#undef LOWBIT_DOT_OP
#undef LOWBIT_DOT_ENTRY
