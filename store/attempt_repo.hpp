#pragma once
/// Attempts: one row per POST /calls/start (STATE-MACHINES.md "Attempt"). The row is committed
/// `reserved` before the request is written; that and the outcome being committed before the
/// webhook is acknowledged are what make "never twice, never lost" hold. The row is created and
/// its state changed only by scheduler::Lifecycle (store/state_writes.hpp); the setters here
/// note facts that are not moves (when the request went out, a session id learned later).

#include "core/enums.hpp"
#include "core/errc.hpp"
#include "core/time.hpp"
#include "store/database.hpp"

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
  explicit AttemptRepo(Database& db) : db_(db) {}

  /// Notes when the request went out (reserved only).
  Result<bool> mark_sent(std::int64_t id, TimePoint sent_at);
  /// The session id of a call whose start answer carried none (learned from GET /calls/{id}).
  Result<bool> set_session_id(std::int64_t id, std::string_view session_id);
  Result<std::optional<AttemptRow>> get(std::int64_t id);
  Result<std::optional<AttemptRow>> find_by_call_id(std::string_view call_id);
  Result<std::optional<AttemptRow>> find_by_session_id(std::string_view session_id);
  /// The contact's newest attempt.
  Result<std::optional<AttemptRow>> last_for_contact(std::int64_t contact_id);
  /// Attempts holding a slot (reserved, ambiguous, started), oldest first, every campaign.
  Result<std::vector<AttemptRow>> open_attempts();
  /// Newest first, optionally of one campaign and/or only those holding a slot.
  Result<std::vector<AttemptRow>> list(std::optional<std::int64_t> campaign_id, bool in_flight_only,
                                       std::int64_t limit, std::int64_t offset = 0);

  /// Counted attempts of the contact per outcome (the per-rule retry budgets).
  Result<std::map<Outcome, int>> count_by_outcome(std::int64_t contact_id);
  /// Attempts of the campaign per outcome (only outcomes that occurred).
  Result<std::map<Outcome, std::int64_t>> outcome_counts(std::int64_t campaign_id);
  /// Attempts of the campaign holding a slot.
  Result<std::int64_t> in_flight(std::int64_t campaign_id);
  /// Attempts holding a slot, all campaigns.
  Result<std::int64_t> in_flight_total();
  /// Every attempt of the campaign.
  Result<std::int64_t> count(std::int64_t campaign_id);

 private:
  Database& db_;
};

/// Reads an attempt from a statement whose columns start at `first` in the order of
/// attempt_columns(). For repositories that join attempts.
Result<AttemptRow> read_attempt_row(const Statement& st, int first = 0);
/// "id, campaign_id, …" qualified with `alias.` when given.
std::string attempt_columns(std::string_view alias = {});

}  // namespace dialer::store
