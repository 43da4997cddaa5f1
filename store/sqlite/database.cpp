#include "store/sqlite/database.hpp"

#include "store/sqlite/migrations.hpp"

#include <sqlite3.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <utility>

namespace dialer::store {
namespace detail {

struct CachedStatement {
  sqlite3_stmt* stmt = nullptr;
  bool borrowed = false;
};

/// Heterogeneous lookup: prepare(string_view) must not build a std::string on a cache hit.
struct SqlHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const noexcept {
    return std::hash<std::string_view>{}(s);
  }
};

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

struct DatabaseImpl {
  sqlite3* db = nullptr;
  std::unique_ptr<Checkpointer> checkpointer;
  std::string path;
  std::size_t cache_limit = 0;
  std::uint64_t prepares = 0;
  int savepoint_depth = 0;
  // unique_ptr keeps each entry's address stable while the map rehashes.
  std::unordered_map<std::string, std::unique_ptr<CachedStatement>, SqlHash, std::equal_to<>> cache;

  ~DatabaseImpl() {
    if (checkpointer) {
      sqlite3_wal_hook(db, nullptr, nullptr);
      checkpointer.reset();
    }
    for (auto& [sql, entry] : cache) sqlite3_finalize(entry->stmt);
    cache.clear();
    // sqlite3_close_v2 defers the close until any statement a caller still holds is finalized.
    sqlite3_close_v2(db);
  }
};

}  // namespace detail

namespace {

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

std::string sql_excerpt(std::string_view sql) {
  constexpr std::size_t kMax = 80;
  std::string out;
  for (char c : sql.substr(0, kMax)) out += (c == '\n' || c == '\t') ? ' ' : c;
  if (sql.size() > kMax) out += "…";
  return out;
}

}  // namespace

std::optional<Synchronous> synchronous_from_string(std::string_view s) noexcept {
  if (s == "full") return Synchronous::full;
  if (s == "normal") return Synchronous::normal;
  return std::nullopt;
}

std::string_view to_string(Synchronous s) noexcept {
  return s == Synchronous::full ? "full" : "normal";
}

// ---- Statement -------------------------------------------------------------------------------

Statement::Statement(Statement&& other) noexcept
    : db_(std::exchange(other.db_, nullptr)),
      stmt_(std::exchange(other.stmt_, nullptr)),
      entry_(std::exchange(other.entry_, nullptr)),
      bind_rc_(std::exchange(other.bind_rc_, 0)),
      bind_index_(std::exchange(other.bind_index_, 0)) {}

Statement& Statement::operator=(Statement&& other) noexcept {
  if (this != &other) {
    release();
    db_ = std::exchange(other.db_, nullptr);
    stmt_ = std::exchange(other.stmt_, nullptr);
    entry_ = std::exchange(other.entry_, nullptr);
    bind_rc_ = std::exchange(other.bind_rc_, 0);
    bind_index_ = std::exchange(other.bind_index_, 0);
  }
  return *this;
}

Statement::~Statement() {
  release();
}

void Statement::release() noexcept {
  if (stmt_ == nullptr) return;
  if (entry_ != nullptr) {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
    entry_->borrowed = false;
  } else {
    sqlite3_finalize(stmt_);
  }
  stmt_ = nullptr;
  entry_ = nullptr;
  db_ = nullptr;
}

void Statement::note_bind(int rc, int index) noexcept {
  if (rc != SQLITE_OK && bind_rc_ == SQLITE_OK) {
    bind_rc_ = rc;
    bind_index_ = index;
  }
}

Statement& Statement::bind(int index, std::int64_t value) {
  note_bind(sqlite3_bind_int64(stmt_, index, value), index);
  return *this;
}

Statement& Statement::bind(int index, double value) {
  note_bind(sqlite3_bind_double(stmt_, index, value), index);
  return *this;
}

Statement& Statement::bind(int index, std::string_view value) {
  // A null data pointer would bind NULL; an empty view must bind ''.
  const char* data = value.data() != nullptr ? value.data() : "";
  note_bind(sqlite3_bind_text64(stmt_, index, data, value.size(), SQLITE_TRANSIENT, SQLITE_UTF8),
            index);
  return *this;
}

Statement& Statement::bind_null(int index) {
  note_bind(sqlite3_bind_null(stmt_, index), index);
  return *this;
}

Result<Step> Statement::step() {
  sqlite3* db = sqlite3_db_handle(stmt_);
  if (bind_rc_ != SQLITE_OK) {
    Error e{errc::db_error, "binding parameter " + std::to_string(bind_index_) + " of '" +
                                sql_excerpt(sql()) + "': " + sqlite3_errstr(bind_rc_)};
    reset();
    return e;
  }
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return Step::row;
  if (rc == SQLITE_DONE) return Step::done;
  Error e = sqlite_error(db, rc, "'" + sql_excerpt(sql()) + "'");
  reset();
  return e;
}

