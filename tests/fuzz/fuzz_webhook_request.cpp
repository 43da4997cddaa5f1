// libFuzzer target: arbitrary bytes through the webhook listener's request handling — Beast's
// request parser with the server's limits, then the router (signature, replay window, JSON,
// routing). The first byte picks the mode: raw HTTP bytes, or the rest taken as a body that is
// correctly signed so the fuzzer reaches the JSON parsing behind the signature check.

#include "api/webhook/router.hpp"
#include "api/webhook/signature.hpp"

#include <boost/asio/buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

namespace {

namespace http = boost::beast::http;
using dialer::api::WebhookRouter;
using dialer::api::WebhookSettings;

const dialer::ManualClock& clock_at_now() {
  static const dialer::ManualClock clock(*dialer::parse_iso8601("2026-03-15T14:33:00.000Z"));
  return clock;
}

const WebhookRouter& router() {
  static const WebhookRouter r(
      [] {
        WebhookSettings s;
        s.path = "/webhooks/vocobase";
        s.secrets = {"whsec_one", "whsec_two"};
        s.tolerance = std::chrono::minutes(5);
        return s;
      }(),
      clock_at_now());
  return r;
}

/// Feeds `bytes` to a request parser the way the server configures it, then routes the
/// request when it is complete.
void feed(std::string_view bytes) {
  http::request_parser<http::string_body> parser;
  parser.header_limit(16 * 1024);
  parser.body_limit(std::numeric_limits<std::uint64_t>::max());
  boost::beast::error_code ec;
  std::size_t used = 0;
  bool head_checked = false;
  while (used < bytes.size() && !parser.is_done()) {
    const std::size_t n =
        parser.put(boost::asio::buffer(bytes.data() + used, bytes.size() - used), ec);
    if (ec == http::error::need_more) {
      ec = {};
      if (n == 0) break;
    }
    if (ec) return;
    used += n;
    if (parser.is_header_done() && !head_checked) {
      head_checked = true;
      std::optional<std::uint64_t> declared;
      if (const auto cl = parser.content_length()) declared = *cl;
      if (router().route_head(parser.get().method(), parser.get().target(), declared)) return;
      parser.body_limit(router().settings().max_body);
    }
    if (n == 0) break;
  }
  if (!parser.is_done()) {
    parser.put_eof(ec);
    if (ec || !parser.is_done()) return;
  }
  (void)router().route(parser.get());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
  if (data[0] % 2 == 0) {
    feed(rest);
  } else {
    // A correctly signed delivery of an arbitrary body.
    const std::string ts = "2026-03-15T14:32:08.000Z";
    http::request<http::string_body> req{http::verb::post, "/webhooks/vocobase", 11};
    req.set("X-Webhook-Timestamp", ts);
    req.set("X-Webhook-Signature",
            dialer::api::sign_webhook(data[0] % 4 == 1 ? "whsec_one" : "whsec_two", ts, rest));
    req.body() = std::string(rest);
    req.prepare_payload();
    (void)router().route(req);
  }
  return 0;
}
