// What the engine shows: status-get and campaign views (their JSON is daemon/scheduler_json.cpp).

#include "scheduler/scheduler_impl.hpp"

#include <boost/json/serialize.hpp>
#include <prometheus/family.h>
#include <prometheus/registry.h>
#include <spdlog/spdlog.h>

#include <random>

namespace dialer::scheduler {

SchedulerStatus Scheduler::Impl::status() const {
  SchedulerStatus s;
  const auto acc = slot_account();
  s.slots.used = acc.used();
  s.slots.limit = acc.limit;
  s.slots.source = account_.limit_source;
  s.slots.in_flight = acc.in_flight;
  s.slots.foreign = acc.foreign;
  s.slots.capacity = acc.capacity;
  s.rate.calls_per_minute = platform_.limit(RateBucket::calls);
  s.rate.used_last_minute = platform_.used_last_window(RateBucket::calls);
  s.rate.general_per_minute = platform_.limit(RateBucket::general);
  s.rate.general_used_last_minute = platform_.used_last_window(RateBucket::general);
  s.rate.next_token_at = platform_.next_token_at(RateBucket::calls);
  s.credits.balance = account_.balance;
  s.credits.state = account_.credit_state;
  s.credits.polled_at = account_.balance_polled_at;
  if (account_.balance_polled_at)
    s.credits.age = std::max(Millis{0}, now() - *account_.balance_polled_at);
  for (auto st : all_values<CampaignState>()) s.campaigns[st] = 0;
  for (const auto& [id, c] : campaigns_) ++s.campaigns[c.row.state];
  s.account_block = account_.block;
  s.api_unreachable = account_.api_unreachable;
  if (account_.credit_state == CreditState::exhausted && !account_.balance)
    s.credits.probe_at = account_.credit_probe_at;
  s.account_message = account_.block_message;
  s.ambiguous = static_cast<int>(open_.ambiguous.size());
  const TimePoint t = now();
  for (std::int64_t id : open_.ambiguous) {
    const OpenAttempt& a = open_.by_id.at(id);
    if (t - a.ambiguous_since < options_.stale_call_timeout) continue;
    ++s.ambiguous_overdue;
    const auto c = campaigns_.find(a.campaign_id);
    s.overdue.push_back(
        {id, c != campaigns_.end() ? c->second.name() : std::string(), a.ambiguous_since});
  }
  std::sort(s.overdue.begin(), s.overdue.end(),
            [](const auto& x, const auto& y) { return x.since < y.since; });
  if (s.overdue.size() > kMaxOverdueShown) s.overdue.resize(kMaxOverdueShown);
  s.starts_outstanding = static_cast<int>(open_.outstanding_starts.size());
  s.shutting_down = run_.stopping;
  s.outcomes_by_poll_last_hour = polled_outcomes_.last_hour(t);
  return s;
}

Result<CampaignView> Scheduler::Impl::campaign_view(std::string_view campaign) {
  CampaignRt* c = find_campaign(campaign);
  if (c == nullptr && !run_.recovered) return stored_campaign_view(campaign);
  if (c == nullptr) return Error{errc::not_found, "no campaign " + std::string(campaign)};
  CampaignView v;
  v.campaign = c->row;
  auto contacts = contacts_.counts_by_state(c->id());
  if (!contacts) return contacts.error();
  v.contacts = std::move(*contacts);
  auto outcomes = attempts_.outcome_counts(c->id());
  if (!outcomes) return outcomes.error();
  v.outcomes = std::move(*outcomes);
  auto attempts = attempts_.count(c->id());
  if (!attempts) return attempts.error();
  v.attempts = *attempts;
  v.in_flight = c->in_flight;
  v.blocked_by = c->row.state == CampaignState::running ? c->blocked_by : stopped_reason(*c);
  const TimePoint t = now();
  v.now = t;
  auto due = contacts_.count_due(c->id(), t, kDueNowCap);
  if (!due) return due.error();
  v.due_now = *due;
  v.starts_last_5m = c->starts.last(t, 5);
  v.starts_last_hour = c->starts.last_hour(t);
  v.finished_last_hour = c->finished.last_hour(t);
  std::int64_t remaining = 0;
  for (const auto& [state, n] : v.contacts) {
    if (!is_terminal(state)) remaining += n;
  }
  if (remaining > 0 && v.finished_last_hour > 0 && c->row.started_at) {
    const Millis span = std::clamp<Millis>(t - *c->row.started_at, std::chrono::minutes{5},
                                           std::chrono::minutes{60});
    v.eta = Millis{static_cast<Millis::rep>(static_cast<double>(span.count()) *
                                            static_cast<double>(remaining) /
                                            static_cast<double>(v.finished_last_hour))};
  }
  v.last_error = !c->last_errors.empty() ? c->last_errors.back() : c->pause_error;
  return v;
}

Result<CampaignView> Scheduler::Impl::stored_campaign_view(std::string_view campaign) {
  auto row = store_.campaigns().find(campaign);
  if (!row) return row.error();
  if (!*row) return Error{errc::not_found, "no campaign " + std::string(campaign)};
  CampaignView v;
  v.campaign = std::move(**row);
  const std::int64_t id = v.campaign.id;
  auto contacts = contacts_.counts_by_state(id);
  if (!contacts) return contacts.error();
  v.contacts = std::move(*contacts);
  auto outcomes = attempts_.outcome_counts(id);
  if (!outcomes) return outcomes.error();
  v.outcomes = std::move(*outcomes);
  auto attempts = attempts_.count(id);
  if (!attempts) return attempts.error();
  v.attempts = *attempts;
  v.now = now();
  auto due = contacts_.count_due(id, v.now, kDueNowCap);
  if (!due) return due.error();
  v.due_now = *due;
  // Pace, calls in flight and errors live in the leader's memory; this node dials nothing.
  v.blocked_by = v.campaign.state == CampaignState::running ? BlockedBy::of(BlockReason::standby)
                                                            : BlockedBy::not_running();
  return v;
}

}  // namespace dialer::scheduler
