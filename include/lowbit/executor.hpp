// lowbit: running a GEMM on several threads, through the caller's pool or lowbit's own.
//
// The driver splits C into tasks (blocks of M rows times ranges of N tiles; see
// driver/driver.hpp) and hands them to an `executor`. Every task computes its outputs exactly as
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
#include <chrono>
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
//
// Waiting spins before it sleeps: a worker that finished a job polls for the next one for up to
// `spin_us` microseconds, and the caller polls for the workers' last tasks, before either blocks
// on a condition variable. A wake-up through the kernel costs tens of microseconds (more in a
// VM), as much as a whole GEMV 1x4096x4096 at 1-2 bits; with sleeping workers two threads ran it
// at half the speed of one. OpenMP runtimes spin the same way. spin_us = 0 sleeps at once (for
// a machine where the pool's threads share cores with other busy work).
class thread_pool final : public executor {
 public:
  explicit thread_pool(std::size_t threads, unsigned spin_us = 200)
      : size_(threads ? threads : 1), spin_(std::chrono::microseconds(spin_us)) {
    for (std::size_t t = 1; t < size_; ++t) workers_.emplace_back([this, t] { work(t); });
  }
  ~thread_pool() override {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stop_.store(true, std::memory_order_relaxed);
      generation_.fetch_add(1, std::memory_order_release);
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
      next_.store(0, std::memory_order_relaxed);
      active_.store(workers_.size(), std::memory_order_relaxed);
      generation_.fetch_add(1, std::memory_order_release);  // publishes the job
    }
    wake_.notify_all();  // no system call when every worker is still spinning
    run_tasks(0);
    if (spin_until([this] { return active_.load(std::memory_order_acquire) == 0; })) return;
    std::unique_lock<std::mutex> lock(mutex_);
    done_.wait(lock, [this] { return active_.load(std::memory_order_acquire) == 0; });
  }

 private:
  // Polls `ready` for up to spin_; true as soon as it holds.
  template <class Ready>
  bool spin_until(Ready ready) const noexcept {
    if (ready()) return true;
    if (spin_.count() == 0) return false;
    const auto end = std::chrono::steady_clock::now() + spin_;
    for (unsigned i = 1;; ++i) {
      if (ready()) return true;
      if (i % 64 == 0 && std::chrono::steady_clock::now() >= end) return false;
#if defined(__x86_64__) || defined(__i386__)
      __builtin_ia32_pause();
#elif defined(__aarch64__) || defined(__arm__)
      __asm__ __volatile__("yield");
#endif
    }
  }

  void run_tasks(std::size_t thread) noexcept {
    for (std::size_t i = next_.fetch_add(1); i < count_; i = next_.fetch_add(1))
      task_(context_, i, thread);
  }

  void work(std::size_t thread) {
    std::size_t seen = 0;
    for (;;) {
      auto published = [&] { return generation_.load(std::memory_order_acquire) != seen; };
      if (!spin_until(published)) {
        std::unique_lock<std::mutex> lock(mutex_);
        wake_.wait(lock, published);
      }
      seen = generation_.load(std::memory_order_acquire);
      if (stop_.load(std::memory_order_relaxed)) return;
      run_tasks(thread);
      // The last worker out tells a caller that may be asleep; taking the mutex orders the
      // notification after the caller's check of active_ (no lost wake-up).
      if (active_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
        std::lock_guard<std::mutex> lock(mutex_);
        done_.notify_one();
      }
    }
  }

  std::size_t size_;
  std::chrono::microseconds spin_;
  std::vector<std::thread> workers_;
  std::mutex job_mutex_, mutex_;
  std::condition_variable wake_, done_;
  std::atomic<std::size_t> generation_{0}, active_{0}, next_{0};
  std::size_t count_ = 0;
  task_fn task_ = nullptr;
  void* context_ = nullptr;
  std::atomic<bool> stop_{false};
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
