#include "store/sql/campaigns.hpp"

#include "core/campaign_json.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <array>

namespace dialer::store {
namespace json = boost::json;

namespace {

constexpr std::string_view kSelect =
    "SELECT id, name, agent_id, providers, provider_strategy, max_concurrency, priority, weight,"
    " timezone, \"window\", max_attempts, retry, dnc_on_blocked, budget_credits, auto_resume,"
    " description, state, pause_reason, credits_used, created_at, updated_at, started_at,"
    " completed_at, start_at, end_at, callback_field FROM campaigns ";

Error corrupt(std::int64_t id, std::string_view column, std::string_view why) {
  return Error{errc::db_error, "campaign " + std::to_string(id) + ": stored " +
                                   std::string{column} + " is invalid: " + std::string{why}};
}

/// The JSON columns were written by campaign_json; a parse failure means the file was edited
/// or damaged, so it is a db_error naming the column rather than a user-facing message.
Result<json::value> parse_column(std::int64_t id, std::string_view column, std::string_view text) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec) return corrupt(id, column, ec.message());
  return v;
}

Result<CampaignRow> read_row(const Statement& st) {
  CampaignRow r;
  int i = 0;
  r.id = st.column_int64(i++);
  r.spec.name = st.column_text(i++);
  r.spec.agent_id = st.column_text(i++);
  {
    auto v = parse_column(r.id, "providers", st.column_text_view(i++));
    if (!v) return v.error();
    auto p = providers_from_json(*v);
    if (!p) return corrupt(r.id, "providers", p.error().message);
    r.spec.providers = std::move(*p);
  }
  auto strategy = st.column_enum<ProviderStrategy>(i++);
  if (!strategy) return strategy.error();
  r.spec.provider_strategy = *strategy;
  r.spec.max_concurrency = static_cast<int>(st.column_int64(i++));
  r.spec.priority = static_cast<int>(st.column_int64(i++));
  r.spec.weight = static_cast<int>(st.column_int64(i++));
  r.spec.timezone = st.column_text(i++);
  {
    auto v = parse_column(r.id, "window", st.column_text_view(i++));
    if (!v) return v.error();
    auto w = window_from_json(*v);
    if (!w) return corrupt(r.id, "window", w.error().message);
    r.spec.window = std::move(*w);
  }
  r.spec.max_attempts = static_cast<int>(st.column_int64(i++));
  {
    auto v = parse_column(r.id, "retry", st.column_text_view(i++));
    if (!v) return v.error();
    auto p = retry_from_json(*v);
    if (!p) return corrupt(r.id, "retry", p.error().message);
    r.spec.retry = std::move(*p);
  }
  r.spec.dnc_on_blocked = st.column_bool(i++);
  r.spec.budget_credits = st.column_optional_double(i++);
  r.spec.auto_resume = st.column_bool(i++);
  r.spec.description = st.column_text(i++);
  auto state = st.column_enum<CampaignState>(i++);
  if (!state) return state.error();
  r.state = *state;
  auto reason = st.column_enum<PauseReason>(i++);
  if (!reason) return reason.error();
  r.pause_reason = *reason;
  r.credits_used = st.column_double(i++);
  r.created_at = st.column_time(i++);
  r.updated_at = st.column_time(i++);
  r.started_at = st.column_optional_time(i++);
  r.completed_at = st.column_optional_time(i++);
  r.spec.start_at = st.column_optional_time(i++);
  r.spec.end_at = st.column_optional_time(i++);
  r.spec.callback_field = st.column_text(i++);
  return r;
}

Result<std::vector<CampaignRow>> read_all(Statement& st) {
  return collect_rows(st, read_row);
}

Result<std::optional<CampaignRow>> read_one(Statement& st) {
  auto rows = read_all(st);
  if (!rows) return rows.error();
  if (rows->empty()) return std::optional<CampaignRow>{};
  return std::optional<CampaignRow>{std::move(rows->front())};
}

/// The columns a CampaignSpec is stored in, in the order with_spec_values() passes them.
constexpr std::array<std::string_view, 18> kSpecColumns{
    "name",     "agent_id",       "providers",      "provider_strategy", "max_concurrency",
    "priority", "weight",         "timezone",       "\"window\"",        "max_attempts",
    "retry",    "dnc_on_blocked", "budget_credits", "auto_resume",       "description",
    "start_at", "end_at",         "callback_field"};

/// Calls `fn` with the values of kSpecColumns for `s` (JSON columns serialized by
/// campaign_json), as the leading arguments of an INSERT or UPDATE: the one binder of a spec.
template <class Fn>
decltype(auto) with_spec_values(const CampaignSpec& s, Fn&& fn) {
  return fn(s.name, s.agent_id, json::serialize(providers_to_json(s.providers)),
            s.provider_strategy, s.max_concurrency, s.priority, s.weight, s.timezone,
            json::serialize(window_to_json(s.window)), s.max_attempts,
            json::serialize(retry_to_json(s.retry)), s.dnc_on_blocked, s.budget_credits,
            s.auto_resume, s.description, s.start_at, s.end_at, s.callback_field);
}

