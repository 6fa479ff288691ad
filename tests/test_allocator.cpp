// lowbit::set_allocator: packed weights and owning workspaces take their memory from the
// allocator set at the time, give it back to the same one, and a failing allocator is an
// out_of_memory status (nothing else allocates: the firmware consumer links with LOWBIT_NO_HEAP).
#include <cstdint>
#include <vector>

#include "gemm_tester.hpp"
#include "lowbit/detail/aligned_buffer.hpp"

using namespace lowbit;

namespace {
struct counting_arena {
  alignas(64) std::uint8_t bytes[1 << 20];
  std::size_t used = 0;
  int allocations = 0, deallocations = 0;
  static void* allocate(void* c, std::size_t n, std::size_t align) noexcept {
    auto& a = *static_cast<counting_arena*>(c);
    const std::size_t start = (a.used + align - 1) / align * align;
    if (start > sizeof a.bytes || n > sizeof a.bytes - start) return nullptr;
    a.used = start + n;
    ++a.allocations;
    return a.bytes + start;
  }
  static void deallocate(void* c, void* p, std::size_t) noexcept {
    auto& a = *static_cast<counting_arena*>(c);
    REQUIRE(p >= static_cast<void*>(a.bytes));
    REQUIRE(p < static_cast<void*>(a.bytes + sizeof a.bytes));
    ++a.deallocations;
  }
};
void* refuse(void*, std::size_t, std::size_t) noexcept { return nullptr; }
void never(void*, void*, std::size_t) noexcept {}
}  // namespace

TEST_CASE("set_allocator: packed weights live in the caller's arena", "[allocator]") {
  const allocator before = get_allocator();
  static counting_arena arena;
  const format af{2, encoding::unsigned_int}, wf{2, encoding::signed_int};
  const std::size_t m = 9, n = 40, k = 96;
  std::mt19937 rng(3);
  std::vector<std::uint8_t> a(m * k), w(n * k);
  for (auto& x : a) x = test::random_code(rng, af, 0);
  for (auto& x : w) x = test::random_code(rng, wf, 0);
  std::vector<std::int32_t> expect(m * n), got(m * n);
  {
    packed_weights heap;
    REQUIRE(pack_weights(codes(w.data(), n, k), wf, af, heap).ok());
    workspace ws;
    REQUIRE(gemm(codes(a.data(), m, k), af, heap, int32_output{expect.data()}, ws).ok());
    set_allocator({&arena, &counting_arena::allocate, &counting_arena::deallocate});
    packed_weights pw;
    REQUIRE(pack_weights(codes(w.data(), n, k), wf, af, pw).ok());
    CHECK(arena.allocations >= 1);
    const int after_pack = arena.allocations;
    workspace own;  // owning: grows from the arena too
    REQUIRE(gemm(codes(a.data(), m, k), af, pw, int32_output{got.data()}, own).ok());
    CHECK(got == expect);
    CHECK(arena.allocations > after_pack);
    set_allocator(before);  // heap again; pw and own still go back to the arena
  }
  CHECK(arena.deallocations == arena.allocations);
  set_allocator({nullptr, &refuse, &never});
  packed_weights none;
  CHECK(pack_weights(codes(w.data(), n, k), wf, af, none).code() == errc::out_of_memory);
  set_allocator(before);
}
