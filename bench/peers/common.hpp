// Shared pieces of the peer wrappers: the random problem every peer multiplies, the references
// their results are checked against, and the check verdict.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <map>
#include <random>
#include <string>
#include <tuple>
#include <vector>

namespace lowbit_bench::peers {

// Outcome of a peer's one-off correctness check; `detail` says what went wrong.
struct CheckResult {
  bool ok = true;
  std::string detail;
};

inline CheckResult check_failed(const char* peer, long m, long n, double got, double want) {
  char buf[200];
  std::snprintf(buf, sizeof buf, "%s: C[%ld][%ld] = %.6g, reference %.6g", peer, m, n, got, want);
  return {false, buf};
}

// C = (A - a_zero) * W^T with A: M x K uint8 (row-major), W: N x K int8 (row-major, one output
// channel per row), exact int32 result. Every integer peer gets the same data for the same
// (M, N, K, seed), so a single reference serves them all.
struct QuantProblem {
  long M = 0, N = 0, K = 0;
  std::uint32_t seed = 1;
  std::uint8_t a_zero = 0;
  std::vector<std::uint8_t> A;
  std::vector<std::int8_t> W;

  QuantProblem(long m, long n, long k, std::uint32_t s = 1) : M(m), N(n), K(k), seed(s) {
    std::mt19937 rng(seed);
    // Activations use the full uint8 range around a non-trivial zero point. Weights stay within
    // [-64, 63]: then no pair of u8*s8 products overflows int16, so peers whose pre-VNNI kernels
    // sum pairs with saturation (vpmaddubsw, e.g. oneDNN held to AVX2) remain exact.
    std::uniform_int_distribution<int> a_dist(0, 255), w_dist(-64, 63);
    a_zero = 119;
    A.resize(static_cast<std::size_t>(M * K));
    W.resize(static_cast<std::size_t>(N * K));
    for (auto& a : A) a = static_cast<std::uint8_t>(a_dist(rng));
    for (auto& w : W) w = static_cast<std::int8_t>(w_dist(rng));
  }
};

// Straightforward int32 reference, M x N row-major. Cached per shape and seed because the
// 2048-cubed product takes seconds and every integer peer checks against the same one.
inline const std::vector<std::int32_t>& reference_s32(const QuantProblem& p) {
  static std::map<std::tuple<long, long, long, std::uint32_t>, std::vector<std::int32_t>> cache;
  auto key = std::make_tuple(p.M, p.N, p.K, p.seed);
  auto it = cache.find(key);
  if (it != cache.end()) return it->second;
  std::vector<std::int32_t> c(static_cast<std::size_t>(p.M * p.N));
  std::vector<std::int16_t> a_row(static_cast<std::size_t>(p.K));
  for (long m = 0; m < p.M; ++m) {
    for (long k = 0; k < p.K; ++k)
      a_row[k] = static_cast<std::int16_t>(p.A[m * p.K + k] - p.a_zero);
    for (long n = 0; n < p.N; ++n) {
      const std::int8_t* w = &p.W[n * p.K];
      std::int32_t acc = 0;
      for (long k = 0; k < p.K; ++k) acc += std::int32_t{a_row[k]} * std::int32_t{w[k]};
      c[m * p.N + n] = acc;
    }
  }
  return cache.emplace(key, std::move(c)).first->second;
}

// Exact comparison for peers with an int32 result; `ldc` is the row stride of `c`.
inline CheckResult compare_exact(const char* peer, const std::int32_t* c, long ldc,
                                 const QuantProblem& p) {
  const auto& ref = reference_s32(p);
  for (long m = 0; m < p.M; ++m)
    for (long n = 0; n < p.N; ++n)
      if (c[m * ldc + n] != ref[m * p.N + n])
        return check_failed(peer, m, n, c[m * ldc + n], ref[m * p.N + n]);
  return {};
}

// Requantization used by peers with a quantized 8-bit output: out = clamp(round(acc * scale) +
// zero), scale = input_scale * kernel_scale / output_scale. The scale maps about two standard
// deviations of the accumulator onto the 8-bit range, so the check sees varied outputs rather
// than a wall of clamped values.
struct Requant {
  float input_scale = 0.5f;
  float kernel_scale = 0.25f;
  float output_scale = 1.0f;
  int out_zero = 128;  // in the uint8 domain; int8 outputs use out_zero - 128
  int out_min = 0, out_max = 255;

  explicit Requant(long K) {
    // |A - a_zero| has an RMS of about 75 and |W| about 37 for the distributions above.
    const double acc_rms = std::sqrt(static_cast<double>(K)) * 75.0 * 37.0;
    output_scale = static_cast<float>(input_scale * kernel_scale * acc_rms / 64.0);
  }
  double scale() const { return double{input_scale} * kernel_scale / output_scale; }
  // Float reference in the uint8 domain, before rounding.
  double ideal(std::int32_t acc) const {
    return std::clamp(acc * scale() + out_zero, double(out_min), double(out_max));
  }
};

// Compares an 8-bit requantized output (in the uint8 domain after adding `domain_shift`) with
// the float reference. Peers round with their own fixed-point or fp32 schemes, so allow one
// unit from the exact real value: |out - ideal| <= 1.
template <typename T>
CheckResult compare_requantized(const char* peer, const T* c, long ldc, const QuantProblem& p,
                                const Requant& rq, int domain_shift) {
  const auto& ref = reference_s32(p);
  for (long m = 0; m < p.M; ++m)
    for (long n = 0; n < p.N; ++n) {
      const double want = rq.ideal(ref[m * p.N + n]);
      const double got = double(c[m * ldc + n]) + domain_shift;
      if (std::abs(got - want) > 1.0) return check_failed(peer, m, n, got, want);
    }
  return {};
}

}  // namespace lowbit_bench::peers
