// Convolution layers for bench_conv as real geometry (not im2col GEMMs as in shapes.hpp), batch 1
// at 224x224, NHWC activations and OHWI weights; plus the random data every implementation
// convolves and the int32 reference they are checked against.
//
// Each list holds a network's distinct layers once, with `repeat` = how often the layer occurs,
// so a whole network is the sum of repeat * layer. ResNet-18 as in torchvision (basic blocks,
// 1x1 stride-2 downsample on the first block of stages 3-5); VGG-16 configuration D; MobileNetV2
// at width 1.0 (expansion 6, depthwise 3x3 layers as groups = channels).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

namespace lowbit_bench::shapes {

struct ConvShape {
  const char* name;
  long h, w, c;  // input
  long oc;       // output channels
  long k;        // kernel_h = kernel_w
  long stride;   // both directions
  long pad;      // every side
  long groups;   // 1, or c for depthwise
  int repeat;    // occurrences in the network

  long out_h() const { return (h + 2 * pad - k) / stride + 1; }
  long out_w() const { return (w + 2 * pad - k) / stride + 1; }
  long cg() const { return c / groups; }
  long og() const { return oc / groups; }
  double macs() const { return double(out_h()) * double(out_w()) * double(oc * k * k * cg()); }
};

inline constexpr ConvShape kResnet18ConvLayers[] = {
    {"resnet18_conv1", 224, 224, 3, 64, 7, 2, 3, 1, 1},
    {"resnet18_conv2_x", 56, 56, 64, 64, 3, 1, 1, 1, 4},
    {"resnet18_conv3_1", 56, 56, 64, 128, 3, 2, 1, 1, 1},
    {"resnet18_conv3_x", 28, 28, 128, 128, 3, 1, 1, 1, 3},
    {"resnet18_conv3_down", 56, 56, 64, 128, 1, 2, 0, 1, 1},
    {"resnet18_conv4_1", 28, 28, 128, 256, 3, 2, 1, 1, 1},
    {"resnet18_conv4_x", 14, 14, 256, 256, 3, 1, 1, 1, 3},
    {"resnet18_conv4_down", 28, 28, 128, 256, 1, 2, 0, 1, 1},
    {"resnet18_conv5_1", 14, 14, 256, 512, 3, 2, 1, 1, 1},
    {"resnet18_conv5_x", 7, 7, 512, 512, 3, 1, 1, 1, 3},
    {"resnet18_conv5_down", 14, 14, 256, 512, 1, 2, 0, 1, 1},
};

inline constexpr ConvShape kVgg16ConvLayers[] = {
    {"vgg16_conv1_1", 224, 224, 3, 64, 3, 1, 1, 1, 1},
    {"vgg16_conv1_2", 224, 224, 64, 64, 3, 1, 1, 1, 1},
    {"vgg16_conv2_1", 112, 112, 64, 128, 3, 1, 1, 1, 1},
    {"vgg16_conv2_2", 112, 112, 128, 128, 3, 1, 1, 1, 1},
    {"vgg16_conv3_1", 56, 56, 128, 256, 3, 1, 1, 1, 1},
    {"vgg16_conv3_x", 56, 56, 256, 256, 3, 1, 1, 1, 2},
    {"vgg16_conv4_1", 28, 28, 256, 512, 3, 1, 1, 1, 1},
    {"vgg16_conv4_x", 28, 28, 512, 512, 3, 1, 1, 1, 2},
    {"vgg16_conv5_x", 14, 14, 512, 512, 3, 1, 1, 1, 3},
};

// Block numbers follow shapes.hpp's kMobilenetV2Convs (b1..b17); a layer shared by several
// blocks is named after the first.
inline constexpr ConvShape kMobilenetV2ConvLayers[] = {
    {"mbv2_stem_3x3s2", 224, 224, 3, 32, 3, 2, 1, 1, 1},
    {"mbv2_b1_dw3x3", 112, 112, 32, 32, 3, 1, 1, 32, 1},
    {"mbv2_b1_project", 112, 112, 32, 16, 1, 1, 0, 1, 1},
    {"mbv2_b2_expand", 112, 112, 16, 96, 1, 1, 0, 1, 1},
    {"mbv2_b2_dw3x3s2", 112, 112, 96, 96, 3, 2, 1, 96, 1},
    {"mbv2_b2_project", 56, 56, 96, 24, 1, 1, 0, 1, 1},
    {"mbv2_b3_expand", 56, 56, 24, 144, 1, 1, 0, 1, 2},
    {"mbv2_b3_dw3x3", 56, 56, 144, 144, 3, 1, 1, 144, 1},
    {"mbv2_b3_project", 56, 56, 144, 24, 1, 1, 0, 1, 1},
    {"mbv2_b4_dw3x3s2", 56, 56, 144, 144, 3, 2, 1, 144, 1},
    {"mbv2_b4_project", 28, 28, 144, 32, 1, 1, 0, 1, 1},
    {"mbv2_b5_expand", 28, 28, 32, 192, 1, 1, 0, 1, 3},
    {"mbv2_b5_dw3x3", 28, 28, 192, 192, 3, 1, 1, 192, 2},
    {"mbv2_b5_project", 28, 28, 192, 32, 1, 1, 0, 1, 2},
    {"mbv2_b7_dw3x3s2", 28, 28, 192, 192, 3, 2, 1, 192, 1},
    {"mbv2_b7_project", 14, 14, 192, 64, 1, 1, 0, 1, 1},
    {"mbv2_b8_expand", 14, 14, 64, 384, 1, 1, 0, 1, 4},
    {"mbv2_b8_dw3x3", 14, 14, 384, 384, 3, 1, 1, 384, 4},
    {"mbv2_b8_project", 14, 14, 384, 64, 1, 1, 0, 1, 3},
    {"mbv2_b11_project", 14, 14, 384, 96, 1, 1, 0, 1, 1},
    {"mbv2_b12_expand", 14, 14, 96, 576, 1, 1, 0, 1, 3},
    {"mbv2_b12_dw3x3", 14, 14, 576, 576, 3, 1, 1, 576, 2},
    {"mbv2_b12_project", 14, 14, 576, 96, 1, 1, 0, 1, 2},
    {"mbv2_b14_dw3x3s2", 14, 14, 576, 576, 3, 2, 1, 576, 1},
    {"mbv2_b14_project", 7, 7, 576, 160, 1, 1, 0, 1, 1},
    {"mbv2_b15_expand", 7, 7, 160, 960, 1, 1, 0, 1, 3},
    {"mbv2_b15_dw3x3", 7, 7, 960, 960, 3, 1, 1, 960, 3},
    {"mbv2_b15_project", 7, 7, 960, 160, 1, 1, 0, 1, 2},
    {"mbv2_b17_project", 7, 7, 960, 320, 1, 1, 0, 1, 1},
    {"mbv2_head_1x1", 7, 7, 320, 1280, 1, 1, 0, 1, 1},
};

// Random layer data: activations uniform in [0, a_max] with zero point 0 (post-ReLU, so padding
// is 0 for every implementation), weight values uniform in [w_min, w_max] (OHWI, int8).
struct ConvData {
  ConvShape s;
  std::vector<std::uint8_t> x;  // NHWC
  std::vector<std::int8_t> w;   // OHWI values
  ConvData(const ConvShape& shape, int a_max, int w_min, int w_max, std::uint32_t seed)
      : s(shape),
        x(std::size_t(shape.h * shape.w * shape.c)),
        w(std::size_t(shape.oc * shape.k * shape.k * shape.cg())) {
    std::mt19937 rng(seed);
    std::uniform_int_distribution<int> a(0, a_max), v(w_min, w_max);
    for (auto& e : x) e = static_cast<std::uint8_t>(a(rng));
    for (auto& e : w) e = static_cast<std::int8_t>(v(rng));
  }
};

// The definition: out[oy][ox][oc] = sum over the window (zero outside) and the group's input
// channels of x * w. Gathers one im2col row of int16 per pixel and group, so the inner dot
// products vectorise: VGG-16's largest layer takes well under a second.
inline std::vector<std::int32_t> reference_conv(const ConvData& d) {
  const ConvShape& s = d.s;
  const long oh = s.out_h(), ow = s.out_w(), cg = s.cg(), og = s.og(), kk = s.k * s.k;
  std::vector<std::int32_t> out(std::size_t(oh * ow * s.oc));
  std::vector<std::int16_t> col(std::size_t(kk * cg)), w16(d.w.begin(), d.w.end());
  for (long oy = 0; oy < oh; ++oy)
    for (long ox = 0; ox < ow; ++ox)
      for (long g = 0; g < s.groups; ++g) {
        for (long ky = 0; ky < s.k; ++ky)
          for (long kx = 0; kx < s.k; ++kx) {
            const long iy = oy * s.stride + ky - s.pad, ix = ox * s.stride + kx - s.pad;
            const bool inside = iy >= 0 && ix >= 0 && iy < s.h && ix < s.w;
            for (long c = 0; c < cg; ++c)
              col[std::size_t((ky * s.k + kx) * cg + c)] =
                  inside ? d.x[std::size_t((iy * s.w + ix) * s.c + g * cg + c)] : 0;
          }
        for (long o = 0; o < og; ++o) {
          const long oc = g * og + o;
          const std::int16_t* w = &w16[std::size_t(oc * kk * cg)];
          std::int32_t acc = 0;
          for (std::size_t i = 0; i < col.size(); ++i) acc += std::int32_t{col[i]} * w[i];
          out[std::size_t((oy * ow + ox) * s.oc + oc)] = acc;
        }
      }
  return out;
}

// The peers' 8-bit problem (a in [0, 255], w in [-64, 63]: 7-bit weights keep pre-VNNI
// saturating int16 pair sums exact, as in common.hpp) and its reference. The last layer asked
// for stays cached (oneDNN and XNNPACK are registered one after the other per layer); owners hold
// it by shared_ptr, so whole-network runs keep every layer's problem alive.
struct Int8Problem {
  ConvData data;
  std::vector<std::int32_t> ref;
  explicit Int8Problem(const ConvShape& s) : data(s, 255, -64, 63, 7), ref(reference_conv(data)) {}
};

inline std::shared_ptr<const Int8Problem> int8_problem(const ConvShape& s) {
  static std::string key;
  static std::shared_ptr<const Int8Problem> slot;
  if (!slot || key != s.name) {
    slot.reset();
    slot = std::make_shared<const Int8Problem>(s);
    key = s.name;
  }
  return slot;
}

}  // namespace lowbit_bench::shapes
