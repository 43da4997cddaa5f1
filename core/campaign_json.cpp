#include "core/campaign_json.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdio>
#include <limits>

namespace dialer {
namespace json = boost::json;

namespace {

constexpr std::array<std::string_view, 7> kDays{"mon", "tue", "wed", "thu", "fri", "sat", "sun"};

std::string join(std::string_view field, std::string_view key) {
  std::string out{field};
  if (!out.empty()) out += '.';
  out += key;
  return out;
}

Error field_error(std::string_view field, std::string_view what) {
  return Error{errc::invalid_argument, std::string{field} + ": " + std::string{what}};
}

std::string kind_of(const json::value& v) {
  switch (v.kind()) {
    case json::kind::null:
      return "null";
    case json::kind::bool_:
      return "a boolean";
    case json::kind::int64:
    case json::kind::uint64:
    case json::kind::double_:
      return "a number";
    case json::kind::string:
      return "a string";
    case json::kind::array:
      return "an array";
    case json::kind::object:
      return "an object";
  }
  return "a value";
}

Error type_error(std::string_view field, std::string_view expected, const json::value& got) {
  return field_error(field, "expected " + std::string{expected} + ", got " + kind_of(got));
}

/// Shows a rejected string value, cut short: messages go to users and logs.
std::string quoted(std::string_view s) {
  constexpr std::size_t kMax = 40;
  std::string out = "\"";
  out += s.substr(0, kMax);
  if (s.size() > kMax) out += "…";
  out += '"';
  return out;
}

Result<std::string_view> get_string(const json::value& v, std::string_view field) {
  if (!v.is_string()) return type_error(field, "a string", v);
  const auto& s = v.get_string();
  return std::string_view{s.data(), s.size()};
}

Result<int> get_int(const json::value& v, std::string_view field, int min) {
  std::int64_t n = 0;
  if (v.is_int64()) {
    n = v.get_int64();
  } else if (v.is_uint64()) {
    n = v.get_uint64() > static_cast<std::uint64_t>(std::numeric_limits<int>::max())
            ? std::numeric_limits<std::int64_t>::max()
            : static_cast<std::int64_t>(v.get_uint64());
  } else {
    return type_error(field, "an integer", v);
  }
  if (n < min || n > std::numeric_limits<int>::max()) {
    return field_error(field, "must be an integer from " + std::to_string(min) + " to " +
                                  std::to_string(std::numeric_limits<int>::max()));
  }
  return static_cast<int>(n);
}

Result<bool> get_bool(const json::value& v, std::string_view field) {
  if (!v.is_bool()) return type_error(field, "true or false", v);
  return v.get_bool();
}

Result<double> get_number(const json::value& v, std::string_view field) {
  if (!v.is_number()) return type_error(field, "a number", v);
  return v.to_number<double>();
}

Result<Millis> get_duration(const json::value& v, std::string_view field) {
  auto s = get_string(v, field);
  if (!s) return s.error();
  auto d = parse_duration(*s);
  if (!d) {
    return field_error(field,
                       "expected a duration like \"30s\", \"5m\", \"1h30m\", got " + quoted(*s));
  }
  return *d;
}

template <class E>
Error unknown_enum(std::string_view field, std::string_view text) {
  std::string names;
  for (auto n : EnumNames<E>::names) {
    if (n.empty()) continue;
    if (!names.empty()) names += ", ";
    names += n;
  }
  return field_error(field, "unknown value " + quoted(text) + " (expected one of: " + names + ")");
}

template <class E>
Result<E> get_enum(const json::value& v, std::string_view field) {
  auto s = get_string(v, field);
  if (!s) return s.error();
  if (auto e = from_string<E>(*s)) return *e;
  return unknown_enum<E>(field, *s);
}

Result<const json::object*> get_object(const json::value& v, std::string_view field) {
  if (!v.is_object()) return type_error(field, "an object", v);
  return &v.get_object();
}

Result<const json::array*> get_array(const json::value& v, std::string_view field) {
  if (!v.is_array()) return type_error(field, "an array", v);
  return &v.get_array();
}

std::string element(std::string_view field, std::size_t i) {
  return std::string{field} + "[" + std::to_string(i) + "]";
}

}  // namespace

std::string format_time_of_day(std::chrono::minutes m) {
  char buf[16];
  auto total = m.count();
  std::snprintf(buf, sizeof buf, "%02d:%02d", static_cast<int>(total / 60),
                static_cast<int>(total % 60));
  return buf;
}

std::optional<std::chrono::minutes> parse_time_of_day(std::string_view text,
                                                      bool allow_24) noexcept {
  auto digit = [](char c) { return c >= '0' && c <= '9'; };
  if (text.size() != 5 || text[2] != ':' || !digit(text[0]) || !digit(text[1]) || !digit(text[3]) ||
      !digit(text[4])) {
    return std::nullopt;
  }
  int h = (text[0] - '0') * 10 + (text[1] - '0');
  int m = (text[3] - '0') * 10 + (text[4] - '0');
  if (allow_24 && h == 24 && m == 0) return std::chrono::minutes{24 * 60};
  if (h > 23 || m > 59) return std::nullopt;
  return std::chrono::minutes{h * 60 + m};
}

std::string format_date(std::chrono::year_month_day d) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", static_cast<int>(d.year()),
                static_cast<unsigned>(d.month()), static_cast<unsigned>(d.day()));
  return buf;
}

