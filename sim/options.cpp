#include "sim/options.hpp"

#include "core/campaign_spec.hpp"
#include "sim/engine.hpp"
#include "sim/text_util.hpp"

#include <boost/json.hpp>
#include <yaml-cpp/yaml.h>

#include <cmath>
#include <filesystem>
#include <functional>
#include <limits>

namespace dialer::sim {

namespace {

Error invalid(std::string msg) {
  return Error{errc::invalid_argument, std::move(msg)};
}

Result<ScriptEntry> script_entry(std::string_view outcome, std::optional<std::string_view> dur) {
  auto kind = from_string<Disposition>(outcome);
  if (!kind) return invalid("unknown outcome '" + std::string(outcome) + "'");
  ScriptEntry e{*kind, std::nullopt};
  if (dur) {
    auto d = parse_duration(*dur);
    if (!d) return invalid("bad duration '" + std::string(*dur) + "'");
    e.duration = *d;
  }
  return e;
}

/// YAML reading with positions: every error says file:line:col (marks are 0-based).
class YamlReader {
 public:
  explicit YamlReader(std::string file) : file_(std::move(file)) {}

  [[nodiscard]] Error error(const YAML::Node& n, const std::string& msg) const {
    auto m = n.Mark();
    if (m.is_null()) return Error{errc::parse_error, file_ + ": " + msg};
    return Error{errc::parse_error, file_ + ":" + std::to_string(m.line + 1) + ":" +
                                        std::to_string(m.column + 1) + ": " + msg};
  }

  template <class T>
  Result<T> scalar(const YAML::Node& n, const std::string& what) const {
    if (!n.IsScalar()) return error(n, what + " must be a scalar");
    try {
      return n.as<T>();
    } catch (const YAML::Exception&) {
      return error(n, what + ": cannot read '" + n.Scalar() + "'");
    }
  }

  Result<Millis> duration(const YAML::Node& n, const std::string& what) const {
    if (!n.IsScalar()) return error(n, what + " must be a duration such as 30s");
    auto d = parse_duration(n.Scalar());
    if (!d) return error(n, what + ": bad duration '" + n.Scalar() + "' (e.g. 250ms, 30s, 5m)");
    return *d;
  }

  Result<std::vector<std::string>> strings(const YAML::Node& n, const std::string& what) const {
    std::vector<std::string> out;
    if (n.IsScalar()) {
      for (auto s : split_list(n.Scalar())) out.emplace_back(s);
      return out;
    }
    if (!n.IsSequence()) return error(n, what + " must be a list");
    for (const auto& item : n) {
      if (!item.IsScalar()) return error(item, what + " entries must be strings");
      out.push_back(item.Scalar());
    }
    return out;
  }

  Result<Script> script(const YAML::Node& n) const {
    Script out;
    if (n.IsNull()) return out;
    if (!n.IsMap()) return error(n, "script must be a map of number -> list of outcomes");
    for (const auto& kv : n) {
      const auto number = kv.first.Scalar();
      if (!is_e164_syntax(number)) return error(kv.first, "script: '" + number + "' is not E.164");
      if (!kv.second.IsSequence()) return error(kv.second, "script: " + number + " needs a list");
      auto& list = out[number];
      for (const auto& item : kv.second) {
        Result<ScriptEntry> e = invalid("");
        if (item.IsScalar()) {
          e = script_entry(item.Scalar(), std::nullopt);
        } else if (item.IsMap()) {
          std::optional<std::string> outcome, dur;
          for (const auto& f : item) {
            auto key = f.first.Scalar();
            if (key == "outcome") {
              outcome = f.second.Scalar();
            } else if (key == "duration") {
              dur = f.second.Scalar();
            } else {
              return error(f.first, "script: unknown key '" + key + "' (outcome, duration)");
            }
          }
          if (!outcome) return error(item, "script: entry needs 'outcome'");
          e = script_entry(*outcome, dur ? std::optional<std::string_view>(*dur) : std::nullopt);
        } else {
          return error(item, "script: an entry is an outcome name or {outcome, duration}");
        }
        if (!e) return error(item, "script: " + e.error().message);
        list.push_back(*e);
      }
    }
    return out;
  }

