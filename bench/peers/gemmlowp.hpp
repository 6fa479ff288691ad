// gemmlowp peer: GemmWithOutputPipeline on uint8 x uint8 with offsets and an empty output
// pipeline (raw int32 result). gemmlowp chooses its kernel at compile time, so the call lives in
// gemmlowp.cpp, built with AVX2 enabled (its best x86 kernel); this header has no gemmlowp code.
// gemmlowp's public API has no prepacked-weights entry point: it packs both sides inside every
// call, which is what its users (TFLite's old path among them) pay too.
#pragma once

#include <cstdint>
#include <vector>

#include "peers/common.hpp"

namespace lowbit_bench::peers {

namespace gemmlowp_detail {
// Defined in gemmlowp.cpp; raw pointers only, so no standard-library template is instantiated
// with AVX2 code generation in that translation unit and then shared with the rest.
void* create_context();  // a gemmlowp::GemmContext held to one thread
void destroy_context(void* context);
// C(M x N, row-major) = (A + a_offset) * (Wt + w_offset), A: M x K row-major, Wt: K x N stored
// column-major (that is, W as N x K row-major).
void gemm(void* context, const std::uint8_t* A, const std::uint8_t* W, std::int32_t* C, long M,
          long N, long K, int a_offset, int w_offset);
}  // namespace gemmlowp_detail

class GemmlowpU8S32 {
 public:
  GemmlowpU8S32(long M, long N, long K, std::uint32_t seed = 1)
      : p_(M, N, K, seed),
        w_(p_.W.size()),
        c_(static_cast<std::size_t>(M * N)),
        context_(gemmlowp_detail::create_context()) {
    // gemmlowp multiplies unsigned 8-bit values with offsets: W is stored as w + 128, offset -128.
    for (std::size_t i = 0; i < w_.size(); ++i) w_[i] = static_cast<std::uint8_t>(p_.W[i] + 128);
  }
  ~GemmlowpU8S32() { gemmlowp_detail::destroy_context(context_); }
  GemmlowpU8S32(const GemmlowpU8S32&) = delete;
  GemmlowpU8S32& operator=(const GemmlowpU8S32&) = delete;

  void run() {
    gemmlowp_detail::gemm(context_, p_.A.data(), w_.data(), c_.data(), p_.M, p_.N, p_.K,
                          -int{p_.a_zero}, -128);
  }

  CheckResult check() {
    run();
    return compare_exact("gemmlowp_u8_s32", c_.data(), p_.N, p_);
  }

 private:
  QuantProblem p_;
  std::vector<std::uint8_t> w_;
  std::vector<std::int32_t> c_;
  void* context_;
};

}  // namespace lowbit_bench::peers
