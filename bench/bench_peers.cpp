// Peer libraries on lowbit's benchmark shapes, one thread, weights prepacked where the peer's API
// allows it. Names: peer/<peer>/<M>x<N>x<K>; counter GOPS = 2*M*N*K per iteration, as a rate.
// Each peer's result is checked once per shape against a reference before it is timed.
//   taskset -c 1 ./bench_peers --benchmark_filter='peer/onednn_matmul_u8s8s32/.*'
//   taskset -c 1 ./bench_peers --benchmark_filter='/3136x64x576$' --benchmark_repetitions=5
// peer_stage/<peer>/<f32|u8>/<M>x<N>x<K>: peers with the output stage fused, named as lowbit's
// lowbit_stage/w<W>a<A>/<int32|f32|u8>/... (the user's path; XNNPACK's qu8 is requantized already).
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <memory>
#include <set>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "gemm_benchmarks.hpp"
#include "peers/shapes.hpp"

// Each peer is compiled in when peers.cmake found it (LOWBIT_HAVE_<PEER>=1); 0 otherwise.
#ifndef LOWBIT_HAVE_ONEDNN
#define LOWBIT_HAVE_ONEDNN 0
#endif
#ifndef LOWBIT_HAVE_XNNPACK
#define LOWBIT_HAVE_XNNPACK 0
#endif
#ifndef LOWBIT_HAVE_QNNPACK
#define LOWBIT_HAVE_QNNPACK 0
#endif
#ifndef LOWBIT_HAVE_GEMMLOWP
#define LOWBIT_HAVE_GEMMLOWP 0
#endif
#ifndef LOWBIT_HAVE_EIGEN
#define LOWBIT_HAVE_EIGEN 0
#endif
#ifndef LOWBIT_HAVE_GGML
#define LOWBIT_HAVE_GGML 0
#endif

#if LOWBIT_HAVE_ONEDNN
#include "peers/onednn.hpp"
// oneDNN's Debian build threads with GNU OpenMP; this is the standard OpenMP entry point, declared
// here so the benchmark needs no -fopenmp (which would also thread Eigen and lowbit).
extern "C" void omp_set_num_threads(int);
#endif
#if LOWBIT_HAVE_XNNPACK
#include "peers/xnnpack.hpp"
#endif
#if LOWBIT_HAVE_GEMMLOWP
#include "peers/gemmlowp.hpp"
#endif
#if LOWBIT_HAVE_EIGEN
#include "peers/eigen.hpp"
#endif
#if LOWBIT_HAVE_QNNPACK
#include "peers/qnnpack.hpp"
#endif
#if LOWBIT_HAVE_GGML
#include "peers/ggml.hpp"
#endif

namespace {

using lowbit_bench::shapes::GemmShape;

// One live instance per peer type: Google Benchmark calls a benchmark function several times for
// one shape (iteration-count probing, repetitions), and building and checking a peer for the
// 2048-cubed shape takes seconds. Benchmarks run in registration order, so one slot suffices.
template <class Peer>
struct PeerSlot {
  std::tuple<long, long, long> shape{-1, -1, -1};
  std::unique_ptr<Peer> peer;
  std::string error;  // non-empty: construction or check failed for this shape
};

template <class Peer>
Peer* prepare(long M, long N, long K, std::string& error) {
  static PeerSlot<Peer> slot;
  if (slot.shape != std::make_tuple(M, N, K)) {
    slot.peer.reset();  // release the previous shape's buffers first
    slot.shape = std::make_tuple(M, N, K);
    slot.error.clear();
    try {
      slot.peer = std::make_unique<Peer>(M, N, K);
      const auto result = slot.peer->check();
      if (!result.ok) slot.error = "check failed: " + result.detail;
    } catch (const std::exception& e) {
      slot.error = e.what();
    }
  }
  error = slot.error;
  return slot.error.empty() ? slot.peer.get() : nullptr;
}

// Peers that name the implementation they chose (oneDNN: its primitive's impl_info_str).
template <class Peer, class = void>
struct has_label : std::false_type {};
template <class Peer>
struct has_label<Peer, std::void_t<decltype(std::declval<const Peer&>().label())>>
    : std::true_type {};

template <class Peer>
void bench_peer(benchmark::State& state, long M, long N, long K) {
  std::string error;
  Peer* peer = prepare<Peer>(M, N, K, error);
  if (peer == nullptr) {
    state.SkipWithError(error.c_str());
    return;
  }
  for (auto _ : state) peer->run();
  if constexpr (has_label<Peer>::value) state.SetLabel(peer->label());
  // Operations in units of 1e9, as a rate: the counter reads directly as GOPS.
  state.counters["GOPS"] = benchmark::Counter(2e-9 * double(M) * double(N) * double(K),
                                              benchmark::Counter::kIsIterationInvariantRate);
}

// Names <prefix><peer>/<M>x<N>x<K>: prefix "peer/" for the int32 (kernel) comparison,
// "peer_stage/" for peers with the output stage fused (the user's path, against lowbit_stage/).
template <class Peer>
void register_peer(const char* peer_name, const GemmShape& s, const char* prefix = "peer/") {
  const std::string name = std::string(prefix) + peer_name + "/" + std::to_string(s.M) + "x" +
                           std::to_string(s.N) + "x" + std::to_string(s.K);
  auto* b = benchmark::RegisterBenchmark(name.c_str(), bench_peer<Peer>, s.M, s.N, s.K)
                ->Unit(benchmark::kMicrosecond);
  // The user's-path rows use wall-clock time, as lowbit_stage/ does: one clock per table.
  if (std::string(prefix) == "peer_stage/") b->UseRealTime();
}

}  // namespace

