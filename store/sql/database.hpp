#pragma once
/// SQLite done small: RAII `Database`, `Statement` and `Transaction`, a statement cache keyed on
/// SQL text, WAL, `BEGIN IMMEDIATE` for writes. One `Database` is one connection, used by one
/// thread at a time (the event loop, or an import worker with its own connection).

#include "core/enums.hpp"
#include "core/errc.hpp"
#include "core/time.hpp"

#include <concepts>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

struct sqlite3;

namespace dialer::store {

/// PRAGMA synchronous: `full` survives power loss, `normal` (WAL) may lose the last commits.
enum class Synchronous { full, normal };

/// "full" / "normal" (the config spelling).
std::optional<Synchronous> synchronous_from_string(std::string_view s) noexcept;
std::string_view to_string(Synchronous s) noexcept;

struct OpenOptions {
  Synchronous synchronous = Synchronous::full;
  /// How long a statement waits for another connection's write lock before failing.
  Millis busy_timeout{5000};
  /// Page cache per connection (PRAGMA cache_size in KiB); bounds memory, speeds up imports.
  int cache_size_kib = 8 * 1024;
  /// Bring the schema to current_schema_version() while opening (store/migrations.hpp).
  bool migrate = true;
  /// Statements kept prepared; SQL beyond this is prepared per use and finalized.
  std::size_t statement_cache_limit = 256;
  /// Checkpoint the WAL on a thread of its own (with its own connection) instead of in whichever
  /// commit of this connection crosses wal_autocheckpoint: a checkpoint writes pages back and
  /// syncs, which would otherwise land on this connection's caller (the event loop). File
  /// databases only.
  bool background_checkpoint = false;
};

/// The SQL engine under a Database.
enum class Backend { sqlite, postgresql };

/// How to reach a PostgreSQL server (store.backend: postgresql).
struct PgOptions {
  /// libpq conninfo ("host=… port=… dbname=… user=…"), without a password.
  std::string conninfo;
  /// The password, read from a file by the caller; "" when the server needs none.
  std::string password;
  /// The schema dialerd's tables live in ("" = the server's search_path, normally public).
  std::string schema;
  /// Bring the schema to the current version while opening.
  bool migrate = true;
  /// Statements kept prepared (client side).
  std::size_t statement_cache_limit = 256;
  /// How long connecting may take, and any one statement.
  Millis connect_timeout{5000};
  Millis statement_timeout{30000};
  /// A transaction left idle this long is ended by the server (a dead node's locks go).
  Millis idle_in_transaction_timeout{10000};
};

class Database;
enum class TransactionKind;
namespace detail {
struct DatabaseImpl;
struct CachedStatement;
struct DriverStatement;
class Driver;
}  // namespace detail

/// What one step produced.
enum class Step { row, done };

/// A prepared statement borrowed from its Database's cache. On destruction (or reset()) it is
/// reset, its bindings cleared, and it goes back to the cache. Must not outlive its Database.
/// Indexes are 1-based for bind (as in SQLite) and 0-based for columns.
class Statement {
 public:
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&& other) noexcept;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement();

  // Binding never fails on the spot: the first failure is remembered and returned by step().
  Statement& bind(int index, std::int64_t value);
  Statement& bind(int index, double value);
  Statement& bind(int index, std::string_view value);
  Statement& bind(int index, const char* value) { return bind(index, std::string_view{value}); }
  Statement& bind(int index, const std::string& value) {
    return bind(index, std::string_view{value});
  }
  Statement& bind(int index, std::nullptr_t) { return bind_null(index); }
  Statement& bind(int index, TimePoint value) { return bind(index, to_unix_ms(value)); }
  Statement& bind_null(int index);
  /// Any integer type (bool, int, …) binds as int64.
  template <std::integral I>
  Statement& bind(int index, I value) {
    return bind(index, static_cast<std::int64_t>(value));
  }
  /// Enums of core/enums.hpp bind as their storage name.
  template <class E>
  requires std::is_enum_v<E> Statement& bind(int index, E value) {
    return bind(index, dialer::to_string(value));
  }
  /// nullopt binds NULL.
  template <class T>
  Statement& bind(int index, const std::optional<T>& value) {
    return value ? bind(index, *value) : bind_null(index);
  }

  /// Binds the arguments to parameters 1, 2, … in order.
  template <class... Args>
  Statement& bind_all(const Args&... args) {
    int index = 0;
    (bind(++index, args), ...);
    return *this;
  }

  /// Runs one step. A failure leaves the statement reset, ready for new bindings.
  Result<Step> step();
  /// Steps to completion (INSERT/UPDATE/DELETE/DDL), then resets. Rows are skipped.
  Result<void> run();
  /// Resets to before the first step and clears the bindings.
  void reset() noexcept;

