// lowbit: running a GEMM on several threads, through the caller's pool or lowbit's own.
//
// The driver splits C into tasks (blocks of M rows times ranges of N tiles; see
// detail/driver.hpp) and hands them to an `executor`. Every task computes its outputs exactly as
// the single-threaded loop would, so results are bit-identical for any thread count.
//
// Runtimes plug in their own pool by implementing `executor` (two functions). lowbit's
// `thread_pool` is created by the caller (or lazily by set_num_threads), keeps its threads
// alive across calls, and runs one parallel_for at a time (concurrent callers queue up).
// One thread is the default: nothing is started unless asked.
#pragma once

#include <cstddef>

#include "lowbit/config.hpp"

#if !defined(LOWBIT_NO_THREADS)
#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>
#endif

namespace lowbit {

using task_fn = void (*)(void* context, std::size_t index, std::size_t thread);

class executor {
 public:
  virtual ~executor() = default;
  // How many tasks may run at once; `thread` arguments are below this.
  virtual std::size_t threads() const noexcept = 0;
  // Runs task(context, i, thread) for every i in [0, count) and returns when all have finished.
  // A thread index is never used by two tasks at the same time.
  virtual void parallel_for(std::size_t count, task_fn task, void* context) noexcept = 0;
};

// Runs everything on the calling thread.
class inline_executor final : public executor {
 public:
  std::size_t threads() const noexcept override { return 1; }
  void parallel_for(std::size_t count, task_fn task, void* context) noexcept override {
    for (std::size_t i = 0; i < count; ++i) task(context, i, 0);
  }
};

#if !defined(LOWBIT_NO_THREADS)
// A fixed pool: the calling thread plus (threads - 1) workers that live until destruction.
class thread_pool final : public executor {
 public:
  explicit thread_pool(std::size_t threads) : size_(threads ? threads : 1) {
    for (std::size_t t = 1; t < size_; ++t) workers_.emplace_back([this, t] { work(t); });
  }
  ~thread_pool() override {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stop_ = true;
      ++generation_;
    }
    wake_.notify_all();
    for (std::thread& w : workers_) w.join();
  }
  thread_pool(const thread_pool&) = delete;
  thread_pool& operator=(const thread_pool&) = delete;

  std::size_t threads() const noexcept override { return size_; }

  void parallel_for(std::size_t count, task_fn task, void* context) noexcept override {
    if (count == 0) return;
    if (size_ == 1 || count == 1) {
      for (std::size_t i = 0; i < count; ++i) task(context, i, 0);
      return;
    }
    std::lock_guard<std::mutex> one_job(job_mutex_);  // concurrent callers take turns
    {
      std::lock_guard<std::mutex> lock(mutex_);
      task_ = task;
      context_ = context;
      count_ = count;
      next_.store(0);
      active_ = workers_.size();
      ++generation_;
    }
    wake_.notify_all();
    run_tasks(0);
    std::unique_lock<std::mutex> lock(mutex_);
    done_.wait(lock, [this] { return active_ == 0; });
  }

 private:
  void run_tasks(std::size_t thread) noexcept {
    for (std::size_t i = next_.fetch_add(1); i < count_; i = next_.fetch_add(1))
      task_(context_, i, thread);
  }

  void work(std::size_t thread) {
    std::size_t seen = 0;
    for (;;) {
      {
        std::unique_lock<std::mutex> lock(mutex_);
        wake_.wait(lock, [&] { return generation_ != seen; });
        seen = generation_;
        if (stop_) return;
      }
      run_tasks(thread);
      {
        std::lock_guard<std::mutex> lock(mutex_);
        if (--active_ == 0) done_.notify_one();
      }
    }
  }

  std::size_t size_;
  std::vector<std::thread> workers_;
  std::mutex job_mutex_, mutex_;
  std::condition_variable wake_, done_;
  std::size_t generation_ = 0, active_ = 0, count_ = 0;
  std::atomic<std::size_t> next_{0};
  task_fn task_ = nullptr;
  void* context_ = nullptr;
  bool stop_ = false;
};
#endif

namespace detail {
inline executor*& default_executor_slot() noexcept {
  static executor* e = nullptr;
  return e;
}
}  // namespace detail

// The executor gemm/conv2d use when a call names none (nullptr: one thread).
inline void set_default_executor(executor* e) noexcept { detail::default_executor_slot() = e; }
inline executor* default_executor() noexcept { return detail::default_executor_slot(); }

#if !defined(LOWBIT_NO_THREADS)
// Makes lowbit's own pool of n threads the default (n <= 1: back to one thread). The pool is
// created on first use and replaced when n changes; do not call while GEMMs are running.
inline void set_num_threads(std::size_t n) {
  static std::unique_ptr<thread_pool> pool;
  if (n <= 1) {
    set_default_executor(nullptr);
    pool.reset();
    return;
  }
  if (!pool || pool->threads() != n) {
    set_default_executor(nullptr);
    pool.reset(new thread_pool(n));
  }
  set_default_executor(pool.get());
}
#endif

}  // namespace lowbit
