#include "daemon/scheduler_json.hpp"

#include "core/campaign_json.hpp"
#include "core/time_json.hpp"

#include <boost/json/array.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <utility>

namespace dialer::daemon {

namespace json = boost::json;
using scheduler::BlockedBy;
using scheduler::BlockReason;

json::value to_json(const BlockedBy& b, std::optional<TimePoint> now) {
  if (b.reason == BlockReason::none) return nullptr;
  json::object o;
  o["reason"] = to_string(b.reason);
  if (now && b.at) {
    o["in_s"] = std::max<std::int64_t>(
        0, std::chrono::duration_cast<std::chrono::seconds>(*b.at - *now).count());
  }
  if (!b.contact.empty()) o["contact"] = b.contact;
  if (b.retry_after) o["retry_after"] = to_string(*b.retry_after);
  if (b.reason == BlockReason::paused_by_errors || b.reason == BlockReason::account_blocked) {
    o["message"] = b.message;
  }
  switch (b.reason) {
    case BlockReason::no_free_slot:
      o["used"] = b.used;
      o["limit"] = b.limit;
      break;
    case BlockReason::rate_limited:
      o["next_token_at"] = iso_or_null(b.at);
      break;
    case BlockReason::outside_calling_window:
      o["opens_at"] = iso_or_null(b.at);
      if (b.at_local.empty()) {
        o["opens_at_local"] = nullptr;
      } else {
        o["opens_at_local"] = b.at_local;
      }
      o["timezone"] = b.timezone;
      break;
    case BlockReason::no_due_contacts:
      o["next_due_at"] = iso_or_null(b.at);
      break;
    case BlockReason::provider_unavailable:
      o["until"] = iso_or_null(b.at);
      break;
    case BlockReason::number_in_call_elsewhere:
      o["next_try_at"] = iso_or_null(b.at);
      break;
    case BlockReason::unknown_timezone:
      o["timezone"] = b.timezone;
      break;
    case BlockReason::api_unreachable:
      o["next_try_at"] = iso_or_null(b.at);
      break;
    case BlockReason::none:
    case BlockReason::not_running:
    case BlockReason::credit_exhausted:
    case BlockReason::account_blocked:
    case BlockReason::paused_by_errors:
    case BlockReason::standby:
      break;
  }
  return o;
}

json::object to_json(const scheduler::SchedulerStatus& s) {
  json::object o;
  o["slots"] = json::object{{"used", s.slots.used},       {"limit", s.slots.limit},
                            {"source", s.slots.source},   {"in_flight", s.slots.in_flight},
                            {"foreign", s.slots.foreign}, {"capacity", s.slots.capacity}};
  o["rate"] = json::object{{"calls_per_minute", s.rate.calls_per_minute},
                           {"used_last_minute", s.rate.used_last_minute},
                           {"general_per_minute", s.rate.general_per_minute},
                           {"general_used_last_minute", s.rate.general_used_last_minute},
                           {"next_token_at", format_iso8601(s.rate.next_token_at)}};
  json::object credits;
  if (s.credits.balance) {
    credits["balance"] = *s.credits.balance;
  } else {
    credits["balance"] = nullptr;
  }
  credits["state"] = to_string(s.credits.state);
  credits["polled_at"] = iso_or_null(s.credits.polled_at);
  if (s.credits.age) {
    credits["age_s"] = std::chrono::duration_cast<std::chrono::seconds>(*s.credits.age).count();
  } else {
    credits["age_s"] = nullptr;
  }
  if (s.credits.probe_at) credits["next_probe_at"] = format_iso8601(*s.credits.probe_at);
  o["credits"] = std::move(credits);
  json::object campaigns;
  for (const auto& [state, n] : s.campaigns) campaigns[to_string(state)] = n;
  o["campaigns"] = std::move(campaigns);
  if (s.account_block == scheduler::AccountBlock::none) {
    o["account_block"] = nullptr;
  } else {
    o["account_block"] =
        json::object{{"reason", to_string(s.account_block)}, {"message", s.account_message}};
  }
  o["api_unreachable"] = s.api_unreachable;
  o["ambiguous_attempts"] = s.ambiguous;
  json::array overdue;
  for (const auto& a : s.overdue) {
    overdue.push_back(json::object{{"attempt_id", a.attempt_id},
                                   {"campaign", a.campaign},
                                   {"since", format_iso8601(a.since)}});
  }
  o["ambiguous_overdue"] =
      json::object{{"count", s.ambiguous_overdue}, {"oldest", std::move(overdue)}};
  o["starts_outstanding"] = s.starts_outstanding;
  o["outcomes_by_poll_last_hour"] = s.outcomes_by_poll_last_hour;
  o["shutting_down"] = s.shutting_down;
  return o;
}

json::object campaign_status_json(const scheduler::CampaignView& v) {
  const auto& row = v.campaign;
  json::object o;
  o["id"] = row.id;
  o["name"] = row.spec.name;
  o["state"] = to_string(row.state);
  o["pause_reason"] = to_string(row.pause_reason);
  o["blocked_by"] = to_json(v.blocked_by, v.now);
  o["blocked_by_text"] = to_text(v.blocked_by, v.now);
  json::object contacts;
  for (const auto& [state, n] : v.contacts) contacts[to_string(state)] = n;
  o["contacts"] = std::move(contacts);
  json::object outcomes;
  for (const auto& [outcome, n] : v.outcomes) outcomes[to_string(outcome)] = n;
  o["outcomes"] = std::move(outcomes);
  o["attempts"] = v.attempts;
  o["in_flight"] = v.in_flight;
  o["credits_used"] = row.credits_used;
  o["created_at"] = format_iso8601(row.created_at);
  o["updated_at"] = format_iso8601(row.updated_at);
  o["started_at"] = iso_or_null(row.started_at);
  o["completed_at"] = iso_or_null(row.completed_at);
  return o;
}

json::object to_json(const scheduler::CampaignView& v) {
  json::object o = campaign_spec_to_json(v.campaign.spec);
  for (auto& [key, value] : campaign_status_json(v)) o[key] = std::move(value);
  return o;
}

json::object to_json(const Forecast& f) {
  json::array days;
  for (const auto& d : f.by_day) {
    days.push_back(json::object{{"date", d.date}, {"calls", d.calls}, {"credits", d.credits}});
  }
  json::array mix;
  for (const auto& m : f.mix) {
    mix.push_back(json::object{{"outcome", m.outcome},
                               {"share", m.share},
                               {"hold_s", static_cast<double>(m.hold.count()) / 1000.0},
                               {"credits", m.credits},
                               {"seen", m.seen}});
  }
  json::array assumptions;
  for (const auto& a : f.assumptions) assumptions.emplace_back(a);
  return {
      {"campaign", f.campaign},
      {"finish_at", f.finish_at ? json::value(format_iso8601(*f.finish_at)) : json::value(nullptr)},
      {"finish_at_local", f.finish_at ? json::value(f.finish_at_local) : json::value(nullptr)},
      {"zone", f.zone},
      {"calls", f.calls},
      {"credits", f.credits},
      {"by_day", std::move(days)},
      {"mix", std::move(mix)},
      {"assumptions", std::move(assumptions)},
      {"remaining_contacts", f.remaining_contacts},
      {"simulated_s", f.simulated.count() / 1000},
      {"wall_ms", f.wall.count()},
      {"truncated", f.truncated}};
}

}  // namespace dialer::daemon
