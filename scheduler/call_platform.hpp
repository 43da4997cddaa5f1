#pragma once
/// The Partner API as the scheduler sees it (ARCHITECTURE.md: the scheduler opens no sockets).
/// The daemon adapts api/vocobase's client to this interface; unit tests use a fake with a
/// simulated clock.
///
/// Contract for implementations:
/// - every callback is invoked later through the scheduler's Executor, exactly once, never
///   re-entrantly from inside the call that was given it;
/// - `tokens(RateBucket::calls)` already accounts for every start_call/list_calls/
///   get_concurrency made before it is read (an adapter that hands requests to a queue counts
///   the queued ones), so the scheduler can issue several starts in one pass without
///   overspending the /calls/* budget;
/// - the platform spends the token when it sends; a 429 about the rate freezes the bucket
///   (next_token_at reflects it).

#include "core/enums.hpp"
#include "core/time.hpp"
#include "scheduler/providers.hpp"
#include "scheduler/slots.hpp"

#include <boost/json/object.hpp>
#include <boost/system/result.hpp>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dialer::scheduler {

/// The two request budgets (STATE-MACHINES.md "Slots and rate").
enum class RateBucket {
  calls,    ///< every /calls/* request: start, list, get, concurrency
  general,  ///< everything else: /config, /sessions/{id}
};

/// How a POST /calls/start ended (VOCOBASE-API.md classification table).
enum class StartKind {
  started,    ///< 200 with call_id / session_id
  rejected,   ///< definitive 4xx: no call exists
  ambiguous,  ///< request written, no definitive answer (5xx, timeout after write, reset)
  not_sent,   ///< nothing reached the server (connect failure, timeout before writing)
};

/// Why a start was not `started`, in the terms the scheduler acts on.
enum class StartReason {
  none,         ///< started
  rate,         ///< 429 about the request rate
  concurrency,  ///< 429 about the concurrency limit
  credits,      ///< 403 about credit or balance
  provider,     ///< 403 about the provider (not enabled / not configured)
  account,      ///< other 403: suspended, not approved
  auth,         ///< 401: the key is wrong
  bad_number,   ///< 400/404 about to_number
  not_found,    ///< other 404 (e.g. unknown agent)
  validation,   ///< other 400 / 409 / 4xx
  server,       ///< 5xx or a malformed answer (ambiguous)
  network,      ///< timeout, reset, connect failure (ambiguous or not_sent)
};

/// POST /calls/start as the scheduler asks for it.
struct StartRequest {
  std::int64_t attempt_id = 0;  ///< the reserved attempt row (for logs and correlation)
  std::string agent_id;
  std::string to_number;  ///< E.164
  Provider provider = Provider::mcube;
  boost::json::object variables;
};

struct StartResult {
  StartKind kind = StartKind::not_sent;
  StartReason reason = StartReason::network;
  std::string call_id;     ///< started
  std::string session_id;  ///< started
  std::string message;     ///< the API's error message or what happened on the wire
  std::optional<Millis> retry_after;

  static StartResult started(std::string call_id, std::string session_id) {
    return {StartKind::started, StartReason::none, std::move(call_id), std::move(session_id), {},
            std::nullopt};
  }
  static StartResult failed(StartKind kind, StartReason reason, std::string message = {}) {
    return {kind, reason, {}, {}, std::move(message), std::nullopt};
  }
};

/// A request other than a start that did not succeed.
struct PlatformError {
  enum class Kind {
    rate_limited,  ///< no token, or a 429 about the rate: try again when a token returns
    not_found,     ///< 404 (e.g. an unknown session id)
    failed,        ///< anything else (network, 5xx, malformed answer, auth)
  };
  Kind kind = Kind::failed;
  std::string message;
  std::optional<Millis> retry_after;
};

[[noreturn]] void throw_exception_from_error(const PlatformError& e,
                                             const boost::source_location& loc);

template <class T>
using PlatformResult = boost::system::result<T, PlatformError>;

/// GET /calls/concurrency.
struct ConcurrencyReading {
  int limit = kDefaultAccountLimit;
  int active = 0;            ///< calls the account has in pending/ringing/in_progress
  std::string limit_source;  ///< opaque (e.g. "partner"): shown, never branched on
};

/// GET /config, the parts the scheduler uses.
struct AccountInfo {
  AccountProviders providers;
  /// The value at vocobase.credit_balance_pointer; nullopt when the key is absent.
  std::optional<double> credit_balance;
};