  const std::string& file() const { return file_; }

 private:
  std::string file_;
};

template <class T>
Result<T> in_range(const YamlReader& y, const YAML::Node& n, const std::string& what, T lo, T hi) {
  auto v = y.scalar<T>(n, what);
  if (!v) return v;
  if (*v < lo || *v > hi) {
    return y.error(n,
                   what + " must be between " + std::to_string(lo) + " and " + std::to_string(hi));
  }
  return v;
}

}  // namespace

double OutcomeWeights::total() const noexcept {
  double t = 0;
  for (double w : weight) t += w;
  return t;
}

OutcomeWeights default_outcome_weights() noexcept {
  OutcomeWeights w;
  w.set(Disposition::completed, 0.5);
  w.set(Disposition::no_answer, 0.2);
  w.set(Disposition::busy, 0.1);
  w.set(Disposition::voicemail, 0.1);
  w.set(Disposition::failed, 0.1);
  return w;
}

Result<OutcomeWeights> parse_outcome_weights(std::string_view text) {
  OutcomeWeights w;
  for (auto item : split_list(text)) {
    auto eq = item.find('=');
    if (eq == std::string_view::npos) {
      return invalid("outcome '" + std::string(item) + "' needs NAME=WEIGHT");
    }
    auto name = trim(item.substr(0, eq));
    auto kind = from_string<Disposition>(name);
    if (!kind) {
      std::string known;
      for (auto d : all_values<Disposition>())
        known += (known.empty() ? "" : ", ") + std::string(to_string(d));
      return invalid("unknown outcome '" + std::string(name) + "' (known: " + known + ")");
    }
    auto v = parse_double(item.substr(eq + 1));
    if (!v || *v < 0) return invalid("outcome " + std::string(name) + ": weight must be >= 0");
    w.set(*kind, *v);
  }
  if (!(w.total() > 0)) return invalid("outcome weights must add up to more than 0");
  return w;
}

Result<Script> load_script_file(const std::string& path) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::BadFile&) {
    return Error{errc::io_error, path + ": cannot open script file"};
  } catch (const YAML::Exception& e) {
    return Error{errc::parse_error, path + ":" + std::to_string(e.mark.line + 1) + ":" +
                                        std::to_string(e.mark.column + 1) + ": " + e.msg};
  }
  return YamlReader(path).script(root);
}

Result<Script> script_from_json(const boost::json::value& v) {
  const auto* obj = v.if_object();
  if (!obj) return invalid("script must be an object of number -> list of outcomes");
  Script out;
  for (const auto& [key, list] : *obj) {
    std::string number(key);
    if (!is_e164_syntax(number)) return invalid("script: '" + number + "' is not E.164");
    const auto* arr = list.if_array();
    if (!arr) return invalid("script: " + number + " needs a list");
    auto& entries = out[number];
    for (const auto& item : *arr) {
      Result<ScriptEntry> e = invalid("");
      if (const auto* s = item.if_string()) {
        e = script_entry(*s, std::nullopt);
      } else if (const auto* o = item.if_object()) {
        const auto* outcome = o->if_contains("outcome");
        const auto* dur = o->if_contains("duration");
        const auto* extraction = o->if_contains("extraction");
        if (!outcome || !outcome->is_string()) return invalid("script: entry needs 'outcome'");
        if (dur && !dur->is_string()) return invalid("script: 'duration' must be a string");
        if (extraction && !extraction->is_object()) {
          return invalid("script: 'extraction' must be an object of values");
        }
        for (const auto& f : *o) {
          if (f.key() != "outcome" && f.key() != "duration" && f.key() != "extraction") {
            return invalid("script: unknown key '" + std::string(f.key()) + "'");
          }
        }
        e = script_entry(outcome->get_string(),
                         dur ? std::optional<std::string_view>(dur->get_string()) : std::nullopt);
        if (e && extraction) e->extraction = extraction->get_object();
      } else {
        return invalid("script: an entry is an outcome name or {outcome, duration}");
      }
      if (!e) return invalid("script: " + number + ": " + e.error().message);
      entries.push_back(*e);
    }
  }
  return out;
}

