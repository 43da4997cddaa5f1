// Attempts holding a slot: tracking, release, their deadlines (reconcile_after,
// stale_call_timeout), lost calls, slot holds, and an operator's resolution of an ambiguous one.

#include "scheduler/scheduler_impl.hpp"

#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <limits>

namespace dialer::scheduler {

// earliest of them, whatever the number of calls in flight.

void Scheduler::Impl::add_deadline(TimePoint at, std::int64_t attempt_id, bool stale) {
  auto it = open_.by_id.find(attempt_id);
  if (it == open_.by_id.end()) return;
  auto& slot = stale ? it->second.stale_at : it->second.poll_at;
  if (slot) open_.deadlines.erase({*slot, attempt_id, stale});
  slot = at;
  open_.deadlines.insert({at, attempt_id, stale});
  arm_deadline_timer();
}

void Scheduler::Impl::remove_deadlines(std::int64_t attempt_id) {
  auto it = open_.by_id.find(attempt_id);
  if (it == open_.by_id.end()) return;
  if (it->second.poll_at) open_.deadlines.erase({*it->second.poll_at, attempt_id, false});
  if (it->second.stale_at) open_.deadlines.erase({*it->second.stale_at, attempt_id, true});
  it->second.poll_at.reset();
  it->second.stale_at.reset();
}

void Scheduler::Impl::arm_deadline_timer() {
  if (run_.stopping || open_.deadlines.empty()) {
    if (open_.deadline_timer != 0) ex_.cancel(open_.deadline_timer);
    open_.deadline_timer = 0;
    return;
  }
  const TimePoint first = std::get<0>(*open_.deadlines.begin());
  if (open_.deadline_timer != 0 && open_.deadline_at <= first) return;  // fires first; re-arms then
  if (open_.deadline_timer != 0) ex_.cancel(open_.deadline_timer);
  open_.deadline_at = first;
  open_.deadline_timer = ex_.schedule_at(first, guard([this] {
                                           open_.deadline_timer = 0;
                                           on_deadlines();
                                         }));
}

void Scheduler::Impl::on_deadlines() {
  const TimePoint t = now();
  while (!open_.deadlines.empty() && std::get<0>(*open_.deadlines.begin()) <= t) {
    const auto [at, id, stale] = *open_.deadlines.begin();
    open_.deadlines.erase(open_.deadlines.begin());
    auto it = open_.by_id.find(id);
    if (it == open_.by_id.end()) continue;
    OpenAttempt& a = it->second;
    if (stale) {
      a.stale_at.reset();
      on_lost(id);
      continue;
    }
    a.poll_at.reset();
    if (a.state == AttemptState::started && a.poll == PollState::none) {
      a.poll = PollState::overdue;
      reconciler_.poll_queue.insert(id);
      spdlog::debug("attempt {} (call {}): no outcome after {}; polling", id, a.call_id,
                    format_duration(options_.reconcile_after));
    }
  }
  arm_deadline_timer();
  request_dispatch();  // the pass sends listings and polls with what its starts left over
}

void Scheduler::Impl::track_started(OpenAttempt& a, TimePoint started_at) {
  a.state = AttemptState::started;
  a.started_at = started_at;
  if (!a.call_id.empty()) open_.by_call_id[a.call_id] = a.id;
  if (!a.session_id.empty()) open_.by_session_id[a.session_id] = a.id;
  add_deadline(started_at + options_.reconcile_after, a.id, false);
  add_deadline(started_at + options_.stale_call_timeout, a.id, true);
}

void Scheduler::Impl::release(OpenAttempt& a) {
  remove_deadlines(a.id);
  open_.ambiguous.erase(a.id);
  open_.overdue_reported.erase(a.id);
  reconciler_.poll_queue.erase(a.id);
  if (!a.call_id.empty()) open_.by_call_id.erase(a.call_id);
  if (!a.session_id.empty()) open_.by_session_id.erase(a.session_id);
  if (CampaignRt* c = campaign_by_id(a.campaign_id)) --c->in_flight;
  --open_.in_flight;
  open_.by_id.erase(a.id);  // `a` is gone from here on
}

void Scheduler::Impl::on_lost(std::int64_t attempt_id) {
  auto it = open_.by_id.find(attempt_id);
  if (it == open_.by_id.end() || it->second.state != AttemptState::started) return;
  OpenAttempt& a = it->second;
  CampaignRt& c = campaigns_.at(a.campaign_id);
  const TimePoint t = now();
  if (a.live_at_last_poll) {
    // The platform said it is still in progress: it keeps its slot (and its person), and is
    // lost only if the next poll no longer says so.
    a.live_at_last_poll = false;
    const TimePoint next = t + options_.reconcile_after + kPollRetry;
    add_deadline(next, attempt_id, true);
    spdlog::info(
        "campaign {}: attempt {} (call {}) still in progress at the last poll after {}; "
        "its deadline moves to {}",
        c.name(), attempt_id, a.call_id, format_duration(options_.stale_call_timeout),
        format_iso8601(next));
    return;
  }
  {
    auto tx = store_.begin();
    if (!tx) {
      spdlog::error("attempt {}: {}", attempt_id, tx.error().what());
      return;
    }
    auto m = lifecycle_.attempt(attempt_id, AttemptState::started, AttemptEvent::timed_out,
                                {.counted = true, .ended_at = t, .outcome = Outcome::lost}, t);
    if (!m) {
      spdlog::error("attempt {}: {}", attempt_id, m.error().what());
      return;
    }
    if (auto r = close_contact(c, a.contact, Outcome::lost, t); !r) {
      spdlog::error("attempt {}: {}", attempt_id, r.error().what());
      return;
    }
    if (auto r = tx->commit(); !r) {
      spdlog::error("attempt {}: {}", attempt_id, r.error().what());
      return;
    }
  }
  ++stats_.lost;
  if (metrics_) metrics_->outcomes[static_cast<std::size_t>(Outcome::lost)]->Increment();
  spdlog::warn("campaign {}: attempt {} (call {}) has no outcome after {}: lost", c.name(),
               attempt_id, a.call_id, format_duration(options_.stale_call_timeout));
  release(a);
  maybe_drained(c);
  request_dispatch();
}

void Scheduler::Impl::report_overdue_ambiguous(TimePoint t) {
  for (std::int64_t id : open_.ambiguous) {
    const OpenAttempt& a = open_.by_id.at(id);
    if (t - a.ambiguous_since < options_.stale_call_timeout ||
        open_.overdue_reported.contains(id)) {
      continue;
    }
    open_.overdue_reported.insert(id);
    const CampaignRt* c = campaign_by_id(a.campaign_id);
    spdlog::error(
        "campaign {}: attempt {} (contact {}) has been ambiguous since {}: no listing could "
        "settle it, so its contact stays claimed; settle it with `dialerctl attempt resolve {} "
        "--as void` (no call was made) or `--as lost` (a call may have been made)",
        c != nullptr ? c->name() : std::to_string(a.campaign_id), id, a.contact.id,
        format_iso8601(a.ambiguous_since), id);
  }
}

Result<void> Scheduler::Impl::resolve_attempt(std::int64_t attempt_id, Resolution as,
                                              std::string_view actor) {
  auto it = open_.by_id.find(attempt_id);
  if (it == open_.by_id.end() || it->second.state != AttemptState::ambiguous) {
    auto row = attempts_.get(attempt_id);
    if (!row) return row.error();
    if (!*row) return Error{errc::not_found, "no attempt " + std::to_string(attempt_id)};
    return Error{errc::conflict, "attempt " + std::to_string(attempt_id) + " is " +
                                     std::string(to_string((*row)->state)) +
                                     ": only an ambiguous attempt can be resolved"};
  }
  OpenAttempt& a = it->second;
  if (a.start_outstanding) {
    return Error{errc::conflict, "attempt " + std::to_string(attempt_id) +
                                     ": its start request is still waiting for an answer"};
  }
  const std::int64_t campaign_id = a.campaign_id;
  spdlog::warn("attempt {}: resolved as {} by {}", attempt_id,
               as == Resolution::void_ ? "void" : "lost", actor);
  if (as == Resolution::void_) {
    settle_void(a, AttemptEvent::resolved_void);
    if (open_.by_id.contains(attempt_id)) {
      return Error{errc::db_error,
                   "attempt " + std::to_string(attempt_id) + ": could not be voided (see the log)"};
    }
    request_dispatch();
    return {};
  }
  CampaignRt& c = campaigns_.at(campaign_id);
  const TimePoint t = now();
  {
    auto tx = store_.begin();
    if (!tx) return tx.error();
    auto m = lifecycle_.attempt(attempt_id, AttemptState::ambiguous, AttemptEvent::resolved_lost,
                                {.counted = true, .ended_at = t, .outcome = Outcome::lost}, t);
    if (!m) return m.error();
    if (!*m)
      return Error{errc::conflict, "attempt " + std::to_string(attempt_id) +
                                       " is no longer ambiguous in the store"};
    store::ContactRow contact = a.contact;
    contact.attempts += 1;  // a call may have been made: it counts
    if (auto r = close_contact(c, contact, Outcome::lost, t, ContactState::dialing); !r) {
      return r.error();
    }
    if (auto r = tx->commit(); !r) return r.error();
  }
  ++stats_.lost;
  if (metrics_) metrics_->outcomes[static_cast<std::size_t>(Outcome::lost)]->Increment();
  release(a);
  maybe_drained(c);
  request_dispatch();
  return {};
}

void Scheduler::Impl::note_hold(Millis held) {
  open_.holds.push_back(std::max(held, Millis{0}));
  if (open_.holds.size() > kHolds) open_.holds.pop_front();
}

Millis Scheduler::Impl::longest_hold() const {
  return open_.holds.empty() ? kDefaultLongestHold
                             : *std::max_element(open_.holds.begin(), open_.holds.end());
}

Millis Scheduler::Impl::turnover() const {
  if (open_.holds.empty()) return kDefaultTurnover;
  // The lower quartile: short enough to keep tokens for starts, not set by one busy tone.
  std::vector<Millis> sorted(open_.holds.begin(), open_.holds.end());
  const auto q = sorted.begin() + static_cast<std::ptrdiff_t>(sorted.size() / 4);
  std::nth_element(sorted.begin(), q, sorted.end());
  return *q;
}

bool Scheduler::Impl::outcome_overdue(const OpenAttempt& a, TimePoint now, Millis longest) const {
  if (a.state != AttemptState::started || a.start_outstanding) return false;
  if (a.poll != PollState::none) return true;  // past reconcile_after, or listed as over
  if (!a.started_at) return false;
  return now >= *a.started_at + longest + kLateWebhookGrace;
}

}  // namespace dialer::scheduler
