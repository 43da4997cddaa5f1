#pragma once
/// The subjects a log line names, for `logging.format: json`: lines say "campaign spring: …",
/// "attempt 42 …", "contact 7 …", "call call_123 …", "session sess_9 …" (a convention every
/// message of the daemon follows), and the JSON formatter lifts them into the fields
/// `campaign`, `attempt`, `contact`, `call_id`, `session_id` so log tools can filter by them.
/// spdlog 1.10 (Debian 12) has no mapped diagnostic context to carry them otherwise.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace dialer::daemon {

struct LogFields {
  std::optional<std::string> campaign;
  std::optional<std::int64_t> attempt;
  std::optional<std::int64_t> contact;
  std::optional<std::string> call_id;
  std::optional<std::string> session_id;

  bool operator==(const LogFields&) const = default;
};

/// The first campaign, attempt, contact, call and session a message names.
LogFields log_fields(std::string_view message);

}  // namespace dialer::daemon
