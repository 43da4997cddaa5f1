#pragma once
/// The simulated Partner API account, free of sockets: keys, rate buckets, concurrency,
/// credits, providers, agents, the call lifecycle and the referee statistics. The HTTP layer
/// (Router, HttpServer) only translates requests into calls on this class.

#include "core/enums.hpp"
#include "core/time.hpp"
#include "sim/call_plan.hpp"
#include "sim/faults.hpp"
#include "sim/options.hpp"
#include "sim/rate_window.hpp"
#include "sim/sim_clock.hpp"
#include "sim/webhook_stats.hpp"

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <array>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <variant>
#include <vector>

namespace dialer::sim {

/// The two rate buckets of VOCOBASE-API.md: every /calls/* request, and everything else.
enum class Bucket { calls, general };

/// Why a request was refused (keys of "refused" in GET /_sim/stats).
enum class Refusal {
  rate_calls,
  rate_general,
  concurrency,
  credits,
  provider,
  validation,
  auth,
  not_found
};
inline constexpr std::size_t kRefusalCount = 8;
std::string_view refusal_name(Refusal r) noexcept;

/// An error answer in the service's envelope: {"success": false, "error": {code, message}}.
struct ApiError {
  unsigned status = 500;
  std::string code;
  std::string message;
};

/// One simulated call (and its session: one per call).
struct Call {
  std::uint64_t seq = 0;  ///< 1-based creation order since start or reset
  std::string call_id;
  std::string session_id;
  std::string agent_id;
  std::string to_number;
  std::string from_number;
  Provider provider = Provider::mcube;
  boost::json::object variables;
  CallPlan plan;
  CallStatus status = CallStatus::pending;
  TimePoint created_at;
  std::optional<TimePoint> started_at;   ///< left pending (dialling began)
  std::optional<TimePoint> answered_at;  ///< reached in_progress
  std::optional<TimePoint> ended_at;
  /// Each status with the simulated time it was entered (exact, from the plan).
  std::vector<std::pair<CallStatus, SimMillis>> history;

  /// Placed by another integration on the same account (POST /_sim/foreign): listed and
  /// counted in concurrency, never in the referee's per-number statistics, no webhook.
  bool foreign = false;

  [[nodiscard]] bool active() const noexcept { return !is_terminal(status); }
};

/// Per destination number.
struct NumberStats {
  std::uint64_t calls = 0;
  std::uint64_t active = 0;
  std::uint64_t max_concurrent = 0;
};

/// Request faults decided when a request is admitted (drawn per request from the seed).
struct RequestFaults {
  bool reset = false;
  bool error_5xx = false;
  unsigned error_status = 500;  ///< 500, 502 or 503
  bool lost_response = false;   ///< candidate: applies only when a call was created
  bool lost_response_hold = false;
  bool slow = false;
  bool slow_start = false;       ///< candidate: applies only when a call was created
  bool list_no_total = false;    ///< candidate: applies only to GET /calls
  bool list_short_page = false;  ///< candidate: applies only to GET /calls
};

/// The verdict on an incoming /api/v2 request before routing.
struct Admission {
  Bucket bucket = Bucket::general;
  std::optional<ApiError> error;  ///< 401 or 429: answer this and stop
  RequestFaults faults;
};

class Engine {
 public:
  /// Receives every finished session: the call and the serialized session.completed event.
  using SessionSink = std::function<void(const Call&, std::string event_body)>;

  Engine(SimOptions options, const SimClock& clock, Timeline& timeline);

  void set_session_sink(SessionSink sink) { sink_ = std::move(sink); }

  /// Counts a request against its bucket, checks the Bearer key and the key's rate window,
  /// and draws the request's faults. `path` is the URL path ("/api/v2/calls/start").
  Admission admit(std::string_view path, std::string_view authorization);
  /// Counts a request fault that was actually applied.
  void note_fault(Fault f) { ++faults_applied_[static_cast<std::size_t>(f)]; }

  /// POST /calls/start with this body: the created call, or the refusal (counted).
  std::variant<const Call*, ApiError> start_call(std::string_view body);
  /// `data` of a successful start.
  [[nodiscard]] boost::json::object start_data(const Call& c) const;
  /// GET /calls with its raw query values; `faults` may leave out `total` or shorten the page
  /// (each applied one is counted).
  std::variant<boost::json::value, ApiError> list_calls(std::optional<std::string_view> limit,
                                                        std::optional<std::string_view> offset,
                                                        std::optional<std::string_view> status,
                                                        const RequestFaults& faults = {});
  /// GET /calls/{id}.
  std::variant<boost::json::value, ApiError> get_call(std::string_view call_id) const;
  /// GET /sessions/{id}.
  std::variant<boost::json::value, ApiError> get_session(std::string_view session_id) const;
  /// `data` of GET /config.
  [[nodiscard]] boost::json::object config_data() const;
  /// `data` of GET /calls/concurrency.
  [[nodiscard]] boost::json::object concurrency_data() const;

  // --- control (POST /_sim/…) ---
  void set_credit_balance(double balance);
  /// Lowering the limit below the active calls counts a limit violation.
  void set_concurrency_limit(int limit);
  /// Another integration keeps `n` calls of its own in progress on the account: each is placed
  /// only while a slot is free (the service refuses it too), topped up as slots free, and the
  /// oldest are ended when `n` is lowered. Returns how many are active now.
  std::uint64_t set_foreign_calls(std::uint64_t n);
  [[nodiscard]] std::uint64_t foreign_active() const { return foreign_active_.size(); }
  Result<void> set_providers(std::vector<Provider> allowed, std::vector<Provider> configured);
  void set_faults(const FaultRates& f) { faults_ = f; }
  /// Replaces the scripts of the numbers given (others keep theirs).
  void merge_script(const Script& s);

