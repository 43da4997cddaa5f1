#pragma once
/// The seams between the webhook receiver and the rest of the daemon: where verified events
/// become durable (the store's inbox) and who is told about them (the scheduler).

#include "api/vocobase/models.hpp"
#include "core/errc.hpp"
#include "core/time.hpp"
#include "store/inbox_repo.hpp"

#include <optional>
#include <span>
#include <vector>

namespace dialer::api {

/// Receives every newly stored `session.completed`, after its inbox transaction committed and
/// (for a single-threaded loop) before or while its HTTP 200 is written. Duplicates are never
/// passed on. Called on the webhook server's executor; must not block. The scheduler implements
/// it; it finds the inbox row by `data.session_id` (InboxRepo::find_by_session) to mark it
/// applied.
class OutcomeSink {
 public:
  virtual ~OutcomeSink() = default;
  virtual void on_session_completed(const SessionEvent& event) = 0;
};

/// Where verified events are made durable before they are acknowledged.
class EventInbox {
 public:
  virtual ~EventInbox() = default;
  /// Stores the batch in one transaction; element i is true when events[i] is new. On an error
  /// nothing is stored.
  virtual Result<std::vector<bool>> insert_batch(std::span<const store::InboxEvent> events) = 0;
  /// Receipt time of the oldest event not yet applied (nullopt: none), for the lag metric.
  virtual Result<std::optional<TimePoint>> oldest_unapplied() = 0;
  /// Events stored and not yet applied.
  virtual Result<std::int64_t> count_unapplied() = 0;
};

/// The production inbox: the store's webhook_inbox table.
class StoreInbox final : public EventInbox {
 public:
  explicit StoreInbox(store::InboxRepo& repo) : repo_(repo) {}
  Result<std::vector<bool>> insert_batch(std::span<const store::InboxEvent> events) override {
    return repo_.insert_batch(events);
  }
  Result<std::optional<TimePoint>> oldest_unapplied() override {
    auto rows = repo_.unapplied(1);
    if (!rows) return rows.error();
    if (rows->empty()) return std::optional<TimePoint>{};
    return std::optional<TimePoint>{rows->front().event.received_at};
  }
  Result<std::int64_t> count_unapplied() override { return repo_.count_unapplied(); }

 private:
  store::InboxRepo& repo_;
};

}  // namespace dialer::api
