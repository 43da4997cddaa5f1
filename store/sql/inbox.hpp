#pragma once
/// SQLite implementation of store/inbox_repo.hpp.

#include "store/inbox_repo.hpp"
#include "store/sql/database.hpp"

namespace dialer::store {

class SqlInbox final : public InboxRepo {
 public:
  explicit SqlInbox(Database& db) : db_(db) {}

  Result<std::vector<bool>> insert_batch(std::span<const InboxEvent> events) override;
  Result<bool> insert(const InboxEvent& event) override;
  Result<std::vector<InboxRow>> unapplied(std::size_t limit) override;
  Result<std::vector<InboxRow>> unapplied_after(std::int64_t after_id, std::size_t limit) override;
  Result<void> mark_applied(std::int64_t id, TimePoint at) override;
  Result<std::optional<InboxRow>> find_by_session(std::string_view session_id) override;
  Result<std::int64_t> count_unapplied() override;
  Result<std::int64_t> prune_applied(TimePoint before, std::int64_t limit = -1) override;
  Result<bool> record_polled(std::string_view session_id, std::string_view call_id,
                             std::string_view body, TimePoint at) override;

 private:
  Database& db_;
};

}  // namespace dialer::store
