// Issue 12: token planning in simulated time. At the documented 10 /calls/* requests a minute
// every token is a call: optional reads (the periodic concurrency poll, early-settle listings)
// only spend tokens no due start needs within the window, and are skipped when webhooks account
// for every slot — but still happen, on slack tokens, when webhooks are late.

#include "engine_fixture.hpp"

#include <algorithm>

namespace dialer::scheduler::testing {
namespace {

constexpr int kPerMinute = 10;
constexpr int kSlots = 5;
constexpr Millis kCall = 20s;

class PaceTest : public EngineTest {
 protected:
  void SetUp() override {
    EngineTest::SetUp();
    platform_.set_rate_limits(kPerMinute, 600);
    platform_.concurrency_limit = kSlots;
    platform_.default_call = CallScript{CallStatus::completed, Disposition::completed, kCall, 1.0};
  }

  /// Starts the engine, lets the startup poll's token come back, then starts a campaign of
  /// `contacts`. Returns when it started (the first start's instant).
  TimePoint start_campaign(int contacts) {
    start_scheduler();
    run_for(61s);  // the startup GET /calls/concurrency leaves the window
    const auto id = create(spec("pace"));
    add_contacts(id, 1, contacts);
    campaign_ = id;
    start("pace");
    return ex_.now();
  }

  /// Runs until every contact was started (or `limit` passed); the instant of the last start.
  TimePoint run_until_started(std::size_t contacts, Millis limit = 30min) {
    const TimePoint end = ex_.now() + limit;
    while (platform_.starts.size() < contacts && ex_.now() < end) run_for(1s);
    return platform_.starts.empty() ? ex_.now() : platform_.starts.back().at;
  }

  /// Reads of /calls/* that are not starts, so far.
  int calls_reads() const {
    return platform_.concurrency_requests + platform_.list_requests + platform_.call_requests;
  }