Result<void> Statement::run() {
  for (;;) {
    auto s = step();
    if (!s) return s.error();
    if (*s == Step::done) break;
  }
  sqlite3_reset(stmt_);
  return {};
}

void Statement::reset() noexcept {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
  bind_rc_ = SQLITE_OK;
  bind_index_ = 0;
}

int Statement::column_count() const noexcept {
  return sqlite3_column_count(stmt_);
}

bool Statement::is_null(int column) const noexcept {
  return sqlite3_column_type(stmt_, column) == SQLITE_NULL;
}

std::int64_t Statement::column_int64(int column) const noexcept {
  return sqlite3_column_int64(stmt_, column);
}

double Statement::column_double(int column) const noexcept {
  return sqlite3_column_double(stmt_, column);
}

std::string_view Statement::column_text_view(int column) const noexcept {
  const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, column));
  if (text == nullptr) return {};
  return {text, static_cast<std::size_t>(sqlite3_column_bytes(stmt_, column))};
}

std::optional<std::int64_t> Statement::column_optional_int64(int column) const noexcept {
  if (is_null(column)) return std::nullopt;
  return column_int64(column);
}

std::optional<double> Statement::column_optional_double(int column) const noexcept {
  if (is_null(column)) return std::nullopt;
  return column_double(column);
}

std::optional<std::string> Statement::column_optional_text(int column) const {
  if (is_null(column)) return std::nullopt;
  return column_text(column);
}

std::optional<TimePoint> Statement::column_optional_time(int column) const noexcept {
  if (is_null(column)) return std::nullopt;
  return column_time(column);
}

std::string_view Statement::sql() const noexcept {
  const char* s = sqlite3_sql(stmt_);
  return s != nullptr ? std::string_view{s} : std::string_view{};
}

Error Statement::bad_enum(int column) const {
  const char* name = sqlite3_column_name(stmt_, column);
  return Error{errc::db_error, std::string{"unknown value '"} +
                                   std::string{column_text_view(column)} + "' in column " +
                                   (name != nullptr ? name : "?")};
}

// ---- Database --------------------------------------------------------------------------------

Database::Database(std::unique_ptr<detail::DatabaseImpl> impl) noexcept : impl_(std::move(impl)) {}
Database::Database(Database&&) noexcept = default;
Database& Database::operator=(Database&&) noexcept = default;
Database::~Database() = default;

Result<Database> Database::open(const std::string& path, const OpenOptions& options) {
  auto impl = std::make_unique<detail::DatabaseImpl>();
  impl->path = path;
  impl->cache_limit = options.statement_cache_limit;
  // NOMUTEX: a connection is used by one thread at a time, so SQLite's own locking is waste.
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_URI | SQLITE_OPEN_NOMUTEX;
  int rc = sqlite3_open_v2(path.c_str(), &impl->db, flags, nullptr);
  if (rc != SQLITE_OK) {
    return sqlite_error(impl->db, rc, "cannot open database " + path);
  }
  sqlite3_extended_result_codes(impl->db, 1);
  sqlite3_busy_timeout(impl->db, static_cast<int>(options.busy_timeout.count()));

  Database db{std::move(impl)};
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
  if (options.background_checkpoint && db.impl_->path != ":memory:" && !db.impl_->path.empty() &&
      db.impl_->path.find("mode=memory") == std::string::npos) {
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
    db.impl_->checkpointer = std::make_unique<detail::Checkpointer>(conn);
    // Replaces the automatic checkpoint in this connection's commits.
    sqlite3_wal_hook(
        db.impl_->db,
        [](void* ctx, sqlite3*, const char*, int pages) {
          static_cast<detail::Checkpointer*>(ctx)->logged(pages);
          return SQLITE_OK;
        },
        db.impl_->checkpointer.get());
  }
  return db;
}

