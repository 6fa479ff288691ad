// Instruction-count harness for XNNPACK's quantized fully connected operators (the peer that
// bench/arm/insn-count compares lowbit's NEON kernels with). Linked against Debian's arm64
// libXNNPACK, run under qemu-aarch64 with the insn plugin.
//
// Usage: xnnpack_insn <qu8|qs8> <M> <N> <K> <iterations>
//   creates one M x K by K x N fully connected operator (XNNPACK packs the weights here), sets
//   it up once, then calls xnn_run_operator <iterations> times with no thread pool (the caller's
//   thread computes every tile). A run with 0 iterations does all the rest (initialisation,
//   weight packing, setup), so count(N) - count(0) is N calls of xnn_run_operator: the GEMM
//   microkernel, its requantization epilogue and the operator's tiling loop. Pass <iterations>
//   with a fixed number of digits so that argv has the same size in both runs.
#include <xnnpack.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <vector>

namespace {

volatile std::uint32_t sink;  // keeps the outputs observable; nothing printed in the runs

template <typename T>
std::uint32_t checksum(const std::vector<T>& v) {
  std::uint32_t s = 0;
  for (T x : v) s = s * 31u + static_cast<std::uint8_t>(x);
  return s;
}

template <typename T>
std::vector<T> random_bytes(std::size_t n, std::mt19937& rng) {
  std::vector<T> v(n);
  for (auto& x : v) x = static_cast<T>(static_cast<std::uint8_t>(rng()));
  return v;
}

int fail(const char* what, xnn_status s) {
  std::fprintf(stderr, "xnnpack_insn: %s failed (xnn_status %d)\n", what, static_cast<int>(s));
  return 1;
}

// Output scale: the product of the input and kernel scales over it must be below 256 (XNNPACK
// rejects larger requantization scales); 1 / 4096 keeps most outputs inside the 8-bit range.
constexpr float output_scale = 4096.0f;

int run_qu8(std::size_t m, std::size_t n, std::size_t k, unsigned long iterations) {
  std::mt19937 rng(12345);
  const auto input = random_bytes<std::uint8_t>(m * k + XNN_EXTRA_BYTES, rng);
  const auto weights = random_bytes<std::uint8_t>(n * k, rng);
  const std::vector<std::int32_t> bias(n, 0);
  std::vector<std::uint8_t> output(m * n);
  xnn_operator_t op = nullptr;
  xnn_status s = xnn_create_fully_connected_nc_qu8(
      k, n, k, n, /*input_zero_point=*/128, 1.0f, /*kernel_zero_point=*/128, 1.0f, weights.data(),
      bias.data(), /*output_zero_point=*/128, output_scale, 0, 255, 0, &op);
  if (s != xnn_status_success) return fail("xnn_create_fully_connected_nc_qu8", s);
  s = xnn_setup_fully_connected_nc_qu8(op, m, input.data(), output.data(), nullptr);
  if (s != xnn_status_success) return fail("xnn_setup_fully_connected_nc_qu8", s);
  for (unsigned long it = 0; it < iterations; ++it) {
    s = xnn_run_operator(op, nullptr);
    if (s != xnn_status_success) return fail("xnn_run_operator", s);
  }
  sink = checksum(output);
  xnn_delete_operator(op);
  return 0;
}

int run_qs8(std::size_t m, std::size_t n, std::size_t k, unsigned long iterations) {
  std::mt19937 rng(12345);
  const auto input = random_bytes<std::int8_t>(m * k + XNN_EXTRA_BYTES, rng);
  const auto weights = random_bytes<std::int8_t>(n * k, rng);
  const std::vector<std::int32_t> bias(n, 0);
  std::vector<std::int8_t> output(m * n);
  xnn_operator_t op = nullptr;
  xnn_status s = xnn_create_fully_connected_nc_qs8(
      k, n, k, n, /*input_zero_point=*/0, 1.0f, 1.0f, weights.data(), bias.data(),
      /*output_zero_point=*/0, output_scale, -128, 127, 0, &op);
  if (s != xnn_status_success) return fail("xnn_create_fully_connected_nc_qs8", s);
  s = xnn_setup_fully_connected_nc_qs8(op, m, input.data(), output.data(), nullptr);
  if (s != xnn_status_success) return fail("xnn_setup_fully_connected_nc_qs8", s);
  for (unsigned long it = 0; it < iterations; ++it) {
    s = xnn_run_operator(op, nullptr);
    if (s != xnn_status_success) return fail("xnn_run_operator", s);
  }
  sink = checksum(output);
  xnn_delete_operator(op);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 6 || (std::strcmp(argv[1], "qu8") != 0 && std::strcmp(argv[1], "qs8") != 0)) {
    std::fprintf(stderr, "usage: %s qu8|qs8 M N K iterations\n", argv[0]);
    return 2;
  }
  const std::size_t m = std::strtoul(argv[2], nullptr, 10);
  const std::size_t n = std::strtoul(argv[3], nullptr, 10);
  const std::size_t k = std::strtoul(argv[4], nullptr, 10);
  const unsigned long iterations = std::strtoul(argv[5], nullptr, 10);
  const xnn_status s = xnn_initialize(nullptr);
  if (s != xnn_status_success) return fail("xnn_initialize", s);
  const int rc = std::strcmp(argv[1], "qu8") == 0 ? run_qu8(m, n, k, iterations)
                                                  : run_qs8(m, n, k, iterations);
  xnn_deinitialize();
  return rc;
}
