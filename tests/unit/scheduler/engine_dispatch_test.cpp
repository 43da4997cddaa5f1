// Issue 5: the dispatch engine's rules, one test per rule, in simulated time.

#include "engine_fixture.hpp"
#include "scheduler/calling_window.hpp"
#include "store/sql/audit.hpp"
#include "store/sql/dnc.hpp"
#include "store/zones.hpp"

#include <boost/json/parse.hpp>
#include <date/tz.h>

#include <algorithm>
#include <set>

namespace dialer::scheduler::testing {
namespace {

bool is_conflict(const Result<void>& r) {
  return !r && r.error().code == make_error_code(errc::conflict);
}

std::vector<store::AuditRow> audit_rows(store::Database& db) {
  store::SqlAudit repo(db);
  auto r = repo.recent(1'000'000);
  EXPECT_TRUE(r);
  auto v = r ? *r : std::vector<store::AuditRow>{};
  std::reverse(v.begin(), v.end());
  return v;
}

// Allowed campaign transitions work through the lifecycle commands; forbidden ones are refused
// with errc::conflict and change nothing; every transition is written to the audit log.
TEST_F(EngineTest, CampaignTransitionsThroughLifecycleCommands) {
  start_scheduler();
  const auto id = create(spec("spring"));
  add_contacts(id, 0, 3);

  EXPECT_TRUE(is_conflict(scheduler_->pause("spring")));
  EXPECT_TRUE(is_conflict(scheduler_->resume("spring")));
  EXPECT_TRUE(is_conflict(scheduler_->stop("spring")));
  EXPECT_EQ(state("spring"), CampaignState::draft);

  start("spring");
  EXPECT_EQ(state("spring"), CampaignState::running);
  EXPECT_TRUE(is_conflict(scheduler_->start("spring")));
  EXPECT_TRUE(is_conflict(scheduler_->resume("spring")));

  ASSERT_TRUE(scheduler_->pause("spring"));
  EXPECT_EQ(state("spring"), CampaignState::paused);
  EXPECT_EQ(view("spring").campaign.pause_reason, PauseReason::manual);
  EXPECT_TRUE(is_conflict(scheduler_->pause("spring")));
  EXPECT_TRUE(is_conflict(scheduler_->start("spring")));

  ASSERT_TRUE(scheduler_->resume("spring"));
  EXPECT_EQ(state("spring"), CampaignState::running);
  ASSERT_TRUE(scheduler_->stop("spring"));
  const auto v = view("spring");
  EXPECT_EQ(v.campaign.state, CampaignState::cancelled);
  EXPECT_TRUE(v.campaign.completed_at.has_value());
  EXPECT_EQ(v.contacts.at(ContactState::skipped), 3);  // stopped before any dispatch ran

  for (auto r :
       {scheduler_->start("spring"), scheduler_->pause("spring"), scheduler_->resume("spring"),
        scheduler_->stop("spring"), scheduler_->update("spring", spec("spring"))}) {
    EXPECT_TRUE(is_conflict(r));
  }
  run_for(1h);
  EXPECT_TRUE(platform_.starts.empty());

  std::vector<std::string> events;
  for (const auto& row : audit_rows(*db_)) {
    if (row.entry.subject != "campaign:spring" || row.entry.action != "transition") continue;
    auto j = boost::json::parse(row.entry.detail_json).as_object();
    if (j.contains("from") && j.at("from") != "queued") {
      events.push_back(std::string(j.at("event").as_string()));
    }
  }
  EXPECT_EQ(events, (std::vector<std::string>{"start", "pause", "resume", "stop"}));
}

// draft → running is refused (conflict) without a queued contact, an agent id, or a provider
// that GET /config lists as allowed and configured.
TEST_F(EngineTest, StartPreconditions) {
  start_scheduler();
  run_for(1s);  // GET /config answered
  create(spec("empty"));
  EXPECT_TRUE(is_conflict(scheduler_->start("empty")));

  auto no_agent = spec("noagent");
  no_agent.agent_id.clear();
  add_contacts(create(no_agent), 0, 1);
  EXPECT_TRUE(is_conflict(scheduler_->start("noagent")));

  auto exotel = spec("exotel");
  exotel.providers = {Provider::exotel};
  add_contacts(create(exotel), 0, 1);
  auto r = scheduler_->start("exotel");
  ASSERT_TRUE(is_conflict(r));
  EXPECT_NE(r.error().what().find("provider"), std::string::npos);

  EXPECT_EQ(scheduler_->start("nope").error().code, make_error_code(errc::not_found));
}

// Never more calls in flight than the smallest limit: the account limit (below the sum of the
// campaigns' max_concurrency), each campaign's max_concurrency, and — once a foreign load
// appears mid-run — the account limit minus the foreign calls, after at most one 429.
TEST_F(EngineTest, NeverMoreInFlightThanTheSmallestLimit) {
  platform_.concurrency_limit = 6;
  platform_.credit_balance = 1e6;
  platform_.default_call = CallScript{CallStatus::completed, Disposition::completed, 3min, 1.0};
  start_scheduler();
  auto a = spec("a");
  a.max_concurrency = 4;
  add_contacts(create(a), 0, 300);
  auto b = spec("b");
  b.max_concurrency = 4;
  b.agent_id = std::string(kAgent2);
  add_contacts(create(b), 1000, 300);
  start("a");
  start("b");

  run_for(30min);
  EXPECT_EQ(platform_.max_active_ours, 6);                           // every slot used …
  EXPECT_LE(platform_.max_active_by_agent[std::string(kAgent)], 4);  // … within each campaign
  EXPECT_LE(platform_.max_active_by_agent[std::string(kAgent2)], 4);
  EXPECT_EQ(platform_.concurrency_refusals, 0);
  EXPECT_LE(scheduler_->stats().max_in_flight, 6);

  platform_.foreign_active = 3;
  platform_.max_active_ours = 0;
  run_for(60min);
  EXPECT_LE(platform_.concurrency_refusals, 1);
  EXPECT_EQ(platform_.max_active_ours, 3);
  EXPECT_LE(platform_.max_active, 6);
  EXPECT_EQ(scheduler_->status().slots.foreign, 3);
  EXPECT_EQ(platform_.rate_violations, 0);
}

// Three campaigns of weights 1, 2 and 3 sharing 12 slots hold 2, 4 and 6 calls (±1), and keep
// those shares as calls end and slots are refilled.
TEST_F(EngineTest, WeightedFairnessOfThreeCampaigns) {
  platform_.concurrency_limit = 12;
  start_scheduler();
  const std::array<int, 3> weights{1, 2, 3};
  for (int i = 0; i < 3; ++i) {
    auto s = spec("w" + std::to_string(weights[static_cast<std::size_t>(i)]));
    s.weight = weights[static_cast<std::size_t>(i)];
    s.max_concurrency = 12;
    add_contacts(create(s), i * 1000, 200);
    start(s.name);
  }
  auto check_shares = [&] {
    int total = 0;
    for (int w : weights) {
      const int in_flight = view("w" + std::to_string(w)).in_flight;
      total += in_flight;
      EXPECT_NEAR(in_flight, 12 * w / 6, 1) << "weight " << w;
    }
    EXPECT_EQ(total, 12);
  };
  run_for(1s);
  check_shares();
  for (int round = 0; round < 40; ++round) {
    // End the oldest active call, whoever it belongs to.
    for (auto& c : platform_.calls) {
      if (c.active()) {
        platform_.finish(c.call_id, CallScript{});
        break;
      }
    }
    run_for(1s);
    check_shares();
  }
}

// The /calls/* budget is never overspent (no request without a token, so no 429) and yet
// starts use nearly all of it: 10 per minute, less the concurrency poll's share.
TEST_F(EngineTest, RateBudgetIsNeverExceededAndFullyUsed) {
  platform_.set_rate_limits(10, 60);
  platform_.concurrency_limit = 50;
  platform_.credit_balance = 1e6;
  platform_.default_call = CallScript{CallStatus::completed, Disposition::completed, 1min, 1.0};
  start_scheduler();
  auto s = spec("rate");
  s.max_concurrency = 50;
  add_contacts(create(s), 0, 1000);
  start("rate");
  run_for(30min);
  EXPECT_EQ(platform_.rate_violations, 0);
  EXPECT_GE(platform_.starts.size(), 260U);
  EXPECT_LE(platform_.starts.size(), 310U);  // 31 windows from 0:00 to 30:00
  EXPECT_EQ(view("rate").blocked_by.reason, BlockReason::rate_limited);
}

class WeekendStart : public EngineTest {
 protected:
  WeekendStart() : EngineTest(utc(2026, 3, 7, 12, 0)) {}  // Saturday
};

// Windows are applied in each contact's own zone with the tz rules: across the US DST change
// (8 March) a New York contact is first called at 09:00 EDT = 13:00 UTC, a London one at 09:00
// GMT; after the UK change (29 March) London's 09:00 is 08:00 UTC.
TEST_F(WeekendStart, WindowsInTwoZonesAcrossDst) {
  platform_.default_call = CallScript{};
  start_scheduler();
  auto s = spec("dst");
  s.timezone = "Europe/London";
  s.window.days = {true, true, true, true, true, false, false};
  s.window.start = std::chrono::minutes{9 * 60};
  s.window.end = std::chrono::minutes{17 * 60};
  s.window.end_margin = 10min;
  const auto id = create(s);
  add_contact(id, phone(1), "America/New_York");
  add_contact(id, phone(2), "Europe/London");
  start("dst");
  run_until(utc(2026, 3, 10, 0, 0));
  auto first_start = [&](const std::string& number) -> TimePoint {
    for (const auto& st : platform_.starts) {
      if (st.request.to_number == number) return st.at;
    }
    return TimePoint{};
  };
  EXPECT_EQ(first_start(phone(2)), utc(2026, 3, 9, 9, 0));
  EXPECT_EQ(first_start(phone(1)), utc(2026, 3, 9, 13, 0));

  EXPECT_EQ(state("dst"), CampaignState::completed);

  run_until(utc(2026, 3, 28, 12, 0));  // Saturday before the UK change
  s.name = "dst2";
  const auto id2 = create(s);
  add_contact(id2, phone(3), "America/New_York");
  add_contact(id2, phone(4), "Europe/London");
  start("dst2");
  run_until(utc(2026, 3, 31, 0, 0));
  EXPECT_EQ(first_start(phone(4)), utc(2026, 3, 30, 8, 0));
  EXPECT_EQ(first_start(phone(3)), utc(2026, 3, 30, 13, 0));
}

// A US number with the full zone list of zone1970.tab is called only when the window holds in
// every US zone (Hawaii's morning to New York's evening), and as soon as it does.
TEST_F(EngineTest, UsNumberCalledOnlyWhileEveryZoneIsInsideTheWindow) {
  auto table = store::ZoneTable::load();
  ASSERT_TRUE(table) << table.error().what();
  const std::string us{table->zones("US")};
  ASSERT_NE(us.find("Pacific/Honolulu"), std::string::npos);
  platform_.default_call = CallScript{};
  start_scheduler();
  auto s = spec("us");
  s.timezone = "Asia/Kolkata";
  s.window.start = std::chrono::minutes{9 * 60};
  s.window.end = std::chrono::minutes{21 * 60};
  s.window.end_margin = 10min;
  const auto id = create(s);
  add_contact(id, phone(1), us);
  add_contact(id, phone(2), "America/New_York");
  start("us");
  run_until(utc(2026, 3, 11, 0, 0));
  ASSERT_EQ(platform_.starts.size(), 2U);
  TimePoint us_start{};
  for (const auto& st : platform_.starts) {
    if (st.request.to_number == phone(1)) us_start = st.at;
    if (st.request.to_number == phone(2)) {
      EXPECT_EQ(st.at, utc(2026, 3, 9, 13, 0));  // 09:00 EDT
    }
  }
  auto inside_everywhere = [&](TimePoint t) {
    for (const auto& name : split_zone_list(us)) {
      const auto local = date::zoned_time<Millis>(date::locate_zone(name), t).get_local_time();
      const auto tod = local - date::floor<date::days>(local);
      if (tod < std::chrono::hours{9} || tod >= std::chrono::hours{21} - 10min) return false;
    }
    return true;
  };
  EXPECT_TRUE(inside_everywhere(us_start)) << format_iso8601(us_start);
  EXPECT_FALSE(inside_everywhere(us_start - 1min)) << "it waited longer than needed";
}

class EveningStart : public EngineTest {
 protected:
  EveningStart() : EngineTest(utc(2026, 3, 9, 20, 45)) {}
};

// No call starts within end_margin of the window's end: a contact added at 20:52 for a window
// closing at 21:00 with a 10-minute margin waits for the next morning.
TEST_F(EveningStart, EndMarginRefusesLateStarts) {
  platform_.default_call = CallScript{CallStatus::completed, Disposition::completed, 10min, 1.0};
  start_scheduler();
  auto s = spec("late");
  s.window.start = std::chrono::minutes{9 * 60};
  s.window.end = std::chrono::minutes{21 * 60};
  s.window.end_margin = 10min;
  const auto id = create(s);
  add_contact(id, phone(1));
  start("late");
  run_for(1s);
  ASSERT_EQ(platform_.starts.size(), 1U);
  EXPECT_EQ(platform_.starts[0].at, utc(2026, 3, 9, 20, 45));

  run_until(utc(2026, 3, 9, 20, 52));
  add_contact(id, phone(2));
  ASSERT_TRUE(scheduler_->contacts_added("late"));
  run_for(1s);
  EXPECT_EQ(platform_.starts.size(), 1U);
  EXPECT_EQ(view("late").blocked_by.reason, BlockReason::outside_calling_window);
  run_until(utc(2026, 3, 10, 12, 0));
  ASSERT_EQ(platform_.starts.size(), 2U);
  EXPECT_EQ(platform_.starts[1].at, utc(2026, 3, 10, 9, 0));
}

// A retry waits the rule's delay ±10 %: busy (10m) lands between 9 and 11 minutes after the
// outcome, spread out, and the contact is dialled again when it is due.
TEST_F(EngineTest, RetryDelaysWithinJitterBounds) {
  platform_.concurrency_limit = 50;
  platform_.default_call = CallScript{CallStatus::busy, Disposition::busy, 1min, 0.0};
  start_scheduler();
  auto s = spec("busy");
  s.max_concurrency = 50;
  s.retry[Outcome::busy] = RetryRule{10min, 3};
  const auto id = create(s);
  add_contacts(id, 0, 20);
  start("busy");
  run_for(2min);
  std::set<TimePoint> due;
  for (int i = 0; i < 20; ++i) {
    const auto c = contact(id, phone(i));
    ASSERT_EQ(c.state, ContactState::queued);
    EXPECT_EQ(c.attempts, 1);
    EXPECT_EQ(c.last_outcome, Outcome::busy);
    const auto ended = attempts_of(id)[static_cast<std::size_t>(i)].ended_at.value();
    EXPECT_GE(c.next_attempt_at - ended, 9min);
    EXPECT_LE(c.next_attempt_at - ended, 11min);
    due.insert(c.next_attempt_at);
  }
  EXPECT_GT(due.size(), 10U) << "jitter spreads the retries";
  run_for(12min);
  for (int i = 0; i < 20; ++i) {
    std::vector<TimePoint> at;
    for (const auto& st : platform_.starts) {
      if (st.request.to_number == phone(i)) at.push_back(st.at);
    }
    ASSERT_EQ(at.size(), 2U);
    EXPECT_GE(at[1] - at[0], 1min + 9min);
  }
}

// max_attempts caps all attempts together: alternating no_answer and busy (3 retries each)
// stop after max_attempts = 3 with reason max_attempts, never a fourth call.
TEST_F(EngineTest, MaxAttemptsCapsStackedRules) {
  start_scheduler();
  auto s = spec("cap");
  s.max_attempts = 3;
  s.retry[Outcome::no_answer] = RetryRule{1min, 3};
  s.retry[Outcome::busy] = RetryRule{1min, 3};
  const auto id = create(s);
  add_contact(id, phone(1));
  const CallScript no_answer{CallStatus::no_answer, Disposition::no_answer, 30s, 0.0};
  const CallScript busy{CallStatus::busy, Disposition::busy, 30s, 0.0};
  platform_.call_scripts[phone(1)] = {no_answer, busy, no_answer, busy, no_answer};
  start("cap");
  run_for(2h);
  const auto c = contact(id, phone(1));
  EXPECT_EQ(c.state, ContactState::exhausted);
  EXPECT_EQ(c.reason, "max_attempts");
  EXPECT_EQ(c.attempts, 3);
  EXPECT_EQ(platform_.calls_per_number[phone(1)], 3);
  EXPECT_EQ(state("cap"), CampaignState::completed);
}

// A start refused as "provider not enabled" fails over to the campaign's next provider, the
// refused one is skipped for provider_cooldown, then used again; the refusal is not counted.
TEST_F(EngineTest, ProviderFailoverAndCooldown) {
  options_.provider_cooldown = 5min;
  platform_.default_call = CallScript{CallStatus::completed, Disposition::completed, 2min, 1.0};
  platform_.start_scripts.push_back(
      {StartKind::rejected, StartReason::provider, "Provider twilio is not enabled", false, {}});
  start_scheduler();
  auto s = spec("fo");
  s.providers = {Provider::twilio, Provider::plivo};
  s.max_concurrency = 1;
  const auto id = create(s);
  add_contacts(id, 0, 10);
  start("fo");
  run_for(7min);
  std::vector<std::pair<Millis, Provider>> seen;
  for (const auto& st : platform_.starts) {
    seen.emplace_back(st.at - EngineTest::default_start(), st.request.provider);
  }
  ASSERT_GE(seen.size(), 5U);
  EXPECT_EQ(seen[0], std::pair(Millis{0}, Provider::twilio));  // refused
  EXPECT_EQ(seen[1].second, Provider::plivo);                  // failover at once
  EXPECT_LT(seen[1].first, 1s);
  EXPECT_EQ(seen[2].second, Provider::plivo);   // ~2m: twilio still cooling down
  EXPECT_EQ(seen[3].second, Provider::plivo);   // ~4m
  EXPECT_EQ(seen[4].second, Provider::twilio);  // ~6m: cooldown over
  const auto first = contact(id, phone(0));
  EXPECT_EQ(first.attempts, 1);  // the refusal did not count
  const auto rows = attempts_of(id);
  EXPECT_EQ(rows[0].state, AttemptState::rejected);
  EXPECT_FALSE(rows[0].counted);
  EXPECT_EQ(rows[0].error_code, "provider");
}

// A number put on the DNC list after the import (without touching contacts) is never dialled:
// the dispatcher checks at claim time and skips the contact with reason dnc.
TEST_F(EngineTest, DncAddedAfterImportIsHonoured) {
  platform_.default_call = CallScript{};
  start_scheduler();
  const auto id = create(spec("dnc"));
  add_contacts(id, 0, 5);
  store::SqlDnc dnc(*db_);
  const std::array<std::string, 1> listed{phone(2)};
  ASSERT_TRUE(dnc.add(listed, "customer request", "admin", ex_.now()));
  start("dnc");
  run_for(1h);
  EXPECT_EQ(platform_.calls_per_number.count(phone(2)), 0U);
  const auto c = contact(id, phone(2));
  EXPECT_EQ(c.state, ContactState::skipped);
  EXPECT_EQ(c.reason, "dnc");
  EXPECT_EQ(platform_.calls.size(), 4U);
  EXPECT_EQ(state("dnc"), CampaignState::completed);
}

// A paused campaign starts nothing, whatever is due; resuming dials again.
TEST_F(EngineTest, PausedCampaignStartsNothing) {
  platform_.default_call = CallScript{};
  start_scheduler();
  add_contacts(create(spec("p")), 0, 5);
  start("p");
  ASSERT_TRUE(scheduler_->pause("p"));
  run_for(2h);
  EXPECT_TRUE(platform_.starts.empty());
  EXPECT_EQ(view("p").blocked_by.reason, BlockReason::not_running);
  ASSERT_TRUE(scheduler_->resume("p"));
  run_for(1s);
  EXPECT_EQ(platform_.starts.size(), 5U);
}

// Starts refused for reasons not about the number (rate, concurrency, validation) leave the
// contact queued with no attempt counted; it is dialled later and counts once.
TEST_F(EngineTest, RefusedStartsNotAboutTheNumberDoNotCount) {
  platform_.default_call = CallScript{};
  for (auto reason : {StartReason::rate, StartReason::concurrency, StartReason::validation}) {
    platform_.start_scripts.push_back({StartKind::rejected, reason, "refused", false, {}});
  }
  start_scheduler();
  auto s = spec("r");
  s.max_concurrency = 1;
  const auto id = create(s);
  add_contact(id, phone(1));
  start("r");
  run_for(1h);
  const auto c = contact(id, phone(1));
  EXPECT_EQ(c.state, ContactState::done);
  EXPECT_EQ(c.attempts, 1);
  const auto rows = attempts_of(id);
  ASSERT_EQ(rows.size(), 4U);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(rows[static_cast<std::size_t>(i)].state, AttemptState::rejected);
    EXPECT_FALSE(rows[static_cast<std::size_t>(i)].counted);
  }
  EXPECT_EQ(rows[3].state, AttemptState::finished);
  EXPECT_TRUE(rows[3].counted);
}

// A start refused for the number itself skips the contact (invalid_number), counted, never
// retried.
TEST_F(EngineTest, BadNumberIsSkippedAsInvalidNumber) {
  platform_.start_scripts_by_number[phone(1)] = {
      {StartKind::rejected, StartReason::bad_number, "to_number is not a valid number", false, {}}};
  start_scheduler();
  const auto id = create(spec("bad"));
  add_contact(id, phone(1));
  start("bad");
  run_for(1h);
  const auto c = contact(id, phone(1));
  EXPECT_EQ(c.state, ContactState::skipped);
  EXPECT_EQ(c.reason, "invalid_number");
  EXPECT_EQ(c.attempts, 1);
  const auto rows = attempts_of(id);
  ASSERT_EQ(rows.size(), 1U);
  EXPECT_TRUE(rows[0].counted);
  EXPECT_EQ(rows[0].error_code, "bad_number");
  EXPECT_EQ(state("bad"), CampaignState::completed);
}

// A `blocked` outcome skips the contact (reason blocked) and, with dnc_on_blocked, puts the
// number on the DNC list, which also skips it where it waits in another campaign.
TEST_F(EngineTest, BlockedOutcomeSkipsAndAddsToDnc) {
  platform_.call_scripts[phone(1)] = {
      CallScript{CallStatus::failed, Disposition::blocked, 10s, 0.0}};
  start_scheduler();
  const auto a = create(spec("a"));
  add_contact(a, phone(1));
  const auto b = create(spec("b"));
  add_contact(b, phone(1));
  start("a");
  run_for(5min);
  const auto c = contact(a, phone(1));
  EXPECT_EQ(c.state, ContactState::skipped);
  EXPECT_EQ(c.reason, "blocked");
  EXPECT_EQ(c.last_outcome, Outcome::blocked);
  store::SqlDnc dnc(*db_);
  EXPECT_TRUE(dnc.contains(phone(1)).value());
  const auto other = contact(b, phone(1));
  EXPECT_EQ(other.state, ContactState::skipped);
  EXPECT_EQ(other.reason, "dnc");
}

// A campaign whose contacts are all terminal with nothing in flight completes by itself.
TEST_F(EngineTest, CampaignCompletesWhenDrained) {
  platform_.default_call = CallScript{};
  start_scheduler();
  add_contacts(create(spec("d")), 0, 3);
  start("d");
  run_for(1min);
  EXPECT_EQ(state("d"), CampaignState::running);
  run_for(2min);
  const auto v = view("d");
  EXPECT_EQ(v.campaign.state, CampaignState::completed);
  EXPECT_TRUE(v.campaign.completed_at.has_value());
  EXPECT_EQ(v.contacts.at(ContactState::done), 3);
  EXPECT_EQ(v.outcomes.at(Outcome::completed), 3);
  EXPECT_DOUBLE_EQ(v.campaign.credits_used, 3.0);
}

class EveningAfterHours : public EngineTest {
 protected:
  EveningAfterHours() : EngineTest(utc(2026, 3, 9, 18, 0)) {}
};

// Dispatch is event-driven: with nothing due until tomorrow morning, the executor holds exactly
// one timer before the (daily) polls — the wake-up at the window's opening — no pass runs in
// between, and the contact is dialled at that instant.
TEST_F(EveningAfterHours, EventDrivenWakeupHoldsOneTimer) {
  options_.concurrency_poll_interval = 24h;
  options_.credit_poll_interval = 24h;
  start_scheduler();
  auto s = spec("w");
  s.window.days = {true, true, true, true, true, false, false};
  s.window.start = std::chrono::minutes{9 * 60};
  s.window.end = std::chrono::minutes{17 * 60};
  add_contacts(create(s), 0, 2);
  start("w");
  run_for(1s);
  const TimePoint opening = utc(2026, 3, 10, 9, 0);
  std::vector<TimePoint> before_polls;
  for (TimePoint t : ex_.timer_deadlines()) {
    if (t < ex_.now() + 23h) before_polls.push_back(t);
  }
  EXPECT_EQ(before_polls, std::vector<TimePoint>{opening});
  const auto b = view("w").blocked_by;
  EXPECT_EQ(b.reason, BlockReason::outside_calling_window);
  EXPECT_EQ(b.at, opening);
  const auto passes = scheduler_->stats().dispatch_passes;
  run_until(opening - 1s);
  EXPECT_EQ(scheduler_->stats().dispatch_passes, passes);
  EXPECT_TRUE(platform_.starts.empty());
  run_until(opening + 1s);
  ASSERT_EQ(platform_.starts.size(), 2U);
  EXPECT_EQ(platform_.starts[0].at, opening);
}

}  // namespace
}  // namespace dialer::scheduler::testing
