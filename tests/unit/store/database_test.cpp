#include "store/sql/database.hpp"

#include "store/sql/schema.hpp"
#include "tests/unit/store/store_fixture.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <chrono>
#include <filesystem>
#include <thread>
#include <type_traits>

namespace dialer::store {
namespace {

using testing::Backing;
using testing::StoreTest;
using testing::TempDir;

std::string pragma_text(Database& db, const std::string& pragma) {
  auto st = db.prepare("PRAGMA " + pragma);
  EXPECT_TRUE(st) << st.error().what();
  auto s = st->step();
  EXPECT_TRUE(s && *s == Step::row);
  return st->column_text(0);
}

// Database, Statement and Transaction own a resource each: movable, never copyable.
static_assert(!std::is_copy_constructible_v<Database> && !std::is_copy_assignable_v<Database>);
static_assert(std::is_nothrow_move_constructible_v<Database>);
static_assert(!std::is_copy_constructible_v<Statement>);
static_assert(std::is_nothrow_move_constructible_v<Statement>);
static_assert(!std::is_copy_constructible_v<Transaction>);
static_assert(std::is_nothrow_move_constructible_v<Transaction>);

class DatabaseTest : public StoreTest {};
DIALER_STORE_CONFORMANCE(DatabaseTest);

// open() turns on foreign keys and applies the synchronous level and busy timeout it is given.
TEST_P(DatabaseTest, OpenAppliesConnectionSettings) {
  EXPECT_EQ(pragma_text(db(), "foreign_keys"), "1");
  EXPECT_EQ(pragma_text(db(), "synchronous"), "2");  // FULL
  EXPECT_EQ(pragma_text(db(), "busy_timeout"), "5000");
  EXPECT_EQ(pragma_text(db(), "user_version"), std::to_string(current_schema_version()));
}

// A file database runs in WAL mode (":memory:" cannot, and reports "memory").
TEST_P(DatabaseTest, FileDatabaseUsesWal) {
  EXPECT_EQ(pragma_text(db(), "journal_mode"), is_file() ? "wal" : "memory");
}

// The same SQL text is prepared once and its statement handed out again afterwards.
TEST_P(DatabaseTest, StatementCacheReusesPreparedStatements) {
  const std::string sql = "SELECT value FROM kv WHERE key = ?";
  auto before = db().prepare_count();
  const void* first = nullptr;
  {
    auto st = db().prepare(sql);
    ASSERT_TRUE(st);
    first = st->handle();
  }
  for (int i = 0; i < 100; ++i) {
    auto st = db().prepare(sql);
    ASSERT_TRUE(st);
    EXPECT_EQ(st->handle(), first);
  }
  EXPECT_EQ(db().prepare_count(), before + 1);
}

// A statement still borrowed is not handed out twice: a nested user gets its own, uncached.
TEST_P(DatabaseTest, NestedUseOfSameSqlGetsSeparateStatement) {
  const std::string sql = "SELECT 1";
  auto outer = db().prepare(sql);
  ASSERT_TRUE(outer);
  auto cached = db().cached_statements();
  auto inner = db().prepare(sql);
  ASSERT_TRUE(inner);
  EXPECT_NE(outer->handle(), inner->handle());
  EXPECT_EQ(db().cached_statements(), cached);
  ASSERT_TRUE(inner->step());
  ASSERT_TRUE(outer->step());
  EXPECT_EQ(inner->column_int64(0), 1);
  EXPECT_EQ(outer->column_int64(0), 1);
}

// Every bindable type reads back as the same value, NULL included; '' stays distinct from NULL.
TEST_P(DatabaseTest, BindAndColumnRoundTrip) {
  ASSERT_TRUE(db().exec("CREATE TABLE t (i INTEGER, d REAL, s TEXT, n TEXT, e TEXT, o INTEGER)"));
  const TimePoint when = from_unix_ms(1'767'225'600'123);
  {
    auto ins = db().prepare("INSERT INTO t VALUES (?, ?, ?, ?, ?, ?)");
    ASSERT_TRUE(ins);
    ins->bind(1, when)
        .bind(2, 2.5)
        .bind(3, std::string_view{})
        .bind(4, std::optional<std::string>{})
        .bind(5, ContactState::in_call)
        .bind(6, std::optional<int>{42});
    ASSERT_TRUE(ins->run());
  }
  auto sel = db().prepare("SELECT i, d, s, n, e, o FROM t");
  ASSERT_TRUE(sel);
  auto s = sel->step();
  ASSERT_TRUE(s);
  ASSERT_EQ(*s, Step::row);
  EXPECT_EQ(sel->column_time(0), when);
  EXPECT_DOUBLE_EQ(sel->column_double(1), 2.5);
  EXPECT_FALSE(sel->is_null(2));
  EXPECT_EQ(sel->column_text(2), "");
  EXPECT_TRUE(sel->is_null(3));
  EXPECT_EQ(sel->column_optional_text(3), std::nullopt);
  auto e = sel->column_enum<ContactState>(4);
  ASSERT_TRUE(e);
  EXPECT_EQ(*e, ContactState::in_call);
  EXPECT_EQ(sel->column_optional_int64(5), 42);
  auto done = sel->step();
  ASSERT_TRUE(done);
  EXPECT_EQ(*done, Step::done);
}

// A value outside an enum's names is reported as a db_error naming the column, not guessed.
TEST_P(DatabaseTest, UnknownEnumNameIsAnError) {
  auto st = db().prepare("SELECT 'teleported' AS state");
  ASSERT_TRUE(st);
  ASSERT_TRUE(st->step());
  auto e = st->column_enum<ContactState>(0);
  ASSERT_FALSE(e);
  EXPECT_EQ(e.error().code, make_error_code(errc::db_error));
  EXPECT_NE(e.error().message.find("state"), std::string::npos);
}

// A bind failure (index out of range) is reported by step(), and the statement is reusable.
TEST_P(DatabaseTest, BindErrorSurfacesAtStep) {
  auto st = db().prepare("SELECT ?");
  ASSERT_TRUE(st);
  st->bind(2, std::int64_t{1});
  auto s = st->step();
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message.find("parameter 2"), std::string::npos);
  st->bind(1, 7);
  ASSERT_TRUE(st->step());
  EXPECT_EQ(st->column_int64(0), 7);
}

// Malformed SQL is an error value naming the statement, not an exception.
TEST_P(DatabaseTest, BadSqlIsAnErrorValue) {
  auto st = db().prepare("SELEC nonsense");
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, make_error_code(errc::db_error));
  EXPECT_NE(st.error().message.find("SELEC nonsense"), std::string::npos);
}