  [[nodiscard]] int column_count() const noexcept;
  [[nodiscard]] bool is_null(int column) const noexcept;
  [[nodiscard]] std::int64_t column_int64(int column) const noexcept;
  [[nodiscard]] double column_double(int column) const noexcept;
  [[nodiscard]] bool column_bool(int column) const noexcept { return column_int64(column) != 0; }
  /// NULL reads as "". The view is valid until the next step/reset.
  [[nodiscard]] std::string_view column_text_view(int column) const noexcept;
  [[nodiscard]] std::string column_text(int column) const {
    return std::string{column_text_view(column)};
  }
  [[nodiscard]] TimePoint column_time(int column) const noexcept {
    return from_unix_ms(column_int64(column));
  }
  [[nodiscard]] std::optional<std::int64_t> column_optional_int64(int column) const noexcept;
  [[nodiscard]] std::optional<double> column_optional_double(int column) const noexcept;
  [[nodiscard]] std::optional<std::string> column_optional_text(int column) const;
  [[nodiscard]] std::optional<TimePoint> column_optional_time(int column) const noexcept;
  /// An enum stored by name; a name this build does not know is a db_error naming the column.
  template <class E>
  Result<E> column_enum(int column) const {
    if (auto e = dialer::from_string<E>(column_text_view(column))) return *e;
    return bad_enum(column);
  }
  /// NULL reads as nullopt.
  template <class E>
  Result<std::optional<E>> column_optional_enum(int column) const {
    if (is_null(column)) return std::optional<E>{};
    if (auto e = dialer::from_string<E>(column_text_view(column))) return std::optional<E>{*e};
    return bad_enum(column);
  }

  [[nodiscard]] std::string_view sql() const noexcept;
  /// The driver's statement (its identity: the statement cache's tests compare it).
  [[nodiscard]] const void* handle() const noexcept { return stmt_; }

 private:
  friend class Database;
  Statement(detail::DatabaseImpl* db, detail::DriverStatement* stmt,
            detail::CachedStatement* entry) noexcept
      : db_(db), stmt_(stmt), entry_(entry) {}
  void note_bind(int rc, int index) noexcept;
  void release() noexcept;
  [[nodiscard]] Error bad_enum(int column) const;

  detail::DatabaseImpl* db_ = nullptr;
  detail::DriverStatement* stmt_ = nullptr;
  detail::CachedStatement* entry_ = nullptr;  ///< null: not cached, deleted on release
  int bind_rc_ = 0;
  int bind_index_ = 0;
};

namespace detail {
template <class T>
struct RowValue {
  using type = T;
  static constexpr bool fallible = false;
};
template <class T>
struct RowValue<Result<T>> {
  using type = T;
  static constexpr bool fallible = true;
};
}  // namespace detail

/// Steps `st` to its end and returns what `read(st)` makes of each row, in order: the
/// prepare / step / read / push_back loop of every repository query. `read` returns the row's
/// value, or a Result of it, in which case the first error ends the loop and is returned. A
/// failed step is returned as it is.
template <class Read,
          class Ret = std::remove_cvref_t<std::invoke_result_t<Read&, const Statement&>>>
Result<std::vector<typename detail::RowValue<Ret>::type>> collect_rows(Statement& st, Read&& read) {
  std::vector<typename detail::RowValue<Ret>::type> rows;
  for (;;) {
    auto s = st.step();
    if (!s) return s.error();
    if (*s == Step::done) break;
    if constexpr (detail::RowValue<Ret>::fallible) {
      auto row = read(std::as_const(st));
      if (!row) return row.error();
      rows.push_back(std::move(*row));
    } else {
      rows.push_back(read(std::as_const(st)));
    }
  }
  return rows;
}

/// A `LIMIT ?` argument: a negative limit ("all") as the largest one, which both engines take.
constexpr std::int64_t no_limit_if_negative(std::int64_t limit) noexcept {
  return limit < 0 ? INT64_MAX : limit;
}

/// "a, b, c" — or "t.a, t.b, t.c" with `alias` t — for the SELECT of a row reader.
std::string column_list(std::span<const std::string_view> columns, std::string_view alias = {});

/// One connection to an SQL engine: SQLite (the embedded default) or PostgreSQL. The repositories
/// (store/sql/) speak the SQL both accept, with `?` / `?N` parameters. Movable (statements
/// borrowed from it stay valid), not copyable.
class Database {
 public:
  /// SQLite (store/sqlite/sqlite_driver.cpp): opens (creating if missing) `path`, or
  /// ":memory:", or a `file:` URI. Applies WAL (file databases), synchronous, foreign_keys=ON and
  /// busy_timeout, refuses a database written by a newer dialerd (errc::schema_too_new) and, with
  /// options.migrate, migrates it.
  static Result<Database> open(const std::string& path, const OpenOptions& options = {});
  /// PostgreSQL (store/postgresql/pg_driver.cpp): connects, refuses a newer schema and, with
  /// options.migrate, migrates it. The password never reaches a message.
  static Result<Database> open_postgresql(const PgOptions& options);
  /// A connection over a driver (what the two functions above end with).
  static Database from_driver(std::unique_ptr<detail::Driver> driver, std::string path,
                              std::size_t statement_cache_limit);

