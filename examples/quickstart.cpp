// lowbit quick start: 2-bit weights x 2-bit activations, float output with per-channel scales,
// bias and ReLU, fused into the GEMM. (This file is quoted in the README and run as a test.)
#include <lowbit/gemm.hpp>

#include <cstdio>
#include <vector>

int main() {
  const std::size_t M = 4, N = 8, K = 64;
  std::vector<std::uint8_t> a(M * K), w(N * K);                   // one code per byte
  for (std::size_t i = 0; i < a.size(); ++i) a[i] = i % 4;        // unsigned 2-bit: 0..3
  for (std::size_t i = 0; i < w.size(); ++i) w[i] = (i / 3) % 4;  // signed 2-bit: -2..1

  const lowbit::format af{2, lowbit::encoding::unsigned_int};
  const lowbit::format wf{2, lowbit::encoding::signed_int};

  // Once, offline: pack the weights for the best kernel on this CPU.
  lowbit::packed_weights pw;
  lowbit::check(lowbit::pack_weights(lowbit::codes(w.data(), N, K), wf, af, pw));

  // Per call: C = relu(a_scale * w_scale[n] * (A - a_zero) * W^T + bias[n]).
  std::vector<float> w_scales(N, 0.05f), bias(N, 0.1f), out(M * N);
  lowbit::float_output stage;
  stage.data = out.data();
  stage.capacity = out.size();  // a short buffer is an error, never an overflow
  stage.a_scale = 0.5f;
  stage.w_scales = w_scales.data();
  stage.w_scale_count = N;
  stage.bias = bias.data();
  stage.clamp_min = 0.0f;  // ReLU
  stage.zeros.a_zero = 1;
  lowbit::check(lowbit::gemm(lowbit::codes(a.data(), M, K), af, pw, stage));

  std::printf("kernel %s, out[0][0..3] = %.3f %.3f %.3f %.3f\n", pw.kernel_name(), out[0], out[1],
              out[2], out[3]);
  return 0;
}
