// lowbit: an executor on OpenMP, for runtimes that already run their own work under OpenMP.
//
//   lowbit::openmp_executor ex(4);          // 0: omp_get_max_threads()
//   lowbit::gemm(a, af, pw, out, ws, &ex);  // or lowbit::set_default_executor(&ex)
//
// Each parallel_for is one `omp parallel for` over the tasks (dynamic schedule: task costs vary
// at the edges of C) with the OpenMP thread number as lowbit's thread index. Compile with
// -fopenmp (CMake: OpenMP::OpenMP_CXX). Optional and header-only: nothing else includes it.
#pragma once

#if !defined(_OPENMP)
#error "lowbit/executors/openmp.hpp: compile with OpenMP enabled (-fopenmp)"
#endif

#include <omp.h>

#include <cstddef>

#include "lowbit/executor.hpp"

namespace lowbit {

class openmp_executor final : public executor {
 public:
  explicit openmp_executor(std::size_t threads = 0) noexcept
      : threads_(threads ? threads : static_cast<std::size_t>(omp_get_max_threads())) {}

  std::size_t threads() const noexcept override { return threads_; }

  void parallel_for(std::size_t count, task_fn task, void* context) noexcept override {
    if (count == 0) return;
    if (threads_ == 1 || count == 1) {
      for (std::size_t i = 0; i < count; ++i) task(context, i, 0);
      return;
    }
    const int n = static_cast<int>(threads_ < count ? threads_ : count);
    const auto last = static_cast<long long>(count);
#pragma omp parallel for num_threads(n) schedule(dynamic, 1)
    for (long long i = 0; i < last; ++i)
      task(context, static_cast<std::size_t>(i), static_cast<std::size_t>(omp_get_thread_num()));
  }

 private:
  std::size_t threads_;
};

}  // namespace lowbit
