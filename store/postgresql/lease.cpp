#include "store/postgresql/lease.hpp"

namespace dialer::store {
namespace {

// The advisory lock's two keys: dialerd's, and the schema's (one lease per deployment).
constexpr std::string_view kLock = "7370022, hashtext(current_schema())";

}  // namespace

Result<PgLease> PgLease::connect(const PgOptions& options, std::string node) {
  PgOptions o = options;
  o.migrate = false;
  auto db = Database::open_postgresql(o);
  if (!db) return db.error();
  return PgLease(std::move(*db), std::move(node));
}

Result<std::optional<LeaseHolder>> PgLease::try_acquire(TimePoint now) {
  auto got = db_.query_int64("SELECT pg_try_advisory_lock(" + std::string{kLock} + ")");
  if (!got) return got.error();
  if (*got == 0) return std::optional<LeaseHolder>{};
  auto tx = Transaction::begin(db_);
  if (!tx) return tx.error();
  auto epoch = db_.query_int64(
      "UPDATE dialer_lease SET epoch = epoch + 1, holder = ?, since = ? WHERE id = 1 "
      "RETURNING epoch",
      node_, now);
  if (!epoch) return epoch.error();
  if (auto r = tx->commit(); !r) return r.error();
  return std::optional<LeaseHolder>{LeaseHolder{*epoch, node_, now}};
}

Result<bool> PgLease::still_held() {
  auto n = db_.query_int64(
      "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted AND pid = "
      "pg_backend_pid() AND classid = 7370022 AND objid = hashtext(current_schema())::oid AND "
      "objsubid = 2");  // 2: a lock taken with two int4 keys
  if (!n) return n.error();
  return *n > 0;
}

Result<LeaseHolder> PgLease::current() {
  auto st = db_.prepare("SELECT epoch, holder, since FROM dialer_lease WHERE id = 1");
  if (!st) return st.error();
  auto s = st->step();
  if (!s) return s.error();
  if (*s == Step::done) return Error{errc::not_found, "no lease row (schema not migrated?)"};
  return LeaseHolder{st->column_int64(0), st->column_text(1), st->column_time(2)};
}

Result<void> PgLease::release() {
  auto r = db_.query_int64("SELECT pg_advisory_unlock(" + std::string{kLock} + ")");
  if (!r) return r.error();
  return {};
}

}  // namespace dialer::store
