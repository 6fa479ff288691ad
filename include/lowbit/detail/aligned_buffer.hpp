// lowbit: an owning, 64-byte aligned, movable byte buffer.
//
// Allocation uses the nothrow aligned operator new, so it works the same with and without
// exceptions (and on newlib, which has no posix_memalign); failure is reported by empty().
#pragma once

#include <cstddef>
#include <cstdint>
#include <new>
#include <utility>

namespace lowbit {
namespace detail {

constexpr std::size_t cache_line = 64;

class aligned_buffer {
 public:
  aligned_buffer() noexcept = default;
  explicit aligned_buffer(std::size_t bytes) noexcept { allocate(bytes); }
  aligned_buffer(const aligned_buffer&) = delete;
  aligned_buffer& operator=(const aligned_buffer&) = delete;
  aligned_buffer(aligned_buffer&& o) noexcept
      : data_(std::exchange(o.data_, nullptr)), size_(std::exchange(o.size_, 0)) {}
  aligned_buffer& operator=(aligned_buffer&& o) noexcept {
    if (this != &o) {
      release();
      data_ = std::exchange(o.data_, nullptr);
      size_ = std::exchange(o.size_, 0);
    }
    return *this;
  }
  ~aligned_buffer() { release(); }

  // Replaces the contents with `bytes` uninitialised bytes; false when out of memory.
  bool allocate(std::size_t bytes) noexcept {
    release();
    if (bytes == 0) return true;
    data_ = static_cast<std::uint8_t*>(
        ::operator new (bytes, std::align_val_t{cache_line}, std::nothrow));
    if (data_ == nullptr) return false;
    size_ = bytes;
    return true;
  }

  // Grows (never shrinks) to at least `bytes`; contents are not kept.
  bool reserve(std::size_t bytes) noexcept { return bytes <= size_ || allocate(bytes); }

  void release() noexcept {
    if (data_ != nullptr) ::operator delete (data_, std::align_val_t{cache_line});
    data_ = nullptr;
    size_ = 0;
  }

  std::uint8_t* bytes() noexcept { return data_; }
  const std::uint8_t* bytes() const noexcept { return data_; }
  void* data() noexcept { return data_; }
  const void* data() const noexcept { return data_; }
  std::size_t size() const noexcept { return size_; }
  bool empty() const noexcept { return size_ == 0; }

 private:
  std::uint8_t* data_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace detail
}  // namespace lowbit
