#include "store/sql/contacts.hpp"

#include <array>

namespace dialer::store {
namespace {

constexpr std::array<std::string_view, 17> kColumns{
    "id",         "campaign_id", "phone",           "number_type",  "verified",
    "region",     "name",        "zones",           "variables",    "state",
    "reason",     "attempts",    "next_attempt_at", "last_outcome", "source_line",
    "created_at", "updated_at"};

const std::string& select_from_contacts() {
  static const std::string sql = "SELECT " + contact_columns() + " FROM contacts ";
  return sql;
}

Result<std::vector<ContactRow>> read_all(Statement& st) {
  return collect_rows(st, [](const Statement& row) { return read_contact_row(row); });
}

Result<std::optional<ContactRow>> read_one(Statement& st) {
  auto s = st.step();
  if (!s) return s.error();
  if (*s == Step::done) return std::optional<ContactRow>{};
  auto row = read_contact_row(st);
  if (!row) return row.error();
  return std::optional<ContactRow>{std::move(*row)};
}

}  // namespace

std::string contact_columns(std::string_view alias) {
  return column_list(kColumns, alias);
}

Result<ContactRow> read_contact_row(const Statement& st, int first) {
  ContactRow r;
  int i = first;
  r.id = st.column_int64(i++);
  r.campaign_id = st.column_int64(i++);
  r.phone = st.column_text(i++);
  auto number_type = st.column_enum<NumberType>(i++);
  if (!number_type) return number_type.error();
  r.number_type = *number_type;
  r.verified = st.column_bool(i++);
  r.region = st.column_text(i++);
  r.name = st.column_text(i++);
  r.zones = st.column_text(i++);
  r.variables_json = st.column_text(i++);
  auto state = st.column_enum<ContactState>(i++);
  if (!state) return state.error();
  r.state = *state;
  r.reason = st.column_text(i++);
  r.attempts = static_cast<int>(st.column_int64(i++));
  r.next_attempt_at = st.column_time(i++);
  auto outcome = st.column_optional_enum<Outcome>(i++);
  if (!outcome) return outcome.error();
  r.last_outcome = *outcome;
  r.source_line = st.column_optional_int64(i++);
  r.created_at = st.column_time(i++);
  r.updated_at = st.column_time(i++);
  return r;
}

Result<bool> SqlContacts::insert(std::int64_t campaign_id, const NewContact& c, TimePoint now) {
  // ON CONFLICT names the one constraint a duplicate may hit, unlike INSERT OR IGNORE, which
  // would also silently drop a row breaking a NOT NULL or CHECK constraint.
  auto n = db_.execute(
      "INSERT INTO contacts (campaign_id, phone, number_type, verified, region, name, zones, "
      "variables, state, reason, source_line, created_at, updated_at) "
      "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
      "ON CONFLICT (campaign_id, phone) DO NOTHING",
      campaign_id, c.phone, c.number_type, c.verified, c.region, c.name, c.zones, c.variables_json,
      c.state, c.reason, c.source_line, now, now);
  if (!n) return n.error();
  return *n == 1;
}

Result<std::optional<ContactRow>> SqlContacts::get(std::int64_t contact_id) {
  static const std::string sql = select_from_contacts() + "WHERE id = ? AND state <> 'staged'";
  auto st = db_.prepare(sql);
  if (!st) return st.error();
  st->bind(1, contact_id);
  return read_one(*st);
}

Result<std::optional<ContactRow>> SqlContacts::find(std::int64_t campaign_id,
                                                    std::string_view phone) {
  static const std::string sql =
      select_from_contacts() + "WHERE campaign_id = ? AND phone = ? AND state <> 'staged'";
  auto st = db_.prepare(sql);
  if (!st) return st.error();
  st->bind_all(campaign_id, phone);
  return read_one(*st);
}

Result<std::vector<ContactRow>> SqlContacts::next_due(std::int64_t campaign_id, TimePoint now,
                                                      int limit) {
  // INDEXED BY: the plan must stay one seek on contacts_due; should the index ever be renamed
  // or dropped, preparing fails loudly instead of silently scanning millions of rows.
  static const std::string sql =
      "SELECT " + contact_columns() +
      " FROM contacts INDEXED BY contacts_due"
      " WHERE campaign_id = ? AND state = 'queued' AND next_attempt_at <= ?"
      " ORDER BY next_attempt_at, id LIMIT ?";
  auto st = db_.prepare(sql);
  if (!st) return st.error();
  st->bind_all(campaign_id, now, limit);
  return read_all(*st);
}

Result<std::int64_t> SqlContacts::count_due(std::int64_t campaign_id, TimePoint now,
                                            std::int64_t cap) {
  return db_.query_int64(
      "SELECT count(*) FROM (SELECT 1 FROM contacts INDEXED BY contacts_due"
      " WHERE campaign_id = ? AND state = 'queued' AND next_attempt_at <= ? LIMIT ?) AS due",
      campaign_id, now, cap);
}

Result<std::optional<ContactRow>> SqlContacts::next_due_contact(std::int64_t campaign_id) {
  static const std::string sql = "SELECT " + contact_columns() +
                                 " FROM contacts INDEXED BY contacts_due"
                                 " WHERE campaign_id = ? AND state = 'queued'"
                                 " ORDER BY next_attempt_at, id LIMIT 1";
  auto st = db_.prepare(sql);
  if (!st) return st.error();
  st->bind(1, campaign_id);
  return read_one(*st);
}

Result<std::optional<TimePoint>> SqlContacts::next_due_time(std::int64_t campaign_id) {
  auto st = db_.prepare(
      "SELECT next_attempt_at FROM contacts INDEXED BY contacts_due"
      " WHERE campaign_id = ? AND state = 'queued' ORDER BY next_attempt_at LIMIT 1");
  if (!st) return st.error();
  st->bind(1, campaign_id);
  auto s = st->step();
  if (!s) return s.error();
  if (*s == Step::done) return std::optional<TimePoint>{};
  return std::optional<TimePoint>{st->column_time(0)};
}

Result<std::optional<ContactState>> SqlContacts::state_of(std::int64_t contact_id) {
  auto st = db_.prepare("SELECT state FROM contacts WHERE id = ? AND state <> 'staged'");
  if (!st) return st.error();
  st->bind(1, contact_id);
  auto s = st->step();
  if (!s) return s.error();
  if (*s == Step::done) return std::optional<ContactState>{};
  auto state = st->column_enum<ContactState>(0);
  if (!state) return state.error();
  return std::optional<ContactState>{*state};
}

Result<bool> SqlContacts::defer(std::int64_t contact_id, TimePoint next_attempt_at, TimePoint now) {
  auto n = db_.execute(
      "UPDATE contacts SET next_attempt_at = ?, updated_at = ? WHERE id = ? AND state = 'queued'",
      next_attempt_at, now, contact_id);
  if (!n) return n.error();
  return *n == 1;
}

Result<std::map<ContactState, std::int64_t>> SqlContacts::counts_by_state(
    std::int64_t campaign_id) {
  auto st = db_.prepare(
      "SELECT state, count(*) FROM contacts WHERE campaign_id = ? AND state <> 'staged'"
      " GROUP BY state");
  if (!st) return st.error();
  st->bind(1, campaign_id);
  std::map<ContactState, std::int64_t> counts;
  for (auto s : all_values<ContactState>()) counts[s] = 0;
  for (;;) {
    auto s = st->step();
    if (!s) return s.error();
    if (*s == Step::done) break;
    auto state = st->column_enum<ContactState>(0);
    if (!state) return state.error();
    counts[*state] = st->column_int64(1);
  }
  return counts;
}

Result<std::vector<CampaignContactCounts>> SqlContacts::counts_of_all(TimePoint now) {
  std::vector<CampaignContactCounts> out;
  std::map<std::int64_t, std::size_t> index;
  {
    auto st = db_.prepare("SELECT id, name FROM campaigns ORDER BY id");
    if (!st) return st.error();
    for (;;) {
      auto s = st->step();
      if (!s) return s.error();
      if (*s == Step::done) break;
      CampaignContactCounts c;
      c.campaign_id = st->column_int64(0);
      c.name = st->column_text(1);
      for (auto state : all_values<ContactState>()) c.by_state[state] = 0;
      index[c.campaign_id] = out.size();
      out.push_back(std::move(c));
    }
  }
  auto st = db_.prepare(
      "SELECT campaign_id, state, count(*) FROM contacts WHERE state <> 'staged'"
      " GROUP BY campaign_id, state");
  if (!st) return st.error();
  for (;;) {
    auto s = st->step();
    if (!s) return s.error();
    if (*s == Step::done) break;
    auto it = index.find(st->column_int64(0));
    auto state = st->column_enum<ContactState>(1);
    if (!state) return state.error();
    if (it != index.end()) out[it->second].by_state[*state] = st->column_int64(2);
  }
  for (auto& c : out) {
    if (c.by_state[ContactState::queued] == 0) continue;
    auto n = db_.query_int64(
        "SELECT count(*) FROM contacts WHERE campaign_id = ? AND state = 'queued'"
        " AND next_attempt_at <= ?",
        c.campaign_id, to_unix_ms(now));
    if (!n) return n.error();
    c.due_now = *n;
  }
  return out;
}

Result<bool> SqlContacts::exists_in_state(std::int64_t campaign_id, ContactState state) {
  auto n =
      db_.query_int64("SELECT EXISTS (SELECT 1 FROM contacts WHERE campaign_id = ? AND state = ?)",
                      campaign_id, state);
  if (!n) return n.error();
  return *n != 0;
}

Result<bool> SqlContacts::any_active(std::int64_t campaign_id) {
  // The staged rows of a committed import are being flipped to queued (store/import_repo.hpp):
  // they count, or a campaign could be found drained and completed in the moment before its
  // new contacts become visible. A running import's staged rows do not: it may still fail.
  auto n = db_.query_int64(
      "SELECT EXISTS (SELECT 1 FROM contacts WHERE campaign_id = ?1"
      " AND state IN ('queued', 'dialing', 'in_call'))"
      " OR EXISTS (SELECT 1 FROM imports i WHERE i.campaign_id = ?1 AND i.state = 'committed'"
      " AND EXISTS (SELECT 1 FROM contacts c INDEXED BY contacts_staged"
      " WHERE c.import_id = i.id AND c.state = 'staged'))",
      campaign_id);
  if (!n) return n.error();
  return *n != 0;
}

Result<std::vector<ContactRow>> SqlContacts::list(std::int64_t campaign_id,
                                                  std::optional<ContactState> state,
                                                  std::int64_t limit, std::int64_t offset) {
  static const std::string all =
      select_from_contacts() +
      "WHERE campaign_id = ? AND state <> 'staged' ORDER BY id LIMIT ? OFFSET ?";
  static const std::string by_state =
      select_from_contacts() + "WHERE campaign_id = ? AND state = ? ORDER BY id LIMIT ? OFFSET ?";
  auto st = db_.prepare(state ? by_state : all);
  if (!st) return st.error();
  if (state) {
    st->bind_all(campaign_id, *state, limit, offset);
  } else {
    st->bind_all(campaign_id, limit, offset);
  }
  return read_all(*st);
}

Result<void> SqlContacts::for_each(std::int64_t campaign_id,
                                   const std::function<bool(const ContactRow&)>& callback) {
  static const std::string sql =
      select_from_contacts() + "WHERE campaign_id = ? AND state <> 'staged' ORDER BY id";
  auto st = db_.prepare(sql);
  if (!st) return st.error();
  st->bind(1, campaign_id);
  for (;;) {
    auto s = st->step();
    if (!s) return s.error();
    if (*s == Step::done) break;
    auto row = read_contact_row(*st);
    if (!row) return row.error();
    if (!callback(*row)) break;
  }
  return {};
}

Result<std::vector<OrphanContact>> SqlContacts::orphan_claimed() {
  auto st = db_.prepare(
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

}  // namespace dialer::store
