// lowbit: an executor on oneTBB (Debian libtbb-dev), for runtimes built on TBB.
//
//   lowbit::tbb_executor ex(4);             // 0: the default concurrency of a task_arena
//   lowbit::gemm(a, af, pw, out, ws, &ex);
//
// The executor owns a tbb::task_arena of that many slots; each parallel_for runs
// tbb::parallel_for inside it, one task per index, and passes the arena slot
// (this_task_arena::current_thread_index) as lowbit's thread index: slots are unique among the
// threads working in an arena at a time and below its max_concurrency. Link TBB::tbb.
// Optional and header-only: nothing else includes it.
//
// Under ThreadSanitizer the hand-over is annotated, as in pthreadpool.hpp: libtbb synchronises
// its workers inside the library, which TSan does not see unless it is instrumented. The call
// releases one address before the tasks start, which each task acquires on entry, and each task
// releases another on exit, which the call acquires after they end (no task is ordered after
// another task; docs/architecture.md, "Executors under ThreadSanitizer").
#pragma once

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

#include <cstddef>

#include "lowbit/executor.hpp"

#if defined(__SANITIZE_THREAD__)
#define LOWBIT_TBB_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define LOWBIT_TBB_TSAN 1
#endif
#endif
#if defined(LOWBIT_TBB_TSAN)
#include <sanitizer/tsan_interface.h>
#endif

namespace lowbit {

class tbb_executor final : public executor {
 public:
  explicit tbb_executor(std::size_t threads = 0)
      : arena_(threads ? static_cast<int>(threads) : tbb::task_arena::automatic) {
    arena_.initialize();
  }

  std::size_t threads() const noexcept override {
    return static_cast<std::size_t>(arena_.max_concurrency());
  }

  // oneTBB reports failures (out of memory) by exceptions; lowbit's interface is noexcept, so
  // such a failure terminates, as it would in lowbit's own pool.
  void parallel_for(std::size_t count, task_fn task, void* context) noexcept override {
    if (count == 0) return;
#if defined(LOWBIT_TBB_TSAN)
    __tsan_release(&task);  // start: what the caller wrote before the call
#endif
    arena_.execute([&] {
      tbb::parallel_for(
          tbb::blocked_range<std::size_t>(0, count, 1),
          [&](const tbb::blocked_range<std::size_t>& r) {
#if defined(LOWBIT_TBB_TSAN)
            __tsan_acquire(&task);
#endif
            const auto t = static_cast<std::size_t>(tbb::this_task_arena::current_thread_index());
            for (std::size_t i = r.begin(); i != r.end(); ++i) task(context, i, t);
#if defined(LOWBIT_TBB_TSAN)
            __tsan_release(&context);
#endif
          });
    });
#if defined(LOWBIT_TBB_TSAN)
    __tsan_acquire(&context);  // end: what every task wrote
#endif
  }

 private:
  tbb::task_arena arena_;
};

}  // namespace lowbit
