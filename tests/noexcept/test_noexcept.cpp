// Built with -fno-exceptions: the library compiles, error paths return their documented status,
// and the error handler (not an exception) is what check() uses.
#include <lowbit/gemm.hpp>

#include <csetjmp>
#include <cstdio>
#include <vector>

#if defined(__cpp_exceptions) || defined(__EXCEPTIONS)
#error "this test must be compiled with -fno-exceptions"
#endif

namespace {
std::jmp_buf back;
lowbit::errc seen = lowbit::errc::ok;
void handler(const lowbit::status& s) {
  seen = s.code();
  std::longjmp(back, 1);
}
int failures = 0;
void expect(bool ok, const char* what) {
  std::printf("%s: %s\n", ok ? "ok" : "FAILED", what);
  failures += ok ? 0 : 1;
}
}  // namespace

int main() {
  std::vector<std::uint8_t> w(4 * 8, 1), a(2 * 8, 1);
  lowbit::packed_weights pw;
  const lowbit::format bad{9, lowbit::encoding::unsigned_int},
      u2{2, lowbit::encoding::unsigned_int};
  lowbit::status s = lowbit::pack_weights(lowbit::codes(w.data(), 4, 8), bad, u2, pw);
  expect(s.code() == lowbit::errc::invalid_bits, "9-bit weights give errc::invalid_bits");
  expect(pw.empty(), "nothing packed on error");
  char msg[128];
  s.describe(msg, sizeof msg);
  std::printf("  message: %s\n", msg);
  s = lowbit::pack_weights(lowbit::codes(w.data(), 4, 8), u2, u2, pw);
  expect(s.ok(), "valid weights pack");
  std::vector<std::int32_t> c(2 * 4, 0);
  s = lowbit::gemm(lowbit::codes(a.data(), 2, 7), u2, pw, lowbit::int32_output{c.data()});
  expect(s.code() == lowbit::errc::dimension_mismatch, "K mismatch gives errc::dimension_mismatch");
  s = lowbit::gemm(lowbit::codes(a.data(), 2, 8), u2, pw, lowbit::int32_output{c.data()});
  expect(s.ok() && c[0] == 8, "valid gemm computes");
  lowbit::set_error_handler(&handler);
  if (setjmp(back) == 0) {
    lowbit::check(lowbit::status{lowbit::errc::null_pointer, "x"});
    expect(false, "check() did not call the handler");
  }
  expect(seen == lowbit::errc::null_pointer, "check() calls the error handler without exceptions");
  std::printf("%d passed, %d failed\n", 6 - failures, failures);
  return failures == 0 ? 0 : 1;
}
