#include "scheduler/slots.hpp"

#include <gtest/gtest.h>

namespace dialer::scheduler {
namespace {

// Calls the account makes elsewhere shrink our capacity: limit 10, 7 active of which 4 are ours
// → 3 foreign, capacity 7; with 5 of ours in flight (one still reserved) 2 slots are free.
TEST(Slots, ForeignLoadShrinksCapacity) {
  auto a = account_slots(ConcurrencySnapshot{10, 7}, 5, 4);
  EXPECT_EQ(a.limit, 10);
  EXPECT_EQ(a.foreign, 3);
  EXPECT_EQ(a.capacity, 7);
  EXPECT_EQ(a.free(), 2);
  EXPECT_EQ(a.used(), 8);
}

// Foreign calls are never negative, e.g. when the server has not counted our newest calls yet.
TEST(Slots, ForeignNeverBelowZero) {
  auto a = account_slots(ConcurrencySnapshot{5, 2}, 4, 4);
  EXPECT_EQ(a.foreign, 0);
  EXPECT_EQ(a.capacity, 5);
  EXPECT_EQ(a.free(), 1);
}

// A foreign load at or above the limit leaves us no capacity, never a negative one.
TEST(Slots, ForeignLoadAboveLimitLeavesNothing) {
  auto a = account_slots(ConcurrencySnapshot{5, 8}, 0, 0);
  EXPECT_EQ(a.capacity, 0);
  EXPECT_EQ(a.free(), 0);
  auto c = campaign_slot(a, 0, 5);
  EXPECT_FALSE(c.allowed);
  EXPECT_TRUE(c.account_bound);
  EXPECT_EQ(c.used, 8);
  EXPECT_EQ(c.limit, 5);
}

// Before GET /calls/concurrency answers, the documented default limit of 5 applies.
TEST(Slots, DefaultLimitWithoutSnapshot) {
  auto a = account_slots(std::nullopt, 3, 0);
  EXPECT_EQ(a.limit, kDefaultAccountLimit);
  EXPECT_EQ(a.capacity, 5);
  EXPECT_EQ(a.free(), 2);
}

// A campaign may start only below both the account capacity and its own max_concurrency; the
// refusal names the limit that decided it.
TEST(Slots, CampaignNeedsAccountAndOwnRoom) {
  const auto a = account_slots(ConcurrencySnapshot{10, 7}, 5, 4);  // capacity 7, 5 in flight

  auto at_max = campaign_slot(a, 3, 3);
  EXPECT_FALSE(at_max.allowed);
  EXPECT_FALSE(at_max.account_bound);
  EXPECT_EQ(at_max.used, 3);
  EXPECT_EQ(at_max.limit, 3);

  auto room = campaign_slot(a, 2, 5);
  EXPECT_TRUE(room.allowed);

  const auto full = account_slots(ConcurrencySnapshot{10, 7}, 7, 4);  // capacity 7, 7 in flight
  auto refused = campaign_slot(full, 2, 5);
  EXPECT_FALSE(refused.allowed);
  EXPECT_TRUE(refused.account_bound);
  EXPECT_EQ(refused.used, 10);
  EXPECT_EQ(refused.limit, 10);
}

// Filling the account one call at a time stops exactly at capacity, whatever the campaigns allow.
TEST(Slots, FillingStopsAtCapacity) {
  int ours = 0;
  while (campaign_slot(account_slots(ConcurrencySnapshot{6, 2}, ours, 0), 0, 100).allowed) ++ours;
  EXPECT_EQ(ours, 4);  // 6 minus 2 foreign calls
}

}  // namespace
}  // namespace dialer::scheduler
