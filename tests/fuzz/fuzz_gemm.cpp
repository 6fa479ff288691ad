// libFuzzer target: pack_weights + gemm over random formats, shapes, storages, strides, codes, zero
// points, output stages, forced kernels / ISA caps / algorithms, K groups, workspaces and
// executors, and empty (default-constructed or moved-from) weights. The exact int32 result must
// equal reference_gemm (shifted by the zero points), the float and quantized stages must equal the
// documented arithmetic applied to it, and every invalid input must give the documented error and
// leave the output untouched (an invalid activation code: its own row untouched; other row blocks
// may be written, docs/errors.md).
#include <cmath>
#include <cstdint>
#include <cstring>
#include <utility>
#include <vector>

#include "fuzz_common.hpp"
#include "lowbit/dispatch/select.hpp"
#include "lowbit/gemm.hpp"
#include "lowbit/reference.hpp"

using namespace lowbit;

namespace {

enum class stage_kind { i32, f32, q8 };

// The sentinel every output byte holds before the call; errors must leave it.
constexpr std::uint8_t sentinel = 0xA5;

bool untouched(const std::vector<std::uint8_t>& out) {
  for (std::uint8_t b : out)
    if (b != sentinel) return false;
  return true;
}

bool byte_is_code(format f, std::uint8_t b) {
  if (f.enc == encoding::signed_int || f.enc == encoding::ternary) {
    const auto v = static_cast<std::int8_t>(b);
    return v >= min_value(f) && v <= max_value(f);
  }
  return b <= code_mask(f);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static thread_pool pool(2);
  static inline_executor inline_ex;
  fuzz::reader r(data, size);

  // Formats and shape. The call's activation format is usually the packing one; sometimes a
  // different (possibly wider, hence refused) one.
  const format wf = fuzz::any_format(r), af = fuzz::any_format(r);
  const format af_call = r.range(0, 7) == 0 ? fuzz::any_format(r) : af;
  // Mostly small (fast executions), sometimes up to 64 x 64 x 300 (several blocks and tiles).
  const bool large = r.range(0, 3) == 0;
  const std::size_t m = r.range(1, large ? 64 : 9), n = r.range(1, large ? 64 : 40),
                    k = r.range(1, large ? 300 : 80);
  const bool w_bitpacked = r.flag(), a_bitpacked = r.flag();
  fuzz::stored_matrix w, a;
  fuzz::store(r, wf, n, k, w_bitpacked, w);
  fuzz::store(r, af_call, m, k, a_bitpacked, a);

  // Sometimes one invalid code, in W (pack must refuse) or in A (gemm must refuse).
  const std::size_t bad = r.range(0, 15);
  bool w_invalid = false, a_invalid = false;
  auto poison = [&](fuzz::stored_matrix& s, format f, std::size_t rows) {
    const std::size_t i = r.range(0, rows - 1), x = r.range(0, k - 1);
    const std::size_t eff = s.ref.stride ? s.ref.stride : row_bytes(s.ref.store, k, f.bits);
    if (s.ref.store == storage::bitpacked) {
      if (f.enc != encoding::ternary) return false;  // every bit pattern is a valid code
      fuzz::put_bits(&s.bytes[i * eff], x, 2, 2u);
      return true;
    }
    std::uint8_t b;
    if (!fuzz::invalid_byte(r, f, b)) return false;
    s.bytes[i * eff + x] = b;
    return true;
  };
  if (bad == 0) w_invalid = poison(w, wf, n);
  if (bad == 1) a_invalid = poison(a, af_call, m);

  // Kernel choice: automatic, an ISA cap, an algorithm, or one runnable kernel by name.
  pack_options opt;
  std::vector<const kernels::ukernel_desc*> runnable;
  detail::for_each_ukernel([&](const kernels::ukernel_desc& d) {
    if ((d.features & ~detail::host_features()) == 0 && d.w_bits >= wf.bits && d.a_bits >= af.bits)
      runnable.push_back(&d);
  });
  const kernels::ukernel_desc* forced = nullptr;
  switch (r.range(0, 4)) {
    case 1:
      opt.cap = static_cast<isa>(r.range(0, static_cast<std::size_t>(isa::native)));
      break;
    case 2:
      opt.algo = static_cast<algorithm>(r.range(0, static_cast<std::size_t>(algorithm::automatic)));
      break;
    case 3:
    case 4:
      if (!runnable.empty()) {
        forced = runnable[r.range(0, runnable.size() - 1)];
        opt.kernel_name = forced->name;
      }
      break;
    default:
      break;
  }
  if (r.flag()) opt.m_hint = r.range(0, 64);
  if (r.range(0, 3) == 0) opt.k_group = forced ? forced->k_step * r.range(1, 8) : r.range(1, 128);

  packed_weights pw;
  const status ps = pack_weights(w.ref, wf, af, pw, opt);
  if (w_invalid) {
    fuzz::expect_code(ps, errc::invalid_code, "pack_weights with an invalid code");
    fuzz::expect(pw.empty(), "failed pack_weights left weights behind");
    return 0;
  }
  // The documented choice: selection, then the signed-weight sibling where it applies.
  const kernels::ukernel_desc* expected_kernel = query_kernel(wf, af, n, k, opt);
  if (expected_kernel == nullptr) {
    fuzz::expect_code(ps, errc::unsupported_isa, "pack_weights with no qualifying kernel");
    fuzz::expect(pw.empty(), "failed pack_weights left weights behind");
    return 0;
  }
  fuzz::expect_code(ps, errc::ok, "pack_weights");
  fuzz::expect(pw.kernel() == expected_kernel, "pack_weights chose another kernel");
  if (forced) fuzz::expect(pw.kernel() == forced, "forced kernel not used");
  fuzz::expect(pw.rows() == n && pw.cols() == k && pw.k_group() == opt.k_group, "layout");

  // Zero points: usually small, sometimes huge (then K may exceed the accumulator limit).
  auto zero = [&](format f) -> std::int32_t {
    switch (r.range(0, 5)) {
      case 0:
        return static_cast<std::int32_t>(r.u32());
      case 1:
        return static_cast<std::int32_t>(r.range(0, 1 << 20)) - (1 << 19);
      default:
        return static_cast<std::int32_t>(r.range(0, 8)) - 4 + (f.bits > 4 ? min_value(f) / 2 : 0);
    }
  };
  zero_points z;
  if (r.flag()) z.a_zero = zero(af_call);
  std::vector<std::int32_t> wz;
  if (r.flag()) {
    wz.resize(r.flag() ? 1 : n);
    for (auto& v : wz) v = zero(wf);
    z.w_zeros = wz.data();
    z.w_zero_count = wz.size();
  }

  // Output stage and its buffer (exactly m rows of ld elements: overruns are ASan errors).
  const auto kind = static_cast<stage_kind>(r.range(0, 2));
  const std::size_t ld = r.flag() ? 0 : n + r.range(0, 9);
  const std::size_t ldc = ld ? ld : n;
  const std::size_t elem =
      kind == stage_kind::q8 ? 1 : (kind == stage_kind::f32 ? sizeof(float) : sizeof(std::int32_t));
  std::vector<std::uint8_t> out(((m - 1) * ldc + n) * elem, sentinel);
  errc want = errc::ok;
  auto want_if = [&](bool cond, errc e) {
    if (want == errc::ok && cond) want = e;
  };
  // gemm's validation order (gemm.hpp): a format, packing, A matrix, stage, groups, K limit,
  // then workspace, then the codes of A.
  want_if(af_call.bits > af.bits, errc::wrong_packing);

  int32_output o32;
  float_output of;
  quantized_output oq;
  std::vector<float> scales, bias_f, group_scales;
  std::vector<std::int32_t> bias_q;
  std::vector<fixed_multiplier> mults;
  const std::size_t groups = pw.k_group() ? (k + pw.k_group() - 1) / pw.k_group() : 0;
  static const float scale_choices[] = {1.0f, 0.5f, 0.001953125f, 3.0f, 0.1f, 1e-4f, 7.25f};
  auto pick_scale = [&] { return scale_choices[r.range(0, 6)] * (r.flag() ? 1.0f : -1.0f); };
  if (kind == stage_kind::i32) {
    o32 = {reinterpret_cast<std::int32_t*>(out.data()), ld, z};
  } else if (kind == stage_kind::f32) {
    of.data = reinterpret_cast<float*>(out.data());
    of.ld = ld;
    of.zeros = z;
    of.a_scale = pick_scale();
    scales.resize(r.flag() ? 1 : n);
    for (auto& s : scales) s = pick_scale();
    of.w_scales = scales.data();
    of.w_scale_count = scales.size();
    if (r.flag()) {
      bias_f.resize(n);
      for (auto& b : bias_f) b = static_cast<float>(static_cast<int>(r.range(0, 200)) - 100) / 8;
      of.bias = bias_f.data();
    }
    if (r.flag()) of.clamp_min = static_cast<float>(static_cast<int>(r.range(0, 100)) - 50);
    if (r.flag()) of.clamp_max = static_cast<float>(static_cast<int>(r.range(0, 100)) - 50);
    want_if(!(of.clamp_min <= of.clamp_max), errc::invalid_argument);
    if (r.range(0, 2) == 0) {
      // Per-group scales: only valid on weights packed with k_group.
      group_scales.resize(n * (groups ? groups : 1));
      for (auto& s : group_scales) s = pick_scale();
      of.w_group_scales = group_scales.data();
      want_if(groups == 0, errc::wrong_packing);
    }
  } else {
    oq.data = out.data();
    oq.ld = ld;
    oq.zeros = z;
    oq.out_format = fuzz::any_format(r);
    oq.out_zero = static_cast<std::int32_t>(r.range(0, 16)) - 8;
    mults.resize(r.flag() ? 1 : n);
    for (auto& mu : mults) {
      const double real =
          std::ldexp(1.0 + r.range(0, 255) / 256.0, -static_cast<int>(r.range(0, 24)));
      fuzz::expect(make_fixed_multiplier(real, mu).ok(), "make_fixed_multiplier");
    }
    oq.multipliers = mults.data();
    oq.multiplier_count = mults.size();
    if (r.flag()) {
      bias_q.resize(n);
      for (auto& b : bias_q) b = static_cast<std::int32_t>(r.range(0, 2000)) - 1000;
      oq.bias = bias_q.data();
    }
    if (r.flag()) oq.clamp_min = static_cast<std::int32_t>(r.range(0, 600)) - 300;
    if (r.flag()) oq.clamp_max = static_cast<std::int32_t>(r.range(0, 600)) - 300;
    want_if(oq.clamp_min > oq.clamp_max, errc::invalid_argument);
    // A clamp range holding no value of the output format is refused (output.hpp).
    std::int64_t lo = std::max<std::int64_t>(min_value(oq.out_format), oq.clamp_min);
    std::int64_t hi = std::min<std::int64_t>(max_value(oq.out_format), oq.clamp_max);
    if (oq.out_format.enc == encoding::odd_symmetric) {
      lo += (lo % 2 == 0);
      hi -= (hi % 2 == 0);
    }
    want_if(lo > hi, errc::invalid_argument);
    // An output zero point outside the format's accepted range (output.hpp) is refused.
    want_if(oq.out_zero < detail::zero_point_min(oq.out_format) ||
                oq.out_zero > detail::zero_point_max(oq.out_format),
            errc::invalid_argument);
  }

  // Zero points outside their formats' accepted ranges are refused before the K limit.
  bool zero_outside =
      z.a_zero < detail::zero_point_min(af_call) || z.a_zero > detail::zero_point_max(af_call);
  for (std::int32_t v : wz)
    zero_outside = zero_outside || v < detail::zero_point_min(wf) || v > detail::zero_point_max(wf);
  want_if(zero_outside, errc::invalid_argument);

  std::int64_t wmax = max_abs_centered(wf);
  if (z.w_zeros) {
    wmax = 0;
    for (std::int32_t v : wz) wmax = std::max<std::int64_t>(wmax, max_abs_centered(wf, v));
  }
  want_if(static_cast<std::int64_t>(k) > max_k(af_call, wf, z.a_zero, wmax),
          errc::accumulator_overflow);

  // Executor and workspace: the per-thread default, an owning one, or a caller buffer sized by
  // gemm_workspace_size (exactly, which must work, or one byte short, which must not).
  executor* ex = nullptr;
  switch (r.range(0, 2)) {
    case 1:
      ex = &pool;
      break;
    case 2:
      ex = &inline_ex;
      break;
    default:
      break;
  }
  const std::size_t threads = ex ? ex->threads() : 1;
  const bool in_place = !a_bitpacked && (af_call.enc == encoding::unsigned_int ||
                                         af_call.enc == encoding::odd_symmetric);
  const std::size_t ws_mode = r.range(0, 3);
  std::vector<std::uint8_t> ws_bytes;
  workspace owned;
  workspace external;
  if (ws_mode >= 2) {
    std::size_t need = gemm_workspace_size(pw, m, !in_place, threads);
    if (ws_mode == 3) {
      --need;
      // The size is exact except for grouped weights under a stage without group scales
      // (gemm_workspace_size cannot know the stage, so it counts the group sums).
      const bool grouped_stage = kind == stage_kind::f32 && of.w_group_scales != nullptr;
      want_if(pw.k_group() == 0 || grouped_stage, errc::buffer_too_small);
    }
    ws_bytes.assign(need, 0);
    external = workspace(ws_bytes.data(), ws_bytes.size());
  }
  workspace& ws = ws_mode == 0 ? detail::thread_workspace() : (ws_mode == 1 ? owned : external);
  want_if(a_invalid, errc::invalid_code);

  auto run = [&](const packed_weights& weights) {
    if (kind == stage_kind::i32) return gemm(a.ref, af_call, weights, o32, ws, ex);
    if (kind == stage_kind::f32) return gemm(a.ref, af_call, weights, of, ws, ex);
    return gemm(a.ref, af_call, weights, oq, ws, ex);
  };

  // Empty weights, default-constructed or moved-from, are refused whatever else is wrong (the
  // activation format, always valid here, is the only earlier check) and nothing is written.
  // Weights moved away and back serve the call below exactly as packed.
  switch (r.range(0, 5)) {
    case 0: {
      const packed_weights none;
      fuzz::expect_empty(none, "default-constructed weights are not empty");
      fuzz::expect_code(run(none), errc::wrong_packing, "gemm on default-constructed weights");
      break;
    }
    case 1: {
      packed_weights held(std::move(pw));
      fuzz::expect_empty(pw, "move-constructed-from weights are not empty");
      fuzz::expect_code(run(pw), errc::wrong_packing, "gemm on moved-from weights");
      pw = std::move(held);
      fuzz::expect_empty(held, "move-assigned-from weights are not empty");
      break;
    }
    case 2: {
      // Move assignment over weights of another shape and kernel, then back by construction.
      const std::uint8_t one[3] = {1, 1, 1};
      packed_weights other;
      fuzz::expect(pack_weights(codes(one, 1, 3), {8, encoding::unsigned_int},
                                {8, encoding::unsigned_int}, other)
                       .ok(),
                   "pack_weights 1 x 3");
      other = std::move(pw);
      fuzz::expect_empty(pw, "move-assigned-from weights are not empty");
      fuzz::expect_code(run(pw), errc::wrong_packing, "gemm on moved-from weights");
      packed_weights back(std::move(other));
      fuzz::expect_empty(other, "move-constructed-from weights are not empty");
      pw = std::move(back);
      break;
    }
    default:
      break;
  }
  fuzz::expect(untouched(out), "gemm on empty weights wrote its output");
  fuzz::expect(pw.kernel() == expected_kernel && pw.rows() == n && pw.cols() == k,
               "weights moved back lost their layout");

  const status gs = run(pw);
  fuzz::expect_code(gs, want, "gemm status");
  if (want == errc::invalid_code) {
    // Activations are validated per row block: other blocks' rows may hold results, but never
    // the row of the first invalid code (its block stops before writing).
    const std::size_t bad_row = static_cast<std::size_t>(gs.value()) / k;
    for (std::size_t b = bad_row * ldc * elem; b < (bad_row * ldc + n) * elem; ++b)
      fuzz::expect(out[b] == sentinel, "gemm wrote the row of an invalid code");
    return 0;
  }
  if (want != errc::ok) {
    fuzz::expect(untouched(out), "failed gemm wrote its output");
    return 0;
  }

  // The oracle: reference_gemm gives sum va * vw; zero points shift it by the value sums.
  std::vector<std::int32_t> ref(m * n);
  fuzz::expect(reference_gemm(a.ref, af_call, w.ref, wf, ref.data(), n).ok(), "reference_gemm");
  std::vector<std::int64_t> sa(m, 0), sw(n, 0);
  for (std::size_t i = 0; i < m; ++i)
    for (std::size_t x = 0; x < k; ++x) sa[i] += code_value(af_call, a.code[i * k + x]);
  for (std::size_t j = 0; j < n; ++j)
    for (std::size_t x = 0; x < k; ++x) sw[j] += code_value(wf, w.code[j * k + x]);
  auto exact = [&](std::size_t i, std::size_t j) -> std::int32_t {
    const std::int64_t za = z.a_zero, zw = z.w_zero(j);
    const std::int64_t t =
        ref[i * n + j] - za * sw[j] - zw * sa[i] + static_cast<std::int64_t>(k) * za * zw;
    fuzz::expect(t >= INT32_MIN && t <= INT32_MAX, "accepted K but T overflows", t);
    return static_cast<std::int32_t>(t);
  };
  // Exact T over one K group (for per-group scales).
  auto exact_group = [&](std::size_t i, std::size_t j, std::size_t g) -> std::int32_t {
    const std::size_t k0 = g * pw.k_group(), k1 = std::min(k, k0 + pw.k_group());
    std::int64_t t = 0;
    for (std::size_t x = k0; x < k1; ++x)
      t += (std::int64_t{code_value(af_call, a.code[i * k + x])} - z.a_zero) *
           (std::int64_t{code_value(wf, w.code[j * k + x])} - z.w_zero(j));
    return static_cast<std::int32_t>(t);
  };

  for (std::size_t i = 0; i < m; ++i) {
    for (std::size_t j = 0; j < n; ++j) {
      const std::size_t at = i * ldc + j;
      const std::int32_t t = exact(i, j);
      if (kind == stage_kind::i32) {
        std::int32_t got;
        std::memcpy(&got, &out[at * 4], 4);
        fuzz::expect(got == t, "int32 result differs from the reference", got, t);
      } else if (kind == stage_kind::f32) {
        float want_v;
        if (of.w_group_scales) {
          float acc = 0.0f;
          for (std::size_t g = 0; g < groups; ++g)
            acc += of.w_group_scales[j * groups + g] * static_cast<float>(exact_group(i, j, g));
          want_v = of.a_scale * acc;
        } else {
          want_v =
              static_cast<float>(t) * (of.a_scale * of.w_scales[of.w_scale_count == 1 ? 0 : j]);
        }
        if (of.bias) want_v += of.bias[j];
        want_v =
            want_v < of.clamp_min ? of.clamp_min : (want_v > of.clamp_max ? of.clamp_max : want_v);
        float got;
        std::memcpy(&got, &out[at * 4], 4);
        if (!(got == want_v))
          fuzz::fail("float result differs", static_cast<long long>(got * 1e6),
                     static_cast<long long>(want_v * 1e6));
      } else {
        const std::uint8_t got = out[at];
        fuzz::expect(byte_is_code(oq.out_format, got), "quantized output is not a valid code", got);
        fuzz::expect(got == fuzz::requantize(oq, t, j), "quantized result differs", got,
                     fuzz::requantize(oq, t, j));
      }
    }
    // Row padding between n and ld stays as it was.
    for (std::size_t j = n; i + 1 < m && j < ldc; ++j)
      for (std::size_t b = 0; b < elem; ++b)
        fuzz::expect(out[(i * ldc + j) * elem + b] == sentinel, "gemm wrote into row padding");
  }
  return 0;
}
