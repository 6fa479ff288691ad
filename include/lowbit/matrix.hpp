// lowbit: how callers hand lowbit a matrix of codes.
//
// Two storages:
//  - one_per_byte: row r starts at data + r * stride bytes; byte k holds code k in its low `bits`
//    bits. For signed and ternary formats the byte may instead hold the value itself as an int8_t
//    (its bits above the width a sign extension), so int8 tensors can be passed as they are. Any
//    other bits set above the width is an invalid code.
//  - bitpacked: row r starts at data + r * stride bytes; code k occupies bits [k*b, k*b + b) of the
//    row read as a little-endian bit stream: byte (k*b)/8, starting at bit (k*b)%8, least
//    significant bit first, continuing into the next byte when it straddles (b = 3, 5, 6, 7).
//    A row takes ceil(cols * b / 8) bytes; bits after the last code are ignored.
// A stride of 0 means rows are contiguous (cols bytes, or ceil(cols * b / 8) bytes).
#pragma once

#include <cstddef>

namespace lowbit {

enum class storage : unsigned char { one_per_byte, bitpacked };

struct matrix_ref {
  const void* data = nullptr;
  std::size_t rows = 0;
  std::size_t cols = 0;
  std::size_t stride = 0;  // bytes between rows; 0 = contiguous
  storage store = storage::one_per_byte;
};

// Convenience constructors.
constexpr matrix_ref codes(const void* data, std::size_t rows, std::size_t cols,
                           std::size_t stride = 0) noexcept {
  return {data, rows, cols, stride, storage::one_per_byte};
}
constexpr matrix_ref bitpacked_codes(const void* data, std::size_t rows, std::size_t cols,
                                     std::size_t stride = 0) noexcept {
  return {data, rows, cols, stride, storage::bitpacked};
}

// Bytes one row of `cols` codes of `bits` bits occupies in a storage.
constexpr std::size_t row_bytes(storage s, std::size_t cols, int bits) noexcept {
  return s == storage::one_per_byte ? cols
                                    : (cols / 8) * static_cast<std::size_t>(bits) +
                                          (cols % 8 * static_cast<std::size_t>(bits) + 7) / 8;
}

}  // namespace lowbit
