#include "store/sqlite/housekeeping.hpp"

#include "store/sql/audit.hpp"
#include "store/sql/inbox.hpp"
#include "tests/unit/store/store_fixture.hpp"

#include <gtest/gtest.h>

namespace dialer::store {
namespace {

using namespace std::chrono_literals;
using testing::StoreTest;

const TimePoint kNow = from_unix_ms(1'767'225'600'000);

class HousekeepingTest : public StoreTest {};
DIALER_STORE_CONFORMANCE(HousekeepingTest);

// Rounds delete at most `batch` rows per table, oldest first, and say when there is more: applied
// inbox rows past their retention and audit entries past theirs go; unapplied inbox rows (however
// old) and recent rows of both tables stay.
TEST_P(HousekeepingTest, PrunesInBoundedRoundsAndKeepsWhatMustStay) {
  auto& inbox = store().inbox();
  auto& audit = store().audit();
  for (int i = 0; i < 5; ++i) {
    const auto session = "old-" + std::to_string(i);
    ASSERT_TRUE(inbox.insert({session, "c", "{}", kNow - 10 * 24h + std::chrono::minutes(i)}));
    ASSERT_TRUE(inbox.mark_applied(inbox.find_by_session(session).value()->id, kNow - 10 * 24h));
  }
  ASSERT_TRUE(inbox.insert({"old-unapplied", "c", "{}", kNow - 30 * 24h}));
  ASSERT_TRUE(inbox.insert({"recent", "c", "{}", kNow - 1h}));
  ASSERT_TRUE(inbox.mark_applied(inbox.find_by_session("recent").value()->id, kNow - 1h));
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(
        audit.append({kNow - 100 * 24h + std::chrono::minutes(i), "system", "old", "", "{}", ""}));
  }
  ASSERT_TRUE(audit.append({kNow - 24h, "system", "recent", "", "{}", ""}));

  auto r = prune_round(db(), kNow, 7 * 24h, 90 * 24h, 2);
  ASSERT_TRUE(r) << r.error().what();
  EXPECT_EQ(r->inbox, 2);
  EXPECT_EQ(r->audit, 2);
  EXPECT_TRUE(r->more);
  // The oldest went first.
  EXPECT_FALSE(inbox.find_by_session("old-0").value().has_value());
  EXPECT_FALSE(inbox.find_by_session("old-1").value().has_value());
  EXPECT_TRUE(inbox.find_by_session("old-2").value().has_value());

  std::int64_t inbox_total = r->inbox, audit_total = r->audit;
  int rounds = 1;
  while (r->more && rounds < 10) {
    r = prune_round(db(), kNow, 7 * 24h, 90 * 24h, 2);
    ASSERT_TRUE(r) << r.error().what();
    inbox_total += r->inbox;
    audit_total += r->audit;
    ++rounds;
  }
  EXPECT_FALSE(r->more);
  EXPECT_EQ(rounds, 3);
  EXPECT_EQ(inbox_total, 5);
  EXPECT_EQ(audit_total, 3);
  EXPECT_TRUE(inbox.find_by_session("old-unapplied").value().has_value());
  EXPECT_TRUE(inbox.find_by_session("recent").value().has_value());
  const auto left = audit.recent(10).value();
  ASSERT_EQ(left.size(), 1U);
  EXPECT_EQ(left[0].entry.action, "recent");
}

}  // namespace
}  // namespace dialer::store
