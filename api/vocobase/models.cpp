#include "api/vocobase/models.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <limits>

namespace dialer::api {
namespace json = boost::json;

namespace {

Error missing(std::string_view where, std::string_view key) {
  return Error(errc::parse_error,
               std::string(where) + ": missing or invalid '" + std::string(key) + "'");
}

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

/// Field readers: `required_*` fail on absent, null or mistyped; `opt_*` read absent and null as
/// empty and fail only on a mistyped value (a wrong type is a broken peer, not a missing field).
class Reader {
 public:
  Reader(const json::object& o, std::string_view where) : o_(o), where_(where) {}

  [[nodiscard]] const json::value* get(std::string_view key) const {
    const json::value* v = o_.if_contains(key);
    return (v == nullptr || v->is_null()) ? nullptr : v;
  }

  bool required_string(std::string_view key, std::string& out, Error& err) const {
    const json::value* v = get(key);
    if (v == nullptr || !v->is_string()) {
      err = missing(where_, key);
      return false;
    }
    out = std::string(v->as_string());
    return true;
  }

  bool opt_string(std::string_view key, std::string& out, Error& err) const {
    const json::value* v = get(key);
    if (v == nullptr) return true;
    if (!v->is_string()) {
      err = missing(where_, key);
      return false;
    }
    out = std::string(v->as_string());
    return true;
  }

  static bool as_double(const json::value& v, double& out) {
    if (v.is_double())
      out = v.get_double();
    else if (v.is_int64())
      out = static_cast<double>(v.get_int64());
    else if (v.is_uint64())
      out = static_cast<double>(v.get_uint64());
    else
      return false;
    return std::isfinite(out);
  }

  bool opt_number(std::string_view key, std::optional<double>& out, Error& err) const {
    const json::value* v = get(key);
    if (v == nullptr) return true;
    double d = 0;
    if (!as_double(*v, d)) {
      err = missing(where_, key);
      return false;
    }
    out = d;
    return true;
  }

  bool required_int(std::string_view key, int& out, Error& err) const {
    const json::value* v = get(key);
    if (v == nullptr || !to_int(*v, out)) {
      err = missing(where_, key);
      return false;
    }
    return true;
  }

  bool opt_int(std::string_view key, int& out, Error& err) const {
    const json::value* v = get(key);
    if (v == nullptr) return true;
    if (!to_int(*v, out)) {
      err = missing(where_, key);
      return false;
    }
    return true;
  }

  bool opt_bool(std::string_view key, bool& out, Error& err) const {
    const json::value* v = get(key);
    if (v == nullptr) return true;
    if (!v->is_bool()) {
      err = missing(where_, key);
      return false;
    }
    out = v->get_bool();
    return true;
  }

  bool opt_time(std::string_view key, std::optional<TimePoint>& out, Error& err) const {
    const json::value* v = get(key);
    if (v == nullptr) return true;
    if (!v->is_string()) {
      err = missing(where_, key);
      return false;
    }
    out = parse_iso8601(v->as_string());
    if (!out) {
      err = missing(where_, key);
      return false;
    }
    return true;
  }

  bool required_time(std::string_view key, TimePoint& out, Error& err) const {
    std::optional<TimePoint> t;
    if (!opt_time(key, t, err)) return false;
    if (!t) {
      err = missing(where_, key);
      return false;
    }
    out = *t;
    return true;
  }

  bool opt_object(std::string_view key, json::object& out, Error& err) const {
    const json::value* v = get(key);
    if (v == nullptr) return true;
    if (!v->is_object()) {
      err = missing(where_, key);
      return false;
    }
    out = v->as_object();
    return true;
  }

 private:
  static bool to_int(const json::value& v, int& out) {
    if (v.is_int64()) {
      const auto i = v.get_int64();
      if (i < std::numeric_limits<int>::min() || i > std::numeric_limits<int>::max()) return false;
      out = static_cast<int>(i);
      return true;
    }
    if (v.is_uint64()) {
      const auto u = v.get_uint64();
      if (u > static_cast<std::uint64_t>(std::numeric_limits<int>::max())) return false;
      out = static_cast<int>(u);
      return true;
    }
    if (v.is_double()) {
      const double d = v.get_double();
      if (!std::isfinite(d) || d != std::floor(d) || d < std::numeric_limits<int>::min() ||
          d > std::numeric_limits<int>::max()) {
        return false;
      }
      out = static_cast<int>(d);
      return true;
    }
    return false;
  }

