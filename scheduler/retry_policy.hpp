#pragma once
/// What happens to a contact once an attempt's outcome is known (STATE-MACHINES.md "Outcome and
/// retry policy"): done, skipped, exhausted, or queued again at a jittered time inside the
/// calling window.

#include "core/campaign_spec.hpp"
#include "core/enums.hpp"
#include "core/time.hpp"

#include <map>
#include <random>
#include <string_view>

namespace dialer::scheduler {

class CallingWindow;

/// The injected random source for jitter; production seeds it once, tests with a fixed seed.
using Rng = std::mt19937_64;

/// Attempts of one contact per outcome.
using OutcomeCounts = std::map<Outcome, int>;

enum class RetryAction {
  done,       ///< outcome `completed`: contact → done
  skipped,    ///< outcome `blocked`: contact → skipped, never retried
  exhausted,  ///< no attempt left (max_attempts, the rule's max, or no rule): contact → exhausted
  retry,      ///< contact → queued with next_attempt_at
};

/// The retry policy's verdict for one outcome.
struct RetryDecision {
  RetryAction action = RetryAction::exhausted;
  /// contacts.reason for a closed contact: "blocked", "max_attempts", "retry_limit" (the
  /// outcome's own rule is used up) or "no_retry_rule"; empty for done and retry.
  std::string_view reason;
  /// retry only: when the contact is due again (jittered, moved into the calling window).
  TimePoint next_attempt_at{};
  /// skipped only: the campaign puts blocked numbers on the DNC list (`dnc_on_blocked`).
  bool add_to_dnc = false;
  /// retry only: the jittered time fell outside the window and was moved to its next opening.
  bool moved_into_window = false;
};

/// The campaign settings the policy reads.
struct RetrySettings {
  const RetryPolicy& rules;
  int max_attempts = 5;
  bool dnc_on_blocked = true;

  static RetrySettings of(const CampaignSpec& spec) {
    return {spec.retry, spec.max_attempts, spec.dnc_on_blocked};
  }
};

/// `delay` ± 10 %, uniformly drawn from `rng` at millisecond resolution, so the retries of a big
/// list do not all land in the same second.
Millis jittered(Millis delay, Rng& rng);

/// Decides the contact's next step after an attempt ended with `outcome`.
///
/// `counts` holds the contact's attempts per outcome and `counted_attempts` all its counted
/// attempts, both including the one that just ended. Order of the rules:
/// - `completed` → done; `blocked` → skipped (reason "blocked", DNC when dnc_on_blocked),
///   whatever `rules` holds for them;
/// - `counted_attempts ≥ max_attempts` → exhausted ("max_attempts"): the cap on all attempts
///   together, so per-rule budgets can never add up past it;
/// - no rule for the outcome (or max ≤ 0) → exhausted ("no_retry_rule");
/// - the outcome's rule allows at most `max` attempts ending that way: once this outcome has
///   been seen `max` times → exhausted ("retry_limit"), so `no_answer: {max: 2}` calls a number
///   that never answers exactly twice;
/// - otherwise retry at now + jittered(delay), moved to the window's next opening when that
///   instant is outside `window` (null: no window). When the window never opens the jittered
///   time is kept; dispatch will not claim the contact while the window is closed.
/// `lost` is an ordinary outcome here and uses the `lost` rule.
RetryDecision decide_retry(Outcome outcome, const OutcomeCounts& counts, int counted_attempts,
                           const RetrySettings& settings, const CallingWindow* window, Rng& rng,
                           TimePoint now);

}  // namespace dialer::scheduler

namespace dialer {
template <>
struct EnumNames<scheduler::RetryAction> {
  static constexpr auto names =
      std::to_array<std::string_view>({"done", "skipped", "exhausted", "retry"});
};
}  // namespace dialer
