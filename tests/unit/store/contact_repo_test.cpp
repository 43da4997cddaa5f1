#include "store/attempt_repo.hpp"
#include "store/sql/campaigns.hpp"
#include "store/sql/contacts.hpp"
#include "tests/unit/store/state_moves.hpp"
#include "tests/unit/store/store_fixture.hpp"

#include <gtest/gtest.h>

namespace dialer::store {
namespace {

using namespace std::chrono_literals;
using testing::query_plan;
using testing::sample_spec;
using testing::StoreTest;
using testing::traced_sql;

const TimePoint kT0 = from_unix_ms(1'767'225'600'000);

class ContactRepoTest : public StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    if (HasFatalFailure()) return;
    auto& campaigns = store().campaigns();
    auto a = campaigns.create(sample_spec("a"), kT0);
    auto b = campaigns.create(sample_spec("b"), kT0);
    ASSERT_TRUE(a && b);
    camp_a_ = *a;
    camp_b_ = *b;
    repo_ = &store().contacts();
    moves_.emplace(store());
  }
  ContactRepo& repo() { return *repo_; }
  testing::StateMoves& moves() { return *moves_; }

  std::int64_t add(std::int64_t campaign, const std::string& phone) {
    NewContact c;
    c.phone = phone;
    EXPECT_TRUE(repo().insert(campaign, c, kT0));
    auto row = repo().find(campaign, phone);
    EXPECT_TRUE(row && row->has_value());
    return (row && *row) ? (*row)->id : 0;
  }

  ContactState state_of(std::int64_t id) {
    auto row = repo().get(id);
    EXPECT_TRUE(row && row->has_value());
    return (row && *row) ? (*row)->state : ContactState::queued;
  }

  std::int64_t camp_a_ = 0;
  std::int64_t camp_b_ = 0;
  ContactRepo* repo_ = nullptr;
  std::optional<testing::StateMoves> moves_;
};
DIALER_STORE_CONFORMANCE(ContactRepoTest);

// insert stores every field of the new contact; a fresh contact is due at once.
TEST_P(ContactRepoTest, InsertStoresAllFields) {
  NewContact c;
  c.phone = "+919876543210";
  c.number_type = NumberType::mobile;
  c.verified = false;
  c.region = "IN";
  c.name = "Asha";
  c.zones = "Asia/Kolkata";
  c.variables_json = R"({"plan":"gold"})";
  c.source_line = 17;
  auto added = repo().insert(camp_a_, c, kT0);
  ASSERT_TRUE(added) << added.error().what();
  EXPECT_TRUE(*added);
  auto row = repo().find(camp_a_, c.phone);
  ASSERT_TRUE(row && row->has_value());
  const ContactRow& r = **row;
  EXPECT_EQ(r.campaign_id, camp_a_);
  EXPECT_EQ(r.phone, c.phone);
  EXPECT_EQ(r.number_type, NumberType::mobile);
  EXPECT_FALSE(r.verified);
  EXPECT_EQ(r.region, "IN");
  EXPECT_EQ(r.name, "Asha");
  EXPECT_EQ(r.zones, "Asia/Kolkata");
  EXPECT_EQ(r.variables_json, c.variables_json);
  EXPECT_EQ(r.source_line, 17);
  EXPECT_EQ(r.state, ContactState::queued);
  EXPECT_EQ(r.attempts, 0);
  EXPECT_EQ(r.next_attempt_at, TimePoint{});
  EXPECT_EQ(r.last_outcome, std::nullopt);
  EXPECT_EQ(r.created_at, kT0);
  auto by_id = repo().get(r.id);
  ASSERT_TRUE(by_id && by_id->has_value());
  EXPECT_EQ(**by_id, r);
}

