#include "scheduler/retry_policy.hpp"

#include "scheduler/calling_window.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

namespace dialer::scheduler {
namespace {

using namespace std::chrono_literals;

const TimePoint kNoon = *parse_iso8601("2026-03-10T12:00:00+05:30");  // a Tuesday in Kolkata

struct Contact {
  OutcomeCounts counts;
  int attempts = 0;

  RetryDecision end_attempt(Outcome o, const RetrySettings& s, Rng& rng, TimePoint now = kNoon,
                            const CallingWindow* w = nullptr) {
    ++counts[o];
    ++attempts;
    return decide_retry(o, counts, attempts, s, w, rng, now);
  }
};

// `completed` always finishes the contact, even on its last allowed attempt.
TEST(RetryPolicy, CompletedIsDone) {
  const auto policy = default_retry_policy();
  Rng rng(1);
  auto d = decide_retry(Outcome::completed, {{Outcome::completed, 1}}, 5, {policy, 5, true},
                        nullptr, rng, kNoon);
  EXPECT_EQ(d.action, RetryAction::done);
  EXPECT_TRUE(d.reason.empty());
}

// `blocked` skips the contact with reason blocked, adds it to the DNC list only when the campaign
// says so, and is never retried even if a rule for it exists.
TEST(RetryPolicy, BlockedIsSkippedAndOptionallyDnc) {
  auto policy = default_retry_policy();
  policy[Outcome::blocked] = {10min, 5};
  Rng rng(1);
  auto d = decide_retry(Outcome::blocked, {{Outcome::blocked, 1}}, 1, {policy, 5, true}, nullptr,
                        rng, kNoon);
  EXPECT_EQ(d.action, RetryAction::skipped);
  EXPECT_EQ(d.reason, "blocked");
  EXPECT_TRUE(d.add_to_dnc);

  d = decide_retry(Outcome::blocked, {{Outcome::blocked, 1}}, 1, {policy, 5, false}, nullptr, rng,
                   kNoon);
  EXPECT_EQ(d.action, RetryAction::skipped);
  EXPECT_FALSE(d.add_to_dnc);
}

// Every retry delay lies within ±10 % of the rule's delay, and the draws really spread over
// that range.
TEST(RetryPolicy, JitterStaysWithinTenPercent) {
  const auto policy = default_retry_policy();
  Rng rng(42);
  Millis lo = Millis::max();
  Millis hi = Millis::min();
  for (int i = 0; i < 2000; ++i) {
    auto d = decide_retry(Outcome::busy, {{Outcome::busy, 1}}, 1, {policy, 5, true}, nullptr, rng,
                          kNoon);
    ASSERT_EQ(d.action, RetryAction::retry);
    const auto delay = d.next_attempt_at - kNoon;
    ASSERT_GE(delay, 9min);
    ASSERT_LE(delay, 11min);
    lo = std::min(lo, Millis{delay});
    hi = std::max(hi, Millis{delay});
  }
  EXPECT_LT(lo, 9min + 10s);
  EXPECT_GT(hi, 11min - 10s);
}

// The same seed gives the same retry times; another seed gives different ones.
TEST(RetryPolicy, JitterIsDeterministicForASeed) {
  const auto policy = default_retry_policy();
  auto run = [&](std::uint64_t seed) {
    Rng rng(seed);
    std::vector<TimePoint> out;
    for (auto o : {Outcome::no_answer, Outcome::busy, Outcome::voicemail, Outcome::failed}) {
      out.push_back(
          decide_retry(o, {{o, 1}}, 1, {policy, 5, true}, nullptr, rng, kNoon).next_attempt_at);
    }
    return out;
  };
  EXPECT_EQ(run(7), run(7));
  EXPECT_NE(run(7), run(8));
}

// Zero delay stays zero: jitter never makes a retry earlier than now.
TEST(RetryPolicy, ZeroDelayHasNoJitter) {
  Rng rng(3);
  EXPECT_EQ(jittered(0ms, rng), 0ms);
  for (int i = 0; i < 100; ++i) {
    auto j = jittered(10ms, rng);
    EXPECT_GE(j, 9ms);
    EXPECT_LE(j, 11ms);
  }
}

// The default rules retry after their documented delays (voicemail 4h, user_hangup_no_speech 1h,
// no_answer 30m, busy 10m, failed and lost 5m, canceled 10m).
TEST(RetryPolicy, DefaultDelays) {
  const auto policy = default_retry_policy();
  const std::vector<std::pair<Outcome, Millis>> expected = {
      {Outcome::voicemail, 4h},    {Outcome::user_hangup_no_speech, 1h},
      {Outcome::no_answer, 30min}, {Outcome::busy, 10min},
      {Outcome::failed, 5min},     {Outcome::lost, 5min},
      {Outcome::canceled, 10min}};
  Rng rng(5);
  for (const auto& [o, delay] : expected) {
    // After the first such outcome (canceled allows one attempt: after the second of a wider
    // rule, so that there is a retry to time).
    auto wider = policy;
    wider[o].max = std::max(2, wider[o].max);
    auto d = decide_retry(o, {{o, 1}}, 1, {wider, 5, true}, nullptr, rng, kNoon);
    ASSERT_EQ(d.action, RetryAction::retry) << to_string(o);
    const auto got = d.next_attempt_at - kNoon;
    EXPECT_GE(got, delay - delay / 10) << to_string(o);
    EXPECT_LE(got, delay + delay / 10) << to_string(o);
  }
}

// A rule's `max` is how many attempts may end with its outcome: busy (max 3) is retried twice
// and the third busy exhausts the contact (three calls); canceled (max 1) is never retried.
TEST(RetryPolicy, RuleMaxLimitsAttemptsEndingWithThatOutcome) {
  const auto policy = default_retry_policy();
  const RetrySettings s{policy, 100, true};
  Rng rng(9);
  Contact busy;
  for (int i = 1; i <= 2; ++i) {
    EXPECT_EQ(busy.end_attempt(Outcome::busy, s, rng).action, RetryAction::retry) << i;
  }
  auto d = busy.end_attempt(Outcome::busy, s, rng);
  EXPECT_EQ(d.action, RetryAction::exhausted);
  EXPECT_EQ(d.reason, "retry_limit");
  EXPECT_EQ(busy.attempts, 3);

  Contact canceled;
  EXPECT_EQ(canceled.end_attempt(Outcome::canceled, s, rng).reason, "retry_limit");
}

// Each rule counts only its own outcome: other outcomes in the history do not use its budget.
TEST(RetryPolicy, RulesCountOnlyTheirOwnOutcome) {
  const auto policy = default_retry_policy();
  const RetrySettings s{policy, 100, true};
  Rng rng(9);
  Contact c;
  EXPECT_EQ(c.end_attempt(Outcome::busy, s, rng).action, RetryAction::retry);
  EXPECT_EQ(c.end_attempt(Outcome::failed, s, rng).action, RetryAction::retry);
  EXPECT_EQ(c.end_attempt(Outcome::busy, s, rng).action, RetryAction::retry);
  EXPECT_EQ(c.end_attempt(Outcome::no_answer, s, rng).action, RetryAction::retry);
  // failed's budget (2) is spent by the second failed, whatever came between.
  EXPECT_EQ(c.end_attempt(Outcome::failed, s, rng).reason, "retry_limit");
}

// max_attempts caps stacked rules: with budgets busy 3 + no_answer 3 + voicemail 2, a contact
// alternating outcomes still gets at most 5 attempts.
TEST(RetryPolicy, MaxAttemptsCapsStackedRules) {
  const auto policy = default_retry_policy();
  const RetrySettings s{policy, 5, true};
  Rng rng(11);
  Contact c;
  const Outcome cycle[] = {Outcome::busy, Outcome::no_answer, Outcome::voicemail};
  RetryDecision d;
  int i = 0;
  do {
    d = c.end_attempt(cycle[i++ % 3], s, rng);
  } while (d.action == RetryAction::retry);
  EXPECT_EQ(c.attempts, 5);
  EXPECT_EQ(d.action, RetryAction::exhausted);
  EXPECT_EQ(d.reason, "max_attempts");
}

// Whatever the outcome sequence, no contact is ever retried past max_attempts.
TEST(RetryPolicy, NoSequenceExceedsMaxAttempts) {
  auto policy = default_retry_policy();
  for (auto& [o, rule] : policy) rule.max = 50;  // generous rules: only the cap binds
  Rng outcomes(2026);
  Rng rng(1);
  const Outcome retryable[] = {Outcome::voicemail, Outcome::user_hangup_no_speech,
                               Outcome::no_answer, Outcome::busy,
                               Outcome::failed,    Outcome::canceled,
                               Outcome::lost};
  for (int max_attempts : {1, 2, 5, 9}) {
    for (int trial = 0; trial < 50; ++trial) {
      Contact c;
      RetryDecision d;
      do {
        d = c.end_attempt(retryable[outcomes() % std::size(retryable)],
                          {policy, max_attempts, true}, rng);
      } while (d.action == RetryAction::retry);
      EXPECT_EQ(c.attempts, max_attempts);
      EXPECT_EQ(d.reason, "max_attempts");
    }
  }
}

// An outcome with no rule (an operator removed it) exhausts the contact instead of retrying.
TEST(RetryPolicy, OutcomeWithoutRuleIsExhausted) {
  auto policy = default_retry_policy();
  policy.erase(Outcome::no_answer);
  policy[Outcome::busy].max = 0;
  Rng rng(1);
  auto d = decide_retry(Outcome::no_answer, {{Outcome::no_answer, 1}}, 1, {policy, 5, true},
                        nullptr, rng, kNoon);
  EXPECT_EQ(d.action, RetryAction::exhausted);
  EXPECT_EQ(d.reason, "no_retry_rule");
  EXPECT_EQ(
      decide_retry(Outcome::busy, {{Outcome::busy, 1}}, 1, {policy, 5, true}, nullptr, rng, kNoon)
          .reason,
      "no_retry_rule");
}

// `lost` goes through its own rule: retried after ~5m by default, exhausted when it has none.
TEST(RetryPolicy, LostUsesTheLostRule) {
  auto policy = default_retry_policy();
  policy[Outcome::failed] = {1h, 5};  // must not be what lost uses
  Rng rng(1);
  auto d =
      decide_retry(Outcome::lost, {{Outcome::lost, 1}}, 1, {policy, 5, true}, nullptr, rng, kNoon);
  ASSERT_EQ(d.action, RetryAction::retry);
  EXPECT_LE(d.next_attempt_at - kNoon, 5min + 30s);
  EXPECT_EQ(
      decide_retry(Outcome::lost, {{Outcome::lost, 3}}, 3, {policy, 5, true}, nullptr, rng, kNoon)
          .reason,
      "retry_limit");
  policy.erase(Outcome::lost);
  EXPECT_EQ(
      decide_retry(Outcome::lost, {{Outcome::lost, 1}}, 1, {policy, 5, true}, nullptr, rng, kNoon)
          .reason,
      "no_retry_rule");
}

// A retry that would land after the window closes moves to the next opening; one that lands
// inside stays where the jitter put it.
TEST(RetryPolicy, RetryOutsideWindowMovesToNextOpening) {
  const auto policy = default_retry_policy();
  ZoneCache cache;
  auto window = CallingWindow::create(Window{}, {}, "Asia/Kolkata", cache);  // mon-sat 09-21, 10m
  ASSERT_TRUE(window);
  Rng rng(4);

  const auto late = *parse_iso8601("2026-03-10T20:45:00+05:30");
  auto d =
      decide_retry(Outcome::busy, {{Outcome::busy, 1}}, 1, {policy, 5, true}, &*window, rng, late);
  ASSERT_EQ(d.action, RetryAction::retry);
  EXPECT_TRUE(d.moved_into_window);
  EXPECT_EQ(d.next_attempt_at, *parse_iso8601("2026-03-11T09:00:00+05:30"));

  d = decide_retry(Outcome::busy, {{Outcome::busy, 1}}, 1, {policy, 5, true}, &*window, rng, kNoon);
  EXPECT_FALSE(d.moved_into_window);
  EXPECT_GE(d.next_attempt_at - kNoon, 9min);
  EXPECT_LE(d.next_attempt_at - kNoon, 11min);

  // Saturday evening voicemail (4h) lands on Sunday night: moved to Monday 09:00.
  d = decide_retry(Outcome::voicemail, {{Outcome::voicemail, 1}}, 1, {policy, 5, true}, &*window,
                   rng, *parse_iso8601("2026-03-14T19:00:00+05:30"));
  EXPECT_EQ(d.next_attempt_at, *parse_iso8601("2026-03-16T09:00:00+05:30"));
}

// A window that never opens leaves the jittered time as is (dispatch keeps the contact waiting).
TEST(RetryPolicy, NeverOpeningWindowKeepsJitteredTime) {
  const auto policy = default_retry_policy();
  Window closed;
  closed.days = {};
  ZoneCache cache;
  auto window = CallingWindow::create(closed, {}, "Asia/Kolkata", cache);
  ASSERT_TRUE(window);
  Rng rng(4);
  auto d =
      decide_retry(Outcome::busy, {{Outcome::busy, 1}}, 1, {policy, 5, true}, &*window, rng, kNoon);
  EXPECT_EQ(d.action, RetryAction::retry);
  EXPECT_FALSE(d.moved_into_window);
  EXPECT_LE(d.next_attempt_at - kNoon, 11min);
}

// RetrySettings::of reads the campaign's own rules, cap and DNC choice.
TEST(RetryPolicy, SettingsFromCampaignSpec) {
  CampaignSpec spec;
  spec.max_attempts = 2;
  spec.dnc_on_blocked = false;
  spec.retry[Outcome::busy] = {1min, 9};
  const auto s = RetrySettings::of(spec);
  EXPECT_EQ(s.max_attempts, 2);
  EXPECT_FALSE(s.dnc_on_blocked);
  EXPECT_EQ(&s.rules, &spec.retry);
  Rng rng(1);
  EXPECT_EQ(decide_retry(Outcome::busy, {{Outcome::busy, 2}}, 2, s, nullptr, rng, kNoon).reason,
            "max_attempts");
}

}  // namespace
}  // namespace dialer::scheduler
