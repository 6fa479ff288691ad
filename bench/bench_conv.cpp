// Convolution layers of ResNet-18, VGG-16 and MobileNetV2 (224x224, batch 1, NHWC), one thread:
// lowbit::conv2d in w1a1, w2a2, w4a4 and w8a8 against oneDNN's int8 convolution (u8s8s32) and
// XNNPACK's qu8 convolution, plus whole-network runs (every ResNet-18 convolution, with its
// repeats, per iteration). Weights are packed outside the timed loop; every implementation is
// checked once per layer against a reference convolution before it is timed.
// Names: conv/<impl>/<layer> and conv/<impl>/resnet18_total; counter GOPS = 2 * MACs per second
// of thread CPU time. lowbit's rows are labelled with the kernel it chose, oneDNN's with its
// implementation. lowbit respects LOWBIT_ISA / LOWBIT_ALGO.
//   taskset -c 1 ./bench_conv --benchmark_filter='resnet18' --benchmark_repetitions=5
//   taskset -c 1 ./bench_conv --benchmark_filter='conv/.*/mbv2_.*dw'
#include <benchmark/benchmark.h>

#include <exception>
#include <functional>
#include <iterator>
#include <lowbit/conv.hpp>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "peers/common.hpp"
#include "peers/conv_shapes.hpp"

#if LOWBIT_HAVE_ONEDNN
#include "peers/onednn_conv.hpp"
// oneDNN's Debian build threads with GNU OpenMP; declared here so no -fopenmp is needed.
extern "C" void omp_set_num_threads(int);
#endif
#if LOWBIT_HAVE_XNNPACK
#include "peers/xnnpack_conv.hpp"
#endif

namespace {

namespace sh = lowbit_bench::shapes;
using lowbit_bench::peers::CheckResult;
using sh::ConvShape;

struct Runner {
  virtual ~Runner() = default;
  virtual void run() = 0;
  virtual CheckResult check() = 0;
  virtual std::string label() const = 0;
};

// lowbit: weights signed (odd-symmetric {-1,+1} at 1 bit), activations unsigned with zero point
// 0 (as bench_gemm), exact int32 output like oneDNN's.
class LowbitConv final : public Runner {
 public:
  LowbitConv(const ConvShape& s, int wb, int ab)
      : d_(s, (1 << ab) - 1, wb == 1 ? 0 : -(1 << (wb - 1)), wb == 1 ? 1 : (1 << (wb - 1)) - 1,
           100u + unsigned(wb * 10 + ab)),
        af_{ab, lowbit::encoding::unsigned_int},
        out_(std::size_t(s.out_h() * s.out_w() * s.oc)) {
    const lowbit::format wf{
        wb, wb == 1 ? lowbit::encoding::odd_symmetric : lowbit::encoding::signed_int};
    std::vector<std::uint8_t> codes(d_.w.size());
    for (std::size_t i = 0; i < codes.size(); ++i) {
      codes[i] = static_cast<std::uint8_t>(d_.w[i]);  // signed: the int8 value is accepted
      if (wb == 1) d_.w[i] = static_cast<std::int8_t>(2 * d_.w[i] - 1);  // code c means 2c - 1
    }
    lowbit::conv_params p;
    p.in_channels = std::size_t(s.c);
    p.out_channels = std::size_t(s.oc);
    p.kernel_h = p.kernel_w = std::size_t(s.k);
    p.stride_h = p.stride_w = std::size_t(s.stride);
    p.pad_top = p.pad_left = p.pad_bottom = p.pad_right = std::size_t(s.pad);
    p.groups = std::size_t(s.groups);
    lowbit::check(lowbit::pack_conv_weights(codes.data(), p, wf, af_, pw_));
    in_ = {1, std::size_t(s.h), std::size_t(s.w), std::size_t(s.c)};
  }

  void run() override {
    lowbit::int32_output o;
    o.data = out_.data();
    const lowbit::status st = lowbit::conv2d(d_.x.data(), in_, af_, pw_, o, ws_);
    if (!st.ok()) throw std::runtime_error(std::string("conv2d failed: ") + st.message());
  }

  CheckResult check() override {
    run();
    const std::vector<std::int32_t> ref = sh::reference_conv(d_);
    for (std::size_t i = 0; i < ref.size(); ++i)
      if (out_[i] != ref[i])
        return lowbit_bench::peers::check_failed("lowbit", long(i / d_.s.oc), long(i % d_.s.oc),
                                                 out_[i], ref[i]);
    return {};
  }

  std::string label() const override { return pw_.kernel_name(); }

 private:
  sh::ConvData d_;
  lowbit::format af_;
  lowbit::tensor_shape in_;
  lowbit::packed_conv_weights pw_;
  lowbit::workspace ws_;
  std::vector<std::int32_t> out_;
};

template <class Peer>
class PeerRunner final : public Runner {
 public:
  explicit PeerRunner(const ConvShape& s) : peer_(s) {}
  void run() override { peer_.run(); }
  CheckResult check() override { return peer_.check(); }
  std::string label() const override { return label_of(&peer_); }

