#pragma once
/// The durable webhook inbox: verified `session.completed` bodies, stored before the webhook is
/// acknowledged, deduplicated by session_id, applied by the scheduler in arrival order.

#include "core/errc.hpp"
#include "core/time.hpp"

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
  virtual ~InboxRepo() = default;

  /// Stores a batch in ONE transaction (one fsync for many webhooks). Element i is true when
  /// events[i] was newly stored, false when its session_id was already there (or earlier in the
  /// batch). Nothing is stored if any insert fails.
  virtual Result<std::vector<bool>> insert_batch(std::span<const InboxEvent> events) = 0;
  /// One event; true when newly stored.
  virtual Result<bool> insert(const InboxEvent& event) = 0;
  /// Events not yet applied, oldest first, at most `limit`.
  virtual Result<std::vector<InboxRow>> unapplied(std::size_t limit) = 0;
  /// Unapplied rows with id > after_id, oldest first (a cursor past rows left unapplied).
  virtual Result<std::vector<InboxRow>> unapplied_after(std::int64_t after_id,
                                                        std::size_t limit) = 0;
  /// Marks an event applied; errc::not_found for an unknown id.
  virtual Result<void> mark_applied(std::int64_t id, TimePoint at) = 0;
  virtual Result<std::optional<InboxRow>> find_by_session(std::string_view session_id) = 0;
  virtual Result<std::int64_t> count_unapplied() = 0;
  /// Deletes applied events received before `before` (bounds the table), oldest first, at most
  /// `limit` (< 0: all); returns how many. Unapplied events are never deleted.
  virtual Result<std::int64_t> prune_applied(TimePoint before, std::int64_t limit = -1) = 0;
  /// Records an outcome obtained by polling (GET /sessions/{id}), already applied, so a late
  /// webhook for the same session is recognised as a duplicate. False when the session is
  /// already in the inbox (nothing written).
  virtual Result<bool> record_polled(std::string_view session_id, std::string_view call_id,
                                     std::string_view body, TimePoint at) = 0;

 protected:
  InboxRepo() = default;
  InboxRepo(const InboxRepo&) = delete;
  InboxRepo& operator=(const InboxRepo&) = delete;
};

}  // namespace dialer::store
