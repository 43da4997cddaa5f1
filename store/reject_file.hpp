#pragma once
/// The rejected rows of a contact import as CSV (store/contact_import.hpp): the original
/// columns, then the row's line and the reason, written to a temp file beside the destination
/// and renamed into place only when the import succeeds.

#include "core/errc.hpp"

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace dialer::store {

/// The rejected rows as CSV, in a temp file beside the destination until commit().
class RejectFile {
 public:
  /// Creates the temp file and writes the header row: `headers`, then `line` and `reason`
  /// (`reject_line` / `reject_reason` when the list already has such a column).
  static Result<std::unique_ptr<RejectFile>> open(const std::filesystem::path& path,
                                                  const std::vector<std::string>& headers,
                                                  char delimiter);

  ~RejectFile();
  RejectFile(const RejectFile&) = delete;
  RejectFile& operator=(const RejectFile&) = delete;

  /// The original fields (padded or cut to the header's count), then the row's line in the
  /// source file and the reason.
  void write(std::span<const std::string_view> fields, std::uint64_t line, std::string_view reason);

  /// Flushes, syncs and renames the temp file onto the destination.
  Result<void> commit();

  /// Removes the destination again (the import failed after commit()).
  void discard() noexcept;

 private:
  RejectFile(std::filesystem::path path, std::string temp, FILE* f, char delimiter)
      : path_(std::move(path)), temp_(std::move(temp)), file_(f), delimiter_(delimiter) {}

  void write_row(std::span<const std::string_view> fields, std::string_view line,
                 std::string_view reason);
  void write_field(std::string_view v);

  std::filesystem::path path_;
  std::string temp_;
  FILE* file_;
  char delimiter_;
  std::size_t count_ = 0;
  bool renamed_ = false;
};

}  // namespace dialer::store
