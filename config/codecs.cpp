#include "config/codecs.hpp"

#include <boost/url/parse.hpp>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <utility>

namespace dialer::config {

void ParseContext::error(const Field& at, std::string message) {
  error(at.mark, at.path, std::move(message));
}

void ParseContext::error(const YAML::Mark& mark, std::string key, std::string message) {
  // yaml-cpp marks are 0-based; a node without a position (null mark) is reported at 1:1.
  int line = mark.is_null() ? 1 : mark.line + 1;
  int column = mark.is_null() ? 1 : mark.column + 1;
  diagnostics_.push_back(Diagnostic{file_, line, column, std::move(key), std::move(message)});
}

void ParseContext::mark_set(const std::string& path, const YAML::Mark& mark) {
  set_[path] = mark;
}

std::optional<YAML::Mark> ParseContext::where_set(std::string_view path) const {
  auto it = set_.find(path);
  if (it == set_.end()) return std::nullopt;
  return it->second;
}

Diagnostics ParseContext::take() {
  const auto by_position = [](const auto& a, const auto& b) {
    return std::tie(a.line, a.column) < std::tie(b.line, b.column);
  };
  const auto split = diagnostics_.begin() +
                     static_cast<std::ptrdiff_t>(std::min(consequences_from_, diagnostics_.size()));
  std::stable_sort(diagnostics_.begin(), split, by_position);
  std::stable_sort(split, diagnostics_.end(), by_position);
  consequences_from_ = static_cast<std::size_t>(-1);
  return std::exchange(diagnostics_, {});
}

namespace detail {
namespace {

std::string format_number(double v) {
  // Whole numbers as integers ("100000", not "1e+05"): ranges and counts read better that way.
  if (v == std::floor(v) && std::fabs(v) < 1e15) return std::to_string(static_cast<long long>(v));
  char buf[64];
  auto [p, ec] = std::to_chars(buf, buf + sizeof buf, v);
  return ec == std::errc{} ? std::string(buf, p) : std::string("?");
}

std::string format_bound(const KeyInfo& info, double v) {
  if (info.type == "duration") return format_duration(Millis{static_cast<std::int64_t>(v)});
  return format_number(v);
}

/// "must be between 1 and 10" / "must be at least 1" / … for a value outside the row's range.
bool check_range(const KeyInfo& info, double v, const std::string& shown, const Field& field,
                 ParseContext& ctx) {
  bool low = info.min && (info.min_exclusive ? v <= *info.min : v < *info.min);
  bool high = info.max && v > *info.max;
  if (!low && !high) return true;
  ctx.error(field, "must be " + range_text(info) + ", got " + shown);
  return false;
}

bool expect_scalar(const YAML::Node& node, const Field& field, ParseContext& ctx,
                   std::string_view expected) {
  if (node.IsScalar()) return true;
  ctx.error(field, "expected " + std::string(expected) + ", got " + describe(node));
  return false;
}

/// A plain decimal integer (optional '-'), as long long.
std::optional<long long> parse_integer(const YAML::Node& node, const Field& field,
                                       ParseContext& ctx) {
  if (!node.IsScalar() || !is_plain_scalar(node)) {
    ctx.error(field, "expected an integer, got " + describe(node));
    return std::nullopt;
  }
  const std::string& s = node.Scalar();
  long long v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec == std::errc::result_out_of_range) {
    ctx.error(field, "integer " + quote_value(s) + " is too large");
    return std::nullopt;
  }
  if (ec != std::errc{} || p != s.data() + s.size() || s.empty()) {
    ctx.error(field, "expected an integer, got " + describe(node));
    return std::nullopt;
  }
  return v;
}

std::optional<double> parse_number(const YAML::Node& node, const Field& field, ParseContext& ctx) {
  if (!node.IsScalar() || !is_plain_scalar(node)) {
    ctx.error(field, "expected a number, got " + describe(node));
    return std::nullopt;
  }
  const std::string& s = node.Scalar();
  double v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || p != s.data() + s.size() || s.empty() || !std::isfinite(v)) {
    ctx.error(field, "expected a number, got " + describe(node));
    return std::nullopt;
  }
  return v;
}

template <class T>
void parse_ranged_integer(const KeyInfo& info, const YAML::Node& node, const Field& field, T& out,
                          ParseContext& ctx) {
  auto v = parse_integer(node, field, ctx);
  if (!v) return;
  if (!check_range(info, static_cast<double>(*v), std::to_string(*v), field, ctx)) return;
  if (!std::in_range<T>(*v)) {
    ctx.error(field, "integer " + std::to_string(*v) + " is out of range");
    return;
  }
  out = static_cast<T>(*v);
}

/// A non-null scalar as a string, its length within the row's min/max.
std::optional<std::string> parse_string(const KeyInfo& info, const YAML::Node& node,
                                        const Field& field, ParseContext& ctx,
                                        std::string_view expected = "a string") {
  if (!expect_scalar(node, field, ctx, expected)) return std::nullopt;
  const std::string& s = node.Scalar();
  if (info.min && s.size() < *info.min) {
    ctx.error(field, *info.min <= 1
                         ? "must not be empty"
                         : "must be at least " + format_number(*info.min) + " characters long");
    return std::nullopt;
  }
  if (info.max && s.size() > *info.max) {
    ctx.error(field, "must be at most " + format_number(*info.max) + " characters long, got " +
                         std::to_string(s.size()));
    return std::nullopt;
  }
  if (s.find('\0') != std::string::npos) {
    ctx.error(field, "must not contain a NUL character");
    return std::nullopt;
  }
  return s;
}

/// Calls fn(item, field) for each element of a list.
template <class Fn>
bool for_each_item(const YAML::Node& node, const Field& field, ParseContext& ctx,
                   std::string_view expected, Fn&& fn) {
  if (!node.IsSequence()) {
    ctx.error(field, "expected " + std::string(expected) + ", got " + describe(node));
    return false;
  }
  std::size_t i = 0;
  for (auto it = node.begin(); it != node.end(); ++it, ++i) {
    const YAML::Node item = *it;
    fn(item, sub_field(field, "[" + std::to_string(i) + "]", item));
  }
  return true;
}

std::optional<Secret> parse_secret(const YAML::Node& node, const Field& field, ParseContext& ctx) {
  // Never echo the text of a secret: the message names only its type and the problem.
  if (!node.IsScalar()) {
    ctx.error(field, "expected a string, got " + describe_type(node));
    return std::nullopt;
  }
  const std::string& s = node.Scalar();
  if (s.empty()) {
    ctx.error(field, "must not be empty");
    return std::nullopt;
  }
  if (std::any_of(s.begin(), s.end(), [](unsigned char c) { return c <= ' ' || c == 0x7f; })) {
    ctx.error(field, "must not contain whitespace or control characters");
    return std::nullopt;
  }
  return Secret{s};
}

}  // namespace

