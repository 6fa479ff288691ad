// lowbit: an executor on pthreadpool (XNNPACK's thread pool, Debian libpthreadpool-dev), so a
// runtime that already runs XNNPACK can give lowbit the same threads.
//
//   lowbit::pthreadpool_executor ex(pool);  // a pool the caller owns (pthreadpool_create)
//   lowbit::pthreadpool_executor own(4);    // or one it creates and destroys
//   lowbit::gemm(a, af, pw, out, ws, &ex);
//
// pthreadpool_parallelize_1d does not tell a task which thread runs it, and lowbit's tasks need
// a thread index (their scratch is per thread). Each thread therefore takes the next index from a
// per-call counter the first time it runs a task of that call (a thread-local remembers the
// call): at most threads() threads run a call, so indices stay below threads() and no two
// threads share one. Link -lpthreadpool. Optional and header-only: nothing else includes it.
//
// Under ThreadSanitizer the hand-over is annotated: pthreadpool synchronises its workers inside
// the library (atomics and futexes), which TSan does not see unless the library itself is
// instrumented. The call releases one address before the tasks start, which each task acquires
// on entry, and each task releases another on exit, which the call acquires after they end: the
// happens-before pthreadpool guarantees, and no more (no task is ordered after another task,
// so races between tasks are still reported; docs/architecture.md, "Executors under
// ThreadSanitizer").
#pragma once

#include <pthreadpool.h>

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "lowbit/executor.hpp"

#if defined(__SANITIZE_THREAD__)
#define LOWBIT_PTHREADPOOL_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define LOWBIT_PTHREADPOOL_TSAN 1
#endif
#endif
#if defined(LOWBIT_PTHREADPOOL_TSAN)
#include <sanitizer/tsan_interface.h>
#endif

namespace lowbit {

class pthreadpool_executor final : public executor {
 public:
  // Uses `pool` (not owned); nullptr runs everything on the calling thread, as pthreadpool does.
  explicit pthreadpool_executor(pthreadpool_t pool) noexcept : pool_(pool), owned_(false) {}
  // Creates a pool of `threads` threads (0: one per logical processor).
  explicit pthreadpool_executor(std::size_t threads) noexcept
      : pool_(pthreadpool_create(threads)), owned_(true) {}
  ~pthreadpool_executor() override {
    if (owned_ && pool_ != nullptr) pthreadpool_destroy(pool_);
  }
  pthreadpool_executor(const pthreadpool_executor&) = delete;
  pthreadpool_executor& operator=(const pthreadpool_executor&) = delete;

  std::size_t threads() const noexcept override {
    return pool_ != nullptr ? pthreadpool_get_threads_count(pool_) : 1;
  }

  void parallel_for(std::size_t count, task_fn task, void* context) noexcept override {
    if (count == 0) return;
    call c{task, context, {0}, next_call_id()};
#if defined(LOWBIT_PTHREADPOOL_TSAN)
    __tsan_release(&c.task);  // start: what the caller wrote before the call
#endif
    pthreadpool_parallelize_1d(pool_, &run, &c, count, 0);
#if defined(LOWBIT_PTHREADPOOL_TSAN)
    __tsan_acquire(&c.id);  // end: what every task wrote
#endif
  }

 private:
  struct call {
    task_fn task;
    void* context;
    std::atomic<std::size_t> next_thread;
    std::uint64_t id;  // unique per call in the process, so a thread-local can recognise it
  };

  static std::uint64_t next_call_id() noexcept {
    static std::atomic<std::uint64_t> ids{0};
    return ids.fetch_add(1, std::memory_order_relaxed) + 1;
  }

  static void run(void* p, std::size_t i) {
    auto& c = *static_cast<call*>(p);
#if defined(LOWBIT_PTHREADPOOL_TSAN)
    __tsan_acquire(&c.task);
#endif
    thread_local std::uint64_t seen_call = 0;
    thread_local std::size_t thread = 0;
    if (seen_call != c.id) {
      seen_call = c.id;
      thread = c.next_thread.fetch_add(1, std::memory_order_relaxed);
    }
    c.task(c.context, i, thread);
#if defined(LOWBIT_PTHREADPOOL_TSAN)
    __tsan_release(&c.id);
#endif
  }

  pthreadpool_t pool_;
  bool owned_;
};

}  // namespace lowbit
