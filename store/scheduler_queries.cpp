#include "store/scheduler_queries.hpp"

namespace dialer::store {

Result<std::vector<OrphanContact>> orphan_claimed_contacts(Database& db) {
  auto st = db.prepare(
      "SELECT c.id, c.campaign_id, c.state FROM contacts c"
      " WHERE c.campaign_id IN (SELECT id FROM campaigns)"
      " AND c.state IN ('dialing', 'in_call')"
      " AND NOT EXISTS (SELECT 1 FROM attempts a WHERE a.contact_id = c.id"
      " AND a.state IN ('reserved', 'started', 'ambiguous'))"
      " ORDER BY c.id");
  if (!st) return st.error();
  return collect_rows(*st, [](const Statement& row) -> Result<OrphanContact> {
    auto state = row.column_enum<ContactState>(2);
    if (!state) return state.error();
    return OrphanContact{row.column_int64(0), row.column_int64(1), *state};
  });
}

Result<bool> record_polled_session(Database& db, std::string_view session_id,
                                   std::string_view call_id, std::string_view body, TimePoint at) {
  auto st = db.prepare(
      "INSERT INTO webhook_inbox (session_id, call_id, body, received_at, applied_at)"
      " VALUES (?, ?, ?, ?, ?) ON CONFLICT (session_id) DO NOTHING");
  if (!st) return st.error();
  st->bind(1, session_id);
  if (call_id.empty()) {
    st->bind_null(2);
  } else {
    st->bind(2, call_id);
  }
  st->bind(3, body);
  st->bind(4, at);
  st->bind(5, at);
  if (auto r = st->run(); !r) return r.error();
  return db.changes() == 1;
}

}  // namespace dialer::store
