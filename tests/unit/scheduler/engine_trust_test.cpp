// Issue 11: never twice, never at night, never lost — in simulated time, against a fake that
// shares numbers between campaigns, forgets zones, lists foreign calls and answers slowly.

#include "engine_fixture.hpp"
#include "store/sql/contacts.hpp"
#include "store/sql/dnc.hpp"

#include <spdlog/sinks/ringbuffer_sink.h>

#include <algorithm>

namespace dialer::scheduler::testing {
namespace {

int starts_to(const FakePlatform& p, const std::string& number) {
  return static_cast<int>(std::count_if(p.starts.begin(), p.starts.end(), [&](const StartLog& s) {
    return s.request.to_number == number;
  }));
}

/// Every number the fake ever saw, with the most calls it had active at once.
int max_calls_at_once_to_one_number(const FakePlatform& p) {
  int m = 0;
  for (const auto& [number, n] : p.max_active_by_number) m = std::max(m, n);
  return m;
}

// Two running campaigns hold the same 10 numbers, account limit 8: nobody ever has two calls in
// progress at once — not while both dial, not across a crash and restart. The campaign whose
// numbers are busy elsewhere waits (nothing counted) and says why.
TEST_F(EngineTest, NoNumberIsCalledTwiceAtOnceAcrossCampaigns) {
  platform_.concurrency_limit = 8;
  platform_.credit_balance = 1e6;
  platform_.default_call =
      CallScript{CallStatus::no_answer, Disposition::no_answer, 3min, 0.0, true, false};
  start_scheduler();
  auto a = spec("a");
  a.max_concurrency = 8;
  a.retry[Outcome::no_answer] = RetryRule{1min, 3};
  auto b = spec("b");
  b.max_concurrency = 8;
  b.agent_id = std::string(kAgent2);
  b.retry[Outcome::no_answer] = RetryRule{1min, 3};
  const auto ida = create(a);
  const auto idb = create(b);
  add_contacts(ida, 0, 10);
  add_contacts(idb, 0, 10);
  start("a");
  start("b");
  run_for(30s);
  EXPECT_EQ(max_calls_at_once_to_one_number(platform_), 1);
  run_for(2min);
  crash_and_restart();  // reserved/started attempts are in the store only now
  run_for(4h);
  EXPECT_EQ(max_calls_at_once_to_one_number(platform_), 1);
  // Everyone got their calls in the end: 3 no-answers per campaign, none counted for waiting.
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(contact(ida, phone(i)).state, ContactState::exhausted) << i;
    EXPECT_EQ(contact(idb, phone(i)).state, ContactState::exhausted) << i;
    EXPECT_EQ(contact(ida, phone(i)).attempts, 3) << i;
    EXPECT_EQ(contact(idb, phone(i)).attempts, 3) << i;
  }
}

// The campaign whose due numbers are all in calls of another campaign says so, and dials them
// once those calls are over.
TEST_F(EngineTest, WaitingForANumberInCallElsewhereSaysSo) {
  platform_.default_call = CallScript{CallStatus::completed, Disposition::completed, 2min, 0.0};
  start_scheduler();
  const auto ida = create(spec("a"));
  const auto idb = create(spec("b"));
  add_contacts(ida, 1, 2);
  add_contacts(idb, 1, 2);
  start("a");
  run_for(1s);
  start("b");
  run_for(1s);
  EXPECT_EQ(platform_.starts.size(), 2U);
  const auto v = view("b");
  EXPECT_EQ(v.blocked_by.reason, BlockReason::number_in_call_elsewhere) << to_text(v.blocked_by);
  EXPECT_EQ(v.contacts.at(ContactState::queued), 2);
  run_for(10min);
  EXPECT_EQ(platform_.starts.size(), 4U);
  EXPECT_EQ(contact(idb, phone(1)).state, ContactState::done);
  EXPECT_EQ(contact(idb, phone(1)).attempts, 1);
  EXPECT_EQ(max_calls_at_once_to_one_number(platform_), 1);
}

// A number in a call someone else on the account started (listed, not ours) is not a reason to
// wait: only our own open attempts are. (Guards against over-reaching the rule above.)
TEST_F(EngineTest, ForeignCallsDoNotHoldOurContacts) {
  start_scheduler();
  platform_.add_foreign_call(phone(1), std::string(kAgent2));
  const auto id = create(spec("a"));
  add_contact(id, phone(1));
  start("a");
  run_for(1s);
  EXPECT_EQ(platform_.starts.size(), 1U);
}

// A campaign zone and a contact zone this machine's tzdata does not know (a legacy name dropped
// by an upgrade): nobody is called in them, blocked_by says unknown_timezone naming the zone.
TEST_F(EngineTest, UnknownZoneFailsClosed) {
  platform_.default_call = CallScript{CallStatus::completed, Disposition::completed, 1min, 0.0};
  start_scheduler();
  const auto known = create(spec("known"));
  add_contact(known, phone(1), "Atlantis/Poseidonia");
  add_contact(known, phone(2), "UTC");
  const auto legacy = create(spec("legacy"));
  add_contact(legacy, phone(3));
  // Stored before the upgrade: the name was valid then.
  ASSERT_TRUE(db_->execute("UPDATE campaigns SET timezone = 'US/Atlantis' WHERE id = ?", legacy));
  crash_and_restart();
  start("known");
  start("legacy");
  run_for(2h);
  ASSERT_EQ(platform_.starts.size(), 1U);
  EXPECT_EQ(platform_.starts[0].request.to_number, phone(2));
  const auto v = view("legacy");
  EXPECT_EQ(v.blocked_by.reason, BlockReason::unknown_timezone) << to_text(v.blocked_by);
  EXPECT_EQ(v.blocked_by.timezone, "US/Atlantis");
  EXPECT_NE(to_text(v.blocked_by).find("US/Atlantis"), std::string::npos);
  const auto k = view("known");
  EXPECT_EQ(k.blocked_by.reason, BlockReason::unknown_timezone) << to_text(k.blocked_by);
  EXPECT_EQ(k.blocked_by.timezone, "Atlantis/Poseidonia");
  EXPECT_EQ(contact(known, phone(1)).state, ContactState::queued);
  EXPECT_EQ(contact(known, phone(1)).attempts, 0);
}

// max: N = at most N attempts ending with that outcome: no_answer {max: 2} calls a number that
// never answers exactly twice; voicemail {max: 1} leaves one voicemail.
TEST_F(EngineTest, RetryMaxIsTheNumberOfAttemptsWithThatOutcome) {
  start_scheduler();
  auto s = spec("caps");
  s.max_attempts = 10;
  s.retry[Outcome::no_answer] = RetryRule{1s, 2};
  s.retry[Outcome::voicemail] = RetryRule{1s, 1};
  const auto id = create(s);
  add_contact(id, phone(1));
  add_contact(id, phone(2));
  const CallScript no_answer{CallStatus::no_answer, Disposition::no_answer, 30s, 0.0};
  const CallScript voicemail{CallStatus::completed, Disposition::voicemail, 30s, 0.0};
  platform_.call_scripts[phone(1)] = {no_answer, no_answer, no_answer, no_answer};
  platform_.call_scripts[phone(2)] = {voicemail, voicemail, voicemail};
  start("caps");
  run_for(1h);
  EXPECT_EQ(platform_.calls_per_number[phone(1)], 2);
  EXPECT_EQ(platform_.calls_per_number[phone(2)], 1);
  EXPECT_EQ(contact(id, phone(1)).state, ContactState::exhausted);
  EXPECT_EQ(contact(id, phone(1)).reason, "retry_limit");
  EXPECT_EQ(contact(id, phone(2)).state, ContactState::exhausted);
}

// The account limit drops from 5 to 1 mid-campaign at the documented 10 /calls/* a minute, with
// every token spent: the first concurrency 429 is itself the reading — no new start until a
// GET /calls/concurrency sent after it answers, and calls of ours ending meanwhile free no slot —
// so the drop costs one refusal, and from then on one call at a time. (Starts already sent
// together in one pass are refused together: no client can take those back.)
TEST_F(EngineTest, ConcurrencyLimitDropCostsAtMostOneRefusal) {
  platform_.set_rate_limits(10, 60);
  platform_.concurrency_limit = 5;
  platform_.credit_balance = 1e6;
  start_scheduler();
  auto c = spec("drop");
  c.max_concurrency = 5;
  const auto id = create(c);
  add_contacts(id, 0, 200);
  for (int i = 0; i < 200; ++i) {  // calls of 15–43 s: they end one by one
    platform_.call_scripts[phone(i)] = {CallScript{CallStatus::completed, Disposition::completed,
                                                   15s + Millis{(i * 7919) % 29 * 1000}, 0.0}};
  }
  start("drop");
  run_for(4min + 47s);  // rate-bound: every token spent, calls ending one by one
  ASSERT_GE(platform_.active_ours(), 3);
  ASSERT_EQ(platform_.concurrency_refusals, 0);

  platform_.concurrency_limit = 1;
  run_for(20min);
  EXPECT_LE(platform_.concurrency_refusals, 1);
  platform_.max_active_ours = 0;
  run_for(3h);
  EXPECT_LE(platform_.concurrency_refusals, 1);
  EXPECT_EQ(platform_.max_active_ours, 1);
  EXPECT_EQ(platform_.rate_violations, 0);
}

// A call that polls as still in progress at stale_call_timeout is not lost: it keeps its slot,
// its deadline moves on, and its person is not called a second time while it lasts.
TEST_F(EngineTest, ACallStillLiveAtTheStaleTimeoutIsNotLost) {
  platform_.call_scripts[phone(1)] = {
      CallScript{CallStatus::completed, Disposition::completed, 100min, 2.0}};
  start_scheduler();
  auto s = spec("long");
  s.retry[Outcome::lost] = RetryRule{5min, 2};
  const auto id = create(s);
  add_contact(id, phone(1));
  start("long");
  run_for(90min);  // past stale_call_timeout (75 min); every poll said in progress
  EXPECT_EQ(contact(id, phone(1)).state, ContactState::in_call);
  EXPECT_EQ(view("long").in_flight, 1);
  run_for(30min);  // the call ends at 100 min with its webhook
  EXPECT_EQ(platform_.calls_per_number[phone(1)], 1);
  EXPECT_EQ(max_calls_at_once_to_one_number(platform_), 1);
  EXPECT_EQ(contact(id, phone(1)).state, ContactState::done);
  EXPECT_EQ(scheduler_->stats().lost, 0U);
  const auto rows = attempts_of(id);
  ASSERT_EQ(rows.size(), 1U);
  EXPECT_EQ(rows[0].state, AttemptState::finished);
}

// Outcomes that arrive after the attempt was closed as lost are applied as if in time: a late
// `completed` makes the contact done and cancels its queued retry, a late `blocked` skips it and
// puts the number on the DNC list, a late `no_answer` replaces `lost` in the retry counts.
TEST_F(EngineTest, LateOutcomesAfterLostAreAppliedInFull) {
  CallScript silent;  // no webhook, every poll fails: lost at stale_call_timeout
  silent.never_ends = true;
  silent.webhook = false;
  for (int i = 1; i <= 3; ++i) platform_.call_scripts[phone(i)] = {silent};
  for (int i = 0; i < 1000; ++i) {
    platform_.session_failures.push_back({PlatformError::Kind::failed, "HTTP 503", std::nullopt});
  }
  platform_.default_call = CallScript{CallStatus::no_answer, Disposition::no_answer, 30s, 0.0};
  start_scheduler();
  auto s = spec("late");
  s.retry[Outcome::lost] = RetryRule{2h, 3};
  s.retry[Outcome::no_answer] = RetryRule{3h, 1};
  const auto id = create(s);
  for (int i = 1; i <= 3; ++i) add_contact(id, phone(i));
  start("late");
  run_for(80min);
  for (int i = 1; i <= 3; ++i) {
    ASSERT_EQ(contact(id, phone(i)).state, ContactState::queued) << i;
    ASSERT_EQ(contact(id, phone(i)).last_outcome, Outcome::lost) << i;
  }
  platform_.finish(platform_.call_to(phone(1))->call_id,
                   CallScript{CallStatus::completed, Disposition::completed, 60s, 1.5});
  platform_.finish(platform_.call_to(phone(2))->call_id,
                   CallScript{CallStatus::failed, Disposition::blocked, 0s, 0.0});
  platform_.finish(platform_.call_to(phone(3))->call_id,
                   CallScript{CallStatus::no_answer, Disposition::no_answer, 0s, 0.0});
  run_for(1min);

  EXPECT_EQ(contact(id, phone(1)).state, ContactState::done);
  EXPECT_EQ(contact(id, phone(2)).state, ContactState::skipped);
  store::SqlDnc dnc(*db_);
  auto listed = dnc.contains(phone(2));
  ASSERT_TRUE(listed);
  EXPECT_TRUE(*listed);
  // no_answer {max: 1}: the one no_answer (no longer counted as lost) exhausts the contact.
  EXPECT_EQ(contact(id, phone(3)).state, ContactState::exhausted);
  EXPECT_EQ(view("late").campaign.credits_used, 1.5);
  for (const auto& row : attempts_of(id)) {
    EXPECT_EQ(row.state, AttemptState::finished) << row.to_number;
    EXPECT_NE(row.outcome, Outcome::lost) << row.to_number;
  }

  run_for(6h);  // no retry was left queued
  for (int i = 1; i <= 3; ++i) EXPECT_EQ(platform_.calls_per_number[phone(i)], 1) << i;
}

// Ambiguous starts that no listing can settle (every GET /calls fails) are reported once older
// than stale_call_timeout — status, one log line each — and an operator settles them by hand:
// void queues the contact again uncounted, lost counts the attempt and applies the lost rule.
TEST_F(EngineTest, AmbiguousPastTheStaleTimeoutIsReportedAndResolvedByHand) {
  platform_.default_call = CallScript{CallStatus::completed, Disposition::completed, 1min, 0.0};
  for (int i = 1; i <= 2; ++i) {
    platform_.start_scripts_by_number[phone(i)] = {
        {StartKind::ambiguous, StartReason::network, "timeout", false, {}}};
  }
  const PlatformError server{PlatformError::Kind::failed, "HTTP 500", std::nullopt};
  for (int i = 0; i < 10'000; ++i) platform_.list_failures.push_back(server);
  start_scheduler();
  auto s = spec("stuck");
  s.retry[Outcome::lost] = RetryRule{1min, 2};
  const auto id = create(s);
  add_contact(id, phone(1));
  add_contact(id, phone(2));
  start("stuck");
  run_for(60min);
  EXPECT_EQ(scheduler_->status().ambiguous, 2);
  EXPECT_EQ(scheduler_->status().ambiguous_overdue, 0);
  run_for(20min);  // past stale_call_timeout (75 min)
  const auto st = scheduler_->status();
  EXPECT_EQ(st.ambiguous_overdue, 2);
  ASSERT_EQ(st.overdue.size(), 2U);
  EXPECT_EQ(st.overdue[0].campaign, "stuck");

  std::int64_t void_id = 0, lost_id = 0;
  for (const auto& row : attempts_of(id)) {
    (row.to_number == phone(1) ? void_id : lost_id) = row.id;
  }
  ASSERT_TRUE(scheduler_->resolve_attempt(void_id, Resolution::void_, "uid:0"));
  ASSERT_TRUE(scheduler_->resolve_attempt(lost_id, Resolution::lost, "uid:0"));
  auto again = scheduler_->resolve_attempt(void_id, Resolution::lost, "uid:0");
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, make_error_code(errc::conflict));
  auto missing = scheduler_->resolve_attempt(987654, Resolution::void_, "uid:0");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, make_error_code(errc::not_found));

