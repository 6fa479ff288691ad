// A downstream program: the same file is built through find_package, add_subdirectory and plain
// vendoring (g++ -I include), and must print "lowbit consumer ok". Built with consumer_conv.cpp
// against lowbit::compiled (LOWBIT_CONSUMER_CONV), it also runs that TU's conv2d.
#include <lowbit/gemm.hpp>
#include <lowbit/reference.hpp>

#include <cstdio>
#include <vector>

#if defined(LOWBIT_CONSUMER_CONV)
bool consumer_conv_ok();
#endif

int main() {
  const std::size_t m = 5, n = 7, k = 33;
  std::vector<std::uint8_t> a(m * k), w(n * k);
  for (std::size_t i = 0; i < a.size(); ++i) a[i] = static_cast<std::uint8_t>(i * 7 % 4);
  for (std::size_t i = 0; i < w.size(); ++i) w[i] = static_cast<std::uint8_t>(i * 5 % 4);
  const lowbit::format wf{2, lowbit::encoding::signed_int}, af{2, lowbit::encoding::unsigned_int};
  lowbit::packed_weights pw;
  lowbit::status s = lowbit::pack_weights(lowbit::codes(w.data(), n, k), wf, af, pw);
  std::vector<std::int32_t> c(m * n), ref(m * n);
  if (s.ok())
    s = lowbit::gemm(lowbit::codes(a.data(), m, k), af, pw, lowbit::int32_output{c.data()});
  if (s.ok())
    s = lowbit::reference_gemm(lowbit::codes(a.data(), m, k), af, lowbit::codes(w.data(), n, k), wf,
                               ref.data(), n);
  if (!s.ok()) {
    char msg[200];
    s.describe(msg, sizeof msg);
    std::puts(msg);
    return 1;
  }
  if (c != ref) {
    std::puts("lowbit consumer: wrong result");
    return 1;
  }
#if defined(LOWBIT_CONSUMER_CONV)
  if (!consumer_conv_ok()) {
    std::puts("lowbit consumer: conv2d in the second TU failed");
    return 1;
  }
#endif
  std::printf("lowbit consumer ok (kernel %s)\n", pw.kernel_name());
  return 0;
}
