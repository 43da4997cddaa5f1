// Dispatch's accounting: slots, /calls/* tokens and their planning (token_plan.hpp), and why
// each campaign does (not) dial (blocked_by.hpp), with the wake-up that follows.

#include "scheduler/scheduler_impl.hpp"

#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>

namespace dialer::scheduler {

using namespace std::chrono_literals;

int Scheduler::Impl::calls_tokens() const {
  // Claims waiting for their transaction to commit will spend a token each once sent.
  const int pending = dispatch_.deferred_starts != nullptr
                          ? static_cast<int>(dispatch_.deferred_starts->size())
                          : 0;
  return platform_.tokens(RateBucket::calls) - pending;
}

SlotAccount Scheduler::Impl::slot_account() const {
  auto acc =
      account_slots(account_.concurrency, open_.in_flight, account_.ours_at_concurrency_poll);
  if (account_.full_until_fresh_poll && acc.capacity > acc.in_flight) {
    acc.capacity = acc.in_flight;
    acc.foreign = std::max(acc.foreign, acc.limit - acc.capacity);
  }
  return acc;
}

int Scheduler::Impl::optional_tokens(TimePoint now, std::optional<TimePoint> waiting_since) const {
  TokenPlan p;
  p.now = now;
  p.tokens = calls_tokens();
  if (p.tokens <= 0) return 0;
  // Waited long enough: the next token, whatever the plan.
  if (waiting_since && now - *waiting_since >= kOptionalReadMaxWait) return p.tokens;
  p.horizon = now + platform_.token_span(RateBucket::calls);
  p.returns = platform_.token_returns(RateBucket::calls);
  p.due_from = dispatch_.plan_due_from;
  const SlotAccount acc = slot_account();
  p.free_slots = acc.free();
  int due_slots = 0;
  for (const auto& [id, c] : campaigns_) {
    if (c.plan_due) due_slots += std::max(c.spec().max_concurrency, 0);
  }
  p.max_slots = std::min(due_slots, acc.capacity);
  p.turnover = turnover();
  const Millis longest = longest_hold();
  for (const auto& [id, a] : open_.by_id) {
    if (outcome_overdue(a, now, longest)) continue;
    const TimePoint from = a.state == AttemptState::started && a.started_at ? *a.started_at : now;
    p.slot_frees.push_back(std::max(now, from + p.turnover));
  }
  return slack_tokens(p);
}

TimePoint Scheduler::Impl::slack_check_at(TimePoint now) const {
  if (calls_tokens() <= 0) return platform_.next_token_at(RateBucket::calls);
  TimePoint at = TimePoint::max();
  const auto earlier = [&at](TimePoint t) { at = std::min(at, t); };
  if (const auto returns = platform_.token_returns(RateBucket::calls); !returns.empty()) {
    earlier(std::max(returns.front(), now + 1ms));
  }
  const Millis longest = longest_hold();
  for (const auto& [id, a] : open_.by_id) {
    if (a.state != AttemptState::started || a.start_outstanding || !a.started_at) continue;
    if (outcome_overdue(a, now, longest)) continue;
    earlier(*a.started_at + longest + kLateWebhookGrace);
  }
  for (const auto& since : {account_.poll_waiting_since, reconciler_.call_poll_waiting_since}) {
    if (since) earlier(std::max(*since + kOptionalReadMaxWait, now + 1ms));
  }
  return at;
}

void Scheduler::Impl::compute_blocked_by(TimePoint t, BlockReason pass_stop, TimePoint& wake) {
  dispatch_.plan_due_from.reset();
  arm_schedule(t);
  const TimePoint horizon = t + platform_.token_span(RateBucket::calls);
  CampaignRt* current = nullptr;
  const auto due_at = [&](TimePoint at) {
    dispatch_.plan_due_from = dispatch_.plan_due_from ? std::min(*dispatch_.plan_due_from, at) : at;
    if (at < horizon) current->plan_due = true;
  };
  for (auto& [id, c] : campaigns_) {
    c.plan_due = false;
    current = &c;
    if (c.row.state != CampaignState::running) {
      c.blocked_by = stopped_reason(c);
      continue;
    }
    if (pass_stop == BlockReason::account_blocked) {
      c.blocked_by = BlockedBy::account_blocked(account_.block_message);
      continue;
    }
    if (pass_stop == BlockReason::credit_exhausted) {
      c.blocked_by = BlockedBy::credit_exhausted();
      continue;
    }
    if (pass_stop == BlockReason::api_unreachable) {
      c.blocked_by = BlockedBy::api_unreachable(
          account_.probe_timer != 0 ? std::optional(account_.probe_at) : std::nullopt);
      continue;
    }
    if (c.in_flight >= c.spec().max_concurrency) {
      due_at(t);  // contacts may be due: its calls ending will want tokens
      c.blocked_by = BlockedBy::no_free_slot(c.in_flight, c.spec().max_concurrency);
      continue;
    }
    if (!c.provider_ok) {
      std::optional<TimePoint> back;
      const std::array<Provider, 1> fallback{Provider::mcube};
      const auto list = c.spec().providers.empty() ? std::span<const Provider>{fallback}
                                                   : std::span<const Provider>{c.spec().providers};
      for (Provider p : list) {
        if (auto until = providers_.cooldown_until(p, t)) {
          if (!back || *until < *back) back = until;
        }
      }
      if (back) {
        wake = std::min(wake, *back);
        due_at(*back);
      }
      c.blocked_by = BlockedBy::provider_unavailable(back);
      continue;
    }
    if (c.no_contact) {
      if (c.budget_hit) {
        // More contacts to examine than one pass may take: continue in a fresh pass.
        request_dispatch();
        due_at(t);
        c.blocked_by = BlockedBy::none();
        continue;
      }
      auto next = contacts_.next_due_contact(c.id());
      if (!next) {
        spdlog::error("campaign {}: {}", c.name(), next.error().what());
        continue;
      }
      if (!*next) {
        c.blocked_by = BlockedBy::no_due_contacts(std::nullopt);
        c.deferred_to_window.reset();
        c.deferred_busy.reset();
        c.deferred_unknown_zone.reset();
        maybe_drained(c);
        continue;
      }
      const TimePoint due = (*next)->next_attempt_at;
      due_at(std::max(due, t));
      // A due contact that could not be taken (a failed write) is looked at again shortly,
      // not in a tight loop.
      wake = std::min(wake, std::max(due, t + 1s));
      if (c.deferred_unknown_zone && due == *c.deferred_unknown_zone) {
        c.blocked_by = BlockedBy::unknown_timezone(c.unknown_zone);
      } else if (c.deferred_busy && due == *c.deferred_busy) {
        c.blocked_by = BlockedBy::number_in_call_elsewhere(due);
      } else {
        c.blocked_by = own_wait(c, **next, t).value_or(BlockedBy::no_due_contacts(due));
      }
      continue;
    }
    if (c.due.empty() &&
        (pass_stop == BlockReason::no_free_slot || pass_stop == BlockReason::rate_limited)) {
      // Not looked at in this pass: an account-wide reason is its own only if a contact of its
      // is due now and in its window (STATE-MACHINES.md "blocked_by").
      auto next = contacts_.next_due_contact(c.id());
      if (!next) {
        spdlog::error("campaign {}: {}", c.name(), next.error().what());
      } else if (!*next) {
        c.blocked_by = BlockedBy::no_due_contacts(std::nullopt);
        continue;
      } else if (auto own = own_wait(c, **next, t)) {
        const TimePoint due = own->reason == BlockReason::outside_calling_window && own->at
                                  ? *own->at
                                  : std::max((*next)->next_attempt_at, t);
        due_at(due);
        wake = std::min(wake, std::max(due, t + 1s));
        c.blocked_by = std::move(*own);
        continue;
      }
    }
    due_at(t);  // it still had due contacts when the pass stopped
    if (pass_stop == BlockReason::no_free_slot) {
      const auto acc = slot_account();
      c.blocked_by = BlockedBy::no_free_slot(acc.used(), acc.limit);
      continue;
    }
    if (pass_stop == BlockReason::rate_limited) {
      const TimePoint next = std::max(platform_.next_token_at(RateBucket::calls), t + 1ms);
      wake = std::min(wake, next);
      c.blocked_by = BlockedBy::rate_limited(next);
      continue;
    }
    c.blocked_by = BlockedBy::none();
  }
}

std::optional<BlockedBy> Scheduler::Impl::own_wait(CampaignRt& c, const store::ContactRow& next,
                                                   TimePoint t) {
  const WindowLookup lookup = window_for(c, next.zones);
  if (!lookup.unknown_zone.empty()) return BlockedBy::unknown_timezone(lookup.unknown_zone);
  const CallingWindow& w = *lookup.window;
  // The zone that keeps the window closed: where the opening falls on the window's start.
  const auto binding = [&](std::optional<TimePoint> opens) -> Zone {
    const auto zs = w.zones();
    if (zs.empty()) return c.zone;
    if (opens) {
      for (Zone z : zs) {
        const auto local = z->to_local(*opens);
        const auto tod = local - std::chrono::floor<date::days>(local);
        if (std::chrono::duration_cast<std::chrono::minutes>(tod) == c.spec().window.start) {
          return z;
        }
      }
    }
    return zs.front();
  };
  if (next.next_attempt_at <= t) {
    if (w.allowed(t)) return std::nullopt;
    const auto opens = w.next_opening(t);
    return BlockedBy::outside_calling_window(opens, binding(opens), next.phone);
  }
  const TimePoint due = next.next_attempt_at;
  // Deferred to its window's opening: closed just before, open from then on.
  if (w.allowed(due) && !w.allowed(due - 1ms)) {
    return BlockedBy::outside_calling_window(due, binding(due), next.phone);
  }
  if (next.attempts > 0 && next.last_outcome) {
    return BlockedBy::no_due_contacts(due, next.phone, next.last_outcome);
  }
  return BlockedBy::no_due_contacts(due, next.phone);
}

void Scheduler::Impl::arm_wake(TimePoint at) {
  if (at == TimePoint::max() || run_.stopping) {
    if (dispatch_.wake_timer != 0) ex_.cancel(dispatch_.wake_timer);
    dispatch_.wake_timer = 0;
    return;
  }
  if (dispatch_.wake_timer != 0 && dispatch_.wake_at == at) return;
  if (dispatch_.wake_timer != 0) ex_.cancel(dispatch_.wake_timer);
  dispatch_.wake_at = at;
  dispatch_.wake_timer = ex_.schedule_at(at, guard([this] {
                                           dispatch_.wake_timer = 0;
                                           request_dispatch();
                                         }));
}

}  // namespace dialer::scheduler