  const json::object& o_;
  std::string_view where_;
};

/// A string as is, a number in its shortest round-trip spelling ("0.4", "1742049128"), anything
/// else as JSON text.
std::string scalar_text(const json::value& v) {
  if (v.is_string()) return std::string(v.as_string());
  char buf[64];
  std::to_chars_result r{};
  if (v.is_double())
    r = std::to_chars(buf, buf + sizeof buf, v.get_double());
  else if (v.is_int64())
    r = std::to_chars(buf, buf + sizeof buf, v.get_int64());
  else if (v.is_uint64())
    r = std::to_chars(buf, buf + sizeof buf, v.get_uint64());
  else
    return json::serialize(v);
  return std::string(buf, r.ptr);
}

template <class E>
std::optional<E> enum_from(std::string_view text) {
  return from_string<E>(lower(text));
}

Result<const json::object*> as_object(const json::value& v, std::string_view where) {
  if (!v.is_object()) return Error(errc::parse_error, std::string(where) + ": not an object");
  return &v.as_object();
}

Result<CallSessionInfo> parse_call_session(const json::value& v) {
  auto obj = as_object(v, "call.session");
  if (!obj) return obj.error();
  Reader r(**obj, "call.session");
  CallSessionInfo s;
  Error err;
  if (!r.opt_string("session_id", s.session_id, err) ||
      !r.opt_number("duration_seconds", s.duration_seconds, err) ||
      !r.opt_number("credits_used", s.credits_used, err) ||
      !r.opt_string("recording_url", s.recording_url, err) ||
      !r.opt_string("status", s.status, err) || !r.opt_time("started_at", s.started_at, err) ||
      !r.opt_time("ended_at", s.ended_at, err)) {
    return err;
  }
  if (const json::value* t = r.get("transcript")) s.transcript = *t;
  return s;
}

Result<CallRecord> parse_call_record(const json::value& v) {
  auto obj = as_object(v, "call");
  if (!obj) return obj.error();
  Reader r(**obj, "call");
  CallRecord c;
  Error err;
  if (!r.required_string("call_id", c.call_id, err) ||
      !r.required_string("agent_id", c.agent_id, err) ||
      !r.required_string("to_number", c.to_number, err) ||
      !r.required_string("status", c.status_text, err) ||
      !r.required_time("created_at", c.created_at, err) ||
      !r.opt_string("session_id", c.session_id, err) ||
      !r.opt_string("direction", c.direction, err) ||
      !r.opt_string("from_number", c.from_number, err) ||
      !r.opt_string("provider", c.provider, err) ||
      !r.opt_number("duration_seconds", c.duration_seconds, err) ||
      !r.opt_string("error_message", c.error_message, err) ||
      !r.opt_time("started_at", c.started_at, err) || !r.opt_time("ended_at", c.ended_at, err)) {
    return err;
  }
  c.status = enum_from<CallStatus>(c.status_text);
  if (const json::value* s = r.get("session")) {
    auto session = parse_call_session(*s);
    if (!session) return session.error();
    c.session = std::move(*session);
  }
  return c;
}

Result<SessionCall> parse_session_call(const json::value& v) {
  auto obj = as_object(v, "data.call");
  if (!obj) return obj.error();
  Reader r(**obj, "data.call");
  SessionCall c;
  Error err;
  if (!r.opt_string("call_id", c.call_id, err) ||
      !r.opt_string("from_number", c.from_number, err) ||
      !r.opt_string("to_number", c.to_number, err) ||
      !r.opt_string("direction", c.direction, err) || !r.opt_string("status", c.status_text, err) ||
      !r.opt_string("disposition", c.disposition_text, err) ||
      !r.opt_string("answered_by", c.answered_by_text, err)) {
    return err;
  }
  c.status = enum_from<CallStatus>(c.status_text);
  c.disposition = enum_from<Disposition>(c.disposition_text);
  c.answered_by = enum_from<AnsweredBy>(c.answered_by_text);
  return c;
}

}  // namespace

bool AccountConfig::provider_usable(Provider p) const {
  const std::string name{to_string(p)};
  if (std::find(allowed_providers.begin(), allowed_providers.end(), name) ==
      allowed_providers.end()) {
    return false;
  }
  auto it = telephony.find(name);
  return it != telephony.end() && it->second.configured;
}

std::optional<Outcome> SessionCall::outcome() const {
  if (!status) {
    if (!disposition) return std::nullopt;
    return outcome_of(disposition, CallStatus::completed);
  }
  return outcome_of(disposition, *status);
}

Result<json::value> parse_json(std::string_view text) {
  if (text.size() > kMaxJsonBytes) return Error(errc::limit_exceeded, "JSON document too large");
  json::parse_options opts;
  opts.max_depth = 64;
  boost::system::error_code ec;
  json::value v = json::parse(text, ec, {}, opts);
  if (ec) return Error(errc::parse_error, "malformed JSON: " + ec.message());
  return v;
}

Result<const json::value*> envelope_data(const json::value& doc) {
  if (!doc.is_object()) return Error(errc::parse_error, "response is not a JSON object");
  const json::object& o = doc.as_object();
  if (const auto* s = o.if_contains("success"); s && s->is_bool() && !s->get_bool()) {
    return Error(errc::protocol_error, "response has success=false");
  }
  const json::value* data = o.if_contains("data");
  if (data == nullptr || !data->is_object()) {
    return Error(errc::parse_error, "response: missing or invalid 'data'");
  }
  return data;
}

Result<SessionData> parse_session_data(const json::value& v) {
  auto obj = as_object(v, "data");
  if (!obj) return obj.error();
  Reader r(**obj, "data");
  SessionData d;
  Error err;
  std::optional<double> duration, credits;
  if (!r.required_string("session_id", d.session_id, err)) return err;
  if (d.session_id.empty()) return missing("data", "session_id");
  if (!r.opt_string("agent_id", d.agent_id, err) ||
      !r.opt_string("agent_name", d.agent_name, err) ||
      !r.opt_number("duration_seconds", duration, err) ||
      !r.opt_number("credits_used", credits, err) ||
      !r.opt_bool("processing_complete", d.processing_complete, err) ||
      !r.opt_time("pipeline_completed_at", d.pipeline_completed_at, err) ||
      !r.opt_string("recording_url", d.recording_url, err) ||
      !r.opt_object("variables", d.variables, err)) {
    return err;
  }
  d.duration_seconds = duration.value_or(0);
  d.credits_used = credits.value_or(0);
  if (const json::value* t = r.get("transcript")) {
    if (!t->is_array()) return missing("data", "transcript");
    d.transcript.reserve(t->as_array().size());
    for (const json::value& e : t->as_array()) {
      auto eo = as_object(e, "data.transcript[]");
      if (!eo) return eo.error();
      Reader er(**eo, "data.transcript[]");
      TranscriptEntry entry;
      if (!er.opt_string("role", entry.role, err) ||
          !er.opt_string("content", entry.content, err)) {
        return err;
      }
      // Timestamps come as ISO text or as seconds into the call; keep either as text.
      if (const json::value* ts = er.get("timestamp")) entry.timestamp = scalar_text(*ts);
      d.transcript.push_back(std::move(entry));
    }
  }
  if (const json::value* x = r.get("extraction")) {
    auto xo = as_object(*x, "data.extraction");
    if (!xo) return xo.error();
    Reader xr(**xo, "data.extraction");
    if (!xr.opt_string("status", d.extraction_status, err) ||
        !xr.opt_object("values", d.extraction_values, err)) {
      return err;
    }
  }
  if (const json::value* c = r.get("call")) {
    auto call = parse_session_call(*c);
    if (!call) return call.error();
    d.call = std::move(*call);
  }
  return d;
}

Result<SessionEvent> parse_session_event(std::string_view body) {
  auto doc = parse_json(body);
  if (!doc) return doc.error();
  if (!doc->is_object()) return Error(errc::parse_error, "body is not a JSON object");
  const json::object& o = doc->as_object();
  SessionEvent ev;
  Reader r(o, "body");
  Error err;
  if (!r.opt_string("event", ev.event, err)) return err;
  if (const json::value* ts = r.get("timestamp")) ev.timestamp = scalar_text(*ts);
  const json::value* data = o.if_contains("data");
  if (data == nullptr) return missing("body", "data");
  auto parsed = parse_session_data(*data);
  if (!parsed) return parsed.error();
  ev.data = std::move(*parsed);
  ev.data_json = json::serialize(*data);
  return ev;
}

Result<AccountConfig> parse_account_config(std::string_view body, std::string_view credit_pointer) {
  auto doc = parse_json(body);
  if (!doc) return doc.error();
  auto data = envelope_data(*doc);
  if (!data) return data.error();
  const json::object& o = (*data)->as_object();
  Reader r(o, "config");
  AccountConfig c;
  Error err;
  if (!r.opt_string("name", c.name, err) || !r.opt_string("status", c.status, err)) return err;
  const json::value* allowed = r.get("allowed_telephony_providers");
  if (allowed == nullptr || !allowed->is_array()) {
    return missing("config", "allowed_telephony_providers");
  }
  for (const json::value& p : allowed->as_array()) {
    if (!p.is_string()) return missing("config", "allowed_telephony_providers[]");
    c.allowed_providers.push_back(lower(p.as_string()));
  }
  if (const json::value* t = r.get("telephony")) {
    if (!t->is_object()) return missing("config", "telephony");
    for (const auto& [name, entry] : t->as_object()) {
      if (!entry.is_object()) return missing("config.telephony", name);
      Reader er(entry.as_object(), "config.telephony");
      TelephonyEntry te;
      if (!er.opt_bool("configured", te.configured, err) ||
          !er.opt_string("from_number", te.from_number, err)) {
        return err;
      }
      c.telephony[lower(name)] = std::move(te);
    }
  }
  if (!credit_pointer.empty()) {
    boost::system::error_code ec;
    const json::value* bal = doc->find_pointer(credit_pointer, ec);
    double d = 0;
    if (bal != nullptr && Reader::as_double(*bal, d)) c.credit_balance = d;
    // A balance sent as a numeric string is still a balance.
    if (bal != nullptr && bal->is_string()) {
      const std::string s(bal->as_string());
      char* end = nullptr;
      const double parsed = std::strtod(s.c_str(), &end);
      if (!s.empty() && end == s.c_str() + s.size() && std::isfinite(parsed)) {
        c.credit_balance = parsed;
      }
    }
  }
  return c;
}

Result<ConcurrencyInfo> parse_concurrency(std::string_view body) {
  auto doc = parse_json(body);
  if (!doc) return doc.error();
  auto data = envelope_data(*doc);
  if (!data) return data.error();
  Reader r((*data)->as_object(), "concurrency");
  ConcurrencyInfo c;
  Error err;
  c.remaining = -1;
  if (!r.required_int("limit", c.limit, err) || !r.required_int("active", c.active, err) ||
      !r.opt_int("remaining", c.remaining, err) ||
      !r.opt_string("limit_source", c.limit_source, err)) {
    return err;
  }
  if (c.remaining < 0) c.remaining = std::max(0, c.limit - c.active);
  if (const json::value* s = r.get("statuses_counted"); s && s->is_array()) {
    for (const json::value& e : s->as_array()) {
      if (e.is_string()) c.statuses_counted.emplace_back(e.as_string());
    }
  }
  return c;
}

Result<StartedCall> parse_started_call(std::string_view body) {
  auto doc = parse_json(body);
  if (!doc) return doc.error();
  auto data = envelope_data(*doc);
  if (!data) return data.error();
  Reader r((*data)->as_object(), "start");
  StartedCall s;
  Error err;
  if (!r.required_string("call_id", s.call_id, err) ||
      !r.required_string("session_id", s.session_id, err) ||
      !r.opt_string("status", s.status, err) || !r.opt_string("provider", s.provider, err) ||
      !r.opt_string("from_number", s.from_number, err) ||
      !r.opt_string("to_number", s.to_number, err) || !r.opt_string("agent_id", s.agent_id, err)) {
    return err;
  }
  if (s.call_id.empty()) return missing("start", "call_id");
  return s;
}

Result<CallPage> parse_call_page(std::string_view body) {
  auto doc = parse_json(body);
  if (!doc) return doc.error();
  auto data = envelope_data(*doc);
  if (!data) return data.error();
  Reader r((*data)->as_object(), "calls");
  CallPage page;
  Error err;
  const json::value* calls = r.get("calls");
  if (calls == nullptr || !calls->is_array()) return missing("calls", "calls");
  if (r.get("total") != nullptr) {
    int total = 0;
    if (!r.opt_int("total", total, err)) return err;
    page.total = total;
  }
  if (!r.opt_int("limit", page.limit, err) || !r.opt_int("offset", page.offset, err)) {
    return err;
  }
  page.calls.reserve(calls->as_array().size());
  for (const json::value& c : calls->as_array()) {
    auto rec = parse_call_record(c);
    if (!rec) {
      // One bad record must not blind reconciliation to the rest of the page.
      std::string number;
      if (const auto* o = c.if_object()) {
        if (const auto* n = o->if_contains("to_number"); n != nullptr && n->is_string()) {
          number = std::string(n->get_string());
        }
      }
      page.malformed_numbers.push_back(std::move(number));
      continue;
    }
    page.calls.push_back(std::move(*rec));
  }
  return page;
}

Result<CallRecord> parse_call(std::string_view body) {
  auto doc = parse_json(body);
  if (!doc) return doc.error();
  auto data = envelope_data(*doc);
  if (!data) return data.error();
  return parse_call_record(**data);
}

Result<SessionData> parse_session(std::string_view body) {
  auto doc = parse_json(body);
  if (!doc) return doc.error();
  auto data = envelope_data(*doc);
  if (!data) return data.error();
  return parse_session_data(**data);
}

std::string serialize(const StartCallRequest& req) {
  json::object o;
  o["agent_id"] = req.agent_id;
  o["to_number"] = req.to_number;
  o["provider"] = to_string(req.provider);
  o["variables"] = req.variables;
  return json::serialize(o);
}

}  // namespace dialer::api
