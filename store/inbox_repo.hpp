#pragma once
/// The durable webhook inbox: verified `session.completed` bodies, stored before the webhook is
/// acknowledged, deduplicated by session_id, applied by the scheduler in arrival order.

#include "core/errc.hpp"
#include "core/time.hpp"
#include "store/database.hpp"

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace dialer::store {

struct InboxEvent {
  std::string session_id;
  std::string call_id;  ///< "" when the body had none (stored as NULL)
  std::string body;     ///< the raw, verified request body
  TimePoint received_at;

  bool operator==(const InboxEvent&) const = default;
};

struct InboxRow {
  std::int64_t id = 0;
  InboxEvent event;
  std::optional<TimePoint> applied_at;
};

class InboxRepo {
 public:
  explicit InboxRepo(Database& db) : db_(db) {}

  /// Stores a batch in ONE transaction (one fsync for many webhooks). Element i is true when
  /// events[i] was newly stored, false when its session_id was already there (or earlier in the
  /// batch). Nothing is stored if any insert fails.
  Result<std::vector<bool>> insert_batch(std::span<const InboxEvent> events);
  /// One event; true when newly stored.
  Result<bool> insert(const InboxEvent& event);
  /// Events not yet applied, oldest first, at most `limit`.
  Result<std::vector<InboxRow>> unapplied(std::size_t limit);
  /// Unapplied rows with id > after_id, oldest first (a cursor past rows left unapplied).
  Result<std::vector<InboxRow>> unapplied_after(std::int64_t after_id, std::size_t limit);
  /// Marks an event applied; errc::not_found for an unknown id.
  Result<void> mark_applied(std::int64_t id, TimePoint at);
  Result<std::optional<InboxRow>> find_by_session(std::string_view session_id);
  Result<std::int64_t> count_unapplied();
  /// Deletes applied events received before `before` (bounds the table), oldest first, at most
  /// `limit` (< 0: all); returns how many. Unapplied events are never deleted.
  Result<std::int64_t> prune_applied(TimePoint before, std::int64_t limit = -1);

 private:
  Database& db_;
};

}  // namespace dialer::store
