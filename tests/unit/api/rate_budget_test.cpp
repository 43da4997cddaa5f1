#include "api/vocobase/rate_budget.hpp"

#include <gtest/gtest.h>

#include <random>
#include <vector>

namespace dialer::api {
namespace {

using namespace std::chrono_literals;

const TimePoint kT0 = from_unix_ms(1'770'000'000'000);

RateLimits limits(int calls, int general, std::size_t max_waiting = 256) {
  RateLimits l;
  l.calls_per_minute = calls;
  l.general_per_minute = general;
  l.max_waiting = max_waiting;
  l.guard = Millis{0};  // these tests pin the exact sliding window; the guard has its own test
  return l;
}

// Grants `n` requests of `b` at the current time, asserting each was served at once.
void spend(RateBudget& budget, Bucket b, int n) {
  for (int i = 0; i < n; ++i) {
    auto t = budget.enqueue(b, Priority::poll);
    ASSERT_TRUE(t);
    auto g = budget.grant();
    ASSERT_EQ(g.size(), 1u);
    ASSERT_EQ(g[0], *t);
  }
}

// Every /calls/* path counts against the calls bucket, everything else against general.
TEST(RateBudget, PathsMapToBuckets) {
  for (const char* p : {"/calls", "/calls/start", "/calls/concurrency", "/calls/abc",
                        "/calls?limit=100&offset=0"}) {
    EXPECT_EQ(bucket_for_path(p), Bucket::calls) << p;
  }
  for (const char* p : {"/config", "/sessions/abc", "/callsx", "/"}) {
    EXPECT_EQ(bucket_for_path(p), Bucket::general) << p;
  }
}

// With requests arriving at random over ten simulated minutes, no 60 s window ever holds more
// than N granted /calls/* requests — and the budget is actually used (not starved).
TEST(RateBudget, NeverMoreThanLimitInAnySlidingWindow) {
  ManualClock clock(kT0);
  constexpr int kLimit = 10;
  RateBudget budget(clock, limits(kLimit, 60, 100'000));
  std::mt19937 rng(42);
  std::uniform_int_distribution<int> step_ms(1, 4'000);
  std::uniform_int_distribution<int> burst(0, 3);
  std::vector<TimePoint> grants;
  while (clock.now() < kT0 + 10min) {
    for (int i = burst(rng); i > 0; --i) ASSERT_TRUE(budget.enqueue(Bucket::calls, Priority::poll));
    for (auto t : budget.grant()) {
      (void)t;
      grants.push_back(clock.now());
    }
    clock.advance(Millis{step_ms(rng)});
  }
  ASSERT_FALSE(grants.empty());
  for (std::size_t i = 0; i < grants.size(); ++i) {
    int in_window = 0;
    for (std::size_t j = 0; j <= i; ++j) {
      if (grants[j] > grants[i] - 60s) ++in_window;
    }
    ASSERT_LE(in_window, kLimit) << "window ending at grant " << i;
  }
  // Demand exceeds supply throughout, so the budget hands out (close to) the limit per minute.
  EXPECT_GE(grants.size(), static_cast<std::size_t>(kLimit * 9));
}

// Availability, used count and next token time follow the sliding window exactly.
TEST(RateBudget, ReportsTokensUsedAndNextTokenTime) {
  ManualClock clock(kT0);
  RateBudget budget(clock, limits(3, 60));
  EXPECT_EQ(budget.available(Bucket::calls), 3);
  EXPECT_EQ(budget.next_token_at(Bucket::calls), kT0);
  spend(budget, Bucket::calls, 1);
  EXPECT_EQ(budget.unclaimed(Bucket::calls), 2);
  ASSERT_TRUE(budget.enqueue(Bucket::calls, Priority::poll));  // waiting, not yet granted
  EXPECT_EQ(budget.unclaimed(Bucket::calls), 1);
  ASSERT_EQ(budget.grant().size(), 1u);
  clock.advance(10s);
  spend(budget, Bucket::calls, 1);
  EXPECT_EQ(budget.available(Bucket::calls), 0);
  EXPECT_EQ(budget.used_last_window(Bucket::calls), 3);
  EXPECT_EQ(budget.next_token_at(Bucket::calls), kT0 + 60s);
  EXPECT_EQ(budget.available(Bucket::general), 60);  // buckets are independent
  clock.set(kT0 + 60s);  // both sends of T0 leave the window; the one of T0+10s stays
  EXPECT_EQ(budget.available(Bucket::calls), 2);
  EXPECT_EQ(budget.used_last_window(Bucket::calls), 1);
  EXPECT_EQ(budget.next_token_at(Bucket::calls), kT0 + 60s);
}

// The guard keeps a send in the window a little past the window itself, so a token freed at
// send + window cannot reach a server that counts the earlier request on arrival.
TEST(RateBudget, GuardHoldsTheTokenPastTheWindow) {
  ManualClock clock(kT0);
  RateLimits l = limits(1, 60);
  l.guard = Millis{1'000};
  RateBudget budget(clock, l);
  spend(budget, Bucket::calls, 1);
  EXPECT_EQ(budget.next_token_at(Bucket::calls), kT0 + 61s);
  clock.set(kT0 + 60s);
  EXPECT_EQ(budget.available(Bucket::calls), 0);
  clock.set(kT0 + 61s);
  EXPECT_EQ(budget.available(Bucket::calls), 1);
}

// When starts and polls both wait for the same bucket, the start is served first, even though
// it arrived last; within one priority, arrival order holds.
TEST(RateBudget, StartsAreServedBeforePolls) {
  ManualClock clock(kT0);
  RateBudget budget(clock, limits(2, 60));
  spend(budget, Bucket::calls, 2);
  auto poll1 = budget.enqueue(Bucket::calls, Priority::poll);
  auto reconcile = budget.enqueue(Bucket::calls, Priority::reconcile);
  auto poll2 = budget.enqueue(Bucket::calls, Priority::poll);
  auto start = budget.enqueue(Bucket::calls, Priority::start);
  ASSERT_TRUE(poll1 && reconcile && poll2 && start);
  EXPECT_TRUE(budget.grant().empty());
  EXPECT_EQ(budget.waiting(Bucket::calls), 4u);
  EXPECT_EQ(budget.unclaimed(Bucket::calls), 0);
  EXPECT_EQ(budget.next_wake(), kT0 + 60s);

  clock.set(kT0 + 60s);
  EXPECT_EQ(budget.grant(), (std::vector<RateBudget::Ticket>{*start, *reconcile}));
  clock.set(kT0 + 120s);
  EXPECT_EQ(budget.grant(), (std::vector<RateBudget::Ticket>{*poll1, *poll2}));
  EXPECT_EQ(budget.waiting(Bucket::calls), 0u);
  EXPECT_FALSE(budget.next_wake());
}

// A 429 without Retry-After freezes its bucket for a whole window even with tokens left; the
// other bucket is untouched.
TEST(RateBudget, RateLimitFreezesBucketUntilWindowClears) {
  ManualClock clock(kT0);
  RateBudget budget(clock, limits(10, 60));
  spend(budget, Bucket::calls, 1);
  budget.on_rate_limited(Bucket::calls, std::nullopt);
  EXPECT_EQ(budget.available(Bucket::calls), 0);
  EXPECT_EQ(budget.frozen_until(Bucket::calls), kT0 + 60s);
  EXPECT_EQ(budget.next_token_at(Bucket::calls), kT0 + 60s);
  EXPECT_EQ(budget.available(Bucket::general), 60);
  auto t = budget.enqueue(Bucket::calls, Priority::start);
  ASSERT_TRUE(t);
  clock.set(kT0 + 59'999ms);
  EXPECT_TRUE(budget.grant().empty());
  clock.set(kT0 + 60s);
  EXPECT_EQ(budget.grant(), std::vector<RateBudget::Ticket>{*t});
  EXPECT_FALSE(budget.frozen_until(Bucket::calls));
}

// Retry-After decides the freeze when the server sends one, shorter or longer than the window.
TEST(RateBudget, RetryAfterIsHonoured) {
  ManualClock clock(kT0);
  RateBudget budget(clock, limits(10, 60));
  budget.on_rate_limited(Bucket::general, Millis{5'000});
  EXPECT_EQ(budget.available(Bucket::general), 0);
  EXPECT_EQ(budget.next_token_at(Bucket::general), kT0 + 5s);
  clock.set(kT0 + 5s);
  EXPECT_EQ(budget.available(Bucket::general), 60);

  budget.on_rate_limited(Bucket::calls, Millis{120'000});
  clock.set(kT0 + 5s + 119s);
  EXPECT_EQ(budget.available(Bucket::calls), 0);
  clock.set(kT0 + 5s + 120s);
  EXPECT_EQ(budget.available(Bucket::calls), 10);
}

// The waiting queue is bounded; a cancelled ticket frees its place and is never granted.
TEST(RateBudget, QueueIsBoundedAndCancellable) {
  ManualClock clock(kT0);
  RateBudget budget(clock, limits(1, 60, 2));
  spend(budget, Bucket::calls, 1);
  auto a = budget.enqueue(Bucket::calls, Priority::poll);
  auto b = budget.enqueue(Bucket::calls, Priority::poll);
  ASSERT_TRUE(a && b);
  EXPECT_FALSE(budget.enqueue(Bucket::calls, Priority::start));
  EXPECT_TRUE(budget.enqueue(Bucket::general, Priority::poll));  // per-bucket bound
  EXPECT_TRUE(budget.cancel(*a));
  EXPECT_FALSE(budget.cancel(*a));
  clock.advance(60s);
  const auto granted = budget.grant();
  ASSERT_EQ(std::count(granted.begin(), granted.end(), *a), 0);
  EXPECT_EQ(std::count(granted.begin(), granted.end(), *b), 1);
}

// A wall clock stepped backwards does not block the bucket for the length of the step.
TEST(RateBudget, ClockSteppedBackDoesNotBlockForTheStep) {
  ManualClock clock(kT0);
  RateBudget budget(clock, limits(1, 60));
  spend(budget, Bucket::calls, 1);
  clock.set(kT0 - 1h);
  EXPECT_EQ(budget.available(Bucket::calls), 0);
  EXPECT_EQ(budget.next_token_at(Bucket::calls), kT0 - 1h + 60s);
  clock.set(kT0 - 1h + 60s);
  EXPECT_EQ(budget.available(Bucket::calls), 1);
}

}  // namespace
}  // namespace dialer::api
