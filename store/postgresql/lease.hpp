#pragma once
/// The leader lease of two dialerd on one PostgreSQL (issue "high availability"). A node dials
/// only while it holds a session-level advisory lock, taken on a connection of its own: when the
/// node dies its session ends (the kernel closes the socket; keepalives find a vanished machine
/// within seconds) and PostgreSQL releases the lock for the standby. Every takeover bumps the
/// epoch of the dialer_lease row; the new leader fences its store with that epoch
/// (SqlStore::set_fence), so a node that lost the lease cannot reserve — hence cannot send —
/// even before it notices.
///
/// The lock is per schema: two deployments in two schemas of one database do not share it.

#include "core/errc.hpp"
#include "core/time.hpp"
#include "store/sql/database.hpp"

#include <cstdint>
#include <optional>
#include <string>

namespace dialer::store {

/// Who holds the lease, per its row.
struct LeaseHolder {
  std::int64_t epoch = 0;
  std::string holder;  ///< the node's name; "" before the first takeover
  TimePoint since{};
};

class PgLease {
 public:
  /// Connects the lease's own session (options.migrate is ignored: the store migrates).
  static Result<PgLease> connect(const PgOptions& options, std::string node);

  /// Takes the lease when free: the advisory lock on this session, then the row's epoch + 1
  /// with this node's name. nullopt while another session holds it.
  Result<std::optional<LeaseHolder>> try_acquire(TimePoint now);
  /// Whether this session still holds the lock (false, or an error, once the session is gone).
  Result<bool> still_held();
  /// The lease row: who took over last, and when.
  Result<LeaseHolder> current();
  /// Releases the lock (a clean shutdown); the standby takes over without waiting.
  Result<void> release();

  [[nodiscard]] const std::string& node() const noexcept { return node_; }

 private:
  PgLease(Database db, std::string node) : db_(std::move(db)), node_(std::move(node)) {}
  Database db_;
  std::string node_;
};

}  // namespace dialer::store
