#pragma once
/// SQLite implementation of store/audit_repo.hpp.

#include "store/audit_repo.hpp"
#include "store/sql/database.hpp"

namespace dialer::store {

class SqlAudit final : public AuditRepo {
 public:
  explicit SqlAudit(Database& db) : db_(db) {}

  Result<std::int64_t> append(const AuditEntry& entry) override;
  Result<std::vector<AuditRow>> recent(std::int64_t limit) override;
  Result<std::int64_t> prune_before(TimePoint before, std::int64_t limit = -1) override;

 private:
  Database& db_;
};

}  // namespace dialer::store
