#include "store/sqlite/export_repo.hpp"

#include "store/sql/attempts.hpp"
#include "store/sql/contacts.hpp"

namespace dialer::store {

Result<void> ExportRepo::for_each(std::int64_t campaign_id,
                                  const std::function<bool(const ExportRow&)>& callback) {
  // Both subqueries seek attempts_contact; the join adds no row for a contact never called.
  static const std::string sql =
      "SELECT " + contact_columns("c") + ", " + attempt_columns("a") +
      ", (SELECT coalesce(sum(credits_used), 0) FROM attempts WHERE contact_id = c.id)"
      " FROM contacts c LEFT JOIN attempts a ON a.id = (SELECT max(id) FROM attempts"
      " WHERE contact_id = c.id AND call_id IS NOT NULL)"
      " WHERE c.campaign_id = ? AND c.state <> 'staged' ORDER BY c.id";
  static const int contact_width = [] {
    int n = 1;
    for (char ch : contact_columns()) n += ch == ',';
    return n;
  }();
  static const int attempt_width = [] {
    int n = 1;
    for (char ch : attempt_columns()) n += ch == ',';
    return n;
  }();

  auto st = db_.prepare(sql);
  if (!st) return st.error();
  st->bind(1, campaign_id);
  for (;;) {
    auto s = st->step();
    if (!s) return s.error();
    if (*s == Step::done) break;
    ExportRow row;
    auto contact = read_contact_row(*st, 0);
    if (!contact) return contact.error();
    row.contact = std::move(*contact);
    if (!st->is_null(contact_width)) {
      auto attempt = read_attempt_row(*st, contact_width);
      if (!attempt) return attempt.error();
      row.last_call = std::move(*attempt);
    }
    row.credits_used = st->column_double(contact_width + attempt_width);
    if (!callback(row)) break;
  }
  return {};
}

}  // namespace dialer::store
