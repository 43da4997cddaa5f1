#pragma once
/// The SQLite backend of the store port (store/store.hpp): one connection and its repositories.

#include "store/sqlite/attempts.hpp"
#include "store/sqlite/audit.hpp"
#include "store/sqlite/campaigns.hpp"
#include "store/sqlite/contacts.hpp"
#include "store/sqlite/database.hpp"
#include "store/sqlite/dnc.hpp"
#include "store/sqlite/imports.hpp"
#include "store/sqlite/inbox.hpp"
#include "store/sqlite/kv.hpp"
#include "store/sqlite/state_writes.hpp"
#include "store/store.hpp"

#include <memory>
#include <string>

namespace dialer::store {

class SqliteStore final : public Store {
 public:
  /// Opens (and by default migrates) the database at `path` (":memory:" for a private one).
  static Result<std::unique_ptr<SqliteStore>> open(const std::string& path,
                                                   const OpenOptions& options = {});
  /// Wraps a connection the caller keeps open for as long as the store lives.
  explicit SqliteStore(Database& db);

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

  /// The connection, for what only SQLite does (housekeeping, VACUUM INTO, import staging).
  Database& database() noexcept { return db_; }

 private:
  std::unique_ptr<Database> owned_;
  Database& db_;
  SqliteCampaigns campaigns_;
  SqliteContacts contacts_;
  SqliteAttempts attempts_;
  SqliteInbox inbox_;
  SqliteDnc dnc_;
  SqliteAudit audit_;
  SqliteKv kv_;
  SqliteImports imports_;
  SqliteStateWrites state_writes_;
};

}  // namespace dialer::store