// A unique-key violation maps to errc::duplicate, so callers can tell it from other failures.
TEST_P(DatabaseTest, UniqueViolationIsDuplicate) {
  auto ins = [&] {
    auto st = db().prepare("INSERT INTO kv (key, value) VALUES ('a', 'b')");
    EXPECT_TRUE(st);
    return st->run();
  };
  ASSERT_TRUE(ins());
  auto again = ins();
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, make_error_code(errc::duplicate));
}

// Foreign keys are enforced: a contact of a campaign that does not exist is refused.
TEST_P(DatabaseTest, ForeignKeysEnforced) {
  auto st = db().prepare(
      "INSERT INTO contacts (campaign_id, phone, created_at, updated_at) VALUES (999, '+1', 0, 0)");
  ASSERT_TRUE(st);
  auto r = st->run();
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("FOREIGN KEY"), std::string::npos);
}

std::int64_t kv_count(Database& db) {
  auto st = db.prepare("SELECT count(*) FROM kv");
  EXPECT_TRUE(st && st->step());
  return st->column_int64(0);
}

bool put(Database& db, const std::string& key) {
  auto st = db.prepare("INSERT INTO kv (key, value) VALUES (?, 'v')");
  return st && st->bind(1, key).run();
}

// A transaction not committed is rolled back when it goes out of scope.
TEST_P(DatabaseTest, TransactionRollsBackOnDestruction) {
  {
    auto tx = Transaction::begin(db());
    ASSERT_TRUE(tx);
    EXPECT_TRUE(db().in_transaction());
    ASSERT_TRUE(put(db(), "x"));
    EXPECT_EQ(kv_count(db()), 1);
  }
  EXPECT_FALSE(db().in_transaction());
  EXPECT_EQ(kv_count(db()), 0);
}

// A committed transaction keeps its writes, and commit twice is refused.
TEST_P(DatabaseTest, TransactionCommitPersists) {
  auto tx = Transaction::begin(db());
  ASSERT_TRUE(tx);
  ASSERT_TRUE(put(db(), "x"));
  ASSERT_TRUE(tx->commit());
  EXPECT_FALSE(tx->active());
  EXPECT_FALSE(tx->commit());
  EXPECT_EQ(kv_count(db()), 1);
}

// A transaction begun inside another is a savepoint: its rollback undoes only its own writes.
TEST_P(DatabaseTest, NestedTransactionIsSavepoint) {
  auto outer = Transaction::begin(db());
  ASSERT_TRUE(outer);
  ASSERT_TRUE(put(db(), "outer"));
  {
    auto inner = Transaction::begin(db());
    ASSERT_TRUE(inner);
    ASSERT_TRUE(put(db(), "inner"));
  }
  {
    auto inner = Transaction::begin(db());
    ASSERT_TRUE(inner);
    ASSERT_TRUE(put(db(), "kept"));
    ASSERT_TRUE(inner->commit());
  }
  EXPECT_TRUE(db().in_transaction());
  ASSERT_TRUE(outer->commit());
  EXPECT_EQ(kv_count(db()), 2);
}

