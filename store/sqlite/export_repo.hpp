#pragma once
/// The rows behind `campaign-export` (CONTRACT.md "Results export"): each contact with its last
/// call and its total spend, streamed in contact order so a million-contact campaign never sits
/// in memory. Turning them into CSV (x_<key> columns, variables) is the admin command's job.

#include "core/errc.hpp"
#include "store/attempt_repo.hpp"
#include "store/contact_repo.hpp"
#include "store/sql/database.hpp"

#include <cstdint>
#include <functional>
#include <optional>

namespace dialer::store {

struct ExportRow {
  ContactRow contact;
  /// The newest attempt that became a call (has a call id): answered_by, duration_seconds,
  /// last_call_id, last_session_id and the transcript/extraction in result_json come from it.
  std::optional<AttemptRow> last_call;
  /// Sum of credits_used over all the contact's attempts.
  double credits_used = 0;
};

class ExportRepo {
 public:
  explicit ExportRepo(Database& db) : db_(db) {}

  /// Calls `callback` for each contact of the campaign in id order; it returns false to stop.
  Result<void> for_each(std::int64_t campaign_id,
                        const std::function<bool(const ExportRow&)>& callback);

 private:
  Database& db_;
};

}  // namespace dialer::store
