#pragma once
/// Parsers for the value spellings of the config file and campaign fields, free of YAML and of
/// positions (the callers add those). Each returns the value or an Error whose message says what
/// is wrong with the text, so the same words appear in the config file, `dialerctl` flags and
/// admin requests.

#include "core/errc.hpp"

#include <array>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace dialer::config {

/// A listen address: IPv4, IPv6 (bracketed in text) or a host name, and a port (0 = any).
struct HostPort {
  std::string host;  ///< without brackets
  std::uint16_t port = 0;

  /// "127.0.0.1:8080", "[::1]:8080", "localhost:0".
  [[nodiscard]] std::string to_string() const;
  /// True when `host` is an IPv6 literal (printed in brackets).
  [[nodiscard]] bool is_ipv6() const noexcept;

  bool operator==(const HostPort&) const = default;
};

/// `host:port` with host an IPv4 address, `[IPv6]` or an RFC 1123 host name; port 0–65535.
Result<HostPort> parse_host_port(std::string_view text);

/// "HH:MM", 00:00 to 24:00 (24:00 = end of day, for window ends).
Result<std::chrono::minutes> parse_time_of_day(std::string_view text);
/// Minutes since midnight as "HH:MM".
std::string format_time_of_day(std::chrono::minutes t);

/// Week days, index 0 = Monday (as dialer::Window).
using WeekDays = std::array<bool, 7>;
/// "mon", "mon-sat", "mon-fri,sun", "fri-mon" (ranges wrap around the week). Lower-case
/// three-letter names.
Result<WeekDays> parse_days(std::string_view text);
/// Adds the days named by one item ("tue" or "mon-fri") to `days`.
Result<WeekDays> add_days(std::string_view item, WeekDays days);
/// ["mon", "tue", …] in week order.
std::vector<std::string> format_days(const WeekDays& days);
/// "mon".."sun" for index 0..6.
std::string_view day_name(std::size_t index) noexcept;

/// "YYYY-MM-DD", a real calendar date.
Result<std::chrono::year_month_day> parse_date(std::string_view text);
std::string format_date(std::chrono::year_month_day d);

/// True when tzdb (date::locate_zone, the system's zoneinfo) knows the IANA zone name.
bool is_valid_timezone(std::string_view name);

/// Permission bits in octal text: "0660", "660", "0600". At most 0777.
Result<unsigned> parse_file_mode(std::string_view text);
/// The 4-digit octal spelling, "0660".
std::string format_file_mode(unsigned mode);

/// RFC 6901 syntax: "" or "/a/b", with `~` only as `~0` or `~1`.
bool is_json_pointer(std::string_view text) noexcept;

/// An absolute http:// or https:// URL with a host and no query or fragment (Boost.URL).
Result<std::string> parse_base_url(std::string_view text);

/// An HTTP path for a route: starts with '/', valid URL path characters, no query or fragment.
Result<std::string> parse_url_path(std::string_view text);

}  // namespace dialer::config
