#include "scheduler/retry_policy.hpp"

#include "scheduler/calling_window.hpp"

#include <algorithm>

namespace dialer::scheduler {

Millis jittered(Millis delay, Rng& rng) {
  if (delay <= Millis{0}) return Millis{0};
  const auto spread = delay.count() / 10;
  std::uniform_int_distribution<Millis::rep> offset(-spread, spread);
  return delay + Millis{offset(rng)};
}

RetryDecision decide_retry(Outcome outcome, const OutcomeCounts& counts, int counted_attempts,
                           const RetrySettings& settings, const CallingWindow* window, Rng& rng,
                           TimePoint now) {
  RetryDecision d;
  if (outcome == Outcome::completed) {
    d.action = RetryAction::done;
    return d;
  }
  if (outcome == Outcome::blocked) {
    d.action = RetryAction::skipped;
    d.reason = "blocked";
    d.add_to_dnc = settings.dnc_on_blocked;
    return d;
  }
  d.action = RetryAction::exhausted;
  if (counted_attempts >= settings.max_attempts) {
    d.reason = "max_attempts";
    return d;
  }
  const auto rule = settings.rules.find(outcome);
  if (rule == settings.rules.end() || rule->second.max <= 0) {
    d.reason = "no_retry_rule";
    return d;
  }
  const auto seen = counts.find(outcome);
  // The attempt that just ended is in `counts`; never below 1 even if the caller left it out.
  // `max: N` = at most N attempts end with this outcome: the Nth one closes the contact.
  const int times = std::max(1, seen == counts.end() ? 0 : seen->second);
  if (times >= rule->second.max) {
    d.reason = "retry_limit";
    return d;
  }

  d.action = RetryAction::retry;
  d.next_attempt_at = now + jittered(rule->second.delay, rng);
  if (window != nullptr && !window->allowed(d.next_attempt_at)) {
    if (auto open = window->next_opening(d.next_attempt_at)) {
      d.next_attempt_at = *open;
      d.moved_into_window = true;
    }
  }
  return d;
}

}  // namespace dialer::scheduler
