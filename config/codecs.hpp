#pragma once
/// Internal to config/: the value codecs the key tables are built from, and the table-driven
/// walker. A codec knows one C++ type's YAML spelling, its checks and its JSON form; a row
/// (`make_key`) binds a codec to a member of the root struct.

#include "config/schema.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <yaml-cpp/yaml.h>

#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>

namespace dialer::config::detail {

/// "null", "a mapping", "a list" or the quoted (shortened) scalar, for "got …" in messages.
std::string describe(const YAML::Node& node);
/// The same, but never showing a scalar's text (for secrets).
std::string describe_type(const YAML::Node& node);
/// A plain (unquoted) scalar: only those are read as numbers and booleans.
bool is_plain_scalar(const YAML::Node& node);
/// `text` in quotes, shortened to 64 characters.
std::string quote_value(std::string_view text);
/// The field of an element or sub-key: "a.b[2]" or "a.b.c", positioned at `node` (or `parent`
/// when `node` has no mark).
Field sub_field(const Field& parent, std::string_view suffix, const YAML::Node& node);

/// Calls fn(name, key_node, value_node, field) for each entry of a mapping, refusing non-scalar
/// and duplicate keys. Returns false (after an error) when `node` is not a mapping.
template <class Fn>
bool for_each_entry(const YAML::Node& node, const Field& field, ParseContext& ctx, Fn&& fn);

#define DIALER_CODEC(Name, T, type_name)                                               \
  struct Name {                                                                        \
    using value_type = T;                                                              \
    static constexpr std::string_view type = type_name;                                \
    static void parse(const KeyInfo& info, const YAML::Node& node, const Field& field, \
                      value_type& out, ParseContext& ctx);                             \
    static boost::json::value to_json(const value_type& value);                        \
  }

DIALER_CODEC(BoolCodec, bool, "boolean");
DIALER_CODEC(IntCodec, int, "integer");
DIALER_CODEC(SizeCodec, std::size_t, "integer (bytes)");
DIALER_CODEC(NumberCodec, double, "number");
DIALER_CODEC(OptionalNumberCodec, std::optional<double>, "number or null");
DIALER_CODEC(DurationCodec, Millis, "duration");
DIALER_CODEC(StringCodec, std::string, "string");
DIALER_CODEC(PathCodec, std::string, "path");
/// An absolute directory path, or "" for none.
DIALER_CODEC(OptionalDirCodec, std::string, "absolute directory path or \"\"");
DIALER_CODEC(UrlCodec, std::string, "URL");
DIALER_CODEC(UrlPathCodec, std::string, "URL path");
/// An absolute http(s) URL with a host, or "" for none (webhook.public_url).
DIALER_CODEC(OptionalHttpUrlCodec, std::string, "http(s) URL or \"\"");
DIALER_CODEC(HostPortCodec, HostPort, "host:port");
/// A listen address, or "" for off.
DIALER_CODEC(OptionalHostPortCodec, std::optional<HostPort>, "host:port or \"\"");
DIALER_CODEC(ZoneCodec, std::string, "IANA time zone");
DIALER_CODEC(FileModeCodec, unsigned, "octal mode");
DIALER_CODEC(JsonPointerCodec, std::string, "JSON pointer");
DIALER_CODEC(IdListCodec, std::vector<std::uint32_t>, "list of integers");
DIALER_CODEC(ProvidersCodec, std::vector<Provider>, "list of providers");
DIALER_CODEC(DaysCodec, WeekDays, "days");
DIALER_CODEC(TimeOfDayCodec, std::chrono::minutes, "time HH:MM");
DIALER_CODEC(HolidaysCodec, std::vector<std::chrono::year_month_day>, "list of dates");
DIALER_CODEC(RetryCodec, RetryPolicy, "retry rules");
DIALER_CODEC(SecretCodec, Secret, "secret string");
DIALER_CODEC(SecretListCodec, std::vector<Secret>, "list of secrets");
DIALER_CODEC(CampaignNameCodec, std::string, "campaign name");
DIALER_CODEC(UuidCodec, std::string, "uuid");
/// ISO 8601 with an offset ("2026-12-07T09:00:00+05:30"), or null for none.
DIALER_CODEC(OptionalTimeCodec, std::optional<TimePoint>, "ISO 8601 time or null");

#undef DIALER_CODEC

/// The names an enum accepts, for messages: "a, b or c".
template <class E>
std::string enum_choices() {
  std::string out;
  const auto& names = EnumNames<E>::names;
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (i > 0) out += i + 1 == names.size() ? " or " : ", ";
    out += names[i];
  }
  return out;
}

