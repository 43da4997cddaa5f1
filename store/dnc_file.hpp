#pragma once
/// DNC import files (dnc-import): one number a line, or CSV (the phone column by its header when
/// the file has one, else the first column), streamed in chunks.

#include "core/errc.hpp"
#include "store/csv_reader.hpp"
#include "store/import_report.hpp"
#include "store/phone.hpp"

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace dialer::store {

/// Numbers a DNC import file may hold.
inline constexpr std::size_t kMaxDncFileNumbers = 10'000'000;

/// Numbers of a DNC import file.
struct DncFileReport {
  std::uint64_t numbers = 0;  ///< valid rows (a number repeated in the file counts each time)
  std::uint64_t rows = 0;
  std::uint64_t invalid = 0;
  std::vector<ImportRowError> errors;  ///< the first 100
};

/// Receives the valid numbers of a DNC file in file order, at most `chunk` at a time; an error
/// stops the read and is returned.
using DncChunkSink = std::function<Result<void>(std::span<const std::string> numbers)>;

/// Streams a DNC file (one number a line, or CSV with a phone header): memory stays bounded by
/// `chunk` numbers whatever the file's size (at most kMaxDncFileNumbers valid rows).
Result<DncFileReport> read_dnc_file(int fd, std::string_view default_region, std::size_t chunk,
                                    const DncChunkSink& sink);

}  // namespace dialer::store
