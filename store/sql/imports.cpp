#include "store/sql/imports.hpp"

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include <array>

namespace dialer::store {

namespace {

constexpr std::array<std::string_view, 3> kStateNames{"running", "committed", "failed"};

constexpr std::string_view kSelect =
    "SELECT id, campaign_id, state, started_at, finished_at, report FROM imports ";

Result<ImportRow> read_row(const Statement& st) {
  ImportRow r;
  r.id = st.column_int64(0);
  r.campaign_id = st.column_int64(1);
  auto state = import_state_from_string(st.column_text_view(2));
  if (!state) {
    return Error{errc::db_error,
                 "imports.state holds an unknown value '" + st.column_text(2) + "'"};
  }
  r.state = *state;
  r.started_at = st.column_time(3);
  r.finished_at = st.column_optional_time(4);
  r.report_json = st.column_optional_text(5);
  return r;
}

}  // namespace

std::string_view to_string(ImportState s) noexcept {
  return kStateNames[static_cast<std::size_t>(s)];
}

std::optional<ImportState> import_state_from_string(std::string_view s) noexcept {
  for (std::size_t i = 0; i < kStateNames.size(); ++i) {
    if (kStateNames[i] == s) return static_cast<ImportState>(i);
  }
  return std::nullopt;
}

Result<std::int64_t> SqlImports::begin(std::int64_t campaign_id, TimePoint now) {
  auto st = db_.prepare(
      "SELECT id FROM imports WHERE campaign_id = ? AND state = 'running' ORDER BY id LIMIT 1");
  if (!st) return st.error();
  st->bind(1, campaign_id);
  auto s = st->step();
  if (!s) return s.error();
  if (*s == Step::row) {
    return Error{errc::conflict, "campaign " + std::to_string(campaign_id) +
                                     " already has an import running (import " +
                                     std::to_string(st->column_int64(0)) +
                                     "); one import per campaign at a time"};
  }
  st->reset();
  return db_.query_int64(
      "INSERT INTO imports (campaign_id, state, started_at) VALUES (?, 'running', ?) RETURNING id",
      campaign_id, now);
}

Result<std::optional<ImportRow>> SqlImports::get(std::int64_t import_id) {
  static const std::string sql = std::string{kSelect} + "WHERE id = ?";
  auto st = db_.prepare(sql);
  if (!st) return st.error();
  st->bind(1, import_id);
  auto s = st->step();
  if (!s) return s.error();
  if (*s == Step::done) return std::optional<ImportRow>{};
  auto row = read_row(*st);
  if (!row) return row.error();
  return std::optional<ImportRow>{std::move(*row)};
}

Result<std::vector<ImportRow>> SqlImports::list_in_state(ImportState state) {
  static const std::string sql = std::string{kSelect} + "WHERE state = ? ORDER BY id";
  auto st = db_.prepare(sql);
  if (!st) return st.error();
  st->bind(1, to_string(state));
  return collect_rows(*st, read_row);
}

Result<bool> SqlImports::stage(std::int64_t campaign_id, std::int64_t import_id,
                               const NewContact& c, TimePoint now) {
  // ON CONFLICT names the one constraint a duplicate may hit (see ContactRepo::insert): the
  // UNIQUE (campaign_id, phone) index holds staged rows too, so duplicates against the
  // campaign's contacts and within the file are found exactly as by a direct insert.
  auto n = db_.execute(
      "INSERT INTO contacts (campaign_id, phone, number_type, verified, region, name, zones, "
      "variables, state, reason, source_line, import_id, created_at, updated_at) "
      "VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'staged', ?, ?, ?, ?, ?) "
      "ON CONFLICT (campaign_id, phone) DO NOTHING",
      campaign_id, c.phone, c.number_type, c.verified, c.region, c.name, c.zones, c.variables_json,
      c.reason, c.source_line, import_id, now, now);
  if (!n) return n.error();
  return *n == 1;
}

Result<bool> SqlImports::has_staged(std::int64_t import_id) {
  auto n = db_.query_int64(
      "SELECT EXISTS (SELECT 1 FROM contacts INDEXED BY contacts_staged"
      " WHERE import_id = ? AND state = 'staged')",
      import_id);
  if (!n) return n.error();
  return *n != 0;
}

Result<std::int64_t> SqlImports::delete_staged(std::int64_t import_id, std::int64_t limit) {
  // INDEXED BY: each chunk must be one seek on the staged rows, never a scan of the campaign.
  return db_.execute(
      "DELETE FROM contacts WHERE id IN (SELECT id FROM contacts INDEXED BY contacts_staged"
      " WHERE import_id = ? AND state = 'staged' LIMIT ?)",
      import_id, limit);
}

Result<FlipCounts> SqlImports::flip_staged(std::int64_t import_id, std::int64_t limit,
                                           TimePoint now) {
  // Per chunk, not per row: whether any number is listed (the common empty list needs no
  // lookup) and whether the campaign ended after the commit point (a stop skips queued
  // contacts only, so the rows it could not see are skipped here the same way).
  auto listed = db_.query_int64("SELECT EXISTS (SELECT 1 FROM dnc)");
  if (!listed) return listed.error();
  auto ended = db_.query_int64(
      "SELECT EXISTS (SELECT 1 FROM campaigns WHERE id = (SELECT campaign_id FROM imports"
      " WHERE id = ?) AND state IN ('cancelled', 'completed'))",
      import_id);
  if (!ended) return ended.error();

  auto st = db_.prepare(
      "UPDATE contacts SET"
      " state = CASE WHEN reason = 'dnc'"
      " OR (?1 <> 0 AND EXISTS (SELECT 1 FROM dnc WHERE dnc.phone = contacts.phone)) THEN 'skipped'"
      " WHEN ?2 <> 0 THEN 'skipped' ELSE 'queued' END,"
      " reason = CASE WHEN reason = 'dnc'"
      " OR (?1 <> 0 AND EXISTS (SELECT 1 FROM dnc WHERE dnc.phone = contacts.phone)) THEN 'dnc'"
      " WHEN ?2 <> 0 THEN 'stopped' ELSE reason END,"
      " updated_at = ?3"
      " WHERE id IN (SELECT id FROM contacts INDEXED BY contacts_staged"
      " WHERE import_id = ?4 AND state = 'staged' LIMIT ?5)"
      " RETURNING state, reason");
  if (!st) return st.error();
  st->bind(1, *listed != 0);
  st->bind(2, *ended != 0);
  st->bind(3, now);
  st->bind(4, import_id);
  st->bind(5, limit);
  FlipCounts counts;
  for (;;) {
    auto s = st->step();
    if (!s) return s.error();
    if (*s == Step::done) break;
    if (st->column_text_view(0) == "queued") {
      ++counts.queued;
    } else if (st->column_text_view(1) == "dnc") {
      ++counts.dnc;
    } else {
      ++counts.stopped;
    }
  }
  return counts;
}

Result<bool> SqlImports::mark_committed(std::int64_t import_id, std::string_view report_json,
                                        TimePoint now) {
  auto n = db_.execute(
      "UPDATE imports SET state = 'committed', finished_at = ?, report = ?"
      " WHERE id = ? AND state = 'running'",
      now, report_json, import_id);
  if (!n) return n.error();
  return *n == 1;
}

Result<bool> SqlImports::mark_failed(std::int64_t import_id, std::string_view message,
                                     TimePoint now) {
  const std::string report =
      boost::json::serialize(boost::json::object{{"error", boost::json::string_view{message}}});
  auto n = db_.execute(
      "UPDATE imports SET state = 'failed', finished_at = ?, report = ?"
      " WHERE id = ? AND state = 'running'",
      now, report, import_id);
  if (!n) return n.error();
  return *n == 1;
}

Result<void> SqlImports::set_report(std::int64_t import_id, std::string_view report_json) {
  auto n = db_.execute("UPDATE imports SET report = ? WHERE id = ?", report_json, import_id);
  if (!n) return n.error();
  if (*n == 0) return Error{errc::not_found, "no import " + std::to_string(import_id)};
  return {};
}

}  // namespace dialer::store
