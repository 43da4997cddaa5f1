// blocked_by is the campaign's own reason, and specific (STATE-MACHINES.md "Campaign"): an
// account-wide condition is named only for a campaign with a contact due now and in window; a
// campaign waiting for a window names the contact and the zone that keeps it closed; a pause
// for errors carries the last error; an account block the API's message; times come with "in".

#include "engine_fixture.hpp"

namespace dialer::scheduler::testing {
namespace {

// Monday 10:00 UTC is 15:30 in Kolkata. Campaign "busy" fills both slots of the account with
// long calls while more of its contacts are due; campaign "later" has five contacts whose
// window opens at 19:00 Kolkata. Over two minutes of passes, "later" is only ever waiting for
// its window — never "no free slot", "rate limited" or "no due contacts" — and the same
// after a restart, when nothing of its deferral is left in memory.
TEST_F(EngineTest, ACampaignWithNothingDueIsNotBlamedOnTheAccount) {
  platform_.concurrency_limit = 2;
  platform_.default_call = CallScript{CallStatus::completed, Disposition::completed, 30min, 1.0};
  start_scheduler();
  auto busy = spec("busy");
  busy.max_concurrency = 2;
  add_contacts(create(busy), 0, 20);
  auto later = spec("later");
  later.timezone = "Asia/Kolkata";
  later.window.start = std::chrono::minutes{19 * 60};
  later.window.end = std::chrono::minutes{21 * 60};
  add_contacts(create(later), 100, 5);
  start("busy");
  start("later");
  const TimePoint opens = utc(2026, 3, 9, 13, 30);
  std::map<std::string, int> seen;
  for (int i = 0; i < 120; ++i) {
    run_for(1s);
    const auto b = view("later").blocked_by;
    ++seen[std::string(to_string(b.reason))];
    if (b.reason == BlockReason::outside_calling_window) {
      EXPECT_EQ(b.at, opens);
    }
  }
  EXPECT_EQ(seen, (std::map<std::string, int>{{"outside_calling_window", 120}}));
  EXPECT_EQ(view("busy").blocked_by.reason, BlockReason::no_free_slot);

  crash_and_restart();
  run_for(5s);
  const auto b = view("later").blocked_by;
  EXPECT_EQ(b.reason, BlockReason::outside_calling_window) << to_text(b);
  EXPECT_EQ(b.at, opens);
  EXPECT_EQ(b.timezone, "Asia/Kolkata");
}

// A contact waiting for its retry delay is named with the outcome it retries after.
TEST_F(EngineTest, NoDueContactsNamesTheNextContactAndItsRetry) {
  platform_.call_scripts[phone(1)] = {
      CallScript{CallStatus::busy, Disposition::busy, 0s, 0.0, true},
      CallScript{CallStatus::completed, Disposition::completed, 1min, 1.0, true}};
  start_scheduler();
  auto s = spec("retry");
  s.retry[Outcome::busy] = RetryRule{10min, 3};
  const auto id = create(s);
  add_contact(id, phone(1));
  start("retry");
  run_for(1min);
  const auto v = view("retry");
  ASSERT_EQ(v.blocked_by.reason, BlockReason::no_due_contacts) << to_text(v.blocked_by);
  EXPECT_EQ(v.blocked_by.contact, phone(1));
  EXPECT_EQ(v.blocked_by.retry_after, Outcome::busy);
  EXPECT_NE(to_text(v.blocked_by, v.now).find(", retry after busy"), std::string::npos)
      << to_text(v.blocked_by, v.now);
  EXPECT_NE(to_text(v.blocked_by, v.now).find("(in "), std::string::npos);
}

// The circuit breaker's pause carries the last error's text in blocked_by, also after a
// restart; a resume clears it.
TEST_F(EngineTest, APauseForErrorsCarriesTheLastError) {
  options_.error_burst_threshold = 2;
  platform_.default_call = CallScript{};
  const StartScript server{
      StartKind::rejected, StartReason::server, "HTTP 502 from upstream", false, {}};
  platform_.start_scripts = {server, server};
  start_scheduler();
  auto s = spec("cb");
  s.max_concurrency = 1;
  add_contacts(create(s), 0, 3);
  start("cb");
  run_for(1min);
  auto b = view("cb").blocked_by;
  ASSERT_EQ(b.reason, BlockReason::paused_by_errors) << to_text(b);
  EXPECT_NE(b.message.find("HTTP 502 from upstream"), std::string::npos) << b.message;
  EXPECT_NE(to_text(b).find("last error: "), std::string::npos);

  crash_and_restart();
  b = view("cb").blocked_by;
  ASSERT_EQ(b.reason, BlockReason::paused_by_errors) << to_text(b);
  EXPECT_NE(b.message.find("HTTP 502 from upstream"), std::string::npos) << b.message;
  ASSERT_TRUE(scheduler_->resume("cb"));
  crash_and_restart();
  EXPECT_NE(view("cb").blocked_by.reason, BlockReason::paused_by_errors);
}

// An account block carries the API's message into every running campaign's blocked_by.
TEST_F(EngineTest, AnAccountBlockCarriesTheApisMessage) {
  platform_.default_call = CallScript{};
  platform_.start_scripts.push_back(
      {StartKind::rejected, StartReason::auth, "Invalid API key", false, {}});
  start_scheduler();
  platform_.config_failures.assign(
      100, PlatformError{PlatformError::Kind::failed, "HTTP 401", std::nullopt});
  add_contacts(create(spec("auth")), 0, 3);
  start("auth");
  run_for(1min);
  const auto b = view("auth").blocked_by;
  ASSERT_EQ(b.reason, BlockReason::account_blocked);
  EXPECT_EQ(b.message, "Invalid API key");
  EXPECT_EQ(to_text(b), "account blocked by the API: Invalid API key");
}

}  // namespace
}  // namespace dialer::scheduler::testing