Result<WebhookTarget> parse_webhook_flag(std::string_view text) {
  auto eq = text.find('=');
  if (eq == std::string_view::npos || eq == 0 || eq + 1 == text.size()) {
    return invalid("webhook must be URL=SECRET");
  }
  WebhookTarget t{std::string(text.substr(0, eq)), std::string(text.substr(eq + 1))};
  if (t.url.rfind("http://", 0) != 0) return invalid("webhook URL must start with http://");
  return t;
}

std::vector<Provider> SimOptions::all_providers() {
  auto all = all_values<Provider>();
  return {all.begin(), all.end()};
}

Result<std::pair<std::string, std::uint16_t>> parse_listen(std::string_view text) {
  std::string_view host, port;
  if (!text.empty() && text.front() == '[') {
    auto close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return invalid("listen must be HOST:PORT or [V6]:PORT");
    }
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    auto colon = text.rfind(':');
    if (colon == std::string_view::npos) return invalid("listen must be HOST:PORT");
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
  }
  auto p = parse_int(port);
  if (host.empty() || !p || *p < 0 || *p > 65535) {
    return invalid("listen must be HOST:PORT with a port from 0 to 65535");
  }
  return std::pair{std::string(host), static_cast<std::uint16_t>(*p)};
}

Result<std::vector<Provider>> parse_provider_list(std::string_view text) {
  std::vector<Provider> out;
  for (auto item : split_list(text)) {
    auto p = from_string<Provider>(to_lower(item));
    if (!p) {
      return invalid("unknown provider '" + std::string(item) +
                     "' (mcube, twilio, exotel, plivo, vobiz, sip)");
    }
    if (std::find(out.begin(), out.end(), *p) == out.end()) out.push_back(*p);
  }
  return out;
}

Result<void> validate(const SimOptions& o) {
  if (o.concurrency_limit < 0) return invalid("concurrency-limit must be >= 0");
  if (o.calls_per_minute < 0 || o.general_per_minute < 0) {
    return invalid("per-minute limits must be >= 0");
  }
  if (!std::isfinite(o.credits)) return invalid("credits must be a number");
  if (!(o.time_scale > 0) || !std::isfinite(o.time_scale) || o.time_scale > 1e6) {
    return invalid("time-scale must be > 0 and at most 1000000");
  }
  if (o.webhooks.size() > 5) return invalid("at most 5 webhook endpoints (as the service)");
  for (const auto& w : o.webhooks) {
    if (w.url.rfind("http://", 0) != 0) return invalid("webhook URL must start with http://");
    if (w.secret.empty()) return invalid("webhook secret must not be empty");
  }
  for (const auto& a : o.agents) {
    if (!is_uuid(a)) return invalid("agent '" + a + "' is not a UUID");
  }
  for (const auto& k : o.api_keys) {
    if (k.empty()) return invalid("api key must not be empty");
  }
  for (auto p : o.configured_providers) {
    if (std::find(o.allowed_providers.begin(), o.allowed_providers.end(), p) ==
        o.allowed_providers.end()) {
      return invalid("configured provider " + std::string(to_string(p)) + " is not allowed");
    }
  }
  if (!(o.outcomes.total() > 0)) return invalid("outcome weights must add up to more than 0");
  if (o.duration_mean.count() <= 0) return invalid("duration-mean must be > 0");
  if (o.webhook_timeout.count() <= 0) return invalid("webhook-timeout must be > 0");
  if (o.webhook_queue == 0 || o.webhook_connections == 0 || o.max_connections == 0 ||
      o.max_calls == 0) {
    return invalid("queue, connection and call bounds must be > 0");
  }
  if (o.idle_timeout.count() <= 0) return invalid("idle-timeout must be > 0");
  return {};
}