// A moved transaction is owned by its new holder; the moved-from one no longer rolls back.
TEST_P(DatabaseTest, TransactionMoves) {
  std::optional<Transaction> holder;
  {
    auto tx = Transaction::begin(db());
    ASSERT_TRUE(tx);
    holder.emplace(std::move(*tx));
  }
  EXPECT_TRUE(db().in_transaction());
  ASSERT_TRUE(put(db(), "x"));
  ASSERT_TRUE(holder->commit());
  EXPECT_EQ(kv_count(db()), 1);
}

// Moving a Database keeps its connection and its cached statements working.
TEST_P(DatabaseTest, DatabaseMoves) {
  ASSERT_TRUE(put(db(), "x"));
  Database moved = std::move(*db_);
  db_.reset();
  EXPECT_EQ(kv_count(moved), 1);
  EXPECT_TRUE(put(moved, "y"));
  EXPECT_EQ(kv_count(moved), 2);
}

// Writes take the write lock at BEGIN: a second connection cannot begin while one is open.
TEST(DatabaseFile, BeginImmediateTakesWriteLock) {
  TempDir dir;
  const std::string path = (dir.path() / "lock.db").string();
  OpenOptions quick;
  quick.busy_timeout = Millis{0};
  auto a = Database::open(path, quick);
  auto b = Database::open(path, quick);
  ASSERT_TRUE(a && b);
  auto tx = Transaction::begin(*a);
  ASSERT_TRUE(tx);
  auto other = Transaction::begin(*b);
  ASSERT_FALSE(other);
  EXPECT_EQ(other.error().code, make_error_code(errc::timeout));
  // A deferred (read) transaction still works beside the writer: that is what WAL buys.
  auto reader = Transaction::begin(*b, TransactionKind::deferred);
  ASSERT_TRUE(reader);
  auto st = b->prepare("SELECT count(*) FROM campaigns");
  ASSERT_TRUE(st && st->step());
}

// synchronous=normal from the options reaches the connection.
TEST(DatabaseFile, SynchronousNormalFromOptions) {
  TempDir dir;
  OpenOptions opts;
  opts.synchronous = Synchronous::normal;
  auto db = Database::open((dir.path() / "n.db").string(), opts);
  ASSERT_TRUE(db);
  EXPECT_EQ(pragma_text(*db, "synchronous"), "1");
  EXPECT_EQ(synchronous_from_string("normal"), Synchronous::normal);
  EXPECT_EQ(synchronous_from_string("full"), Synchronous::full);
  EXPECT_EQ(synchronous_from_string("off"), std::nullopt);
}

// A path that cannot be opened is an error value naming the path.
TEST(DatabaseFile, UnopenablePathIsError) {
  TempDir dir;
  const std::string path = (dir.path() / "missing-dir" / "x.db").string();
  auto db = Database::open(path);
  ASSERT_FALSE(db);
  EXPECT_NE(db.error().message.find(path), std::string::npos);
}

// With background_checkpoint the owner's commits no longer checkpoint (its WAL hook only wakes
// the checkpoint thread): the log must still reach the database file, from that thread. 3000
// pages are committed in 30 transactions; the file must grow to hold them (the thread is
// woken at 1000 pages in the log), polled up to 30 s.
TEST(DatabaseFile, BackgroundCheckpointCopiesTheLogIntoTheFile) {
  TempDir dir;
  const std::string path = (dir.path() / "ckpt.db").string();
  OpenOptions o;
  o.synchronous = Synchronous::normal;
  o.background_checkpoint = true;
  auto db = Database::open(path, o);
  ASSERT_TRUE(db) << db.error().what();
  ASSERT_TRUE(db->exec("CREATE TABLE blobs(b BLOB)"));
  for (int tx = 0; tx < 30; ++tx) {
    ASSERT_TRUE(db->exec("BEGIN IMMEDIATE"));
    for (int i = 0; i < 100; ++i) {
      auto st = db->prepare("INSERT INTO blobs(b) VALUES (zeroblob(4000))");
      ASSERT_TRUE(st && st->step());
    }
    ASSERT_TRUE(db->exec("COMMIT"));
  }
  const std::uintmax_t want = 8u << 20;  // 2000 of the 3000 pages of 4 KiB
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds{30};
  while (std::filesystem::file_size(path) < want && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds{10});
  }
  EXPECT_GE(std::filesystem::file_size(path), want);
}

}  // namespace
}  // namespace dialer::store
