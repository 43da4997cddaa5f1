#include "scheduler/lifecycle.hpp"

#include "store/sql/sql_store.hpp"

#include <gtest/gtest.h>

#include <optional>

namespace dialer::scheduler {
namespace {

using namespace std::chrono_literals;

const TimePoint kT0 = from_unix_ms(1'767'225'600'000);
constexpr std::string_view kAgent = "0f8fad5b-d9cb-469f-a165-70867728950e";

class LifecycleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = store::SqlStore::open(":memory:");
    ASSERT_TRUE(db) << db.error().what();
    store_ = std::move(*db);
    auto& campaigns = store_->campaigns();
    CampaignSpec spec;
    spec.name = "a";
    spec.agent_id = std::string(kAgent);
    camp_a_ = campaigns.create(spec, kT0).value();
    spec.name = "b";
    camp_b_ = campaigns.create(spec, kT0).value();
    a_ = add(camp_a_, "+14155550001");
    b_ = add(camp_b_, "+14155550001");
  }
  std::int64_t add(std::int64_t campaign, const std::string& phone) {
    auto& contacts = store_->contacts();
    store::NewContact c;
    c.phone = phone;
    EXPECT_TRUE(contacts.insert(campaign, c, kT0).value());
    return contacts.find(campaign, phone).value()->id;
  }
  store::ContactRow contact(std::int64_t id) { return *store_->contacts().get(id).value(); }
  store::AttemptRow attempt(std::int64_t id) { return *store_->attempts().get(id).value(); }
  std::size_t audit_rows() { return store_->audit().recent(1000).value().size(); }

  std::unique_ptr<store::SqlStore> store_;
  std::int64_t camp_a_ = 0, camp_b_ = 0, a_ = 0, b_ = 0;
};

// A move the table has no row for is refused before anything is written or audited.
TEST_F(LifecycleTest, AMoveTheTableRefusesWritesNothing) {
  Lifecycle life(*store_);
  auto r = life.contact(a_, ContactState::queued, ContactEvent::start_accepted, {}, kT0);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, make_error_code(errc::invalid_transition));
  EXPECT_EQ(contact(a_).state, ContactState::queued);
  EXPECT_EQ(audit_rows(), 0u);
}

// A stale move (the row is no longer in `from`) writes nothing and is not audited; a move from
// the row's state writes the table's target with the change, and is audited once.
TEST_F(LifecycleTest, OneGuardedWriteToTheTablesTarget) {
  Lifecycle life(*store_, "uid:1000");
  EXPECT_FALSE(
      life.contact(a_, ContactState::dialing, ContactEvent::reconciled_void, {}, kT0).value());
  EXPECT_EQ(audit_rows(), 0u);
  ASSERT_TRUE(
      life.contact(a_, ContactState::queued, ContactEvent::dnc_added, {.reason = "dnc"}, kT0 + 1s)
          .value());
  const auto row = contact(a_);
  EXPECT_EQ(row.state, ContactState::skipped);
  EXPECT_EQ(row.reason, "dnc");
  EXPECT_EQ(row.updated_at, kT0 + 1s);
  auto audit = store_->audit().recent(10).value();
  ASSERT_EQ(audit.size(), 1u);
  EXPECT_EQ(audit[0].entry.actor, "uid:1000");
  EXPECT_EQ(audit[0].entry.subject, "contact:" + std::to_string(a_));
  EXPECT_EQ(audit[0].entry.detail_json, R"({"from":"queued","event":"dnc_added","to":"skipped"})");
}

// reserve claims a queued contact and enters a `reserved` attempt; the same number in another
// campaign waits (number_busy) while that attempt is open, and a claimed contact is not claimed
// again.
TEST_F(LifecycleTest, ReserveIsOneCallPerPerson) {
  Lifecycle life(*store_);
  auto first = life.reserve(camp_a_, contact(a_), Provider::twilio, kAgent, kT0).value();
  ASSERT_EQ(first.claim, store::Claim::claimed);
  EXPECT_EQ(contact(a_).state, ContactState::dialing);
  EXPECT_EQ(attempt(first.attempt_id).state, AttemptState::reserved);
  EXPECT_EQ(attempt(first.attempt_id).to_number, "+14155550001");
  auto busy = life.reserve(camp_b_, contact(b_), Provider::twilio, kAgent, kT0 + 1s).value();
  EXPECT_EQ(busy.claim, store::Claim::number_busy);
  EXPECT_EQ(busy.attempt_id, 0);
  EXPECT_EQ(contact(b_).state, ContactState::queued);
  auto again = life.reserve(camp_a_, contact(a_), Provider::twilio, kAgent, kT0 + 2s).value();
  EXPECT_EQ(again.claim, store::Claim::not_queued);
  // Accepted, then an outcome: the attempt leaves the open states and the number is free.
  ASSERT_TRUE(life.attempt(first.attempt_id, AttemptState::reserved, AttemptEvent::accepted,
                           {.call_id = "call-1", .session_id = "sess-1", .started_at = kT0}, kT0)
                  .value());
  store::FinishedCall done;
  done.outcome = Outcome::completed;
  done.ended_at = kT0 + 1min;
  ASSERT_TRUE(life.attempt(first.attempt_id, AttemptState::started, AttemptEvent::outcome,
                           store::AttemptChange::finished(done), kT0 + 1min)
                  .value());
  const auto finished = attempt(first.attempt_id);
  EXPECT_EQ(finished.state, AttemptState::finished);
  EXPECT_TRUE(finished.counted);
  EXPECT_EQ(finished.call_id, "call-1");
  EXPECT_EQ(finished.outcome, Outcome::completed);
  EXPECT_EQ(life.reserve(camp_b_, contact(b_), Provider::twilio, kAgent, kT0 + 2min)->claim,
            store::Claim::claimed);
}