Error duplicate_name(const std::string& name) {
  return Error{errc::duplicate, "a campaign named '" + name + "' already exists"};
}

}  // namespace

Result<std::int64_t> SqlCampaigns::create(const CampaignSpec& s, TimePoint now) {
  static const std::string sql = [] {
    std::string columns;
    std::string values;
    for (std::string_view c : kSpecColumns) {
      columns += std::string{c} + ", ";
      values += "?, ";
    }
    return "INSERT INTO campaigns (" + columns + "created_at, updated_at) VALUES (" + values +
           "?, ?) RETURNING id";
  }();
  auto id =
      with_spec_values(s, [&](const auto&... v) { return db_.query_int64(sql, v..., now, now); });
  if (!id && id.error().code == make_error_code(errc::duplicate)) return duplicate_name(s.name);
  return id;
}

Result<std::optional<CampaignRow>> SqlCampaigns::find(std::string_view name_or_id) {
  static const std::string by_name = std::string{kSelect} + "WHERE name = ?";
  auto st = db_.prepare(by_name);
  if (!st) return st.error();
  st->bind(1, name_or_id);
  auto found = read_one(*st);
  if (!found || found->has_value()) return found;
  bool digits = !name_or_id.empty() && name_or_id.size() <= 18 &&
                std::all_of(name_or_id.begin(), name_or_id.end(),
                            [](char c) { return c >= '0' && c <= '9'; });
  if (!digits) return found;
  return get(std::stoll(std::string{name_or_id}));
}

Result<std::optional<CampaignRow>> SqlCampaigns::get(std::int64_t id) {
  static const std::string sql = std::string{kSelect} + "WHERE id = ?";
  auto st = db_.prepare(sql);
  if (!st) return st.error();
  st->bind(1, id);
  return read_one(*st);
}

Result<std::vector<CampaignRow>> SqlCampaigns::list() {
  static const std::string sql = std::string{kSelect} + "ORDER BY id";
  auto st = db_.prepare(sql);
  if (!st) return st.error();
  return read_all(*st);
}

Result<std::vector<CampaignRow>> SqlCampaigns::list_in_state(CampaignState state) {
  static const std::string sql = std::string{kSelect} + "WHERE state = ? ORDER BY id";
  auto st = db_.prepare(sql);
  if (!st) return st.error();
  st->bind(1, state);
  return read_all(*st);
}

Result<bool> SqlCampaigns::remove_draft(std::int64_t id) {
  auto n = db_.execute("DELETE FROM campaigns WHERE id = ? AND state = 'draft'", id);
  if (!n) return n.error();
  return *n == 1;
}

Result<void> SqlCampaigns::update_spec(std::int64_t id, const CampaignSpec& s, TimePoint now) {
  static const std::string sql = [] {
    std::string sets;
    for (std::string_view c : kSpecColumns) sets += std::string{c} + " = ?, ";
    return "UPDATE campaigns SET " + sets + "updated_at = ? WHERE id = ?";
  }();
  auto n = with_spec_values(s, [&](const auto&... v) { return db_.execute(sql, v..., now, id); });
  if (!n) {
    if (n.error().code == make_error_code(errc::duplicate)) return duplicate_name(s.name);
    return n.error();
  }
  if (*n == 0) return Error{errc::not_found, "no campaign " + std::to_string(id)};
  return {};
}

Result<void> SqlCampaigns::set_state(std::int64_t id, CampaignState state, PauseReason pause_reason,
                                     TimePoint now) {
  auto n = db_.execute(
      "UPDATE campaigns SET state = ?1, pause_reason = ?2, updated_at = ?3,"
      " started_at = CASE WHEN ?1 = 'running' THEN coalesce(started_at, ?3) ELSE started_at END,"
      " completed_at = CASE WHEN ?1 IN ('completed', 'cancelled')"
      " THEN coalesce(completed_at, ?3) ELSE completed_at END"
      " WHERE id = ?4",
      state, pause_reason, now, id);
  if (!n) return n.error();
  if (*n == 0) return Error{errc::not_found, "no campaign " + std::to_string(id)};
  return {};
}

Result<void> SqlCampaigns::add_credits_used(std::int64_t id, double delta) {
  auto n =
      db_.execute("UPDATE campaigns SET credits_used = credits_used + ? WHERE id = ?", delta, id);
  if (!n) return n.error();
  if (*n == 0) return Error{errc::not_found, "no campaign " + std::to_string(id)};
  return {};
}

}  // namespace dialer::store
