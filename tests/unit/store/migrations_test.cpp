#include "store/sql/migrations.hpp"

#include "store/sql/campaigns.hpp"
#include "store/sql/schema.hpp"
#include "tests/unit/store/store_fixture.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <array>
#include <string>

namespace dialer::store {
namespace {

using testing::TempDir;

OpenOptions no_migrate() {
  OpenOptions o;
  o.migrate = false;
  return o;
}

bool has_object(Database& db, const std::string& type, const std::string& name) {
  auto st = db.prepare("SELECT count(*) FROM sqlite_master WHERE type = ? AND name = ?");
  EXPECT_TRUE(st);
  st->bind(1, type).bind(2, name);
  EXPECT_TRUE(st->step());
  return st->column_int64(0) == 1;
}

// An empty database is migrated from version 0 to the current version with every table and
// index of the schema in place.
TEST(Migrations, FromZeroToCurrent) {
  auto db = Database::open(":memory:", no_migrate());
  ASSERT_TRUE(db);
  ASSERT_EQ(*db->user_version(), 0);
  auto report = migrate(*db);
  ASSERT_TRUE(report) << report.error().what();
  EXPECT_EQ(report->from, 0);
  EXPECT_EQ(report->to, current_schema_version());
  EXPECT_EQ(*db->user_version(), current_schema_version());
  for (const char* table :
       {"campaigns", "contacts", "attempts", "webhook_inbox", "dnc", "audit_log", "kv"}) {
    EXPECT_TRUE(has_object(*db, "table", table)) << table;
  }
  for (const char* index : {"contacts_due", "contacts_state", "attempts_open", "attempts_contact",
                            "attempts_campaign", "webhook_inbox_unapplied", "audit_log_at"}) {
    EXPECT_TRUE(has_object(*db, "index", index)) << index;
  }
}

// Migrating a current database changes nothing, and reopening a file keeps its data.
TEST(Migrations, ReopenIsNoOp) {
  TempDir dir;
  const std::string path = (dir.path() / "d.db").string();
  {
    auto db = Database::open(path);
    ASSERT_TRUE(db);
    ASSERT_TRUE(db->exec("INSERT INTO kv VALUES ('k', 'v')"));
  }
  auto db = Database::open(path);
  ASSERT_TRUE(db);
  auto report = migrate(*db);
  ASSERT_TRUE(report);
  EXPECT_EQ(report->from, current_schema_version());
  EXPECT_EQ(report->to, current_schema_version());
  auto st = db->prepare("SELECT value FROM kv WHERE key = 'k'");
  ASSERT_TRUE(st && st->step());
  EXPECT_EQ(st->column_text(0), "v");
}

// A database written by a newer dialerd is refused with a message naming the file and both
// versions, and the file is left as it was (not even switched to WAL).
TEST(Migrations, RefusesNewerSchema) {
  TempDir dir;
  const std::string path = (dir.path() / "newer.db").string();
  {
    // Written without Database::open so the file stays in rollback-journal mode.
    sqlite3* raw = nullptr;
    ASSERT_EQ(sqlite3_open(path.c_str(), &raw), SQLITE_OK);
    ASSERT_EQ(
        sqlite3_exec(raw, "CREATE TABLE x(y); PRAGMA user_version = 7", nullptr, nullptr, nullptr),
        SQLITE_OK);
    sqlite3_close(raw);
  }
  auto db = Database::open(path);
  ASSERT_FALSE(db);
  EXPECT_EQ(db.error().code, make_error_code(errc::schema_too_new));
  const std::string expected = path + " has schema version 7; this dialerd supports up to " +
                               std::to_string(current_schema_version());
  EXPECT_EQ(db.error().message, expected);

  auto again = Database::open(path, no_migrate());
  ASSERT_FALSE(again);  // refused even without migrating: the schema is unknown to this build
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &raw), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(raw, "PRAGMA journal_mode", -1, &st, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
  EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(st, 0)), "delete");
  sqlite3_finalize(st);
  sqlite3_close(raw);
}

// Each step is its own transaction: a failing step leaves the database at the last good
// version with none of the failing step's changes.
TEST(Migrations, FailedStepRollsBackOnlyItself) {
  auto db = Database::open(":memory:", no_migrate());
  ASSERT_TRUE(db);
  constexpr std::array<std::string_view, 3> steps{
      "CREATE TABLE a (x)",
      "CREATE TABLE b (y); INSERT INTO nowhere VALUES (1)",
      "CREATE TABLE c (z)",
  };
  auto report = migrate(*db, steps);
  ASSERT_FALSE(report);
  EXPECT_NE(report.error().message.find("schema version 2"), std::string::npos);
  EXPECT_EQ(*db->user_version(), 1);
  EXPECT_TRUE(has_object(*db, "table", "a"));
  EXPECT_FALSE(has_object(*db, "table", "b"));
  EXPECT_FALSE(has_object(*db, "table", "c"));
}

// Steps apply in order from wherever the database stands.
TEST(Migrations, ResumesFromIntermediateVersion) {
  auto db = Database::open(":memory:", no_migrate());
  ASSERT_TRUE(db);
  constexpr std::array<std::string_view, 2> steps{"CREATE TABLE a (x)", "ALTER TABLE a ADD y"};
  auto first = migrate(*db, std::span{steps}.first(1));
  ASSERT_TRUE(first);
  EXPECT_EQ(first->to, 1);
  auto second = migrate(*db, steps);
  ASSERT_TRUE(second);
  EXPECT_EQ(second->from, 1);
  EXPECT_EQ(second->to, 2);
  ASSERT_TRUE(db->exec("INSERT INTO a (x, y) VALUES (1, 2)"));
}

// A store written by the first schema migrates to the current one keeping its campaigns;
// start_at / end_at (version 2) are null for them.
TEST(Migrations, AVersionOneStoreKeepsItsCampaigns) {
  TempDir dir;
  const std::string path = (dir.path() / "v1.db").string();
  {
    auto db = Database::open(path, no_migrate());
    ASSERT_TRUE(db);
    ASSERT_TRUE(migrate(*db, schema_steps().first(1)));
    ASSERT_TRUE(db->exec(
        "INSERT INTO campaigns (name, agent_id, providers, provider_strategy, max_concurrency,"
        " priority, weight, timezone, \"window\", max_attempts, retry, dnc_on_blocked,"
        " auto_resume, description, created_at, updated_at) VALUES ('old', "
        "'3fa85f64-5717-4562-b3fc-2c963f66afa6', '[\"twilio\"]', 'failover', 5, 0, 1, "
        "'Asia/Kolkata', '{}', 5, '{}', 1, 1, '', 0, 0)"));
  }
  auto db = Database::open(path, OpenOptions{});
  ASSERT_TRUE(db) << db.error().what();
  EXPECT_EQ(*db->user_version(), current_schema_version());
  SqlCampaigns repo(*db);
  auto rows = repo.list();
  ASSERT_TRUE(rows) << rows.error().what();
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0].spec.name, "old");
  EXPECT_FALSE((*rows)[0].spec.start_at);
  EXPECT_FALSE((*rows)[0].spec.end_at);
}

}  // namespace
}  // namespace dialer::store
