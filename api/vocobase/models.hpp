#pragma once
/// Partner API v2 payloads as plain structs, and their Boost.JSON parsers (VOCOBASE-API.md).
/// Unknown extra keys are ignored; a missing or mistyped required key is an error value; an
/// unknown enum spelling keeps its text and leaves the enum empty (the API may add values).
/// The session `data` parser is shared by the webhook receiver and GET /sessions/{id}.

#include "core/enums.hpp"
#include "core/errc.hpp"
#include "core/time.hpp"

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dialer::api {

/// Largest JSON document any parser here accepts (the HTTP layers enforce their own limits
/// first; this guards direct callers).
inline constexpr std::size_t kMaxJsonBytes = 16 * 1024 * 1024;

/// One provider entry of GET /config `telephony`.
struct TelephonyEntry {
  bool configured = false;
  std::string from_number;
};

/// GET /config, the parts the scheduler needs.
struct AccountConfig {
  std::string name;
  std::string status;
  /// `allowed_telephony_providers`, lower-cased (the docs say compare case-insensitively).
  std::vector<std::string> allowed_providers;
  /// `telephony`, keyed by lower-cased provider name.
  std::map<std::string, TelephonyEntry> telephony;
  /// The value at the configured JSON pointer; nullopt when the key is absent (not an error).
  std::optional<double> credit_balance;

  /// Allowed and configured: a campaign may dial through it.
  [[nodiscard]] bool provider_usable(Provider p) const;
};

/// GET /calls/concurrency.
struct ConcurrencyInfo {
  int limit = 0;
  int active = 0;
  int remaining = 0;         ///< limit − active when the server omits it
  std::string limit_source;  ///< opaque; logged, never branched on
  std::vector<std::string> statuses_counted;
};

/// POST /calls/start body.
struct StartCallRequest {
  std::string agent_id;
  std::string to_number;  ///< E.164
  Provider provider = Provider::mcube;
  boost::json::object variables;
};

/// POST /calls/start 200 `data`.
struct StartedCall {
  std::string call_id;
  std::string session_id;
  std::string status;
  std::string provider;
  std::string from_number;
  std::string to_number;
  std::string agent_id;
};

/// The `session` block of GET /calls/{id}.
struct CallSessionInfo {
  std::string session_id;
  std::optional<double> duration_seconds;
  std::optional<double> credits_used;
  boost::json::value transcript;  ///< as sent (array or null)
  std::string recording_url;
  std::string status;
  std::optional<TimePoint> started_at;
  std::optional<TimePoint> ended_at;
};

/// One call of GET /calls or GET /calls/{id}.
struct CallRecord {
  std::string call_id;
  std::string agent_id;
  std::string session_id;
  std::string direction;
  std::string from_number;
  std::string to_number;
  std::string status_text;           ///< as sent
  std::optional<CallStatus> status;  ///< empty for a spelling this build does not know
  std::string provider;
  std::optional<double> duration_seconds;
  std::string error_message;
  std::optional<TimePoint> started_at;
  std::optional<TimePoint> ended_at;
  TimePoint created_at{};
  std::optional<CallSessionInfo> session;  ///< GET /calls/{id} only
};

/// GET /calls page.
struct CallPage {
  std::vector<CallRecord> calls;
  std::optional<int> total;  ///< absent when the server left it out (such a page proves nothing)
  int limit = 0;
  int offset = 0;
  /// Records that could not be read (a null or missing field) are skipped, never fail the page;
  /// this holds the to_number of each ("" when it had none either).
  std::vector<std::string> malformed_numbers;
};

/// Query of GET /calls.
struct ListCallsQuery {
  int limit = 100;  ///< 1..100
  int offset = 0;
  std::optional<CallStatus> status;
};

struct TranscriptEntry {
  std::string role;
  std::string content;
  std::string timestamp;
};

/// The `call` block of a session (absent for browser sessions).
struct SessionCall {
  std::string call_id;
  std::string from_number;
  std::string to_number;
  std::string direction;
  std::string status_text;
  std::optional<CallStatus> status;
  std::string disposition_text;
  std::optional<Disposition> disposition;
  std::string answered_by_text;
  std::optional<AnsweredBy> answered_by;

  /// Disposition when present, else a terminal status (STATE-MACHINES.md).
  [[nodiscard]] std::optional<Outcome> outcome() const;
};

/// `data` of `session.completed` and of GET /sessions/{id}: the same shape.
struct SessionData {
  std::string session_id;  ///< required, non-empty
  std::string agent_id;
  std::string agent_name;
  double duration_seconds = 0;
  double credits_used = 0;
  bool processing_complete = false;
  std::optional<TimePoint> pipeline_completed_at;
  std::vector<TranscriptEntry> transcript;
  std::string recording_url;
  boost::json::object variables;
  std::string extraction_status;
  boost::json::object extraction_values;
  std::optional<SessionCall> call;
};

/// A whole `session.completed` delivery.
struct SessionEvent {
  std::string event;      ///< "session.completed"
  std::string timestamp;  ///< the payload's own timestamp, as sent
  SessionData data;
  std::string data_json;  ///< the `data` object as sent (serialised again; stored with the call)
};

/// Parses a session `data` object (webhook body's `data`, GET /sessions/{id} envelope `data`).
Result<SessionData> parse_session_data(const boost::json::value& data);
/// Parses a whole webhook body; requires `data` with a non-empty string `session_id`.
Result<SessionEvent> parse_session_event(std::string_view body);

/// Parses a JSON text with the project's limits (depth, size). Used by every parser here.
Result<boost::json::value> parse_json(std::string_view text);
/// The `data` member of a success envelope `{"success": true, "data": {…}}`.
Result<const boost::json::value*> envelope_data(const boost::json::value& doc);

/// GET /config body; the balance is read at `credit_pointer` of the whole document.
Result<AccountConfig> parse_account_config(std::string_view body, std::string_view credit_pointer);
Result<ConcurrencyInfo> parse_concurrency(std::string_view body);
Result<StartedCall> parse_started_call(std::string_view body);
Result<CallPage> parse_call_page(std::string_view body);
/// GET /calls/{id} body.
Result<CallRecord> parse_call(std::string_view body);
/// GET /sessions/{id} body.
Result<SessionData> parse_session(std::string_view body);

/// The POST /calls/start JSON body.
std::string serialize(const StartCallRequest& req);

}  // namespace dialer::api
