// ggml peers (llama.cpp's tensor library): ggml_mul_mat with q8_0, q4_0 and tq2_0 (ternary)
// weights and f32 activations, which ggml quantizes to q8_0 (q8_K for tq2_0) per call, run by
// ggml's CPU backend on one thread. That is llama.cpp's matrix product on weights loaded without
// the CPU "repack" buffer type (interleaved q4_0 layouts are not measured).
//
// No ggml headers or link-time library: the prebuilt shared libraries (libggml-base.so and the
// CPU backend, one libggml-cpu*.so or several variants, as the npm packages
// @node-llama-cpp/linux-* ship them) are loaded at run time from $LOWBIT_GGML_DIR, and the few
// entry points used are declared here. Of several CPU variants the one whose
// ggml_backend_score is highest on this CPU is used, as ggml's own loader does. The type numbers
// are checked against ggml_type_name at load time, so a ggml whose numbering differs is refused
// rather than misused. Without a usable ggml the peers are not registered, and the reason is in
// the benchmark context (`peer:ggml`).
#pragma once

#include <dirent.h>
#include <dlfcn.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "peers/common.hpp"

namespace lowbit_bench::peers {

namespace ggml_abi {
// struct ggml_init_params.
struct init_params {
  std::size_t mem_size;
  void* mem_buffer;
  bool no_alloc;
};
// enum ggml_type: the values used here (stable since 2024; checked by name when loading).
enum type : int { f32 = 0, q4_0 = 2, q8_0 = 8, tq2_0 = 35 };
}  // namespace ggml_abi

// The loaded library: entry points, or why there are none.
struct GgmlLib {
  std::string error;    // empty: loaded
  std::string variant;  // the CPU backend's file name
  std::string version;
  void* (*init)(ggml_abi::init_params) = nullptr;
  void (*free)(void*) = nullptr;
  void* (*new_tensor_2d)(void*, int, std::int64_t, std::int64_t) = nullptr;
  void* (*mul_mat)(void*, void*, void*) = nullptr;
  void* (*new_graph)(void*) = nullptr;
  void (*build_forward_expand)(void*, void*) = nullptr;
  void* (*get_data)(const void*) = nullptr;
  std::size_t (*row_size)(int, std::int64_t) = nullptr;
  std::size_t (*quantize_chunk)(int, const float*, void*, std::int64_t, std::int64_t, std::int64_t,
                                const float*) = nullptr;
  const char* (*type_name)(int) = nullptr;
  int (*graph_compute)(void*, void*) = nullptr;  // ggml_backend_graph_compute
  void (*backend_free)(void*) = nullptr;
  void* (*cpu_init)() = nullptr;  // ggml_backend_cpu_init
  void (*cpu_set_n_threads)(void*, int) = nullptr;

