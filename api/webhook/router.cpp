#include "api/webhook/router.hpp"

namespace dialer::api {
namespace http = boost::beast::http;

namespace {

std::string_view path_of(std::string_view target) {
  const auto q = target.find('?');
  return q == std::string_view::npos ? target : target.substr(0, q);
}

Routed make(WebhookResult r) {
  Routed out;
  out.result = r;
  out.answer = WebhookRouter::answer_for(r);
  return out;
}

}  // namespace

std::string_view to_string(WebhookResult r) noexcept {
  switch (r) {
    case WebhookResult::stored:
      return "stored";
    case WebhookResult::duplicate:
      return "duplicate";
    case WebhookResult::ignored:
      return "ignored";
    case WebhookResult::unauthorized:
      return "unauthorized";
    case WebhookResult::bad_request:
      return "bad_request";
    case WebhookResult::too_large:
      return "too_large";
    case WebhookResult::headers_too_large:
      return "headers_too_large";
    case WebhookResult::method_not_allowed:
      return "method_not_allowed";
    case WebhookResult::not_found:
      return "not_found";
    case WebhookResult::unavailable:
      return "unavailable";
    case WebhookResult::healthz:
      return "healthz";
    case WebhookResult::metrics:
      return "metrics";
  }
  return "unknown";
}

WebhookAnswer WebhookRouter::answer_for(WebhookResult r) {
  WebhookAnswer a;
  switch (r) {
    case WebhookResult::stored:
      a.body = R"({"status":"stored"})";
      break;
    case WebhookResult::duplicate:
      a.body = R"({"status":"duplicate"})";
      break;
    case WebhookResult::ignored:
      a.body = R"({"status":"ignored"})";
      break;
    case WebhookResult::unauthorized:
      a.status = 401;
      a.body = R"({"error":"invalid or missing signature"})";
      break;
    case WebhookResult::bad_request:
      a.status = 400;
      a.body = R"({"error":"malformed request"})";
      break;
    case WebhookResult::too_large:
      a.status = 413;
      a.body = R"({"error":"body too large"})";
      break;
    case WebhookResult::headers_too_large:
      a.status = 431;
      a.body = R"({"error":"header fields too large"})";
      break;
    case WebhookResult::method_not_allowed:
      a.status = 405;
      a.body = R"({"error":"method not allowed"})";
      break;
    case WebhookResult::not_found:
      a.status = 404;
      a.body = R"({"error":"not found"})";
      break;
    case WebhookResult::unavailable:
      a.status = 503;
      a.body = R"({"error":"event could not be stored"})";
      break;
    case WebhookResult::healthz:
    case WebhookResult::metrics:
      break;
  }
  return a;
}

WebhookRouter::WebhookRouter(WebhookSettings settings, const Clock& clock)
    : settings_(std::move(settings)), clock_(clock) {}

std::optional<Routed> WebhookRouter::route_head(http::verb method, std::string_view target,
                                                std::optional<std::uint64_t> content_length) const {
  const std::string_view path = path_of(target);
  if (settings_.serve_webhook && path == settings_.path) {
    if (method != http::verb::post) {
      Routed r = make(WebhookResult::method_not_allowed);
      r.answer.allow = "POST";
      return r;
    }
    if (content_length && *content_length > settings_.max_body) {
      return make(WebhookResult::too_large);
    }
    return std::nullopt;
  }
  if ((settings_.serve_webhook && path == "/healthz") ||
      (settings_.serve_metrics && path == "/metrics")) {
    if (method != http::verb::get && method != http::verb::head) {
      Routed r = make(WebhookResult::method_not_allowed);
      r.answer.allow = "GET, HEAD";
      return r;
    }
    return std::nullopt;
  }
  return make(WebhookResult::not_found);
}

Routed WebhookRouter::route(const http::request<http::string_body>& req) const {
  std::optional<std::uint64_t> length;
  if (req.has_content_length()) length = req.body().size();
  if (auto head = route_head(req.method(), req.target(), length)) return *head;
  if (req.body().size() > settings_.max_body) return make(WebhookResult::too_large);

  const std::string_view path = path_of(req.target());
  if (path == "/healthz" || path == "/metrics") {
    Routed r = make(path == "/healthz" ? WebhookResult::healthz : WebhookResult::metrics);
    r.head_only = req.method() == http::verb::head;
    return r;
  }

  // The delivery itself: authenticate first, parse only what verified.
  const auto sig = req.find("X-Webhook-Signature");
  const auto ts = req.find("X-Webhook-Timestamp");
  std::size_t secret_index = 0;
  const SignatureCheck check = verify_webhook(
      settings_.secrets, sig == req.end() ? std::string_view{} : std::string_view(sig->value()),
      ts == req.end() ? std::string_view{} : std::string_view(ts->value()), req.body(),
      clock_.now(), settings_.tolerance, secret_index);
  if (check != SignatureCheck::ok) {
    Routed r = make(WebhookResult::unauthorized);
    r.signature = check;
    return r;
  }
  auto parsed = parse_session_event(req.body());
  if (!parsed) return make(WebhookResult::bad_request);
  if (!parsed->event.empty() && parsed->event != "session.completed") {
    return make(WebhookResult::ignored);
  }
  Routed r = make(WebhookResult::stored);
  r.secret_index = secret_index;
  store::InboxEvent ev;
  ev.session_id = parsed->data.session_id;
  if (parsed->data.call) ev.call_id = parsed->data.call->call_id;
  ev.body = req.body();
  ev.received_at = clock_.now();
  r.event = std::move(ev);
  r.parsed = std::move(*parsed);
  return r;
}

}  // namespace dialer::api
