// Bare-metal use (Cortex-M7, newlib, -fno-exceptions -fno-rtti, no threads, no OS, no cpuinfo,
// LOWBIT_NO_HEAP): the portable kernel, errors as status values, the packed weights in a static
// arena through lowbit::set_allocator, and a caller-owned static workspace. The consumers test
// checks the linked image's size and that it holds no malloc, stdio, getenv or unwinder.
#include <lowbit/gemm.hpp>

namespace {
std::uint8_t activations[4 * 64];
std::uint8_t weights[8 * 64];
std::int32_t result[4 * 8];
alignas(64) std::uint8_t scratch[16 * 1024];

// A bump allocator over a static arena: packing allocates once and keeps it.
alignas(64) std::uint8_t arena[4 * 1024];
std::size_t arena_used = 0;
void* arena_allocate(void*, std::size_t bytes, std::size_t alignment) noexcept {
  const std::size_t start = (arena_used + alignment - 1) / alignment * alignment;
  if (start > sizeof arena || bytes > sizeof arena - start) return nullptr;
  arena_used = start + bytes;
  return arena + start;
}
void arena_deallocate(void*, void*, std::size_t) noexcept {}  // freed all at once (never, here)
}  // namespace

extern "C" int lowbit_firmware_layer() {
  lowbit::set_allocator({nullptr, &arena_allocate, &arena_deallocate});
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
