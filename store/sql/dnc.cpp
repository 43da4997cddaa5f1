#include "store/sql/dnc.hpp"

namespace dialer::store {

Result<std::int64_t> SqlDnc::add(std::span<const std::string> phones, std::string_view reason,
                                 std::string_view source, TimePoint now) {
  auto tx = Transaction::begin(db_);
  if (!tx) return tx.error();
  std::int64_t added = 0;
  for (const auto& phone : phones) {
    auto n = db_.execute(
        "INSERT INTO dnc (phone, reason, source, added_at) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (phone) DO NOTHING",
        phone, reason, source, now);
    if (!n) return n.error();
    added += *n;
  }
  if (auto r = tx->commit(); !r) return r.error();
  return added;
}

Result<std::int64_t> SqlDnc::remove(std::span<const std::string> phones) {
  auto tx = Transaction::begin(db_);
  if (!tx) return tx.error();
  std::int64_t removed = 0;
  for (const auto& phone : phones) {
    auto n = db_.execute("DELETE FROM dnc WHERE phone = ?", phone);
    if (!n) return n.error();
    removed += *n;
  }
  if (auto r = tx->commit(); !r) return r.error();
  return removed;
}

Result<bool> SqlDnc::contains(std::string_view phone) {
  auto n = db_.query_int64("SELECT EXISTS (SELECT 1 FROM dnc WHERE phone = ?)", phone);
  if (!n) return n.error();
  return *n != 0;
}

Result<std::vector<DncEntry>> SqlDnc::list(std::int64_t limit, std::int64_t offset) {
  auto st = db_.prepare(
      "SELECT phone, reason, source, added_at FROM dnc ORDER BY phone LIMIT ? OFFSET ?");
  if (!st) return st.error();
  st->bind_all(limit, offset);
  return collect_rows(*st, [](const Statement& row) {
    return DncEntry{row.column_text(0), row.column_text(1), row.column_text(2), row.column_time(3)};
  });
}

Result<std::int64_t> SqlDnc::count() {
  return db_.query_int64("SELECT count(*) FROM dnc");
}

}  // namespace dialer::store