std::string quote_value(std::string_view text) {
  std::string out = "\"";
  std::size_t n = 0;
  for (char c : text) {
    if (++n > 64) {
      out += "…";
      break;
    }
    if (c == '"' || c == '\\') out += '\\';
    if (static_cast<unsigned char>(c) < 0x20) {
      out += '?';
    } else {
      out += c;
    }
  }
  out += '"';
  return out;
}

std::string describe_type(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      return "null";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Map:
      return "a mapping";
    case YAML::NodeType::Scalar:
      return "a string";
  }
  return "?";
}

std::string describe(const YAML::Node& node) {
  return node.IsScalar() ? quote_value(node.Scalar()) : describe_type(node);
}

bool is_plain_scalar(const YAML::Node& node) {
  return node.IsScalar() && node.Tag() == "?";
}

Field sub_field(const Field& parent, std::string_view suffix, const YAML::Node& node) {
  std::string path = parent.path;
  if (!suffix.empty() && suffix.front() != '[' && !path.empty()) path += '.';
  path += suffix;
  YAML::Mark mark = node.Mark().is_null() || node.IsNull() ? parent.mark : node.Mark();
  return Field{std::move(path), mark};
}

std::string suggest_key(const std::vector<std::string_view>& all_paths, std::string_view path) {
  std::size_t dot = path.rfind('.');
  std::string_view parent =
      dot == std::string_view::npos ? std::string_view{} : path.substr(0, dot);
  std::string_view name = dot == std::string_view::npos ? path : path.substr(dot + 1);
  // The same name under another section: "reconcile_after" under vocobase → scheduler's.
  for (std::string_view p : all_paths) {
    std::size_t d = p.rfind('.');
    std::string_view leaf = d == std::string_view::npos ? p : p.substr(d + 1);
    if (leaf == name) return std::string(p);
  }
  // A misspelt sibling (or section) of the same parent.
  auto distance = [](std::string_view a, std::string_view b) {
    std::vector<std::size_t> row(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
      std::size_t diag = row[0];
      row[0] = i;
      for (std::size_t j = 1; j <= b.size(); ++j) {
        std::size_t up = row[j];
        row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
        diag = up;
      }
    }
    return row[b.size()];
  };
  std::string best;
  std::size_t best_distance = 3;
  for (std::string_view p : all_paths) {
    std::string_view rest = p;
    if (!parent.empty()) {
      if (!p.starts_with(parent) || p.size() <= parent.size() || p[parent.size()] != '.') continue;
      rest = p.substr(parent.size() + 1);
    }
    std::string_view child = rest.substr(0, rest.find('.'));
    std::size_t d = distance(name, child);
    if (d < best_distance && d < std::max<std::size_t>(name.size(), 2)) {
      best_distance = d;
      best = parent.empty() ? std::string(child) : std::string(parent) + "." + std::string(child);
    }
  }
  return best;
}