  [[nodiscard]] Backend backend() const noexcept;

  Database(Database&&) noexcept;
  Database& operator=(Database&&) noexcept;
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;
  ~Database();

  /// The cached statement for this SQL text (prepared on first use, reused afterwards). When
  /// the cached one is already borrowed (a nested use of the same SQL), a fresh one is
  /// prepared for this borrower.
  Result<Statement> prepare(std::string_view sql);
  /// Prepares (cached), binds the arguments to parameters 1, 2, … and runs a write statement.
  /// Returns the number of rows it changed.
  template <class... Args>
  Result<std::int64_t> execute(std::string_view sql, const Args&... args) {
    auto st = prepare(sql);
    if (!st) return st.error();
    st->bind_all(args...);
    if (auto r = st->run(); !r) return r.error();
    return changes();
  }

  /// The first column of the first row of a query (count(*), EXISTS, …), as an integer;
  /// errc::not_found when the query returns no row.
  template <class... Args>
  Result<std::int64_t> query_int64(std::string_view sql, const Args&... args) {
    auto st = prepare(sql);
    if (!st) return st.error();
    st->bind_all(args...);
    auto s = st->step();
    if (!s) return s.error();
    if (*s == Step::done) return Error{errc::not_found, "no row"};
    return st->column_int64(0);
  }

  /// Runs a script of one or more statements, uncached (DDL, migrations, PRAGMAs).
  Result<void> exec(std::string_view sql);

  /// Rows changed by the last INSERT/UPDATE/DELETE.
  [[nodiscard]] std::int64_t changes() const noexcept;
  /// True while a transaction is open on this connection.
  [[nodiscard]] bool in_transaction() const noexcept;
  /// The path given to open() (used in messages).
  [[nodiscard]] const std::string& path() const noexcept;
  /// The schema version (SQLite: PRAGMA user_version; PostgreSQL: the dialer_schema table).
  Result<int> user_version();
  /// For migrations (store/sql/migrations.hpp), inside their transaction.
  Result<void> lock_for_migration();
  Result<void> set_user_version(int version);

  /// Statements currently held by the cache.
  [[nodiscard]] std::size_t cached_statements() const noexcept;
  /// Prepares made so far (a cache hit makes none).
  [[nodiscard]] std::uint64_t prepare_count() const noexcept;

  /// The raw SQLite connection, for what this wrapper does not cover; nullptr on PostgreSQL.
  [[nodiscard]] sqlite3* handle() const noexcept;

 private:
  friend class Transaction;
  explicit Database(std::unique_ptr<detail::DatabaseImpl> impl) noexcept;
  std::unique_ptr<detail::DatabaseImpl> impl_;
};

/// Opens a connection of the caller's own to the daemon's store (a worker thread's: imports,
/// exports, DNC imports, metrics counts), whichever the backend.
using Connector = std::function<Result<Database>()>;

enum class TransactionKind {
  immediate,  ///< takes the write lock at once: every transaction that may write
  deferred,   ///< a read-only snapshot
};

/// A transaction, rolled back on destruction unless committed. Begun inside another transaction
/// on the same connection it is a SAVEPOINT, so repositories that need atomicity compose: a
/// repository call made inside a caller's transaction joins it. Do not write inside a deferred
/// (read) transaction: upgrading its lock can fail with a busy error that no wait resolves.
class Transaction {
 public:
  static Result<Transaction> begin(Database& db, TransactionKind kind = TransactionKind::immediate);

  Transaction(Transaction&& other) noexcept;
  Transaction& operator=(Transaction&& other) noexcept;
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  ~Transaction();

  /// COMMIT (or RELEASE of the savepoint). On failure the transaction stays open and is rolled
  /// back on destruction.
  Result<void> commit();
  /// Rolls back now; a no-op once committed or rolled back.
  void rollback() noexcept;
  [[nodiscard]] bool active() const noexcept { return db_ != nullptr; }

 private:
  Transaction(detail::DatabaseImpl* db, int savepoint) noexcept : db_(db), savepoint_(savepoint) {}
  detail::DatabaseImpl* db_ = nullptr;
  int savepoint_ = 0;  ///< 0: the outermost transaction; n: SAVEPOINT sp_n
};

}  // namespace dialer::store