Result<Statement> Database::prepare(std::string_view sql) {
  auto& d = *impl_;
  auto it = d.cache.find(sql);
  if (it != d.cache.end() && !it->second->borrowed) {
    it->second->borrowed = true;
    return Statement{&d, it->second->stmt, it->second.get()};
  }
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v3(d.db, sql.data(), static_cast<int>(sql.size()),
                              SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
  ++d.prepares;
  if (rc != SQLITE_OK) {
    sqlite3_finalize(stmt);
    return sqlite_error(d.db, rc, "preparing '" + sql_excerpt(sql) + "'");
  }
  if (stmt == nullptr) {
    return Error{errc::invalid_argument, "no SQL statement in '" + sql_excerpt(sql) + "'"};
  }
  if (it == d.cache.end() && d.cache.size() < d.cache_limit) {
    auto entry = std::make_unique<detail::CachedStatement>();
    entry->stmt = stmt;
    entry->borrowed = true;
    auto* raw = entry.get();
    d.cache.emplace(std::string{sql}, std::move(entry));
    return Statement{&d, stmt, raw};
  }
  return Statement{&d, stmt, nullptr};
}

Result<void> Database::exec(std::string_view sql) {
  std::string text{sql};  // sqlite3_exec needs a terminated string
  char* err = nullptr;
  int rc = sqlite3_exec(impl_->db, text.c_str(), nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    std::string msg = "'" + sql_excerpt(sql) + "': " + (err != nullptr ? err : sqlite3_errstr(rc)) +
                      " (" + sqlite3_errstr(rc) + ")";
    sqlite3_free(err);
    return Error{code_for(rc), std::move(msg)};
  }
  return {};
}

std::int64_t Database::last_insert_rowid() const noexcept {
  return sqlite3_last_insert_rowid(impl_->db);
}

std::int64_t Database::changes() const noexcept {
  return sqlite3_changes64(impl_->db);
}

bool Database::in_transaction() const noexcept {
  return sqlite3_get_autocommit(impl_->db) == 0;
}

const std::string& Database::path() const noexcept {
  return impl_->path;
}

Result<int> Database::user_version() {
  auto st = prepare("PRAGMA user_version");
  if (!st) return st.error();
  auto s = st->step();
  if (!s) return s.error();
  return static_cast<int>(st->column_int64(0));
}

std::size_t Database::cached_statements() const noexcept {
  return impl_->cache.size();
}

std::uint64_t Database::prepare_count() const noexcept {
  return impl_->prepares;
}

sqlite3* Database::handle() const noexcept {
  return impl_->db;
}

// ---- Transaction -----------------------------------------------------------------------------

namespace {

Result<void> exec_on(detail::DatabaseImpl* d, const std::string& sql) {
  char* err = nullptr;
  int rc = sqlite3_exec(d->db, sql.c_str(), nullptr, nullptr, &err);
  sqlite3_free(err);
  if (rc != SQLITE_OK) return sqlite_error(d->db, rc, sql);
  return {};
}

std::string savepoint_name(int n) {
  return "sp_" + std::to_string(n);
}

}  // namespace

Result<Transaction> Transaction::begin(Database& db, TransactionKind kind) {
  auto* d = db.impl_.get();
  if (sqlite3_get_autocommit(d->db) != 0) {
    // A fresh top-level transaction: any savepoint count left from a failed commit is stale.
    d->savepoint_depth = 0;
    auto r = exec_on(d, kind == TransactionKind::immediate ? "BEGIN IMMEDIATE" : "BEGIN DEFERRED");
    if (!r) return r.error();
    return Transaction{d, 0};
  }
  int n = ++d->savepoint_depth;
  auto r = exec_on(d, "SAVEPOINT " + savepoint_name(n));
  if (!r) {
    --d->savepoint_depth;
    return r.error();
  }
  return Transaction{d, n};
}

Transaction::Transaction(Transaction&& other) noexcept
    : db_(std::exchange(other.db_, nullptr)), savepoint_(std::exchange(other.savepoint_, 0)) {}

Transaction& Transaction::operator=(Transaction&& other) noexcept {
  if (this != &other) {
    rollback();
    db_ = std::exchange(other.db_, nullptr);
    savepoint_ = std::exchange(other.savepoint_, 0);
  }
  return *this;
}

Transaction::~Transaction() {
  rollback();
}

Result<void> Transaction::commit() {
  if (db_ == nullptr) return Error{errc::conflict, "transaction already finished"};
  if (savepoint_ == 0) {
    if (auto r = exec_on(db_, "COMMIT"); !r) return r.error();
  } else {
    if (auto r = exec_on(db_, "RELEASE " + savepoint_name(savepoint_)); !r) return r.error();
    --db_->savepoint_depth;
  }
  db_ = nullptr;
  return {};
}

void Transaction::rollback() noexcept {
  if (db_ == nullptr) return;
  auto* d = std::exchange(db_, nullptr);
  // Errors are ignored: SQLite may already have rolled the whole transaction back (I/O error,
  // disk full), in which case there is nothing left to undo.
  if (savepoint_ == 0) {
    if (sqlite3_get_autocommit(d->db) == 0)
      sqlite3_exec(d->db, "ROLLBACK", nullptr, nullptr, nullptr);
    d->savepoint_depth = 0;
  } else {
    if (sqlite3_get_autocommit(d->db) == 0) {
      std::string name = savepoint_name(savepoint_);
      sqlite3_exec(d->db, ("ROLLBACK TO " + name + "; RELEASE " + name).c_str(), nullptr, nullptr,
                   nullptr);
    }
    --d->savepoint_depth;
  }
}

std::string column_list(std::span<const std::string_view> columns, std::string_view alias) {
  std::string out;
  for (auto c : columns) {
    if (!out.empty()) out += ", ";
    if (!alias.empty()) {
      out += alias;
      out += '.';
    }
    out += c;
  }
  return out;
}

}  // namespace dialer::store