std::optional<YAML::Node> load_yaml(std::string_view text, ParseContext& ctx) {
  try {
    std::vector<YAML::Node> docs = YAML::LoadAll(std::string(text));
    if (docs.empty()) return YAML::Node{};
    if (docs.size() > 1) {
      ctx.error(docs[1].Mark(), "", "only one YAML document is allowed");
      return std::nullopt;
    }
    return docs.front();
  } catch (const YAML::Exception& e) {
    ctx.error(e.mark, "", "YAML syntax error: " + e.msg);
    return std::nullopt;
  }
}

void check_window(const Window& window, std::string_view prefix, const YAML::Mark& fallback,
                  ParseContext& ctx) {
  auto at = [&](std::string_view leaf) {
    std::string path = std::string(prefix) + "." + std::string(leaf);
    auto m = ctx.where_set(path);
    if (!m) m = ctx.where_set(prefix);
    return Field{path, m ? *m : fallback};
  };
  if (std::none_of(window.days.begin(), window.days.end(), [](bool d) { return d; })) {
    ctx.error(at("days"), "at least one day is needed");
  }
  if (window.start >= window.end) {
    // Report where the operator wrote it: end when end was set, else start.
    bool end_set = ctx.where_set(std::string(prefix) + ".end").has_value();
    ctx.error(at(end_set ? "end" : "start"),
              "window end " + format_time_of_day(window.end) + " must be after start " +
                  format_time_of_day(window.start) + " (windows cannot cross midnight)");
  } else if (window.end_margin >= window.end - window.start) {
    ctx.error(at("end_margin"), "end_margin " + format_duration(window.end_margin) +
                                    " leaves no time in the window " +
                                    format_time_of_day(window.start) + "-" +
                                    format_time_of_day(window.end));
  }
}

// --- codecs ------------------------------------------------------------------------------------

void BoolCodec::parse(const KeyInfo&, const YAML::Node& node, const Field& field, bool& out,
                      ParseContext& ctx) {
  if (node.IsScalar() && is_plain_scalar(node)) {
    const std::string& s = node.Scalar();
    // YAML 1.2 core schema booleans only: "yes", "on" and friends are YAML 1.1 surprises.
    if (s == "true" || s == "True" || s == "TRUE") {
      out = true;
      return;
    }
    if (s == "false" || s == "False" || s == "FALSE") {
      out = false;
      return;
    }
  }
  ctx.error(field, "expected true or false, got " + describe(node));
}
boost::json::value BoolCodec::to_json(const bool& v) {
  return v;
}

void IntCodec::parse(const KeyInfo& info, const YAML::Node& node, const Field& field, int& out,
                     ParseContext& ctx) {
  parse_ranged_integer(info, node, field, out, ctx);
}
boost::json::value IntCodec::to_json(const int& v) {
  return v;
}