  // --- account set-up (VOCOBASE-API.md "Account set-up endpoints") ---
  /// GET /agents/{id}: `data` of a known agent, or 404.
  std::variant<boost::json::object, ApiError> get_agent(std::string_view agent_id);
  /// POST /voicelink/sync. Readiness rows come from POST /_sim/voicelink; without
  /// `import_dids: false` the sync imports (counted in stats as `voicelink_imports`, which a
  /// read-only caller must keep at 0).
  std::variant<boost::json::object, ApiError> voicelink_sync(std::string_view body);
  /// POST /_sim/voicelink {connections: N, readiness: [...], warnings: [...]}.
  Result<void> set_voicelink(const boost::json::object& o);
  /// GET /api/telephony/connections (legacy BYOP), set by POST /_sim/legacy {connections: [...]}.
  [[nodiscard]] boost::json::array legacy_connections() const { return legacy_; }
  void set_legacy_connections(boost::json::array list) { legacy_ = std::move(list); }
  /// Back to the startup settings: calls, stats, windows, credits, limits, faults, scripts and
  /// the outcome sequence all start over. Call ids keep counting, so they never repeat.
  void reset();

  [[nodiscard]] const FaultRates& faults() const { return faults_; }
  [[nodiscard]] double credit_balance() const;
  [[nodiscard]] int concurrency_limit() const { return concurrency_limit_; }
  [[nodiscard]] std::uint64_t active() const { return active_; }
  [[nodiscard]] const SimOptions& options() const { return options_; }
  [[nodiscard]] const Call* find_call(std::string_view call_id) const;
  /// Every call since start or reset, in creation order (the referee's view for tests).
  [[nodiscard]] const std::deque<Call>& calls() const { return calls_; }

  /// GET /_sim/stats (webhook counters come from the dispatcher).
  [[nodiscard]] boost::json::object stats_json(const WebhookStats& webhooks) const;
  /// The simulator's own view of a call: wire fields plus plan and status history.
  [[nodiscard]] std::optional<boost::json::object> sim_call(std::string_view call_id) const;
  /// `data` of session.completed / GET /sessions/{id}.
  [[nodiscard]] boost::json::object session_data(const Call& c) const;

 private:
  ApiError refuse(Refusal r, unsigned status, std::string code, std::string message);
  Call* find_seq(std::uint64_t seq);
  void schedule_step(std::uint64_t seq, SimMillis at);
  void step(std::uint64_t seq, SimMillis at);
  void finish(Call& c, SimMillis at);
  void evict();
  [[nodiscard]] boost::json::object call_json(const Call& c) const;
  [[nodiscard]] std::string from_number_of(Provider p) const;
  [[nodiscard]] bool agent_known(std::string_view agent_id) const;
  void check_violation();
  void top_up_foreign();
  void end_foreign(std::uint64_t seq);

  SimOptions options_;
  const SimClock& clock_;
  Timeline& timeline_;
  SessionSink sink_;

  // settings that /_sim/ can change
  int concurrency_limit_;
  double balance_base_;
  std::int64_t billed_since_base_ = 0;  // seconds billed since the balance was last set
  std::vector<Provider> allowed_;
  std::vector<Provider> configured_;
  FaultRates faults_;
  Script script_;
  std::map<std::string, std::size_t> script_pos_;

  SlidingWindowLimiter calls_window_;
  SlidingWindowLimiter general_window_;

  std::deque<Call> calls_;  // ordered by seq
  std::unordered_map<std::string, std::uint64_t> by_call_id_;
  std::unordered_map<std::string, std::uint64_t> by_session_id_;
  std::uint64_t next_seq_ = 1;
  std::uint64_t id_seq_ = 0;  // never reset: ids stay unique for the process
  std::uint64_t request_seq_ = 0;
  std::uint64_t generation_ = 0;

  // statistics
  std::uint64_t active_ = 0;
  std::uint64_t calls_started_ = 0;
  std::uint64_t calls_ended_ = 0;
  std::uint64_t max_concurrent_ = 0;
  std::uint64_t limit_violations_ = 0;
  std::int64_t billed_seconds_ = 0;
  std::map<std::string, NumberStats> numbers_;
  std::array<std::uint64_t, kRefusalCount> refused_{};
  std::uint64_t requests_calls_ = 0;
  std::uint64_t requests_general_ = 0;
  std::array<std::uint64_t, 8> outcomes_{};
  std::array<std::uint64_t, kFaultCount> faults_applied_{};

  // account set-up state
  int voicelink_connections_ = 1;
  boost::json::array voicelink_readiness_;
  boost::json::array voicelink_warnings_;
  boost::json::array legacy_;
  std::uint64_t voicelink_syncs_ = 0;
  std::uint64_t voicelink_imports_ = 0;

  // foreign calls (POST /_sim/foreign)
  std::uint64_t foreign_target_ = 0;
  std::deque<std::uint64_t> foreign_active_;  // seqs, oldest first
  std::uint64_t foreign_started_ = 0;
  std::uint64_t foreign_refused_ = 0;  // top-ups that found no free slot
};

/// A JSON number that prints as an integer when the value is whole.
boost::json::value json_number(double v);

}  // namespace dialer::sim