// The same phone twice in one campaign is a duplicate (false, nothing written); in another
// campaign it is a new contact.
TEST_P(ContactRepoTest, InsertReportsDuplicates) {
  NewContact c;
  c.phone = "+14155550100";
  c.name = "first";
  EXPECT_EQ(repo().insert(camp_a_, c, kT0).value(), true);
  c.name = "second";
  EXPECT_EQ(repo().insert(camp_a_, c, kT0).value(), false);
  EXPECT_EQ(repo().insert(camp_b_, c, kT0).value(), true);
  auto row = repo().find(camp_a_, c.phone);
  ASSERT_TRUE(row && row->has_value());
  EXPECT_EQ((*row)->name, "first");
}

// A DNC number is imported as skipped with its reason, and is never due.
TEST_P(ContactRepoTest, InsertSkippedContact) {
  NewContact c;
  c.phone = "+14155550101";
  c.state = ContactState::skipped;
  c.reason = "dnc";
  ASSERT_TRUE(repo().insert(camp_a_, c, kT0).value());
  auto row = repo().find(camp_a_, c.phone);
  ASSERT_TRUE(row && row->has_value());
  EXPECT_EQ((*row)->state, ContactState::skipped);
  EXPECT_EQ((*row)->reason, "dnc");
  EXPECT_TRUE(repo().next_due(camp_a_, kT0, 10).value().empty());
}

// A contact of a campaign that does not exist is refused, not reported as a duplicate.
TEST_P(ContactRepoTest, InsertIntoUnknownCampaignFails) {
  NewContact c;
  c.phone = "+14155550102";
  auto r = repo().insert(camp_b_ + 100, c, kT0);
  EXPECT_FALSE(r);
}

// Bulk insert runs exactly one cached statement per row and prepares nothing after the first.
TEST_P(ContactRepoTest, InsertIsOneCachedStatementPerRow) {
  DIALER_SQLITE_ONLY();
  auto tx = Transaction::begin(db());
  ASSERT_TRUE(tx);
  NewContact c;
  c.phone = "+14155551000";
  ASSERT_TRUE(repo().insert(camp_a_, c, kT0));
  auto prepared = db().prepare_count();
  auto sql = traced_sql(db(), [&] {
    for (int i = 1; i <= 500; ++i) {
      c.phone = "+1415555" + std::to_string(1000 + i);
      ASSERT_TRUE(repo().insert(camp_a_, c, kT0).value());
    }
  });
  ASSERT_TRUE(tx->commit());
  EXPECT_EQ(db().prepare_count(), prepared);
  ASSERT_EQ(sql.size(), 500u);
  for (const auto& s : sql) EXPECT_EQ(s, sql.front());
}

// next_due returns queued contacts due at `now`, earliest first, then in insert order, up to
// the limit; contacts not yet due, not queued or of another campaign are left out.
TEST_P(ContactRepoTest, NextDueOrderAndFilter) {
  auto c1 = add(camp_a_, "+14155550001");
  auto c2 = add(camp_a_, "+14155550002");
  auto c3 = add(camp_a_, "+14155550003");
  auto c4 = add(camp_a_, "+14155550004");
  add(camp_b_, "+14155550005");
  ASSERT_TRUE(repo().defer(c1, kT0 + 10min, kT0).value());    // later than now
  ASSERT_TRUE(repo().defer(c3, kT0 - 5min, kT0).value());     // due earliest
  ASSERT_EQ(moves().claim(c4, kT0).value(), Claim::claimed);  // not queued
  auto due = repo().next_due(camp_a_, kT0, 10);
  ASSERT_TRUE(due);
  ASSERT_EQ(due->size(), 2u);
  EXPECT_EQ((*due)[0].id, c2);  // epoch sorts before kT0 - 5min
  EXPECT_EQ((*due)[1].id, c3);
  auto one = repo().next_due(camp_a_, kT0, 1);
  ASSERT_TRUE(one);
  ASSERT_EQ(one->size(), 1u);
  EXPECT_EQ(one->front().id, c2);
  auto later = repo().next_due(camp_a_, kT0 + 10min, 10);
  ASSERT_TRUE(later);
  EXPECT_EQ(later->size(), 3u);
}