  EXPECT_EQ(contact(id, phone(1)).state, ContactState::queued);
  EXPECT_EQ(contact(id, phone(1)).attempts, 0);
  EXPECT_EQ(contact(id, phone(2)).state, ContactState::queued);
  EXPECT_EQ(contact(id, phone(2)).attempts, 1);
  EXPECT_EQ(contact(id, phone(2)).last_outcome, Outcome::lost);
  EXPECT_EQ(scheduler_->status().ambiguous, 0);
  EXPECT_EQ(scheduler_->status().ambiguous_overdue, 0);

  platform_.list_failures.clear();
  run_for(30min);  // both dialled again, completed
  EXPECT_EQ(contact(id, phone(1)).state, ContactState::done);
  EXPECT_EQ(contact(id, phone(2)).state, ContactState::done);
  EXPECT_EQ(contact(id, phone(2)).attempts, 2);
}

// Another connection holds the store's write lock (a long import, say): the first claim that
// fails ends the dispatch pass — the pass does not try contact after contact, each waiting out
// busy_timeout — and dialling goes on by itself once the lock is gone.
TEST_F(EngineTest, DispatchPassEndsOnTheFirstStoreError) {
  busy_timeout_ = Millis{20};
  open_db();
  platform_.concurrency_limit = 0;  // nothing is dialled until the lock is taken
  platform_.default_call = CallScript{CallStatus::completed, Disposition::completed, 1min, 0.0};
  options_.concurrency_poll_interval = 5s;
  start_scheduler();
  auto s = spec("locked");
  s.max_concurrency = 50;
  const auto id = create(s);
  add_contacts(id, 0, 100);
  start("locked");
  run_for(1s);

  auto other = store::Database::open(path_);
  ASSERT_TRUE(other);
  auto lock = store::Transaction::begin(*other);
  ASSERT_TRUE(lock);
  // A write makes the lock an exclusive one even if BEGIN was deferred.
  ASSERT_TRUE(other->execute("UPDATE campaigns SET updated_at = updated_at"));
  platform_.concurrency_limit = 50;
  // Count the "database is locked" errors the engine logs.
  auto sink = std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(1000);
  spdlog::default_logger()->sinks().push_back(sink);
  run_for(6s);  // the concurrency poll opens 50 slots: one pass, one failed claim
  spdlog::default_logger()->sinks().pop_back();
  const auto lines = sink->last_formatted();
  const auto locked = std::count_if(lines.begin(), lines.end(), [](const std::string& l) {
    return l.find("database is locked") != std::string::npos;
  });
  EXPECT_TRUE(platform_.starts.empty());
  EXPECT_GE(locked, 1);
  EXPECT_LE(locked, 3) << "a failed claim must end the pass, not try the next contact";
  EXPECT_EQ(contact(id, phone(0)).state, ContactState::queued);

  ASSERT_TRUE(lock->commit());
  run_for(3s);
  EXPECT_EQ(platform_.starts.size(), 50U);
}

