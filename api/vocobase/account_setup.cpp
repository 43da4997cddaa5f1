#include "api/vocobase/account_setup.hpp"

#include "api/vocobase/models.hpp"

#include <boost/json.hpp>

namespace dialer::api {
namespace json = boost::json;

namespace {

constexpr std::size_t kMaxRows = 10'000;

Error bad(std::string_view what) {
  return Error(errc::parse_error, std::string(what));
}

/// `data` of the envelope, whatever its type (lists come as arrays).
Result<json::value> data_of(std::string_view body) {
  auto doc = parse_json(body);
  if (!doc) return doc.error();
  if (!doc->is_object()) return bad("response is not a JSON object");
  const auto& o = doc->as_object();
  if (const auto* s = o.if_contains("success"); s && s->is_bool() && !s->get_bool()) {
    return Error(errc::protocol_error, "response has success=false");
  }
  const auto* d = o.if_contains("data");
  if (d == nullptr) return bad("response: missing 'data'");
  return *d;
}

std::string str(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v != nullptr && v->is_string() ? std::string(v->get_string()) : std::string();
}

std::optional<std::string> opt_str(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  if (v == nullptr || !v->is_string()) return std::nullopt;
  return std::string(v->get_string());
}

/// The list at `data`, or at `data.<member>`.
Result<const json::array*> list_at(const json::value& data, std::string_view member) {
  if (data.is_array()) return &data.get_array();
  if (data.is_object()) {
    if (const auto* v = data.get_object().if_contains(member); v && v->is_array()) {
      return &v->get_array();
    }
  }
  return bad("response: 'data' is not a list of " + std::string(member));
}

Result<WebhookEndpointInfo> endpoint_of(const json::value& v) {
  if (!v.is_object()) return bad("webhook endpoint is not an object");
  const auto& o = v.get_object();
  WebhookEndpointInfo e;
  e.id = str(o, "id");
  if (e.id.empty()) {
    if (const auto* n = o.if_contains("id"); n && n->is_int64())
      e.id = std::to_string(n->get_int64());
  }
  if (e.id.empty()) return bad("webhook endpoint: missing 'id'");
  e.label = str(o, "label");
  e.url = str(o, "url");
  if (const auto* en = o.if_contains("enabled"); en && en->is_bool()) e.enabled = en->get_bool();
  e.last_delivery_at = opt_str(o, "last_delivery_at");
  e.last_delivery_status = opt_str(o, "last_delivery_status");
  return e;
}

}  // namespace

Result<std::vector<WebhookEndpointInfo>> parse_webhook_list(std::string_view body) {
  auto data = data_of(body);
  if (!data) return data.error();
  auto list = list_at(*data, "webhooks");
  if (!list) return list.error();
  std::vector<WebhookEndpointInfo> out;
  for (const auto& v : **list) {
    if (out.size() >= kMaxRows) break;
    auto e = endpoint_of(v);
    if (!e) return e.error();
    out.push_back(std::move(*e));
  }
  return out;
}

Result<WebhookSecretGrant> parse_webhook_grant(std::string_view body) {
  auto data = data_of(body);
  if (!data) return data.error();
  const json::value* ep = &*data;
  // Either the endpoint itself with `secret`, or {webhook: {...}, secret}.
  if (data->is_object()) {
    if (const auto* w = data->get_object().if_contains("webhook"); w && w->is_object()) ep = w;
  }
  auto e = endpoint_of(*ep);
  if (!e) return e.error();
  WebhookSecretGrant g;
  g.endpoint = std::move(*e);
  if (data->is_object()) g.secret = str(data->get_object(), "secret");
  if (g.secret.empty() && ep->is_object()) g.secret = str(ep->get_object(), "secret");
  if (g.secret.empty()) return bad("webhook endpoint: the answer holds no 'secret'");
  return g;
}

Result<std::string> parse_agent(std::string_view body) {
  auto data = data_of(body);
  if (!data) return data.error();
  if (!data->is_object()) return bad("agent: 'data' is not an object");
  auto name = str(data->get_object(), "name");
  return name;
}

Result<VoicelinkReadiness> parse_voicelink_readiness(std::string_view body) {
  auto data = data_of(body);
  if (!data) return data.error();
  if (!data->is_object()) return bad("voicelink sync: 'data' is not an object");
  const auto& o = data->get_object();
  VoicelinkReadiness r;
  if (const auto* rows = o.if_contains("readiness"); rows && rows->is_array()) {
    for (const auto& v : rows->get_array()) {
      if (r.readiness.size() >= kMaxRows) break;
      if (!v.is_object()) return bad("voicelink sync: a readiness row is not an object");
      const auto& ro = v.get_object();
      DidReadiness d;
      d.key = str(ro, "key");
      d.state = str(ro, "state");
      if (d.key.empty() || d.state.empty()) return bad("voicelink sync: a row lacks key or state");
      if (const auto* items = ro.if_contains("action_items"); items && items->is_array()) {
        for (const auto& a : items->get_array()) {
          if (!a.is_object()) continue;
          d.action_items.push_back({str(a.get_object(), "code"), str(a.get_object(), "label")});
        }
      }
      r.readiness.push_back(std::move(d));
    }
  }
  if (const auto* w = o.if_contains("warnings"); w && w->is_array()) {
    for (const auto& v : w->get_array()) {
      if (v.is_string()) {
        r.warnings.emplace_back(v.get_string());
      } else if (v.is_object()) {
        r.warnings.push_back(str(v.get_object(), "code"));
      }
    }
  }
  if (const auto* d = o.if_contains("drift"); d && d->is_array()) r.drift = d->get_array().size();
  return r;
}

Result<std::vector<LegacyConnection>> parse_legacy_connections(std::string_view body) {
  auto data = data_of(body);
  if (!data) return data.error();
  auto list = list_at(*data, "connections");
  if (!list) return list.error();
  std::vector<LegacyConnection> out;
  for (const auto& v : **list) {
    if (out.size() >= kMaxRows) break;
    if (!v.is_object()) return bad("telephony connection is not an object");
    const auto& o = v.get_object();
    LegacyConnection c;
    c.id = str(o, "id");
    c.provider = str(o, "provider");
    c.status = str(o, "status");
    out.push_back(std::move(c));
  }
  return out;
}

}  // namespace dialer::api
