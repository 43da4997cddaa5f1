// Scheduled start and end (campaign fields start_at, end_at), in simulated time.

#include "engine_fixture.hpp"
#include "store/sql/audit.hpp"

namespace dialer::scheduler::testing {
namespace {

// A draft with start_at starts itself at that instant, audited as the scheduler; at end_at no
// new call is placed, queued contacts are skipped (campaign_ended), the campaign completes, and
// a call still in flight is followed to its outcome.
TEST_F(EngineTest, ScheduledStartAndEnd) {
  platform_.concurrency_limit = 2;
  platform_.default_call = CallScript{CallStatus::completed, Disposition::completed, 10min, 1.0};
  start_scheduler();
  const TimePoint t0 = ex_.now();
  auto s = spec("timed");
  s.max_concurrency = 2;
  s.start_at = t0 + 1h;
  s.end_at = t0 + 1h + 15min;
  const auto id = create(s);
  add_contacts(id, 0, 10);
  run_until(t0 + 1h - 1s);
  EXPECT_EQ(state("timed"), CampaignState::draft);
  EXPECT_TRUE(platform_.starts.empty());
  run_until(t0 + 1h + 1s);
  EXPECT_EQ(state("timed"), CampaignState::running);
  ASSERT_EQ(platform_.starts.size(), 2U);
  EXPECT_EQ(platform_.starts[0].at, t0 + 1h);
  store::SqlAudit audit(*db_);
  bool started_by_scheduler = false;
  for (const auto& row : audit.recent(50).value()) {
    if (row.entry.actor == "scheduler" &&
        row.entry.detail_json.find("\"start\"") != std::string::npos) {
      started_by_scheduler = true;
    }
  }
  EXPECT_TRUE(started_by_scheduler);

  // Calls end every 10 min: at 1h10 two more start; at 1h15 the campaign ends with those two
  // still in flight.
  run_until(t0 + 1h + 15min + 1s);
  EXPECT_EQ(state("timed"), CampaignState::completed);
  EXPECT_EQ(platform_.starts.size(), 4U);
  const auto v = view("timed");
  EXPECT_EQ(v.contacts.at(ContactState::skipped), 6);
  EXPECT_EQ(v.in_flight, 2);
  EXPECT_EQ(contact(id, phone(9)).reason, "campaign_ended");
  run_for(30min);
  EXPECT_EQ(platform_.starts.size(), 4U);  // nothing after end_at
  EXPECT_EQ(view("timed").contacts.at(ContactState::done), 4);
  EXPECT_EQ(view("timed").in_flight, 0);
}

// A scheduled start that cannot happen (no contacts yet) is logged and tried again every
// minute; once contacts are there it starts. The schedule survives a restart.
TEST_F(EngineTest, ARefusedScheduledStartIsTriedAgain) {
  platform_.default_call = CallScript{};
  start_scheduler();
  const TimePoint t0 = ex_.now();
  auto s = spec("later");
  s.start_at = t0 + 10min;
  const auto id = create(s);
  crash_and_restart();
  run_until(t0 + 10min + 1s);
  EXPECT_EQ(state("later"), CampaignState::draft);
  add_contacts(id, 0, 1);
  run_until(t0 + 11min + 1s);
  EXPECT_EQ(state("later"), CampaignState::running);
  EXPECT_EQ(platform_.starts.size(), 1U);
}

// end_at must come after start_at; a start_at in the past starts the draft at once.
TEST_F(EngineTest, EndBeforeStartIsRefusedAndAPastStartStartsNow) {
  platform_.default_call = CallScript{};
  start_scheduler();
  const TimePoint t0 = ex_.now();
  auto bad = spec("backwards");
  bad.start_at = t0 + 2h;
  bad.end_at = t0 + 1h;
  const auto refused = scheduler_->create(bad);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, make_error_code(errc::invalid_argument));
  auto s = spec("past");
  s.start_at = t0 - 1h;
  add_contacts(create(s), 0, 1);
  run_for(1s);
  EXPECT_EQ(state("past"), CampaignState::running);
}

}  // namespace
}  // namespace dialer::scheduler::testing
