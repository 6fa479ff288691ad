// lowbit: the per-call scratch memory (activation panels, row sums, epilogue coefficients).
//
// Reuse one workspace across calls and the hot path never allocates: an owning workspace grows
// to the largest call it has seen, once. Firmware can hand in its own buffer instead (static
// memory, no heap); a call that needs more then fails with errc::buffer_too_small, naming the
// size it needs (gemm_workspace_size() tells in advance). Not shared between threads running at
// the same time: use one per thread.
#pragma once

#include <cstddef>
#include <cstdint>

#include "lowbit/detail/aligned_buffer.hpp"
#include "lowbit/status.hpp"

namespace lowbit {

class workspace {
 public:
  workspace() noexcept = default;
  // Non-owning: uses [buffer, buffer + bytes) and never allocates.
  workspace(void* buffer, std::size_t bytes) noexcept : external_(buffer), external_size_(bytes) {}
  workspace(workspace&&) noexcept = default;
  workspace& operator=(workspace&&) noexcept = default;

  std::size_t capacity() const noexcept { return external_ ? external_size_ : owned_.size(); }

  // A 64-byte aligned region of at least `bytes`, or an error.
  status acquire(std::size_t bytes, std::uint8_t*& out) noexcept {
    bytes += detail::cache_line;  // room to align an external buffer
    if (external_ != nullptr) {
      if (bytes > external_size_)
        return {errc::buffer_too_small, "workspace", static_cast<std::int64_t>(external_size_),
                static_cast<std::int64_t>(bytes)};
      const auto addr = reinterpret_cast<std::uintptr_t>(external_);
      out = static_cast<std::uint8_t*>(external_) +
            ((detail::cache_line - addr % detail::cache_line) % detail::cache_line);
      return status::success();
    }
    if (!owned_.reserve(bytes))
      return {errc::out_of_memory, "workspace", static_cast<std::int64_t>(bytes)};
    out = owned_.bytes();
    return status::success();
  }

 private:
  detail::aligned_buffer owned_;
  void* external_ = nullptr;
  std::size_t external_size_ = 0;
};

}  // namespace lowbit
