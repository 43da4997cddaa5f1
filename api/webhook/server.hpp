#pragma once
/// The webhook listener (CONTRACT.md "Webhook endpoint"): POST {path} for `session.completed`
/// and GET /healthz on one Beast HTTP server. An event is acknowledged only after it is durably
/// in the inbox; events verified in the same loop turn share one transaction. The same server,
/// with `serve_webhook` off and `serve_metrics` on, is the metrics listener (GET/HEAD /metrics).
///
/// Threading: runs on the executor given at construction (one thread, or a strand); public
/// members must be called there too.

#include "api/webhook/outcome_sink.hpp"
#include "api/webhook/router.hpp"
#include "api/webhook/stats.hpp"
#include "core/errc.hpp"
#include "core/time.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace prometheus {
class Registry;
}

namespace dialer::api {

struct WebhookServerOptions {
  /// "host:port" ("127.0.0.1:8080", "[::1]:0"); port 0 picks a free port.
  std::string listen = "127.0.0.1:8080";
  WebhookSettings webhook;
  std::size_t max_header = 16 * 1024;  ///< request line + header fields (431 above)
  std::size_t max_connections = 1024;  ///< further connections wait in the listen backlog
  Millis idle_timeout{30'000};         ///< keep-alive connection idle, or slow request head
  Millis request_timeout{15'000};      ///< reading one body / writing one answer
  std::size_t max_batch = 1024;        ///< events per inbox transaction
  /// Longest a verified delivery waits for others to share its inbox transaction (group
  /// commit); not waited for when every open connection already has one in the batch.
  Millis batch_delay{1};
};

/// Splits "host:port" / "[v6]:port". Errors name the text.
Result<boost::asio::ip::tcp::endpoint> parse_listen_address(std::string_view text);

class WebhookServer {
 public:
  /// Binds the listener (errors: bad address, port in use). `inbox`, `sink` and `clock` must
  /// outlive the server. The server's metric families are added to `registry`, which /metrics
  /// serves — the scheduler and client add theirs to the same registry.
  static Result<std::unique_ptr<WebhookServer>> create(
      boost::asio::any_io_executor ex, WebhookServerOptions options, EventInbox& inbox,
      OutcomeSink& sink, const Clock& clock, std::shared_ptr<prometheus::Registry> registry);
  ~WebhookServer();
  WebhookServer(const WebhookServer&) = delete;
  WebhookServer& operator=(const WebhookServer&) = delete;

  /// Starts accepting.
  void start();
  /// Stops accepting and closes every connection. Idempotent.
  void stop();

  /// The bound address (the real port when 0 was asked for).
  [[nodiscard]] boost::asio::ip::tcp::endpoint local_endpoint() const;
  /// local_endpoint() as "host:port" (status-get's webhook_listen).
  [[nodiscard]] std::string local_address() const;

  /// /healthz answers 200 {"status":"ok"} once ready, 503 before (set by the daemon when every
  /// component is up).
  void set_ready(bool ready);
  /// Replaces the webhook secrets (config reload).
  void set_secrets(std::vector<std::string> secrets);
  /// Called on the listener's executor with the index (in the last set_secrets list) of the
  /// secret that signed each stored delivery: secret rotation watches for the new one.
  void on_secret_used(std::function<void(std::size_t)> hook);
  /// The registry /metrics serves.
  [[nodiscard]] std::shared_ptr<prometheus::Registry> registry() const;
  /// Deliveries stored and refused (status-get `webhooks`).
  [[nodiscard]] WebhookSnapshot stats() const;
  /// Updates the gauges computed on demand (inbox backlog and lag), for a /metrics served by
  /// another listener.
  void refresh_metrics();
  /// Runs before each /metrics answer, to refresh gauges computed on demand.
  void on_scrape(std::function<void()> hook);

  class Impl;

 private:
  explicit WebhookServer(std::shared_ptr<Impl> impl);
  std::shared_ptr<Impl> impl_;
};

}  // namespace dialer::api
