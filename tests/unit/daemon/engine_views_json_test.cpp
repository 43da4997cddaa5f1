// The engine's views as the admin answers show them: status-get and campaign-get JSON, and a
// campaign's blocked_by with how far off its time is.

#include "daemon/scheduler_json.hpp"
#include "tests/unit/scheduler/engine_fixture.hpp"

namespace dialer::scheduler::testing {
namespace {

using daemon::to_json;

// status-get and campaign-get carry the contract's fields with live figures.
TEST_F(EngineTest, StatusAndCampaignViewsAsJson) {
  platform_.concurrency_limit = 3;
  platform_.credit_balance = 42.5;
  start_scheduler();
  const auto id = create(spec("v"));
  add_contacts(id, 0, 5);
  start("v");
  run_for(1s);
  const auto s = to_json(scheduler_->status());
  EXPECT_EQ(s.at("slots").at("used").as_int64(), 3);
  EXPECT_EQ(s.at("slots").at("limit").as_int64(), 3);
  EXPECT_EQ(s.at("slots").at("source").as_string(), "partner");
  EXPECT_EQ(s.at("rate").at("calls_per_minute").as_int64(), 600);
  EXPECT_GE(s.at("rate").at("used_last_minute").as_int64(), 3);
  EXPECT_DOUBLE_EQ(s.at("credits").at("balance").as_double(), 42.5);
  EXPECT_EQ(s.at("credits").at("state").as_string(), "ok");
  EXPECT_EQ(s.at("campaigns").at("running").as_int64(), 1);
  EXPECT_TRUE(s.at("account_block").is_null());

  const auto v = to_json(view("v"));
  EXPECT_EQ(v.at("id").as_int64(), id);
  EXPECT_EQ(v.at("name").as_string(), "v");
  EXPECT_EQ(v.at("state").as_string(), "running");
  EXPECT_EQ(v.at("blocked_by").at("reason").as_string(), "no_free_slot");
  EXPECT_EQ(v.at("blocked_by").at("used").as_int64(), 3);
  EXPECT_EQ(v.at("contacts").at("in_call").as_int64(), 3);
  EXPECT_EQ(v.at("contacts").at("queued").as_int64(), 2);
  EXPECT_EQ(v.at("attempts").as_int64(), 3);
  EXPECT_EQ(v.at("in_flight").as_int64(), 3);
  EXPECT_TRUE(v.at("started_at").is_string());
  EXPECT_TRUE(v.at("completed_at").is_null());
  EXPECT_TRUE(v.contains("window"));
}

// A Kolkata campaign whose window is open calls a contact in Honolulu, where it is midnight:
// blocked_by names that contact and Pacific/Honolulu, the opening in Honolulu's time (09:00
// there, 19:00 UTC) and how far off it is — not "opens 00:30 (Asia/Kolkata)".
TEST_F(EngineTest, AWindowClosedByAContactsZoneNamesTheContactAndItsZone) {
  start_scheduler();
  auto s = spec("hawaii");
  s.timezone = "Asia/Kolkata";
  s.window.start = std::chrono::minutes{9 * 60};
  s.window.end = std::chrono::minutes{21 * 60};
  const auto id = create(s);
  add_contact(id, "+18085550100", "Pacific/Honolulu");
  start("hawaii");
  run_for(1s);
  const auto v = view("hawaii");
  const auto& b = v.blocked_by;
  ASSERT_EQ(b.reason, BlockReason::outside_calling_window) << to_text(b);
  EXPECT_EQ(b.at, utc(2026, 3, 9, 19, 0));
  EXPECT_EQ(b.timezone, "Pacific/Honolulu");
  EXPECT_EQ(b.contact, "+18085550100");
  EXPECT_EQ(b.at_local, "2026-03-09T09:00:00-10:00");
  EXPECT_EQ(to_text(b, v.now),
            "outside calling window of +18085550100 (Pacific/Honolulu); opens "
            "2026-03-09T09:00:00-10:00 (in 8 h 59 min)");
  const auto j = to_json(b, v.now);
  EXPECT_EQ(j.at("in_s").as_int64(), 8 * 3600 + 59 * 60 + 59);
  EXPECT_EQ(j.at("contact").as_string(), "+18085550100");
}

}  // namespace
}  // namespace dialer::scheduler::testing
