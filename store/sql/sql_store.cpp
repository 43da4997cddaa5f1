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

Result<void> SqlStore::check_fence() {
  if (!fence_epoch_) return {};
  // FOR SHARE: a takeover's UPDATE of the row waits until this reservation has committed, so
  // the new leader's recovery sees it.
  // (SQLite has no FOR SHARE; its write transaction excludes every other writer anyway.)
  auto st = db_.prepare(db_.backend() == Backend::postgresql
                            ? "SELECT epoch, holder FROM dialer_lease WHERE id = 1 FOR SHARE"
                            : "SELECT epoch, holder FROM dialer_lease WHERE id = 1");
  if (!st) return st.error();
  auto s = st->step();
  if (!s) return s.error();
  if (*s == Step::done) return Error{errc::conflict, "no lease row: this node is not the leader"};
  const std::int64_t epoch = st->column_int64(0);
  if (epoch != *fence_epoch_) {
    return Error{errc::conflict, "fenced: this node took over at lease epoch " +
                                     std::to_string(*fence_epoch_) + ", and " + st->column_text(1) +
                                     " holds epoch " + std::to_string(epoch) + " now"};
  }
  return {};
}

Result<int> SqlStore::schema_version() {
  return db_.user_version();
}

}  // namespace dialer::store