std::optional<std::chrono::year_month_day> parse_date(std::string_view text) noexcept {
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return std::nullopt;
  auto num = [&](std::size_t pos, std::size_t len, int& out) {
    auto first = text.data() + pos;
    auto last = first + len;
    if (!std::all_of(first, last, [](char c) { return c >= '0' && c <= '9'; })) return false;
    return std::from_chars(first, last, out).ec == std::errc{};
  };
  int y = 0, m = 0, d = 0;
  if (!num(0, 4, y) || !num(5, 2, m) || !num(8, 2, d)) return std::nullopt;
  std::chrono::year_month_day ymd{std::chrono::year{y},
                                  std::chrono::month{static_cast<unsigned>(m)},
                                  std::chrono::day{static_cast<unsigned>(d)}};
  if (!ymd.ok()) return std::nullopt;
  return ymd;
}

json::object window_to_json(const Window& w) {
  json::object o;
  json::array days;
  for (std::size_t i = 0; i < w.days.size(); ++i) {
    if (w.days[i]) days.emplace_back(kDays[i]);
  }
  o["days"] = std::move(days);
  o["start"] = format_time_of_day(w.start);
  o["end"] = format_time_of_day(w.end);
  o["end_margin"] = format_duration(w.end_margin);
  json::array holidays;
  for (const auto& d : w.holidays) holidays.emplace_back(format_date(d));
  o["holidays"] = std::move(holidays);
  return o;
}

Result<Window> window_from_json(const json::value& v, const Window& base, std::string_view field) {
  auto obj = get_object(v, field);
  if (!obj) return obj.error();
  Window w = base;
  for (const auto& [key_sv, val] : **obj) {
    std::string_view key{key_sv.data(), key_sv.size()};
    std::string f = join(field, key);
    if (key == "days") {
      auto arr = get_array(val, f);
      if (!arr) return arr.error();
      w.days.fill(false);
      for (std::size_t i = 0; i < (*arr)->size(); ++i) {
        auto name = get_string((**arr)[i], element(f, i));
        if (!name) return name.error();
        auto it = std::find(kDays.begin(), kDays.end(), *name);
        if (it == kDays.end()) {
          return field_error(element(f, i), "unknown day " + quoted(*name) +
                                                " (expected mon, tue, wed, thu, fri, sat, sun)");
        }
        w.days[static_cast<std::size_t>(it - kDays.begin())] = true;
      }
    } else if (key == "start" || key == "end") {
      auto s = get_string(val, f);
      if (!s) return s.error();
      auto t = parse_time_of_day(*s, key == "end");
      if (!t) return field_error(f, "expected a time \"HH:MM\", got " + quoted(*s));
      (key == "start" ? w.start : w.end) = *t;
    } else if (key == "end_margin") {
      auto d = get_duration(val, f);
      if (!d) return d.error();
      w.end_margin = *d;
    } else if (key == "holidays") {
      auto arr = get_array(val, f);
      if (!arr) return arr.error();
      w.holidays.clear();
      for (std::size_t i = 0; i < (*arr)->size(); ++i) {
        auto s = get_string((**arr)[i], element(f, i));
        if (!s) return s.error();
        auto d = parse_date(*s);
        if (!d)
          return field_error(element(f, i), "expected a date \"YYYY-MM-DD\", got " + quoted(*s));
        w.holidays.push_back(*d);
      }
    } else {
      return field_error(f, "unknown field");
    }
  }
  return w;
}

