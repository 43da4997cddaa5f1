#include "daemon/admin_args.hpp"

#include <boost/json/value_to.hpp>

#include <algorithm>

namespace dialer::daemon {

namespace json = boost::json;
using admin::Response;

std::optional<std::string> unknown_argument(const json::object& args,
                                            std::initializer_list<std::string_view> allowed,
                                            ListAllowed list) {
  for (const auto& m : args) {
    if (std::find(allowed.begin(), allowed.end(), m.key()) != allowed.end()) continue;
    std::string text = "unknown argument '" + std::string(m.key()) + "'";
    if (list == ListAllowed::yes) {
      std::string names;
      for (const auto a : allowed) names += (names.empty() ? "" : ", ") + std::string(a);
      text += " (" + names + ")";
    }
    return text;
  }
  return std::nullopt;
}

std::optional<std::string> no_arguments(const json::object& args, std::string_view command) {
  if (args.empty()) return std::nullopt;
  return std::string(command) + " takes no arguments";
}

Result<std::optional<std::string>> opt_string(const json::object& args, std::string_view key) {
  const auto* v = args.if_contains(key);
  if (v == nullptr || v->is_null()) return std::optional<std::string>{};
  const auto* s = v->if_string();
  if (s == nullptr) {
    return Error{errc::invalid_argument, "argument '" + std::string(key) + "' must be a string"};
  }
  return std::optional<std::string>{std::string(*s)};
}

Result<std::string> req_string(const json::object& args, std::string_view key) {
  auto s = opt_string(args, key);
  if (!s) return s.error();
  if (!*s || (*s)->empty()) {
    return Error{errc::invalid_argument, "argument '" + std::string(key) + "' is required"};
  }
  return std::move(**s);
}

Result<bool> opt_bool(const json::object& args, std::string_view key, bool fallback) {
  const auto* v = args.if_contains(key);
  if (v == nullptr || v->is_null()) return fallback;
  const auto* b = v->if_bool();
  if (b == nullptr) {
    return Error{errc::invalid_argument,
                 "argument '" + std::string(key) + "' must be true or false"};
  }
  return *b;
}

Result<std::int64_t> opt_int(const json::object& args, std::string_view key, std::int64_t fallback,
                             std::int64_t min, std::int64_t max) {
  const auto* v = args.if_contains(key);
  if (v == nullptr || v->is_null()) return fallback;
  // Any number with an exact int64 value: 7, 7.0 (not 7.5, NaN or beyond int64's range).
  const auto n = json::try_value_to<std::int64_t>(*v);
  if (!n || *n < min || *n > max) {
    return Error{errc::invalid_argument, "argument '" + std::string(key) +
                                             "' must be an integer from " + std::to_string(min) +
                                             " to " + std::to_string(max)};
  }
  return *n;
}

Result<std::int64_t> opt_strict_int(const json::object& args, std::string_view key,
                                    std::int64_t fallback, std::int64_t min, std::int64_t max) {
  const auto* v = args.if_contains(key);
  if (v == nullptr) return fallback;
  const auto* n = v->if_int64();
  if (n == nullptr || *n < min || *n > max) {
    return Error{errc::invalid_argument, "argument '" + std::string(key) + "': an integer from " +
                                             std::to_string(min) + " to " + std::to_string(max)};
  }
  return *n;
}

Response bad(const Error& e) {
  return Response::error(e.message);
}

Response no_campaign(std::string_view name, bool /*lookup*/) {
  return Response::empty("no campaign named '" + std::string(name) + "'");
}

Response from_scheduler_error(const Error& e, std::string_view campaign, bool lookup) {
  if (e.code == make_error_code(errc::not_found)) return no_campaign(campaign, lookup);
  if (e.code == make_error_code(errc::conflict) ||
      e.code == make_error_code(errc::invalid_transition) ||
      e.code == make_error_code(errc::duplicate)) {
    return Response::conflict(e.message);
  }
  return Response::error(e.message);
}

}  // namespace dialer::daemon
