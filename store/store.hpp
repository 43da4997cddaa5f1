#pragma once
/// The store as the engine and the admin commands see it (ARCHITECTURE.md: "the store is an
/// interface"): the repositories as abstract ports and a unit of work. A backend — SQLite in
/// store/sqlite/ — implements them; nothing above the store names a backend but the composition
/// root that opens one (daemon/, and the forecast, which simulates on a copy of the SQLite file).
///
/// A repository call made while a unit of work is open on the same Store joins it; units of
/// work nest (the inner one is a savepoint). One Store is one session: use it from one thread.

#include "core/errc.hpp"
#include "store/attempt_repo.hpp"
#include "store/audit_repo.hpp"
#include "store/campaign_repo.hpp"
#include "store/contact_repo.hpp"
#include "store/dnc_repo.hpp"
#include "store/import_repo.hpp"
#include "store/inbox_repo.hpp"
#include "store/kv_repo.hpp"
#include "store/state_writes.hpp"

#include <memory>

namespace dialer::store {

/// What a unit of work may do.
enum class WorkKind {
  write,  ///< takes the write lock at once: every unit of work that may write
  read,   ///< a consistent read-only snapshot
};

/// A transaction on a Store, rolled back on destruction unless committed.
class UnitOfWork {
 public:
  /// The backend's side of one open transaction.
  class Handle {
   public:
    virtual ~Handle() = default;
    virtual Result<void> commit() = 0;
    virtual void rollback() noexcept = 0;
  };

  explicit UnitOfWork(std::unique_ptr<Handle> handle) noexcept : handle_(std::move(handle)) {}
  UnitOfWork(UnitOfWork&&) noexcept = default;
  UnitOfWork& operator=(UnitOfWork&& other) noexcept {
    if (this != &other) {
      rollback();
      handle_ = std::move(other.handle_);
    }
    return *this;
  }
  UnitOfWork(const UnitOfWork&) = delete;
  UnitOfWork& operator=(const UnitOfWork&) = delete;
  ~UnitOfWork() { rollback(); }

  /// Commits. On failure the transaction stays open and is rolled back on destruction.
  Result<void> commit() {
    if (!handle_) return Error(errc::conflict, "the unit of work has already ended");
    if (auto r = handle_->commit(); !r) return r;
    handle_.reset();
    return {};
  }
  /// Rolls back now; a no-op once committed or rolled back.
  void rollback() noexcept {
    if (handle_) {
      handle_->rollback();
      handle_.reset();
    }
  }
  [[nodiscard]] bool active() const noexcept { return handle_ != nullptr; }

 private:
  std::unique_ptr<Handle> handle_;
};

class Store {
 public:
  virtual ~Store() = default;

  virtual CampaignRepo& campaigns() = 0;
  virtual ContactRepo& contacts() = 0;
  virtual AttemptRepo& attempts() = 0;
  virtual InboxRepo& inbox() = 0;
  virtual DncRepo& dnc() = 0;
  virtual AuditRepo& audit() = 0;
  virtual KvRepo& kv() = 0;
  virtual ImportRepo& imports() = 0;
  /// The state writes; only scheduler::Lifecycle can call them.
  virtual StateWrites& state_writes() = 0;

  /// Begins a unit of work (nested: a savepoint of the open one).
  virtual Result<UnitOfWork> begin(WorkKind kind = WorkKind::write) = 0;
  /// The schema version the store is at.
  virtual Result<int> schema_version() = 0;
  /// Fencing (two dialerd on one PostgreSQL): inside the reservation's unit of work, checks that
  /// this node still holds the lease epoch it took over with, and holds the lease row so no
  /// takeover commits until this unit does. errc::conflict when another node has taken over.
  /// Always true for a store nobody shares (no epoch set).
  virtual Result<void> check_fence() = 0;

 protected:
  Store() = default;
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;
};

}  // namespace dialer::store
