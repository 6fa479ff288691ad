// lowbit: an owning, 64-byte aligned, movable byte buffer, and where its memory comes from.
//
// Every allocation lowbit owns (packed weights, owning workspaces, per-call temporaries of the
// packing functions) goes through the process-wide allocator (set_allocator below). The default
// is the nothrow aligned operator new, so it works the same with and without exceptions (and on
// newlib, which has no posix_memalign); with LOWBIT_NO_HEAP (config.hpp) there is no default and
// lowbit never calls operator new: firmware passes an allocator over its own memory (a static
// arena), so weights are packed into caller memory. Failure is reported by allocate() == false.
#pragma once

#include <cstddef>
#include <cstdint>
#include <new>
#include <utility>

#include "lowbit/config.hpp"

namespace lowbit {

// Allocates `bytes` aligned to `alignment` (a power of two, at most 64), or returns nullptr;
// deallocate gets back what allocate returned, with the same size.
struct allocator {
  void* context = nullptr;
  void* (*allocate)(void* context, std::size_t bytes, std::size_t alignment) noexcept = nullptr;
  void (*deallocate)(void* context, void* p, std::size_t bytes) noexcept = nullptr;
};

namespace detail {

constexpr std::size_t cache_line = 64;
// x rounded up to whole cache lines (every packed panel and scratch part starts on one).
constexpr std::size_t round64(std::size_t x) noexcept { return (x + 63) / 64 * 64; }

#if !defined(LOWBIT_NO_HEAP)
inline void* heap_allocate(void*, std::size_t bytes, std::size_t alignment) noexcept {
  (void)alignment;  // lowbit asks for cache_line alignment only, which deallocate assumes
  return ::operator new (bytes, std::align_val_t{cache_line}, std::nothrow);
}
inline void heap_deallocate(void*, void* p, std::size_t) noexcept {
  ::operator delete (p, std::align_val_t{cache_line});
}
#endif

// Constant-initialised (no guard variable, no static constructor).
inline allocator& allocator_slot() noexcept {
#if !defined(LOWBIT_NO_HEAP)
  static allocator a{nullptr, &heap_allocate, &heap_deallocate};
#else
  static allocator a{};
#endif
  return a;
}

}  // namespace detail

// Sets the allocator for allocations made from now on (memory already allocated goes back to the
// allocator that gave it). Not thread-safe against concurrent packing: set it at start-up.
inline void set_allocator(const allocator& a) noexcept { detail::allocator_slot() = a; }
inline allocator get_allocator() noexcept { return detail::allocator_slot(); }

namespace detail {

class aligned_buffer {
 public:
  aligned_buffer() noexcept = default;
  explicit aligned_buffer(std::size_t bytes) noexcept { allocate(bytes); }
  aligned_buffer(const aligned_buffer&) = delete;
  aligned_buffer& operator=(const aligned_buffer&) = delete;
  aligned_buffer(aligned_buffer&& o) noexcept
      : data_(std::exchange(o.data_, nullptr)),
        size_(std::exchange(o.size_, 0)),
        from_(std::exchange(o.from_, allocator{})) {}
  aligned_buffer& operator=(aligned_buffer&& o) noexcept {
    if (this != &o) {
      release();
      data_ = std::exchange(o.data_, nullptr);
      size_ = std::exchange(o.size_, 0);
      from_ = std::exchange(o.from_, allocator{});
    }
    return *this;
  }
  ~aligned_buffer() { release(); }

  // Replaces the contents with `bytes` uninitialised bytes; false when out of memory (or, with
  // LOWBIT_NO_HEAP, when no allocator was set).
  bool allocate(std::size_t bytes) noexcept {
    release();
    if (bytes == 0) return true;
    const allocator a = allocator_slot();
    if (a.allocate == nullptr) return false;
    data_ = static_cast<std::uint8_t*>(a.allocate(a.context, bytes, cache_line));
    if (data_ == nullptr) return false;
    size_ = bytes;
    from_ = a;
    return true;
  }

  // Grows (never shrinks) to at least `bytes`; contents are not kept.
  bool reserve(std::size_t bytes) noexcept { return bytes <= size_ || allocate(bytes); }

  void release() noexcept {
    if (data_ != nullptr && from_.deallocate != nullptr)
      from_.deallocate(from_.context, data_, size_);
    data_ = nullptr;
    size_ = 0;
    from_ = allocator{};
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
  allocator from_{};  // the allocator data_ came from
};

}  // namespace detail
}  // namespace lowbit