void SizeCodec::parse(const KeyInfo& info, const YAML::Node& node, const Field& field,
                      std::size_t& out, ParseContext& ctx) {
  parse_ranged_integer(info, node, field, out, ctx);
}
boost::json::value SizeCodec::to_json(const std::size_t& v) {
  return static_cast<std::uint64_t>(v);
}

void NumberCodec::parse(const KeyInfo& info, const YAML::Node& node, const Field& field,
                        double& out, ParseContext& ctx) {
  auto v = parse_number(node, field, ctx);
  if (v && check_range(info, *v, node.Scalar(), field, ctx)) out = *v;
}
boost::json::value NumberCodec::to_json(const double& v) {
  return v;
}

void OptionalNumberCodec::parse(const KeyInfo& info, const YAML::Node& node, const Field& field,
                                std::optional<double>& out, ParseContext& ctx) {
  if (node.IsNull()) {
    out.reset();
    return;
  }
  auto v = parse_number(node, field, ctx);
  if (v && check_range(info, *v, node.Scalar(), field, ctx)) out = *v;
}
boost::json::value OptionalNumberCodec::to_json(const std::optional<double>& v) {
  return v ? boost::json::value(*v) : boost::json::value(nullptr);
}

void DurationCodec::parse(const KeyInfo& info, const YAML::Node& node, const Field& field,
                          Millis& out, ParseContext& ctx) {
  if (!expect_scalar(node, field, ctx, "a duration")) return;
  auto d = parse_duration(node.Scalar());
  if (!d) {
    ctx.error(field, "invalid duration " + quote_value(node.Scalar()) +
                         " (expected e.g. 250ms, 30s, 5m, 2h, 1d or 1h30m)");
    return;
  }
  if (check_range(info, static_cast<double>(d->count()), format_duration(*d), field, ctx)) out = *d;
}
boost::json::value DurationCodec::to_json(const Millis& v) {
  return boost::json::string(format_duration(v));
}

void StringCodec::parse(const KeyInfo& info, const YAML::Node& node, const Field& field,
                        std::string& out, ParseContext& ctx) {
  if (auto s = parse_string(info, node, field, ctx)) out = std::move(*s);
}
boost::json::value StringCodec::to_json(const std::string& v) {
  return boost::json::string(v);
}

void PathCodec::parse(const KeyInfo& info, const YAML::Node& node, const Field& field,
                      std::string& out, ParseContext& ctx) {
  if (auto s = parse_string(info, node, field, ctx, "a path")) {
    if (s->empty()) {
      ctx.error(field, "must not be empty");
      return;
    }
    out = std::move(*s);
  }
}
boost::json::value PathCodec::to_json(const std::string& v) {
  return boost::json::string(v);
}

void OptionalDirCodec::parse(const KeyInfo& info, const YAML::Node& node, const Field& field,
                             std::string& out, ParseContext& ctx) {
  if (auto s = parse_string(info, node, field, ctx, "an absolute directory path or \"\"")) {
    if (!s->empty() && s->front() != '/') {
      ctx.error(field, "must be an absolute path (or \"\" for none)");
      return;
    }
    while (s->size() > 1 && s->back() == '/') s->pop_back();
    out = std::move(*s);
  }
}
boost::json::value OptionalDirCodec::to_json(const std::string& v) {
  return boost::json::string(v);
}

void UrlCodec::parse(const KeyInfo& info, const YAML::Node& node, const Field& field,
                     std::string& out, ParseContext& ctx) {
  auto s = parse_string(info, node, field, ctx, "a URL");
  if (!s) return;
  auto r = parse_base_url(*s);
  if (!r) return ctx.error(field, r.error().message);
  out = std::move(*r);
}
boost::json::value UrlCodec::to_json(const std::string& v) {
  return boost::json::string(v);
}

void OptionalHttpUrlCodec::parse(const KeyInfo& info, const YAML::Node& node, const Field& field,
                                 std::string& out, ParseContext& ctx) {
  auto s = parse_string(info, node, field, ctx, "an http(s) URL or \"\"");
  if (!s) return;
  if (!s->empty()) {
    auto u = boost::urls::parse_absolute_uri(*s);
    if (!u || (u->scheme() != "https" && u->scheme() != "http") || u->host().empty()) {
      return ctx.error(field, "must be an absolute http:// or https:// URL with a host (or \"\")");
    }
    if (u->has_userinfo()) return ctx.error(field, "must not carry user:password@");
  }
  out = std::move(*s);
}
boost::json::value OptionalHttpUrlCodec::to_json(const std::string& v) {
  return boost::json::string(v);
}

