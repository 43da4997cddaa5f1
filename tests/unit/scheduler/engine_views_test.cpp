// The engine's edges: webhooks racing their start's answer, unknown sessions, account blocks,
// status/campaign views and metrics.

#include "engine_fixture.hpp"
#include "store/sql/inbox.hpp"

#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>
#include <sqlite3.h>

namespace dialer::scheduler::testing {
namespace {

// A webhook that arrives before its start's 200 is held until the answer names the call, then
// applied: the contact is done with one counted attempt.
TEST_F(EngineTest, WebhookBeatingTheStartAnswerIsApplied) {
  platform_.start_latency = 5s;
  platform_.call_scripts[phone(1)] = {
      CallScript{CallStatus::completed, Disposition::completed, 1s, 1.0, true}};
  start_scheduler();
  const auto id = create(spec("race"));
  add_contact(id, phone(1));
  start("race");
  run_for(2s);
  store::SqlInbox inbox(*db_);
  EXPECT_EQ(inbox.count_unapplied().value(), 1);  // held, not dropped
  run_for(5s);
  const auto c = contact(id, phone(1));
  EXPECT_EQ(c.state, ContactState::done);
  EXPECT_EQ(c.attempts, 1);
  EXPECT_EQ(inbox.count_unapplied().value(), 0);
  EXPECT_EQ(attempts_of(id).at(0).state, AttemptState::finished);
}

// The webhook server's hand-over by outcome: the scheduler finds the inbox row by session id,
// applies the outcome and marks that row applied; a second hand-over changes nothing.
TEST_F(EngineTest, SessionCompletedFindsItsInboxRow) {
  std::vector<SessionOutcome> held;
  platform_.webhook = [&](const SessionOutcome& o) { held.push_back(o); };
  platform_.default_call = CallScript{};
  start_scheduler();
  const auto id = create(spec("sink"));
  add_contact(id, phone(1));
  start("sink");
  run_for(3min);
  ASSERT_EQ(held.size(), 1U);
  store::SqlInbox inbox(*db_);
  ASSERT_TRUE(inbox.insert({held[0].session_id, held[0].call_id, to_body(held[0]), ex_.now()}));
  scheduler_->on_session_completed(held[0]);
  scheduler_->on_session_completed(held[0]);
  run_for(1s);
  EXPECT_EQ(contact(id, phone(1)).state, ContactState::done);
  EXPECT_EQ(inbox.count_unapplied().value(), 0);
  EXPECT_EQ(scheduler_->stats().outcomes_applied, 1U);
}

// A webhook for a session this daemon never started is marked applied and ignored once every
// start that was outstanding when it arrived has been answered.
TEST_F(EngineTest, UnknownSessionIsIgnoredOnceStartsSettle) {
  platform_.start_latency = 5s;
  start_scheduler();
  add_contacts(create(spec("u")), 0, 2);
  start("u");
  run_for(1s);
  SessionOutcome foreign;
  foreign.session_id = "sess-foreign";
  foreign.call_id = "call-foreign";
  foreign.to_number = "+15550000000";
  foreign.status = CallStatus::completed;
  deliver(foreign);
  run_for(1s);
  store::SqlInbox inbox(*db_);
  EXPECT_EQ(inbox.count_unapplied().value(), 1);
  run_for(5s);
  EXPECT_EQ(inbox.count_unapplied().value(), 0);
  EXPECT_EQ(scheduler_->stats().outcomes_applied, 0U);
}

// A 401 stops dispatching for the whole account (GET /config refused as well, so no probe lifts
// it), keeps the API's message for status-get, and the refused attempt does not count; lifting
// the block dials again.
TEST_F(EngineTest, AuthRefusalBlocksTheAccount) {
  platform_.default_call = CallScript{};
  platform_.start_scripts.push_back(
      {StartKind::rejected, StartReason::auth, "Invalid API key", false, {}});
  start_scheduler();
  platform_.config_failures.assign(
      100, PlatformError{PlatformError::Kind::failed, "HTTP 401", std::nullopt});
  auto s = spec("auth");
  s.max_concurrency = 1;
  const auto id = create(s);
  add_contacts(id, 0, 3);
  start("auth");
  run_for(10min);
  EXPECT_EQ(platform_.starts.size(), 1U);
  const auto st = scheduler_->status();
  EXPECT_EQ(st.account_block, AccountBlock::auth);
  EXPECT_EQ(st.account_message, "Invalid API key");
  EXPECT_EQ(view("auth").blocked_by.reason, BlockReason::account_blocked);
  EXPECT_EQ(contact(id, phone(0)).attempts, 0);
  platform_.config_failures.clear();
  scheduler_->clear_account_block();
  run_for(10min);
  EXPECT_EQ(view("auth").contacts.at(ContactState::done), 3);
}

// A failed first GET /config is retried within seconds, not a whole credit_poll_interval:
// until it answers no provider is known and no campaign can start.
TEST_F(EngineTest, FirstConfigFailureIsRetriedSoon) {
  platform_.config_failures.push_back(
      {PlatformError::Kind::failed, "502 Bad Gateway", std::nullopt});
  start_scheduler();
  add_contacts(create(spec("cfg")), 0, 1);
  EXPECT_EQ(scheduler_->start("cfg").error().code, make_error_code(errc::conflict));
  run_for(6s);
  EXPECT_TRUE(scheduler_->start("cfg"));
}

// With a registry the engine exports dialer_* metrics that follow what it does.
TEST_F(EngineTest, MetricsFollowStartsAndOutcomes) {
  platform_.default_call = CallScript{};
  prometheus::Registry registry;
  scheduler_ = std::make_unique<Scheduler>(
      SchedulerDeps{ex_, *store_, platform_, parse_body, &registry}, options_);
  ASSERT_TRUE(scheduler_->recover());
  ex_.run_until(ex_.now());
  add_contacts(create(spec("m")), 0, 4);
  start("m");
  run_for(5min);
  const std::string text = prometheus::TextSerializer().Serialize(registry.Collect());
  EXPECT_NE(text.find("dialer_starts_total{result=\"started\"} 4"), std::string::npos) << text;
  EXPECT_NE(text.find("dialer_outcomes_total{outcome=\"completed\"} 4"), std::string::npos);
  EXPECT_NE(text.find("dialer_campaigns{state=\"completed\"} 1"), std::string::npos);
  EXPECT_NE(text.find("dialer_slots_in_flight 0"), std::string::npos);
  EXPECT_NE(text.find("dialer_dispatch_handoff_seconds_count"), std::string::npos);
}

// An outcome that frees a slot and the claim that refills it are committed together: one
// COMMIT (one fsync) between the webhook being handed over and the next start being sent.
TEST_F(EngineTest, OutcomeAndRefillShareOneCommit) {
  std::vector<SessionOutcome> held;
  platform_.webhook = [&](const SessionOutcome& o) { held.push_back(o); };
  platform_.default_call = CallScript{};
  options_.concurrency_poll_interval = 1h;  // a reading would settle the held call early
  start_scheduler();
  auto s = spec("one");
  s.max_concurrency = 1;
  add_contacts(create(s), 0, 3);
  start("one");
  run_for(3min);  // the first call ended; its webhook is held
  ASSERT_EQ(held.size(), 1U);
  ASSERT_EQ(platform_.starts.size(), 1U);
  store::SqlInbox inbox(*db_);
  ASSERT_TRUE(inbox.insert({held[0].session_id, held[0].call_id, to_body(held[0]), ex_.now()}));

  std::vector<std::string> sql;
  auto cb = [](unsigned type, void* ctx, void* p, void*) -> int {
    if (type == SQLITE_TRACE_STMT) {
      const char* text = sqlite3_sql(static_cast<sqlite3_stmt*>(p));
      static_cast<std::vector<std::string>*>(ctx)->emplace_back(text != nullptr ? text : "");
    }
    return 0;
  };
  sqlite3_trace_v2(db_->handle(), SQLITE_TRACE_STMT, cb, &sql);
  scheduler_->inbox_updated();
  ex_.run_ready();  // no time passes: the outcome is applied and the slot refilled
  sqlite3_trace_v2(db_->handle(), 0, nullptr, nullptr);

  EXPECT_EQ(platform_.starts.size(), 2U);
  const auto commits = std::count_if(
      sql.begin(), sql.end(), [](const std::string& q) { return q.rfind("COMMIT", 0) == 0; });
  EXPECT_EQ(commits, 1);
}

// A standby of a pair never recovers (the leader does): its campaign-get/-stats come from the
// store — the campaign another node created and runs is found, counted, and shown as dialled
// elsewhere — and it writes nothing.
TEST_F(EngineTest, BeforeRecoveryTheViewIsTheStoresAndSaysStandby) {
  start_scheduler();
  const auto id = create(spec("elsewhere"));
  add_contacts(id, 0, 3);
  start("elsewhere");
  ex_.run_until(ex_.now() + 1s);
  const auto attempts = scheduler_->campaign_view("elsewhere")->attempts;
  ASSERT_GT(attempts, 0);

  // A second scheduler on the same store that has not recovered: a standby's.
  store::SqlStore other(*db_);
  Scheduler standby(SchedulerDeps{ex_, other, platform_, parse_body, nullptr}, options_);
  auto v = standby.campaign_view("elsewhere");
  ASSERT_TRUE(v) << v.error().what();
  EXPECT_EQ(v->campaign.id, id);
  EXPECT_EQ(v->campaign.state, CampaignState::running);
  EXPECT_EQ(v->attempts, attempts);
  std::int64_t contacts = 0;
  for (const auto& [state, n] : v->contacts) contacts += n;
  EXPECT_EQ(contacts, 3);
  EXPECT_EQ(v->blocked_by.reason, BlockReason::standby);
  EXPECT_EQ(to_text(v->blocked_by), "this node is the standby: the leader dials");
  EXPECT_EQ(v->in_flight, 0);
  EXPECT_EQ(standby.campaign_view(std::to_string(id))->campaign.spec.name, "elsewhere");
  EXPECT_EQ(standby.campaign_view("nope").error().code, make_error_code(errc::not_found));
}

// A standby's scheduler never recovers; a config reload (allowed on a standby: it is the
// node's own) must not start the account polls — they spend the API key's shared budget and
// write the credit balance into the shared store.
TEST_F(EngineTest, OptionsUpdateBeforeRecoveryStartsNoPolls) {
  Scheduler standby(SchedulerDeps{ex_, *store_, platform_, parse_body, nullptr}, options_);
  SchedulerOptions changed = options_;
  changed.credit_poll_interval = 5s;
  changed.concurrency_poll_interval = 5s;
  standby.update_options(changed);
  ex_.run_until(ex_.now() + 10min);
  EXPECT_EQ(platform_.config_requests, 0);
  EXPECT_EQ(platform_.concurrency_requests, 0);
  // Once it leads (recover), the polls run at the new intervals.
  ASSERT_TRUE(standby.recover());
  ex_.run_until(ex_.now() + 11s);
  EXPECT_GE(platform_.config_requests, 2);
  EXPECT_GE(platform_.concurrency_requests, 1);
}

// A stale leader (another node took the lease over) moves no campaign either: a pause, a
// completion or a credit stop of its would race the new leader's.
TEST_F(EngineTest, AFencedStoreMovesNoCampaign) {
  start_scheduler();
  const auto id = create(spec("fenced"));
  add_contacts(id, 0, 2);
  start("fenced");
  store_->set_fence(5);  // the lease row is at epoch 0: another node leads
  auto paused = scheduler_->pause("fenced");
  ASSERT_FALSE(paused);
  EXPECT_EQ(paused.error().code, make_error_code(errc::conflict)) << paused.error().what();
  EXPECT_EQ(store_->campaigns().find("fenced").value()->state, CampaignState::running);
}

}  // namespace
}  // namespace dialer::scheduler::testing