// next_due is one seek on the contacts_due partial index, with no sort step.
TEST_P(ContactRepoTest, NextDueUsesDueIndex) {
  DIALER_SQLITE_ONLY();
  add(camp_a_, "+14155550001");
  auto sql = traced_sql(db(), [&] { ASSERT_TRUE(repo().next_due(camp_a_, kT0, 5)); });
  ASSERT_EQ(sql.size(), 1u);
  std::string plan = query_plan(db(), sql.front());
  EXPECT_NE(plan.find("SEARCH contacts USING INDEX contacts_due (campaign_id=? AND "
                      "next_attempt_at<?)"),
            std::string::npos)
      << plan;
  EXPECT_EQ(plan.find("TEMP B-TREE"), std::string::npos) << plan;

  auto time_sql = traced_sql(db(), [&] { ASSERT_TRUE(repo().next_due_time(camp_a_)); });
  ASSERT_EQ(time_sql.size(), 1u);
  std::string time_plan = query_plan(db(), time_sql.front());
  EXPECT_NE(time_plan.find("USING INDEX contacts_due (campaign_id=?)"), std::string::npos)
      << time_plan;
  EXPECT_EQ(time_plan.find("TEMP B-TREE"), std::string::npos) << time_plan;
}

// next_due_time is the earliest due time among queued contacts, or nothing.
TEST_P(ContactRepoTest, NextDueTime) {
  EXPECT_EQ(repo().next_due_time(camp_a_).value(), std::nullopt);
  auto c1 = add(camp_a_, "+14155550001");
  auto c2 = add(camp_a_, "+14155550002");
  ASSERT_TRUE(repo().defer(c1, kT0 + 30min, kT0).value());
  ASSERT_TRUE(repo().defer(c2, kT0 + 20min, kT0).value());
  EXPECT_EQ(repo().next_due_time(camp_a_).value(), kT0 + 20min);
  ASSERT_EQ(moves().claim(c2, kT0).value(), Claim::claimed);
  EXPECT_EQ(repo().next_due_time(camp_a_).value(), kT0 + 30min);
}

// One call per person at a time: a number with an open attempt (reserved, started, ambiguous)
// in any campaign is not claimed elsewhere; the contact stays queued, and is claimed once that
// attempt has ended.
TEST_P(ContactRepoTest, ClaimRefusedWhileTheNumberHasAnOpenAttemptElsewhere) {
  auto a = add(camp_a_, "+14155550001");
  auto b = add(camp_b_, "+14155550001");
  ASSERT_EQ(moves().claim(a, kT0).value(), Claim::claimed);
  auto att = moves().insert_reserved(camp_a_, a, Provider::twilio, "+14155550001",
                                     "0f8fad5b-d9cb-469f-a165-70867728950e", kT0);
  ASSERT_TRUE(att);
  EXPECT_EQ(moves().claim(b, kT0 + 1s).value(), Claim::number_busy);
  ASSERT_TRUE(moves().mark_ambiguous(*att, "timeout", "timed out").value());
  EXPECT_EQ(moves().claim(b, kT0 + 2s).value(), Claim::number_busy);
  ASSERT_TRUE(moves().mark_started(*att, "call-1", "sess-1", kT0 + 3s).value());
  EXPECT_EQ(moves().claim(b, kT0 + 3s).value(), Claim::number_busy);
  EXPECT_EQ(repo().get(b).value()->state, ContactState::queued);
  FinishedCall fc;
  fc.outcome = Outcome::no_answer;
  fc.status = CallStatus::no_answer;
  fc.ended_at = kT0 + 4s;
  ASSERT_TRUE(moves().finish(*att, fc).value());
  EXPECT_EQ(moves().claim(b, kT0 + 5s).value(), Claim::claimed);
}

