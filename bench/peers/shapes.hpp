// Benchmark shapes as plain constexpr data, shared by the peer benchmarks and lowbit's own.
// A GEMM shape is C(M x N) = A(M x K) * W(N x K)^T. Convolutions are given as their im2col GEMMs
// at batch 1 on a 224x224 input: M = output pixels, N = output channels, K = kernel_h * kernel_w *
// input channels. Layers are listed in network order, one entry per layer (shapes repeat), from
// the standard definitions: ResNet-50 as in torchvision (v1.5, stride 2 on the 3x3 of the first
// bottleneck of stages 3-5), VGG-16 (configuration D, 13 3x3 convolutions), MobileNetV2 at width
// 1.0. docs/peers.md describes the naming.
#pragma once

#include <cstddef>

namespace lowbit_bench::shapes {

struct GemmShape {
  const char* name;
  long M, N, K;
};

// A depthwise convolution is `channels` independent GEMVs: per channel M output pixels, K =
// kernel * kernel, one output column. It is not a single GEMM, so these are listed apart.
struct DepthwiseShape {
  const char* name;
  long M;  // output pixels
  long channels;
  long kernel;  // kernel_h = kernel_w
  long stride;
};

inline constexpr GemmShape kSquare[] = {
    {"square256", 256, 256, 256},
    {"square512", 512, 512, 512},
    {"square1024", 1024, 1024, 1024},
    {"square2048", 2048, 2048, 2048},
};

// ResNet-18's 3x3 convolutions, one per stage (the non-downsampling ones, 56x56 to 7x7).
inline constexpr GemmShape kResnet18[] = {
    {"resnet18_conv2_3x3", 3136, 64, 576},
    {"resnet18_conv3_3x3", 784, 128, 1152},
    {"resnet18_conv4_3x3", 196, 256, 2304},
    {"resnet18_conv5_3x3", 49, 512, 4608},
};

// A 4096 x 4096 layer applied to one token (GEMV) and to a batch of 8.
inline constexpr GemmShape kGemv[] = {
    {"gemv4096", 1, 4096, 4096},
    {"batch8_4096", 8, 4096, 4096},
};

inline constexpr GemmShape kResnet50Convs[] = {
    {"conv1_7x7s2", 12544, 64, 147},    {"conv2_1_1x1a", 3136, 64, 64},
    {"conv2_1_3x3", 3136, 64, 576},     {"conv2_1_1x1b", 3136, 256, 64},
    {"conv2_1_down", 3136, 256, 64},    {"conv2_2_1x1a", 3136, 64, 256},
    {"conv2_2_3x3", 3136, 64, 576},     {"conv2_2_1x1b", 3136, 256, 64},
    {"conv2_3_1x1a", 3136, 64, 256},    {"conv2_3_3x3", 3136, 64, 576},
    {"conv2_3_1x1b", 3136, 256, 64},    {"conv3_1_1x1a", 3136, 128, 256},
    {"conv3_1_3x3s2", 784, 128, 1152},  {"conv3_1_1x1b", 784, 512, 128},
    {"conv3_1_downs2", 784, 512, 256},  {"conv3_2_1x1a", 784, 128, 512},
    {"conv3_2_3x3", 784, 128, 1152},    {"conv3_2_1x1b", 784, 512, 128},
    {"conv3_3_1x1a", 784, 128, 512},    {"conv3_3_3x3", 784, 128, 1152},
    {"conv3_3_1x1b", 784, 512, 128},    {"conv3_4_1x1a", 784, 128, 512},
    {"conv3_4_3x3", 784, 128, 1152},    {"conv3_4_1x1b", 784, 512, 128},
    {"conv4_1_1x1a", 784, 256, 512},    {"conv4_1_3x3s2", 196, 256, 2304},
    {"conv4_1_1x1b", 196, 1024, 256},   {"conv4_1_downs2", 196, 1024, 512},
    {"conv4_2_1x1a", 196, 256, 1024},   {"conv4_2_3x3", 196, 256, 2304},
    {"conv4_2_1x1b", 196, 1024, 256},   {"conv4_3_1x1a", 196, 256, 1024},
    {"conv4_3_3x3", 196, 256, 2304},    {"conv4_3_1x1b", 196, 1024, 256},
    {"conv4_4_1x1a", 196, 256, 1024},   {"conv4_4_3x3", 196, 256, 2304},
    {"conv4_4_1x1b", 196, 1024, 256},   {"conv4_5_1x1a", 196, 256, 1024},
    {"conv4_5_3x3", 196, 256, 2304},    {"conv4_5_1x1b", 196, 1024, 256},
    {"conv4_6_1x1a", 196, 256, 1024},   {"conv4_6_3x3", 196, 256, 2304},
    {"conv4_6_1x1b", 196, 1024, 256},   {"conv5_1_1x1a", 196, 512, 1024},
    {"conv5_1_3x3s2", 49, 512, 4608},   {"conv5_1_1x1b", 49, 2048, 512},
    {"conv5_1_downs2", 49, 2048, 1024}, {"conv5_2_1x1a", 49, 512, 2048},
    {"conv5_2_3x3", 49, 512, 4608},     {"conv5_2_1x1b", 49, 2048, 512},
    {"conv5_3_1x1a", 49, 512, 2048},    {"conv5_3_3x3", 49, 512, 4608},
    {"conv5_3_1x1b", 49, 2048, 512},
};
inline constexpr GemmShape kVgg16Convs[] = {
    {"conv1_1", 50176, 64, 27},    {"conv1_2", 50176, 64, 576},  {"conv2_1", 12544, 128, 576},
    {"conv2_2", 12544, 128, 1152}, {"conv3_1", 3136, 256, 1152}, {"conv3_2", 3136, 256, 2304},
    {"conv3_3", 3136, 256, 2304},  {"conv4_1", 784, 512, 2304},  {"conv4_2", 784, 512, 4608},
    {"conv4_3", 784, 512, 4608},   {"conv5_1", 196, 512, 4608},  {"conv5_2", 196, 512, 4608},
    {"conv5_3", 196, 512, 4608},
};
inline constexpr GemmShape kMobilenetV2Convs[] = {
    {"conv_stem_3x3s2", 12544, 32, 27}, {"b1_project", 12544, 16, 32},
    {"b2_expand", 12544, 96, 16},       {"b2_project", 3136, 24, 96},
    {"b3_expand", 3136, 144, 24},       {"b3_project", 3136, 24, 144},
    {"b4_expand", 3136, 144, 24},       {"b4_project", 784, 32, 144},
    {"b5_expand", 784, 192, 32},        {"b5_project", 784, 32, 192},
    {"b6_expand", 784, 192, 32},        {"b6_project", 784, 32, 192},
    {"b7_expand", 784, 192, 32},        {"b7_project", 196, 64, 192},
    {"b8_expand", 196, 384, 64},        {"b8_project", 196, 64, 384},
    {"b9_expand", 196, 384, 64},        {"b9_project", 196, 64, 384},
    {"b10_expand", 196, 384, 64},       {"b10_project", 196, 64, 384},
    {"b11_expand", 196, 384, 64},       {"b11_project", 196, 96, 384},
    {"b12_expand", 196, 576, 96},       {"b12_project", 196, 96, 576},
    {"b13_expand", 196, 576, 96},       {"b13_project", 196, 96, 576},
    {"b14_expand", 196, 576, 96},       {"b14_project", 49, 160, 576},
    {"b15_expand", 49, 960, 160},       {"b15_project", 49, 160, 960},
    {"b16_expand", 49, 960, 160},       {"b16_project", 49, 160, 960},
    {"b17_expand", 49, 960, 160},       {"b17_project", 49, 320, 960},
    {"conv_head_1x1", 49, 1280, 320},
};
inline constexpr DepthwiseShape kMobilenetV2Depthwise[] = {
    {"b1_dw3x3", 12544, 32, 3, 1},  {"b2_dw3x3s2", 3136, 96, 3, 2}, {"b3_dw3x3", 3136, 144, 3, 1},
    {"b4_dw3x3s2", 784, 144, 3, 2}, {"b5_dw3x3", 784, 192, 3, 1},   {"b6_dw3x3", 784, 192, 3, 1},
    {"b7_dw3x3s2", 196, 192, 3, 2}, {"b8_dw3x3", 196, 384, 3, 1},   {"b9_dw3x3", 196, 384, 3, 1},
    {"b10_dw3x3", 196, 384, 3, 1},  {"b11_dw3x3", 196, 384, 3, 1},  {"b12_dw3x3", 196, 576, 3, 1},
    {"b13_dw3x3", 196, 576, 3, 1},  {"b14_dw3x3s2", 49, 576, 3, 2}, {"b15_dw3x3", 49, 960, 3, 1},
    {"b16_dw3x3", 49, 960, 3, 1},   {"b17_dw3x3", 49, 960, 3, 1},
};

template <typename T, std::size_t n>
constexpr std::size_t count(const T (&)[n]) {
  return n;
}

}  // namespace lowbit_bench::shapes
