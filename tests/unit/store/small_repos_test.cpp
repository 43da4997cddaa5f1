#include "store/attempt_repo.hpp"
#include "store/sql/audit.hpp"
#include "store/sql/campaigns.hpp"
#include "store/sql/contacts.hpp"
#include "store/sql/kv.hpp"
#include "store/sqlite/export_repo.hpp"
#include "tests/unit/store/state_moves.hpp"
#include "tests/unit/store/store_fixture.hpp"

#include <gtest/gtest.h>

namespace dialer::store {
namespace {

using namespace std::chrono_literals;
using testing::sample_spec;
using testing::StoreTest;

const TimePoint kT0 = from_unix_ms(1'767'225'600'000);

class SmallReposTest : public StoreTest {};
DIALER_STORE_CONFORMANCE(SmallReposTest);

// Audit entries read back newest first with every field; pruning drops only older ones.
TEST_P(SmallReposTest, AuditAppendRecentPrune) {
  auto& audit = store().audit();
  AuditEntry a{kT0, "uid:1000", "campaign-start", "campaign:spring", R"({"from":"draft"})", "ok"};
  AuditEntry b{kT0 + 1h, "scheduler", "transition", "contact:42", "{}", ""};
  auto ida = audit.append(a);
  auto idb = audit.append(b);
  ASSERT_TRUE(ida && idb);
  auto recent = audit.recent(10);
  ASSERT_TRUE(recent);
  ASSERT_EQ(recent->size(), 2u);
  EXPECT_EQ((*recent)[0].id, *idb);
  EXPECT_EQ((*recent)[0].entry, b);
  EXPECT_EQ((*recent)[1].entry, a);
  EXPECT_EQ(audit.recent(1).value().size(), 1u);
  EXPECT_EQ(audit.prune_before(kT0 + 30min).value(), 1);
  EXPECT_EQ(audit.recent(10).value().front().entry, b);
}

// kv: absent keys read as nullopt, set inserts then replaces, erase reports presence.
TEST_P(SmallReposTest, KvGetSetErase) {
  auto& kv = store().kv();
  EXPECT_EQ(kv.get("credit_balance").value(), std::nullopt);
  ASSERT_TRUE(kv.set("credit_balance", "12.5"));
  EXPECT_EQ(kv.get("credit_balance").value(), "12.5");
  ASSERT_TRUE(kv.set("credit_balance", "3"));
  EXPECT_EQ(kv.get("credit_balance").value(), "3");
  EXPECT_TRUE(kv.erase("credit_balance").value());
  EXPECT_FALSE(kv.erase("credit_balance").value());
}

// Export rows carry each contact with its newest real call (not a later rejected attempt) and
// its total spend; contacts never called have no call.
TEST_P(SmallReposTest, ExportRowsJoinLastCall) {
  auto& campaigns = store().campaigns();
  auto& contacts = store().contacts();
  testing::StateMoves attempts{store()};
  auto camp = campaigns.create(sample_spec("spring"), kT0).value();
  for (const char* phone : {"+14155550001", "+14155550002"}) {
    NewContact c;
    c.phone = phone;
    ASSERT_TRUE(contacts.insert(camp, c, kT0).value());
  }
  auto called = contacts.find(camp, "+14155550001").value()->id;
  auto call = [&](const std::string& id, double credits) {
    auto a = attempts.insert_reserved(camp, called, Provider::twilio, "+14155550001", "agent", kT0)
                 .value();
    ASSERT_TRUE(attempts.mark_started(a, id, "s-" + id, kT0).value());
    FinishedCall f;
    f.outcome = Outcome::completed;
    f.credits_used = credits;
    f.ended_at = kT0;
    ASSERT_TRUE(attempts.finish(a, f).value());
  };
  call("first", 0.5);
  call("second", 0.25);
  auto rejected =
      attempts.insert_reserved(camp, called, Provider::twilio, "+14155550001", "agent", kT0);
  ASSERT_TRUE(attempts.mark_rejected(rejected.value(), "429", "", false, kT0).value());

  std::vector<ExportRow> rows;
  ExportRepo exporter{db()};
  ASSERT_TRUE(exporter.for_each(camp, [&](const ExportRow& r) {
    rows.push_back(r);
    return true;
  }));
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].contact.id, called);
  ASSERT_TRUE(rows[0].last_call.has_value());
  EXPECT_EQ(rows[0].last_call->call_id, "second");
  EXPECT_DOUBLE_EQ(rows[0].credits_used, 0.75);
  EXPECT_EQ(rows[1].contact.phone, "+14155550002");
  EXPECT_FALSE(rows[1].last_call.has_value());
  EXPECT_EQ(rows[1].credits_used, 0);
}

}  // namespace
}  // namespace dialer::store
