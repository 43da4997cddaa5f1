#pragma once
/// One SQL engine's side of store::Database and store::Statement: SQLite
/// (store/sqlite/sqlite_driver.cpp) and PostgreSQL (store/postgresql/pg_driver.cpp). The
/// repositories (store/sql/) are written once against Database; a driver runs their SQL — `?` and
/// `?N` parameters, the subset of SQL both engines speak — on its engine. Not for use outside the
/// store: include store/sql/database.hpp.

#include "core/errc.hpp"
#include "store/sql/database.hpp"

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

namespace dialer::store::detail {

/// A prepared statement of a driver; what it holds is the driver's business.
struct DriverStatement {
  virtual ~DriverStatement() = default;
};

class Driver {
 public:
  virtual ~Driver() = default;

  [[nodiscard]] virtual Backend backend() const noexcept = 0;
  /// Prepares one statement; errc::invalid_argument when `sql` holds none.
  virtual Result<std::unique_ptr<DriverStatement>> prepare(std::string_view sql) = 0;
  /// Runs a script of one or more statements (DDL, migrations).
  virtual Result<void> exec(std::string_view script) = 0;
  /// Rows changed by the last INSERT/UPDATE/DELETE.
  [[nodiscard]] virtual std::int64_t changes() const noexcept = 0;
  /// True while a transaction is open on the connection.
  [[nodiscard]] virtual bool in_transaction() const noexcept = 0;
  /// What begins a top-level transaction of `kind`.
  [[nodiscard]] virtual std::string_view begin_sql(TransactionKind kind) const noexcept = 0;
  /// The schema version of the database (SQLite: PRAGMA user_version; PostgreSQL: its
  /// dialer_schema table; 0 for an empty database).
  virtual Result<int> schema_version() = 0;
  /// Inside a migration's transaction: waits until no other process migrates the same database
  /// (SQLite: the write lock BEGIN IMMEDIATE took; PostgreSQL: a transaction advisory lock, and
  /// the version table created if missing).
  virtual Result<void> lock_for_migration() = 0;
  /// Inside a migration's transaction: records the version reached.
  virtual Result<void> set_schema_version(int version) = 0;

  // Binding never fails on the spot: a non-zero answer is remembered by the Statement and
  // returned, described by bind_error(), by its next step().
  virtual int bind_int64(DriverStatement& st, int index, std::int64_t value) noexcept = 0;
  virtual int bind_double(DriverStatement& st, int index, double value) noexcept = 0;
  virtual int bind_text(DriverStatement& st, int index, std::string_view value) noexcept = 0;
  virtual int bind_null(DriverStatement& st, int index) noexcept = 0;
  [[nodiscard]] virtual std::string bind_error(int code) const = 0;

  /// One step; on failure the statement is reset by the caller.
  virtual Result<Step> step(DriverStatement& st) = 0;
  /// Back to before the first step, bindings cleared.
  virtual void reset(DriverStatement& st) noexcept = 0;
  [[nodiscard]] virtual int column_count(const DriverStatement& st) const noexcept = 0;
  [[nodiscard]] virtual bool is_null(const DriverStatement& st, int column) const noexcept = 0;
  [[nodiscard]] virtual std::int64_t column_int64(const DriverStatement& st,
                                                  int column) const noexcept = 0;
  [[nodiscard]] virtual double column_double(const DriverStatement& st,
                                             int column) const noexcept = 0;
  [[nodiscard]] virtual std::string_view column_text(const DriverStatement& st,
                                                     int column) const noexcept = 0;
  [[nodiscard]] virtual std::string_view column_name(const DriverStatement& st,
                                                     int column) const noexcept = 0;
  [[nodiscard]] virtual std::string_view sql(const DriverStatement& st) const noexcept = 0;

  /// The engine's own connection handle (sqlite3*), or nullptr.
  [[nodiscard]] virtual void* native() const noexcept { return nullptr; }
};

struct CachedStatement {
  std::unique_ptr<DriverStatement> stmt;
  bool borrowed = false;
};

/// Heterogeneous lookup: prepare(string_view) must not build a std::string on a cache hit.
struct SqlHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const noexcept {
    return std::hash<std::string_view>{}(s);
  }
};

struct DatabaseImpl {
  std::unique_ptr<Driver> driver;
  std::string path;  ///< the file, or a description of the server (messages)
  std::size_t cache_limit = 0;
  std::uint64_t prepares = 0;
  int savepoint_depth = 0;
  // unique_ptr keeps each entry's address stable while the map rehashes.
  std::unordered_map<std::string, std::unique_ptr<CachedStatement>, SqlHash, std::equal_to<>> cache;

  ~DatabaseImpl() {
    cache.clear();  // statements before their connection
    driver.reset();
  }
};

/// The first ~80 characters of `sql`, for messages.
std::string sql_excerpt(std::string_view sql);

}  // namespace dialer::store::detail