// The store no longer decides on its own which states a setter may leave: a refusal of an
// ambiguous attempt, a void of a reserved one and a second outcome are all refused by the table.
TEST_F(LifecycleTest, MovesTheStoreOnceAcceptedAreRefused) {
  Lifecycle life(*store_);
  auto r = life.reserve(camp_a_, contact(a_), Provider::twilio, kAgent, kT0).value();
  EXPECT_EQ(
      life.attempt(r.attempt_id, AttemptState::reserved, AttemptEvent::reconciled_absent, {}, kT0)
          .error()
          .code,
      make_error_code(errc::invalid_transition));
  ASSERT_TRUE(life.attempt(r.attempt_id, AttemptState::reserved, AttemptEvent::ambiguous,
                           {.error_code = "timeout"}, kT0)
                  .value());
  EXPECT_EQ(life.attempt(r.attempt_id, AttemptState::ambiguous, AttemptEvent::refused, {}, kT0)
                .error()
                .code,
            make_error_code(errc::invalid_transition));
  EXPECT_EQ(attempt(r.attempt_id).state, AttemptState::ambiguous);
  EXPECT_EQ(attempt(r.attempt_id).error_code, "timeout");
}

// Bulk moves: a stopped campaign's queued contacts, and a number put on the DNC list wherever it
// is queued; one audit entry each, the dialing contact untouched.
TEST_F(LifecycleTest, BulkSkipsTouchQueuedContactsOnly) {
  Lifecycle life(*store_);
  const auto other = add(camp_a_, "+14155550002");
  ASSERT_EQ(life.reserve(camp_a_, contact(other), Provider::twilio, kAgent, kT0)->claim,
            store::Claim::claimed);
  EXPECT_EQ(life.skip_queued_number("+14155550001", "dnc", kT0).value(), 2);
  EXPECT_EQ(contact(a_).state, ContactState::skipped);
  EXPECT_EQ(contact(b_).reason, "dnc");
  const auto c = add(camp_a_, "+14155550003");
  EXPECT_EQ(life.skip_queued(camp_a_, "a", "stopped", kT0).value(), 1);
  EXPECT_EQ(contact(c).state, ContactState::skipped);
  EXPECT_EQ(contact(other).state, ContactState::dialing);
  EXPECT_EQ(contact(c).reason, "stopped");
}

// Startup's repair puts a contact left dialing without an attempt back in the queue, audited as
// a repair; it is refused for a state it does not apply to.
TEST_F(LifecycleTest, RepairIsTheOneMoveOutsideTheTable) {
  Lifecycle life(*store_);
  ASSERT_TRUE(life.reserve(camp_a_, contact(a_), Provider::twilio, kAgent, kT0));
  ASSERT_TRUE(life.repair(a_, ContactState::dialing, kT0 + 1s).value());
  EXPECT_EQ(contact(a_).state, ContactState::queued);
  EXPECT_EQ(store_->audit().recent(1).value()[0].entry.action, "repair");
  EXPECT_FALSE(life.repair(b_, ContactState::queued, kT0));
}

// A store fenced with an epoch the lease row no longer holds (another node took over) reserves
// nothing: no claim, no attempt, no audit — so no request can follow.
TEST_F(LifecycleTest, AFencedStoreReservesNothing) {
  store_->set_fence(5);  // the lease row is at epoch 0
  Lifecycle life(*store_);
  const auto audits = audit_rows();
  auto r = life.reserve(camp_a_, contact(a_), Provider::twilio, kAgent, kT0);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, make_error_code(errc::conflict));
  EXPECT_EQ(contact(a_).state, ContactState::queued);
  EXPECT_EQ(store_->attempts().count(camp_a_).value(), 0);
  EXPECT_EQ(audit_rows(), audits);
  store_->set_fence(0);  // this node's epoch after all: reserved
  EXPECT_EQ(life.reserve(camp_a_, contact(a_), Provider::twilio, kAgent, kT0).value().claim,
            store::Claim::claimed);
}

// Not only reservations: a node another one took over from writes no contact or attempt state
// at all — an outcome, a retry, a skip or a repair of a stale leader would race the new
// leader's recovery. Each move is refused (conflict) and leaves the store as it was.
TEST_F(LifecycleTest, AFencedStoreWritesNoStateAtAll) {
  Lifecycle life(*store_);
  auto reserved = life.reserve(camp_a_, contact(a_), Provider::twilio, kAgent, kT0);
  ASSERT_TRUE(reserved && reserved->claim == store::Claim::claimed);
  store_->set_fence(5);  // another node took over: the lease row is at epoch 0, not 5
  const auto audits = audit_rows();
  const auto refused = [](const auto& r) {
    return !r && r.error().code == make_error_code(errc::conflict);
  };
  EXPECT_TRUE(refused(
      life.contact(b_, ContactState::queued, ContactEvent::dnc_added, {.reason = "dnc"}, kT0)));
  EXPECT_TRUE(refused(
      life.attempt(reserved->attempt_id, AttemptState::reserved, AttemptEvent::refused, {}, kT0)));
  EXPECT_TRUE(refused(life.skip_queued(camp_a_, "a", "stopped", kT0)));
  EXPECT_TRUE(refused(life.skip_queued_number("+14155550001", "dnc", kT0)));
  EXPECT_TRUE(refused(life.repair(a_, ContactState::dialing, kT0)));
  EXPECT_EQ(contact(a_).state, ContactState::dialing);
  EXPECT_EQ(contact(b_).state, ContactState::queued);
  EXPECT_EQ(audit_rows(), audits);
}

}  // namespace
}  // namespace dialer::scheduler
