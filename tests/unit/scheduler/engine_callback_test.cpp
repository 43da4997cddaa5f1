// Callbacks the callee asked for (campaign field `callback`), in simulated time.

#include "engine_fixture.hpp"

namespace dialer::scheduler::testing {
namespace {

CallScript answered_with(std::string extraction) {
  CallScript s{CallStatus::completed, Disposition::completed, 2min, 1.0};
  s.extraction = std::move(extraction);
  return s;
}

// "Call me tomorrow after five" (local to the contact) queues the contact for that time instead
// of closing it as done; the call-back is placed then, and the contact completes after it.
TEST_F(EngineTest, ARequestedCallbackIsPlacedAtItsTime) {
  // Monday 10:00 UTC = 15:30 in Kolkata; tomorrow 17:00 IST = 11:30 UTC.
  platform_.call_scripts[phone(1)] = {answered_with(R"({"callback_at": "2026-03-10 17:00"})"),
                                      answered_with("{}")};
  start_scheduler();
  auto s = spec("cb");
  s.timezone = "Asia/Kolkata";
  s.callback_field = "callback_at";
  const auto id = create(s);
  add_contact(id, phone(1));
  start("cb");
  run_for(5min);
  auto c = contact(id, phone(1));
  EXPECT_EQ(c.state, ContactState::queued);
  EXPECT_EQ(c.reason, "callback");
  EXPECT_EQ(c.next_attempt_at, utc(2026, 3, 10, 11, 30));
  EXPECT_EQ(c.attempts, 1);
  run_until(utc(2026, 3, 10, 11, 30) + 5min);
  ASSERT_EQ(platform_.starts.size(), 2U);
  EXPECT_EQ(platform_.starts[1].at, utc(2026, 3, 10, 11, 30));
  EXPECT_EQ(contact(id, phone(1)).state, ContactState::done);
}

// A callback outside the calling window moves to its next opening; one in the past, more than
// 30 days ahead or unreadable is ignored (the outcome's own rule applies: done).
TEST_F(EngineTest, CallbacksOutsideTheWindowMoveAndBadOnesAreIgnored) {
  platform_.call_scripts[phone(1)] = {
      answered_with(R"({"callback_at": "2026-03-10T23:00:00+05:30"})")};
  platform_.call_scripts[phone(2)] = {answered_with(R"({"callback_at": "2026-03-01T10:00:00Z"})")};
  platform_.call_scripts[phone(3)] = {answered_with(R"({"callback_at": "2026-05-01T10:00:00Z"})")};
  platform_.call_scripts[phone(4)] = {answered_with(R"({"callback_at": "after lunch"})")};
  start_scheduler();
  auto s = spec("cbw");
  s.timezone = "Asia/Kolkata";
  s.window.start = std::chrono::minutes{9 * 60};
  s.window.end = std::chrono::minutes{21 * 60};
  s.window.end_margin = Millis{0};
  s.callback_field = "callback_at";
  const auto id = create(s);
  for (int i = 1; i <= 4; ++i) add_contact(id, phone(i));
  start("cbw");
  run_for(10min);
  const auto moved = contact(id, phone(1));
  EXPECT_EQ(moved.state, ContactState::queued);
  EXPECT_EQ(moved.reason, "callback");
  EXPECT_EQ(moved.next_attempt_at, utc(2026, 3, 11, 3, 30));  // 09:00 IST the next day
  for (int i = 2; i <= 4; ++i) EXPECT_EQ(contact(id, phone(i)).state, ContactState::done) << i;
}

// A callback counts toward max_attempts: with the attempts used up it is not scheduled.
TEST_F(EngineTest, ACallbackNeedsAnAttemptLeft) {
  platform_.call_scripts[phone(1)] = {answered_with(R"({"callback_at": "2026-03-10T11:30:00Z"})")};
  start_scheduler();
  auto s = spec("one");
  s.max_attempts = 1;
  s.callback_field = "callback_at";
  const auto id = create(s);
  add_contact(id, phone(1));
  start("one");
  run_for(5min);
  EXPECT_EQ(contact(id, phone(1)).state, ContactState::done);
}

}  // namespace
}  // namespace dialer::scheduler::testing
