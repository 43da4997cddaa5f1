#pragma once
// A scripted, in-memory Partner API in simulated time — for the engine tests, and for
// campaign-forecast, which runs the real scheduler against it: both rate buckets on
// the executor's clock (sliding windows, 429 freezes), the concurrency limit with foreign calls,
// credits, providers, scripted start answers and call endings, latencies, paged GET /calls
// (newest first) and GET /sessions/{id}. Every answer arrives later through the executor.

#include "core/enums.hpp"
#include "core/errc.hpp"
#include "scheduler/call_platform.hpp"
#include "scheduler/executor.hpp"

#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace dialer::scheduler {

using namespace std::chrono_literals;

/// How one POST /calls/start is answered.
struct StartScript {
  StartKind kind = StartKind::started;
  StartReason reason = StartReason::none;
  std::string message;
  /// Whether the server created the call (true for `started`; for `ambiguous` it decides
  /// whether reconciliation finds a call).
  std::optional<bool> creates_call;
  std::optional<Millis> latency;
};

/// How a created call ends.
struct CallScript {
  CallStatus status = CallStatus::completed;
  std::optional<Disposition> disposition = Disposition::completed;
  Millis duration = 2min;
  double credits = 1.0;
  bool webhook = true;  ///< deliver session.completed (false: only polling finds the outcome)
  bool never_ends = false;
  /// Extraction values of the session, as a JSON object text ("" = none).
  std::string extraction{};
};

/// A call as the server knows it.
struct SimulatedCall {
  std::string call_id;
  std::string session_id;
  std::string agent_id;
  std::string to_number;
  Provider provider = Provider::mcube;
  TimePoint created_at{};
  CallStatus status = CallStatus::in_progress;
  bool foreign = false;  ///< started by someone else on the account (not by the daemon)
  std::optional<SessionOutcome> outcome;  ///< set when it ended
  [[nodiscard]] bool active() const { return !dialer::is_terminal(status); }
};

/// One start as the server received it.
struct StartLog {
  TimePoint at;
  StartRequest request;
  StartKind answered = StartKind::started;
};

class SimulatedPlatform final : public CallPlatform {
 public:
  explicit SimulatedPlatform(Executor& ex, int calls_per_minute = 600, int general_per_minute = 600,
                             Millis window = 60s);

  // --- knobs
  int concurrency_limit = 5;
  int foreign_active = 0;
  std::string limit_source = "partner";
  AccountProviders account{{"twilio", "plivo"}, {"twilio", "plivo"}};
  std::optional<double> credit_balance = 100.0;
  /// Starts are refused (403 credits) while the balance is below this.
  double refuse_below = 0.01;
  /// Starts are refused (403 credits) whatever the balance (an account whose GET /config has
  /// no balance key).
  bool refuse_credits = false;
  /// Every request fails as if the network were down (starts: not sent; reads: failed).
  bool unreachable = false;
  /// Start answers leave out session_id (the call still has a session).
  bool start_without_session_id = false;
  Millis start_latency = 100ms;
  Millis poll_latency = 50ms;
  /// Call endings when no per-number script is left; nullopt: calls run until finish().
  std::optional<CallScript> default_call;
  /// Prefix of the call and session ids it makes ("forecast-": never an id the store holds).
  std::string id_prefix;
  /// Draws how a call ends when no per-number script is left (before default_call): the
  /// forecast's outcome mix.
  std::function<std::optional<CallScript>(const SimulatedCall&)> draw_call;
  std::map<std::string, std::deque<CallScript>> call_scripts;  ///< per number, in order
  std::deque<StartScript> start_scripts;                       ///< next starts, in order
  std::map<std::string, std::deque<StartScript>> start_scripts_by_number;
  /// The server creates a call to this number this long after it received the request (a slow
  /// server that answers before, after or instead of creating it); others at once.
  std::map<std::string, Millis> create_after_by_number;
  std::deque<PlatformError> list_failures;        ///< next GET /calls answers
  std::map<int, PlatformError> list_failures_at;  ///< by GET /calls request number (1 = first)
  std::deque<PlatformError> session_failures;     ///< next GET /sessions answers
  std::deque<PlatformError> config_failures;
  /// Where session.completed goes (the test stores it in the inbox and tells the scheduler).
  std::function<void(const SessionOutcome&)> webhook;