// More than a page (256) of webhooks for calls not (yet) known are parked while a start is
// unanswered: an outcome of ours stored after them is still applied at once, not left behind
// the parked rows until the next poll.
TEST_F(EngineTest, OutcomesBehindAPageOfParkedWebhooksAreApplied) {
  CallScript running;
  running.never_ends = true;
  platform_.call_scripts[phone(1)] = {running};
  platform_.start_scripts_by_number[phone(2)] = {
      {StartKind::started, StartReason::none, "", true, Millis{10min}}};
  start_scheduler();
  auto s = spec("parked");
  s.max_concurrency = 2;
  const auto id = create(s);
  add_contact(id, phone(1));
  add_contact(id, phone(2));
  start("parked");
  run_for(1s);
  ASSERT_EQ(contact(id, phone(1)).state, ContactState::in_call);
  for (int i = 0; i < 300; ++i) {  // foreign sessions: parked while phone(2)'s start is out
    SessionOutcome o;
    o.session_id = "foreign-session-" + std::to_string(i);
    o.call_id = "foreign-call-" + std::to_string(i);
    o.to_number = "+14155550" + std::to_string(100 + i);
    o.status = CallStatus::completed;
    o.disposition = Disposition::completed;
    deliver(o);
  }
  run_for(1s);
  platform_.finish(platform_.call_to(phone(1))->call_id,
                   CallScript{CallStatus::completed, Disposition::completed, 30s, 0.0});
  run_for(2s);
  EXPECT_EQ(contact(id, phone(1)).state, ContactState::done);
  EXPECT_EQ(platform_.session_requests, 0) << "applied from its webhook, not found by a poll";
}

