// lowbit: the error channel.
//
// Every public entry returns a `status` and never throws, so the library works with
// -fno-exceptions (embedded builds). A status names the error, the argument at fault, the value
// it had and the limit it broke, without allocating. When exceptions are enabled, `check()`
// turns a failed status into a `lowbit::error` exception (the convenience layer); without them
// it calls the error handler, which by default prints the message and aborts.
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "lowbit/config.hpp"

#if defined(__cpp_exceptions) || defined(__EXCEPTIONS)
#define LOWBIT_EXCEPTIONS 1
#include <stdexcept>
#include <string>
#endif

namespace lowbit {

enum class errc : std::uint8_t {
  ok = 0,
  invalid_bits,                 // bit width outside 1..8 (or ternary not 2-bit)
  invalid_encoding,             // an encoding value lowbit does not know
  unsupported_format,           // a valid format this operation or kernel cannot serve
  invalid_dimension,            // zero (or too large) M, N, K or other size
  dimension_mismatch,           // operands disagree (K of A vs K of the packed weights)
  null_pointer,                 // a required pointer is null
  leading_dimension_too_small,  // a row stride shorter than the row
  buffer_too_small,             // a caller-supplied workspace or buffer is too small
  accumulator_overflow,         // K so large the exact int32 result could overflow
  invalid_code,                 // a code outside the format (bits above the width, ternary 0b10)
  size_overflow,                // a size computation overflows size_t
  out_of_memory,                // allocation failed
  wrong_packing,                // weights packed for another format, kernel or ISA
  unsupported_isa,              // a forced ISA or algorithm that cannot serve the call
  invalid_argument              // any other argument out of its documented range
};

constexpr const char* errc_name(errc e) noexcept {
  switch (e) {
    case errc::ok:
      return "ok";
    case errc::invalid_bits:
      return "invalid bit width";
    case errc::invalid_encoding:
      return "invalid encoding";
    case errc::unsupported_format:
      return "unsupported format";
    case errc::invalid_dimension:
      return "invalid dimension";
    case errc::dimension_mismatch:
      return "dimension mismatch";
    case errc::null_pointer:
      return "null pointer";
    case errc::leading_dimension_too_small:
      return "leading dimension too small";
    case errc::buffer_too_small:
      return "buffer too small";
    case errc::accumulator_overflow:
      return "accumulator could overflow";
    case errc::invalid_code:
      return "invalid code";
    case errc::size_overflow:
      return "size overflow";
    case errc::out_of_memory:
      return "out of memory";
    case errc::wrong_packing:
      return "weights packed for another kernel or format";
    case errc::unsupported_isa:
      return "unsupported ISA or algorithm";
    case errc::invalid_argument:
      return "invalid argument";
  }
  return "unknown error";
}

class [[nodiscard]] status {
 public:
  constexpr status() noexcept = default;
  constexpr status(errc code, const char* argument, std::int64_t value = 0,
                   std::int64_t limit = 0) noexcept
      : code_(code), argument_(argument), value_(value), limit_(limit) {}

  static constexpr status success() noexcept { return status{}; }

  constexpr bool ok() const noexcept { return code_ == errc::ok; }
  constexpr explicit operator bool() const noexcept { return ok(); }
  constexpr errc code() const noexcept { return code_; }
  // The argument at fault, as the API names it ("K", "a.stride", "w_format.bits"...).
  constexpr const char* argument() const noexcept { return argument_ ? argument_ : ""; }
  constexpr std::int64_t value() const noexcept { return value_; }
  constexpr std::int64_t limit() const noexcept { return limit_; }

  // Writes "lowbit: <error>: <argument> = <value> (limit <limit>)" into buf; returns the length
  // the full message needs (as snprintf does).
  int describe(char* buf, std::size_t size) const noexcept {
    if (ok()) return std::snprintf(buf, size, "lowbit: ok");
    if (limit_ != 0 || code_ == errc::invalid_dimension)
      return std::snprintf(buf, size, "lowbit: %s: %s = %lld (limit %lld)", errc_name(code_),
                           argument(), static_cast<long long>(value_),
                           static_cast<long long>(limit_));
    return std::snprintf(buf, size, "lowbit: %s: %s = %lld", errc_name(code_), argument(),
                         static_cast<long long>(value_));
  }

#if defined(LOWBIT_EXCEPTIONS)
  std::string message() const {
    char buf[256];
    describe(buf, sizeof buf);
    return buf;
  }
#endif

 private:
  errc code_ = errc::ok;
  const char* argument_ = nullptr;
  std::int64_t value_ = 0;
  std::int64_t limit_ = 0;
};

#if defined(LOWBIT_EXCEPTIONS)
// Thrown by check() and by the convenience overloads that return objects.
class error : public std::runtime_error {
 public:
  explicit error(const status& s) : std::runtime_error(s.message()), status_(s) {}
  const lowbit::status& status() const noexcept { return status_; }
  errc code() const noexcept { return status_.code(); }

 private:
  lowbit::status status_;
};
#endif

// What check() does with a failed status when exceptions are off. Replaceable, for firmware
// that has no stderr (set it before the first call; it must not return).
using error_handler = void (*)(const status&);

namespace detail {
[[noreturn]] inline void default_error_handler(const status& s) noexcept {
  char buf[256];
  s.describe(buf, sizeof buf);
  std::fputs(buf, stderr);
  std::fputs("\n", stderr);
  std::abort();
}
inline error_handler& error_handler_slot() noexcept {
  static error_handler h = nullptr;
  return h;
}
}  // namespace detail

inline void set_error_handler(error_handler h) noexcept { detail::error_handler_slot() = h; }

// Throws lowbit::error (or calls the error handler without exceptions) when s failed.
inline void check(const status& s) {
  if (s.ok()) return;
#if defined(LOWBIT_EXCEPTIONS)
  throw error(s);
#else
  if (error_handler h = detail::error_handler_slot()) h(s);
  detail::default_error_handler(s);
#endif
}

// Internal: early return on failure.
#define LOWBIT_RETURN_IF_ERROR(expr)           \
  do {                                         \
    const ::lowbit::status lowbit_s_ = (expr); \
    if (!lowbit_s_.ok()) return lowbit_s_;     \
  } while (0)

}  // namespace lowbit
