#pragma once
/// The audit log: every state transition and admin action, who did it and with what result.
/// `detail_json` must never carry secrets.

#include "core/errc.hpp"
#include "core/time.hpp"

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
  virtual ~AuditRepo() = default;

  /// Appends an entry; returns its id.
  virtual Result<std::int64_t> append(const AuditEntry& entry) = 0;
  /// The newest entries, newest first.
  virtual Result<std::vector<AuditRow>> recent(std::int64_t limit) = 0;
  /// Deletes entries older than `before` (bounds the table), oldest first, at most `limit`
  /// (< 0: all); returns how many.
  virtual Result<std::int64_t> prune_before(TimePoint before, std::int64_t limit = -1) = 0;

 protected:
  AuditRepo() = default;
  AuditRepo(const AuditRepo&) = delete;
  AuditRepo& operator=(const AuditRepo&) = delete;
};

}  // namespace dialer::store
