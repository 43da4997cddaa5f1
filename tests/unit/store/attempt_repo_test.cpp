#include "store/sql/attempts.hpp"
#include "store/sql/campaigns.hpp"
#include "store/sql/contacts.hpp"
#include "tests/unit/store/state_moves.hpp"
#include "tests/unit/store/store_fixture.hpp"

#include <gtest/gtest.h>

namespace dialer::store {
namespace {

using namespace std::chrono_literals;
using testing::sample_spec;
using testing::StoreTest;

const TimePoint kT0 = from_unix_ms(1'767'225'600'000);
constexpr std::string_view kAgent = "0f8fad5b-d9cb-469f-a165-70867728950e";

class AttemptRepoTest : public StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    if (HasFatalFailure()) return;
    auto& campaigns = store().campaigns();
    camp_ = campaigns.create(sample_spec("a"), kT0).value();
    other_camp_ = campaigns.create(sample_spec("b"), kT0).value();
    auto& contacts = store().contacts();
    NewContact c;
    c.phone = "+14155550001";
    ASSERT_TRUE(contacts.insert(camp_, c, kT0).value());
    contact_ = contacts.find(camp_, c.phone).value()->id;
    ASSERT_TRUE(contacts.insert(other_camp_, c, kT0).value());
    other_contact_ = contacts.find(other_camp_, c.phone).value()->id;
    repo_ = &store().attempts();
    moves_.emplace(store());
  }
  AttemptRepo& repo() { return *repo_; }
  testing::StateMoves& moves() { return *moves_; }

  std::int64_t reserve(TimePoint at = kT0, std::int64_t campaign = 0, std::int64_t contact = 0) {
    auto id =
        moves().insert_reserved(campaign != 0 ? campaign : camp_, contact != 0 ? contact : contact_,
                                Provider::twilio, "+14155550001", kAgent, at);
    EXPECT_TRUE(id) << id.error().what();
    return id ? *id : 0;
  }
  AttemptRow row(std::int64_t id) {
    auto r = repo().get(id);
    EXPECT_TRUE(r && r->has_value());
    return (r && *r) ? **r : AttemptRow{};
  }
  FinishedCall outcome(Outcome o, TimePoint at) {
    FinishedCall c;
    c.status = CallStatus::completed;
    c.disposition = Disposition::no_answer;
    c.outcome = o;
    c.answered_by = AnsweredBy::not_answered;
    c.duration_seconds = 12.5;
    c.credits_used = 0.25;
    c.result_json = R"({"transcript":[]})";
    c.ended_at = at;
    return c;
  }

  std::int64_t camp_ = 0, other_camp_ = 0, contact_ = 0, other_contact_ = 0;
  AttemptRepo* repo_ = nullptr;
  std::optional<testing::StateMoves> moves_;
};
DIALER_STORE_CONFORMANCE(AttemptRepoTest);

// A reserved attempt holds exactly what it was reserved with and nothing else yet.
TEST_P(AttemptRepoTest, InsertReserved) {
  auto id = reserve();
  AttemptRow r = row(id);
  EXPECT_EQ(r.campaign_id, camp_);
  EXPECT_EQ(r.contact_id, contact_);
  EXPECT_EQ(r.state, AttemptState::reserved);
  EXPECT_FALSE(r.counted);
  EXPECT_EQ(r.provider, Provider::twilio);
  EXPECT_EQ(r.to_number, "+14155550001");
  EXPECT_EQ(r.agent_id, kAgent);
  EXPECT_EQ(r.reserved_at, kT0);
  EXPECT_EQ(r.call_id, std::nullopt);
  EXPECT_EQ(r.outcome, std::nullopt);
  EXPECT_EQ(r.result_json, std::nullopt);
}

// The happy path: reserved -> started -> finished, with every outcome field stored, and the
// call found again by either id.
TEST_P(AttemptRepoTest, StartAndFinish) {
  auto id = reserve();
  EXPECT_TRUE(repo().mark_sent(id, kT0 + 1ms).value());
  EXPECT_TRUE(moves().mark_started(id, "call-1", "sess-1", kT0 + 1s).value());
  EXPECT_TRUE(moves().finish(id, outcome(Outcome::no_answer, kT0 + 1min)).value());
  AttemptRow r = row(id);
  EXPECT_EQ(r.state, AttemptState::finished);
  EXPECT_TRUE(r.counted);
  EXPECT_EQ(r.sent_at, kT0 + 1ms);
  EXPECT_EQ(r.started_at, kT0 + 1s);
  EXPECT_EQ(r.ended_at, kT0 + 1min);
  EXPECT_EQ(r.status, CallStatus::completed);
  EXPECT_EQ(r.disposition, Disposition::no_answer);
  EXPECT_EQ(r.outcome, Outcome::no_answer);
  EXPECT_EQ(r.answered_by, AnsweredBy::not_answered);
  EXPECT_EQ(r.duration_seconds, 12.5);
  EXPECT_EQ(r.credits_used, 0.25);
  EXPECT_EQ(r.result_json, R"({"transcript":[]})");
  EXPECT_EQ(repo().find_by_call_id("call-1").value(), r);
  EXPECT_EQ(repo().find_by_session_id("sess-1").value(), r);
  EXPECT_FALSE(repo().find_by_call_id("call-2").value().has_value());
}

