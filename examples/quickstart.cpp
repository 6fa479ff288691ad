// lowbit quick start: 2-bit weights x 2-bit activations, float output with per-channel scales,
// bias and ReLU, fused into the GEMM. (This file is quoted in the README and run as a test.)
#include <lowbit/gemm.hpp>

#include <cmath>
#include <cstdio>
#include <vector>

int main() {
  const std::size_t M = 4, N = 8, K = 64;
  std::vector<std::uint8_t> a(M * K), w(N * K);                           // one code per byte
  for (std::size_t i = 0; i < a.size(); ++i) a[i] = (i * 7 + i / 5) % 4;  // unsigned 2-bit: 0..3
  for (std::size_t i = 0; i < w.size(); ++i) w[i] = (i * 5 + i / 7) % 4;  // signed 2-bit: -2..1

  const lowbit::format af{2, lowbit::encoding::unsigned_int};
  const lowbit::format wf{2, lowbit::encoding::signed_int};

  // Once, offline: pack the weights for the best kernel on this CPU.
  lowbit::packed_weights pw;
  lowbit::check(lowbit::pack_weights(lowbit::codes(w.data(), N, K), wf, af, pw));

  // Per call: C = relu(a_scale * w_scale[n] * (A - a_zero) * W^T + bias[n]).
  std::vector<float> w_scales(N, 0.05f), bias(N, 0.4f), out(M * N);
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

  // The same result from a plain loop: codes to values, sum (a - a_zero) * w, then the stage.
  auto w_value = [](std::uint8_t c) { return c >= 2 ? int(c) - 4 : int(c); };  // two's complement
  double worst = 0.0;
  for (std::size_t m = 0; m < M; ++m)
    for (std::size_t n = 0; n < N; ++n) {
      int t = 0;
      for (std::size_t k = 0; k < K; ++k) t += (a[m * K + k] - 1) * w_value(w[n * K + k]);
      const float expected = std::fmax(float(t) * (0.5f * 0.05f) + 0.4f, 0.0f);
      worst = std::fmax(worst, std::fabs(double(out[m * N + n]) - expected));
    }
  std::printf("kernel %s, out[0][0..3] = %.3f %.3f %.3f %.3f, max |out - plain loop| = %g\n",
              pw.kernel_name(), out[0], out[1], out[2], out[3], worst);
  return worst <= 1e-6 ? 0 : 1;
}
