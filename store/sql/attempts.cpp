#include "store/sql/attempts.hpp"

#include <array>

namespace dialer::store {
namespace {

constexpr std::array<std::string_view, 23> kColumns{"id",
                                                    "campaign_id",
                                                    "contact_id",
                                                    "state",
                                                    "counted",
                                                    "provider",
                                                    "to_number",
                                                    "agent_id",
                                                    "call_id",
                                                    "session_id",
                                                    "reserved_at",
                                                    "sent_at",
                                                    "started_at",
                                                    "ended_at",
                                                    "status",
                                                    "disposition",
                                                    "outcome",
                                                    "answered_by",
                                                    "duration_seconds",
                                                    "credits_used",
                                                    "error_code",
                                                    "error",
                                                    "result"};

/// The slot-holding states (STATE-MACHINES.md "Slots and rate").
constexpr std::string_view kOpen = "('reserved', 'started', 'ambiguous')";

const std::string& select_from_attempts() {
  static const std::string sql = "SELECT " + attempt_columns() + " FROM attempts ";
  return sql;
}

template <class E>
bool read_optional_enum(const Statement& st, int col, std::optional<E>& out, Error& err) {
  auto v = st.column_optional_enum<E>(col);
  if (!v) {
    err = v.error();
    return false;
  }
  out = *v;
  return true;
}

Result<std::vector<AttemptRow>> read_all(Statement& st) {
  return collect_rows(st, [](const Statement& row) { return read_attempt_row(row); });
}

Result<std::optional<AttemptRow>> read_one(Statement& st) {
  auto s = st.step();
  if (!s) return s.error();
  if (*s == Step::done) return std::optional<AttemptRow>{};
  auto row = read_attempt_row(st);
  if (!row) return row.error();
  return std::optional<AttemptRow>{std::move(*row)};
}

/// The one attempt `sql` (a select_from_attempts() query) finds for `key`, if any.
template <class Key>
Result<std::optional<AttemptRow>> find_one(Database& db, const std::string& sql, const Key& key) {
  auto st = db.prepare(sql);
  if (!st) return st.error();
  st->bind(1, key);
  return read_one(*st);
}

Result<bool> wrote_one(const Result<std::int64_t>& n) {
  if (!n) return n.error();
  return *n == 1;
}

}  // namespace

std::string attempt_columns(std::string_view alias) {
  return column_list(kColumns, alias);
}

Result<AttemptRow> read_attempt_row(const Statement& st, int first) {
  AttemptRow r;
  Error err;
  int i = first;
  r.id = st.column_int64(i++);
  r.campaign_id = st.column_int64(i++);
  r.contact_id = st.column_int64(i++);
  auto state = st.column_enum<AttemptState>(i++);
  if (!state) return state.error();
  r.state = *state;
  r.counted = st.column_bool(i++);
  auto provider = st.column_enum<Provider>(i++);
  if (!provider) return provider.error();
  r.provider = *provider;
  r.to_number = st.column_text(i++);
  r.agent_id = st.column_text(i++);
  r.call_id = st.column_optional_text(i++);
  r.session_id = st.column_optional_text(i++);
  r.reserved_at = st.column_time(i++);
  r.sent_at = st.column_optional_time(i++);
  r.started_at = st.column_optional_time(i++);
  r.ended_at = st.column_optional_time(i++);
  if (!read_optional_enum(st, i++, r.status, err)) return err;
  if (!read_optional_enum(st, i++, r.disposition, err)) return err;
  if (!read_optional_enum(st, i++, r.outcome, err)) return err;
  if (!read_optional_enum(st, i++, r.answered_by, err)) return err;
  r.duration_seconds = st.column_optional_double(i++);
  r.credits_used = st.column_optional_double(i++);
  r.error_code = st.column_optional_text(i++);
  r.error = st.column_optional_text(i++);
  r.result_json = st.column_optional_text(i++);
  return r;
}

Result<bool> SqlAttempts::mark_sent(std::int64_t id, TimePoint sent_at) {
  return wrote_one(db_.execute(
      "UPDATE attempts SET sent_at = ? WHERE id = ? AND state = 'reserved'", sent_at, id));
}

Result<bool> SqlAttempts::set_session_id(std::int64_t id, std::string_view session_id) {
  return wrote_one(db_.execute(
      "UPDATE attempts SET session_id = ? WHERE id = ? AND (session_id IS NULL OR session_id = '')",
      session_id, id));
}

Result<std::optional<AttemptRow>> SqlAttempts::get(std::int64_t id) {
  static const std::string sql = select_from_attempts() + "WHERE id = ?";
  return find_one(db_, sql, id);
}

Result<std::optional<AttemptRow>> SqlAttempts::find_by_call_id(std::string_view call_id) {
  static const std::string sql = select_from_attempts() + "WHERE call_id = ?";
  return find_one(db_, sql, call_id);
}

Result<std::optional<AttemptRow>> SqlAttempts::find_by_session_id(std::string_view session_id) {
  static const std::string sql = select_from_attempts() + "WHERE session_id = ?";
  return find_one(db_, sql, session_id);
}

Result<std::optional<AttemptRow>> SqlAttempts::last_for_contact(std::int64_t contact_id) {
  static const std::string sql =
      select_from_attempts() + "WHERE contact_id = ? ORDER BY id DESC LIMIT 1";
  return find_one(db_, sql, contact_id);
}

Result<std::vector<AttemptRow>> SqlAttempts::open_attempts() {
  static const std::string sql =
      select_from_attempts() + "WHERE state IN " + std::string{kOpen} + " ORDER BY id";
  auto st = db_.prepare(sql);
  if (!st) return st.error();
  return read_all(*st);
}

Result<std::vector<AttemptRow>> SqlAttempts::list(std::optional<std::int64_t> campaign_id,
                                                  bool in_flight_only, std::int64_t limit,
                                                  std::int64_t offset) {
  // NULL campaign means every campaign; the four SQL texts are each cached once.
  static const std::string all = select_from_attempts() +
                                 "WHERE (CAST(?1 AS BIGINT) IS NULL OR campaign_id = ?1)"
                                 " ORDER BY id DESC LIMIT ?2 OFFSET ?3";
  static const std::string open =
      select_from_attempts() +
      "WHERE (CAST(?1 AS BIGINT) IS NULL OR campaign_id = ?1) AND state IN " + std::string{kOpen} +
      " ORDER BY id DESC LIMIT ?2 OFFSET ?3";
  auto st = db_.prepare(in_flight_only ? open : all);
  if (!st) return st.error();
  st->bind_all(campaign_id, limit, offset);
  return read_all(*st);
}

Result<std::map<Outcome, int>> SqlAttempts::count_by_outcome(std::int64_t contact_id) {
  auto st = db_.prepare(
      "SELECT outcome, count(*) FROM attempts"
      " WHERE contact_id = ? AND counted = 1 AND outcome IS NOT NULL GROUP BY outcome");
  if (!st) return st.error();
  st->bind(1, contact_id);
  std::map<Outcome, int> counts;
  for (;;) {
    auto s = st->step();
    if (!s) return s.error();
    if (*s == Step::done) break;
    auto o = st->column_enum<Outcome>(0);
    if (!o) return o.error();
    counts[*o] = static_cast<int>(st->column_int64(1));
  }
  return counts;
}

Result<std::map<Outcome, std::int64_t>> SqlAttempts::outcome_counts(std::int64_t campaign_id) {
  auto st = db_.prepare(
      "SELECT outcome, count(*) FROM attempts"
      " WHERE campaign_id = ? AND outcome IS NOT NULL GROUP BY outcome");
  if (!st) return st.error();
  st->bind(1, campaign_id);
  std::map<Outcome, std::int64_t> counts;
  for (;;) {
    auto s = st->step();
    if (!s) return s.error();
    if (*s == Step::done) break;
    auto o = st->column_enum<Outcome>(0);
    if (!o) return o.error();
    counts[*o] = st->column_int64(1);
  }
  return counts;
}

Result<std::int64_t> SqlAttempts::in_flight(std::int64_t campaign_id) {
  static const std::string sql =
      "SELECT count(*) FROM attempts WHERE campaign_id = ? AND state IN " + std::string{kOpen};
  return db_.query_int64(sql, campaign_id);
}

Result<std::int64_t> SqlAttempts::in_flight_total() {
  static const std::string sql =
      "SELECT count(*) FROM attempts WHERE state IN " + std::string{kOpen};
  return db_.query_int64(sql);
}

Result<std::int64_t> SqlAttempts::count(std::int64_t campaign_id) {
  return db_.query_int64("SELECT count(*) FROM attempts WHERE campaign_id = ?", campaign_id);
}

}  // namespace dialer::store
