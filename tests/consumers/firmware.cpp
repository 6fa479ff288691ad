// Bare-metal use (Cortex-M7, newlib, -fno-exceptions -fno-rtti, no threads, no OS, no cpuinfo):
// the portable kernel, errors as status values, a caller-owned static workspace.
#include <lowbit/gemm.hpp>

namespace {
std::uint8_t activations[4 * 64];
std::uint8_t weights[8 * 64];
std::int32_t result[4 * 8];
alignas(64) std::uint8_t scratch[16 * 1024];
}  // namespace

extern "C" int lowbit_firmware_layer() {
  for (unsigned i = 0; i < sizeof activations; ++i)
    activations[i] = static_cast<std::uint8_t>(i & 3);
  for (unsigned i = 0; i < sizeof weights; ++i)
    weights[i] = static_cast<std::uint8_t>((i >> 1) & 1);
  const lowbit::format wf{1, lowbit::encoding::odd_symmetric},
      af{2, lowbit::encoding::unsigned_int};
  lowbit::packed_weights pw;
  lowbit::status s = lowbit::pack_weights(lowbit::codes(weights, 8, 64), wf, af, pw);
  if (!s.ok()) return static_cast<int>(s.code());
  lowbit::workspace ws(scratch, sizeof scratch);
  s = lowbit::gemm(lowbit::codes(activations, 4, 64), af, pw, lowbit::int32_output{result}, ws);
  return static_cast<int>(s.code());
}

int main() { return lowbit_firmware_layer(); }
