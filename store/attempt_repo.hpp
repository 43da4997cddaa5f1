#pragma once
/// Attempts: one row per POST /calls/start (STATE-MACHINES.md "Attempt"). The row is committed
/// `reserved` before the request is written; that and the outcome being committed before the
/// webhook is acknowledged are what make "never twice, never lost" hold. The row is created and
/// its state changed only by scheduler::Lifecycle (store/state_writes.hpp); the setters here
/// note facts that are not moves (when the request went out, a session id learned later).

#include "core/enums.hpp"
#include "core/errc.hpp"
#include "core/time.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dialer::store {

/// Every column of the attempts table.
struct AttemptRow {
  std::int64_t id = 0;
  std::int64_t campaign_id = 0;
  std::int64_t contact_id = 0;
  AttemptState state = AttemptState::reserved;
  bool counted = false;  ///< counts toward the contact's attempts
  Provider provider = Provider::twilio;
  std::string to_number;
  std::string agent_id;
  std::optional<std::string> call_id;
  std::optional<std::string> session_id;
  TimePoint reserved_at;
  std::optional<TimePoint> sent_at;
  std::optional<TimePoint> started_at;
  std::optional<TimePoint> ended_at;
  std::optional<CallStatus> status;
  std::optional<Disposition> disposition;
  std::optional<Outcome> outcome;
  std::optional<AnsweredBy> answered_by;
  std::optional<double> duration_seconds;
  std::optional<double> credits_used;
  std::optional<std::string> error_code;
  std::optional<std::string> error;
  std::optional<std::string> result_json;  ///< final session data (transcript, extraction…)

  bool operator==(const AttemptRow&) const = default;
};

/// What an outcome (webhook or poll) tells about a call.
struct FinishedCall {
  CallStatus status = CallStatus::completed;
  std::optional<Disposition> disposition;
  Outcome outcome = Outcome::completed;
  std::optional<AnsweredBy> answered_by;
  std::optional<double> duration_seconds;
  std::optional<double> credits_used;
  std::string result_json;  ///< "" = none (NULL)
  TimePoint ended_at;
};

class AttemptRepo {
 public:
  virtual ~AttemptRepo() = default;

  /// Notes when the request went out (reserved only).
  virtual Result<bool> mark_sent(std::int64_t id, TimePoint sent_at) = 0;
  /// The session id of a call whose start answer carried none (learned from GET /calls/{id}).
  virtual Result<bool> set_session_id(std::int64_t id, std::string_view session_id) = 0;
  virtual Result<std::optional<AttemptRow>> get(std::int64_t id) = 0;
  virtual Result<std::optional<AttemptRow>> find_by_call_id(std::string_view call_id) = 0;
  virtual Result<std::optional<AttemptRow>> find_by_session_id(std::string_view session_id) = 0;
  /// The contact's newest attempt.
  virtual Result<std::optional<AttemptRow>> last_for_contact(std::int64_t contact_id) = 0;
  /// Attempts holding a slot (reserved, ambiguous, started), oldest first, every campaign.
  virtual Result<std::vector<AttemptRow>> open_attempts() = 0;
  /// Newest first, optionally of one campaign and/or only those holding a slot.
  virtual Result<std::vector<AttemptRow>> list(std::optional<std::int64_t> campaign_id,
                                               bool in_flight_only, std::int64_t limit,
                                               std::int64_t offset = 0) = 0;

  /// Counted attempts of the contact per outcome (the per-rule retry budgets).
  virtual Result<std::map<Outcome, int>> count_by_outcome(std::int64_t contact_id) = 0;
  /// Attempts of the campaign per outcome (only outcomes that occurred).
  virtual Result<std::map<Outcome, std::int64_t>> outcome_counts(std::int64_t campaign_id) = 0;
  /// Attempts of the campaign holding a slot.
  virtual Result<std::int64_t> in_flight(std::int64_t campaign_id) = 0;
  /// Attempts holding a slot, all campaigns.
  virtual Result<std::int64_t> in_flight_total() = 0;
  /// Every attempt of the campaign.
  virtual Result<std::int64_t> count(std::int64_t campaign_id) = 0;

 protected:
  AttemptRepo() = default;
  AttemptRepo(const AttemptRepo&) = delete;
  AttemptRepo& operator=(const AttemptRepo&) = delete;
};

}  // namespace dialer::store
