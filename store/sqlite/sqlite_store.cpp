#include "store/sqlite/sqlite_store.hpp"

namespace dialer::store {
namespace {

class SqliteWork final : public UnitOfWork::Handle {
 public:
  explicit SqliteWork(Transaction tx) : tx_(std::move(tx)) {}
  Result<void> commit() override { return tx_.commit(); }
  void rollback() noexcept override { tx_.rollback(); }

 private:
  Transaction tx_;
};

}  // namespace

SqliteStore::SqliteStore(Database& db)
    : db_(db),
      campaigns_(db),
      contacts_(db),
      attempts_(db),
      inbox_(db),
      dnc_(db),
      audit_(db),
      kv_(db),
      imports_(db),
      state_writes_(db) {}

Result<std::unique_ptr<SqliteStore>> SqliteStore::open(const std::string& path,
                                                       const OpenOptions& options) {
  auto db = Database::open(path, options);
  if (!db) return db.error();
  auto owned = std::make_unique<Database>(std::move(*db));
  auto store = std::make_unique<SqliteStore>(*owned);
  store->owned_ = std::move(owned);
  return store;
}

Result<UnitOfWork> SqliteStore::begin(WorkKind kind) {
  auto tx = Transaction::begin(
      db_, kind == WorkKind::write ? TransactionKind::immediate : TransactionKind::deferred);
  if (!tx) return tx.error();
  return UnitOfWork(std::make_unique<SqliteWork>(std::move(*tx)));
}

Result<int> SqliteStore::schema_version() {
  return db_.user_version();
}

}  // namespace dialer::store