// A contact is claimed once: the second claim finds it no longer queued.
TEST_P(ContactRepoTest, ClaimOnlyOnce) {
  auto id = add(camp_a_, "+14155550001");
  EXPECT_EQ(moves().claim(id, kT0 + 1s).value(), Claim::claimed);
  EXPECT_EQ(moves().claim(id, kT0 + 2s).value(), Claim::not_queued);
  auto row = repo().get(id);
  ASSERT_TRUE(row && row->has_value());
  EXPECT_EQ((*row)->state, ContactState::dialing);
  EXPECT_EQ((*row)->updated_at, kT0 + 1s);
  EXPECT_FALSE(repo().defer(id, kT0, kT0).value());  // only queued contacts are deferred
}

// A state write happens only from the expected state and keeps the fields the change leaves
// unset; an unknown contact is not written.
TEST_P(ContactRepoTest, GuardedStateWrites) {
  auto id = add(camp_a_, "+14155550001");
  ASSERT_EQ(moves().claim(id, kT0).value(), Claim::claimed);
  const ContactChange in_call{};
  EXPECT_FALSE(
      moves().transition(id, ContactState::queued, ContactState::in_call, in_call, kT0).value());
  EXPECT_TRUE(
      moves().transition(id, ContactState::dialing, ContactState::in_call, in_call, kT0).value());
  const ContactChange retry{
      .attempts = 1, .next_attempt_at = kT0 + 30min, .last_outcome = Outcome::no_answer};
  ASSERT_TRUE(
      moves().transition(id, ContactState::in_call, ContactState::queued, retry, kT0 + 1s).value());
  auto row = repo().get(id);
  ASSERT_TRUE(row && row->has_value());
  EXPECT_EQ((*row)->state, ContactState::queued);
  EXPECT_EQ((*row)->attempts, 1);
  EXPECT_EQ((*row)->next_attempt_at, kT0 + 30min);
  EXPECT_EQ((*row)->last_outcome, Outcome::no_answer);

  const ContactChange done{.attempts = 2, .last_outcome = Outcome::completed};
  ASSERT_TRUE(
      moves().transition(id, ContactState::queued, ContactState::done, done, kT0 + 2s).value());
  EXPECT_EQ(state_of(id), ContactState::done);
  EXPECT_EQ(repo().get(id).value()->next_attempt_at, kT0 + 30min);  // unset: kept
  EXPECT_EQ(repo().get(id).value()->reason, "");
  auto missing = moves().transition(id + 999, ContactState::done, ContactState::done, done, kT0);
  ASSERT_TRUE(missing);
  EXPECT_FALSE(*missing);
  EXPECT_EQ(repo().state_of(id + 999).value(), std::nullopt);
}

// Due contacts are counted up to the cap, of the campaign asked only.
TEST_P(ContactRepoTest, CountDueStopsAtTheCap) {
  add(camp_a_, "+14155550001");
  add(camp_a_, "+14155550002");
  add(camp_a_, "+14155550003");
  add(camp_b_, "+14155550004");
  EXPECT_EQ(repo().count_due(camp_a_, kT0, 10).value(), 3);
  EXPECT_EQ(repo().count_due(camp_a_, kT0, 2).value(), 2);
  EXPECT_EQ(repo().count_due(camp_b_, kT0, 10).value(), 1);
}

// Stopping a campaign skips its queued contacts only, leaving others and other campaigns alone.
TEST_P(ContactRepoTest, SkipQueued) {
  auto q = add(camp_a_, "+14155550001");
  auto d = add(camp_a_, "+14155550002");
  auto other = add(camp_b_, "+14155550003");
  ASSERT_EQ(moves().claim(d, kT0).value(), Claim::claimed);
  EXPECT_EQ(moves().skip_queued(camp_a_, "campaign_stopped", kT0).value(), 1);
  EXPECT_EQ(state_of(q), ContactState::skipped);
  EXPECT_EQ(state_of(d), ContactState::dialing);
  EXPECT_EQ(state_of(other), ContactState::queued);
  EXPECT_EQ(repo().get(q).value()->reason, "campaign_stopped");
}