void UrlPathCodec::parse(const KeyInfo& info, const YAML::Node& node, const Field& field,
                         std::string& out, ParseContext& ctx) {
  auto s = parse_string(info, node, field, ctx, "a URL path");
  if (!s) return;
  auto r = parse_url_path(*s);
  if (!r) return ctx.error(field, r.error().message);
  out = std::move(*r);
}
boost::json::value UrlPathCodec::to_json(const std::string& v) {
  return boost::json::string(v);
}

void HostPortCodec::parse(const KeyInfo&, const YAML::Node& node, const Field& field, HostPort& out,
                          ParseContext& ctx) {
  if (!expect_scalar(node, field, ctx, "host:port")) return;
  auto r = parse_host_port(node.Scalar());
  if (!r) return ctx.error(field, r.error().message);
  out = std::move(*r);
}
boost::json::value HostPortCodec::to_json(const HostPort& v) {
  return boost::json::string(v.to_string());
}

void OptionalTimeCodec::parse(const KeyInfo&, const YAML::Node& node, const Field& field,
                              std::optional<TimePoint>& out, ParseContext& ctx) {
  if (node.IsNull()) {
    out.reset();
    return;
  }
  if (!expect_scalar(node, field, ctx, "an ISO 8601 time")) return;
  const auto t = parse_iso8601(node.Scalar());
  if (!t) {
    return ctx.error(field, "invalid time " + quote_value(node.Scalar()) +
                                " (expected ISO 8601 with an offset, e.g. "
                                "2026-12-07T09:00:00+05:30, or null)");
  }
  out = *t;
}
boost::json::value OptionalTimeCodec::to_json(const std::optional<TimePoint>& v) {
  return v ? boost::json::value(format_iso8601(*v)) : boost::json::value(nullptr);
}

void OptionalHostPortCodec::parse(const KeyInfo&, const YAML::Node& node, const Field& field,
                                  std::optional<HostPort>& out, ParseContext& ctx) {
  if (!expect_scalar(node, field, ctx, "host:port or \"\"")) return;
  if (node.Scalar().empty()) {
    out.reset();
    return;
  }
  auto r = parse_host_port(node.Scalar());
  if (!r) return ctx.error(field, r.error().message + "; \"\" turns it off");
  out = std::move(*r);
}
boost::json::value OptionalHostPortCodec::to_json(const std::optional<HostPort>& v) {
  return boost::json::string(v ? v->to_string() : std::string());
}

void ZoneCodec::parse(const KeyInfo&, const YAML::Node& node, const Field& field, std::string& out,
                      ParseContext& ctx) {
  if (!expect_scalar(node, field, ctx, "an IANA time zone")) return;
  if (!is_valid_timezone(node.Scalar())) {
    ctx.error(field, "unknown time zone " + quote_value(node.Scalar()) +
                         " (expected an IANA name such as Asia/Kolkata)");
    return;
  }
  out = node.Scalar();
}
boost::json::value ZoneCodec::to_json(const std::string& v) {
  return boost::json::string(v);
}

void FileModeCodec::parse(const KeyInfo&, const YAML::Node& node, const Field& field, unsigned& out,
                          ParseContext& ctx) {
  if (!expect_scalar(node, field, ctx, "an octal mode like \"0660\"")) return;
  auto r = parse_file_mode(node.Scalar());
  if (!r) return ctx.error(field, r.error().message);
  out = *r;
}
boost::json::value FileModeCodec::to_json(const unsigned& v) {
  return boost::json::string(format_file_mode(v));
}

void JsonPointerCodec::parse(const KeyInfo& info, const YAML::Node& node, const Field& field,
                             std::string& out, ParseContext& ctx) {
  auto s = parse_string(info, node, field, ctx, "a JSON pointer");
  if (!s) return;
  if (!is_json_pointer(*s)) {
    return ctx.error(
        field, "invalid JSON pointer " + quote_value(*s) + " (expected e.g. /data/credit_balance)");
  }
  out = std::move(*s);
}
boost::json::value JsonPointerCodec::to_json(const std::string& v) {
  return boost::json::string(v);
}