  // --- server-side state and control
  std::vector<SimulatedCall> calls;  ///< in creation order
  SimulatedCall* find_call(std::string_view call_id);
  /// The newest call to a number.
  SimulatedCall* call_to(std::string_view to_number);
  /// A call that exists already (in flight when a forecast copied the store): it ends as
  /// draw_call (or default_call) says, counted from now.
  void adopt_call(SimulatedCall c);
  /// Ends a call now (status, disposition, credits) and, when asked, sends its webhook.
  void finish(std::string_view call_id, const CallScript& how);
  [[nodiscard]] int active_ours() const;
  [[nodiscard]] int active_foreign() const;  ///< foreign calls added with add_foreign_call
  /// Requests per window of each bucket.
  void set_rate_limits(int calls_per_window, int general_per_window) {
    bucket(RateBucket::calls).limit = calls_per_window;
    bucket(RateBucket::general).limit = general_per_window;
  }
  /// Requests sent before the simulation began (a forecast starts with the real window's
  /// sends, not an empty one), oldest first.
  void prefill(RateBucket b, const std::vector<TimePoint>& sent_at) {
    for (TimePoint t : sent_at) bucket(b).sends.push_back(t);
  }
  /// A 429 freeze of a bucket for the whole window (as a real 429 would).
  void freeze(RateBucket b);

  // --- what the server saw
  std::vector<StartLog> starts;
  std::map<std::string, int> calls_per_number;  ///< calls created per number
  int concurrency_refusals = 0;
  int rate_violations = 0;  ///< requests sent with no token in their bucket
  int max_active = 0;       ///< ours + foreign, sampled at every accepted start
  int max_active_ours = 0;
  std::map<std::string, int> max_active_by_agent;
  int list_requests = 0;
  int session_requests = 0;
  int call_requests = 0;  ///< GET /calls/{id}
  int config_requests = 0;
  int concurrency_requests = 0;
  std::vector<int> list_offsets;
  /// Most calls active at once per number (ours and foreign), sampled at every created call.
  std::map<std::string, int> max_active_by_number;

  // --- hostile listings
  /// GET /calls pages carry no `total`.
  bool list_without_total = false;
  /// GET /calls pages hold at most this many records whatever the limit asked (short pages).
  std::optional<int> list_page_cap;
  /// GET /calls request numbers (1 = first) answered with half a page (a fault now and then).
  std::set<int> list_short_at;
  /// Adds a call nobody of ours started (another integration on the account): listed, counted
  /// in concurrency. Returns its call id.
  std::string add_foreign_call(std::string to_number, std::string agent_id,
                               CallStatus status = CallStatus::in_progress);

  // --- CallPlatform
  void start_call(StartRequest request, StartCallback done) override;
  void get_concurrency(ConcurrencyCallback done) override;
  void get_config(ConfigCallback done) override;
  void list_calls(int limit, int offset, ListCallback done) override;
  void get_session(std::string session_id, SessionCallback done) override;
  void get_call(std::string call_id, CallCallback done) override;
  [[nodiscard]] int tokens(RateBucket b) const override;
  [[nodiscard]] TimePoint next_token_at(RateBucket b) const override;
  [[nodiscard]] std::vector<TimePoint> token_returns(RateBucket b) const override;
  [[nodiscard]] Millis token_span(RateBucket) const override { return window_; }
  [[nodiscard]] int used_last_window(RateBucket b) const override;
  [[nodiscard]] int limit(RateBucket b) const override;

 private:
  struct Bucket {
    int limit = 0;
    mutable std::deque<TimePoint> sends;
    TimePoint frozen_until{};
  };
  Bucket& bucket(RateBucket b) { return buckets_[static_cast<std::size_t>(b)]; }
  const Bucket& bucket(RateBucket b) const { return buckets_[static_cast<std::size_t>(b)]; }
  void prune(const Bucket& bk) const;
  /// Spends a token; false (and a violation) when there was none.
  bool spend(RateBucket b);
  template <class F>
  void later(Millis latency, F f) {
    ex_.schedule_at(ex_.clock().now() + latency, std::move(f));
  }
  SessionOutcome outcome_of(const SimulatedCall& c) const;
  void schedule_end(const std::string& call_id);

  Executor& ex_;
  Millis window_;
  std::array<Bucket, 2> buckets_{};
  int next_id_ = 1;
};

/// The JSON body the fake's webhooks are stored with, and its parser (the SessionParser tests
/// give the scheduler).
std::string to_body(const SessionOutcome& o);
Result<SessionOutcome> parse_body(std::string_view body);

}  // namespace dialer::scheduler
