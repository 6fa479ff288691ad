// lowbit::set_allocator: packed weights and owning workspaces take their memory from the
// allocator set at the time, give it back to the same one, and a failing allocator is an
// out_of_memory status (nothing else allocates: the firmware consumer links with LOWBIT_NO_HEAP).
#include <cstdint>
#include <cstring>
#include <vector>

#include "gemm_tester.hpp"
#include "lowbit/conv.hpp"
#include "lowbit/detail/aligned_buffer.hpp"

using namespace lowbit;

namespace {
struct counting_arena {
  alignas(64) std::uint8_t bytes[1 << 20];
  std::size_t used = 0, limit = sizeof bytes;
  int allocations = 0, deallocations = 0;
  static void* allocate(void* c, std::size_t n, std::size_t align) noexcept {
    auto& a = *static_cast<counting_arena*>(c);
    const std::size_t start = (a.used + align - 1) / align * align;
    if (start > a.limit || n > a.limit - start) return nullptr;
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

namespace {
struct conv_case {
  const char* name;
  conv_params p;
  tensor_shape in;
  format wf, af;
  std::size_t k_group;
};
conv_params conv_of(std::size_t ic, std::size_t oc, std::size_t kh, std::size_t kw,
                    std::size_t stride, std::size_t pad, std::size_t groups) {
  conv_params p;
  p.in_channels = ic;
  p.out_channels = oc;
  p.kernel_h = kh;
  p.kernel_w = kw;
  p.stride_h = p.stride_w = stride;
  p.pad_top = p.pad_left = p.pad_bottom = p.pad_right = pad;
  p.groups = groups;
  return p;
}
}  // namespace

TEST_CASE("set_allocator: conv weights live in the caller's arena, sized by the query",
          "[allocator][conv]") {
  const allocator before = get_allocator();
  static counting_arena arena;
  const format u2{2, encoding::unsigned_int}, s2{2, encoding::signed_int},
      s4{4, encoding::signed_int}, o1{1, encoding::odd_symmetric};
  const conv_case cases[] = {
      {"3x3 padded", conv_of(32, 48, 3, 3, 1, 1, 1), {2, 12, 12, 32}, s2, u2, 0},
      {"grouped", conv_of(32, 64, 3, 3, 1, 1, 4), {1, 9, 9, 32}, s4, u2, 0},
      {"depthwise", conv_of(24, 24, 3, 3, 2, 1, 24), {1, 11, 11, 24}, s2, u2, 0},
      {"1x1 direct", conv_of(64, 40, 1, 1, 1, 0, 1), {1, 7, 7, 64}, o1, u2, 0},
      {"first layer (gapped rows)", conv_of(3, 16, 7, 7, 2, 3, 1), {1, 20, 20, 3}, s2, u2, 0},
      {"k_group", conv_of(32, 24, 3, 3, 1, 1, 1), {1, 8, 8, 32}, s4, u2, 32},
  };
  for (const conv_case& c : cases) {
    INFO(c.name);
    pack_options opt;
    opt.k_group = c.k_group;
    std::mt19937 rng(11);
    std::vector<std::uint8_t> w(c.p.out_channels * c.p.taps() * c.p.in_per_group());
    std::vector<std::uint8_t> x(c.in.n * c.in.h * c.in.w * c.in.c);
    for (auto& v : w) v = test::random_code(rng, c.wf, 0);
    for (auto& v : x) v = test::random_code(rng, c.af, 0);
    const std::size_t outs = c.in.n * c.p.out_h(c.in.h) * c.p.out_w(c.in.w) * c.p.out_channels;
    std::vector<std::int32_t> expect(outs), got(outs, -1);
    workspace ws;
    {
      packed_conv_weights heap;
      REQUIRE(pack_conv_weights(w.data(), c.p, c.wf, c.af, heap, opt).ok());
      REQUIRE(conv2d(x.data(), c.in, c.af, heap, int32_output{expect.data()}, ws, nullptr).ok());
    }
    const std::size_t need = pack_conv_weights_size(c.p, c.wf, c.af, opt);
    REQUIRE(need > 0);
    arena.used = 0;
    arena.allocations = arena.deallocations = 0;
    {
      // 64 bytes short (the last request's rounding): out of memory, naming the bytes needed,
      // and nothing kept.
      arena.limit = need - 64;
      set_allocator({&arena, &counting_arena::allocate, &counting_arena::deallocate});
      packed_conv_weights small;
      const status s = pack_conv_weights(w.data(), c.p, c.wf, c.af, small, opt);
      set_allocator(before);
      CHECK(s.code() == errc::out_of_memory);
      CHECK(s.value() == static_cast<std::int64_t>(need));
      char text[160];
      (void)s.describe(text, sizeof text);
      CHECK(std::strstr(text, std::to_string(need).c_str()) != nullptr);
      CHECK(small.empty());
    }
    CHECK(arena.deallocations == arena.allocations);
    arena.used = 0;
    arena.limit = need;  // exactly the query's bytes: a bump arena of that size suffices
    {
      set_allocator({&arena, &counting_arena::allocate, &counting_arena::deallocate});
      packed_conv_weights pw;
      REQUIRE(pack_conv_weights(w.data(), c.p, c.wf, c.af, pw, opt).ok());
      set_allocator(before);
      CHECK((arena.used + 63) / 64 * 64 == need);
      REQUIRE(conv2d(x.data(), c.in, c.af, pw, int32_output{got.data()}, ws, nullptr).ok());
      CHECK(got == expect);
      CHECK(std::strcmp(pw.kernel_name(), "") != 0);
    }
    CHECK(arena.deallocations == arena.allocations);
    arena.limit = sizeof arena.bytes;
  }
  // Arguments pack_conv_weights refuses: 0.
  CHECK(pack_conv_weights_size(conv_params{}, {2, encoding::signed_int},
                               {2, encoding::unsigned_int}) == 0);
}
