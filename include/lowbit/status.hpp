// lowbit: the error channel.
//
// Every public entry returns a `status` and never throws, so the library works with
// -fno-exceptions (embedded builds). A status names the error, the argument at fault, the value
// it had and the limit it broke, without allocating. When exceptions are enabled, `check()`
// turns a failed status into a `lowbit::error` exception (the convenience layer); without them
// it calls the error handler, which by default prints the message and aborts.
#pragma once

#include <cstdarg>
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

namespace detail {
// snprintf through a va_list: the same output and return value, but GCC's -Wformat-truncation
// does not try to prove that a caller's fixed-size buffer holds the longest possible message
// (describe() truncates by design and returns the length needed, as snprintf does).
__attribute__((format(printf, 3, 4))) inline int format_message(char* buf, std::size_t size,
                                                                const char* fmt, ...) noexcept {
  std::va_list args;
  va_start(args, fmt);
  const int n = std::vsnprintf(buf, size, fmt, args);
  va_end(args);
  return n;
}
}  // namespace detail

class [[nodiscard]] status {
 public:
  constexpr status() noexcept = default;
  // An integer argument `value` that broke `limit` (0: none). The message words the limit by
  // the error: the value expected (dimension_mismatch), a bound (at most / at least, from which
  // side value lies) or a range (invalid_dimension: 1..limit; invalid_bits: 1..8).
  constexpr status(errc code, const char* argument, std::int64_t value = 0,
                   std::int64_t limit = 0) noexcept
      : code_(code), argument_(argument), value_(value), limit_(limit) {}

  // value outside [lo, hi]; limit() is the end it broke.
  static constexpr status out_of_range(errc code, const char* argument, std::int64_t value,
                                       std::int64_t lo, std::int64_t hi) noexcept {
    status s(code, argument, value, value < lo ? lo : hi);
    s.form_ = form::range;
    s.lo_ = lo;
    s.hi_ = hi;
    return s;
  }
  // A value that is a name the caller gave (kept as the caller's pointer: valid while the
  // caller's string is), and what was expected, in words.
  static constexpr status bad_name(errc code, const char* argument, const char* given,
                                   const char* expected, std::int64_t value = 0) noexcept {
    status s(code, argument, value);
    s.form_ = form::name;
    s.text_ = given;
    s.expected_ = expected;
    return s;
  }
  // A real value (value() holds it truncated toward zero, saturated), what was expected in
  // words and, when `has_limit`, the real bound it broke, printed after the words.
  static status bad_real(errc code, const char* argument, double given, const char* expected,
                         bool has_limit = false, double limit = 0.0) noexcept {
    status s(code, argument, saturate(given));
    s.form_ = has_limit ? form::real_limit : form::real;
    s.real_ = given;
    s.real_limit_ = limit;
    s.expected_ = expected;
    return s;
  }
  // An integer value and what was expected, in words.
  static constexpr status expecting(errc code, const char* argument, std::int64_t value,
                                    const char* expected, std::int64_t limit = 0) noexcept {
    status s(code, argument, value, limit);
    s.form_ = form::words;
    s.expected_ = expected;
    return s;
  }

  static constexpr status success() noexcept { return status{}; }

  constexpr bool ok() const noexcept { return code_ == errc::ok; }
  constexpr explicit operator bool() const noexcept { return ok(); }
  constexpr errc code() const noexcept { return code_; }
  // The argument at fault, as the API names it ("K", "a.stride", "w_format.bits"...).
  constexpr const char* argument() const noexcept { return argument_ ? argument_ : ""; }
  constexpr std::int64_t value() const noexcept { return value_; }
  constexpr std::int64_t limit() const noexcept { return limit_; }
  // The name the caller gave (bad_name), else nullptr.
  constexpr const char* given_name() const noexcept {
    return form_ == form::name ? text_ : nullptr;
  }
  // The real value the caller gave (bad_real), else value().
  constexpr double real_value() const noexcept {
    return form_ == form::real || form_ == form::real_limit ? real_ : static_cast<double>(value_);
  }

