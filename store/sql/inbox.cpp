#include "store/sql/inbox.hpp"

namespace dialer::store {
namespace {

constexpr std::string_view kInsert =
    "INSERT INTO webhook_inbox (session_id, call_id, body, received_at) VALUES (?, ?, ?, ?) "
    "ON CONFLICT (session_id) DO NOTHING";
constexpr std::string_view kColumns = "id, session_id, call_id, body, received_at, applied_at";

InboxRow read_row(const Statement& st) {
  InboxRow row;
  row.id = st.column_int64(0);
  row.event.session_id = st.column_text(1);
  row.event.call_id = st.column_text(2);
  row.event.body = st.column_text(3);
  row.event.received_at = st.column_time(4);
  row.applied_at = st.column_optional_time(5);
  return row;
}

std::optional<std::string_view> null_if_empty(const std::string& s) {
  if (s.empty()) return std::nullopt;
  return std::string_view{s};
}

}  // namespace

Result<bool> SqlInbox::insert(const InboxEvent& e) {
  auto n = db_.execute(kInsert, e.session_id, null_if_empty(e.call_id), e.body, e.received_at);
  if (!n) return n.error();
  return *n == 1;
}

Result<std::vector<bool>> SqlInbox::insert_batch(std::span<const InboxEvent> events) {
  std::vector<bool> stored;
  if (events.empty()) return stored;
  stored.reserve(events.size());
  auto tx = Transaction::begin(db_);
  if (!tx) return tx.error();
  for (const auto& e : events) {
    auto added = insert(e);
    if (!added) return added.error();
    stored.push_back(*added);
  }
  if (auto r = tx->commit(); !r) return r.error();
  return stored;
}

Result<std::vector<InboxRow>> SqlInbox::unapplied(std::size_t limit) {
  return unapplied_after(0, limit);
}

Result<void> SqlInbox::mark_applied(std::int64_t id, TimePoint at) {
  auto n = db_.execute("UPDATE webhook_inbox SET applied_at = ? WHERE id = ?", at, id);
  if (!n) return n.error();
  if (*n == 0) return Error{errc::not_found, "no webhook inbox event " + std::to_string(id)};
  return {};
}

Result<std::optional<InboxRow>> SqlInbox::find_by_session(std::string_view session_id) {
  static const std::string sql =
      "SELECT " + std::string{kColumns} + " FROM webhook_inbox WHERE session_id = ?";
  auto st = db_.prepare(sql);
  if (!st) return st.error();
  st->bind(1, session_id);
  auto s = st->step();
  if (!s) return s.error();
  if (*s == Step::done) return std::optional<InboxRow>{};
  return std::optional<InboxRow>{read_row(*st)};
}

Result<std::vector<InboxRow>> SqlInbox::unapplied_after(std::int64_t after_id, std::size_t limit) {
  static const std::string sql =
      "SELECT " + std::string{kColumns} +
      " FROM webhook_inbox WHERE applied_at IS NULL AND id > ? ORDER BY id LIMIT ?";
  auto st = db_.prepare(sql);
  if (!st) return st.error();
  st->bind(1, after_id);
  st->bind(2, static_cast<std::int64_t>(std::min<std::size_t>(limit, INT64_MAX)));
  return collect_rows(*st, read_row);
}

Result<std::int64_t> SqlInbox::count_unapplied() {
  return db_.query_int64("SELECT count(*) FROM webhook_inbox WHERE applied_at IS NULL");
}

Result<std::int64_t> SqlInbox::prune_applied(TimePoint before, std::int64_t limit) {
  return db_.execute(
      "DELETE FROM webhook_inbox WHERE id IN (SELECT id FROM webhook_inbox WHERE applied_at IS "
      "NOT NULL AND received_at < ? ORDER BY id LIMIT ?)",
      before, no_limit_if_negative(limit));
}

Result<bool> SqlInbox::record_polled(std::string_view session_id, std::string_view call_id,
                                     std::string_view body, TimePoint at) {
  auto st = db_.prepare(
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
  return db_.changes() == 1;
}

}  // namespace dialer::store