// A start answer without session_id, and no webhook: the poll asks GET /calls/{id} for the
// session, then polls the session, and the outcome is found — not lost at stale_call_timeout.
TEST_F(EngineTest, AStartAnswerWithoutSessionIdIsPolledThroughTheCall) {
  platform_.start_without_session_id = true;
  CallScript silent{CallStatus::completed, Disposition::completed, 2min, 1.0};
  silent.webhook = false;
  platform_.call_scripts[phone(1)] = {silent};
  start_scheduler();
  const auto id = create(spec("nosession"));
  add_contact(id, phone(1));
  start("nosession");
  run_for(15min);  // reconcile_after is 10 min
  EXPECT_GE(platform_.call_requests, 1);
  EXPECT_EQ(contact(id, phone(1)).state, ContactState::done);
  const auto rows = attempts_of(id);
  ASSERT_EQ(rows.size(), 1U);
  EXPECT_EQ(rows[0].state, AttemptState::finished);
  EXPECT_EQ(rows[0].session_id, platform_.call_to(phone(1))->session_id);
}

// A refusal the store cannot record (here a trigger makes the write fail) is not half-applied:
// the contact is not queued again while its attempt stays reserved — nothing is committed, the
// person is not dialled a second time, and recovery settles the attempt as ambiguous.
TEST_F(EngineTest, ARefusalTheStoreCannotRecordIsNotHalfApplied) {
  platform_.default_call = CallScript{CallStatus::completed, Disposition::completed, 1min, 0.0};
  platform_.start_scripts_by_number[phone(1)] = {
      {StartKind::rejected, StartReason::validation, "agent is not active", false, {}}};
  start_scheduler();
  ASSERT_TRUE(
      db_->exec("CREATE TRIGGER refuse_rejected BEFORE UPDATE OF state ON attempts "
                "WHEN NEW.state = 'rejected' BEGIN SELECT RAISE(ABORT, 'injected'); END"));
  const auto id = create(spec("half"));
  add_contact(id, phone(1));
  start("half");
  run_for(5min);
  EXPECT_EQ(starts_to(platform_, phone(1)), 1);
  EXPECT_EQ(contact(id, phone(1)).state, ContactState::dialing);
  const auto rows = attempts_of(id);
  ASSERT_EQ(rows.size(), 1U);
  EXPECT_EQ(rows[0].state, AttemptState::reserved);
}

}  // namespace
}  // namespace dialer::scheduler::testing