  bool ok() const { return error.empty(); }
};

namespace ggml_detail {

template <class F>
bool sym(void* handle, const char* name, F& f) {
  f = reinterpret_cast<F>(dlsym(handle, name));
  return f != nullptr;
}

inline GgmlLib load() {
  GgmlLib lib;
  const char* dir_env = std::getenv("LOWBIT_GGML_DIR");
  if (dir_env == nullptr || *dir_env == '\0') {
    const char* why = std::getenv("LOWBIT_GGML_MISSING");
    lib.error = why != nullptr && *why != '\0' ? why : "LOWBIT_GGML_DIR is not set";
    return lib;
  }
  const std::string dir = dir_env;
  void* base = dlopen((dir + "/libggml-base.so").c_str(), RTLD_NOW | RTLD_GLOBAL);
  if (base == nullptr) {
    lib.error = std::string("cannot load libggml-base.so: ") + dlerror();
    return lib;
  }
  // The CPU backend: every libggml-cpu*.so in the folder, the best-scoring one on this CPU.
  void* cpu = nullptr;
  int best = 0;
  if (DIR* d = opendir(dir.c_str())) {
    while (const dirent* e = readdir(d)) {
      const std::string name = e->d_name;
      if (name.rfind("libggml-cpu", 0) != 0 || name.size() < 3 ||
          name.compare(name.size() - 3, 3, ".so") != 0)
        continue;
      void* h = dlopen((dir + "/" + name).c_str(), RTLD_NOW | RTLD_LOCAL);
      if (h == nullptr) continue;
      int (*score)() = nullptr;
      // A build without backend variants has no score: it is the only candidate.
      const int s = sym(h, "ggml_backend_score", score) ? score() : 1;
      if (s > best) {
        if (cpu != nullptr) dlclose(cpu);
        cpu = h;
        best = s;
        lib.variant = name;
      } else {
        dlclose(h);
      }
    }
    closedir(d);
  }
  if (cpu == nullptr) {
    lib.error = "no libggml-cpu*.so in " + dir + " runs on this CPU";
    return lib;
  }
  const char* (*version)() = nullptr;
  const bool all =
      sym(base, "ggml_init", lib.init) && sym(base, "ggml_free", lib.free) &&
      sym(base, "ggml_new_tensor_2d", lib.new_tensor_2d) &&
      sym(base, "ggml_mul_mat", lib.mul_mat) && sym(base, "ggml_new_graph", lib.new_graph) &&
      sym(base, "ggml_build_forward_expand", lib.build_forward_expand) &&
      sym(base, "ggml_get_data", lib.get_data) && sym(base, "ggml_row_size", lib.row_size) &&
      sym(base, "ggml_quantize_chunk", lib.quantize_chunk) &&
      sym(base, "ggml_type_name", lib.type_name) &&
      sym(base, "ggml_backend_graph_compute", lib.graph_compute) &&
      sym(base, "ggml_backend_free", lib.backend_free) &&
      sym(cpu, "ggml_backend_cpu_init", lib.cpu_init) &&
      sym(cpu, "ggml_backend_cpu_set_n_threads", lib.cpu_set_n_threads);
  if (!all) {
    lib.error = "an entry point is missing from " + dir + " (" + lib.variant + ")";
    return lib;
  }
  lib.version = sym(base, "ggml_version", version) ? version() : "?";
  const struct {
    int type;
    const char* name;
  } types[] = {{ggml_abi::f32, "f32"},
               {ggml_abi::q4_0, "q4_0"},
               {ggml_abi::q8_0, "q8_0"},
               {ggml_abi::tq2_0, "tq2_0"}};
  for (const auto& t : types) {
    const char* got = lib.type_name(t.type);
    if (got == nullptr || std::strcmp(got, t.name) != 0) {
      lib.error = "ggml type " + std::to_string(t.type) + " is '" + (got ? got : "null") +
                  "', expected '" + t.name + "': another ggml version";
      return lib;
    }
  }
  return lib;
}

}  // namespace ggml_detail

inline const GgmlLib& ggml_lib() {
  static const GgmlLib lib = ggml_detail::load();
  return lib;
}

// C (M x N, f32) = A (M x K, f32) * W^T (N x K, quantized to Type). The data make every
// quantization exact (each block's largest magnitude sets a scale of 1; integer values), so the
// one-off check compares with the integer product up to float accumulation.
template <int Type>
class GgmlMulMat {
 public:
  GgmlMulMat(long M, long N, long K) : M_(M), N_(N), K_(K) {
    const GgmlLib& g = ggml_lib();
    if (!g.ok()) throw std::runtime_error("ggml: " + g.error);
    const long block = Type == ggml_abi::tq2_0 ? 256 : 32;
    if (K % block != 0)
      throw std::runtime_error("ggml: K = " + std::to_string(K) + " is not a multiple of " +
                               std::to_string(block));
    std::mt19937 rng(1);
    const int wmax = Type == ggml_abi::q8_0 ? 127 : Type == ggml_abi::q4_0 ? 7 : 1;
    const int wmin = Type == ggml_abi::q4_0 ? -8 : -wmax;
    std::uniform_int_distribution<int> wd(wmin, wmax), ad(-127, 127);
    wf_.resize(static_cast<std::size_t>(N * K));
    af_.resize(static_cast<std::size_t>(M * K));
    for (std::size_t i = 0; i < wf_.size(); ++i)
      // Each block's first weight has the largest magnitude (q4_0: -8, scale -8 / -8).
      wf_[i] = static_cast<float>(i % static_cast<std::size_t>(block) == 0 ? wmin : wd(rng));
    const std::size_t ablock = Type == ggml_abi::tq2_0 ? 256 : 32;  // q8_K or q8_0
    for (std::size_t i = 0; i < af_.size(); ++i)
      af_[i] = static_cast<float>(i % ablock == 0 ? 127 : ad(rng));

    const std::size_t wbytes = g.row_size(Type, K) * static_cast<std::size_t>(N);
    const std::size_t bytes =
        wbytes + 4 * static_cast<std::size_t>(M * K + M * N) + (std::size_t{8} << 20);
    ctx_ = g.init({bytes, nullptr, false});
    if (ctx_ == nullptr) throw std::runtime_error("ggml_init failed");
    void* w = g.new_tensor_2d(ctx_, Type, K, N);
    void* a = g.new_tensor_2d(ctx_, ggml_abi::f32, K, M);
    out_ = g.mul_mat(ctx_, w, a);
    graph_ = g.new_graph(ctx_);
    g.build_forward_expand(graph_, out_);
    g.quantize_chunk(Type, wf_.data(), g.get_data(w), 0, N, K, nullptr);
    std::memcpy(g.get_data(a), af_.data(), af_.size() * sizeof(float));
    backend_ = g.cpu_init();
    if (backend_ == nullptr) throw std::runtime_error("ggml_backend_cpu_init failed");
    const char* t = std::getenv("LOWBIT_BENCH_THREADS");
    g.cpu_set_n_threads(backend_, t && std::atoi(t) > 1 ? std::atoi(t) : 1);
  }
  ~GgmlMulMat() {
    if (backend_ != nullptr) ggml_lib().backend_free(backend_);
    if (ctx_ != nullptr) ggml_lib().free(ctx_);
  }
  GgmlMulMat(const GgmlMulMat&) = delete;
  GgmlMulMat& operator=(const GgmlMulMat&) = delete;

