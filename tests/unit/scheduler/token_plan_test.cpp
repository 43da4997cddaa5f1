#include "scheduler/token_plan.hpp"

#include <gtest/gtest.h>

namespace dialer::scheduler {
namespace {

using namespace std::chrono_literals;

TokenPlan plan(int tokens, int free_slots, std::vector<TimePoint> slot_frees) {
  TokenPlan p;
  p.now = TimePoint{} + 1h;
  p.horizon = p.now + 61s;
  p.tokens = tokens;
  p.free_slots = free_slots;
  p.slot_frees = std::move(slot_frees);
  p.turnover = 20s;
  p.due_from = p.now;
  return p;
}

// Nothing due before the horizon: every token is slack.
TEST(TokenPlan, NothingDueLeavesEveryTokenSlack) {
  auto p = plan(4, 5, {});
  p.due_from.reset();
  EXPECT_EQ(slack_tokens(p), 4);
  p.due_from = p.horizon + 1s;
  EXPECT_EQ(slack_tokens(p), 4);
}

// The documented 10 a minute with 5 slots and 20 s calls: the slots could take 15 starts in the
// window, so with a backlog no token is slack, not even the tenth.
TEST(TokenPlan, RateBoundBacklogHasNoSlack) {
  auto p = plan(10, 5, {});
  EXPECT_EQ(slack_tokens(p), 0);
  // All slots busy, ending in 5 s: still no slack.
  const TimePoint soon = p.now + 5s;
  p = plan(10, 0, {soon, soon, soon, soon, soon});
  EXPECT_EQ(slack_tokens(p), 0);
}

// Slot-bound: 2 slots, 5-minute calls, 10 tokens: at most 2 starts fit the window (both slots
// free now), so 8 tokens are slack.
TEST(TokenPlan, SlotBoundLeavesTheRestSlack) {
  auto p = plan(10, 2, {});
  p.turnover = 5min;
  EXPECT_EQ(slack_tokens(p), 8);
}

// The last token is never slack while a start is due before the next token returns: one token
// now, a slot freeing in 10 s, the next token back in 30 s.
TEST(TokenPlan, LastTokenKeptForAStartDueBeforeTheNextReturn) {
  auto p = plan(1, 0, {TimePoint{} + 1h + 10s});
  p.turnover = 5min;
  p.returns = {p.now + 30s};
  EXPECT_EQ(slack_tokens(p), 0);
  // The slot frees only after the token returns: the token now is slack.
  p.slot_frees = {p.now + 40s};
  EXPECT_EQ(slack_tokens(p), 1);
}

// A token returning before the start that needs it counts: 2 tokens, 3 starts (now, 5 s, 10 s),
// one token back at 1 s → exactly enough, no slack; a third token now is slack.
TEST(TokenPlan, ReturnsCountOnlyWhenBackInTime) {
  auto p = plan(2, 1, {TimePoint{} + 1h + 5s, TimePoint{} + 1h + 10s});
  p.turnover = 5min;
  p.returns = {p.now + 1s};
  EXPECT_EQ(slack_tokens(p), 0);
  p.tokens = 3;
  EXPECT_EQ(slack_tokens(p), 1);
}

// Contacts due later in the window count from when they are due; few due contacts bound the
// starts.
TEST(TokenPlan, DueLaterAndFewContactsBoundTheDemand) {
  auto p = plan(10, 5, {});
  p.max_starts = 3;
  EXPECT_EQ(slack_tokens(p), 7);
  p.max_starts = std::numeric_limits<std::int64_t>::max();
  p.turnover = 5min;
  p.due_from = p.now + 30s;
  EXPECT_EQ(slack_tokens(p), 5);
}

// Campaigns capped below the account take fewer starts: 5 free slots but max_slots 2, 60 s
// calls, 10 tokens → at most 2 × 2 starts in the window, 6 slack.
TEST(TokenPlan, MaxSlotsBoundsTheDemand) {
  auto p = plan(10, 5, {});
  p.turnover = 60s;
  EXPECT_EQ(slack_tokens(p), 0);
  p.max_slots = 2;
  EXPECT_EQ(slack_tokens(p), 6);
}

// Calls whose outcome is overdue are left out of slot_frees by the engine: with every slot held
// by such a call, nothing will want a token until a read frees them.
TEST(TokenPlan, SlotsHeldByOverdueCallsWantNoToken) {
  auto p = plan(6, 0, {});
  EXPECT_EQ(slack_tokens(p), 6);
}

}  // namespace
}  // namespace dialer::scheduler
