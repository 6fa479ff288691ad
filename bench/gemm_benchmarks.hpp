// lowbit GEMM benchmarks: every (weight, activation) cell users ask for, on the shared shape lists
// (square, ResNet-18 convolutions as im2col GEMMs, GEMV and batch-8 4096 x 4096; ResNet-50,
// VGG-16 and MobileNetV2 layers), weights packed outside the timed loop, int32 output. Names:
// lowbit/w<W>a<A>/<M>x<N>x<K> (as the peers', so scripts/bench can join them); the label is
// "<shape name> <kernel name>". GOPS = 2*M*N*K per second. Respects LOWBIT_ISA / LOWBIT_ALGO,
// LOWBIT_BENCH_THREADS=n runs lowbit on its own pool of n threads, and LOWBIT_BENCH_KERNEL=name
// forces one kernel by name (cells it does not serve are skipped with the error).
// lowbit_stage/... runs the user's path on the ResNet-18 shapes: default packing, int32 against
// the fused float and requantized stages (bench_stage).
#pragma once

#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdlib>
#include <iterator>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "lowbit/gemm.hpp"
#include "peers/shapes.hpp"

namespace {

struct cell {
  int w, a;
};
constexpr cell kCells[] = {{1, 1}, {1, 2}, {2, 1}, {2, 2}, {2, 4},
                           {3, 3}, {4, 4}, {4, 8}, {2, 8}, {8, 8}};
// The ResNet-18 shapes also run the rest of the W x A in {1, 2, 3, 4, 8} grid: with the label's
// kernel name, the chosen algorithm and its GOPS per cell and shape.
constexpr int kGridBits[] = {1, 2, 3, 4, 8};

void bench_gemm(benchmark::State& state, cell c, const char* shape, long m, long n, long k) {
  const lowbit::format wf{
      c.w, c.w == 1 ? lowbit::encoding::odd_symmetric : lowbit::encoding::signed_int};
  const lowbit::format af{c.a, lowbit::encoding::unsigned_int};
  std::mt19937 rng(1);
  std::vector<std::uint8_t> a(static_cast<std::size_t>(m * k)), w(static_cast<std::size_t>(n * k));
  for (auto& x : a) x = static_cast<std::uint8_t>(rng() & lowbit::code_mask(af));
  for (auto& x : w) x = static_cast<std::uint8_t>(rng() & lowbit::code_mask(wf));
  lowbit::packed_weights pw;
  lowbit::pack_options opt;
  opt.m_hint = static_cast<std::size_t>(m);
  opt.kernel_name = std::getenv("LOWBIT_BENCH_KERNEL");
  lowbit::status s = lowbit::pack_weights(
      lowbit::codes(w.data(), static_cast<std::size_t>(n), static_cast<std::size_t>(k)), wf, af, pw,
      opt);
  std::vector<std::int32_t> out(static_cast<std::size_t>(m * n));
  lowbit::workspace ws;
  const auto am = lowbit::codes(a.data(), static_cast<std::size_t>(m), static_cast<std::size_t>(k));
  if (s.ok()) s = lowbit::gemm(am, af, pw, lowbit::int32_output{out.data()}, ws);
  if (!s.ok()) {
    state.SkipWithError(s.message().c_str());
    return;
  }
  for (auto _ : state) {
    s = lowbit::gemm(am, af, pw, lowbit::int32_output{out.data()}, ws);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  state.SetLabel(std::string(shape) + " " + pw.kernel_name());
  state.counters["GOPS"] =
      benchmark::Counter(2.0 * m * n * k * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

// The user's path: default packing (no m_hint) and a fused output stage, against the int32
// kernel path on the same packing. stage 0: int32_output; 1: float_output with per-channel
// scales, bias and ReLU; 2: quantized_output to u8 with per-channel multipliers, bias and ReLU.
// Names lowbit_stage/w<W>a<A>/<int32|f32|u8>/<M>x<N>x<K>.
void bench_stage(benchmark::State& state, cell c, int stage, const char* shape, long m, long n,
                 long k) {
  const lowbit::format wf{
      c.w, c.w == 1 ? lowbit::encoding::odd_symmetric : lowbit::encoding::signed_int};
  const lowbit::format af{c.a, lowbit::encoding::unsigned_int};
  const auto um = static_cast<std::size_t>(m), un = static_cast<std::size_t>(n),
             uk = static_cast<std::size_t>(k);
  std::mt19937 rng(1);
  std::vector<std::uint8_t> a(um * uk), w(un * uk);
  for (auto& x : a) x = static_cast<std::uint8_t>(rng() & lowbit::code_mask(af));
  for (auto& x : w) x = static_cast<std::uint8_t>(rng() & lowbit::code_mask(wf));
  lowbit::packed_weights pw;
  lowbit::status s = lowbit::pack_weights(lowbit::codes(w.data(), un, uk), wf, af, pw);
  std::vector<float> scales(un), bias(un);
  std::vector<std::int32_t> ibias(un);
  std::vector<lowbit::fixed_multiplier> mult(un);
  for (std::size_t j = 0; j < un; ++j) {
    scales[j] = 0.001f * static_cast<float>(1 + rng() % 100);
    bias[j] = 0.01f * static_cast<float>(static_cast<int>(rng() % 200) - 100);
    ibias[j] = static_cast<std::int32_t>(rng() % 200) - 100;
    if (s.ok()) s = lowbit::make_fixed_multiplier(1e-3 * (1 + rng() % 100), mult[j]);
  }
  std::vector<std::int32_t> out32(um * un);
  std::vector<float> outf(um * un);
  std::vector<std::uint8_t> out8(um * un);
  lowbit::int32_output o32{out32.data()};
  lowbit::float_output of;
  of.data = outf.data();
  of.capacity = outf.size();
  of.a_scale = 0.05f;
  of.w_scales = scales.data();
  of.w_scale_count = un;
  of.bias = bias.data();
  of.clamp_min = 0.0f;
  lowbit::quantized_output oq;
  oq.data = out8.data();
  oq.capacity = out8.size();
  oq.multipliers = mult.data();
  oq.multiplier_count = un;
  oq.bias = ibias.data();
  oq.clamp_min = 0;
  lowbit::workspace ws;
  const auto am = lowbit::codes(a.data(), um, uk);
  auto run = [&] {
    return stage == 0
               ? lowbit::gemm(am, af, pw, o32, ws)
               : (stage == 1 ? lowbit::gemm(am, af, pw, of, ws) : lowbit::gemm(am, af, pw, oq, ws));
  };
  if (s.ok()) s = run();
  if (!s.ok()) {
    state.SkipWithError(s.message().c_str());
    return;
  }
  for (auto _ : state) {
    s = run();
    benchmark::DoNotOptimize(out32.data());
    benchmark::DoNotOptimize(outf.data());
    benchmark::DoNotOptimize(out8.data());
    benchmark::ClobberMemory();
  }
  state.SetLabel(std::string(shape) + " " + pw.kernel_name(um));
  state.counters["GOPS"] =
      benchmark::Counter(2.0 * m * n * k * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

template <class Shapes>
void register_stages(const Shapes& shapes) {
  static const char* const names[] = {"int32", "f32", "u8"};
  for (const auto& sh : shapes)
    for (const cell c : {cell{1, 1}, cell{2, 2}, cell{4, 4}, cell{8, 8}})
      for (int stage = 0; stage < 3; ++stage) {
        const std::string name = "lowbit_stage/w" + std::to_string(c.w) + "a" +
                                 std::to_string(c.a) + "/" + names[stage] + "/" +
                                 std::to_string(sh.M) + "x" + std::to_string(sh.N) + "x" +
                                 std::to_string(sh.K);
        benchmark::RegisterBenchmark(name.c_str(), bench_stage, c, stage, sh.name, sh.M, sh.N, sh.K)
            ->Unit(benchmark::kMicrosecond)
            ->UseRealTime();
      }
}

// Per-group weight scales (LLM weights): w<W>a8, signed weights and activations, float output,
// packed for M (m_hint) in K groups of g with the scales given per call (f32_g<G>:
// float_output::w_group_scales) or at pack time (f32_g<G>p: pack_options::group_scales, stored
// in binary16: the scales here are exact in it) or, for g = 0, without groups (per-channel
// w_scales): the cost of the groups against the plain float stage on the same cell and shape.
// Names lowbit_stage/w<W>a8/<f32|f32_g<G>|f32_g<G>p>/<M>x<N>x<K>; the counter bytes_per_weight
// is packed_weights::size_bytes() / (N K).
void bench_group(benchmark::State& state, int wb, std::size_t g, bool stored, long m, long n,
                 long k) {
  const lowbit::format wf{wb, lowbit::encoding::signed_int};
  const lowbit::format af{8, lowbit::encoding::signed_int};
  const auto um = static_cast<std::size_t>(m), un = static_cast<std::size_t>(n),
             uk = static_cast<std::size_t>(k);
  std::mt19937 rng(1);
  std::vector<std::uint8_t> a(um * uk), w(un * uk);
  for (auto& x : a) x = static_cast<std::uint8_t>(rng() & lowbit::code_mask(af));
  for (auto& x : w) x = static_cast<std::uint8_t>(rng() & lowbit::code_mask(wf));
  const std::size_t groups = g ? (uk + g - 1) / g : 1;
  std::vector<float> scales(un * groups), bias(un), out(um * un);
  for (auto& x : scales) x = std::ldexp(static_cast<float>(1 + rng() % 100), -10);
  for (auto& x : bias) x = 0.01f * static_cast<float>(static_cast<int>(rng() % 200) - 100);
  lowbit::pack_options opt;
  opt.m_hint = um;
  opt.k_group = g;
  if (stored) {
    opt.group_scales = scales.data();
    opt.group_scale_count = scales.size();
  }
  lowbit::packed_weights pw;
  lowbit::status s = lowbit::pack_weights(lowbit::codes(w.data(), un, uk), wf, af, pw, opt);
  lowbit::float_output of;
  of.data = out.data();
  of.a_scale = 0.05f;
  of.bias = bias.data();
  if (stored) {
    // the weights' own scales
  } else if (g) {
    of.w_group_scales = scales.data();
  } else {
    of.w_scales = scales.data();
    of.w_scale_count = un;
  }
  lowbit::workspace ws;
  const auto am = lowbit::codes(a.data(), um, uk);
  if (s.ok()) s = lowbit::gemm(am, af, pw, of, ws);
  if (!s.ok()) {
    state.SkipWithError(s.message().c_str());
    return;
  }
  for (auto _ : state) {
    s = lowbit::gemm(am, af, pw, of, ws);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  state.SetLabel(pw.kernel_name(um));
  state.counters["GOPS"] =
      benchmark::Counter(2.0 * m * n * k * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["bytes_per_weight"] =
      static_cast<double>(pw.size_bytes()) / (static_cast<double>(n) * static_cast<double>(k));
}

void register_groups() {
  struct shape {
    long n, k;
  };
  for (const int wb : {4, 2})
    for (const long m : {1L, 256L})
      for (const shape sh : {shape{4096, 4096}, shape{11008, 4096}})
        for (const std::size_t g : {std::size_t{0}, std::size_t{32}, std::size_t{128}})
          for (const bool stored : {false, true}) {
            if (stored && g == 0) continue;
            const std::string name =
                "lowbit_stage/w" + std::to_string(wb) + "a8/" +
                (g ? "f32_g" + std::to_string(g) + (stored ? "p" : "") : std::string("f32")) + "/" +
                std::to_string(m) + "x" + std::to_string(sh.n) + "x" + std::to_string(sh.k);
            benchmark::RegisterBenchmark(name.c_str(), bench_group, wb, g, stored, m, sh.n, sh.k)
                ->Unit(benchmark::kMicrosecond)
                ->UseRealTime();
          }
}

// One packing for every M (docs/gemv.md): the same 4096 x 4096 weights packed by default (no
// m_hint; hint 0) or for m_hint = h, run at M = 1, 8 and 256, int32 output. The target: default
// packing within a few percent of the best hinted packing at each M. Names
// lowbit_packing/w<W>a<A>/<default|hint<H>>/<M>x4096x4096; the label is the kernel that runs.
void bench_packing(benchmark::State& state, cell c, std::size_t hint, long m) {
  const lowbit::format wf{
      c.w, c.w == 1 ? lowbit::encoding::odd_symmetric : lowbit::encoding::signed_int};
  const lowbit::format af{c.a, lowbit::encoding::unsigned_int};
  const std::size_t um = static_cast<std::size_t>(m), n = 4096, k = 4096;
  std::mt19937 rng(1);
  std::vector<std::uint8_t> a(um * k), w(n * k);
  for (auto& x : a) x = static_cast<std::uint8_t>(rng() & lowbit::code_mask(af));
  for (auto& x : w) x = static_cast<std::uint8_t>(rng() & lowbit::code_mask(wf));
  lowbit::pack_options opt;
  opt.m_hint = hint;
  lowbit::packed_weights pw;
  lowbit::status s = lowbit::pack_weights(lowbit::codes(w.data(), n, k), wf, af, pw, opt);
  std::vector<std::int32_t> out(um * n);
  lowbit::workspace ws;
  const auto am = lowbit::codes(a.data(), um, k);
  if (s.ok()) s = lowbit::gemm(am, af, pw, lowbit::int32_output{out.data()}, ws);
  if (!s.ok()) {
    state.SkipWithError(s.message().c_str());
    return;
  }
  for (auto _ : state) {
    s = lowbit::gemm(am, af, pw, lowbit::int32_output{out.data()}, ws);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  state.SetLabel(std::string(pw.kernel_name(um)) + " " + std::to_string(pw.size_bytes() / 1024) +
                 " KiB");
  state.counters["GOPS"] =
      benchmark::Counter(2.0 * m * n * k * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

void register_packing() {
  for (const cell c : {cell{4, 8}, cell{2, 8}, cell{1, 8}, cell{2, 2}, cell{1, 1}})
    for (const long m : {1L, 8L, 256L})
      for (const std::size_t hint :
           {std::size_t{0}, std::size_t{1}, std::size_t{8}, std::size_t{256}}) {
        // The hints that can be best at this M: 1 and 8 for M = 1, 8 and 256 for M = 8, 256 for
        // M = 256 (a small-M layout at M = 256 re-reads its weights per row tile).
        if ((m == 1 && hint == 256) || (m == 8 && hint == 1) ||
            (m == 256 && (hint == 1 || hint == 8)))
          continue;
        const std::string name = "lowbit_packing/w" + std::to_string(c.w) + "a" +
                                 std::to_string(c.a) + "/" +
                                 (hint ? "hint" + std::to_string(hint) : std::string("default")) +
                                 "/" + std::to_string(m) + "x4096x4096";
        benchmark::RegisterBenchmark(name.c_str(), bench_packing, c, hint, m)
            ->Unit(benchmark::kMicrosecond)
            ->UseRealTime();
      }
}

// Network layers repeat shapes: each M x N x K is registered once (the first layer's name).
std::set<std::string>& registered_shapes() {
  static std::set<std::string> s;
  return s;
}

template <class Shapes>
void register_all(const Shapes& shapes, bool whole_grid = false) {
  std::vector<cell> cells(std::begin(kCells), std::end(kCells));
  if (whole_grid)
    for (int w : kGridBits)
      for (int a : kGridBits) {
        bool listed = false;
        for (const cell c : kCells) listed |= c.w == w && c.a == a;
        if (!listed) cells.push_back({w, a});
      }
  for (const auto& sh : shapes) {
    const std::string key =
        std::to_string(sh.M) + "x" + std::to_string(sh.N) + "x" + std::to_string(sh.K);
    if (!registered_shapes().insert(key).second) continue;
    for (const cell c : cells) {
      const std::string name = "lowbit/w" + std::to_string(c.w) + "a" + std::to_string(c.a) + "/" +
                               std::to_string(sh.M) + "x" + std::to_string(sh.N) + "x" +
                               std::to_string(sh.K);
      benchmark::RegisterBenchmark(name.c_str(), bench_gemm, c, sh.name, sh.M, sh.N, sh.K)
          ->Unit(benchmark::kMicrosecond)
          ->UseRealTime();
    }
  }
}

}  // namespace

// Registers every lowbit GEMM benchmark (called from bench_gemm and from bench_peers, so the
// peers and lowbit also run in one binary).
inline int register_lowbit_gemm_benchmarks() {
  namespace s = lowbit_bench::shapes;
  // LOWBIT_BENCH_THREADS=n runs lowbit on its own pool of n threads (default 1).
  if (const char* t = std::getenv("LOWBIT_BENCH_THREADS"))
    lowbit::set_num_threads(static_cast<std::size_t>(std::atoi(t)));
  register_all(s::kResnet18, true);
  register_stages(s::kResnet18);
  register_groups();
  register_all(s::kSquare);
  register_all(s::kGemv);
  // ResNet-50, VGG-16 and MobileNetV2 convolutions as im2col GEMMs (scripts/bench --networks).
  register_all(s::kResnet50Convs);
  register_all(s::kVgg16Convs);
  register_all(s::kMobilenetV2Convs);
  register_packing();
  return 0;
}
