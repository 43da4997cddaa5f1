// The SQLite driver of store::Database (store/sql/driver.hpp) and Database::open.
#include "store/sql/driver.hpp"
#include "store/sql/migrations.hpp"
#include "store/sql/sql_store.hpp"

#include <sqlite3.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <utility>

namespace dialer::store {
namespace {

using detail::sql_excerpt;

/// Runs PASSIVE checkpoints of one database file on its own thread and connection, woken by
/// the owning connection's WAL hook once the log holds kCheckpointPages pages (SQLite's own
/// wal_autocheckpoint default), and at least every kCheckpointPeriod while anything is in it.
/// A PASSIVE checkpoint never waits for readers or writers: what it cannot copy now it copies
/// next time, so it never blocks the owner.
class Checkpointer {
 public:
  static constexpr int kCheckpointPages = 1000;
  static constexpr std::chrono::seconds kCheckpointPeriod{30};

  explicit Checkpointer(sqlite3* conn) : conn_(conn), thread_([this] { run(); }) {}
  ~Checkpointer() {
    {
      std::lock_guard lock{mutex_};
      stop_ = true;
    }
    wake_.notify_one();
    thread_.join();
    checkpoint();  // what the last commits left
    sqlite3_close_v2(conn_);
  }
  Checkpointer(const Checkpointer&) = delete;
  Checkpointer& operator=(const Checkpointer&) = delete;

  /// From the owner's commit (its thread): `pages` are now in the log.
  void logged(int pages) {
    if (pages < kCheckpointPages || due_.exchange(true)) return;
    wake_.notify_one();
  }

 private:
  void run() {
    std::unique_lock lock{mutex_};
    while (!stop_) {
      wake_.wait_for(lock, kCheckpointPeriod, [this] { return stop_ || due_.load(); });
      if (stop_) break;
      due_ = false;
      lock.unlock();
      checkpoint();
      lock.lock();
    }
  }
  void checkpoint() {
    // A failed or partial checkpoint loses nothing: the WAL keeps every frame until one
    // succeeds, and the next wake (or the last connection's close) copies them.
    (void)sqlite3_wal_checkpoint_v2(conn_, nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
  }

  sqlite3* conn_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::atomic<bool> due_{false};
  bool stop_ = false;
  std::thread thread_;  // last: started once the rest exists
};

/// Maps an SQLite result code to the project's codes: callers branch on duplicate (a unique
/// key) and timeout (busy_timeout expired); everything else is a db_error with SQLite's text.
errc code_for(int rc) noexcept {
  if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY) return errc::duplicate;
  int primary = rc & 0xff;
  if (primary == SQLITE_BUSY || primary == SQLITE_LOCKED) return errc::timeout;
  return errc::db_error;
}

Error sqlite_error(sqlite3* db, int rc, std::string_view context) {
  errc code = code_for(rc);
  std::string msg{context};
  msg += ": ";
  // sqlite3_errmsg describes the most recent failure on the connection, which is this one.
  msg += db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  msg += " (";
  msg += sqlite3_errstr(rc);
  msg += ")";
  return Error{code, std::move(msg)};
}

struct SqliteStatement final : detail::DriverStatement {
  explicit SqliteStatement(sqlite3_stmt* s) : stmt(s) {}
  ~SqliteStatement() override { sqlite3_finalize(stmt); }
  SqliteStatement(const SqliteStatement&) = delete;
  SqliteStatement& operator=(const SqliteStatement&) = delete;
  sqlite3_stmt* stmt;
};

sqlite3_stmt* h(detail::DriverStatement& st) {
  return static_cast<SqliteStatement&>(st).stmt;
}
sqlite3_stmt* h(const detail::DriverStatement& st) {
  return static_cast<const SqliteStatement&>(st).stmt;
}

class SqliteDriver final : public detail::Driver {
 public:
  SqliteDriver() = default;
  SqliteDriver(const SqliteDriver&) = delete;
  SqliteDriver& operator=(const SqliteDriver&) = delete;
  ~SqliteDriver() override {
    if (checkpointer) {
      sqlite3_wal_hook(db, nullptr, nullptr);
      checkpointer.reset();
    }
    // sqlite3_close_v2 defers the close until any statement a caller still holds is finalized.
    sqlite3_close_v2(db);
  }

  [[nodiscard]] Backend backend() const noexcept override { return Backend::sqlite; }

