// The second TU of the compile-once consumer (consumer_compiled): it calls conv2d and
// quantize from another TU of the same program, which must link against the one definition in
// lowbit::compiled (no duplicate or missing symbols).
#include <lowbit/conv.hpp>
#include <lowbit/quantize.hpp>

#include <vector>

bool consumer_conv_ok() {
  const lowbit::format f{2, lowbit::encoding::unsigned_int};
  lowbit::conv_params p;
  p.in_channels = 8;
  p.out_channels = 4;
  p.kernel_h = p.kernel_w = 3;
  p.pad_top = p.pad_left = p.pad_bottom = p.pad_right = 1;
  std::vector<std::uint8_t> w(4 * 9 * 8, 1), x(5 * 5 * 8, 1);
  lowbit::packed_conv_weights pw;
  if (!lowbit::pack_conv_weights(w.data(), p, f, f, pw).ok()) return false;
  std::vector<std::int32_t> out(5 * 5 * 4);
  if (!lowbit::conv2d(x.data(), {1, 5, 5, 8}, f, pw, lowbit::int32_output{out.data()}).ok())
    return false;
  const float xs[4] = {0.5f, -1.0f, 2.0f, 0.25f};
  lowbit::quant_params q;
  if (!lowbit::choose_quant_params(xs, 4, {4, lowbit::encoding::signed_int},
                                   lowbit::quant_mode::symmetric, q)
           .ok())
    return false;
  // Pixel (0, 0) sees 4 taps of 8 ones, pixel (1, 1) all 9.
  return out[0] == 4 * 8 && out[(1 * 5 + 1) * 4] == 9 * 8;
}