void IdListCodec::parse(const KeyInfo&, const YAML::Node& node, const Field& field,
                        std::vector<std::uint32_t>& out, ParseContext& ctx) {
  std::vector<std::uint32_t> ids;
  bool ok = true;
  bool list = for_each_item(
      node, field, ctx, "a list of numeric ids", [&](const YAML::Node& item, const Field& f) {
        auto v = parse_integer(item, f, ctx);
        if (!v) {
          ok = false;
          return;
        }
        // uid/gid (uint32_t); 4294967295 is (uid_t)-1, "no user".
        if (*v < 0 || *v > 4294967294LL) {
          ctx.error(f, "must be a uid/gid between 0 and 4294967294, got " + std::to_string(*v));
          ok = false;
          return;
        }
        ids.push_back(static_cast<std::uint32_t>(*v));
      });
  if (list && ok) out = std::move(ids);
}
boost::json::value IdListCodec::to_json(const std::vector<std::uint32_t>& v) {
  boost::json::array a;
  for (auto id : v) a.emplace_back(static_cast<std::uint64_t>(id));
  return a;
}

void ProvidersCodec::parse(const KeyInfo&, const YAML::Node& node, const Field& field,
                           std::vector<Provider>& out, ParseContext& ctx) {
  std::vector<Provider> providers;
  bool ok = true;
  bool list = for_each_item(
      node, field, ctx, "a list of providers", [&](const YAML::Node& item, const Field& f) {
        auto p = parse_enum<Provider>(item, f, ctx);
        if (!p) {
          ok = false;
          return;
        }
        if (std::find(providers.begin(), providers.end(), *p) != providers.end()) {
          ctx.error(f, "provider " + std::string(to_string(*p)) + " is listed twice");
          ok = false;
          return;
        }
        providers.push_back(*p);
      });
  if (list && ok) out = std::move(providers);
}
boost::json::value ProvidersCodec::to_json(const std::vector<Provider>& v) {
  boost::json::array a;
  for (auto p : v) a.emplace_back(to_string(p));
  return a;
}

void DaysCodec::parse(const KeyInfo&, const YAML::Node& node, const Field& field, WeekDays& out,
                      ParseContext& ctx) {
  if (node.IsScalar()) {  // "mon-sat" or "mon-fri,sun"
    auto r = parse_days(node.Scalar());
    if (!r) return ctx.error(field, r.error().message);
    out = *r;
    return;
  }
  WeekDays days{};
  bool ok = true;
  bool list = for_each_item(node, field, ctx, "a list of days or a range like \"mon-sat\"",
                            [&](const YAML::Node& item, const Field& f) {
                              if (!item.IsScalar()) {
                                ctx.error(f, "expected a day like mon, got " + describe(item));
                                ok = false;
                                return;
                              }
                              auto r = add_days(item.Scalar(), days);
                              if (!r) {
                                ctx.error(f, r.error().message);
                                ok = false;
                                return;
                              }
                              days = *r;
                            });
  if (!list || !ok) return;
  if (node.size() == 0) return ctx.error(field, "at least one day is needed");
  out = days;
}
boost::json::value DaysCodec::to_json(const WeekDays& v) {
  boost::json::array a;
  for (const auto& d : format_days(v)) a.emplace_back(d);
  return a;
}

void TimeOfDayCodec::parse(const KeyInfo&, const YAML::Node& node, const Field& field,
                           std::chrono::minutes& out, ParseContext& ctx) {
  if (!expect_scalar(node, field, ctx, "a time \"HH:MM\"")) return;
  auto r = parse_time_of_day(node.Scalar());
  if (!r) return ctx.error(field, r.error().message);
  out = *r;
}
boost::json::value TimeOfDayCodec::to_json(const std::chrono::minutes& v) {
  return boost::json::string(format_time_of_day(v));
}

