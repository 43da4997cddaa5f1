#pragma once
/// Delivery of session.completed to every configured endpoint, as the service documents it:
/// signed with the endpoint's secret, 4 attempts (at once, then +1 s, +2 s, +4 s after each
/// failure, simulated time), a per-attempt timeout, any 2xx accepted, then dropped. Webhook
/// faults (drop, duplicate, delay, reorder) are drawn per (call, endpoint) from the seed.
///
/// Bounded: at most `queue_limit` deliveries pending, at most `max_connections` attempts in
/// flight (each holds one connection), idle keep-alive connections capped per endpoint.

#include "core/errc.hpp"
#include "sim/faults.hpp"
#include "sim/options.hpp"
#include "sim/sim_clock.hpp"
#include "sim/webhook_stats.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/json/array.hpp>

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace dialer::sim {

class WebhookDispatcher {
 public:
  struct Settings {
    std::vector<WebhookTarget> endpoints;
    SimMillis timeout = 10'000;  ///< per attempt, simulated
    SimMillis delay = 30'000;    ///< webhook_delay wait and longest webhook_reorder hold
    std::size_t queue_limit = 10'000;
    std::size_t max_connections = 64;
    std::uint64_t seed = 1;
  };

  /// Attempts per delivery and the waits before attempts 2, 3 and 4 (simulated ms).
  static constexpr int kMaxAttempts = 4;
  static constexpr std::array<SimMillis, 3> kRetryDelays = {1'000, 2'000, 4'000};
  /// The real-time floor of an attempt's timeout: loopback and the receiver's disk do not get
  /// faster with --time-scale.
  static constexpr std::chrono::milliseconds kMinRealTimeout{250};

  /// `faults` is read live (POST /_sim/faults changes it).
  WebhookDispatcher(boost::asio::any_io_executor ex, Timeline& timeline, const SimClock& clock,
                    const FaultRates& faults, Settings settings);
  ~WebhookDispatcher();
  WebhookDispatcher(const WebhookDispatcher&) = delete;
  WebhookDispatcher& operator=(const WebhookDispatcher&) = delete;

  /// Parses the endpoint URLs and resolves their hosts (once, at startup).
  Result<void> prepare();
  /// Queues `event_body` for every endpoint. `call_seq` keys the fault draws; `ended_at` is
  /// the simulated time the session ended.
  void submit(std::uint64_t call_seq, SimMillis ended_at, const std::string& session_id,
              const std::string& call_id, std::string event_body);
  /// Cancels everything in flight; nothing new starts.
  void stop();
  /// Forgets every pending delivery and counter (in-flight attempts finish unrecorded).
  void reset();

  [[nodiscard]] WebhookStats stats() const;
  /// The most recent attempts (up to 10,000), oldest first.
  [[nodiscard]] boost::json::array attempt_log() const;
  [[nodiscard]] std::size_t endpoint_count() const;

  // The /config/webhooks routes (VOCOBASE-API.md "Account set-up endpoints"). Endpoints from
  // the options are wh_1, wh_2, …; a removed endpoint keeps its index (log entries name it).
  /// Most endpoints at once, as the service allows.
  static constexpr std::size_t kMaxEndpoints = 5;
  /// Every endpoint, secrets left out: {id, label, url, enabled, last_delivery_at,
  /// last_delivery_status, created_at, updated_at}.
  [[nodiscard]] boost::json::array endpoints_json() const;
  /// POST /config/webhooks: the new endpoint with its `secret` (shown once), or why not (400
  /// text: bad URL, more than five).
  Result<boost::json::object> add_endpoint(std::string label, std::string url);
  /// POST /config/webhooks/{id}/rotate-secret: the endpoint with its new `secret`. Deliveries
  /// already created keep the previous secret, retries included (as the docs warn).
  Result<boost::json::object> rotate_secret(std::string_view id);
  /// PATCH: `enabled`, `label`, `url` (bools/strings); errc::not_found for an unknown id.
  Result<boost::json::object> update_endpoint(std::string_view id,
                                              const boost::json::object& patch);
  Result<void> remove_endpoint(std::string_view id);

 private:
  struct Endpoint;
  struct Delivery {
    std::uint64_t id = 0;
    std::size_t endpoint = 0;
    std::shared_ptr<const std::string> body;
    std::string secret;  ///< the endpoint's secret when the delivery was created
    std::string session_id;
    std::string call_id;
    int attempts = 0;
    bool duplicate = false;
    bool reorder = false;
    SimMillis due = 0;
    SimMillis delay_before = 0;
  };
  struct AttemptResult {
    bool ok = false;
    unsigned status = 0;
    std::string detail;
  };
  struct LogEntry {
    std::uint64_t delivery = 0;
    std::string session_id;
    std::string call_id;
    std::size_t endpoint = 0;
    int attempt = 0;
    bool duplicate = false;
    SimMillis due = 0;
    SimMillis delay_before = 0;
    SimMillis started = 0;
    std::optional<SimMillis> finished;
    std::string result = "in_flight";
    unsigned status = 0;
  };

  std::uint64_t add_delivery(std::size_t endpoint, std::shared_ptr<const std::string> body,
                             const std::string& session_id, const std::string& call_id,
                             bool duplicate, SimMillis due);
  void make_ready(std::uint64_t id);
  void pump();
  void start_attempt(Delivery& d);
  void on_attempt_done(std::uint64_t id, std::uint64_t gen, std::uint64_t log_id,
                       const AttemptResult& r);
  void release_held(std::size_t endpoint);
  boost::asio::awaitable<void> run_attempt(std::uint64_t id, std::size_t endpoint,
                                           std::shared_ptr<const std::string> body,
                                           std::string secret, std::uint64_t gen,
                                           std::uint64_t log_id);
  boost::asio::awaitable<AttemptResult> post(std::size_t endpoint, const std::string& body,
                                             const std::string& secret);
  Result<std::unique_ptr<Endpoint>> make_endpoint(const WebhookTarget& t);
  Endpoint* find_endpoint(std::string_view id);
  boost::json::object endpoint_json(const Endpoint& ep) const;
  std::string new_secret();
  [[nodiscard]] std::chrono::steady_clock::duration real_timeout() const;
  LogEntry* log_entry(std::uint64_t log_id);

  boost::asio::any_io_executor ex_;
  Timeline& timeline_;
  const SimClock& clock_;
  const FaultRates& faults_;
  Settings settings_;
  std::vector<std::unique_ptr<Endpoint>> endpoints_;

  std::map<std::uint64_t, Delivery> deliveries_;
  std::deque<std::uint64_t> ready_;
  std::vector<std::optional<std::uint64_t>> held_;
  std::uint64_t next_id_ = 1;
  std::uint64_t next_endpoint_ = 1;
  std::uint64_t secrets_minted_ = 0;
  std::size_t in_flight_ = 0;
  std::uint64_t gen_ = 0;
  bool stopping_ = false;
  WebhookStats stats_;
  std::set<boost::beast::tcp_stream*> active_streams_;
  std::deque<LogEntry> log_;
  std::uint64_t log_base_ = 0;  // id of log_.front()
};

}  // namespace dialer::sim
