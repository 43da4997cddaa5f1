#pragma once
/// What the webhook listener answers, without I/O: routing, the 413/405/404 decisions that can be
/// taken from the request head, signature and replay checks, and parsing. The server adds the
/// durable store and the sockets; the fuzz target drives this directly.

#include "api/vocobase/models.hpp"
#include "api/webhook/signature.hpp"
#include "core/time.hpp"
#include "store/inbox_repo.hpp"

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/verb.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dialer::api {

/// What happened to one request (the `result` label of dialer_webhook_requests_total).
enum class WebhookResult {
  stored,              ///< new event, durably stored, 200
  duplicate,           ///< session_id already stored, 200, nothing changed
  ignored,             ///< verified, but not a session.completed: 200, not stored
  unauthorized,        ///< 401
  bad_request,         ///< 400: malformed JSON, missing data.session_id, malformed HTTP
  too_large,           ///< 413
  headers_too_large,   ///< 431
  method_not_allowed,  ///< 405
  not_found,           ///< 404
  unavailable,         ///< 503: the inbox could not store the event (Vocobase retries)
  healthz,             ///< GET /healthz
  metrics,             ///< GET /metrics
};
std::string_view to_string(WebhookResult r) noexcept;

/// Settings of the receiver (CONTRACT.md `webhook:`), as plain values.
struct WebhookSettings {
  std::string path = "/webhooks/vocobase";
  std::vector<std::string> secrets;  ///< whsec_… (the whole string is the key); never logged
  Millis tolerance{5 * 60 * 1000};   ///< replay window; zero = off
  std::size_t max_body = 1024 * 1024;
  /// POST {path} and GET /healthz: the internet-facing role.
  bool serve_webhook = true;
  /// GET/HEAD /metrics: a listener of its own (metrics.listen), never the webhook one.
  bool serve_metrics = false;
};

/// An HTTP answer, minus the socket.
struct WebhookAnswer {
  int status = 200;
  std::string body;
  std::string content_type = "application/json";
  std::string allow;  ///< Allow header of a 405
};

/// The decision for one request.
struct Routed {
  WebhookResult result = WebhookResult::not_found;
  WebhookAnswer answer;
  /// Set for a verified session.completed: store it, then answer (200 / 503) — `answer` is only
  /// the reply to use once it is stored as new.
  std::optional<store::InboxEvent> event;
  std::optional<SessionEvent> parsed;
  /// Why a delivery failed verification (401), for the debug log.
  SignatureCheck signature = SignatureCheck::ok;
  /// For a verified delivery: which of the configured secrets signed it.
  std::size_t secret_index = 0;
  /// A HEAD request: answer with the GET's headers (Content-Length included) and no body.
  bool head_only = false;
};

class WebhookRouter {
 public:
  WebhookRouter(WebhookSettings settings, const Clock& clock);

  /// An answer decided from the request head alone — unknown path (404), wrong method (405),
  /// declared body over the limit (413) — so the body need not be read; nullopt: read on.
  [[nodiscard]] std::optional<Routed> route_head(boost::beast::http::verb method,
                                                 std::string_view target,
                                                 std::optional<std::uint64_t> content_length) const;

  /// The decision for a complete request. healthz/metrics come back with their result set and
  /// an empty body: the server fills those in.
  [[nodiscard]] Routed route(
      const boost::beast::http::request<boost::beast::http::string_body>& request) const;

  /// Replaces the secrets (config reload).
  void set_secrets(std::vector<std::string> secrets) { settings_.secrets = std::move(secrets); }
  [[nodiscard]] const WebhookSettings& settings() const noexcept { return settings_; }

  /// A fixed answer for `result` (401, 404, 413, …).
  static WebhookAnswer answer_for(WebhookResult result);

 private:
  WebhookSettings settings_;
  const Clock& clock_;
};

}  // namespace dialer::api
