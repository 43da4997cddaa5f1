#pragma once
/// Reading admin command arguments (a JSON object) and the answers every command module gives
/// for bad arguments and unknown campaigns: result 1 for bad input, 3 for nothing found, 4 for
/// a conflict (CONTRACT.md "Admin socket protocol").

#include "api/admin/protocol.hpp"
#include "core/errc.hpp"

#include <boost/json/object.hpp>

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

namespace dialer::daemon {

/// Rows a list command returns at most per request, and when `limit` is not given.
inline constexpr std::int64_t kMaxListLimit = 10'000;
inline constexpr std::int64_t kDefaultListLimit = 100;

/// Whether unknown_argument names the allowed arguments in its text.
enum class ListAllowed { no, yes };

/// Unknown arguments are refused, naming them (a typo must not pass silently): "unknown argument
/// 'x'", with ListAllowed::yes followed by " (a, b, c)".
std::optional<std::string> unknown_argument(const boost::json::object& args,
                                            std::initializer_list<std::string_view> allowed,
                                            ListAllowed list = ListAllowed::no);

/// The text for a command that takes no arguments but got some: "<command> takes no arguments".
std::optional<std::string> no_arguments(const boost::json::object& args, std::string_view command);

/// A string argument; nullopt when absent or null.
Result<std::optional<std::string>> opt_string(const boost::json::object& args,
                                              std::string_view key);
/// A string argument that must be present and non-empty.
Result<std::string> req_string(const boost::json::object& args, std::string_view key);
/// A true/false argument; `fallback` when absent or null.
Result<bool> opt_bool(const boost::json::object& args, std::string_view key, bool fallback);
/// A number argument with an integral value (7 or 7.0) in [min, max]; `fallback` when absent or
/// null.
Result<std::int64_t> opt_int(const boost::json::object& args, std::string_view key,
                             std::int64_t fallback, std::int64_t min, std::int64_t max);
/// A JSON integer argument (not 7.0, not null) in [min, max]; `fallback` when absent. Its text
/// is campaign-forecast's: "argument 'key': an integer from min to max".
Result<std::int64_t> opt_strict_int(const boost::json::object& args, std::string_view key,
                                    std::int64_t fallback, std::int64_t min, std::int64_t max);

/// The result-1 answer for a failed argument check.
admin::Response bad(const Error& e);

/// The answer for an unknown campaign: 3 ("nothing found") whatever the command (CONTRACT.md).
/// `lookup` is kept by the callers' signatures only.
admin::Response no_campaign(std::string_view name, bool lookup);

/// Scheduler errors: conflicts and refused transitions are 4, bad input 1, unknown campaign per
/// `lookup`.
admin::Response from_scheduler_error(const Error& e, std::string_view campaign, bool lookup);

}  // namespace dialer::daemon
