// Issue 6: reconciliation of ambiguous starts, crash recovery, missing webhooks, lost calls,
// credits, the circuit breaker and graceful shutdown — in simulated time.

#include "engine_fixture.hpp"
#include "scheduler/state_machines.hpp"
#include "store/sql/audit.hpp"
#include "store/sql/dnc.hpp"
#include "store/sql/inbox.hpp"

#include <boost/json/parse.hpp>

#include <algorithm>
#include <set>

namespace dialer::scheduler::testing {
namespace {

bool is_conflict(const Result<void>& r) {
  return !r && r.error().code == make_error_code(errc::conflict);
}

int starts_to(const FakePlatform& p, const std::string& number) {
  return static_cast<int>(std::count_if(p.starts.begin(), p.starts.end(), [&](const StartLog& s) {
    return s.request.to_number == number;
  }));
}

const PlatformError kRateLimited{PlatformError::Kind::rate_limited, "Rate limit exceeded",
                                 std::nullopt};

// An ambiguous start whose call exists is found by GET /calls: the attempt becomes started with
// that call's id, the contact is never dialled again, and the call's outcome finishes it.
TEST_F(EngineTest, AmbiguousStartIsFoundByTheListing) {
  platform_.start_scripts.push_back(
      {StartKind::ambiguous, StartReason::server, "502 Bad Gateway", true, {}});
  platform_.call_scripts[phone(1)] = {
      CallScript{CallStatus::completed, Disposition::completed, 5min, 1.0, true}};
  start_scheduler();
  const auto id = create(spec("amb"));
  add_contact(id, phone(1));
  start("amb");
  run_for(5s);
  EXPECT_EQ(attempts_of(id).at(0).state, AttemptState::ambiguous);
  // One listing, once request_timeout (15 s) + absent_grace (10 s) have passed since the
  // answer, does both jobs.
  EXPECT_EQ(platform_.list_requests, 0);
  run_for(21s);
  auto rows = attempts_of(id);
  ASSERT_EQ(rows.size(), 1U);
  EXPECT_EQ(rows[0].state, AttemptState::started);
  EXPECT_EQ(rows[0].call_id, platform_.calls.at(0).call_id);
  EXPECT_EQ(contact(id, phone(1)).state, ContactState::in_call);
  EXPECT_EQ(scheduler_->stats().reconciled_found, 1U);
  EXPECT_EQ(platform_.list_requests, 1);

  run_for(10min);
  const auto c = contact(id, phone(1));
  EXPECT_EQ(c.state, ContactState::done);
  EXPECT_EQ(c.attempts, 1);
  EXPECT_EQ(starts_to(platform_, phone(1)), 1);
  EXPECT_EQ(attempts_of(id).at(0).state, AttemptState::finished);
}

// An ambiguous start with no call is proven absent once a listing covers its window (after
// the grace period): the attempt is void and uncounted, the contact is queued again and
// dialled once more — one call in total.
TEST_F(EngineTest, AmbiguousStartProvenAbsentIsVoidAndNotCounted) {
  platform_.default_call = CallScript{};
  platform_.start_scripts_by_number[phone(1)] = {
      {StartKind::ambiguous, StartReason::network, "timeout after write", false, {}}};
  start_scheduler();
  const auto id = create(spec("void"));
  add_contacts(id, 0, 3);  // other calls on the account make the listing non-trivial
  start("void");
  run_for(5s);
  EXPECT_EQ(contact(id, phone(1)).state, ContactState::dialing);  // still within the grace
  EXPECT_EQ(starts_to(platform_, phone(1)), 1);
  run_for(30s);
  EXPECT_EQ(scheduler_->stats().reconciled_void, 1U);
  EXPECT_EQ(platform_.list_requests, 1);
  run_for(10min);
  const auto c = contact(id, phone(1));
  EXPECT_EQ(c.state, ContactState::done);
  EXPECT_EQ(c.attempts, 1);
  EXPECT_EQ(starts_to(platform_, phone(1)), 2);
  EXPECT_EQ(platform_.calls_per_number[phone(1)], 1);
  std::vector<AttemptState> states;
  for (const auto& a : attempts_of(id)) {
    if (a.to_number == phone(1)) {
      states.push_back(a.state);
      if (a.state == AttemptState::void_) {
        EXPECT_FALSE(a.counted);
      }
    }
  }
  EXPECT_EQ(states, (std::vector<AttemptState>{AttemptState::void_, AttemptState::finished}));
}

// A listing that fails (5xx) is retried after 2 s, then 4 s, 8 s…: the ambiguous attempt holds
// a slot until a listing settles it, so a transient failure must not idle it for long. The
// backoff starts over after a success.
TEST_F(EngineTest, FailedListingIsRetriedWithBackoff) {
  platform_.default_call = CallScript{};
  platform_.start_scripts_by_number[phone(1)] = {
      {StartKind::ambiguous, StartReason::server, "HTTP 502", false, {}}};
  const PlatformError server{PlatformError::Kind::failed, "HTTP 500", std::nullopt};
  for (int i = 0; i < 3; ++i) platform_.list_failures.push_back(server);
  start_scheduler();
  const auto id = create(spec("retry"));
  add_contact(id, phone(1));
  start("retry");
  run_for(25s + 100ms);  // request_timeout + absent_grace over: the first listing fails
  EXPECT_EQ(platform_.list_requests, 1);
  run_for(2s);  // retried after 2 s: fails
  EXPECT_EQ(platform_.list_requests, 2);
  run_for(3s);  // 4 s after that: not yet
  EXPECT_EQ(platform_.list_requests, 2);
  run_for(1s);
  EXPECT_EQ(platform_.list_requests, 3);
  run_for(8s);  // 8 s after that: succeeds and proves the start absent
  EXPECT_EQ(platform_.list_requests, 4);
  EXPECT_EQ(scheduler_->stats().reconciled_void, 1U);
  EXPECT_EQ(contact(id, phone(1)).attempts, 0);
}

// While GET /calls is rate-limited the ambiguous contact stays claimed and is never dialled
// again; the listing is retried when a token returns and then settles it.
TEST_F(EngineTest, AmbiguousStaysClaimedWhileTheListingIsRateLimited) {
  platform_.default_call = CallScript{};
  platform_.start_scripts.push_back(
      {StartKind::ambiguous, StartReason::network, "connection reset", false, {}});
  for (int i = 0; i < 4; ++i) platform_.list_failures.push_back(kRateLimited);
  start_scheduler();
  const auto id = create(spec("rl"));
  add_contact(id, phone(1));
  start("rl");
  run_for(3min);
  EXPECT_EQ(contact(id, phone(1)).state, ContactState::dialing);
  EXPECT_EQ(attempts_of(id).at(0).state, AttemptState::ambiguous);
  EXPECT_EQ(starts_to(platform_, phone(1)), 1);
  EXPECT_GE(platform_.list_requests, 3);
  EXPECT_EQ(platform_.rate_violations, 0);
  run_for(10min);
  EXPECT_EQ(attempts_of(id).at(0).state, AttemptState::void_);
  EXPECT_EQ(contact(id, phone(1)).state, ContactState::done);
  EXPECT_EQ(starts_to(platform_, phone(1)), 2);
}

// Crash recovery, one case per combination of what the crash left behind.
struct RestartCase {
  const char* name;
  bool settled;      ///< the start's answer was stored (started) before the crash
  bool call_exists;  ///< the server created the call
  enum Ending { webhook_while_down, ended_without_webhook, still_running } ending;
};

class RestartTest : public EngineTest, public ::testing::WithParamInterface<RestartCase> {};

// Whatever the crash left (reserved or started attempts, calls that exist or not, outcomes
// waiting unapplied in the inbox or never sent), a fresh scheduler over the same database
// finishes the contact with exactly one counted attempt and one call.
TEST_P(RestartTest, RecoversEveryCombination) {
  const auto& k = GetParam();
  CallScript ending;
  ending.duration = 3min;
  ending.webhook = k.ending == RestartCase::webhook_while_down;
  if (k.ending == RestartCase::still_running) ending.duration = 40min;
  ending.webhook = ending.webhook || k.ending == RestartCase::still_running;
  platform_.call_scripts[phone(1)] = {ending, CallScript{}};
  if (!k.settled) {
    platform_.start_scripts.push_back({k.call_exists ? StartKind::started : StartKind::not_sent,
                                       StartReason::none, "", k.call_exists,
                                       1h});  // the answer never reaches the crashed process
  }
  start_scheduler();
  const auto id = create(spec("crash"));
  add_contact(id, phone(1));
  start("crash");
  run_for(1s);
  ASSERT_EQ(attempts_of(id).at(0).state,
            k.settled ? AttemptState::started : AttemptState::reserved);

  scheduler_.reset();  // kill -9
  run_for(15min);      // down long enough for reconcile_after to pass
  store::SqlInbox inbox(*db_);
  EXPECT_EQ(inbox.count_unapplied().value(), k.ending == RestartCase::webhook_while_down ? 1 : 0);

  crash_and_restart();
  run_for(1h);
  const auto c = contact(id, phone(1));
  EXPECT_EQ(c.state, ContactState::done) << to_string(c.state);
  EXPECT_EQ(c.attempts, 1);
  EXPECT_EQ(platform_.calls_per_number[phone(1)], 1);
  int counted = 0;
  for (const auto& a : attempts_of(id)) counted += a.counted ? 1 : 0;
  EXPECT_EQ(counted, 1);
  EXPECT_EQ(inbox.count_unapplied().value(), 0);
  EXPECT_EQ(state("crash"), CampaignState::completed);
}

INSTANTIATE_TEST_SUITE_P(
    Combinations, RestartTest,
    ::testing::Values(
        RestartCase{"reserved_call_webhook_in_inbox", false, true, RestartCase::webhook_while_down},
        RestartCase{"reserved_call_ended_no_webhook", false, true,
                    RestartCase::ended_without_webhook},
        RestartCase{"reserved_call_running", false, true, RestartCase::still_running},
        RestartCase{"reserved_no_call", false, false, RestartCase::still_running},
        RestartCase{"started_webhook_in_inbox", true, true, RestartCase::webhook_while_down},
        RestartCase{"started_ended_no_webhook", true, true, RestartCase::ended_without_webhook},
        RestartCase{"started_running", true, true, RestartCase::still_running}),
    [](const ::testing::TestParamInfo<RestartCase>& p) { return std::string(p.param.name); });

// Restarts every few seconds (kill -9 in a loop) do not postpone reconciliation: the grace of
// an ambiguous start runs from its reservation, not from each restart.
TEST_F(EngineTest, FrequentRestartsDoNotPostponeReconciliation) {
  platform_.default_call = CallScript{CallStatus::completed, Disposition::completed, 1min, 1.0};
  platform_.start_scripts.push_back({StartKind::ambiguous, StartReason::server, "503", false, {}});
  start_scheduler();
  const auto id = create(spec("kill"));
  add_contact(id, phone(1));
  start("kill");
  run_for(1s);
  ASSERT_EQ(attempts_of(id).at(0).state, AttemptState::ambiguous);
  for (int i = 0; i < 8; ++i) {
    run_for(5s);
    crash_and_restart();
  }
  // Settled within the restarts, about absent_grace after the reservation plus one more.
  EXPECT_EQ(attempts_of(id).at(0).state, AttemptState::void_);
  run_for(2min);
  EXPECT_EQ(contact(id, phone(1)).state, ContactState::done);
  EXPECT_EQ(platform_.calls_per_number[phone(1)], 1);
}

// A claimed contact without an open attempt (only possible by hand-editing the store) is
// repaired to queued at startup and dialled.
TEST_F(EngineTest, RecoveryRepairsClaimedContactWithoutAttempt) {
  platform_.default_call = CallScript{};
  start_scheduler();
  const auto id = create(spec("rep"));
  add_contact(id, phone(1));
  ASSERT_TRUE(db_->execute("UPDATE contacts SET state = 'dialing' WHERE campaign_id = ?", id));
  crash_and_restart();
  EXPECT_EQ(contact(id, phone(1)).state, ContactState::queued);
  start("rep");
  run_for(5min);
  EXPECT_EQ(contact(id, phone(1)).state, ContactState::done);
}

// A webhook that never arrives: after reconcile_after the session is polled and its outcome
// applied like a webhook; a late webhook afterwards is a duplicate (no double count or spend).
// status-get counts the outcome as fetched by a poll for the hour after it.
TEST_F(EngineTest, MissingWebhookIsPolled) {
  platform_.call_scripts[phone(1)] = {
      CallScript{CallStatus::completed, Disposition::completed, 3min, 1.5, false}};
  // No concurrency reading in between: it would show the call over and settle it early
  // (ConcurrencyBelowOurCallsSettlesThemEarly).
  options_.concurrency_poll_interval = 1h;
  start_scheduler();
  const auto id = create(spec("poll"));
  add_contact(id, phone(1));
  start("poll");
  run_for(9min);
  EXPECT_EQ(contact(id, phone(1)).state, ContactState::in_call);
  EXPECT_EQ(platform_.session_requests, 0);
  EXPECT_EQ(scheduler_->status().outcomes_by_poll_last_hour, 0u);
  run_for(2min);
  EXPECT_EQ(platform_.session_requests, 1);
  EXPECT_EQ(contact(id, phone(1)).state, ContactState::done);
  EXPECT_EQ(scheduler_->status().outcomes_by_poll_last_hour, 1u);
  EXPECT_EQ(scheduler_->stats().outcomes_polled, 1u);
  store::SqlInbox inbox(*db_);
  auto rec = inbox.find_by_session(platform_.calls.at(0).session_id);
  ASSERT_TRUE(rec && *rec);
  EXPECT_TRUE((*rec)->applied_at.has_value());

  deliver(*platform_.calls.at(0).outcome);  // the late webhook
  run_for(1s);
  EXPECT_EQ(contact(id, phone(1)).attempts, 1);
  EXPECT_DOUBLE_EQ(view("poll").campaign.credits_used, 1.5);
  EXPECT_EQ(attempts_of(id).size(), 1U);
  EXPECT_EQ(scheduler_->status().outcomes_by_poll_last_hour, 1u);
  run_for(1h);
  EXPECT_EQ(scheduler_->status().outcomes_by_poll_last_hour, 0u);
}

// Several overdue calls are settled by one GET /calls page; only the ended ones get a session
// poll for their details; the one still running is left alone until its next deadline.
TEST_F(EngineTest, SeveralOverdueCallsShareOneListing) {
  const CallScript quiet{CallStatus::completed, Disposition::completed, 3min, 1.0, false};
  for (int i = 1; i <= 3; ++i) platform_.call_scripts[phone(i)] = {quiet};
  CallScript running;
  running.never_ends = true;
  platform_.call_scripts[phone(4)] = {running};
  options_.concurrency_poll_interval = 1h;  // as above: only reconcile_after makes them overdue
  start_scheduler();
  const auto id = create(spec("many"));
  for (int i = 1; i <= 4; ++i) add_contact(id, phone(i));
  start("many");
  run_for(10min + 1s);
  EXPECT_EQ(platform_.list_requests, 1);
  EXPECT_EQ(platform_.session_requests, 3);
  for (int i = 1; i <= 3; ++i) EXPECT_EQ(contact(id, phone(i)).state, ContactState::done);
  EXPECT_EQ(contact(id, phone(4)).state, ContactState::in_call);
}

// A concurrency reading that counts fewer active calls than we have started without outcome
// proves some of them over: they are listed at once (one GET /calls page), the ended ones
// fetched and applied long before reconcile_after, their slots refilled; the call still running
// is left to its own deadline.
TEST_F(EngineTest, ConcurrencyBelowOurCallsSettlesThemEarly) {
  const CallScript quiet{CallStatus::completed, Disposition::completed, 3min, 1.0, false};
  for (int i = 1; i <= 3; ++i) platform_.call_scripts[phone(i)] = {quiet};
  CallScript running;
  running.never_ends = true;
  platform_.call_scripts[phone(4)] = {running};
  platform_.concurrency_limit = 4;
  start_scheduler();  // concurrency polled every 60 s, reconcile_after 10 min
  auto s = spec("early");
  s.max_concurrency = 4;
  const auto id = create(s);
  for (int i = 1; i <= 5; ++i) add_contact(id, phone(i));
  start("early");
  run_for(2min + 30s);  // two readings while all four run: nothing to settle
  EXPECT_EQ(platform_.list_requests, 0);
  EXPECT_EQ(platform_.session_requests, 0);
  EXPECT_EQ(starts_to(platform_, phone(5)), 0);
  run_for(2min);  // the calls ended at 3 min; the 4-minute reading counts 1 active of our 4
  EXPECT_EQ(platform_.list_requests, 1);
  EXPECT_EQ(platform_.session_requests, 3);
  for (int i = 1; i <= 3; ++i) EXPECT_EQ(contact(id, phone(i)).state, ContactState::done);
  EXPECT_EQ(contact(id, phone(4)).state, ContactState::in_call);
  EXPECT_EQ(starts_to(platform_, phone(5)), 1) << "a freed slot is used again";
  EXPECT_EQ(scheduler_->stats().early_settles, 1U);
  run_for(5min);  // phone 4 is still running and counted: no more polls before its deadline
  EXPECT_EQ(platform_.session_requests, 3);
  run_for(1min + 1s);  // 10 min after its start: its own reconcile_after poll
  EXPECT_EQ(platform_.session_requests, 4);
  EXPECT_EQ(contact(id, phone(4)).state, ContactState::in_call);
}

// A webhook still on its way when the concurrency reading counted the call over is not taken
// as missing: the reading is checked again 2 s later, when it has arrived; no listing and no
// session poll are spent on it.
TEST_F(EngineTest, WebhookLateByLessThanTheGraceIsNotPolled) {
  std::vector<SessionOutcome> held;
  platform_.webhook = [&](const SessionOutcome& o) { held.push_back(o); };
  platform_.call_scripts[phone(1)] = {
      CallScript{CallStatus::completed, Disposition::completed, 50s, 1.0, true}};
  start_scheduler();  // concurrency read at start and every 60 s
  const auto id = create(spec("late"));
  add_contact(id, phone(1));
  start("late");
  run_for(61s);  // the call ended at ~50 s, its webhook held; read at 60 s: 0 active of our 1
  ASSERT_EQ(held.size(), 1U);
  deliver(held[0]);  // arrives within the grace
  run_for(9s);
  EXPECT_EQ(contact(id, phone(1)).state, ContactState::done);
  EXPECT_EQ(platform_.list_requests, 0);
  EXPECT_EQ(platform_.session_requests, 0);
  EXPECT_EQ(scheduler_->stats().early_settles, 0U);
}

// Nothing ever arrives and every poll fails: at stale_call_timeout the attempt is lost, the
// slot released, and the contact goes through the `lost` retry rule.
TEST_F(EngineTest, NoOutcomeEverIsLostAtTheTimeout) {
  CallScript running;
  running.never_ends = true;
  running.webhook = false;
  platform_.call_scripts[phone(1)] = {running, CallScript{}};
  for (int i = 0; i < 1000; ++i) {
    platform_.session_failures.push_back({PlatformError::Kind::failed, "HTTP 503", std::nullopt});
  }
  start_scheduler();
  auto s = spec("lost");
  s.retry[Outcome::lost] = RetryRule{5min, 2};
  const auto id = create(s);
  add_contact(id, phone(1));
  start("lost");
  run_for(74min);
  EXPECT_EQ(contact(id, phone(1)).state, ContactState::in_call);
  EXPECT_GE(platform_.session_requests, 6);  // every reconcile_after
  run_for(2min);
  auto rows = attempts_of(id);
  ASSERT_GE(rows.size(), 1U);
  EXPECT_EQ(rows[0].state, AttemptState::lost);
  EXPECT_EQ(rows[0].outcome, Outcome::lost);
  const auto c = contact(id, phone(1));
  EXPECT_EQ(c.state, ContactState::queued);
  EXPECT_EQ(c.last_outcome, Outcome::lost);
  EXPECT_EQ(c.attempts, 1);
  EXPECT_EQ(view("lost").in_flight, 0);
  platform_.session_failures.clear();
  run_for(10min);
  EXPECT_EQ(starts_to(platform_, phone(1)), 2);
  EXPECT_EQ(scheduler_->stats().lost, 1U);
}

// A credits 403 mid-run sends every running campaign to credit_exhausted at once without
// counting the refused attempt; when GET /config shows the balance back at the resume level
// they resume by themselves (auto_resume) and dialling goes on.
TEST_F(EngineTest, Credit403PausesAllAndAutoResumes) {
  platform_.credit_balance = 0.5;
  platform_.concurrency_limit = 4;
  platform_.default_call = CallScript{CallStatus::completed, Disposition::completed, 3min, 0.0};
  start_scheduler();
  auto a = spec("a");
  a.max_concurrency = 2;
  const auto ida = create(a);
  add_contacts(ida, 0, 20);
  auto b = spec("b");
  b.max_concurrency = 2;
  add_contacts(create(b), 100, 20);
  start("a");
  start("b");
  run_for(1min);
  ASSERT_EQ(platform_.starts.size(), 4U);
  platform_.start_scripts.push_back(
      {StartKind::rejected, StartReason::credits, "Insufficient credits", false, {}});
  run_for(3min);  // calls end, the next start is refused
  EXPECT_EQ(state("a"), CampaignState::credit_exhausted);
  EXPECT_EQ(state("b"), CampaignState::credit_exhausted);
  EXPECT_EQ(scheduler_->status().credits.state, CreditState::exhausted);
  const auto refused = platform_.starts.at(4).request.to_number;
  for (const auto& row : attempts_of(ida)) {
    if (row.state == AttemptState::rejected) {
      EXPECT_FALSE(row.counted);
    }
  }
  platform_.credit_balance = 0.5;  // known, but below the resume level: no probe, no start
  const std::size_t starts_when_exhausted = platform_.starts.size();
  run_for(10min);
  EXPECT_EQ(platform_.starts.size(), starts_when_exhausted);

  platform_.credit_balance = 50.0;
  run_for(61s);  // the next credit poll
  EXPECT_EQ(state("a"), CampaignState::running);
  EXPECT_EQ(state("b"), CampaignState::running);
  run_for(1min);
  EXPECT_GT(platform_.starts.size(), starts_when_exhausted);
  EXPECT_GE(starts_to(platform_, refused), 1);
}

// With no balance key in GET /config, only starts can tell whether credits are back: after
// credit_poll_interval one campaign is resumed as a probe; a credits 403 sends it back and the
// probe interval doubles (1, 2, 4, 8 min …); the first probe whose start is accepted resumes
// every exhausted campaign.
TEST_F(EngineTest, UnknownBalanceProbesWithBackoffAndResumesEveryCampaign) {
  platform_.credit_balance = std::nullopt;
  platform_.default_call = CallScript{CallStatus::completed, Disposition::completed, 1min, 0.0};
  start_scheduler();
  auto a = spec("a");
  a.max_concurrency = 1;
  add_contacts(create(a), 0, 20);
  auto b = spec("b");
  b.max_concurrency = 1;
  add_contacts(create(b), 100, 20);
  platform_.refuse_credits = true;
  start("a");
  start("b");
  run_for(5s);
  ASSERT_EQ(state("a"), CampaignState::credit_exhausted);
  ASSERT_EQ(state("b"), CampaignState::credit_exhausted);
  const auto first = platform_.starts.size();
  run_for(16min);  // probes after about 1, 3, 7 and 15 minutes
  const auto probes = platform_.starts.size() - first;
  EXPECT_GE(probes, 3U);
  EXPECT_LE(probes, 5U);
  EXPECT_EQ(state("a"), CampaignState::credit_exhausted);
  EXPECT_EQ(state("b"), CampaignState::credit_exhausted);

  platform_.refuse_credits = false;
  run_for(20min);  // the next probe is accepted: both resume
  EXPECT_EQ(state("a"), CampaignState::running);
  EXPECT_EQ(state("b"), CampaignState::running);
  EXPECT_EQ(scheduler_->status().credits.state, CreditState::ok);
}

// A manual resume of one exhausted campaign does not stop the others from resuming by
// themselves once the balance is back.
TEST_F(EngineTest, ManualResumeOfOneLeavesTheOthersToAutoResume) {
  platform_.credit_balance = 0.1;
  start_scheduler();
  add_contacts(create(spec("a")), 0, 3);
  add_contacts(create(spec("b")), 100, 3);
  start("a");
  start("b");
  run_for(1s);
  ASSERT_EQ(state("a"), CampaignState::credit_exhausted);
  ASSERT_EQ(state("b"), CampaignState::credit_exhausted);
  platform_.credit_balance = 0.5;  // at least the minimum: a manual resume is allowed
  run_for(61s);
  ASSERT_TRUE(scheduler_->resume("a"));
  EXPECT_EQ(state("b"), CampaignState::credit_exhausted);
  platform_.credit_balance = 50.0;
  run_for(61s);
  EXPECT_EQ(state("b"), CampaignState::running);
}

// A 401 stops dialling for the account; a GET /config probe with backoff (30 s doubling) lifts
// it by itself once it answers 200 — and account-unblock lifts it at once.
TEST_F(EngineTest, AccountBlockIsLiftedByAConfigProbe) {
  platform_.default_call = CallScript{CallStatus::completed, Disposition::completed, 1min, 0.0};
  options_.credit_poll_interval = 1h;  // only the probe reads GET /config here
  start_scheduler();
  const auto id = create(spec("acct"));
  add_contacts(id, 0, 30);
  const PlatformError unauthorized{PlatformError::Kind::failed, "HTTP 401: Invalid API key",
                                   std::nullopt};
  platform_.start_scripts.push_back(
      {StartKind::rejected, StartReason::auth, "Invalid API key", false, {}});
  platform_.config_failures = {unauthorized, unauthorized};
  start("acct");
  run_for(5s);
  ASSERT_EQ(scheduler_->status().account_block, AccountBlock::auth);
  const auto blocked_at = platform_.starts.size();
  run_for(60s);  // the first probe (30 s) is refused
  EXPECT_EQ(scheduler_->status().account_block, AccountBlock::auth);
  EXPECT_EQ(platform_.starts.size(), blocked_at);
  run_for(4min);  // 60 s later refused again, 120 s later answered: lifted
  EXPECT_EQ(scheduler_->status().account_block, AccountBlock::none);
  EXPECT_GT(platform_.starts.size(), blocked_at);

  // Blocked again, and GET /config refused too; the operator lifts it at once.
  platform_.start_scripts.push_back(
      {StartKind::rejected, StartReason::account, "Account suspended", false, {}});
  platform_.config_failures.assign(100, unauthorized);
  run_for(2min);
  ASSERT_EQ(scheduler_->status().account_block, AccountBlock::account);
  scheduler_->clear_account_block();
  EXPECT_EQ(scheduler_->status().account_block, AccountBlock::none);
}

// A network outage is not a burst of refusals: starts that could not be sent hold dispatch
// (`api_unreachable`) without pausing any campaign, and dialling resumes by itself when the API
// answers again.
TEST_F(EngineTest, NetworkOutageHoldsDispatchAndResumesByItself) {
  options_.error_burst_threshold = 3;
  platform_.default_call = CallScript{CallStatus::completed, Disposition::completed, 1min, 0.0};
  start_scheduler();
  const auto id = create(spec("net"));
  add_contacts(id, 0, 30);
  platform_.unreachable = true;
  start("net");
  run_for(5min);
  const auto v = view("net");
  EXPECT_EQ(v.campaign.state, CampaignState::running);
  EXPECT_EQ(v.campaign.pause_reason, PauseReason::none);
  EXPECT_EQ(v.blocked_by.reason, BlockReason::api_unreachable);
  EXPECT_LE(platform_.starts.size(), 12U) << "an outage is probed, not hammered";
  platform_.unreachable = false;
  run_for(3min);
  EXPECT_EQ(state("net"), CampaignState::running);
  EXPECT_GE(contact(id, phone(0)).attempts, 1);
  EXPECT_GT(view("net").contacts[ContactState::done], 0);
}

// A manual resume from credit_exhausted is refused while the known balance is below the
// minimum, allowed once it is at least the minimum; a campaign without auto_resume waits.
TEST_F(EngineTest, ManualResumeRefusedWhileBalanceIsLow) {
  platform_.credit_balance = 0.1;
  start_scheduler();
  add_contacts(create(spec("m")), 0, 3);
  auto manual = spec("manual");
  manual.auto_resume = false;
  add_contacts(create(manual), 100, 3);
  start("m");
  start("manual");
  run_for(1s);
  EXPECT_EQ(state("m"), CampaignState::credit_exhausted);
  EXPECT_EQ(state("manual"), CampaignState::credit_exhausted);
  EXPECT_TRUE(platform_.starts.empty());
  EXPECT_TRUE(is_conflict(scheduler_->resume("m")));

  platform_.credit_balance = 5.0;  // above the resume level
  run_for(61s);
  EXPECT_EQ(state("m"), CampaignState::running);
  EXPECT_EQ(state("manual"), CampaignState::credit_exhausted);
  ASSERT_TRUE(scheduler_->resume("manual"));
  EXPECT_EQ(state("manual"), CampaignState::running);
}

// Campaigns left credit_exhausted by a previous run still resume by themselves once the
// balance is back: the restarted engine knows the account is out of credits.
TEST_F(EngineTest, CreditExhaustedSurvivesRestartAndAutoResumes) {
  platform_.credit_balance = 0.1;
  platform_.default_call = CallScript{};
  start_scheduler();
  add_contacts(create(spec("ce")), 0, 2);
  start("ce");
  run_for(1s);
  ASSERT_EQ(state("ce"), CampaignState::credit_exhausted);
  scheduler_.reset();
  platform_.credit_balance = 5.0;  // topped up while the daemon was down
  crash_and_restart();             // its first GET /config already shows it
  run_for(1s);
  EXPECT_EQ(state("ce"), CampaignState::running);
  run_for(5min);
  EXPECT_EQ(state("ce"), CampaignState::completed);
}

// A contact that comes back to queued after its campaign was stopped (here: its ambiguous
// start proven absent) is skipped with reason stopped, not left queued for ever.
TEST_F(EngineTest, ContactsOfAStoppedCampaignDoNotComeBackQueued) {
  platform_.start_scripts.push_back(
      {StartKind::ambiguous, StartReason::network, "reset", false, {}});
  start_scheduler();
  const auto id = create(spec("st"));
  add_contact(id, phone(1));
  start("st");
  run_for(1s);
  ASSERT_TRUE(scheduler_->stop("st"));
  EXPECT_EQ(contact(id, phone(1)).state, ContactState::dialing);  // still being reconciled
  run_for(1min);
  const auto c = contact(id, phone(1));
  EXPECT_EQ(c.state, ContactState::skipped);
  EXPECT_EQ(c.reason, "stopped");
  EXPECT_EQ(attempts_of(id).at(0).state, AttemptState::void_);
}

// A campaign whose spend reaches budget_credits pauses (pause_reason budget); resuming is
// refused until the budget is raised.
TEST_F(EngineTest, BudgetPausesTheCampaign) {
  platform_.default_call = CallScript{CallStatus::completed, Disposition::completed, 1min, 1.0};
  start_scheduler();
  auto s = spec("budget");
  s.max_concurrency = 1;
  s.budget_credits = 2.5;
  add_contacts(create(s), 0, 10);
  start("budget");
  run_for(10min);
  auto v = view("budget");
  EXPECT_EQ(v.campaign.state, CampaignState::paused);
  EXPECT_EQ(v.campaign.pause_reason, PauseReason::budget);
  EXPECT_DOUBLE_EQ(v.campaign.credits_used, 3.0);
  EXPECT_EQ(platform_.calls.size(), 3U);
  EXPECT_TRUE(is_conflict(scheduler_->resume("budget")));
  s.budget_credits = 10;
  ASSERT_TRUE(scheduler_->update("budget", s));
  ASSERT_TRUE(scheduler_->resume("budget"));
  run_for(2min);
  EXPECT_GT(platform_.calls.size(), 3U);
}

// error_burst_threshold consecutive failed starts (not sent, ambiguous, server-side refusals)
// pause the campaign with pause_reason errors; a success in between resets the streak.
TEST_F(EngineTest, CircuitBreakerPausesAfterConsecutiveFailures) {
  options_.error_burst_threshold = 3;
  platform_.default_call = CallScript{};
  const StartScript server{StartKind::rejected, StartReason::server, "HTTP 500", false, {}};
  const StartScript ok{};
  const StartScript invalid{
      StartKind::rejected, StartReason::validation, "agent is not active", false, {}};
  platform_.start_scripts = {server, server, ok, server, invalid, server};
  start_scheduler();
  auto s = spec("cb");
  s.max_concurrency = 1;
  add_contacts(create(s), 0, 10);
  start("cb");
  run_for(10min);
  const auto v = view("cb");
  EXPECT_EQ(v.campaign.state, CampaignState::paused);
  EXPECT_EQ(v.campaign.pause_reason, PauseReason::errors);
  EXPECT_EQ(platform_.starts.size(), 6U);
  store::SqlAudit audit(*db_);
  bool noted = false;
  for (const auto& row : audit.recent(100).value()) {
    if (row.entry.detail_json.find("3 consecutive failed starts") != std::string::npos) {
      noted = true;
    }
  }
  EXPECT_TRUE(noted);
}

// Graceful shutdown stops claiming, waits for outstanding starts (settled and stored
// normally) and then reports done, before the deadline.
TEST_F(EngineTest, ShutdownWaitsForOutstandingStarts) {
  platform_.start_latency = 2s;
  start_scheduler();
  const auto id = create(spec("sd"));
  add_contacts(id, 0, 10);
  start("sd");
  run_for(100ms);
  ASSERT_EQ(platform_.starts.size(), 5U);
  bool done = false;
  TimePoint done_at{};
  scheduler_->shutdown(ex_.now() + 10s, [&] {
    done = true;
    done_at = ex_.now();
  });
  run_for(1s);
  EXPECT_FALSE(done);
  run_for(20s);
  ASSERT_TRUE(done);
  EXPECT_LT(done_at - EngineTest::default_start(), 3s);
  EXPECT_EQ(platform_.starts.size(), 5U);
  for (const auto& a : attempts_of(id)) EXPECT_EQ(a.state, AttemptState::started);
  EXPECT_EQ(view("sd").contacts.at(ContactState::queued), 5);
}

// A start still unanswered at the shutdown deadline is left reserved; the next start treats
// it as ambiguous and reconciles it (found: the call existed), never dialling twice.
TEST_F(EngineTest, ShutdownDeadlineLeavesReservedForRecovery) {
  platform_.start_latency = 30s;
  platform_.default_call = CallScript{};
  start_scheduler();
  const auto id = create(spec("late"));
  add_contact(id, phone(1));
  start("late");
  run_for(100ms);
  bool done = false;
  scheduler_->shutdown(ex_.now() + 10s, [&] { done = true; });
  run_for(9s);
  EXPECT_FALSE(done);
  run_for(2s);
  EXPECT_TRUE(done);
  EXPECT_EQ(attempts_of(id).at(0).state, AttemptState::reserved);
  run_for(1min);
  platform_.start_latency = 100ms;
  crash_and_restart();
  run_for(30min);
  EXPECT_EQ(contact(id, phone(1)).state, ContactState::done);
  EXPECT_EQ(platform_.calls_per_number[phone(1)], 1);
  EXPECT_EQ(starts_to(platform_, phone(1)), 1);
}

// Every contact and attempt transition the engine makes (in a run exercising every kind of
// start answer and outcome) is a row of its transition table, and is in the audit log.
TEST_F(EngineTest, EveryContactAndAttemptTransitionIsInItsTable) {
  options_.stale_call_timeout = 30min;
  options_.error_burst_threshold = 100;
  platform_.default_call = CallScript{};
  platform_.start_scripts_by_number[phone(1)] = {
      {StartKind::rejected, StartReason::bad_number, "to_number invalid", false, {}}};
  platform_.start_scripts_by_number[phone(2)] = {
      {StartKind::rejected, StartReason::rate, "Rate limit exceeded", false, {}}};
  platform_.start_scripts_by_number[phone(3)] = {
      {StartKind::ambiguous, StartReason::server, "500", true, {}}};
  platform_.start_scripts_by_number[phone(4)] = {
      {StartKind::ambiguous, StartReason::network, "reset", false, {}}};
  CallScript running;  // no webhook and no poll answers: lost at stale_call_timeout
  running.never_ends = true;
  running.webhook = false;
  platform_.call_scripts[phone(5)] = {running, CallScript{}};
  for (int i = 0; i < 1000; ++i) {
    platform_.session_failures.push_back({PlatformError::Kind::failed, "HTTP 503", std::nullopt});
  }
  platform_.call_scripts[phone(6)] = {
      CallScript{CallStatus::failed, Disposition::blocked, 1min, 0}};
  const CallScript busy{CallStatus::busy, Disposition::busy, 1min, 0};
  platform_.call_scripts[phone(7)] = {busy, busy};
  start_scheduler();
  auto s = spec("all");
  s.max_attempts = 2;
  s.retry[Outcome::busy] = RetryRule{1min, 1};
  const auto id = create(s);
  for (int i = 0; i <= 8; ++i) add_contact(id, phone(i));
  store::SqlDnc dnc(*db_);
  const std::array<std::string, 1> listed{phone(8)};
  ASSERT_TRUE(dnc.add(listed, "", "admin", ex_.now()));
  start("all");
  run_for(2h);
  auto stopper = spec("stopper");
  add_contacts(create(stopper), 100, 2);
  start("stopper");
  ASSERT_TRUE(scheduler_->stop("stopper"));

  std::set<std::string> contact_events;
  std::set<std::string> attempt_events;
  store::SqlAudit audit(*db_);
  for (const auto& row : audit.recent(100000).value()) {
    if (row.entry.action != "transition") continue;
    const auto& subj = row.entry.subject;
    auto j = boost::json::parse(row.entry.detail_json).as_object();
    if (!j.contains("from")) continue;
    const std::string from(j.at("from").as_string());
    const std::string event(j.at("event").as_string());
    const std::string to(j.at("to").as_string());
    if (subj.rfind("contact:", 0) == 0) {
      auto t = transition(from_string<ContactState>(from).value(),
                          from_string<ContactEvent>(event).value());
      ASSERT_TRUE(t) << t.error().what();
      EXPECT_EQ(to_string(*t), to);
      contact_events.insert(event);
    } else if (subj.rfind("attempt:", 0) == 0 && event != "reserve") {
      auto t = transition(from_string<AttemptState>(from).value(),
                          from_string<AttemptEvent>(event).value());
      ASSERT_TRUE(t) << t.error().what();
      EXPECT_EQ(to_string(*t), to);
      attempt_events.insert(event);
    }
  }
  EXPECT_EQ(contact_events,
            (std::set<std::string>{"claimed", "start_accepted", "start_refused",
                                   "start_refused_number", "ambiguous_start", "reconciled_found",
                                   "reconciled_void", "outcome_retry", "outcome_completed",
                                   "outcome_blocked", "outcome_exhausted", "dnc_added"}));
  EXPECT_EQ(attempt_events,
            (std::set<std::string>{"accepted", "refused", "ambiguous", "reconciled_found",
                                   "reconciled_absent", "outcome", "timed_out"}));
  EXPECT_EQ(view("stopper").contacts.at(ContactState::skipped), 2);
}

}  // namespace
}  // namespace dialer::scheduler::testing

namespace dialer::scheduler::testing {
namespace {

// A start refused for credits reads the balance again at once: status shows the real 0.2, not
// the 252.4 read before credits ran out, and says how old the reading is.
TEST_F(EngineTest, CreditRefusalReadsTheBalanceAgain) {
  platform_.credit_balance = 252.4;
  start_scheduler();
  const auto id = create(spec("credits"));
  add_contacts(id, 1, 3);
  run_for(30s);
  EXPECT_DOUBLE_EQ(*scheduler_->status().credits.balance, 252.4);
  EXPECT_EQ(scheduler_->status().credits.age, Millis{30s});
  const int reads = platform_.config_requests;
  platform_.credit_balance = 0.2;
  platform_.refuse_below = 1.0;
  start("credits");
  run_for(1s);
  EXPECT_EQ(platform_.config_requests, reads + 1) << "no fresh GET /config after the refusal";
  const auto s = scheduler_->status();
  ASSERT_TRUE(s.credits.balance);
  EXPECT_DOUBLE_EQ(*s.credits.balance, 0.2);
  EXPECT_LE(*s.credits.age, Millis{1s});
}

}  // namespace
}  // namespace dialer::scheduler::testing