json::object retry_to_json(const RetryPolicy& policy) {
  json::object o;
  for (const auto& [outcome, rule] : policy) {
    json::object r;
    r["delay"] = format_duration(rule.delay);
    r["max"] = rule.max;
    o[to_string(outcome)] = std::move(r);
  }
  return o;
}

Result<RetryPolicy> retry_from_json(const json::value& v, std::string_view field) {
  auto obj = get_object(v, field);
  if (!obj) return obj.error();
  RetryPolicy policy;
  for (const auto& [key_sv, val] : **obj) {
    std::string_view key{key_sv.data(), key_sv.size()};
    std::string f = join(field, key);
    auto outcome = from_string<Outcome>(key);
    if (!outcome) return unknown_enum<Outcome>(f, key);
    auto rule_obj = get_object(val, f);
    if (!rule_obj) return rule_obj.error();
    RetryRule rule;
    bool has_delay = false, has_max = false;
    for (const auto& [rkey_sv, rval] : **rule_obj) {
      std::string_view rkey{rkey_sv.data(), rkey_sv.size()};
      std::string rf = join(f, rkey);
      if (rkey == "delay") {
        auto d = get_duration(rval, rf);
        if (!d) return d.error();
        rule.delay = *d;
        has_delay = true;
      } else if (rkey == "max") {
        auto m = get_int(rval, rf, 0);
        if (!m) return m.error();
        rule.max = *m;
        has_max = true;
      } else {
        return field_error(rf, "unknown field");
      }
    }
    if (!has_delay) return field_error(join(f, "delay"), "missing");
    if (!has_max) return field_error(join(f, "max"), "missing");
    policy[*outcome] = rule;
  }
  return policy;
}

json::array providers_to_json(const std::vector<Provider>& providers) {
  json::array a;
  for (auto p : providers) a.emplace_back(to_string(p));
  return a;
}

Result<std::vector<Provider>> providers_from_json(const json::value& v, std::string_view field) {
  auto arr = get_array(v, field);
  if (!arr) return arr.error();
  std::vector<Provider> out;
  for (std::size_t i = 0; i < (*arr)->size(); ++i) {
    auto p = get_enum<Provider>((**arr)[i], element(field, i));
    if (!p) return p.error();
    out.push_back(*p);
  }
  return out;
}

json::object campaign_spec_to_json(const CampaignSpec& spec) {
  json::object o;
  o["name"] = spec.name;
  o["agent_id"] = spec.agent_id;
  o["providers"] = providers_to_json(spec.providers);
  o["provider_strategy"] = to_string(spec.provider_strategy);
  o["max_concurrency"] = spec.max_concurrency;
  o["priority"] = spec.priority;
  o["weight"] = spec.weight;
  o["timezone"] = spec.timezone;
  o["window"] = window_to_json(spec.window);
  o["max_attempts"] = spec.max_attempts;
  o["retry"] = retry_to_json(spec.retry);
  o["dnc_on_blocked"] = spec.dnc_on_blocked;
  if (spec.budget_credits) {
    o["budget_credits"] = *spec.budget_credits;
  } else {
    o["budget_credits"] = nullptr;
  }
  o["auto_resume"] = spec.auto_resume;
  o["description"] = spec.description;
  o["start_at"] =
      spec.start_at ? json::value(format_iso8601(*spec.start_at)) : json::value(nullptr);
  o["end_at"] = spec.end_at ? json::value(format_iso8601(*spec.end_at)) : json::value(nullptr);
  o["callback"] = spec.callback_field.empty()
                      ? json::value(nullptr)
                      : json::value(json::object{{"field", spec.callback_field}});
  return o;
}

