// Bare-metal convolution (Cortex-M7, as firmware.cpp: newlib, -fno-exceptions -fno-rtti, no
// threads, no OS, LOWBIT_NO_HEAP): a padded 3x3 layer whose packed weights go into a static arena
// through lowbit::set_allocator, sized by pack_conv_weights_size, with a caller-owned static
// workspace. The consumers test checks the linked image holds no malloc, operator new, stdio,
// getenv or unwinder.
#include <lowbit/conv.hpp>

namespace {
std::uint8_t input[6 * 6 * 8];    // NHWC, one image of 6 x 6 pixels, 8 channels
std::uint8_t weights[4 * 9 * 8];  // OHWI, 4 output channels
std::int32_t result[6 * 6 * 4];
alignas(64) std::uint8_t scratch[16 * 1024];

// A bump allocator over a static arena: packing allocates and keeps it.
alignas(64) std::uint8_t arena[8 * 1024];
std::size_t arena_used = 0;
void* arena_allocate(void*, std::size_t bytes, std::size_t alignment) noexcept {
  const std::size_t start = (arena_used + alignment - 1) / alignment * alignment;
  if (start > sizeof arena || bytes > sizeof arena - start) return nullptr;
  arena_used = start + bytes;
  return arena + start;
}
void arena_deallocate(void*, void*, std::size_t) noexcept {}  // freed all at once (never, here)
}  // namespace

extern "C" int lowbit_firmware_conv_layer() {
  lowbit::set_allocator({nullptr, &arena_allocate, &arena_deallocate});
  for (unsigned i = 0; i < sizeof input; ++i) input[i] = static_cast<std::uint8_t>(i & 3);
  for (unsigned i = 0; i < sizeof weights; ++i)
    weights[i] = static_cast<std::uint8_t>((i >> 2) & 1);
  const lowbit::format wf{1, lowbit::encoding::odd_symmetric},
      af{2, lowbit::encoding::unsigned_int};
  lowbit::conv_params p;
  p.in_channels = 8;
  p.out_channels = 4;
  p.kernel_h = p.kernel_w = 3;
  p.pad_top = p.pad_left = p.pad_bottom = p.pad_right = 1;
  if (lowbit::pack_conv_weights_size(p, wf, af) > sizeof arena - arena_used) return -1;
  lowbit::packed_conv_weights pw;
  lowbit::status s = lowbit::pack_conv_weights(weights, p, wf, af, pw);
  if (!s.ok()) return static_cast<int>(s.code());
  lowbit::workspace ws(scratch, sizeof scratch);
  s = lowbit::conv2d(input, {1, 6, 6, 8}, af, pw, lowbit::int32_output{result}, ws);
  return static_cast<int>(s.code());
}

int main() { return lowbit_firmware_conv_layer(); }
