#pragma once
/// Generic CSV reading (RFC 4180, over libcsv): records streamed from a descriptor with
/// constant memory, the delimiter sniffed from the header line, a UTF-8 BOM skipped, UTF-8 and
/// size limits checked. Nothing here knows about contacts (store/contact_import.hpp does).

#include "core/errc.hpp"
#include "core/time.hpp"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <stop_token>
#include <string>
#include <string_view>

namespace dialer::store {

/// Bounds on what one file may make the reader hold.
struct CsvLimits {
  std::size_t max_field_bytes = 64 * 1024;  ///< one field, after unquoting
  std::size_t max_row_bytes = 1024 * 1024;  ///< one record, and one physical line
  std::size_t max_fields = 1024;            ///< fields in one record
  std::size_t chunk_bytes = 256 * 1024;     ///< one read(2)
  /// A read that brings no byte for this long fails the import (a stalled pipe).
  Millis read_timeout{60'000};
};

/// One record of the file. The views are valid until the next call to CsvReader::next().
struct CsvRecord {
  std::uint64_t line = 0;  ///< physical line (1-based) where the record starts
  std::span<const std::string_view> fields;
};

/// Streams RFC 4180 records (libcsv) from a descriptor with constant memory: UTF-8 checked per
/// line, a BOM skipped, LF or CRLF, quoted newlines inside fields, the delimiter (`,` `;` or
/// tab) detected from the first line. Blank lines yield no record. Fields are as libcsv gives
/// them (unquoted; spaces around unquoted fields dropped), not otherwise trimmed.
class CsvReader {
 public:
  /// Does not take ownership of `fd`. `stop` interrupts a read (the import then fails with
  /// errc::cancelled).
  explicit CsvReader(int fd, CsvLimits limits = {}, std::stop_token stop = {});
  ~CsvReader();
  CsvReader(const CsvReader&) = delete;
  CsvReader& operator=(const CsvReader&) = delete;

  /// The next record: true when `out` was filled, false at the end of the input. Errors
  /// (structural, the whole file is unusable): parse_error (unterminated quote, invalid UTF-8,
  /// NUL byte), limit_exceeded (a size limit), io_error, timeout, cancelled — each message
  /// names the line.
  Result<bool> next(CsvRecord& out);

  /// The delimiter in use (known after the first record).
  [[nodiscard]] char delimiter() const noexcept;
  /// Bytes consumed from the descriptor so far.
  [[nodiscard]] std::uint64_t bytes_read() const noexcept;
  /// Size of the input when it is a regular file (from its current offset), else 0.
  [[nodiscard]] std::uint64_t bytes_total() const noexcept;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

/// True for the ASCII white space characters (space, \t, \r, \n, \v, \f).
bool is_csv_space(char c) noexcept;
/// `s` without leading and trailing ASCII white space (how fields are compared).
std::string_view trim_csv_field(std::string_view s) noexcept;
/// "line N: ", the prefix of every message about the input.
std::string csv_line_prefix(std::uint64_t line);

}  // namespace dialer::store
