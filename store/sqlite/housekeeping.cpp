#include "store/sqlite/housekeeping.hpp"

#include "store/sql/audit.hpp"
#include "store/sql/inbox.hpp"

namespace dialer::store {

Result<PruneRound> prune_round(Database& db, TimePoint now, Millis inbox_retention,
                               Millis audit_retention, std::int64_t batch) {
  PruneRound out;
  SqlInbox inbox(db);
  auto i = inbox.prune_applied(now - inbox_retention, batch);
  if (!i) return i.error();
  SqlAudit audit(db);
  auto a = audit.prune_before(now - audit_retention, batch);
  if (!a) return a.error();
  out.inbox = *i;
  out.audit = *a;
  out.more = *i >= batch || *a >= batch;
  return out;
}

}  // namespace dialer::store
