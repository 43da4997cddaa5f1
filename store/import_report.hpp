#pragma once
/// What a contact import is told and reports (CONTRACT.md "CSV contact lists" and "Import
/// report"), whichever backend stores the contacts: options, progress, the report and its JSON,
/// and how header names are compared (the reject file and the DNC file reader share it).

#include "core/errc.hpp"
#include "core/time.hpp"
#include "store/csv_reader.hpp"
#include "store/zones.hpp"

#include <boost/json/object.hpp>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <stop_token>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace dialer::store {

/// Looked for only when none of kPhoneHeaders is present, so a file the contract accepts always
/// gets the same column: common spellings in other languages and spreadsheets ("telefon" in
/// data/contacts-semicolon.csv).
inline constexpr std::array<std::string_view, 11> kMorePhoneHeaders{
    "telephone", "tel",  "telefon",    "telefono",  "telefone", "phone_no",
    "mobile_no", "cell", "cell_phone", "cellphone", "handy"};

/// How far an import is.
struct ImportProgress {
  std::uint64_t bytes_read = 0;
  std::uint64_t bytes_total = 0;  ///< 0 when unknown (a pipe)
  std::uint64_t rows = 0;         ///< data rows handled so far
};

/// One helper thread per core (at least one).
inline unsigned default_helper_threads() noexcept {
  return std::max(1U, std::thread::hardware_concurrency());
}

struct ImportOptions {
  /// ISO 3166 alpha-2 region for national formats ("IN"); "" accepts only international forms.
  std::string default_region;
  /// Header of the phone column (compared like every header: lower-cased, spaces and dashes
  /// as `_`); "" = the first header among CONTRACT.md's phone names, else (none of those
  /// present) the first of telephone, tel, telefon, telefono, telefone, phone_no, mobile_no,
  /// cell, cell_phone, cellphone, handy.
  std::string phone_column;
  /// Where to write the rejected rows as CSV (original columns + `reason`, or `reject_reason`
  /// when the list already has a `reason` column; the list's delimiter); "" = nowhere.
  /// Written to a temp file beside it and renamed into place only when the import succeeds.
  std::filesystem::path reject_file;
  /// Reject numbers whose type is not mobile or fixed_line_or_mobile.
  bool mobile_only = false;
  CsvLimits limits;
  /// Called on the importing thread about every 1 MiB read or `progress_rows` rows, and once
  /// at the end.
  std::function<void(const ImportProgress&)> on_progress;
  std::uint64_t progress_rows = 10'000;
  /// Cancels the import (it then fails with errc::cancelled and its staged rows are deleted).
  /// Heeded until the commit point; after it the import completes.
  std::stop_token stop;
  /// Accepted rows written per transaction, while staging and while flipping: the write lock is
  /// held for one chunk at a time, so another connection's writes wait about that long at most.
  /// A chunk's cost is mostly the pages of the (campaign, phone) index it dirties, written to
  /// the WAL at commit: larger chunks cost less in total but hold the lock longer. Also bounds
  /// the rows held in memory between reading and writing.
  std::size_t chunk_rows = 2000;
  /// Extra threads normalising numbers while this one reads and writes (libphonenumber is most
  /// of the work). 0 = everything on the calling thread. Default: one per core, so the reading
  /// and writing thread only fills the gaps (measured on 2 cores, 1M rows: 1 helper 26.7 s,
  /// 2 helpers 21.8 s; libphonenumber alone 19.6-20.6 s).
  unsigned helper_threads = default_helper_threads();
};

/// One rejected row in the report.
struct ImportRowError {
  std::uint64_t line = 0;  ///< physical line where the row starts
  std::string column;      ///< header of the offending column ("" for the row as a whole)
  std::string value;       ///< the offending value (trimmed, at most 200 bytes)
  std::string reason;      ///< phone reasons of store/phone.hpp, `invalid_timezone`,
                           ///< `not_mobile`, `too_many_fields`

  bool operator==(const ImportRowError&) const = default;
};

/// The import report. rows = imported + dnc + duplicates + invalid; unverified counts the
/// stored (imported or dnc) numbers that are possible but not valid.
struct ImportReport {
  std::uint64_t rows = 0;
  std::uint64_t imported = 0;
  std::uint64_t duplicates = 0;
  std::uint64_t invalid = 0;
  std::uint64_t unverified = 0;
  std::uint64_t dnc = 0;
  /// Rows rejected as needs_region (national numbers, no default region): the report's `hint`.
  std::uint64_t needs_region = 0;
  std::vector<ImportRowError> errors;  ///< the first kMaxReportedErrors, in file order
  std::int64_t elapsed_ms = 0;
  /// The import's row in `imports` (ImportRepo::get); not part of the CONTRACT report.
  std::int64_t import_id = 0;
  /// Something that went wrong after the import committed (its stored report could not be
  /// updated); the caller logs it. Not part of the CONTRACT report.
  std::string warning;

  static constexpr std::size_t kMaxReportedErrors = 100;
};

/// `{"rows", "imported", "duplicates", "invalid", "unverified", "dnc", "errors": [{"line",
/// "column", "value", "reason"}], "elapsed_ms"}` — the CONTRACT fields (no import_id) — and
/// `hint` when rows need a region (national numbers imported without --default-region).
boost::json::object to_json(const ImportReport& report);
/// The hint for `rows` rows rejected as needs_region.
std::string needs_region_hint(std::uint64_t rows);

/// `name` lower-cased with spaces and dashes as `_`, trimmed (how headers are compared).
std::string normalize_header(std::string_view name);

}  // namespace dialer::store