/// One call of GET /calls.
struct ListedCall {
  std::string call_id;
  std::string session_id;
  std::string agent_id;
  std::string to_number;
  std::optional<CallStatus> status;  ///< empty for a spelling this build does not know
  TimePoint created_at{};
};

/// One page of GET /calls (newest first).
struct CallListing {
  std::vector<ListedCall> calls;
  /// Calls on the account as the server counts them; absent when the page did not say (such a
  /// page proves no absence).
  std::optional<int> total;
  /// to_number of each record that could not be read and was skipped ("" when unknown): no
  /// absence is proven on this page for those numbers.
  std::vector<std::string> malformed_numbers;
};

/// What a finished session tells about its call: from a webhook body, or GET /sessions/{id}.
/// The daemon's adapter converts the API client's model into this.
struct SessionOutcome {
  std::string session_id;
  std::string call_id;               ///< "" when the session has no call block
  std::string to_number;             ///< call.to_number ("" when absent)
  std::string agent_id;              ///< the session's agent_id ("" when absent)
  std::optional<CallStatus> status;  ///< call.status; empty when absent or unknown
  std::optional<Disposition> disposition;
  std::optional<AnsweredBy> answered_by;
  std::optional<double> duration_seconds;
  std::optional<double> credits_used;
  /// The session `data` as JSON text (transcript, extraction…), stored with the attempt for
  /// export; "" = none.
  std::string raw_json;

  /// Disposition when present, else a terminal status; nullopt while the call is not over.
  [[nodiscard]] std::optional<Outcome> outcome() const;
};

class CallPlatform {
 public:
  using StartCallback = std::function<void(StartResult)>;
  using ConcurrencyCallback = std::function<void(PlatformResult<ConcurrencyReading>)>;
  using ConfigCallback = std::function<void(PlatformResult<AccountInfo>)>;
  using ListCallback = std::function<void(PlatformResult<CallListing>)>;
  using SessionCallback = std::function<void(PlatformResult<SessionOutcome>)>;
  using CallCallback = std::function<void(PlatformResult<ListedCall>)>;

  virtual ~CallPlatform() = default;

  /// POST /calls/start (/calls/* bucket, first claim on it).
  virtual void start_call(StartRequest request, StartCallback done) = 0;
  /// GET /calls/concurrency (/calls/* bucket).
  virtual void get_concurrency(ConcurrencyCallback done) = 0;
  /// GET /config (general bucket).
  virtual void get_config(ConfigCallback done) = 0;
  /// GET /calls?limit&offset, newest first (/calls/* bucket).
  virtual void list_calls(int limit, int offset, ListCallback done) = 0;
  /// GET /sessions/{id} (general bucket).
  virtual void get_session(std::string session_id, SessionCallback done) = 0;
  /// GET /calls/{id} (/calls/* bucket): for a call whose start answer carried no session_id.
  virtual void get_call(std::string call_id, CallCallback done) = 0;

  /// Tokens spendable now in a bucket (0 while frozen after a 429).
  [[nodiscard]] virtual int tokens(RateBucket b) const = 0;
  /// When the bucket next has a token (now when tokens(b) > 0).
  [[nodiscard]] virtual TimePoint next_token_at(RateBucket b) const = 0;
  /// When each token spent in the bucket comes back, oldest first, net of requests already
  /// waiting for one (token planning: STATE-MACHINES.md "Slots and rate").
  [[nodiscard]] virtual std::vector<TimePoint> token_returns(RateBucket b) const = 0;
  /// How long a token spent now stays spent (the sliding window, plus any guard).
  [[nodiscard]] virtual Millis token_span(RateBucket b) const = 0;
  /// Requests sent in the last sliding window (status-get `rate.used_last_minute`).
  [[nodiscard]] virtual int used_last_window(RateBucket b) const = 0;
  /// The bucket's limit per window (status-get `rate.calls_per_minute`).
  [[nodiscard]] virtual int limit(RateBucket b) const = 0;
};

}  // namespace dialer::scheduler

namespace dialer {
template <>
struct EnumNames<scheduler::RateBucket> {
  static constexpr auto names = std::to_array<std::string_view>({"calls", "general"});
};
template <>
struct EnumNames<scheduler::StartKind> {
  static constexpr auto names =
      std::to_array<std::string_view>({"started", "rejected", "ambiguous", "not_sent"});
};
template <>
struct EnumNames<scheduler::StartReason> {
  static constexpr auto names = std::to_array<std::string_view>(
      {"", "rate", "concurrency", "credits", "provider", "account", "auth", "bad_number",
       "not_found", "validation", "server", "network"});
};
}  // namespace dialer
