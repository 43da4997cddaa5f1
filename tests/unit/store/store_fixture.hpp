#pragma once
// Shared fixture of the store conformance suite: every repository test runs against ":memory:"
// and against a file database in a fresh temp directory (unit_store) and, built with
// DIALER_STORE_POSTGRESQL, against PostgreSQL (unit_store_pg): each test in a fresh schema of the
// throwaway cluster scripts/pg-test-cluster runs for ctest (its conninfo in
// $DIALER_TEST_PG_CONNINFO, else <build>/pg/conninfo). Without one the PostgreSQL tests skip,
// saying why.

#include "core/campaign_spec.hpp"
#include "store/sql/database.hpp"
#include "store/sql/sql_store.hpp"
#include "store/store.hpp"
#include "tests/support/temp_dir.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unistd.h>
#include <vector>

namespace dialer::store::testing {

using TempDir = ::dialer::testkit::TempDir;

enum class Backing { memory, file, postgresql };

/// A valid campaign with a non-default value in most fields, so round trips are meaningful.
inline CampaignSpec sample_spec(std::string name) {
  CampaignSpec s;
  s.name = std::move(name);
  s.agent_id = "0f8fad5b-d9cb-469f-a165-70867728950e";
  s.providers = {Provider::twilio, Provider::plivo};
  s.provider_strategy = ProviderStrategy::round_robin;
  s.max_concurrency = 7;
  s.priority = 2;
  s.weight = 3;
  s.timezone = "America/New_York";
  s.window.days = {true, true, true, true, true, false, false};
  s.window.start = std::chrono::minutes{8 * 60 + 30};
  s.window.end = std::chrono::minutes{20 * 60};
  s.window.end_margin = std::chrono::minutes{15};
  s.window.holidays = {std::chrono::year{2026} / 12 / 25, std::chrono::year{2027} / 1 / 1};
  s.max_attempts = 4;
  s.retry.erase(Outcome::voicemail);
  s.retry[Outcome::no_answer] = RetryRule{std::chrono::hours{1}, 2};
  s.dnc_on_blocked = false;
  s.budget_credits = 12.5;
  s.auto_resume = false;
  s.description = "spring \"renewals\" — ünïcode";
  return s;
}

inline std::string backing_name(const ::testing::TestParamInfo<Backing>& info) {
  switch (info.param) {
    case Backing::memory:
      return "Memory";
    case Backing::file:
      return "File";
    case Backing::postgresql:
      return "Postgresql";
  }
  return "?";
}

/// The test cluster's conninfo, or "" when none runs.
inline std::string test_pg_conninfo() {
  if (const char* env = std::getenv("DIALER_TEST_PG_CONNINFO"); env != nullptr && *env != 0) {
    return env;
  }
  std::ifstream in(std::string(DIALER_BIN_DIR) + "/../pg/conninfo");
  std::string line;
  std::getline(in, line);
  return line;
}

/// A fresh schema of the test cluster, dropped (with everything in it) on destruction.
/// usable() is false, saying why in error(), when no cluster runs or it refused.
class PgTestSchema {
 public:
  explicit PgTestSchema(std::string_view prefix = "t") : conninfo_(test_pg_conninfo()) {
    if (conninfo_.empty()) {
      error_ =
          "no PostgreSQL test cluster (scripts/pg-test-cluster start <build>/pg, or set "
          "DIALER_TEST_PG_CONNINFO): PostgreSQL not installed here";
      return;
    }
    PgOptions o;
    o.conninfo = conninfo_;
    o.migrate = false;
    auto db = Database::open_postgresql(o);
    if (!db) {
      error_ = db.error().what();
      return;
    }
    static int counter = 0;
    name_ =
        std::string(prefix) + "_" + std::to_string(::getpid()) + "_" + std::to_string(++counter);
    if (auto r = db->exec("CREATE SCHEMA " + name_); !r) {
      error_ = r.error().what();
      return;
    }
    admin_.emplace(std::move(*db));
  }
  ~PgTestSchema() {
    if (admin_) (void)admin_->exec("DROP SCHEMA IF EXISTS " + name_ + " CASCADE");
  }
  PgTestSchema(const PgTestSchema&) = delete;
  PgTestSchema& operator=(const PgTestSchema&) = delete;

  [[nodiscard]] bool usable() const { return admin_.has_value(); }
  [[nodiscard]] bool cluster_missing() const { return conninfo_.empty(); }
  [[nodiscard]] const std::string& error() const { return error_; }
  [[nodiscard]] const std::string& conninfo() const { return conninfo_; }
  [[nodiscard]] const std::string& name() const { return name_; }
  /// Connection options for this schema.
  [[nodiscard]] PgOptions options() const {
    PgOptions o;
    o.conninfo = conninfo_;
    o.schema = name_;
    return o;
  }
  /// The admin connection (outside the schema's search_path).
  Database& admin() { return *admin_; }

