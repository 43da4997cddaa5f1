// The PostgreSQL driver of store::Database (store/sql/driver.hpp) and Database::open_postgresql.
//
// libpq, not libpqxx: libpqxx 6.4 reports every failure by exception, where the store answers
// expected failures as values (a unique key taken is errc::duplicate, a lost server a db_error),
// and the driver needs nothing libpq does not give directly (text-format parameters, SQLSTATE,
// affected-row counts, connection keepalives).
//
// The repositories' SQL is the subset both engines take: `?` and `?N` parameters become `$N`
// here; integers go as int8, doubles as float8, text as unknown (the server infers its type from
// the context, as SQLite's affinity does). Results come back in text format. A statement that
// writes inside a transaction runs under a savepoint of its own, so a failed one (a unique key)
// leaves the transaction usable, as in SQLite.
#include "store/sql/driver.hpp"
#include "store/sql/migrations.hpp"
#include "store/sql/sql_store.hpp"

#include <cctype>
#include <charconv>
#include <cstdlib>
#include <libpq-fe.h>
#include <regex>
#include <string>
#include <utility>
#include <vector>

namespace dialer::store {
namespace {

using detail::sql_excerpt;

constexpr Oid kInt8 = 20;
constexpr Oid kFloat8 = 701;

/// `?` → `$k` (k counting), `?N` → `$N`; quoted text and identifiers are left alone. Returns the
/// number of parameters (the highest index).
int translate_placeholders(std::string_view sql, std::string& out) {
  out.clear();
  out.reserve(sql.size() + 8);
  int next = 0;
  int highest = 0;
  char quote = 0;
  for (std::size_t i = 0; i < sql.size(); ++i) {
    const char c = sql[i];
    if (quote != 0) {
      out += c;
      if (c == quote) quote = 0;
      continue;
    }
    if (c == '\'' || c == '"') {
      quote = c;
      out += c;
      continue;
    }
    if (c != '?') {
      out += c;
      continue;
    }
    std::size_t j = i + 1;
    while (j < sql.size() && sql[j] >= '0' && sql[j] <= '9') ++j;
    int index = 0;
    if (j > i + 1) {
      std::from_chars(sql.data() + i + 1, sql.data() + j, index);
      i = j - 1;
    } else {
      index = ++next;
    }
    if (index > highest) highest = index;
    out += '$';
    out += std::to_string(index);
  }
  return highest;
}

/// SQLite's index hints (`INDEXED BY name`, `NOT INDEXED`) dropped: PostgreSQL has none, and
/// its planner finds the same partial indexes by itself.
void drop_index_hints(std::string& sql) {
  static const std::regex hint{R"(\s+(INDEXED\s+BY\s+\w+|NOT\s+INDEXED)\b)",
                               std::regex::icase | std::regex::optimize};
  if (sql.find("INDEXED") == std::string::npos && sql.find("indexed") == std::string::npos) return;
  sql = std::regex_replace(sql, hint, "");
}

bool is_write(std::string_view sql) {
  std::size_t i = sql.find_first_not_of(" \t\r\n(");
  if (i == std::string_view::npos) return false;
  auto word = sql.substr(i, 6);
  auto upper = [](std::string_view w, std::string_view k) {
    if (w.size() < k.size()) return false;
    for (std::size_t n = 0; n < k.size(); ++n) {
      if (std::toupper(static_cast<unsigned char>(w[n])) != k[n]) return false;
    }
    return true;
  };
  return upper(word, "INSERT") || upper(word, "UPDATE") || upper(word, "DELETE");
}

/// SQLSTATE to the project's codes: callers branch on duplicate and timeout.
errc code_for(const char* sqlstate) noexcept {
  if (sqlstate == nullptr) return errc::db_error;
  std::string_view s{sqlstate};
  if (s == "23505") return errc::duplicate;
  if (s == "57014" || s == "55P03" || s == "40001" || s == "40P01") return errc::timeout;
  return errc::db_error;
}

std::string trimmed(const char* message) {
  std::string m = message != nullptr ? message : "";
  while (!m.empty() && (m.back() == '\n' || m.back() == ' ')) m.pop_back();
  return m;
}

struct PgStatement final : detail::DriverStatement {
  ~PgStatement() override { clear(); }
  void clear() noexcept {
    if (result != nullptr) PQclear(result);
    result = nullptr;
    executed = false;
    row = -1;
    rows = 0;
  }
  std::string original;
  std::string text;  ///< with $N parameters
  bool write = false;
  std::vector<std::string> values;
  std::vector<char> null;
  std::vector<Oid> types;
  PGresult* result = nullptr;
  bool executed = false;
  int row = -1;
  int rows = 0;
};

PgStatement& p(detail::DriverStatement& st) {
  return static_cast<PgStatement&>(st);
}
const PgStatement& p(const detail::DriverStatement& st) {
  return static_cast<const PgStatement&>(st);
}

class PgDriver final : public detail::Driver {
 public:
  explicit PgDriver(PGconn* conn) : conn_(conn) {}
  PgDriver(const PgDriver&) = delete;
  PgDriver& operator=(const PgDriver&) = delete;
  ~PgDriver() override { PQfinish(conn_); }

