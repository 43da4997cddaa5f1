#include "store/sql/audit.hpp"

namespace dialer::store {

Result<std::int64_t> SqlAudit::append(const AuditEntry& e) {
  return db_.query_int64(
      "INSERT INTO audit_log (at, actor, action, subject, detail, result)"
      " VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
      e.at, e.actor, e.action, e.subject, e.detail_json, e.result);
}

Result<std::vector<AuditRow>> SqlAudit::recent(std::int64_t limit) {
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

Result<std::int64_t> SqlAudit::prune_before(TimePoint before, std::int64_t limit) {
  return db_.execute(
      "DELETE FROM audit_log WHERE id IN (SELECT id FROM audit_log WHERE at < ? ORDER BY at, id "
      "LIMIT ?)",
      before, no_limit_if_negative(limit));
}

}  // namespace dialer::store
