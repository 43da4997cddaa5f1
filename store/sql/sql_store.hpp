#pragma once
/// The store port (store/store.hpp) over one SQL connection — SQLite or PostgreSQL (the
/// repositories speak the SQL both take; store/sql/driver.hpp) — and its repositories.

#include "store/sql/attempts.hpp"
#include "store/sql/audit.hpp"
#include "store/sql/campaigns.hpp"
#include "store/sql/contacts.hpp"
#include "store/sql/database.hpp"
#include "store/sql/dnc.hpp"
#include "store/sql/imports.hpp"
#include "store/sql/inbox.hpp"
#include "store/sql/kv.hpp"
#include "store/sql/state_writes.hpp"
#include "store/store.hpp"

#include <memory>
#include <optional>
#include <string>

namespace dialer::store {

class SqlStore final : public Store {
 public:
  /// Opens (and by default migrates) the SQLite database at `path` (":memory:" for a private
  /// one).
  static Result<std::unique_ptr<SqlStore>> open(const std::string& path,
                                                const OpenOptions& options = {});
  /// Connects to (and by default migrates) a PostgreSQL database.
  static Result<std::unique_ptr<SqlStore>> open_postgresql(const PgOptions& options);
  /// Takes a connection over.
  static std::unique_ptr<SqlStore> adopt(Database db);
  /// Wraps a connection the caller keeps open for as long as the store lives.
  explicit SqlStore(Database& db);

  CampaignRepo& campaigns() override { return campaigns_; }
  ContactRepo& contacts() override { return contacts_; }
  AttemptRepo& attempts() override { return attempts_; }
  InboxRepo& inbox() override { return inbox_; }
  DncRepo& dnc() override { return dnc_; }
  AuditRepo& audit() override { return audit_; }
  KvRepo& kv() override { return kv_; }
  ImportRepo& imports() override { return imports_; }
  StateWrites& state_writes() override { return state_writes_; }
  Result<UnitOfWork> begin(WorkKind kind = WorkKind::write) override;
  Result<int> schema_version() override;
  Result<void> check_fence() override;
  /// From now on every check_fence() requires the lease row to be at `epoch` (this node's
  /// takeover); nullopt turns fencing off.
  void set_fence(std::optional<std::int64_t> epoch) noexcept { fence_epoch_ = epoch; }

  [[nodiscard]] Backend backend() const noexcept { return db_.backend(); }
  /// The connection, for what only SQLite does (housekeeping, VACUUM INTO, import staging).
  Database& database() noexcept { return db_; }

 private:
  std::unique_ptr<Database> owned_;
  std::optional<std::int64_t> fence_epoch_;
  Database& db_;
  SqlCampaigns campaigns_;
  SqlContacts contacts_;
  SqlAttempts attempts_;
  SqlInbox inbox_;
  SqlDnc dnc_;
  SqlAudit audit_;
  SqlKv kv_;
  SqlImports imports_;
  SqlStateWrites state_writes_;
};

}  // namespace dialer::store