void HolidaysCodec::parse(const KeyInfo& info, const YAML::Node& node, const Field& field,
                          std::vector<std::chrono::year_month_day>& out, ParseContext& ctx) {
  std::vector<std::chrono::year_month_day> dates;
  bool ok = true;
  bool list =
      for_each_item(node, field, ctx, "a list of dates \"YYYY-MM-DD\"",
                    [&](const YAML::Node& item, const Field& f) {
                      if (!item.IsScalar()) {
                        ctx.error(f, "expected a date \"YYYY-MM-DD\", got " + describe(item));
                        ok = false;
                        return;
                      }
                      auto r = parse_date(item.Scalar());
                      if (!r) {
                        ctx.error(f, r.error().message);
                        ok = false;
                        return;
                      }
                      dates.push_back(*r);
                    });
  if (!list || !ok) return;
  if (info.max && dates.size() > *info.max) {
    return ctx.error(field, "at most " + format_number(*info.max) + " dates, got " +
                                std::to_string(dates.size()));
  }
  std::sort(dates.begin(), dates.end());
  dates.erase(std::unique(dates.begin(), dates.end()), dates.end());
  out = std::move(dates);
}
boost::json::value HolidaysCodec::to_json(const std::vector<std::chrono::year_month_day>& v) {
  boost::json::array a;
  for (const auto& d : v) a.emplace_back(format_date(d));
  return a;
}

namespace {
constexpr KeyInfo kRetryDelay{.path = "delay",
                              .type = "duration",
                              .default_text = "",
                              .min = 0,
                              .max = 30.0 * 86'400'000,
                              .min_exclusive = false,
                              .needs_restart = false,
                              .help = ""};
constexpr KeyInfo kRetryMax{.path = "max",
                            .type = "integer",
                            .default_text = "",
                            .min = 0,
                            .max = 100,
                            .min_exclusive = false,
                            .needs_restart = false,
                            .help = ""};

std::string retriable_outcomes() {
  std::string out;
  for (Outcome o : all_values<Outcome>()) {
    if (o == Outcome::completed || o == Outcome::blocked) continue;
    if (!out.empty()) out += ", ";
    out += to_string(o);
  }
  return out;
}
}  // namespace

void RetryCodec::parse(const KeyInfo&, const YAML::Node& node, const Field& field, RetryPolicy& out,
                       ParseContext& ctx) {
  RetryPolicy policy = out;  // outcomes not named keep their rule
  bool ok = true;
  bool map = for_each_entry(
      node, field, ctx,
      [&](const std::string& name, const YAML::Node& key, const YAML::Node& value, const Field& f) {
        auto outcome = from_string<Outcome>(name);
        if (!outcome) {
          ctx.error(
              key.Mark(), f.path,
              "unknown outcome " + quote_value(name) + " (expected " + retriable_outcomes() + ")");
          ok = false;
          return;
        }
        if (*outcome == Outcome::completed || *outcome == Outcome::blocked) {
          ctx.error(
              key.Mark(), f.path,
              std::string(
                  *outcome == Outcome::completed
                      ? "a completed call is done and never retried"
                      : "a blocked number is skipped and never retried (see dnc_on_blocked)") +
                  "; remove this rule");
          ok = false;
          return;
        }
        RetryRule rule = policy.count(*outcome) ? policy.at(*outcome) : RetryRule{};
        std::size_t errors_before = ctx.error_count();
        bool rule_map = for_each_entry(
            value, f, ctx,
            [&](const std::string& k, const YAML::Node& kn, const YAML::Node& v, const Field& kf) {
              if (k == "delay") {
                DurationCodec::parse(kRetryDelay, v, kf, rule.delay, ctx);
              } else if (k == "max") {
                IntCodec::parse(kRetryMax, v, kf, rule.max, ctx);
              } else {
                ctx.error(kn.Mark(), kf.path,
                          "unknown key (expected delay and max, e.g. {delay: 30m, max: 3})");
              }
            });
        if (!rule_map || ctx.error_count() != errors_before) {
          ok = false;
          return;
        }
        policy[*outcome] = rule;
      });
  if (map && ok) out = std::move(policy);
}
boost::json::value RetryCodec::to_json(const RetryPolicy& v) {
  boost::json::object o;
  for (const auto& [outcome, rule] : v) {
    o[to_string(outcome)] =
        boost::json::object{{"delay", format_duration(rule.delay)}, {"max", rule.max}};
  }
  return o;
}

