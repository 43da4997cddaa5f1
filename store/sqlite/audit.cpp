#include "store/sqlite/audit.hpp"

namespace dialer::store {

Result<std::int64_t> SqliteAudit::append(const AuditEntry& e) {
  auto n = db_.execute(
      "INSERT INTO audit_log (at, actor, action, subject, detail, result)"
      " VALUES (?, ?, ?, ?, ?, ?)",
      e.at, e.actor, e.action, e.subject, e.detail_json, e.result);
  if (!n) return n.error();
  return db_.last_insert_rowid();
}

Result<std::vector<AuditRow>> SqliteAudit::recent(std::int64_t limit) {
  auto st = db_.prepare(
      "SELECT id, at, actor, action, subject, detail, result FROM audit_log"
      " ORDER BY id DESC LIMIT ?");
  if (!st) return st.error();
  st->bind(1, limit);
  return collect_rows(*st, [](const Statement& row) {
    return AuditRow{row.column_int64(0),
                    AuditEntry{row.column_time(1), row.column_text(2), row.column_text(3),
                               row.column_text(4), row.column_text(5), row.column_text(6)}};
  });
}

Result<std::int64_t> SqliteAudit::prune_before(TimePoint before, std::int64_t limit) {
  return db_.execute(
      "DELETE FROM audit_log WHERE id IN (SELECT id FROM audit_log WHERE at < ? ORDER BY at, id "
      "LIMIT ?)",
      before, limit);
}

}  // namespace dialer::store
