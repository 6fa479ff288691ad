// lowbit: 2-D convolution on top of the GEMM.
//
//   NHWC activations (one code per byte), OHWI weights ([out_c][kernel_h][kernel_w][in_c/groups]),
//   NHWC output through the same output stages as gemm (rows: batch * out_h * out_w pixels,
//   columns: out_c channels). Declarations in lowbit/conv/declarations.hpp; the code in
//   lowbit/conv/ (docs/conv.md):
//     geometry.hpp    parameter checks, K groups across taps, the padding code
//     a_sources.hpp   A for the GEMM driver: the implicit im2col matrix, read per block of output
//                     pixels as window rows in place, rows packed where they lie, a bit-plane image
//                     of the input, or copied im2col rows; the input itself for direct 1x1
//     depthwise.hpp   groups == in_c: a direct kernel over channels, no GEMM
//     weights.hpp     pack_conv_weights
//     conv2d.hpp      conv2d: checks, the scratch plan, one scan of the input, then the paths
// The workspace holds one block of A at a time, never the full im2col matrix.
// Padding means real zero: the activation value equal to the zero point. When the format has such
// a code (unsigned, signed, ternary with an in-range zero point), padded taps use it and contribute
// nothing. When it has none (odd-symmetric: {-1,+1} has no 0), padded taps are filled with code 0
// and the epilogue subtracts their exact contribution per output pixel (from per-tap sums of the
// weights, per K group with group scales), so the result is exactly that of zero padding.
#pragma once

#include "lowbit/conv/declarations.hpp"

#if !defined(LOWBIT_DECLARATIONS_ONLY)
#include "lowbit/conv/conv2d.hpp"
#endif