  Result<std::unique_ptr<detail::DriverStatement>> prepare(std::string_view sql) override {
    sqlite3_stmt* stmt = nullptr;
    int rc = sqlite3_prepare_v3(db, sql.data(), static_cast<int>(sql.size()),
                                SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
    if (rc != SQLITE_OK) {
      sqlite3_finalize(stmt);
      return sqlite_error(db, rc, "preparing '" + sql_excerpt(sql) + "'");
    }
    if (stmt == nullptr) {
      return Error{errc::invalid_argument, "no SQL statement in '" + sql_excerpt(sql) + "'"};
    }
    return std::unique_ptr<detail::DriverStatement>(std::make_unique<SqliteStatement>(stmt));
  }

  Result<void> exec(std::string_view sql) override {
    std::string text{sql};  // sqlite3_exec needs a terminated string
    char* err = nullptr;
    int rc = sqlite3_exec(db, text.c_str(), nullptr, nullptr, &err);
    if (rc != SQLITE_OK) {
      std::string msg = "'" + sql_excerpt(sql) +
                        "': " + (err != nullptr ? err : sqlite3_errstr(rc)) + " (" +
                        sqlite3_errstr(rc) + ")";
      sqlite3_free(err);
      return Error{code_for(rc), std::move(msg)};
    }
    return {};
  }

  [[nodiscard]] std::int64_t changes() const noexcept override { return sqlite3_changes64(db); }
  [[nodiscard]] bool in_transaction() const noexcept override {
    return sqlite3_get_autocommit(db) == 0;
  }
  [[nodiscard]] std::string_view begin_sql(TransactionKind kind) const noexcept override {
    return kind == TransactionKind::immediate ? "BEGIN IMMEDIATE" : "BEGIN DEFERRED";
  }
  Result<int> schema_version() override {
    sqlite3_stmt* st = nullptr;
    int rc = sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, nullptr);
    if (rc != SQLITE_OK) {
      sqlite3_finalize(st);
      return sqlite_error(db, rc, "PRAGMA user_version");
    }
    rc = sqlite3_step(st);
    int v = rc == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW) return sqlite_error(db, rc, "PRAGMA user_version");
    return v;
  }

  // BEGIN IMMEDIATE already holds the database's write lock.
  Result<void> lock_for_migration() override { return {}; }
  Result<void> set_schema_version(int version) override {
    return exec("PRAGMA user_version = " + std::to_string(version));
  }

  int bind_int64(detail::DriverStatement& st, int index, std::int64_t value) noexcept override {
    return sqlite3_bind_int64(h(st), index, value);
  }
  int bind_double(detail::DriverStatement& st, int index, double value) noexcept override {
    return sqlite3_bind_double(h(st), index, value);
  }
  int bind_text(detail::DriverStatement& st, int index, std::string_view value) noexcept override {
    // A null data pointer would bind NULL; an empty view must bind ''.
    const char* data = value.data() != nullptr ? value.data() : "";
    return sqlite3_bind_text64(h(st), index, data, value.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
  }
  int bind_null(detail::DriverStatement& st, int index) noexcept override {
    return sqlite3_bind_null(h(st), index);
  }
  [[nodiscard]] std::string bind_error(int code) const override { return sqlite3_errstr(code); }

  Result<Step> step(detail::DriverStatement& st) override {
    int rc = sqlite3_step(h(st));
    if (rc == SQLITE_ROW) return Step::row;
    if (rc == SQLITE_DONE) return Step::done;
    return sqlite_error(db, rc, "'" + sql_excerpt(sql(st)) + "'");
  }
  void reset(detail::DriverStatement& st) noexcept override {
    sqlite3_reset(h(st));
    sqlite3_clear_bindings(h(st));
  }
  [[nodiscard]] int column_count(const detail::DriverStatement& st) const noexcept override {
    return sqlite3_column_count(h(st));
  }
  [[nodiscard]] bool is_null(const detail::DriverStatement& st,
                             int column) const noexcept override {
    return sqlite3_column_type(h(st), column) == SQLITE_NULL;
  }
  [[nodiscard]] std::int64_t column_int64(const detail::DriverStatement& st,
                                          int column) const noexcept override {
    return sqlite3_column_int64(h(st), column);
  }
  [[nodiscard]] double column_double(const detail::DriverStatement& st,
                                     int column) const noexcept override {
    return sqlite3_column_double(h(st), column);
  }
  [[nodiscard]] std::string_view column_text(const detail::DriverStatement& st,
                                             int column) const noexcept override {
    const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(h(st), column));
    if (text == nullptr) return {};
    return {text, static_cast<std::size_t>(sqlite3_column_bytes(h(st), column))};
  }
  [[nodiscard]] std::string_view column_name(const detail::DriverStatement& st,
                                             int column) const noexcept override {
    const char* name = sqlite3_column_name(h(st), column);
    return name != nullptr ? name : "?";
  }
  [[nodiscard]] std::string_view sql(const detail::DriverStatement& st) const noexcept override {
    const char* s = sqlite3_sql(h(st));
    return s != nullptr ? std::string_view{s} : std::string_view{};
  }
  [[nodiscard]] void* native() const noexcept override { return db; }