// Declared even when no peer is compiled in, so the alias below always names something.
namespace lowbit_bench {
namespace peers {}
}  // namespace lowbit_bench

namespace {

std::string shape_key(const GemmShape& s) {
  return std::to_string(s.M) + "x" + std::to_string(s.N) + "x" + std::to_string(s.K);
}

void register_shape(const GemmShape& s) {
  namespace p = lowbit_bench::peers;
  (void)s;
#if LOWBIT_HAVE_ONEDNN
  register_peer<p::OnednnMatmulU8S8S32>("onednn_matmul_u8s8s32", s);
  register_peer<p::OnednnGemmU8S8S32>("onednn_gemm_u8s8s32", s);
  // Per-channel scales, bias and ReLU fused: f32 output, and u8 with an output zero point.
  register_peer<p::OnednnMatmulF32Fused>("onednn/f32", s, "peer_stage/");
  register_peer<p::OnednnMatmulU8Fused>("onednn/u8", s, "peer_stage/");
#endif
#if LOWBIT_HAVE_XNNPACK
  register_peer<p::XnnpackFcQu8>("xnnpack_fc_qu8", s);
  register_peer<p::XnnpackFcQs8>("xnnpack_fc_qs8", s);
  // The same qu8 operator (requantized output with clamping) in the user's-path table.
  register_peer<p::XnnpackFcQu8>("xnnpack/u8", s, "peer_stage/");
#endif
#if LOWBIT_HAVE_QNNPACK
  register_peer<p::QnnpackLinearU8>("qnnpack_linear_u8", s);
#endif
#if LOWBIT_HAVE_GEMMLOWP
  // Its translation unit is compiled for AVX2.
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
    register_peer<p::GemmlowpU8S32>("gemmlowp_u8_s32", s);
#endif
#if LOWBIT_HAVE_EIGEN
  // Its translation unit is compiled for AVX-512.
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
      __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl"))
    register_peer<p::EigenSgemm>("eigen_sgemm_f32", s);
#endif
#if LOWBIT_HAVE_GGML
  // Loaded at run time ($LOWBIT_GGML_DIR); tq2_0's blocks are 256 values of K.
  if (p::ggml_lib().ok()) {
    register_peer<p::GgmlQ8_0>("ggml_q8_0", s);
    register_peer<p::GgmlQ4_0>("ggml_q4_0", s);
    if (s.K % 256 == 0) register_peer<p::GgmlTq2_0>("ggml_tq2_0", s);
  }
#endif
}

#if defined(__x86_64__)
// The GEMV time bound (docs/gemv.md): reading a B-bit 4096 x 4096 weight matrix once, from
// wherever it sits after repeated calls (L2/L3), measured here rather than assumed. Four
// independent OR chains of 32-byte loads keep enough loads in flight to reach the bandwidth.
__attribute__((target("avx2"))) std::uint64_t read_once(const std::uint8_t* p, std::size_t n) {
  __m256i acc[4] = {_mm256_setzero_si256(), _mm256_setzero_si256(), _mm256_setzero_si256(),
                    _mm256_setzero_si256()};
  for (std::size_t x = 0; x + 128 <= n; x += 128)
    for (int j = 0; j < 4; ++j)
      acc[j] = _mm256_or_si256(
          acc[j], _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + x + 32 * j)));
  const __m256i r =
      _mm256_or_si256(_mm256_or_si256(acc[0], acc[1]), _mm256_or_si256(acc[2], acc[3]));
  return static_cast<std::uint64_t>(_mm256_extract_epi64(r, 0));
}