/// Parses one enum value from a scalar (shared by EnumCodec and the list codecs).
template <class E>
std::optional<E> parse_enum(const YAML::Node& node, const Field& field, ParseContext& ctx) {
  if (!node.IsScalar()) {
    ctx.error(field, "expected " + enum_choices<E>() + ", got " + describe(node));
    return std::nullopt;
  }
  auto v = from_string<E>(node.Scalar());
  if (!v)
    ctx.error(field, "invalid value " + quote_value(node.Scalar()) + " (expected " +
                         enum_choices<E>() + ")");
  return v;
}

template <class E>
struct EnumCodec {
  using value_type = E;
  static constexpr std::string_view type = "choice";
  static void parse(const KeyInfo&, const YAML::Node& node, const Field& field, E& out,
                    ParseContext& ctx) {
    if (auto v = parse_enum<E>(node, field, ctx)) out = *v;
  }
  static boost::json::value to_json(const E& value) {
    return boost::json::string(to_string(value));
  }
};

/// Binds codec `Codec` to the member `Acc` returns (a captureless `[](auto& r) -> auto& {…}`).
template <class Codec, class Root, class Acc>
constexpr KeyDef<Root> make_key(KeyInfo info, Acc) {
  static_assert(std::is_same_v<std::remove_cvref_t<decltype(Acc{}(std::declval<Root&>()))>,
                               typename Codec::value_type>,
                "the codec does not match the member's type");
  info.type = Codec::type;
  return KeyDef<Root>{
      info,
      [](const KeyInfo& i, const YAML::Node& n, const Field& f, Root& r, ParseContext& c) {
        Codec::parse(i, n, f, Acc{}(r), c);
      },
      [](const Root& r) -> boost::json::value { return Codec::to_json(Acc{}(r)); },
      [](const Root& a, const Root& b) { return Acc{}(a) == Acc{}(b); },
      [](const Root& from, Root& to) { Acc{}(to) = Acc{}(from); },
  };
}

/// "did you mean …?" for an unknown key: the same name elsewhere in the tree, or a sibling
/// within two edits. Empty when nothing is close.
std::string suggest_key(const std::vector<std::string_view>& all_paths, std::string_view path);

template <class Root>
std::vector<std::string_view> key_paths(std::span<const KeyDef<Root>> keys) {
  std::vector<std::string_view> out;
  for (const auto& k : keys) out.push_back(k.info.path);
  return out;
}

template <class Root>
const KeyDef<Root>* find_key(std::span<const KeyDef<Root>> keys, std::string_view path) {
  for (const auto& k : keys) {
    if (k.info.path == path) return &k;
  }
  return nullptr;
}

/// Whether `path` is a section (a prefix of some key path).
template <class Root>
bool is_section(std::span<const KeyDef<Root>> keys, std::string_view path) {
  for (const auto& k : keys) {
    std::string_view p = k.info.path;
    if (p.size() > path.size() && p.starts_with(path) && p[path.size()] == '.') return true;
  }
  return false;
}

