#include "store/sql/sql_store.hpp"

namespace dialer::store {
namespace {

class SqlWork final : public UnitOfWork::Handle {
 public:
  explicit SqlWork(Transaction tx) : tx_(std::move(tx)) {}
  Result<void> commit() override { return tx_.commit(); }
  void rollback() noexcept override { tx_.rollback(); }

 private:
  Transaction tx_;
};

}  // namespace

SqlStore::SqlStore(Database& db)
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

std::unique_ptr<SqlStore> SqlStore::adopt(Database db) {
  auto owned = std::make_unique<Database>(std::move(db));
  auto store = std::make_unique<SqlStore>(*owned);
  store->owned_ = std::move(owned);
  return store;
}

Result<UnitOfWork> SqlStore::begin(WorkKind kind) {
  auto tx = Transaction::begin(
      db_, kind == WorkKind::write ? TransactionKind::immediate : TransactionKind::deferred);
  if (!tx) return tx.error();
  return UnitOfWork(std::make_unique<SqlWork>(std::move(*tx)));
}

Result<int> SqlStore::schema_version() {
  return db_.user_version();
}

}  // namespace dialer::store
