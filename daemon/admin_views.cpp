#include "daemon/admin_views.hpp"

#include "core/time_json.hpp"
#include "daemon/scheduler_json.hpp"

#include <boost/json/parse.hpp>

#include <chrono>
#include <optional>

namespace dialer::daemon {

namespace json = boost::json;

namespace {

template <class E>
json::value enum_or_null(const std::optional<E>& e) {
  if (!e) return nullptr;
  return json::value(to_string(*e));
}

json::value number_or_null(const std::optional<double>& d) {
  if (!d) return nullptr;
  return json::value(*d);
}

}  // namespace

json::object counts_nonzero(const std::map<ContactState, std::int64_t>& counts) {
  json::object o;
  for (const auto& [state, n] : counts) {
    if (n != 0) o[to_string(state)] = n;
  }
  return o;
}

json::object outcome_counts(const std::map<Outcome, std::int64_t>& counts) {
  json::object o;
  for (const auto& [outcome, n] : counts) o[to_string(outcome)] = n;
  return o;
}

void add_pace(json::object& o, const scheduler::CampaignView& v) {
  std::int64_t total = 0;
  std::int64_t finished = 0;
  for (const auto& [state, n] : v.contacts) {
    total += n;
    if (is_terminal(state)) finished += n;
  }
  o["contacts_total"] = total;
  o["contacts_finished"] = finished;
  o["due_now"] = v.due_now;
  o["due_now_capped"] = v.due_now >= scheduler::kDueNowCap;
  o["starts_last_5m"] = v.starts_last_5m;
  o["starts_last_hour"] = v.starts_last_hour;
  o["finished_last_hour"] = v.finished_last_hour;
  if (v.eta) {
    o["eta_s"] = std::chrono::duration_cast<std::chrono::seconds>(*v.eta).count();
  } else {
    o["eta_s"] = nullptr;
  }
  // Answered: a person picked up (a conversation, or a hang-up before speaking).
  std::int64_t outcomes = 0;
  std::int64_t answered = 0;
  for (const auto& [outcome, n] : v.outcomes) {
    outcomes += n;
    if (outcome == Outcome::completed || outcome == Outcome::user_hangup_no_speech) answered += n;
  }
  if (outcomes > 0) {
    o["answer_rate"] = static_cast<double>(answered) / static_cast<double>(outcomes);
  } else {
    o["answer_rate"] = nullptr;
  }
  o["last_error"] = v.last_error;
}

json::object stats_json(const scheduler::CampaignView& v) {
  json::object o = campaign_status_json(v);
  add_pace(o, v);
  return o;
}

json::object contact_json(const store::ContactRow& c) {
  json::object o;
  o["id"] = c.id;
  o["phone"] = c.phone;
  o["name"] = c.name;
  o["state"] = to_string(c.state);
  o["reason"] = c.reason;
  o["attempts"] = c.attempts;
  o["next_attempt_at"] = c.next_attempt_at == TimePoint{}
                             ? json::value(nullptr)
                             : json::value(format_iso8601(c.next_attempt_at));
  o["last_outcome"] = enum_or_null(c.last_outcome);
  o["zones"] = c.zones;
  o["verified"] = c.verified;
  o["number_type"] = to_string(c.number_type);
  boost::system::error_code ec;
  auto vars = json::parse(c.variables_json, ec);
  o["variables"] = !ec && vars.is_object() ? std::move(vars) : json::value(json::object{});
  o["source_line"] = c.source_line ? json::value(*c.source_line) : json::value(nullptr);
  o["updated_at"] = format_iso8601(c.updated_at);
  return o;
}

json::object attempt_json(const store::AttemptRow& a, const std::string& campaign) {
  json::object o;
  o["attempt_id"] = a.id;
  o["campaign"] = campaign;
  o["campaign_id"] = a.campaign_id;
  o["contact_id"] = a.contact_id;
  o["phone"] = a.to_number;
  o["state"] = to_string(a.state);
  o["call_id"] = a.call_id ? json::value(*a.call_id) : json::value(nullptr);
  o["session_id"] = a.session_id ? json::value(*a.session_id) : json::value(nullptr);
  o["provider"] = to_string(a.provider);
  o["reserved_at"] = format_iso8601(a.reserved_at);
  o["started_at"] = iso_or_null(a.started_at);
  o["ended_at"] = iso_or_null(a.ended_at);
  o["status"] = enum_or_null(a.status);
  o["outcome"] = enum_or_null(a.outcome);
  o["answered_by"] = enum_or_null(a.answered_by);
  o["duration_seconds"] = number_or_null(a.duration_seconds);
  o["credits_used"] = number_or_null(a.credits_used);
  o["error"] = a.error ? json::value(*a.error) : json::value(nullptr);
  return o;
}

}  // namespace dialer::daemon