  sqlite3* db = nullptr;
  std::unique_ptr<Checkpointer> checkpointer;
};

}  // namespace

Result<Database> Database::open(const std::string& path, const OpenOptions& options) {
  auto driver = std::make_unique<SqliteDriver>();
  // NOMUTEX: a connection is used by one thread at a time, so SQLite's own locking is waste.
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_URI | SQLITE_OPEN_NOMUTEX;
  int rc = sqlite3_open_v2(path.c_str(), &driver->db, flags, nullptr);
  if (rc != SQLITE_OK) {
    return sqlite_error(driver->db, rc, "cannot open database " + path);
  }
  sqlite3_extended_result_codes(driver->db, 1);
  sqlite3_busy_timeout(driver->db, static_cast<int>(options.busy_timeout.count()));
  SqliteDriver* raw = driver.get();

  Database db = Database::from_driver(std::move(driver), path, options.statement_cache_limit);
  // foreign_keys is per connection and a no-op inside a transaction: set it first.
  if (auto r = db.exec("PRAGMA foreign_keys = ON"); !r) return r.error();
  // Refuse a newer schema before changing anything in the file (journal mode included).
  if (auto r = check_schema_not_newer(db); !r) return r.error();

  {
    auto st = db.prepare("PRAGMA journal_mode = WAL");
    if (!st) return st.error();
    auto s = st->step();
    if (!s) return s.error();
    // ":memory:" answers "memory"; a file must really be in WAL, or readers block the writer.
    std::string mode = st->column_text(0);
    bool in_memory =
        path == ":memory:" || path.empty() || path.find("mode=memory") != std::string::npos;
    if (mode != "wal" && !in_memory) {
      return Error{errc::db_error,
                   "cannot switch " + path + " to WAL (journal_mode is " + mode + ")"};
    }
  }
  std::string pragmas = "PRAGMA synchronous = ";
  pragmas += options.synchronous == Synchronous::full ? "FULL" : "NORMAL";
  pragmas += "; PRAGMA cache_size = -" + std::to_string(options.cache_size_kib) + ";";
  if (auto r = db.exec(pragmas); !r) return r.error();

  if (options.migrate) {
    if (auto r = migrate(db); !r) return r.error();
  }
  if (options.background_checkpoint && path != ":memory:" && !path.empty() &&
      path.find("mode=memory") == std::string::npos) {
    sqlite3* conn = nullptr;
    rc = sqlite3_open_v2(path.c_str(), &conn, SQLITE_OPEN_READWRITE | SQLITE_OPEN_URI, nullptr);
    if (rc != SQLITE_OK) {
      auto e = sqlite_error(conn, rc, "cannot open the checkpoint connection to " + path);
      sqlite3_close_v2(conn);
      return e;
    }
    sqlite3_busy_timeout(conn, static_cast<int>(options.busy_timeout.count()));
    // The checkpoint syncs as the owner would have: the WAL before, the file after.
    sqlite3_exec(conn,
                 options.synchronous == Synchronous::full ? "PRAGMA synchronous = FULL"
                                                          : "PRAGMA synchronous = NORMAL",
                 nullptr, nullptr, nullptr);
    raw->checkpointer = std::make_unique<Checkpointer>(conn);
    // Replaces the automatic checkpoint in this connection's commits.
    sqlite3_wal_hook(
        raw->db,
        [](void* ctx, sqlite3*, const char*, int pages) {
          static_cast<Checkpointer*>(ctx)->logged(pages);
          return SQLITE_OK;
        },
        raw->checkpointer.get());
  }
  return db;
}

Result<std::unique_ptr<SqlStore>> SqlStore::open(const std::string& path,
                                                 const OpenOptions& options) {
  auto db = Database::open(path, options);
  if (!db) return db.error();
  return adopt(std::move(*db));
}

}  // namespace dialer::store
