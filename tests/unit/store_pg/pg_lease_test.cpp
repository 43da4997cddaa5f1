// The leader lease on PostgreSQL (store/postgresql/lease.hpp) and the fence it sets: one node at
// a time, takeover once the holder's session ends, every takeover a new epoch, and a store fenced
// with an old epoch refuses to reserve. Against the test cluster (unit_store_pg).
#include "store/postgresql/lease.hpp"
#include "store/sql/sql_store.hpp"
#include "tests/unit/store/store_fixture.hpp"

#include <gtest/gtest.h>

#include <chrono>

namespace dialer::store {
namespace {

const TimePoint kT0 = from_unix_ms(1'767'225'600'000);

class PgLeaseTest : public testing::StoreTest {
 protected:
  PgOptions options() {
    PgOptions o;
    o.conninfo = testing::test_pg_conninfo();
    o.schema = schema_;
    return o;
  }
  PgLease lease(const std::string& node) {
    auto l = PgLease::connect(options(), node);
    EXPECT_TRUE(l) << l.error().what();
    return std::move(*l);
  }
  /// The server ends a closed session asynchronously: the lock is free once it has.
  std::optional<LeaseHolder> acquire_within(PgLease& l, std::chrono::seconds limit) {
    const auto until = std::chrono::steady_clock::now() + limit;
    for (;;) {
      auto got = l.try_acquire(kT0);
      EXPECT_TRUE(got) << got.error().what();
      if (!got || *got || std::chrono::steady_clock::now() > until)
        return got ? *got : std::nullopt;
    }
  }
};
DIALER_STORE_CONFORMANCE(PgLeaseTest);

TEST_P(PgLeaseTest, OneNodeHoldsTheLeaseAtATime) {
  auto a = lease("node-a");
  auto b = lease("node-b");
  auto got = a.try_acquire(kT0);
  ASSERT_TRUE(got && *got);
  EXPECT_EQ((*got)->epoch, 1);
  EXPECT_EQ((*got)->holder, "node-a");
  auto refused = b.try_acquire(kT0);
  ASSERT_TRUE(refused);
  EXPECT_FALSE(*refused);
  EXPECT_TRUE(a.still_held().value());
  EXPECT_FALSE(b.still_held().value());
  auto row = b.current();
  ASSERT_TRUE(row);
  EXPECT_EQ(row->holder, "node-a");
  EXPECT_EQ(row->epoch, 1);
}

TEST_P(PgLeaseTest, TheStandbyTakesOverOnceTheHoldersSessionEnds) {
  auto b = lease("node-b");
  {
    auto a = lease("node-a");
    ASSERT_TRUE(a.try_acquire(kT0).value());
  }  // node-a's session ends (as when its process dies)
  auto got = acquire_within(b, std::chrono::seconds{10});
  ASSERT_TRUE(got) << "the lock was not released when its session ended";
  EXPECT_EQ(got->epoch, 2);
  EXPECT_EQ(got->holder, "node-b");
}

TEST_P(PgLeaseTest, AStoreFencedWithAnOldEpochRefusesToReserve) {
  auto a = lease("node-a");
  auto taken = a.try_acquire(kT0);
  ASSERT_TRUE(taken && *taken);
  auto& sql = static_cast<SqlStore&>(store());
  sql.set_fence((*taken)->epoch);
  {
    auto work = store().begin();
    ASSERT_TRUE(work);
    EXPECT_TRUE(store().check_fence()) << "the holder's own epoch passes";
  }
  ASSERT_TRUE(a.release());
  auto b = lease("node-b");
  auto got = acquire_within(b, std::chrono::seconds{10});
  ASSERT_TRUE(got);
  auto work = store().begin();
  ASSERT_TRUE(work);
  auto fenced = store().check_fence();
  ASSERT_FALSE(fenced);
  EXPECT_EQ(fenced.error().code, make_error_code(errc::conflict));
  EXPECT_NE(fenced.error().message.find("node-b"), std::string::npos) << fenced.error().message;
}

// How a failure reads decides the daemon's exit code: io_error (exit 1, systemd tries again) when
// PostgreSQL cannot be reached or the session is gone; db_error (exit 4, not retried) when the
// server answered with a refusal.
TEST_P(PgLeaseTest, ConnectionFailuresSayWhetherTryingAgainHelps) {
  PgOptions closed = options();
  closed.conninfo = "host=127.0.0.1 port=1 user=dialer dbname=postgres";
  auto unreachable = Database::open_postgresql(closed);
  ASSERT_FALSE(unreachable);
  EXPECT_EQ(unreachable.error().code, make_error_code(errc::io_error))
      << unreachable.error().what();

  PgOptions missing = options();
  missing.conninfo = testing::test_pg_conninfo() + " dbname=no_such_database_here";
  auto refused = Database::open_postgresql(missing);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, make_error_code(errc::db_error)) << refused.error().what();

  auto db = Database::open_postgresql(options());
  ASSERT_TRUE(db) << db.error().what();
  const auto pid = db->query_int64("SELECT pg_backend_pid()");
  ASSERT_TRUE(pid);
  ASSERT_TRUE(
      pg_->admin().query_int64("SELECT pg_terminate_backend(" + std::to_string(*pid) + ")::int"));
  auto gone = db->query_int64("SELECT 1");
  ASSERT_FALSE(gone);
  EXPECT_EQ(gone.error().code, make_error_code(errc::io_error)) << gone.error().what();
}

}  // namespace
}  // namespace dialer::store