  // Writes "lowbit: <error>: <argument> = <value given> (expected <what>)" into buf; returns the
  // length the full message needs (as snprintf does).
  int describe(char* buf, std::size_t size) const noexcept {
    if (ok()) return detail::format_message(buf, size, "lowbit: ok");
    const char* err = errc_name(code_);
    const char* arg = argument();
    const long long v = static_cast<long long>(value_), l = static_cast<long long>(limit_);
    switch (form_) {
      case form::range:
        return detail::format_message(buf, size, "lowbit: %s: %s = %lld (expected %lld..%lld)", err,
                                      arg, v, static_cast<long long>(lo_),
                                      static_cast<long long>(hi_));
      case form::name:
        if (text_ == nullptr)
          return detail::format_message(buf, size, "lowbit: %s: %s = null (expected %s)", err, arg,
                                        expected_ ? expected_ : "a name");
        return detail::format_message(buf, size, "lowbit: %s: %s = \"%s\" (expected %s)", err, arg,
                                      text_, expected_ ? expected_ : "another name");
      case form::real:
        return detail::format_message(buf, size, "lowbit: %s: %s = %.9g (expected %s)", err, arg,
                                      real_, expected_ ? expected_ : "another value");
      case form::real_limit:
        return detail::format_message(buf, size, "lowbit: %s: %s = %.9g (expected %s %.9g)", err,
                                      arg, real_, expected_ ? expected_ : "", real_limit_);
      case form::words:
        return detail::format_message(buf, size, "lowbit: %s: %s = %lld (expected %s)", err, arg, v,
                                      expected_ ? expected_ : "another value");
      case form::plain:
        break;
    }
    switch (code_) {
      case errc::null_pointer:
        return detail::format_message(buf, size, "lowbit: %s: %s = null (expected a valid pointer)",
                                      err, arg);
      case errc::invalid_code:
        return detail::format_message(
            buf, size,
            "lowbit: %s: %s: the code at flat index %lld (row * cols + col) "
            "(expected only codes of the format)",
            err, arg, v);
      case errc::invalid_encoding:
        return detail::format_message(
            buf, size,
            "lowbit: %s: %s = %lld (expected 0..3: unsigned_int, signed_int, odd_symmetric, "
            "ternary)",
            err, arg, v);
      case errc::invalid_bits:
        if (limit_ == 8)
          return detail::format_message(buf, size, "lowbit: %s: %s = %lld (expected 1..8)", err,
                                        arg, v);
        return detail::format_message(buf, size, "lowbit: %s: %s = %lld (expected %lld)", err, arg,
                                      v, l);
      case errc::dimension_mismatch:
        return detail::format_message(buf, size, "lowbit: %s: %s = %lld (expected %lld)", err, arg,
                                      v, l);
      case errc::invalid_dimension:
        if (limit_ <= 1)
          return detail::format_message(buf, size, "lowbit: %s: %s = %lld (expected at least 1)",
                                        err, arg, v);
        return detail::format_message(buf, size, "lowbit: %s: %s = %lld (expected 1..%lld)", err,
                                      arg, v, l);
      case errc::size_overflow:
        return detail::format_message(
            buf, size, "lowbit: %s: %s = %lld (expected sizes whose product fits size_t)", err, arg,
            v);
      case errc::out_of_memory:
        return detail::format_message(
            buf, size, "lowbit: %s: %s = %lld bytes (expected the allocation to succeed)", err, arg,
            v);
      default:
        break;
    }
    if (limit_ != 0)
      return detail::format_message(buf, size, "lowbit: %s: %s = %lld (expected %s %lld)", err, arg,
                                    v, value_ > limit_ ? "at most" : "at least", l);
    if (code_ == errc::wrong_packing)
      return detail::format_message(
          buf, size,
          "lowbit: %s: %s (expected weights packed, and not moved from, for "
          "this call's formats on this host)",
          err, arg);
    return detail::format_message(
        buf, size, "lowbit: %s: %s = %lld (expected a value docs/errors.md allows)", err, arg, v);
  }

#if defined(LOWBIT_EXCEPTIONS)
  std::string message() const {
    char buf[256];
    const int n = describe(buf, sizeof buf);
    if (n < static_cast<int>(sizeof buf)) return buf;
    std::string s(static_cast<std::size_t>(n) + 1, '\0');
    describe(&s[0], s.size());
    s.resize(static_cast<std::size_t>(n));
    return s;
  }
#endif

 private:
  enum class form : std::uint8_t { plain, range, name, real, real_limit, words };
  static constexpr std::int64_t saturate(double x) noexcept {
    return !(x == x)      ? 0
           : x >= 9.2e18  ? INT64_MAX
           : x <= -9.2e18 ? INT64_MIN
                          : static_cast<std::int64_t>(x);
  }

  errc code_ = errc::ok;
  form form_ = form::plain;
  const char* argument_ = nullptr;
  std::int64_t value_ = 0;
  std::int64_t limit_ = 0;
  std::int64_t lo_ = 0, hi_ = 0;
  const char* text_ = nullptr;
  const char* expected_ = nullptr;
  double real_ = 0.0, real_limit_ = 0.0;
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
#if !defined(LOWBIT_NO_GETENV)  // bare metal (config.hpp): no stdio, only the abort
  char buf[320];
  s.describe(buf, sizeof buf);
  std::fputs(buf, stderr);
  std::fputs("\n", stderr);
#else
  (void)s;
#endif
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