  [[nodiscard]] Backend backend() const noexcept override { return Backend::postgresql; }

  Result<std::unique_ptr<detail::DriverStatement>> prepare(std::string_view sql) override {
    auto st = std::make_unique<PgStatement>();
    st->original = std::string{sql};
    const int n = translate_placeholders(sql, st->text);
    drop_index_hints(st->text);
    if (st->text.find_first_not_of(" \t\r\n;") == std::string::npos) {
      return Error{errc::invalid_argument, "no SQL statement in '" + sql_excerpt(sql) + "'"};
    }
    st->write = is_write(sql);
    st->values.assign(static_cast<std::size_t>(n), {});
    st->null.assign(static_cast<std::size_t>(n), 1);
    st->types.assign(static_cast<std::size_t>(n), 0);
    return std::unique_ptr<detail::DriverStatement>(std::move(st));
  }

  Result<void> exec(std::string_view script) override {
    PGresult* r = PQexec(conn_, std::string{script}.c_str());
    auto e = check(r, script);
    PQclear(r);
    return e;
  }

  [[nodiscard]] std::int64_t changes() const noexcept override { return changes_; }
  [[nodiscard]] bool in_transaction() const noexcept override {
    const auto s = PQtransactionStatus(conn_);
    return s == PQTRANS_INTRANS || s == PQTRANS_INERROR || s == PQTRANS_ACTIVE;
  }
  [[nodiscard]] std::string_view begin_sql(TransactionKind kind) const noexcept override {
    return kind == TransactionKind::immediate ? "BEGIN"
                                              : "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY";
  }

  Result<int> schema_version() override {
    // Two queries: a statement naming dialer_schema does not parse while the table is missing.
    PGresult* r = PQexec(conn_, "SELECT to_regclass('dialer_schema') IS NOT NULL");
    if (auto e = check(r, "reading the schema version"); !e) {
      PQclear(r);
      return e.error();
    }
    const bool exists = PQntuples(r) == 1 && std::string_view{PQgetvalue(r, 0, 0)} == "t";
    PQclear(r);
    if (!exists) return 0;
    r = PQexec(conn_, "SELECT coalesce(max(version), 0) FROM dialer_schema");
    if (auto e = check(r, "reading the schema version"); !e) {
      PQclear(r);
      return e.error();
    }
    int v = PQntuples(r) == 1 ? std::atoi(PQgetvalue(r, 0, 0)) : 0;
    PQclear(r);
    return v;
  }
  Result<void> lock_for_migration() override {
    return exec(
        "SELECT pg_advisory_xact_lock(7370021); "
        "CREATE TABLE IF NOT EXISTS dialer_schema (version BIGINT NOT NULL)");
  }
  Result<void> set_schema_version(int version) override {
    return exec("DELETE FROM dialer_schema; INSERT INTO dialer_schema (version) VALUES (" +
                std::to_string(version) + ")");
  }

  int bind_int64(detail::DriverStatement& st, int index, std::int64_t value) noexcept override {
    return set(p(st), index, std::to_string(value), kInt8);
  }
  int bind_double(detail::DriverStatement& st, int index, double value) noexcept override {
    char buf[32];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
    if (ec != std::errc{}) return 2;
    return set(p(st), index, std::string(buf, end), kFloat8);
  }
  int bind_text(detail::DriverStatement& st, int index, std::string_view value) noexcept override {
    if (value.find('\0') != std::string_view::npos) return 3;
    return set(p(st), index, std::string{value}, 0);
  }
  int bind_null(detail::DriverStatement& st, int index) noexcept override {
    auto& s = p(st);
    if (index < 1 || static_cast<std::size_t>(index) > s.values.size()) return 1;
    s.null[static_cast<std::size_t>(index - 1)] = 1;
    s.types[static_cast<std::size_t>(index - 1)] = 0;
    return 0;
  }
  [[nodiscard]] std::string bind_error(int code) const override {
    switch (code) {
      case 1:
        return "no such parameter";
      case 2:
        return "a number that cannot be written";
      case 3:
        return "text holding a NUL byte";
      default:
        return "cannot bind";
    }
  }