// A second outcome for the same attempt (webhook after poll) changes nothing.
TEST_P(AttemptRepoTest, FinishIsOnce) {
  auto id = reserve();
  ASSERT_TRUE(moves().mark_started(id, "call-1", "sess-1", kT0).value());
  ASSERT_TRUE(moves().finish(id, outcome(Outcome::no_answer, kT0 + 1min)).value());
  EXPECT_FALSE(moves().finish(id, outcome(Outcome::busy, kT0 + 2min)).value());
  EXPECT_EQ(row(id).outcome, Outcome::no_answer);
}

// Setters refuse the states they may not leave: no outcome before a call exists, no start of a
// finished attempt, no ambiguity after a start.
TEST_P(AttemptRepoTest, SettersAreCompareAndSet) {
  auto id = reserve();
  EXPECT_FALSE(moves().finish(id, outcome(Outcome::completed, kT0)).value());
  EXPECT_FALSE(moves().mark_lost(id, kT0).value());
  ASSERT_TRUE(moves().mark_started(id, "c", "s", kT0).value());
  EXPECT_FALSE(moves().mark_ambiguous(id, "timeout", "x").value());
  EXPECT_FALSE(moves().mark_void(id, kT0).value());
  EXPECT_FALSE(moves().mark_rejected(id, "400", "x", false, kT0).value());
  EXPECT_FALSE(moves().mark_started(id, "c2", "s2", kT0).value());
  EXPECT_FALSE(repo().mark_sent(id, kT0).value());
  EXPECT_EQ(row(id).state, AttemptState::started);
}

// Ambiguous attempts settle either way: found (started) or proven absent (void, not counted).
TEST_P(AttemptRepoTest, AmbiguousThenReconciled) {
  auto found = reserve();
  ASSERT_TRUE(moves().mark_ambiguous(found, "timeout", "no response in 15s").value());
  AttemptRow a = row(found);
  EXPECT_EQ(a.state, AttemptState::ambiguous);
  EXPECT_EQ(a.error_code, "timeout");
  EXPECT_EQ(a.error, "no response in 15s");
  EXPECT_TRUE(moves().mark_started(found, "call-9", "sess-9", kT0 + 5min).value());
  EXPECT_EQ(row(found).state, AttemptState::started);

  auto absent = reserve();
  ASSERT_TRUE(moves().mark_ambiguous(absent, "reset", "connection reset").value());
  ASSERT_TRUE(moves().mark_void(absent, kT0 + 5min).value());
  AttemptRow v = row(absent);
  EXPECT_EQ(v.state, AttemptState::void_);
  EXPECT_FALSE(v.counted);
  EXPECT_EQ(v.ended_at, kT0 + 5min);
}

// A rejection records the error and counts only when told it is about the number.
TEST_P(AttemptRepoTest, Rejected) {
  auto rate = reserve();
  auto number = reserve();
  ASSERT_TRUE(moves().mark_rejected(rate, "429", "rate limited", false, kT0).value());
  ASSERT_TRUE(moves().mark_rejected(number, "400", "invalid to_number", true, kT0).value());
  EXPECT_FALSE(row(rate).counted);
  EXPECT_TRUE(row(number).counted);
  EXPECT_EQ(row(number).state, AttemptState::rejected);
  EXPECT_EQ(row(number).error_code, "400");
}

// A stale call is lost (outcome lost, counted); a late outcome still records its data.
TEST_P(AttemptRepoTest, LostThenLateOutcome) {
  auto id = reserve();
  ASSERT_TRUE(moves().mark_started(id, "c", "s", kT0).value());
  ASSERT_TRUE(moves().mark_lost(id, kT0 + 75min).value());
  AttemptRow lost = row(id);
  EXPECT_EQ(lost.state, AttemptState::lost);
  EXPECT_EQ(lost.outcome, Outcome::lost);
  EXPECT_TRUE(lost.counted);
  EXPECT_TRUE(moves().finish(id, outcome(Outcome::completed, kT0 + 80min)).value());
  EXPECT_EQ(row(id).outcome, Outcome::completed);
}