// A number put on DNC is skipped wherever it is queued, through the (campaign, phone) index.
TEST_P(ContactRepoTest, SkipQueuedByPhone) {
  auto a = add(camp_a_, "+14155550001");
  auto b = add(camp_b_, "+14155550001");
  auto keep = add(camp_a_, "+14155550002");
  ASSERT_EQ(moves().claim(b, kT0).value(), Claim::claimed);
  std::vector<std::string> sql;
  auto skip = [&] {
    EXPECT_EQ(moves().skip_queued_by_phone("+14155550001", "dnc", kT0).value(), 1);
  };
  if (is_sqlite()) {
    sql = traced_sql(db(), skip);
  } else {
    skip();
  }
  EXPECT_EQ(state_of(a), ContactState::skipped);
  EXPECT_EQ(state_of(b), ContactState::dialing);
  EXPECT_EQ(state_of(keep), ContactState::queued);
  DIALER_SQLITE_ONLY();
  ASSERT_EQ(sql.size(), 1u);
  std::string plan = query_plan(db(), sql.front());
  EXPECT_NE(plan.find("SEARCH contacts USING INDEX sqlite_autoindex_contacts_1 (campaign_id=? "
                      "AND phone=?)"),
            std::string::npos)
      << plan;
}

// Counts cover every state; exists_in_state and any_active follow the contacts' states.
TEST_P(ContactRepoTest, CountsAndExistence) {
  auto a = add(camp_a_, "+14155550001");
  add(camp_a_, "+14155550002");
  add(camp_b_, "+14155550003");
  ASSERT_EQ(moves().claim(a, kT0).value(), Claim::claimed);
  auto counts = repo().counts_by_state(camp_a_);
  ASSERT_TRUE(counts);
  EXPECT_EQ(counts->size(), all_values<ContactState>().size());
  EXPECT_EQ(counts->at(ContactState::queued), 1);
  EXPECT_EQ(counts->at(ContactState::dialing), 1);
  EXPECT_EQ(counts->at(ContactState::done), 0);
  EXPECT_TRUE(repo().exists_in_state(camp_a_, ContactState::dialing).value());
  EXPECT_FALSE(repo().exists_in_state(camp_a_, ContactState::done).value());
  EXPECT_TRUE(repo().any_active(camp_a_).value());
  ASSERT_TRUE(moves().skip_queued(camp_a_, "stop", kT0));
  ASSERT_TRUE(moves()
                  .transition(a, ContactState::dialing, ContactState::done,
                              {.attempts = 1, .last_outcome = Outcome::completed}, kT0)
                  .value());
  EXPECT_FALSE(repo().any_active(camp_a_).value());
}

// list pages in id order, optionally by state; for_each streams and can stop early.
TEST_P(ContactRepoTest, ListAndForEach) {
  std::vector<std::int64_t> ids;
  for (int i = 0; i < 5; ++i) ids.push_back(add(camp_a_, "+1415555000" + std::to_string(i)));
  ASSERT_EQ(moves().claim(ids[1], kT0).value(), Claim::claimed);
  ASSERT_EQ(moves().claim(ids[3], kT0).value(), Claim::claimed);
  auto page = repo().list(camp_a_, std::nullopt, 2, 1);
  ASSERT_TRUE(page);
  ASSERT_EQ(page->size(), 2u);
  EXPECT_EQ((*page)[0].id, ids[1]);
  EXPECT_EQ((*page)[1].id, ids[2]);
  auto dialing = repo().list(camp_a_, ContactState::dialing, 10);
  ASSERT_TRUE(dialing);
  ASSERT_EQ(dialing->size(), 2u);
  EXPECT_EQ((*dialing)[0].id, ids[1]);
  EXPECT_EQ((*dialing)[1].id, ids[3]);
  std::vector<std::int64_t> seen;
  ASSERT_TRUE(repo().for_each(camp_a_, [&](const ContactRow& r) {
    seen.push_back(r.id);
    return seen.size() < 3;
  }));
  EXPECT_EQ(seen, (std::vector<std::int64_t>{ids[0], ids[1], ids[2]}));
}

}  // namespace
}  // namespace dialer::store