  Result<Step> step(detail::DriverStatement& st) override {
    auto& s = p(st);
    if (!s.executed) {
      if (auto r = execute(s); !r) return r.error();
    }
    if (++s.row < s.rows) return Step::row;
    return Step::done;
  }
  void reset(detail::DriverStatement& st) noexcept override {
    auto& s = p(st);
    s.clear();
    std::fill(s.null.begin(), s.null.end(), 1);
    std::fill(s.types.begin(), s.types.end(), 0);
  }
  [[nodiscard]] int column_count(const detail::DriverStatement& st) const noexcept override {
    const auto& s = p(st);
    return s.result != nullptr ? PQnfields(s.result) : 0;
  }
  [[nodiscard]] bool is_null(const detail::DriverStatement& st,
                             int column) const noexcept override {
    const auto& s = p(st);
    if (!has(s, column)) return true;
    return PQgetisnull(s.result, s.row, column) == 1;
  }
  [[nodiscard]] std::int64_t column_int64(const detail::DriverStatement& st,
                                          int column) const noexcept override {
    auto t = column_text(st, column);
    if (t == "t") return 1;  // a boolean (EXISTS, comparisons)
    if (t == "f") return 0;
    std::int64_t v = 0;
    auto [ptr, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
    if (ec == std::errc{} && ptr != t.data() + t.size() && *ptr == '.') {
      return static_cast<std::int64_t>(column_double(st, column));  // a numeric with decimals
    }
    return v;
  }
  [[nodiscard]] double column_double(const detail::DriverStatement& st,
                                     int column) const noexcept override {
    auto t = column_text(st, column);
    double v = 0;
    std::from_chars(t.data(), t.data() + t.size(), v);
    return v;
  }
  [[nodiscard]] std::string_view column_text(const detail::DriverStatement& st,
                                             int column) const noexcept override {
    const auto& s = p(st);
    if (!has(s, column) || PQgetisnull(s.result, s.row, column) == 1) return {};
    return {PQgetvalue(s.result, s.row, column),
            static_cast<std::size_t>(PQgetlength(s.result, s.row, column))};
  }
  [[nodiscard]] std::string_view column_name(const detail::DriverStatement& st,
                                             int column) const noexcept override {
    const auto& s = p(st);
    const char* n = s.result != nullptr ? PQfname(s.result, column) : nullptr;
    return n != nullptr ? n : "?";
  }
  [[nodiscard]] std::string_view sql(const detail::DriverStatement& st) const noexcept override {
    return p(st).original;
  }
  [[nodiscard]] void* native() const noexcept override { return conn_; }

 private:
  static bool has(const PgStatement& s, int column) noexcept {
    return s.result != nullptr && s.row >= 0 && s.row < s.rows && column >= 0 &&
           column < PQnfields(s.result);
  }
  static int set(PgStatement& s, int index, std::string value, Oid type) noexcept {
    if (index < 1 || static_cast<std::size_t>(index) > s.values.size()) return 1;
    const auto i = static_cast<std::size_t>(index - 1);
    s.values[i] = std::move(value);
    s.null[i] = 0;
    s.types[i] = type;
    return 0;
  }

  Result<void> execute(PgStatement& s) {
    // A write inside a transaction gets a savepoint of its own: a failed statement then leaves
    // the transaction usable (SQLite's statement-level rollback) instead of aborting it.
    const bool guard = s.write && PQtransactionStatus(conn_) == PQTRANS_INTRANS;
    if (guard) {
      if (auto r = exec("SAVEPOINT dialer_statement"); !r) return r.error();
    }
    std::vector<const char*> values(s.values.size());
    for (std::size_t i = 0; i < s.values.size(); ++i) {
      values[i] = s.null[i] != 0 ? nullptr : s.values[i].c_str();
    }
    s.clear();
    s.result = PQexecParams(conn_, s.text.c_str(), static_cast<int>(values.size()), s.types.data(),
                            values.data(), nullptr, nullptr, 0);
    if (auto e = check(s.result, s.original); !e) {
      s.clear();
      if (guard) {
        (void)exec("ROLLBACK TO SAVEPOINT dialer_statement");
        (void)exec("RELEASE SAVEPOINT dialer_statement");
      }
      return e.error();
    }
    if (guard) {
      if (auto r = exec("RELEASE SAVEPOINT dialer_statement"); !r) {
        s.clear();
        return r.error();
      }
    }
    s.executed = true;
    s.row = -1;
    s.rows = PQresultStatus(s.result) == PGRES_TUPLES_OK ? PQntuples(s.result) : 0;
    const char* tuples = PQcmdTuples(s.result);
    if (tuples != nullptr && *tuples != '\0') changes_ = std::atoll(tuples);
    return {};
  }

  Result<void> check(const PGresult* r, std::string_view what) const {
    const auto status = r != nullptr ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return {};
    const char* state = r != nullptr ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : nullptr;
    std::string msg = "'" + sql_excerpt(what) + "': ";
    msg += r != nullptr ? trimmed(PQresultErrorMessage(r)) : trimmed(PQerrorMessage(conn_));
    if (PQstatus(conn_) == CONNECTION_BAD) {
      // The session is gone (and with it any lock it held): io_error, as an unreachable server.
      return Error{errc::io_error, msg + " (connection to PostgreSQL lost)"};
    }
    return Error{code_for(state), std::move(msg)};
  }

  PGconn* conn_;
  std::int64_t changes_ = 0;
};

}  // namespace

Result<Database> Database::open_postgresql(const PgOptions& options) {
  const std::string connect_timeout =
      std::to_string(std::max<std::int64_t>(2, options.connect_timeout.count() / 1000));
  // Server-side limits for this session: a statement never runs unbounded, and a transaction a
  // dead client left open is ended (with its locks) by the server.
  const std::string session =
      "-c statement_timeout=" + std::to_string(options.statement_timeout.count()) +
      " -c idle_in_transaction_session_timeout=" +
      std::to_string(options.idle_in_transaction_timeout.count()) +
      (options.schema.empty() ? "" : " -c search_path=" + options.schema) +
      // The server notices a vanished client (and ends its session, its locks with it) within
      // seconds, not hours.
      " -c tcp_keepalives_idle=5 -c tcp_keepalives_interval=2 -c tcp_keepalives_count=3";
  // The conninfo first (expand_dbname), then what the daemon sets: later keywords win.
  // tcp_user_timeout: data this side sent and the server never acknowledged (a cut link) fails
  // the connection after 10 s instead of the kernel's retransmission minutes.
  std::vector<const char*> keys{"dbname",
                                "connect_timeout",
                                "keepalives",
                                "keepalives_idle",
                                "keepalives_interval",
                                "keepalives_count",
                                "tcp_user_timeout",
                                "options",
                                "application_name"};
  std::vector<const char*> values{options.conninfo.c_str(),
                                  connect_timeout.c_str(),
                                  "1",
                                  "5",
                                  "2",
                                  "3",
                                  "10000",
                                  session.c_str(),
                                  "dialerd"};
  if (!options.password.empty()) {
    keys.push_back("password");
    values.push_back(options.password.c_str());
  }
  keys.push_back(nullptr);
  values.push_back(nullptr);
  PGconn* conn = PQconnectdbParams(keys.data(), values.data(), 1);
  if (conn == nullptr) return Error{errc::db_error, "cannot connect to PostgreSQL: out of memory"};
  if (PQstatus(conn) != CONNECTION_OK) {
    // libpq's message names the host and the reason, never the password. io_error: the server
    // could not be reached (the daemon exits so that systemd tries again); db_error: it answered
    // and refused (a wrong password, no such role or database: trying again changes nothing).
    std::string why = trimmed(PQerrorMessage(conn));
    const bool refused =
        PQconnectionNeedsPassword(conn) != 0 || why.find("FATAL:") != std::string::npos;
    Error e{refused ? errc::db_error : errc::io_error, "cannot connect to PostgreSQL: " + why};
    PQfinish(conn);
    return e;
  }
  std::string where = std::string("postgresql://") + (PQhost(conn) != nullptr ? PQhost(conn) : "") +
                      ":" + (PQport(conn) != nullptr ? PQport(conn) : "") + "/" +
                      (PQdb(conn) != nullptr ? PQdb(conn) : "");
  Database db = Database::from_driver(std::make_unique<PgDriver>(conn), std::move(where),
                                      options.statement_cache_limit);
  if (auto r = db.exec("SET client_min_messages = warning"); !r) return r.error();
  if (auto r = check_schema_not_newer(db); !r) return r.error();
  if (options.migrate) {
    if (auto r = migrate(db); !r) return r.error();
  }
  return db;
}

Result<std::unique_ptr<SqlStore>> SqlStore::open_postgresql(const PgOptions& options) {
  auto db = Database::open_postgresql(options);
  if (!db) return db.error();
  return adopt(std::move(*db));
}

}  // namespace dialer::store