namespace dialer::scheduler::testing {
namespace {

class ListingTest : public EngineTest {
 protected:
  /// `n` finished calls of someone else on the account, one every 200 ms.
  void fill(int n) {
    for (int i = 0; i < n; ++i) {
      platform_.add_foreign_call(phone(5000 + i), std::string(kAgent2), CallStatus::completed);
      run_for(200ms);
    }
  }
};

// A listing that started before an attempt went ambiguous cannot prove it absent: page 0 is read
// for one ambiguous start, the next page is delayed (failures) while a second start goes
// ambiguous — its call already exists, newer than page 0. The old pages must not void it.
TEST_F(ListingTest, ALaterPageNeverProvesAbsentAStartNewerThanTheListing) {
  platform_.default_call = CallScript{CallStatus::completed, Disposition::completed, 5min, 0.0};
  start_scheduler();
  fill(150);  // more than one page, all within clock_skew before the starts
  const auto id = create(spec("pages"));
  add_contact(id, phone(1));
  add_contact(id, phone(2));
  store::SqlContacts repo(*db_);
  ASSERT_TRUE(repo.defer(contact(id, phone(2)).id, ex_.now() + 11s, ex_.now()));
  // phone(1): no call; phone(2): the server creates the call and answers 502.
  platform_.start_scripts_by_number[phone(1)] = {
      {StartKind::ambiguous, StartReason::network, "connection reset", false, {}}};
  platform_.start_scripts_by_number[phone(2)] = {
      {StartKind::ambiguous, StartReason::server, "HTTP 502", true, {}}};
  const PlatformError server{PlatformError::Kind::failed, "HTTP 500", std::nullopt};
  // Page 0 (request 1) is read at once; the next page fails three times (2 + 4 + 8 s backoff).
  for (int i = 2; i <= 4; ++i) platform_.list_failures_at.emplace(i, server);
  start("pages");
  run_for(30min);
  EXPECT_EQ(platform_.calls_per_number[phone(2)], 1) << "the existing call was voided";
  EXPECT_EQ(starts_to(platform_, phone(2)), 1);
  EXPECT_EQ(contact(id, phone(2)).attempts, 1);
  EXPECT_EQ(contact(id, phone(2)).state, ContactState::done);
}

// Short pages (fewer records than asked for, before the end) and pages without `total` prove
// nothing: the ambiguous contact stays claimed and is never dialled again.
TEST_F(ListingTest, ShortPagesOrNoTotalNeverProveAbsence) {
  for (const bool no_total : {false, true}) {
    SCOPED_TRACE(no_total ? "no total" : "short pages");
    platform_.list_without_total = no_total;
    platform_.list_page_cap = no_total ? std::nullopt : std::optional<int>{20};
    platform_.default_call = CallScript{CallStatus::completed, Disposition::completed, 5min, 0.0};
    if (!scheduler_) start_scheduler();
    fill(60);
    const std::string name = no_total ? "nototal" : "short";
    const auto id = create(spec(name));
    add_contact(id, phone(no_total ? 2 : 1));
    platform_.start_scripts_by_number[phone(no_total ? 2 : 1)] = {
        {StartKind::ambiguous, StartReason::network, "connection reset", false, {}}};
    start(name);
    run_for(20min);
    EXPECT_EQ(starts_to(platform_, phone(no_total ? 2 : 1)), 1);
    EXPECT_EQ(contact(id, phone(no_total ? 2 : 1)).state, ContactState::dialing);
    EXPECT_EQ(attempts_of(id).at(0).state, AttemptState::ambiguous);
  }
}

// A short page now and then (a fault of the moment) is asked again at the same offset instead of
// costing the whole listing: the absent start is proven absent by the same listing, with one
// request more than its pages.
TEST_F(ListingTest, AShortPageIsAskedAgainNotTheWholeListing) {
  platform_.default_call = CallScript{CallStatus::completed, Disposition::completed, 5min, 0.0};
  start_scheduler();
  fill(250);  // three pages, all within clock_skew before the start
  const auto id = create(spec("again"));
  add_contact(id, phone(1));
  platform_.start_scripts_by_number[phone(1)] = {
      {StartKind::ambiguous, StartReason::network, "connection reset", false, {}}};
  platform_.list_short_at = {2};  // the second page comes back half empty, once
  start("again");
  run_for(1min);
  EXPECT_EQ(attempts_of(id).at(0).state, AttemptState::void_);
  EXPECT_EQ(platform_.list_offsets, (std::vector<int>{0, 100, 100, 200}));
}

// A slow server: it answers 502 at once but creates the call 13 s after the POST. Absence is
// judged from when the request was sent plus request_timeout plus the grace, so the listing
// finds the call instead of voiding it.
TEST_F(EngineTest, CallCreatedLateByASlowServerIsFoundNotVoided) {
  options_.request_timeout = 15s;
  platform_.default_call = CallScript{CallStatus::completed, Disposition::completed, 2min, 0.0};
  start_scheduler();
  const auto id = create(spec("slow"));
  add_contact(id, phone(1));
  platform_.start_scripts_by_number[phone(1)] = {
      {StartKind::ambiguous, StartReason::server, "HTTP 502", true, 1s}};
  platform_.create_after_by_number[phone(1)] = 13s;
  start("slow");
  run_for(30min);
  EXPECT_EQ(platform_.calls_per_number[phone(1)], 1);
  EXPECT_EQ(starts_to(platform_, phone(1)), 1);
  EXPECT_EQ(contact(id, phone(1)).state, ContactState::done);
}

// The same after a crash: the request went out, dialerd died before any answer, the server
// created the call 13 s later. A reserved attempt found at startup waits out the longest the
// request could have waited plus request_timeout plus the grace before a listing may void it.
TEST_F(EngineTest, ReservedAtCrashIsNotVoidedBeforeTheLongestSendWait) {
  options_.request_timeout = 15s;
  options_.start_wait_limit = 60s;
  platform_.default_call = CallScript{CallStatus::completed, Disposition::completed, 2min, 0.0};
  start_scheduler();
  const auto id = create(spec("crash"));
  add_contact(id, phone(1));
  platform_.start_scripts_by_number[phone(1)] = {
      {StartKind::ambiguous, StartReason::network, "timeout", true, 15s}};
  platform_.create_after_by_number[phone(1)] = 13s;
  start("crash");
  run_for(2s);
  crash_and_restart();
  run_for(30min);
  EXPECT_EQ(platform_.calls_per_number[phone(1)], 1);
  EXPECT_EQ(starts_to(platform_, phone(1)), 1);
  EXPECT_EQ(contact(id, phone(1)).state, ContactState::done);
}

}  // namespace
}  // namespace dialer::scheduler::testing