Result<SimOptions> load_config_file(const std::string& path, SimOptions o) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::BadFile&) {
    return Error{errc::io_error, path + ": cannot open config file"};
  } catch (const YAML::Exception& e) {
    return Error{errc::parse_error, path + ":" + std::to_string(e.mark.line + 1) + ":" +
                                        std::to_string(e.mark.column + 1) + ": " + e.msg};
  }
  YamlReader y(path);
  if (root.IsNull()) return o;
  if (!root.IsMap()) return y.error(root, "the config must be a map");

  using Handler = std::function<Result<void>(const YAML::Node&)>;
  auto size_setter = [&](std::size_t& field, const char* name) -> Handler {
    return [&field, &y, name](const YAML::Node& n) -> Result<void> {
      auto v = in_range<std::int64_t>(y, n, name, 1, 10'000'000);
      if (!v) return v.error();
      field = static_cast<std::size_t>(*v);
      return {};
    };
  };
  auto duration_setter = [&](Millis& field, const char* name) -> Handler {
    return [&field, &y, name](const YAML::Node& n) -> Result<void> {
      auto v = y.duration(n, name);
      if (!v) return v.error();
      field = *v;
      return {};
    };
  };
  auto int_setter = [&](int& field, const char* name) -> Handler {
    return [&field, &y, name](const YAML::Node& n) -> Result<void> {
      auto v = in_range<int>(y, n, name, 0, 100'000'000);
      if (!v) return v.error();
      field = *v;
      return {};
    };
  };
  auto providers_setter = [&](std::vector<Provider>& field, const char* name) -> Handler {
    return [&field, &y, name](const YAML::Node& n) -> Result<void> {
      auto list = y.strings(n, name);
      if (!list) return list.error();
      std::string joined;
      for (const auto& s : *list) joined += s + ",";
      auto p = parse_provider_list(joined);
      if (!p) return y.error(n, p.error().message);
      field = *p;
      return {};
    };
  };

  const std::map<std::string, Handler> handlers = {
      {"listen",
       [&](const YAML::Node& n) -> Result<void> {
         auto s = y.scalar<std::string>(n, "listen");
         if (!s) return s.error();
         auto l = parse_listen(*s);
         if (!l) return y.error(n, l.error().message);
         o.listen_host = l->first;
         o.listen_port = l->second;
         return {};
       }},
      {"api_keys",
       [&](const YAML::Node& n) -> Result<void> {
         auto v = y.strings(n, "api_keys");
         if (!v) return v.error();
         o.api_keys = *v;
         return {};
       }},
      {"api_key",
       [&](const YAML::Node& n) -> Result<void> {
         auto v = y.scalar<std::string>(n, "api_key");
         if (!v) return v.error();
         o.api_keys = {*v};
         return {};
       }},
      {"concurrency_limit", int_setter(o.concurrency_limit, "concurrency_limit")},
      {"calls_per_minute", int_setter(o.calls_per_minute, "calls_per_minute")},
      {"general_per_minute", int_setter(o.general_per_minute, "general_per_minute")},
      {"credits",
       [&](const YAML::Node& n) -> Result<void> {
         auto v = y.scalar<double>(n, "credits");
         if (!v) return v.error();
         o.credits = *v;
         return {};
       }},
      {"providers",
       [&](const YAML::Node& n) -> Result<void> {
         auto h = providers_setter(o.allowed_providers, "providers");
         if (auto r = h(n); !r) return r;
         o.configured_providers = o.allowed_providers;
         return {};
       }},
      {"allowed_providers", providers_setter(o.allowed_providers, "allowed_providers")},
      {"configured_providers", providers_setter(o.configured_providers, "configured_providers")},
      {"webhooks",
       [&](const YAML::Node& n) -> Result<void> {
         if (!n.IsSequence()) return y.error(n, "webhooks must be a list");
         o.webhooks.clear();
         for (const auto& item : n) {
           if (item.IsScalar()) {
             auto t = parse_webhook_flag(item.Scalar());
             if (!t) return y.error(item, t.error().message);
             o.webhooks.push_back(*t);
             continue;
           }
           if (!item.IsMap()) return y.error(item, "a webhook is {url, secret}");
           WebhookTarget t;
           for (const auto& f : item) {
             auto key = f.first.Scalar();
             if (key == "url") {
               t.url = f.second.Scalar();
             } else if (key == "secret") {
               t.secret = f.second.Scalar();
             } else {
               return y.error(f.first, "unknown webhook key '" + key + "' (url, secret)");
             }
           }
           if (t.url.rfind("http://", 0) != 0 || t.secret.empty()) {
             return y.error(item, "a webhook needs an http:// url and a secret");
           }
           o.webhooks.push_back(std::move(t));
         }
         return {};
       }},
      {"time_scale",
       [&](const YAML::Node& n) -> Result<void> {
         auto v = y.scalar<double>(n, "time_scale");
         if (!v) return v.error();
         if (!(*v > 0)) return y.error(n, "time_scale must be > 0");
         o.time_scale = *v;
         return {};
       }},
      {"scale_rate_window",
       [&](const YAML::Node& n) -> Result<void> {
         auto v = y.scalar<bool>(n, "scale_rate_window");
         if (!v) return v.error();
         o.scale_rate_window = *v;
         return {};
       }},
      {"seed",
       [&](const YAML::Node& n) -> Result<void> {
         auto v = y.scalar<std::uint64_t>(n, "seed");
         if (!v) return v.error();
         o.seed = *v;
         return {};
       }},
      {"outcomes",
       [&](const YAML::Node& n) -> Result<void> {
         std::string text;
         if (n.IsScalar()) {
           text = n.Scalar();
         } else if (n.IsMap()) {
           for (const auto& kv : n) text += kv.first.Scalar() + "=" + kv.second.Scalar() + ",";
         } else {
           return y.error(n, "outcomes must be a map of outcome -> weight");
         }
         auto w = parse_outcome_weights(text);
         if (!w) return y.error(n, w.error().message);
         o.outcomes = *w;
         return {};
       }},
      {"duration_mean", duration_setter(o.duration_mean, "duration_mean")},
      {"script",
       [&](const YAML::Node& n) -> Result<void> {
         auto s = y.script(n);
         if (!s) return s.error();
         o.script = *s;
         return {};
       }},
      {"script_file",
       [&](const YAML::Node& n) -> Result<void> {
         auto f = y.scalar<std::string>(n, "script_file");
         if (!f) return f.error();
         std::filesystem::path p(*f);
         if (p.is_relative()) p = std::filesystem::path(path).parent_path() / p;
         auto s = load_script_file(p.string());
         if (!s) return s.error();
         o.script = *s;
         return {};
       }},
      {"faults",
       [&](const YAML::Node& n) -> Result<void> {
         std::string text;
         if (n.IsScalar()) {
           text = n.Scalar();
         } else if (n.IsMap()) {
           for (const auto& kv : n) text += kv.first.Scalar() + "=" + kv.second.Scalar() + ",";
         } else {
           return y.error(n, "faults must be a map of fault -> probability");
         }
         auto f = parse_fault_list(text);
         if (!f) return y.error(n, f.error().message);
         o.faults = *f;
         return {};
       }},
      {"agents",
       [&](const YAML::Node& n) -> Result<void> {
         auto v = y.strings(n, "agents");
         if (!v) return v.error();
         for (const auto& a : *v) {
           if (!is_uuid(a)) return y.error(n, "agent '" + a + "' is not a UUID");
         }
         o.agents = *v;
         return {};
       }},
      {"slow_delay", duration_setter(o.slow_delay, "slow_delay")},
      {"hold_time", duration_setter(o.hold_time, "hold_time")},
      {"webhook_delay", duration_setter(o.webhook_delay, "webhook_delay")},
      {"webhook_timeout", duration_setter(o.webhook_timeout, "webhook_timeout")},
      {"idle_timeout", duration_setter(o.idle_timeout, "idle_timeout")},
      {"webhook_queue", size_setter(o.webhook_queue, "webhook_queue")},
      {"webhook_connections", size_setter(o.webhook_connections, "webhook_connections")},
      {"max_connections", size_setter(o.max_connections, "max_connections")},
      {"max_calls", size_setter(o.max_calls, "max_calls")},
      {"log_level",
       [&](const YAML::Node& n) -> Result<void> {
         auto v = y.scalar<std::string>(n, "log_level");
         if (!v) return v.error();
         o.log_level = *v;
         return {};
       }},
  };

  for (const auto& kv : root) {
    auto key = kv.first.Scalar();
    auto it = handlers.find(key);
    if (it == handlers.end()) return y.error(kv.first, "unknown key '" + key + "'");
    if (auto r = it->second(kv.second); !r) return r.error();
  }
  if (auto r = validate(o); !r)
    return Error{errc::invalid_argument, path + ": " + r.error().message};
  return o;
}