 private:
  // The peer's impl() when it has one (oneDNN names its implementation), else no label.
  template <class P>
  static auto label_of(const P* p) -> decltype(std::string(p->impl())) {
    return p->impl();
  }
  static std::string label_of(const void*) { return {}; }
  Peer peer_;
};

using Factory = std::function<std::unique_ptr<Runner>(const ConvShape&)>;

struct Impl {
  std::string name;
  Factory make;
};

std::unique_ptr<Runner> make_checked(const Impl& impl, const ConvShape& s, std::string& error) {
  try {
    std::unique_ptr<Runner> r = impl.make(s);
    const CheckResult c = r->check();
    if (!c.ok) {
      error = std::string(s.name) + ": check failed: " + c.detail;
      return nullptr;
    }
    return r;
  } catch (const std::exception& e) {
    error = std::string(s.name) + ": " + e.what();
    return nullptr;
  }
}

// One live runner per implementation (the layer last benchmarked): Google Benchmark calls a
// function several times per layer, and building and checking a VGG layer takes a second.
struct Slot {
  std::string layer;
  std::unique_ptr<Runner> runner;
  std::string error;
};

void bench_layer(benchmark::State& state, const Impl* impl, ConvShape s) {
  static std::map<std::string, Slot> slots;
  Slot& slot = slots[impl->name];
  if (slot.layer != s.name) {
    slot.runner.reset();
    slot.layer = s.name;
    slot.error.clear();
    slot.runner = make_checked(*impl, s, slot.error);
  }
  if (!slot.runner) {
    state.SkipWithError(slot.error.c_str());
    return;
  }
  for (auto _ : state) slot.runner->run();
  state.SetLabel(slot.runner->label());
  state.counters["GOPS"] =
      benchmark::Counter(2e-9 * s.macs(), benchmark::Counter::kIsIterationInvariantRate);
}

// Every layer of a network (with its repeats) per iteration.
template <std::size_t n>
void bench_network(benchmark::State& state, const Impl* impl, const ConvShape (*layers)[n]) {
  static std::map<std::string, std::vector<std::unique_ptr<Runner>>> nets;
  static std::map<std::string, std::string> errors;
  auto& net = nets[impl->name];
  std::string& error = errors[impl->name];
  if (net.empty() && error.empty())
    for (const ConvShape& s : *layers) {
      net.push_back(make_checked(*impl, s, error));
      if (!net.back()) break;
    }
  if (!error.empty()) {
    state.SkipWithError(error.c_str());
    return;
  }
  double macs = 0;
  for (const ConvShape& s : *layers) macs += s.repeat * s.macs();
  for (auto _ : state)
    for (std::size_t i = 0; i < n; ++i)
      for (int r = 0; r < (*layers)[i].repeat; ++r) net[i]->run();
  state.counters["GOPS"] =
      benchmark::Counter(2e-9 * macs, benchmark::Counter::kIsIterationInvariantRate);
}

std::vector<Impl> implementations() {
  std::vector<Impl> v;
  for (int b : {1, 2, 4, 8})
    v.push_back({"lowbit_w" + std::to_string(b) + "a" + std::to_string(b),
                 [b](const ConvShape& s) { return std::make_unique<LowbitConv>(s, b, b); }});
#if LOWBIT_HAVE_ONEDNN
  v.push_back({"onednn_u8s8s32", [](const ConvShape& s) {
                 return std::make_unique<PeerRunner<lowbit_bench::peers::OnednnConvU8S8S32>>(s);
               }});
#endif
#if LOWBIT_HAVE_XNNPACK
  v.push_back({"xnnpack_qu8", [](const ConvShape& s) {
                 return std::make_unique<PeerRunner<lowbit_bench::peers::XnnpackConvQu8>>(s);
               }});
#endif
  return v;
}

}  // namespace

int main(int argc, char** argv) {
#if LOWBIT_HAVE_ONEDNN
  omp_set_num_threads(1);
  const dnnl_version_t* v = dnnl_version();
  benchmark::AddCustomContext("onednn", std::to_string(v->major) + "." + std::to_string(v->minor) +
                                            "." + std::to_string(v->patch));
#endif
  static const std::vector<Impl> impls = implementations();
  // Layer-major order: the peers' shared 8-bit problem is built once per layer.
  auto add_layers = [&](const auto& list) {
    for (const ConvShape& s : list)
      for (const Impl& impl : impls)
        benchmark::RegisterBenchmark(("conv/" + impl.name + "/" + s.name).c_str(), bench_layer,
                                     &impl, s)
            ->Unit(benchmark::kMicrosecond);
  };
  add_layers(sh::kResnet18ConvLayers);
  add_layers(sh::kVgg16ConvLayers);
  add_layers(sh::kMobilenetV2ConvLayers);
  for (const Impl& impl : impls)
    benchmark::RegisterBenchmark(("conv/" + impl.name + "/resnet18_total").c_str(),
                                 bench_network<std::size(sh::kResnet18ConvLayers)>, &impl,
                                 &sh::kResnet18ConvLayers)
        ->Unit(benchmark::kMillisecond);

  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
