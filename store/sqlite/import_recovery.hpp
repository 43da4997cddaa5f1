#pragma once
/// Finishing contact imports: the clean-up of a failed one, the flip of a committed one, and
/// recovery of both after a crash (store/import_repo.hpp explains the staging).
///
/// Every step is a short transaction of at most `chunk_rows` rows, so another connection (the
/// event loop) waits for the write lock about one chunk at most, never for a whole import.

#include "core/errc.hpp"
#include "core/time.hpp"
#include "store/import_repo.hpp"
#include "store/sql/database.hpp"

#include <cstdint>
#include <string_view>

namespace dialer::store {

/// Rows per transaction when cleaning up or flipping (ImportOptions::chunk_rows explains).
inline constexpr std::int64_t kImportChunkRows = 2000;

/// What recover_imports() did.
struct ImportRecoveryReport {
  std::int64_t rolled_back = 0;   ///< imports cut off while staging: now failed, rows deleted
  std::int64_t rows_deleted = 0;  ///< staged rows they had written
  std::int64_t completed = 0;     ///< committed imports cut off mid-flip: flip finished
  std::int64_t rows_flipped = 0;  ///< staged rows of those made queued or skipped

  bool operator==(const ImportRecoveryReport&) const = default;
};

/// Deletes every staged row of the import, `chunk_rows` per transaction, and in the last of
/// those transactions marks the import failed with `message` (if it is still running). Returns
/// the rows deleted. Must not be called inside a transaction (it would hold the lock
/// throughout). On an error the import stays running; recover_imports() finishes the job.
Result<std::int64_t> roll_back_import(Database& db, std::int64_t import_id,
                                      std::string_view message, TimePoint now,
                                      std::int64_t chunk_rows = kImportChunkRows);

/// Flips every staged row of a committed import (ImportRepo::flip_staged), `chunk_rows` per
/// transaction. Must not be called inside a transaction.
Result<FlipCounts> complete_import(Database& db, std::int64_t import_id, TimePoint now,
                                   std::int64_t chunk_rows = kImportChunkRows);

/// Run once at startup, before the scheduler recovers and before any import starts: imports
/// still `running` were cut off by a crash — their staged rows are deleted and they are marked
/// failed (nothing of them ever became dialable); `committed` imports with staged rows left
/// were cut off mid-flip — the flip is finished. Staged rows of a `failed` import (not left by
/// this code, but harmless to clear) are deleted too.
Result<ImportRecoveryReport> recover_imports(Database& db, TimePoint now,
                                             std::int64_t chunk_rows = kImportChunkRows);
/// Same, at the system clock's now.
Result<ImportRecoveryReport> recover_imports(Database& db);

}  // namespace dialer::store
