#include "store/sql/database.hpp"

#include "store/sql/driver.hpp"

#include <string>
#include <utility>

namespace dialer::store {

namespace detail {

std::string sql_excerpt(std::string_view sql) {
  constexpr std::size_t kMax = 80;
  std::string out;
  for (char c : sql.substr(0, kMax)) out += (c == '\n' || c == '\t') ? ' ' : c;
  if (sql.size() > kMax) out += "…";
  return out;
}

}  // namespace detail

using detail::sql_excerpt;

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
    db_->driver->reset(*stmt_);
    entry_->borrowed = false;
  } else {
    delete stmt_;  // NOLINT(cppcoreguidelines-owning-memory): an uncached statement is ours
  }
  stmt_ = nullptr;
  entry_ = nullptr;
  db_ = nullptr;
}

void Statement::note_bind(int rc, int index) noexcept {
  if (rc != 0 && bind_rc_ == 0) {
    bind_rc_ = rc;
    bind_index_ = index;
  }
}

Statement& Statement::bind(int index, std::int64_t value) {
  note_bind(db_->driver->bind_int64(*stmt_, index, value), index);
  return *this;
}

Statement& Statement::bind(int index, double value) {
  note_bind(db_->driver->bind_double(*stmt_, index, value), index);
  return *this;
}

Statement& Statement::bind(int index, std::string_view value) {
  note_bind(db_->driver->bind_text(*stmt_, index, value), index);
  return *this;
}

Statement& Statement::bind_null(int index) {
  note_bind(db_->driver->bind_null(*stmt_, index), index);
  return *this;
}

Result<Step> Statement::step() {
  if (bind_rc_ != 0) {
    Error e{errc::db_error, "binding parameter " + std::to_string(bind_index_) + " of '" +
                                sql_excerpt(sql()) + "': " + db_->driver->bind_error(bind_rc_)};
    reset();
    return e;
  }
  auto s = db_->driver->step(*stmt_);
  if (!s) reset();
  return s;
}

Result<void> Statement::run() {
  for (;;) {
    auto s = step();
    if (!s) return s.error();
    if (*s == Step::done) break;
  }
  db_->driver->reset(*stmt_);
  return {};
}

void Statement::reset() noexcept {
  db_->driver->reset(*stmt_);
  bind_rc_ = 0;
  bind_index_ = 0;
}

int Statement::column_count() const noexcept {
  return db_->driver->column_count(*stmt_);
}

bool Statement::is_null(int column) const noexcept {
  return db_->driver->is_null(*stmt_, column);
}

std::int64_t Statement::column_int64(int column) const noexcept {
  return db_->driver->column_int64(*stmt_, column);
}

double Statement::column_double(int column) const noexcept {
  return db_->driver->column_double(*stmt_, column);
}

std::string_view Statement::column_text_view(int column) const noexcept {
  return db_->driver->column_text(*stmt_, column);
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
  return db_->driver->sql(*stmt_);
}

Error Statement::bad_enum(int column) const {
  return Error{errc::db_error, std::string{"unknown value '"} +
                                   std::string{column_text_view(column)} + "' in column " +
                                   std::string{db_->driver->column_name(*stmt_, column)}};
}

// ---- Database --------------------------------------------------------------------------------

Database::Database(std::unique_ptr<detail::DatabaseImpl> impl) noexcept : impl_(std::move(impl)) {}
Database::Database(Database&&) noexcept = default;
Database& Database::operator=(Database&&) noexcept = default;
Database::~Database() = default;

Database Database::from_driver(std::unique_ptr<detail::Driver> driver, std::string path,
                               std::size_t statement_cache_limit) {
  auto impl = std::make_unique<detail::DatabaseImpl>();
  impl->driver = std::move(driver);
  impl->path = std::move(path);
  impl->cache_limit = statement_cache_limit;
  return Database{std::move(impl)};
}

Backend Database::backend() const noexcept {
  return impl_->driver->backend();
}

Result<Statement> Database::prepare(std::string_view sql) {
  auto& d = *impl_;
  auto it = d.cache.find(sql);
  if (it != d.cache.end() && !it->second->borrowed) {
    it->second->borrowed = true;
    return Statement{&d, it->second->stmt.get(), it->second.get()};
  }
  auto stmt = d.driver->prepare(sql);
  ++d.prepares;
  if (!stmt) return stmt.error();
  if (it == d.cache.end() && d.cache.size() < d.cache_limit) {
    auto entry = std::make_unique<detail::CachedStatement>();
    entry->stmt = std::move(*stmt);
    entry->borrowed = true;
    auto* raw = entry.get();
    d.cache.emplace(std::string{sql}, std::move(entry));
    return Statement{&d, raw->stmt.get(), raw};
  }
  return Statement{&d, stmt->release(), nullptr};
}

Result<void> Database::exec(std::string_view sql) {
  return impl_->driver->exec(sql);
}

std::int64_t Database::changes() const noexcept {
  return impl_->driver->changes();
}

bool Database::in_transaction() const noexcept {
  return impl_->driver->in_transaction();
}

const std::string& Database::path() const noexcept {
  return impl_->path;
}

Result<int> Database::user_version() {
  return impl_->driver->schema_version();
}

Result<void> Database::lock_for_migration() {
  return impl_->driver->lock_for_migration();
}

Result<void> Database::set_user_version(int version) {
  return impl_->driver->set_schema_version(version);
}

std::size_t Database::cached_statements() const noexcept {
  return impl_->cache.size();
}

std::uint64_t Database::prepare_count() const noexcept {
  return impl_->prepares;
}

sqlite3* Database::handle() const noexcept {
  return impl_->driver->backend() == Backend::sqlite
             ? static_cast<sqlite3*>(impl_->driver->native())
             : nullptr;
}

// ---- Transaction -----------------------------------------------------------------------------

namespace {

std::string savepoint_name(int n) {
  return "sp_" + std::to_string(n);
}

}  // namespace

Result<Transaction> Transaction::begin(Database& db, TransactionKind kind) {
  auto* d = db.impl_.get();
  if (!d->driver->in_transaction()) {
    // A fresh top-level transaction: any savepoint count left from a failed commit is stale.
    d->savepoint_depth = 0;
    if (auto r = d->driver->exec(d->driver->begin_sql(kind)); !r) return r.error();
    return Transaction{d, 0};
  }
  int n = ++d->savepoint_depth;
  if (auto r = d->driver->exec("SAVEPOINT " + savepoint_name(n)); !r) {
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
    if (auto r = db_->driver->exec("COMMIT"); !r) return r.error();
  } else {
    if (auto r = db_->driver->exec("RELEASE " + savepoint_name(savepoint_)); !r) return r.error();
    --db_->savepoint_depth;
  }
  db_ = nullptr;
  return {};
}

void Transaction::rollback() noexcept {
  if (db_ == nullptr) return;
  auto* d = std::exchange(db_, nullptr);
  // Errors are ignored: the engine may already have rolled the whole transaction back (I/O
  // error, disk full, a lost server connection), in which case there is nothing left to undo.
  if (savepoint_ == 0) {
    if (d->driver->in_transaction()) (void)d->driver->exec("ROLLBACK");
    d->savepoint_depth = 0;
  } else {
    if (d->driver->in_transaction()) {
      std::string name = savepoint_name(savepoint_);
      (void)d->driver->exec("ROLLBACK TO " + name);
      (void)d->driver->exec("RELEASE " + name);
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