/// Validates one mapping against the table: leaves are parsed by their row, sections recursed
/// into, anything else is an unknown key. `ignored` top-level keys are skipped (the caller
/// handles them, e.g. an admin request's "campaign").
template <class Root>
void walk(const YAML::Node& map, const Field& at, std::span<const KeyDef<Root>> keys, Root& root,
          ParseContext& ctx, const std::set<std::string, std::less<>>& ignored = {}) {
  const std::string& prefix = at.path;
  for_each_entry(map, at, ctx,
                 [&](const std::string& name, const YAML::Node& key, const YAML::Node& value,
                     const Field& field) {
                   if (prefix.empty() && ignored.contains(name)) return;
                   if (const KeyDef<Root>* def = find_key(keys, field.path)) {
                     ctx.mark_set(field.path, field.mark);
                     def->parse(def->info, value, field, root, ctx);
                   } else if (is_section(keys, field.path)) {
                     ctx.mark_set(field.path, key.Mark());
                     if (value.IsMap()) {
                       walk(value, field, keys, root, ctx);
                     } else if (!value.IsNull()) {  // "admin:" with nothing under it is empty
                       ctx.error(field, "expected a mapping of keys, got " + describe(value));
                     }
                   } else {
                     std::string hint = suggest_key(key_paths(keys), field.path);
                     ctx.error(
                         key.Mark(), field.path,
                         "unknown key" + (hint.empty() ? "" : " (did you mean " + hint + "?)"));
                   }
                 });
}

/// Applies every row's default text to `root`. A default that does not validate is a bug in
/// the table: std::logic_error.
template <class Root>
void apply_table_defaults(std::span<const KeyDef<Root>> keys, Root& root) {
  for (const auto& k : keys) {
    if (k.info.default_text.empty()) continue;
    ParseContext ctx("<defaults>");
    YAML::Node node = YAML::Load(std::string(k.info.default_text));
    k.parse(k.info, node, Field{std::string(k.info.path), node.Mark()}, root, ctx);
    if (ctx.has_errors()) {
      throw std::logic_error("bad default in key table: " + format_diagnostics(ctx.take()));
    }
  }
}

/// Every key as nested JSON objects ("a.b.c" → {"a": {"b": {"c": …}}}).
template <class Root>
boost::json::object to_json_tree(std::span<const KeyDef<Root>> keys, const Root& root) {
  boost::json::object out;
  for (const auto& k : keys) {
    boost::json::object* obj = &out;
    std::string_view path = k.info.path;
    std::size_t dot = 0;
    while ((dot = path.find('.')) != std::string_view::npos) {
      boost::json::value& v = (*obj)[path.substr(0, dot)];
      if (!v.is_object()) v = boost::json::object{};
      obj = &v.as_object();
      path.remove_prefix(dot + 1);
    }
    (*obj)[path] = k.to_json(root);
  }
  return out;
}

/// The paths whose values differ.
template <class Root>
std::vector<std::string> changed_keys(std::span<const KeyDef<Root>> keys, const Root& a,
                                      const Root& b) {
  std::vector<std::string> out;
  for (const auto& k : keys) {
    if (!k.equal(a, b)) out.emplace_back(k.info.path);
  }
  return out;
}

/// Cross-field checks of a window (start < end, margin inside it, at least one day), reported at
/// `prefix`.start/.end/.end_margin/.days where the document set them.
void check_window(const Window& window, std::string_view prefix, const YAML::Mark& fallback,
                  ParseContext& ctx);

/// Loads YAML text; a syntax error becomes a positioned diagnostic and nullopt.
std::optional<YAML::Node> load_yaml(std::string_view text, ParseContext& ctx);

template <class Fn>
bool for_each_entry(const YAML::Node& node, const Field& field, ParseContext& ctx, Fn&& fn) {
  if (!node.IsMap()) {
    ctx.error(field, "expected a mapping, got " + describe(node));
    return false;
  }
  std::set<std::string, std::less<>> seen;
  for (auto it = node.begin(); it != node.end(); ++it) {
    // Copies: yaml-cpp's iterator hands out a proxy that dies with the full expression.
    const YAML::Node key = it->first;
    const YAML::Node value = it->second;
    if (!key.IsScalar()) {
      ctx.error(key.Mark(), field.path, "keys must be strings, got " + describe(key));
      continue;
    }
    std::string name = key.Scalar();
    std::string path = field.path.empty() ? name : field.path + "." + name;
    if (!seen.insert(name).second) {
      ctx.error(key.Mark(), path, "duplicate key");
      continue;
    }
    // yaml-cpp places a null value ("key:" with nothing after it) on the next line; point at
    // the key instead.
    YAML::Mark mark = value.IsNull() || value.Mark().is_null() ? key.Mark() : value.Mark();
    fn(name, key, value, Field{path, mark});
  }
  return true;
}

}  // namespace dialer::config::detail