void bench_read_bound(benchmark::State& state, int bits) {
  const std::size_t bytes = std::size_t{4096} * 4096 * static_cast<std::size_t>(bits) / 8;
  std::vector<std::uint8_t> w(bytes, 1);
  for (auto _ : state) benchmark::DoNotOptimize(read_once(w.data(), bytes));
  state.counters["GB/s"] = benchmark::Counter(static_cast<double>(bytes) * 1e-9,
                                              benchmark::Counter::kIsIterationInvariantRate);
}

void register_read_bounds() {
  if (!__builtin_cpu_supports("avx2")) return;
  for (int bits : {1, 2, 4, 8})
    benchmark::RegisterBenchmark(
        ("bound/read_weights_w" + std::to_string(bits) + "/1x4096x4096").c_str(), bench_read_bound,
        bits)
        ->Unit(benchmark::kMicrosecond);
}
#else
void register_read_bounds() {}
#endif

}  // namespace

int main(int argc, char** argv) {
#if LOWBIT_HAVE_ONEDNN
  // One thread unless LOWBIT_BENCH_THREADS asks for more (scripts/bench --threads N).
  const char* t = std::getenv("LOWBIT_BENCH_THREADS");
  omp_set_num_threads(t && std::atoi(t) > 1 ? std::atoi(t) : 1);
  const dnnl_version_t* v = dnnl_version();
  benchmark::AddCustomContext("onednn", std::to_string(v->major) + "." + std::to_string(v->minor) +
                                            "." + std::to_string(v->patch));
#endif
  // Say which peers this binary has: a missing one is skipped, not an error.
  struct peer_state {
    const char* name;
    bool built;
  };
  const peer_state peer_list[] = {{"oneDNN (libdnnl-dev)", LOWBIT_HAVE_ONEDNN != 0},
                                  {"XNNPACK (libxnnpack-dev)", LOWBIT_HAVE_XNNPACK != 0},
                                  {"QNNPACK (libtorch-dev 1.13)", LOWBIT_HAVE_QNNPACK != 0},
                                  {"gemmlowp (libgemmlowp-dev)", LOWBIT_HAVE_GEMMLOWP != 0},
                                  {"Eigen (libeigen3-dev)", LOWBIT_HAVE_EIGEN != 0}};
  // The same in the JSON context (`peer:<name>`), which the report lists; the board kit
  // (scripts/bench-arm) adds its own reasons as --benchmark_context=peer:<name>=... entries.
  for (const peer_state& ps : peer_list) {
    if (!ps.built)
      std::fprintf(stderr, "bench_peers: %s not found at build time: skipped\n", ps.name);
    benchmark::AddCustomContext(std::string("peer:") + ps.name,
                                ps.built ? "built in" : "not built in");
  }
#if LOWBIT_HAVE_GGML
  {
    const auto& g = lowbit_bench::peers::ggml_lib();
    if (!g.ok()) std::fprintf(stderr, "bench_peers: ggml not loaded: %s\n", g.error.c_str());
    benchmark::AddCustomContext(
        "peer:ggml", g.ok() ? "ggml " + g.version + ", " + g.variant : "not loaded: " + g.error);
  }
#endif
  namespace sh = lowbit_bench::shapes;
  for (const auto& s : sh::kSquare) register_shape(s);
  for (const auto& s : sh::kResnet18) register_shape(s);
  for (const auto& s : sh::kGemv) register_shape(s);
  // Network layers as im2col GEMMs, each distinct M x N x K once (scripts/bench --networks).
  std::set<std::string> seen;
  for (const auto& s : sh::kSquare) seen.insert(shape_key(s));
  for (const auto& s : sh::kResnet18) seen.insert(shape_key(s));
  for (const auto& s : sh::kGemv) seen.insert(shape_key(s));
  auto add = [&](const auto& shapes) {
    for (const auto& s : shapes)
      if (seen.insert(shape_key(s)).second) register_shape(s);
  };
  add(sh::kResnet50Convs);
  add(sh::kVgg16Convs);
  add(sh::kMobilenetV2Convs);
  // lowbit itself in the same binary, so one run compares everything (filter with lowbit/ or
  // peer/).
  register_lowbit_gemm_benchmarks();
  // The time bound of the GEMV targets: reading each width's weights once (bound/...).
  register_read_bounds();

  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