  void run() {
    if (ggml_lib().graph_compute(backend_, graph_) != 0)
      throw std::runtime_error("ggml_backend_graph_compute failed");
  }

  CheckResult check() {
    run();
    const float* c = static_cast<const float*>(ggml_lib().get_data(out_));
    // Up to 8 rows spread over M, every column: the whole product would take minutes on a
    // board's core (and under QEMU) for the largest shapes.
    const long step = M_ > 8 ? (M_ + 7) / 8 : 1;
    for (long m = 0; m < M_; m += step)
      for (long n = 0; n < N_; ++n) {
        double want = 0, mag = 0;
        for (long k = 0; k < K_; ++k) {
          const double p = double(af_[m * K_ + k]) * double(wf_[n * K_ + k]);
          want += p;
          mag += std::fabs(p);
        }
        // Block sums are exact integers; adding them in float rounds once per block.
        if (std::fabs(c[m * N_ + n] - want) > 1e-6 * mag + 1e-3)
          return check_failed(ggml_lib().type_name(Type), m, n, c[m * N_ + n], want);
      }
    return {};
  }

 private:
  long M_, N_, K_;
  std::vector<float> wf_, af_;
  void* ctx_ = nullptr;
  void* out_ = nullptr;
  void* graph_ = nullptr;
  void* backend_ = nullptr;
};

using GgmlQ8_0 = GgmlMulMat<ggml_abi::q8_0>;
using GgmlQ4_0 = GgmlMulMat<ggml_abi::q4_0>;
using GgmlTq2_0 = GgmlMulMat<ggml_abi::tq2_0>;

}  // namespace lowbit_bench::peers
