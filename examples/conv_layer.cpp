// One 3x3 convolution with lowbit: 2-bit signed weights, 2-bit unsigned activations, NHWC in and
// out, float output with per-channel scales, bias and ReLU fused. (Quoted in docs/conv.md and run
// as a test.)
#include <lowbit/conv.hpp>

#include <cstdio>
#include <vector>

int main() {
  lowbit::conv_params p;  // 3x3, stride 1, padding 1: output the size of the input
  p.in_channels = 16;
  p.out_channels = 32;
  p.kernel_h = p.kernel_w = 3;
  p.pad_top = p.pad_left = p.pad_bottom = p.pad_right = 1;
  const lowbit::tensor_shape in{1, 28, 28, 16};  // N, H, W, C

  const lowbit::format af{2, lowbit::encoding::unsigned_int};                  // codes 0..3
  const lowbit::format wf{2, lowbit::encoding::signed_int};                    // values -2..1
  std::vector<std::uint8_t> x(in.n * in.h * in.w * in.c), w(32 * 3 * 3 * 16);  // NHWC, OHWI
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = (i * 7) % 4;
  for (std::size_t i = 0; i < w.size(); ++i) w[i] = static_cast<std::uint8_t>(int(i % 4) - 2);

  // Once, offline: pack for the best kernel on this CPU.
  lowbit::packed_conv_weights pw;
  lowbit::check(lowbit::pack_conv_weights(w.data(), p, wf, af, pw));

  // Per call: y = relu(a_scale * w_scale[oc] * conv(x, w) + bias[oc]), NHWC.
  std::vector<float> w_scales(32, 0.02f), bias(32, -0.1f), y(28 * 28 * 32);
  lowbit::float_output stage;
  stage.data = y.data();
  stage.capacity = y.size();
  stage.a_scale = 0.25f;
  stage.w_scales = w_scales.data();
  stage.w_scale_count = w_scales.size();
  stage.bias = bias.data();
  stage.clamp_min = 0.0f;  // ReLU
  lowbit::check(lowbit::conv2d(x.data(), in, af, pw, stage));

  std::printf("kernel %s, out %zux%zux%zu, y[0][0][0..3] = %.3f %.3f %.3f %.3f\n", pw.kernel_name(),
              p.out_h(in.h), p.out_w(in.w), p.out_channels, y[0], y[1], y[2], y[3]);
  return 0;
}
