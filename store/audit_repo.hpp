#pragma once
/// The audit log: every state transition and admin action, who did it and with what result.
/// `detail_json` must never carry secrets.

#include "core/errc.hpp"
#include "core/time.hpp"
#include "store/database.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace dialer::store {

struct AuditEntry {
  TimePoint at;
  std::string actor;    ///< "uid:1000", "scheduler", "system"
  std::string action;   ///< "campaign-start", "transition", …
  std::string subject;  ///< "campaign:spring", "contact:42", "attempt:7"
  std::string detail_json = "{}";
  std::string result;

  bool operator==(const AuditEntry&) const = default;
};

struct AuditRow {
  std::int64_t id = 0;
  AuditEntry entry;
};

class AuditRepo {
 public:
  explicit AuditRepo(Database& db) : db_(db) {}

  /// Appends an entry; returns its id.
  Result<std::int64_t> append(const AuditEntry& entry);
  /// The newest entries, newest first.
  Result<std::vector<AuditRow>> recent(std::int64_t limit);
  /// Deletes entries older than `before` (bounds the table), oldest first, at most `limit`
  /// (< 0: all); returns how many.
  Result<std::int64_t> prune_before(TimePoint before, std::int64_t limit = -1);

 private:
  Database& db_;
};

}  // namespace dialer::store
