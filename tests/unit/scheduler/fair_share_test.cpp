#include "scheduler/fair_share.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <random>
#include <vector>

namespace dialer::scheduler {
namespace {

const auto kAlways = [](const ShareCandidate&) { return true; };

std::vector<ShareCandidate> three_weighted() {
  return {{1, 0, 1, 0}, {2, 0, 2, 0}, {3, 0, 3, 0}};
}

// When calls end before the next slot frees (nobody has calls in flight at a pick), the slots
// granted to campaigns of weights 1, 2, 3 stay within ±1 of 1/6, 2/6, 3/6 after every pick.
TEST(FairShare, PicksFollowWeightsWithinOne) {
  FairShare fs;
  auto campaigns = three_weighted();
  std::map<CampaignId, int> granted;
  for (int n = 1; n <= 6000; ++n) {
    auto id = fs.pick(campaigns, kAlways);
    ASSERT_TRUE(id);
    ++granted[*id];
    for (const auto& c : campaigns) {
      const double share = n * c.weight / 6.0;
      ASSERT_LE(std::abs(granted[c.id] - share), 1.0) << "campaign " << c.id << " after " << n;
    }
  }
  EXPECT_EQ(granted[1], 1000);
  EXPECT_EQ(granted[2], 2000);
  EXPECT_EQ(granted[3], 3000);
}

// With long calls and a full account (12 slots), calls in flight of campaigns weighted 1, 2, 3
// stay within ±1 slot of 2, 4, 6 while random calls end and the freed slots are refilled.
TEST(FairShare, InFlightFollowsWeightsWithinOneSlot) {
  constexpr int kCapacity = 12;
  FairShare fs;
  auto campaigns = three_weighted();
  std::mt19937_64 rng(2026);
  int total = 0;
  for (int round = 0; round < 5000; ++round) {
    while (total < kCapacity) {
      auto id = fs.pick(campaigns, kAlways);
      ASSERT_TRUE(id);
      ++campaigns[static_cast<std::size_t>(*id - 1)].in_flight;
      ++total;
    }
    for (const auto& c : campaigns) {
      const double share = kCapacity * c.weight / 6.0;
      ASSERT_LE(std::abs(c.in_flight - share), 1.0)
          << "campaign " << c.id << " round " << round << " in flight " << c.in_flight;
    }
    // 1 to 4 random calls end (each call equally likely).
    for (int ended = 1 + static_cast<int>(rng() % 4); ended > 0 && total > 0; --ended) {
      auto k = static_cast<int>(rng() % static_cast<std::uint64_t>(total));
      for (auto& c : campaigns) {
        if (k < c.in_flight) {
          --c.in_flight;
          break;
        }
        k -= c.in_flight;
      }
      --total;
    }
  }
}

// Campaigns of unequal call lengths still split in-flight slots by weight: the shorter calls of
// one campaign do not let it take more than its share of a 10-slot account.
TEST(FairShare, InFlightShareIgnoresCallLength) {
  constexpr int kCapacity = 10;
  FairShare fs;
  std::vector<ShareCandidate> campaigns = {{1, 0, 1, 0}, {2, 0, 1, 0}};
  std::mt19937_64 rng(7);
  int total = 0;
  for (int round = 0; round < 2000; ++round) {
    while (total < kCapacity) {
      auto id = fs.pick(campaigns, kAlways);
      ++campaigns[static_cast<std::size_t>(*id - 1)].in_flight;
      ++total;
    }
    EXPECT_LE(std::abs(campaigns[0].in_flight - campaigns[1].in_flight), 1) << round;
    // Campaign 1's calls end four times as often as campaign 2's.
    auto& c = (rng() % 5 != 0) ? campaigns[0] : campaigns[1];
    if (c.in_flight > 0) {
      --c.in_flight;
      --total;
    }
  }
}

// A higher priority level takes every slot it can use; a lower level's predicate is not even
// asked while a higher campaign can use the slot.
TEST(FairShare, StrictPriorityBetweenLevels) {
  FairShare fs;
  std::vector<ShareCandidate> campaigns = {{1, 0, 10, 0}, {2, 5, 1, 0}, {3, 5, 1, 0}};
  std::map<CampaignId, int> asked;
  std::map<CampaignId, bool> usable = {{1, true}, {2, true}, {3, true}};
  auto can_use = [&](const ShareCandidate& c) {
    ++asked[c.id];
    return usable[c.id];
  };
  std::map<CampaignId, int> granted;
  for (int i = 0; i < 100; ++i) ++granted[*fs.pick(campaigns, can_use)];
  EXPECT_EQ(granted[1], 0);
  EXPECT_EQ(granted[2], 50);
  EXPECT_EQ(granted[3], 50);
  EXPECT_EQ(asked[1], 0);

  usable[2] = false;
  EXPECT_EQ(fs.pick(campaigns, can_use), 3);
  usable[3] = false;
  EXPECT_EQ(fs.pick(campaigns, can_use), 1);  // only when the whole higher level is blocked
  usable[1] = false;
  EXPECT_EQ(fs.pick(campaigns, can_use), std::nullopt);
}

// Campaigns that cannot use a slot (at max_concurrency, nothing due, outside window…) are
// skipped and the others share the slots by weight.
TEST(FairShare, SkipsCampaignsThatCannotUseASlot) {
  FairShare fs;
  auto campaigns = three_weighted();
  auto not_three = [](const ShareCandidate& c) { return c.id != 3; };
  std::map<CampaignId, int> granted;
  for (int i = 0; i < 300; ++i) ++granted[*fs.pick(campaigns, not_three)];
  EXPECT_EQ(granted[3], 0);
  EXPECT_EQ(granted[1], 100);
  EXPECT_EQ(granted[2], 200);
  EXPECT_EQ(fs.pick({}, kAlways), std::nullopt);
}

// A campaign that kept losing on calls in flight (its long calls held its share) does not bank
// credit for later: once in-flight counts are equal again it gets no long burst of slots.
TEST(FairShare, CampaignCannotBankCreditWhileOverItsShare) {
  FairShare fs;
  std::vector<ShareCandidate> campaigns = {{1, 0, 1, 5}, {2, 0, 1, 0}};
  for (int i = 0; i < 1000; ++i) EXPECT_EQ(fs.pick(campaigns, kAlways), 2);
  campaigns[0].in_flight = 0;
  int run = 0;
  while (fs.pick(campaigns, kAlways) == 1) ++run;
  EXPECT_LE(run, 3);  // at most the level's total weight + 1 (it would be ~500 unbounded)
  EXPECT_LE(std::abs(fs.credit(1)), 2);
}

// Weights below 1 count as 1 rather than starving or dividing by zero.
TEST(FairShare, NonPositiveWeightCountsAsOne) {
  FairShare fs;
  std::vector<ShareCandidate> campaigns = {{1, 0, 0, 0}, {2, 0, -3, 0}};
  std::map<CampaignId, int> granted;
  for (int i = 0; i < 100; ++i) ++granted[*fs.pick(campaigns, kAlways)];
  EXPECT_EQ(granted[1], 50);
  EXPECT_EQ(granted[2], 50);
}

// forget() drops a stopped campaign's credit.
TEST(FairShare, ForgetDropsCredit) {
  FairShare fs;
  auto campaigns = three_weighted();
  fs.pick(campaigns, kAlways);
  ASSERT_NE(fs.credit(1), 0);
  fs.forget(1);
  EXPECT_EQ(fs.credit(1), 0);
}

}  // namespace
}  // namespace dialer::scheduler
