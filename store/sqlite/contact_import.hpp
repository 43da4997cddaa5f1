#pragma once
/// Contact lists from CSV into a campaign (CONTRACT.md "CSV contact lists" and "Import report").
///
/// The file is streamed from a descriptor in bounded chunks (the daemon receives it over the
/// admin socket with SCM_RIGHTS), parsed by libcsv, numbers normalised by libphonenumber, zones
/// checked against the tz database. The import is all or nothing without holding the database's
/// write lock throughout (the event loop writes through its own connection meanwhile): rows are
/// written as staged contacts, invisible to everything else, in short transactions of
/// ImportOptions::chunk_rows; one short transaction then marks the import committed, and its rows
/// are flipped to queued (skipped for DNC numbers) chunk by chunk (store/import_repo.hpp). A
/// structural error (no phone column, bad header, unterminated quote, invalid UTF-8, a binary
/// file, a size limit), a cancel or any failure before the commit point deletes the staged rows:
/// the campaign's contacts and the reject file are left as they were, and the `imports` table
/// records the failed attempt. After a crash, store/import_recovery.hpp finishes either way.
///
/// The generic CSV reading is store/csv_reader.hpp; the concurrent per-row work is
/// store/import_pipeline.hpp and the reject file store/reject_file.hpp.

#include "core/errc.hpp"
#include "core/time.hpp"
#include "store/csv_reader.hpp"
#include "store/import_report.hpp"
#include "store/sql/database.hpp"
#include "store/zones.hpp"

#include <boost/json/object.hpp>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <stop_token>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace dialer::store {

/// Imports contact lists. Holds only shared read-only state: one importer may run several
/// imports at once, each on its own thread with its own Database.
class ContactImporter {
 public:
  /// `zones` must outlive the importer.
  ContactImporter(const ZoneTable& zones, const Clock& clock);

  /// Imports the CSV read from `fd` (not closed; read from its current offset) into
  /// `campaign_id` on `db`, which must not be inside a transaction (the import commits chunk by
  /// chunk). Errors (no contact added): invalid_argument (bad default region, no phone column,
  /// bad variable header), not_found (no such campaign), conflict (the campaign is finished,
  /// finished during the import, or has another import running), whatever CsvReader::next
  /// reports, cancelled, db_error, io_error (reject file). One error comes after the commit
  /// point: the flip failing (a db_error saying so); the contacts then become visible when
  /// recover_imports() runs at the next start.
  Result<ImportReport> run(Database& db, std::int64_t campaign_id, int fd,
                           const ImportOptions& options) const;

  /// Same, opening `path` read-only.
  Result<ImportReport> run_file(Database& db, std::int64_t campaign_id,
                                const std::filesystem::path& path,
                                const ImportOptions& options) const;

  /// Same as run() on a connection of its own to `db_path`, opened here and closed at the end:
  /// what a worker thread calls while the event loop keeps its connection (WAL).
  Result<ImportReport> run_on_own_connection(const std::string& db_path,
                                             const OpenOptions& open_options,
                                             std::int64_t campaign_id, int fd,
                                             const ImportOptions& options) const;

 private:
  const ZoneTable& zones_;
  const Clock& clock_;
};

}  // namespace dialer::store
