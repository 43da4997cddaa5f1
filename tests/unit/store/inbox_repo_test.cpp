#include "store/sql/inbox.hpp"
#include "tests/unit/store/store_fixture.hpp"

#include <gtest/gtest.h>

namespace dialer::store {
namespace {

using namespace std::chrono_literals;
using testing::StoreTest;

const TimePoint kT0 = from_unix_ms(1'767'225'600'000);

InboxEvent event(const std::string& session, TimePoint at, std::string call = "call-1") {
  return InboxEvent{session, std::move(call),
                    R"({"event":"session.completed","s":")" + session + "\"}", at};
}

class InboxRepoTest : public StoreTest {
 protected:
  InboxRepo& repo() { return store().inbox(); }
};
DIALER_STORE_CONFORMANCE(InboxRepoTest);

// A batch reports per event whether it was new: duplicates of stored events and duplicates
// inside the batch are both false, and stored only once.
TEST_P(InboxRepoTest, InsertBatchFlagsDuplicates) {
  ASSERT_TRUE(repo().insert(event("s1", kT0)).value());
  std::vector<InboxEvent> batch{event("s2", kT0 + 1s), event("s1", kT0 + 2s), event("s3", kT0 + 3s),
                                event("s2", kT0 + 4s)};
  auto stored = repo().insert_batch(batch);
  ASSERT_TRUE(stored) << stored.error().what();
  EXPECT_EQ(*stored, (std::vector<bool>{true, false, true, false}));
  EXPECT_EQ(repo().count_unapplied().value(), 3);
  auto s1 = repo().find_by_session("s1");
  ASSERT_TRUE(s1 && s1->has_value());
  EXPECT_EQ((*s1)->event.received_at, kT0);  // the first copy is kept
  EXPECT_TRUE(repo().insert_batch({}).value().empty());
}

// The batch is one transaction: it commits with one BEGIN/COMMIT, and inside a caller's
// transaction it joins it, so rolling that back stores nothing.
TEST_P(InboxRepoTest, InsertBatchIsOneTransaction) {
  std::vector<InboxEvent> batch{event("a", kT0), event("b", kT0), event("c", kT0)};
  if (is_sqlite()) {
    auto sql = testing::traced_sql(db(), [&] { ASSERT_TRUE(repo().insert_batch(batch)); });
    EXPECT_EQ(std::count(sql.begin(), sql.end(), "BEGIN IMMEDIATE"), 1);
    EXPECT_EQ(std::count(sql.begin(), sql.end(), "COMMIT"), 1);
  } else {
    ASSERT_TRUE(repo().insert_batch(batch));
  }
  {
    auto outer = store().begin();
    ASSERT_TRUE(outer);
    std::vector<InboxEvent> more{event("d", kT0), event("e", kT0)};
    ASSERT_TRUE(repo().insert_batch(more));
  }
  EXPECT_EQ(repo().count_unapplied().value(), 3);
  EXPECT_FALSE(repo().find_by_session("d").value().has_value());
}

// Every field round-trips; an empty call id is stored as NULL and read back as "".
TEST_P(InboxRepoTest, FieldsRoundTrip) {
  auto e = event("s1", kT0, "");
  ASSERT_TRUE(repo().insert(e).value());
  auto row = repo().find_by_session("s1");
  ASSERT_TRUE(row && row->has_value());
  EXPECT_EQ((*row)->event, e);
  EXPECT_EQ((*row)->applied_at, std::nullopt);
  EXPECT_EQ(db().query_int64("SELECT count(*) FROM webhook_inbox WHERE call_id IS NULL").value(),
            1);
  EXPECT_FALSE(repo().find_by_session("nope").value().has_value());
}

// unapplied returns the oldest events first, up to the limit, and forgets applied ones.
TEST_P(InboxRepoTest, UnappliedOldestFirst) {
  for (const char* s : {"s1", "s2", "s3"}) ASSERT_TRUE(repo().insert(event(s, kT0)).value());
  auto first = repo().unapplied(2);
  ASSERT_TRUE(first);
  ASSERT_EQ(first->size(), 2u);
  EXPECT_EQ((*first)[0].event.session_id, "s1");
  EXPECT_EQ((*first)[1].event.session_id, "s2");
  ASSERT_TRUE(repo().mark_applied((*first)[0].id, kT0 + 1s));
  auto rest = repo().unapplied(10);
  ASSERT_TRUE(rest);
  ASSERT_EQ(rest->size(), 2u);
  EXPECT_EQ((*rest)[0].event.session_id, "s2");
  EXPECT_EQ(repo().find_by_session("s1").value()->applied_at, kT0 + 1s);
  auto missing = repo().mark_applied(9999, kT0);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, make_error_code(errc::not_found));
}

// Pruning removes applied events older than the cut-off, never unapplied ones.
TEST_P(InboxRepoTest, PruneApplied) {
  ASSERT_TRUE(repo().insert(event("old-applied", kT0)).value());
  ASSERT_TRUE(repo().insert(event("old-pending", kT0)).value());
  ASSERT_TRUE(repo().insert(event("new-applied", kT0 + 2h)).value());
  ASSERT_TRUE(repo().mark_applied(repo().find_by_session("old-applied").value()->id, kT0));
  ASSERT_TRUE(repo().mark_applied(repo().find_by_session("new-applied").value()->id, kT0 + 2h));
  EXPECT_EQ(repo().prune_applied(kT0 + 1h).value(), 1);
  EXPECT_FALSE(repo().find_by_session("old-applied").value().has_value());
  EXPECT_TRUE(repo().find_by_session("old-pending").value().has_value());
  EXPECT_TRUE(repo().find_by_session("new-applied").value().has_value());
}

}  // namespace
}  // namespace dialer::store
