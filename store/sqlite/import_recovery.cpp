#include "store/sqlite/import_recovery.hpp"

#include "store/sql/imports.hpp"

#include <vector>

namespace dialer::store {

Result<std::int64_t> roll_back_import(Database& db, std::int64_t import_id,
                                      std::string_view message, TimePoint now,
                                      std::int64_t chunk_rows) {
  SqlImports repo{db};
  std::int64_t deleted = 0;
  for (;;) {
    auto tx = Transaction::begin(db);
    if (!tx) return tx.error();
    auto n = repo.delete_staged(import_id, chunk_rows);
    if (!n) return n.error();
    deleted += *n;
    // Marked failed only once no staged row is left: a running import is what recovery cleans,
    // and a failed one with rows left would make the next import count them as duplicates.
    const bool last = *n < chunk_rows;
    if (last) {
      if (auto m = repo.mark_failed(import_id, message, now); !m) return m.error();
    }
    if (auto c = tx->commit(); !c) return c.error();
    if (last) return deleted;
  }
}

Result<FlipCounts> complete_import(Database& db, std::int64_t import_id, TimePoint now,
                                   std::int64_t chunk_rows) {
  SqlImports repo{db};
  FlipCounts total;
  for (;;) {
    auto tx = Transaction::begin(db);
    if (!tx) return tx.error();
    auto n = repo.flip_staged(import_id, chunk_rows, now);
    if (!n) return n.error();
    if (auto c = tx->commit(); !c) return c.error();
    total += *n;
    if (n->total() < chunk_rows) return total;
  }
}

Result<ImportRecoveryReport> recover_imports(Database& db, TimePoint now, std::int64_t chunk_rows) {
  SqlImports repo{db};
  ImportRecoveryReport report;

  auto running = repo.list_in_state(ImportState::running);
  if (!running) return running.error();
  for (const auto& row : *running) {
    auto n = roll_back_import(db, row.id, "interrupted: the daemon stopped during the import", now,
                              chunk_rows);
    if (!n) return n.error();
    ++report.rolled_back;
    report.rows_deleted += *n;
  }

  // Whatever import still has staged rows now is committed (cut off mid-flip) or failed (not
  // left so by this code, but clearing them costs nothing): the partial index holds only them.
  std::vector<std::int64_t> with_rows;
  {
    auto st = db.prepare(
        "SELECT DISTINCT import_id FROM contacts INDEXED BY contacts_staged"
        " WHERE state = 'staged' AND import_id IS NOT NULL ORDER BY import_id");
    if (!st) return st.error();
    auto ids = collect_rows(*st, [](const Statement& row) { return row.column_int64(0); });
    if (!ids) return ids.error();
    with_rows = std::move(*ids);
  }
  for (std::int64_t id : with_rows) {
    auto row = repo.get(id);
    if (!row) return row.error();
    if (*row && (*row)->state == ImportState::committed) {
      auto n = complete_import(db, id, now, chunk_rows);
      if (!n) return n.error();
      ++report.completed;
      report.rows_flipped += n->total();
    } else {
      auto n = roll_back_import(db, id, "", now, chunk_rows);
      if (!n) return n.error();
      report.rows_deleted += *n;
    }
  }
  return report;
}

Result<ImportRecoveryReport> recover_imports(Database& db) {
  return recover_imports(db, SystemClock{}.now());
}

}  // namespace dialer::store
