#include "sim/router.hpp"

#include "sim/text_util.hpp"

#include <boost/json.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>

namespace dialer::sim {

namespace json = boost::json;
using boost::beast::http::verb;

namespace {

Reply json_reply(unsigned status, const json::value& v) {
  Reply r;
  r.status = status;
  r.body = json::serialize(v);
  return r;
}

Reply ok(json::value data) {
  return json_reply(200, json::object{{"success", true}, {"data", std::move(data)}});
}

Reply error_reply(const ApiError& e) {
  return json_reply(
      e.status, json::object{{"success", false},
                             {"error", json::object{{"code", e.code}, {"message", e.message}}}});
}

Reply from(std::variant<json::value, ApiError>&& v) {
  if (auto* e = std::get_if<ApiError>(&v)) return error_reply(*e);
  return ok(std::move(std::get<json::value>(v)));
}

Reply from_object(std::variant<json::object, ApiError> r) {
  if (auto* e = std::get_if<ApiError>(&r)) return error_reply(*e);
  return ok(std::move(std::get<json::object>(r)));
}

Reply control_error(unsigned status, std::string message) {
  return json_reply(status, json::object{{"error", std::move(message)}});
}

Reply server_error(unsigned status) {
  if (status == 502) {
    // What a load balancer in front of the service sends: not the API's envelope, not JSON.
    Reply r;
    r.status = 502;
    r.content_type = "text/html";
    r.body =
        "<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1>"
        "</body></html>\n";
    return r;
  }
  return error_reply(
      ApiError{status, "INTERNAL_ERROR",
               status == 503 ? "Service temporarily unavailable" : "Internal server error"});
}

/// Value of `name` in the query, percent-decoded.
std::optional<std::string> query_param(std::string_view query, std::string_view name) {
  std::string text = "?";  // the parsed view refers into this string
  text.append(query);
  auto url = boost::urls::parse_relative_ref(text);
  if (!url) return std::nullopt;
  auto params = url->params();
  auto it = params.find(name);
  if (it == params.end()) return std::nullopt;
  return std::string((*it).value);
}

std::optional<json::value> parse_body(std::string_view body) {
  if (trim(body).empty()) return json::value(json::object{});
  boost::system::error_code ec;
  auto v = json::parse(body, ec);
  if (ec) return std::nullopt;
  return v;
}

std::optional<std::vector<Provider>> provider_array(const json::value& v) {
  const auto* a = v.if_array();
  if (!a) return std::nullopt;
  std::string joined;
  for (const auto& item : *a) {
    if (!item.is_string()) return std::nullopt;
    joined += std::string(item.get_string()) + ",";
  }
  auto p = parse_provider_list(joined);
  if (!p) return std::nullopt;
  return *p;
}

json::object fault_object(const FaultRates& f) {
  json::object o;
  for (auto fault : all_faults()) o[fault_name(fault)] = json_number(f.get(fault));
  return o;
}

}  // namespace

Router::Router(Engine& engine, WebhookDispatcher& webhooks, Hooks hooks)
    : engine_(engine), webhooks_(webhooks), hooks_(std::move(hooks)) {}

Reply Router::handle(const RequestView& req) {
  std::string_view target = req.target;
  auto q = target.find('?');
  std::string_view path = target.substr(0, q);
  std::string_view query = q == std::string_view::npos ? std::string_view{} : target.substr(q + 1);
  if (path == "/_sim" || path.rfind("/_sim/", 0) == 0) {
    if (!req.loopback) return control_error(403, "/_sim/ is reachable from loopback only");
    return control(req, path);
  }
  if (path.rfind("/api/v2/", 0) == 0 || path == "/api/telephony/connections") {
    return api(req, path, query);
  }
  return error_reply(ApiError{404, "NOT_FOUND", "Not found"});
}

Reply Router::api(const RequestView& req, std::string_view path, std::string_view query) {
  auto admission = engine_.admit(path, req.authorization);
  if (admission.error) return error_reply(*admission.error);
  const auto& f = admission.faults;
  if (f.reset) {
    Reply r;
    r.action = Reply::Action::reset;
    return r;
  }
  if (f.error_5xx) return server_error(f.error_status);

  if (path == "/api/telephony/connections") {
    if (req.method != verb::get) return error_reply(ApiError{404, "NOT_FOUND", "Route not found"});
    return ok(json::object{{"connections", engine_.legacy_connections()}});
  }
  auto rest = path.substr(std::string_view("/api/v2").size());
  auto tail_after = [&](std::string_view prefix) -> std::optional<std::string_view> {
    if (rest.rfind(prefix, 0) != 0) return std::nullopt;
    auto id = rest.substr(prefix.size());
    if (id.empty() || id.find('/') != std::string_view::npos) return std::nullopt;
    return id;
  };

  Reply reply;
  bool created = false;
  if (req.method == verb::get && rest == "/config") {
    auto data = engine_.config_data();
    auto hooks = webhooks_.endpoints_json();
    data["webhook"] = hooks.empty() ? json::value(nullptr) : hooks.front();
    data["webhooks"] = std::move(hooks);
    reply = ok(std::move(data));
  } else if (rest == "/config/webhooks" || rest.rfind("/config/webhooks/", 0) == 0) {
    reply = config_webhooks(req, rest);
  } else if (auto aid = tail_after("/agents/"); req.method == verb::get && aid) {
    reply = from_object(engine_.get_agent(*aid));
  } else if (req.method == verb::post && rest == "/voicelink/sync") {
    reply = from_object(engine_.voicelink_sync(req.body));
  } else if (req.method == verb::get && rest == "/calls/concurrency") {
    reply = ok(engine_.concurrency_data());
  } else if (req.method == verb::post && rest == "/calls/start") {
    auto result = engine_.start_call(req.body);
    if (auto* e = std::get_if<ApiError>(&result)) {
      reply = error_reply(*e);
    } else {
      reply = ok(engine_.start_data(*std::get<const Call*>(result)));
      created = true;
    }
  } else if (req.method == verb::get && rest == "/calls") {
    reply = from(engine_.list_calls(query_param(query, "limit"), query_param(query, "offset"),
                                    query_param(query, "status"), f));
  } else if (auto id = tail_after("/calls/"); req.method == verb::get && id) {
    reply = from(engine_.get_call(*id));
  } else if (auto sid = tail_after("/sessions/"); req.method == verb::get && sid) {
    reply = from(engine_.get_session(*sid));
  } else {
    reply = error_reply(ApiError{404, "NOT_FOUND", "Route not found"});
  }

  if (created && f.lost_response) {
    engine_.note_fault(Fault::lost_response);
    reply.action = Reply::Action::close;
  } else if (created && f.lost_response_hold) {
    engine_.note_fault(Fault::lost_response_hold);
    reply.action = Reply::Action::hold;
  } else if (created && f.slow_start) {
    engine_.note_fault(Fault::slow_start);
    reply.slow = true;
  } else if (f.slow) {
    engine_.note_fault(Fault::slow);
    reply.slow = true;
  }
  return reply;
}

Reply Router::config_webhooks(const RequestView& req, std::string_view rest) {
  auto failed = [](const Error& e) {
    if (e.code == make_error_code(errc::not_found)) {
      return error_reply(ApiError{404, "NOT_FOUND", e.message});
    }
    return error_reply(ApiError{400, "VALIDATION_ERROR", e.message});
  };
  auto body_object = [&]() -> std::optional<json::object> {
    boost::system::error_code ec;
    auto v = json::parse(req.body, ec);
    if (ec || !v.is_object()) return std::nullopt;
    return v.get_object();
  };
  if (rest == "/config/webhooks") {
    if (req.method == verb::get) return ok(webhooks_.endpoints_json());
    if (req.method != verb::post) return error_reply(ApiError{404, "NOT_FOUND", "Route not found"});
    auto b = body_object();
    const json::value* url = b ? b->if_contains("url") : nullptr;
    if (!url || !url->is_string() || url->get_string().empty()) {
      return error_reply(ApiError{400, "VALIDATION_ERROR", "url is required"});
    }
    std::string label;
    if (const auto* l = b->if_contains("label"); l && l->is_string()) label = l->get_string();
    auto created = webhooks_.add_endpoint(std::move(label), std::string(url->get_string()));
    if (!created) return failed(created.error());
    return ok(std::move(*created));
  }
  auto tail = rest.substr(std::string_view("/config/webhooks/").size());
  constexpr std::string_view rotate = "/rotate-secret";
  if (req.method == verb::post && tail.size() > rotate.size() && tail.ends_with(rotate)) {
    auto rotated = webhooks_.rotate_secret(tail.substr(0, tail.size() - rotate.size()));
    if (!rotated) return failed(rotated.error());
    return ok(std::move(*rotated));
  }
  if (tail.empty() || tail.find('/') != std::string_view::npos) {
    return error_reply(ApiError{404, "NOT_FOUND", "Route not found"});
  }
  if (req.method == verb::delete_) {
    if (auto r = webhooks_.remove_endpoint(tail); !r) return failed(r.error());
    return ok(json::object{{"id", tail}, {"deleted", true}});
  }
  if (req.method == verb::patch) {
    auto b = body_object();
    if (!b)
      return error_reply(ApiError{400, "VALIDATION_ERROR", "Request body must be a JSON object"});
    auto updated = webhooks_.update_endpoint(tail, *b);
    if (!updated) return failed(updated.error());
    return ok(std::move(*updated));
  }
  return error_reply(ApiError{404, "NOT_FOUND", "Route not found"});
}

Reply Router::control(const RequestView& req, std::string_view path) {
  auto body = req.method == verb::post ? parse_body(req.body) : json::value(json::object{});
  if (!body) return control_error(400, "body must be JSON");

  if (req.method == verb::get && path == "/_sim/stats") {
    return json_reply(200, engine_.stats_json(webhooks_.stats()));
  }
  if (req.method == verb::get && path == "/_sim/faults") {
    return json_reply(200, fault_object(engine_.faults()));
  }
  if (req.method == verb::get && path == "/_sim/config") {
    return json_reply(200, describe(engine_.options()));
  }
  if (req.method == verb::get && path == "/_sim/webhooks") {
    return json_reply(200, json::object{{"attempts", webhooks_.attempt_log()}});
  }
  if (req.method == verb::get && path.rfind("/_sim/calls/", 0) == 0) {
    auto c = engine_.sim_call(path.substr(std::string_view("/_sim/calls/").size()));
    if (!c) return control_error(404, "call not found");
    return json_reply(200, *c);
  }
  if (req.method != verb::post) return control_error(404, "unknown control endpoint");

  const auto* obj = body->if_object();
  if (!obj) return control_error(400, "body must be a JSON object");

  if (path == "/_sim/credits") {
    const auto* b = obj->if_contains("balance");
    if (!b || !b->is_number()) return control_error(400, "expected {\"balance\": N}");
    engine_.set_credit_balance(b->to_number<double>());
    return json_reply(200, json::object{{"credit_balance", json_number(engine_.credit_balance())}});
  }
  if (path == "/_sim/concurrency") {
    const auto* l = obj->if_contains("limit");
    if (!l || !l->is_int64() || l->as_int64() < 0 || l->as_int64() > 1'000'000) {
      return control_error(400, "expected {\"limit\": N} with N >= 0");
    }
    engine_.set_concurrency_limit(static_cast<int>(l->as_int64()));
    return json_reply(
        200, json::object{{"limit", engine_.concurrency_limit()}, {"active", engine_.active()}});
  }
  if (path == "/_sim/foreign") {
    const auto* n = obj->if_contains("active");
    if (!n || !n->is_int64() || n->as_int64() < 0 || n->as_int64() > 100'000) {
      return control_error(400, "expected {\"active\": N} with 0 <= N <= 100000");
    }
    auto active = engine_.set_foreign_calls(static_cast<std::uint64_t>(n->as_int64()));
    return json_reply(200, json::object{{"target", n->as_int64()},
                                        {"active", active},
                                        {"account_active", engine_.active()}});
  }
  if (path == "/_sim/providers") {
    std::optional<std::vector<Provider>> allowed, configured;
    for (const auto& [key, value] : *obj) {
      auto list = provider_array(value);
      if (!list) return control_error(400, "'" + std::string(key) + "' must be a provider list");
      if (key == "providers") {
        allowed = configured = list;
      } else if (key == "allowed") {
        allowed = list;
      } else if (key == "configured") {
        configured = list;
      } else {
        return control_error(
            400, "unknown key '" + std::string(key) + "' (providers, allowed, configured)");
      }
    }
    if (!allowed && !configured) return control_error(400, "expected providers or allowed");
    if (!allowed) allowed = configured;
    if (!configured) configured = allowed;
    if (auto r = engine_.set_providers(*allowed, *configured); !r) {
      return control_error(400, r.error().message);
    }
    return json_reply(200, engine_.config_data());
  }
  if (path == "/_sim/voicelink") {
    if (auto r = engine_.set_voicelink(*obj); !r) return control_error(400, r.error().message);
    return json_reply(200, json::object{{"ok", true}});
  }
  if (path == "/_sim/legacy") {
    const auto* c = obj->if_contains("connections");
    if (!c || !c->is_array()) return control_error(400, "expected {\"connections\": [...]}");
    engine_.set_legacy_connections(c->get_array());
    return json_reply(200, json::object{{"connections", c->get_array().size()}});
  }
  if (path == "/_sim/faults") {
    auto rates = engine_.faults();
    for (const auto& [key, value] : *obj) {
      auto fault = fault_from_name(key);
      if (!fault) return control_error(400, "unknown fault '" + std::string(key) + "'");
      if (!value.is_number()) return control_error(400, std::string(key) + " must be a number");
      auto p = value.to_number<double>();
      if (!(p >= 0.0 && p <= 1.0)) {
        return control_error(400, std::string(key) + " must be between 0 and 1");
      }
      rates.set(*fault, p);
    }
    engine_.set_faults(rates);
    return json_reply(200, fault_object(engine_.faults()));
  }
  if (path == "/_sim/script") {
    auto s = script_from_json(*body);
    if (!s) return control_error(400, s.error().message);
    engine_.merge_script(*s);
    return json_reply(200, json::object{{"numbers", s->size()}});
  }
  if (path == "/_sim/advance") {
    const auto* by = obj->if_contains("by");
    std::optional<Millis> d;
    if (by && by->is_string()) d = parse_duration(by->get_string());
    if (!d) return control_error(400, "expected {\"by\": \"90s\"}");
    hooks_.advance(d->count());
    return json_reply(200, json::object{{"advanced_ms", d->count()}});
  }
  if (path == "/_sim/reset") {
    hooks_.reset();
    return json_reply(200, json::object{{"reset", true}});
  }
  return control_error(404, "unknown control endpoint");
}

}  // namespace dialer::sim