void SecretCodec::parse(const KeyInfo&, const YAML::Node& node, const Field& field, Secret& out,
                        ParseContext& ctx) {
  if (auto s = parse_secret(node, field, ctx)) out = std::move(*s);
}
boost::json::value SecretCodec::to_json(const Secret& v) {
  return v.empty() ? boost::json::value(nullptr) : boost::json::value(kRedacted);
}

void SecretListCodec::parse(const KeyInfo&, const YAML::Node& node, const Field& field,
                            std::vector<Secret>& out, ParseContext& ctx) {
  // Never echo what stands where the secrets belong: a single secret written without brackets
  // is the usual mistake, and quoting it would put it in the journal (--test-config runs before
  // every start).
  if (!node.IsSequence()) {
    return ctx.error(field, "expected a list of secrets, got " + describe_type(node) +
                                (node.IsScalar() ? " (write one secret as [\"whsec_…\"]; the "
                                                   "value is not shown)"
                                                 : ""));
  }
  std::vector<Secret> secrets;
  bool ok = true;
  bool list = for_each_item(node, field, ctx, "a list of secrets",
                            [&](const YAML::Node& item, const Field& f) {
                              auto s = parse_secret(item, f, ctx);
                              if (!s) {
                                ok = false;
                                return;
                              }
                              secrets.push_back(std::move(*s));
                            });
  if (!list || !ok) return;
  if (secrets.empty()) return ctx.error(field, "at least one secret is needed");
  if (secrets.size() > kMaxWebhookSecrets) {
    return ctx.error(field, "at most " + std::to_string(kMaxWebhookSecrets) + " secrets");
  }
  out = std::move(secrets);
}
boost::json::value SecretListCodec::to_json(const std::vector<Secret>& v) {
  boost::json::array a;
  for (std::size_t i = 0; i < v.size(); ++i) a.emplace_back(kRedacted);
  return a;
}

void CampaignNameCodec::parse(const KeyInfo&, const YAML::Node& node, const Field& field,
                              std::string& out, ParseContext& ctx) {
  if (!expect_scalar(node, field, ctx, "a campaign name")) return;
  const std::string& s = node.Scalar();
  if (!is_valid_campaign_name(s)) {
    return ctx.error(field, "invalid campaign name " + quote_value(s) +
                                " (expected 1 to 64 of a-z, 0-9, '-' and '_', starting with a "
                                "letter or digit)");
  }
  out = s;
}
boost::json::value CampaignNameCodec::to_json(const std::string& v) {
  return boost::json::string(v);
}

void UuidCodec::parse(const KeyInfo&, const YAML::Node& node, const Field& field, std::string& out,
                      ParseContext& ctx) {
  if (!expect_scalar(node, field, ctx, "a uuid")) return;
  const std::string& s = node.Scalar();
  if (!is_uuid(s)) {
    return ctx.error(field, "invalid uuid " + quote_value(s) +
                                " (expected 8-4-4-4-12 hex digits, e.g. "
                                "3f2b6c1e-0d4a-4c8e-9b7a-2e5f1a6c9d3b)");
  }
  out = s;
}
boost::json::value UuidCodec::to_json(const std::string& v) {
  return boost::json::string(v);
}

}  // namespace detail

std::string range_text(const KeyInfo& info) {
  auto bound = [&](double v) { return detail::format_bound(info, v); };
  bool text = info.type == "string" || info.type == "path" || info.type == "URL" ||
              info.type == "URL path" || info.type == "JSON pointer";
  if (text) {
    if (info.max && info.min && *info.min > 1) {
      return bound(*info.min) + " to " + bound(*info.max) + " characters";
    }
    if (info.max) return "at most " + bound(*info.max) + " characters";
    if (info.min && *info.min > 1) return "at least " + bound(*info.min) + " characters";
    return info.min ? "not empty" : "";
  }
  if (info.min && info.max) {
    if (info.min_exclusive)
      return "greater than " + bound(*info.min) + ", at most " + bound(*info.max);
    return "between " + bound(*info.min) + " and " + bound(*info.max);
  }
  if (info.min) return (info.min_exclusive ? "greater than " : "at least ") + bound(*info.min);
  if (info.max) return "at most " + bound(*info.max);
  return "";
}

}  // namespace dialer::config
