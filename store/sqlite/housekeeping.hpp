#pragma once
/// Keeps the store from growing without bound: applied webhook inbox rows (raw bodies, kept to
/// recognise duplicate deliveries) and audit log entries are deleted once older than their
/// retention. Work is done in bounded rounds so the daemon's loop, and the scheduler's writes,
/// interleave with a large backlog.

#include "core/errc.hpp"
#include "core/time.hpp"
#include "store/sql/database.hpp"

#include <cstdint>

namespace dialer::store {

struct PruneRound {
  std::int64_t inbox = 0;  ///< applied inbox rows deleted
  std::int64_t audit = 0;  ///< audit entries deleted
  bool more = false;       ///< a table gave a full batch: call again
};

/// Deletes at most `batch` rows from each table (each delete its own short transaction):
/// applied inbox rows received before `now - inbox_retention`, audit entries from before
/// `now - audit_retention`. Unapplied inbox rows are never deleted.
Result<PruneRound> prune_round(Database& db, TimePoint now, Millis inbox_retention,
                               Millis audit_retention, std::int64_t batch);

}  // namespace dialer::store