 private:
  std::string conninfo_;
  std::string name_;
  std::string error_;
  std::optional<Database> admin_;
};

/// Opens a migrated database of the parameter's backing before each test.
class StoreTest : public ::testing::TestWithParam<Backing> {
 protected:
  void SetUp() override {
    if (GetParam() == Backing::postgresql) {
      open_postgresql();
      return;
    }
    if (GetParam() == Backing::file) {
      dir_.emplace();
      path_ = (dir_->path() / "dialer.db").string();
    } else {
      path_ = ":memory:";
    }
    auto db = Database::open(path_, options());
    ASSERT_TRUE(db) << db.error().what();
    db_.emplace(std::move(*db));
    store_ = std::make_unique<SqlStore>(*db_);
  }
  void TearDown() override {
    store_.reset();
    db_.reset();
    pg_.reset();
  }

  /// A fresh schema of the test cluster, migrated.
  void open_postgresql() {
    pg_.emplace();
    if (pg_->cluster_missing()) GTEST_SKIP() << pg_->error();
    ASSERT_TRUE(pg_->usable()) << pg_->error();
    schema_ = pg_->name();
    auto db = Database::open_postgresql(pg_->options());
    ASSERT_TRUE(db) << db.error().what();
    db_.emplace(std::move(*db));
    store_ = std::make_unique<SqlStore>(*db_);
  }

  virtual OpenOptions options() const { return {}; }
  /// The store under test, through its ports.
  Store& store() { return *store_; }
  /// The SQLite connection under it, for checks only SQLite can make (plans, traced SQL).
  Database& db() { return *db_; }
  [[nodiscard]] bool is_file() const { return GetParam() == Backing::file; }
  [[nodiscard]] bool is_sqlite() const { return GetParam() != Backing::postgresql; }

  std::optional<TempDir> dir_;
  std::string path_;
  std::optional<Database> db_;
  std::unique_ptr<Store> store_;
  std::optional<PgTestSchema> pg_;  ///< PostgreSQL: the test's schema
  std::string schema_;
};

/// A check only SQLite can make (its statement cache, query plans, traced statements).
#define DIALER_SQLITE_ONLY()                                        \
  if (!is_sqlite()) {                                               \
    GTEST_SKIP() << "SQLite-only check (plans, traces, the cache)"; \
  }

/// The SQL text of every statement `fn` runs on `db`, in order (via sqlite3_trace_v2), so a
/// test can check what a repository really executes.
inline std::vector<std::string> traced_sql(Database& db, const std::function<void()>& fn) {
  std::vector<std::string> seen;
  auto cb = [](unsigned type, void* ctx, void* p, void*) -> int {
    if (type == SQLITE_TRACE_STMT) {
      const char* sql = sqlite3_sql(static_cast<sqlite3_stmt*>(p));
      static_cast<std::vector<std::string>*>(ctx)->emplace_back(sql != nullptr ? sql : "");
    }
    return 0;
  };
  sqlite3_trace_v2(db.handle(), SQLITE_TRACE_STMT, cb, &seen);
  fn();
  sqlite3_trace_v2(db.handle(), 0, nullptr, nullptr);
  return seen;
}

/// EXPLAIN QUERY PLAN of `sql`, its detail lines joined by '\n'.
inline std::string query_plan(Database& db, const std::string& sql) {
  auto st = db.prepare("EXPLAIN QUERY PLAN " + sql);
  EXPECT_TRUE(st) << st.error().what();
  if (!st) return {};
  std::string plan;
  for (;;) {
    auto s = st->step();
    EXPECT_TRUE(s);
    if (!s || *s == Step::done) break;
    plan += st->column_text(3);
    plan += '\n';
  }
  return plan;
}

}  // namespace dialer::store::testing

// Instantiates a StoreTest-derived fixture for the SQLite backings, or (unit_store_pg) for
// PostgreSQL.
#ifdef DIALER_STORE_POSTGRESQL
#define DIALER_STORE_CONFORMANCE(Fixture)                                                    \
  INSTANTIATE_TEST_SUITE_P(Backings, Fixture,                                                \
                           ::testing::Values(::dialer::store::testing::Backing::postgresql), \
                           ::dialer::store::testing::backing_name)
#else
#define DIALER_STORE_CONFORMANCE(Fixture)                                               \
  INSTANTIATE_TEST_SUITE_P(Backings, Fixture,                                           \
                           ::testing::Values(::dialer::store::testing::Backing::memory, \
                                             ::dialer::store::testing::Backing::file),  \
                           ::dialer::store::testing::backing_name)
#endif