Result<CampaignSpec> campaign_spec_from_json(const json::value& v, const CampaignSpec& base,
                                             std::span<const std::string_view> ignored_keys) {
  auto obj = get_object(v, "campaign");
  if (!obj) return obj.error();
  CampaignSpec s = base;
  auto set_string = [](std::string& out, const json::value& val,
                       std::string_view f) -> Result<void> {
    auto str = get_string(val, f);
    if (!str) return str.error();
    out = *str;
    return {};
  };
  auto set_int = [](int& out, const json::value& val, std::string_view f, int min) -> Result<void> {
    auto n = get_int(val, f, min);
    if (!n) return n.error();
    out = *n;
    return {};
  };
  auto set_bool = [](bool& out, const json::value& val, std::string_view f) -> Result<void> {
    auto b = get_bool(val, f);
    if (!b) return b.error();
    out = *b;
    return {};
  };
  constexpr int kMinInt = std::numeric_limits<int>::min();

  for (const auto& [key_sv, val] : **obj) {
    std::string_view key{key_sv.data(), key_sv.size()};
    Result<void> r;
    if (key == "name") {
      r = set_string(s.name, val, key);
    } else if (key == "agent_id") {
      r = set_string(s.agent_id, val, key);
    } else if (key == "providers") {
      auto p = providers_from_json(val, key);
      if (!p) return p.error();
      s.providers = std::move(*p);
    } else if (key == "provider_strategy") {
      auto e = get_enum<ProviderStrategy>(val, key);
      if (!e) return e.error();
      s.provider_strategy = *e;
    } else if (key == "max_concurrency") {
      r = set_int(s.max_concurrency, val, key, 1);
    } else if (key == "priority") {
      r = set_int(s.priority, val, key, kMinInt);
    } else if (key == "weight") {
      r = set_int(s.weight, val, key, 1);
    } else if (key == "timezone") {
      r = set_string(s.timezone, val, key);
    } else if (key == "window") {
      auto w = window_from_json(val, s.window, key);
      if (!w) return w.error();
      s.window = std::move(*w);
    } else if (key == "max_attempts") {
      r = set_int(s.max_attempts, val, key, 1);
    } else if (key == "retry") {
      auto p = retry_from_json(val, key);
      if (!p) return p.error();
      for (const auto& [outcome, rule] : *p) s.retry[outcome] = rule;
    } else if (key == "dnc_on_blocked") {
      r = set_bool(s.dnc_on_blocked, val, key);
    } else if (key == "budget_credits") {
      if (val.is_null()) {
        s.budget_credits.reset();
      } else {
        auto n = get_number(val, key);
        if (!n) return n.error();
        s.budget_credits = *n;
      }
    } else if (key == "start_at" || key == "end_at") {
      auto& out = key == "start_at" ? s.start_at : s.end_at;
      if (val.is_null()) {
        out.reset();
      } else {
        auto text = get_string(val, key);
        if (!text) return text.error();
        const auto t = parse_iso8601(*text);
        if (!t) {
          return field_error(key,
                             "expected ISO 8601 with an offset, e.g. "
                             "2026-12-07T09:00:00+05:30");
        }
        out = *t;
      }
    } else if (key == "callback") {
      if (val.is_null()) {
        s.callback_field.clear();
      } else {
        auto cb = get_object(val, key);
        if (!cb) return cb.error();
        for (const auto& [k, fv] : **cb) {
          if (k != "field")
            return field_error(std::string(key) + "." + std::string(k), "unknown field");
        }
        const auto* f = (*cb)->if_contains("field");
        if (f == nullptr) return field_error(key, "needs 'field' (the extraction key)");
        r = set_string(s.callback_field, *f, "callback.field");
      }
    } else if (key == "auto_resume") {
      r = set_bool(s.auto_resume, val, key);
    } else if (key == "description") {
      r = set_string(s.description, val, key);
    } else if (std::find(ignored_keys.begin(), ignored_keys.end(), key) == ignored_keys.end()) {
      return field_error(key, "unknown field");
    }
    if (!r) return r.error();
  }
  return s;
}

}  // namespace dialer