// Two attempts can never share a call id.
TEST_P(AttemptRepoTest, CallIdIsUnique) {
  auto a = reserve();
  auto b = reserve();
  ASSERT_TRUE(moves().mark_started(a, "call-1", "sess-1", kT0).value());
  auto dup = moves().mark_started(b, "call-1", "sess-2", kT0);
  ASSERT_FALSE(dup);
  EXPECT_EQ(dup.error().code, make_error_code(errc::duplicate));
}

// Slot holders are reserved, ambiguous and started attempts, per campaign and in total.
TEST_P(AttemptRepoTest, OpenAttemptsAndInFlight) {
  auto reserved = reserve();
  auto ambiguous = reserve();
  auto started = reserve();
  auto finished = reserve();
  auto other = reserve(kT0, other_camp_, other_contact_);
  ASSERT_TRUE(moves().mark_ambiguous(ambiguous, "t", "").value());
  ASSERT_TRUE(moves().mark_started(started, "c1", "s1", kT0).value());
  ASSERT_TRUE(moves().mark_started(finished, "c2", "s2", kT0).value());
  ASSERT_TRUE(moves().finish(finished, outcome(Outcome::busy, kT0)).value());
  auto open = repo().open_attempts();
  ASSERT_TRUE(open);
  std::vector<std::int64_t> ids;
  for (const auto& a : *open) ids.push_back(a.id);
  EXPECT_EQ(ids, (std::vector<std::int64_t>{reserved, ambiguous, started, other}));
  EXPECT_EQ(repo().in_flight(camp_).value(), 3);
  EXPECT_EQ(repo().in_flight(other_camp_).value(), 1);
  EXPECT_EQ(repo().in_flight_total().value(), 4);
  EXPECT_EQ(repo().count(camp_).value(), 4);
  auto listed = repo().list(camp_, true, 10);
  ASSERT_TRUE(listed);
  ASSERT_EQ(listed->size(), 3u);
  EXPECT_EQ(listed->front().id, started);  // newest first
  auto everything = repo().list(std::nullopt, false, 2, 1);
  ASSERT_TRUE(everything);
  ASSERT_EQ(everything->size(), 2u);
  EXPECT_EQ((*everything)[0].id, finished);
}

// Per-contact budgets count only counted attempts by outcome; campaign counts cover all
// outcomes; the last attempt of a contact is its newest.
TEST_P(AttemptRepoTest, OutcomeCounts) {
  for (Outcome o : {Outcome::no_answer, Outcome::no_answer, Outcome::busy}) {
    auto id = reserve();
    ASSERT_TRUE(
        moves().mark_started(id, "c" + std::to_string(id), "s" + std::to_string(id), kT0).value());
    ASSERT_TRUE(moves().finish(id, outcome(o, kT0)).value());
  }
  auto rejected = reserve();
  ASSERT_TRUE(moves().mark_rejected(rejected, "429", "", false, kT0).value());
  auto by_contact = repo().count_by_outcome(contact_);
  ASSERT_TRUE(by_contact);
  EXPECT_EQ(*by_contact, (std::map<Outcome, int>{{Outcome::no_answer, 2}, {Outcome::busy, 1}}));
  auto by_campaign = repo().outcome_counts(camp_);
  ASSERT_TRUE(by_campaign);
  EXPECT_EQ(by_campaign->at(Outcome::no_answer), 2);
  EXPECT_EQ(by_campaign->size(), 2u);
  auto last = repo().last_for_contact(contact_);
  ASSERT_TRUE(last && last->has_value());
  EXPECT_EQ((*last)->id, rejected);
  EXPECT_FALSE(repo().last_for_contact(contact_ + 1000).value().has_value());
}

// The open-attempt query is served by the attempts_open partial index.
TEST_P(AttemptRepoTest, OpenAttemptsUseIndex) {
  DIALER_SQLITE_ONLY();
  auto sql = testing::traced_sql(db(), [&] { ASSERT_TRUE(repo().open_attempts()); });
  ASSERT_EQ(sql.size(), 1u);
  auto plan = testing::query_plan(db(), sql.front());
  EXPECT_NE(plan.find("attempts_open"), std::string::npos) << plan;
}

}  // namespace
}  // namespace dialer::store
