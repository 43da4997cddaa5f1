#pragma once
/// The Partner API v2 client: Boost.Beast over TCP, TLS (system CA store, peer verification,
/// SNI, host name check) for https:// and plain HTTP for http:// (the simulator), keep-alive
/// reuse, connect and whole-request deadlines, response body limit, the rate budget, and the
/// classification of every answer (classification.hpp). It decides no policy: the scheduler
/// branches on the returned values.
///
/// Threading: every public member must be called, and every returned awaitable awaited, on the
/// executor given at construction (a strand or a single-threaded io_context). Destroy the client
/// only after all its requests have completed (or after the io_context stopped).

#include "api/vocobase/account_setup.hpp"
#include "api/vocobase/classification.hpp"
#include "api/vocobase/models.hpp"
#include "api/vocobase/rate_budget.hpp"
#include "core/errc.hpp"
#include "core/time.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace prometheus {
class Registry;
}

namespace dialer::api {

/// Plain values the composition root fills from the config (no dependency on config/).
struct ClientOptions {
  /// "https://api.vocobase.com/api/v2" or "http://127.0.0.1:PORT/api/v2"; no user info.
  std::string base_url;
  /// Sent only as "Authorization: Bearer …"; never logged, never in an error text or a metric.
  std::string api_key;
  Millis connect_timeout{5'000};   ///< resolve + TCP connect + TLS handshake
  Millis request_timeout{15'000};  ///< whole request, from the token grant to the last byte
  Millis queue_timeout{300'000};   ///< longest wait for a rate token before `queue_timeout`
  /// The same for POST /calls/start: a start that cannot be written soon is better not sent
  /// (the contact is queued again, uncounted); it also bounds when a reservation found at
  /// startup may be proven absent (scheduler start_wait_limit).
  Millis start_queue_timeout{10'000};
  std::size_t max_response_body = 8 * 1024 * 1024;
  std::size_t pool_size = 4;  ///< idle keep-alive connections kept
  /// An idle pooled connection older than this is closed rather than reused: servers drop idle
  /// keep-alive connections, and a request written into one that is closing is ambiguous.
  Millis idle_reuse_limit{4'000};
  /// JSON pointer of the credit balance in GET /config (the docs name no key).
  std::string credit_balance_pointer = "/data/credit_balance";
  RateLimits rate;
  /// Extra PEM CA file trusted besides the system store (tests, private CAs).
  std::string extra_ca_file;
  /// Trust the system CA store (on by default; tests turn it off to stay hermetic).
  bool use_system_ca = true;
  /// Connect to this host instead of the URL's (like curl --connect-to); TLS name check, SNI
  /// and the Host header still use the URL's host. Empty = the URL's host.
  std::string connect_host;
};

/// Endpoints, as used in metric labels and logs.
enum class Endpoint {
  config,
  concurrency,
  calls_start,
  calls_list,
  calls_get,
  sessions_get,
  account_setup  ///< webhooks, agents, VoiceLink, legacy connections (account-check)
};
std::string_view to_string(Endpoint e) noexcept;

class VocobaseClient {
 public:
  /// Validates the options (URL, CA file) and builds the client. `registry` may be null (no
  /// metrics); the client adds dialer_api_* families to it.
  static Result<std::unique_ptr<VocobaseClient>> create(boost::asio::any_io_executor ex,
                                                        ClientOptions options, const Clock& clock,
                                                        prometheus::Registry* registry = nullptr);
  ~VocobaseClient();
  VocobaseClient(const VocobaseClient&) = delete;
  VocobaseClient& operator=(const VocobaseClient&) = delete;

  /// GET /config (general bucket). The balance is empty when the pointer finds nothing.
  boost::asio::awaitable<ApiResult<AccountConfig>> get_config(Priority p = Priority::poll);
  /// GET /calls/concurrency (/calls/* bucket).
  boost::asio::awaitable<ApiResult<ConcurrencyInfo>> get_concurrency(Priority p = Priority::poll);
  /// POST /calls/start (/calls/* bucket, start priority). `ok` = started.
  boost::asio::awaitable<ApiResult<StartedCall>> start_call(StartCallRequest request);
  /// GET /calls?limit&offset[&status] (/calls/* bucket).
  boost::asio::awaitable<ApiResult<CallPage>> list_calls(ListCallsQuery query,
                                                         Priority p = Priority::reconcile);
  /// GET /calls/{id} (/calls/* bucket).
  boost::asio::awaitable<ApiResult<CallRecord>> get_call(std::string call_id,
                                                         Priority p = Priority::poll);
  /// GET /sessions/{id} (general bucket) — the polling fallback; same data as the webhook.
  boost::asio::awaitable<ApiResult<SessionData>> get_session(std::string session_id,
                                                             Priority p = Priority::poll);

  // Account set-up (general bucket, poll priority): account-check and webhook register|rotate.
  /// GET /config/webhooks.
  boost::asio::awaitable<ApiResult<std::vector<WebhookEndpointInfo>>> list_webhooks();
  /// POST /config/webhooks {label, url}: the new endpoint and its secret (shown once).
  boost::asio::awaitable<ApiResult<WebhookSecretGrant>> create_webhook(std::string label,
                                                                       std::string url);
  /// POST /config/webhooks/{id}/rotate-secret: the new secret (shown once).
  boost::asio::awaitable<ApiResult<WebhookSecretGrant>> rotate_webhook_secret(std::string id);
  /// GET /agents/{id}: the agent's name; a 404 (reason not_found) when it does not exist.
  boost::asio::awaitable<ApiResult<std::string>> get_agent(std::string agent_id);
  /// POST /voicelink/sync with `import_dids: false` — always: left out it defaults to true and
  /// imports. Read-only readiness per DID.
  boost::asio::awaitable<ApiResult<VoicelinkReadiness>> voicelink_readiness(
      std::optional<std::string> connection_id = std::nullopt);
  /// GET /api/telephony/connections (legacy BYOP, outside /api/v2: beside the base path).
  boost::asio::awaitable<ApiResult<std::vector<LegacyConnection>>> legacy_connections();

  /// The rate budget, for the scheduler's queries: available(bucket), next_token_at(bucket),
  /// used_last_window(bucket), frozen_until(bucket), waiting(bucket).
  [[nodiscard]] const RateBudget& budget() const noexcept;
  /// Applies new limits (config reload) and serves waiting requests that now fit.
  void set_rate_limits(const RateLimits& limits);
  /// Applies what a config reload may change: the API key, both deadlines, the balance pointer
  /// and the rate limits (`base_url` and TLS settings stay). Requests already on the wire finish
  /// under the old values; an old key is still redacted from error messages.
  void apply_reload(const ClientOptions& options);
  /// Grants tokens that became available (the client's own timer does this when tokens return;
  /// callers with a simulated clock call it after moving the clock).
  void pump();
  /// Sets the dialer_api_bucket_* gauges to the budget's current figures (before a scrape).
  void update_metrics();
  /// Fails waiting requests with `cancelled`, closes every connection; later requests are not
  /// sent. Idempotent.
  void shutdown();

  /// Base URL without the key, for logs and status output.
  [[nodiscard]] const std::string& base_url() const noexcept;

  class Impl;

 private:
  explicit VocobaseClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace dialer::api
