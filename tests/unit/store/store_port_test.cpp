// The store port's unit of work (store/store.hpp), as every backend must keep it: a committed
// unit persists, an abandoned one leaves nothing, a nested one is a savepoint of its outer unit,
// and repository calls made while a unit is open join it.
#include "store/store.hpp"
#include "tests/unit/store/store_fixture.hpp"

#include <gtest/gtest.h>

namespace dialer::store {
namespace {

using testing::sample_spec;
using testing::StoreTest;

const TimePoint kT0 = from_unix_ms(1'767'225'600'000);

class StorePortTest : public StoreTest {
 protected:
  bool exists(std::string_view name) {
    auto row = store().campaigns().find(name);
    EXPECT_TRUE(row) << row.error().what();
    return row && row->has_value();
  }
};
DIALER_STORE_CONFORMANCE(StorePortTest);

TEST_P(StorePortTest, CommittedWorkPersists) {
  auto work = store().begin();
  ASSERT_TRUE(work) << work.error().what();
  ASSERT_TRUE(store().campaigns().create(sample_spec("kept"), kT0));
  ASSERT_TRUE(work->commit());
  EXPECT_FALSE(work->active());
  EXPECT_TRUE(exists("kept"));
}

TEST_P(StorePortTest, AbandonedWorkLeavesNothing) {
  {
    auto work = store().begin();
    ASSERT_TRUE(work);
    ASSERT_TRUE(store().campaigns().create(sample_spec("gone"), kT0));
    ASSERT_TRUE(store().kv().set("k", "v"));
  }
  EXPECT_FALSE(exists("gone"));
  EXPECT_EQ(store().kv().get("k").value(), std::nullopt);

  auto work = store().begin();
  ASSERT_TRUE(work);
  ASSERT_TRUE(store().campaigns().create(sample_spec("rolled"), kT0));
  work->rollback();
  EXPECT_FALSE(work->active());
  EXPECT_FALSE(exists("rolled"));
}

TEST_P(StorePortTest, NestedWorkIsASavepointOfItsOuterUnit) {
  auto outer = store().begin();
  ASSERT_TRUE(outer);
  ASSERT_TRUE(store().campaigns().create(sample_spec("outer"), kT0));
  {
    auto inner = store().begin();
    ASSERT_TRUE(inner) << inner.error().what();
    ASSERT_TRUE(store().campaigns().create(sample_spec("inner-dropped"), kT0));
  }
  {
    auto inner = store().begin();
    ASSERT_TRUE(inner);
    ASSERT_TRUE(store().campaigns().create(sample_spec("inner-kept"), kT0));
    ASSERT_TRUE(inner->commit());
  }
  EXPECT_TRUE(exists("outer"));
  EXPECT_FALSE(exists("inner-dropped"));
  EXPECT_TRUE(exists("inner-kept"));
  outer->rollback();
  EXPECT_FALSE(exists("outer"));
  EXPECT_FALSE(exists("inner-kept"));  // a savepoint's commit is its outer unit's to keep
}

TEST_P(StorePortTest, EndedWorkRefusesASecondCommit) {
  auto work = store().begin();
  ASSERT_TRUE(work);
  ASSERT_TRUE(work->commit());
  auto again = work->commit();
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, make_error_code(errc::conflict));
}

TEST_P(StorePortTest, ReadWorkSeesCommittedRows) {
  ASSERT_TRUE(store().campaigns().create(sample_spec("seen"), kT0));
  auto work = store().begin(WorkKind::read);
  ASSERT_TRUE(work) << work.error().what();
  EXPECT_TRUE(exists("seen"));
  ASSERT_TRUE(work->commit());
}

TEST_P(StorePortTest, SchemaVersionIsTheCurrentOne) {
  auto v = store().schema_version();
  ASSERT_TRUE(v) << v.error().what();
  EXPECT_GT(*v, 0);
}

}  // namespace
}  // namespace dialer::store
