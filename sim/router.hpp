#pragma once
/// HTTP semantics of the simulator without sockets: a request view in, a reply (and what to do
/// with the connection) out. /api/v2/* goes to the Engine; /_sim/* is the loopback-only control
/// surface of CONTRACT.md.

#include "sim/engine.hpp"
#include "sim/webhook_dispatcher.hpp"

#include <boost/beast/http/verb.hpp>

#include <functional>
#include <string>
#include <string_view>

namespace dialer::sim {

/// What the server read.
struct RequestView {
  boost::beast::http::verb method = boost::beast::http::verb::get;
  std::string_view target;         ///< origin-form: path and query
  std::string_view authorization;  ///< the Authorization header ("" when absent)
  std::string_view body;
  bool loopback = true;  ///< the peer address is a loopback address
};

/// What the server must do.
struct Reply {
  enum class Action {
    respond,  ///< send the response
    reset,    ///< reset the connection (RST), no response
    close,    ///< close the connection, no response
    hold,     ///< keep the connection silent for the hold time, then close it
  };
  unsigned status = 200;
  std::string content_type = "application/json";
  std::string body;
  Action action = Action::respond;
  bool slow = false;  ///< delay the response by the slow delay
};

class Router {
 public:
  /// Operations that reach beyond the Engine (owned by the Simulator).
  struct Hooks {
    std::function<void(SimMillis)> advance;  ///< jump simulated time forward
    std::function<void()> reset;             ///< reset engine, webhooks and timers
  };

  Router(Engine& engine, WebhookDispatcher& webhooks, Hooks hooks);

  Reply handle(const RequestView& req);

 private:
  Reply api(const RequestView& req, std::string_view path, std::string_view query);
  Reply control(const RequestView& req, std::string_view path);
  /// /config/webhooks routes: list, create, rotate-secret, update (PATCH), delete.
  Reply config_webhooks(const RequestView& req, std::string_view rest);

  Engine& engine_;
  WebhookDispatcher& webhooks_;
  Hooks hooks_;
};

}  // namespace dialer::sim