boost::json::object describe(const SimOptions& o) {
  namespace json = boost::json;
  auto names = [](const std::vector<Provider>& ps) {
    json::array a;
    for (auto p : ps) a.emplace_back(to_string(p));
    return a;
  };
  json::object out;
  out["listen"] = o.listen_host + ":" + std::to_string(o.listen_port);
  out["api_keys"] = o.api_keys.empty() ? "any" : std::to_string(o.api_keys.size()) + " (redacted)";
  out["concurrency_limit"] = o.concurrency_limit;
  out["calls_per_minute"] = o.calls_per_minute;
  out["general_per_minute"] = o.general_per_minute;
  out["credits"] = json_number(o.credits);
  out["allowed_providers"] = names(o.allowed_providers);
  out["configured_providers"] = names(o.configured_providers);
  json::array hooks;
  for (const auto& w : o.webhooks)
    hooks.emplace_back(json::object{{"url", w.url}, {"secret", "***"}});
  out["webhooks"] = std::move(hooks);
  out["time_scale"] = json_number(o.time_scale);
  out["scale_rate_window"] = o.scale_rate_window;
  out["seed"] = o.seed;
  json::object weights;
  for (auto d : all_values<Disposition>()) {
    if (o.outcomes.get(d) > 0) weights[to_string(d)] = json_number(o.outcomes.get(d));
  }
  out["outcomes"] = std::move(weights);
  out["duration_mean"] = format_duration(o.duration_mean);
  out["scripted_numbers"] = o.script.size();
  json::object faults;
  for (auto f : all_faults()) faults[fault_name(f)] = json_number(o.faults.get(f));
  out["faults"] = std::move(faults);
  if (o.agents.empty()) {
    out["agents"] = "any";
  } else {
    json::array a;
    for (const auto& ag : o.agents) a.emplace_back(ag);
    out["agents"] = std::move(a);
  }
  out["slow_delay"] = format_duration(o.slow_delay);
  out["hold_time"] = format_duration(o.hold_time);
  out["webhook_delay"] = format_duration(o.webhook_delay);
  out["webhook_timeout"] = format_duration(o.webhook_timeout);
  out["webhook_queue"] = o.webhook_queue;
  out["webhook_connections"] = o.webhook_connections;
  out["max_connections"] = o.max_connections;
  out["idle_timeout"] = format_duration(o.idle_timeout);
  out["max_calls"] = o.max_calls;
  return out;
}

}  // namespace dialer::sim