  std::int64_t campaign_ = 0;
};

// The earliest instant (from the campaign's start) the k-th start (0-based) can go out at 10 a
// minute with 5 slots and 20 s calls: 5 at once, 5 when they end, then the window turns.
Millis earliest_start(int k) {
  return 60s * (k / kPerMinute) + kCall * ((k % kPerMinute) / kSlots);
}

// A 5 s poll interval with a backlog never delays a start: every start goes out when its token
// and its slot are there, exactly as with no polling at all.
TEST_F(PaceTest, FiveSecondPollIntervalWithABacklogNeverDelaysAStart) {
  options_.concurrency_poll_interval = 5s;
  constexpr int kContacts = 40;
  const TimePoint t0 = start_campaign(kContacts);
  run_until_started(kContacts);
  ASSERT_EQ(platform_.starts.size(), static_cast<std::size_t>(kContacts));
  for (int k = 0; k < kContacts; ++k) {
    const Millis at =
        std::chrono::duration_cast<Millis>(platform_.starts[static_cast<std::size_t>(k)].at - t0);
    EXPECT_LE(at, earliest_start(k) + 1s) << "start " << k << " delayed";
  }
  EXPECT_EQ(platform_.rate_violations, 0);
  EXPECT_EQ(platform_.concurrency_refusals, 0);
}

// With a start due within the window, no optional read spends the last token: from the first
// start to the last one, the periodic poll (due every 5 s) never takes a /calls/* token; once
// nothing is due and webhooks account for every slot, it is skipped, not sent.
TEST_F(PaceTest, NoOptionalReadSpendsATokenAStartNeeds) {
  options_.concurrency_poll_interval = 5s;
  constexpr int kContacts = 20;
  start_campaign(kContacts);
  const int reads_before = calls_reads();
  run_until_started(kContacts);
  EXPECT_EQ(calls_reads(), reads_before) << "a read took a token while starts were due";
  EXPECT_GT(scheduler_->stats().concurrency_polls_deferred, 0U);
  run_for(2min);
  EXPECT_EQ(state("pace"), CampaignState::completed);
  EXPECT_EQ(calls_reads(), reads_before) << "every slot was accounted for by webhooks";
  EXPECT_GT(scheduler_->stats().concurrency_polls_skipped, 0U);
}

// Webhooks late: the calls of contacts 6-10 end silently. Their slots look busy, nothing else
// can start, tokens come back unused: a poll goes out on them, shows the calls over, and one
// listing settles them — minutes before reconcile_after (10 min) — so the backlog moves again.
TEST_F(PaceTest, LateWebhooksStillGetAPollOnSlackTokens) {
  options_.concurrency_poll_interval = 5s;
  const CallScript silent{CallStatus::completed, Disposition::completed, kCall, 1.0, false};
  for (int i = 6; i <= 10; ++i) platform_.call_scripts[phone(i)] = {silent};
  constexpr int kContacts = 15;
  const TimePoint t0 = start_campaign(kContacts);
  const int reads_before = calls_reads();
  run_until(t0 + 59s);
  EXPECT_EQ(calls_reads(), reads_before) << "no slack before the first tokens return";
  EXPECT_EQ(platform_.starts.size(), 10U);
  run_until(t0 + 3min);
  EXPECT_GT(platform_.concurrency_requests, 1) << "no poll on slack tokens";
  for (int i = 6; i <= 10; ++i) {
    EXPECT_EQ(contact(campaign_, phone(i)).state, ContactState::done) << phone(i);
  }
  EXPECT_EQ(platform_.starts.size(), static_cast<std::size_t>(kContacts));
  EXPECT_EQ(platform_.rate_violations, 0);
}

// Webhooks down from the outset: no call ever reports its hold, so the plan takes a started
// call as overdue kDefaultLongestHold (2 min) after its start; its slot is then left to reads
// and the poll goes out on the tokens it leaves — minutes before reconcile_after (10 min).
TEST_F(PaceTest, WebhooksDownFromTheOutsetStillGetAPoll) {
  options_.concurrency_poll_interval = 60s;
  platform_.default_call =
      CallScript{CallStatus::completed, Disposition::completed, kCall, 1.0, false};
  constexpr int kContacts = 10;
  const TimePoint t0 = start_campaign(kContacts);
  run_until(t0 + 4min);
  EXPECT_GT(platform_.concurrency_requests, 1) << "no poll while webhooks never came";
  for (int i = 1; i <= kSlots; ++i) {
    EXPECT_EQ(contact(campaign_, phone(i)).state, ContactState::done) << phone(i);
  }
  EXPECT_EQ(platform_.rate_violations, 0);
}

// A campaign capped below the account (max_concurrency 2 of 5 slots, 60 s calls) uses about
// 2 tokens a minute of 10: the rest are slack, so the periodic poll keeps its interval while
// the backlog lasts, and no start waits for it.
TEST_F(PaceTest, ACampaignCappedBelowTheAccountLeavesTokensForPolls) {
  options_.concurrency_poll_interval = 5s;
  platform_.default_call = CallScript{CallStatus::completed, Disposition::completed, 60s, 1.0};
  start_scheduler();
  run_for(61s);
  auto s = spec("capped");
  s.max_concurrency = 2;
  const auto id = create(s);
  add_contacts(id, 1, 20);
  start("capped");
  const TimePoint t0 = ex_.now();
  const int polls_before = platform_.concurrency_requests;
  run_until(t0 + 3min + 30s);
  EXPECT_GE(platform_.concurrency_requests - polls_before, 10) << "polls deferred for nothing";
  ASSERT_GE(platform_.starts.size(), 8U);
  for (std::size_t k = 0; k < 8; ++k) {
    const Millis at = std::chrono::duration_cast<Millis>(platform_.starts[k].at - t0);
    EXPECT_LE(at, 60s * static_cast<int>(k / 2) + 1s) << "start " << k << " delayed";
  }
  EXPECT_EQ(platform_.rate_violations, 0);
}

// A backlog that keeps every token busy does not keep the limit unread for ever: the deferred
// periodic poll takes a token after kOptionalReadMaxWait (5 min).
TEST_F(PaceTest, ADeferredPollWaitsAtMostFiveMinutes) {
  options_.concurrency_poll_interval = 5s;
  constexpr int kContacts = 100;  // 10 minutes of starts at 10 a minute
  const TimePoint t0 = start_campaign(kContacts);
  const int polls_before = platform_.concurrency_requests;
  run_until(t0 + 4min);
  EXPECT_EQ(platform_.concurrency_requests, polls_before);
  run_until(t0 + 6min);
  EXPECT_GE(platform_.concurrency_requests - polls_before, 1) << "the poll starved";
  EXPECT_EQ(platform_.rate_violations, 0);
}

}  // namespace
}  // namespace dialer::scheduler::testing
