#include "config/values.hpp"

#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>
#include <date/tz.h>

#include <algorithm>
#include <arpa/inet.h>
#include <charconv>
#include <cstdio>
#include <optional>

namespace dialer::config {
namespace {

constexpr std::array<std::string_view, 7> kDayNames = {"mon", "tue", "wed", "thu",
                                                       "fri", "sat", "sun"};

Error invalid(std::string message) {
  return Error{errc::invalid_argument, std::move(message)};
}

bool all_digits(std::string_view s) noexcept {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool is_ipv4(const std::string& s) noexcept {
  in_addr a{};
  return ::inet_pton(AF_INET, s.c_str(), &a) == 1;
}

bool is_ipv6(const std::string& s) noexcept {
  in6_addr a{};
  return ::inet_pton(AF_INET6, s.c_str(), &a) == 1;
}

// RFC 1123 host name: dot-separated labels of letters, digits and '-', 1–63 characters each,
// not starting or ending with '-', 253 characters in all. A trailing dot is not accepted.
bool is_host_name(std::string_view s) noexcept {
  if (s.empty() || s.size() > 253) return false;
  std::size_t start = 0;
  while (true) {
    std::size_t dot = s.find('.', start);
    std::string_view label = s.substr(start, dot == std::string_view::npos ? s.npos : dot - start);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') {
      return false;
    }
    for (char c : label) {
      bool ok =
          (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
      if (!ok) return false;
    }
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

std::optional<int> day_index(std::string_view name) noexcept {
  for (std::size_t i = 0; i < kDayNames.size(); ++i) {
    if (kDayNames[i] == name) return static_cast<int>(i);
  }
  return std::nullopt;
}

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::string quote_value(std::string_view s) {
  std::string out = "\"";
  out.append(s.substr(0, 64));
  if (s.size() > 64) out += "…";
  out += '"';
  return out;
}

}  // namespace

std::string HostPort::to_string() const {
  std::string out = is_ipv6() ? "[" + host + "]" : host;
  out += ':';
  out += std::to_string(port);
  return out;
}

bool HostPort::is_ipv6() const noexcept {
  return host.find(':') != std::string::npos;
}

Result<HostPort> parse_host_port(std::string_view text) {
  const std::string hint = " (expected host:port, e.g. 127.0.0.1:8080, [::1]:8080, localhost:8080)";
  std::string host;
  std::string_view port_text;
  if (!text.empty() && text.front() == '[') {
    std::size_t close = text.find(']');
    if (close == std::string_view::npos)
      return invalid("missing ']' in " + quote_value(text) + hint);
    host = std::string(text.substr(1, close - 1));
    if (!is_ipv6(host)) return invalid("invalid IPv6 address " + quote_value(host) + hint);
    std::string_view rest = text.substr(close + 1);
    if (rest.empty() || rest.front() != ':')
      return invalid("missing port in " + quote_value(text) + hint);
    port_text = rest.substr(1);
  } else {
    std::size_t colon = text.rfind(':');
    if (colon == std::string_view::npos)
      return invalid("missing port in " + quote_value(text) + hint);
    host = std::string(text.substr(0, colon));
    port_text = text.substr(colon + 1);
    if (host.empty()) {
      return invalid("missing host in " + quote_value(text) +
                     " (use 0.0.0.0 or [::] for every address)");
    }
    if (host.find(':') != std::string::npos) {
      return invalid("an IPv6 address must be in brackets, e.g. [::1]:8080, in " +
                     quote_value(text));
    }
    // Only digits and dots would be a host name nobody can register: it is a broken IPv4 address.
    bool numeric = std::all_of(host.begin(), host.end(),
                               [](char c) { return (c >= '0' && c <= '9') || c == '.'; });
    if (numeric ? !is_ipv4(host) : !is_host_name(host)) {
      return invalid(std::string(numeric ? "invalid IPv4 address " : "invalid host name ") +
                     quote_value(host) + hint);
    }
  }
  if (!all_digits(port_text) || port_text.size() > 5) {
    return invalid("invalid port " + quote_value(port_text) + " (expected 0 to 65535)");
  }
  unsigned port = 0;
  std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (port > 65535) return invalid("port " + std::string(port_text) + " out of range 0 to 65535");
  return HostPort{std::move(host), static_cast<std::uint16_t>(port)};
}

Result<std::chrono::minutes> parse_time_of_day(std::string_view text) {
  auto bad = [&] {
    return invalid("invalid time " + quote_value(text) + " (expected HH:MM, 00:00 to 24:00)");
  };
  if (text.size() != 5 || text[2] != ':' || !all_digits(text.substr(0, 2)) ||
      !all_digits(text.substr(3, 2))) {
    return bad();
  }
  int h = (text[0] - '0') * 10 + (text[1] - '0');
  int m = (text[3] - '0') * 10 + (text[4] - '0');
  if (h > 24 || m > 59 || (h == 24 && m != 0)) return bad();
  return std::chrono::minutes{h * 60 + m};
}

std::string format_time_of_day(std::chrono::minutes t) {
  char buf[16];
  auto total = t.count();
  std::snprintf(buf, sizeof buf, "%02d:%02d", static_cast<int>(total / 60),
                static_cast<int>(total % 60));
  return buf;
}

Result<WeekDays> add_days(std::string_view item, WeekDays days) {
  item = trim(item);
  const std::string hint = " (expected mon, tue, wed, thu, fri, sat, sun or a range like mon-fri)";
  std::size_t dash = item.find('-');
  std::string_view first = item.substr(0, dash);
  auto from = day_index(first);
  if (!from) return invalid("invalid day " + quote_value(first) + hint);
  int to = *from;
  if (dash != std::string_view::npos) {
    std::string_view last = item.substr(dash + 1);
    auto end = day_index(last);
    if (!end) return invalid("invalid day " + quote_value(last) + hint);
    to = *end;
  }
  // A range wraps around the week: fri-mon is fri, sat, sun, mon.
  for (int i = *from;; i = (i + 1) % 7) {
    days[static_cast<std::size_t>(i)] = true;
    if (i == to) break;
  }
  return days;
}

Result<WeekDays> parse_days(std::string_view text) {
  WeekDays days{};
  if (trim(text).empty()) return invalid("no days given (e.g. mon-fri or mon,wed,fri)");
  std::size_t start = 0;
  while (true) {
    std::size_t comma = text.find(',', start);
    auto r = add_days(text.substr(start, comma == text.npos ? text.npos : comma - start), days);
    if (!r) return r.error();
    days = *r;
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return days;
}

std::vector<std::string> format_days(const WeekDays& days) {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < days.size(); ++i) {
    if (days[i]) out.emplace_back(kDayNames[i]);
  }
  return out;
}

std::string_view day_name(std::size_t index) noexcept {
  return index < kDayNames.size() ? kDayNames[index] : std::string_view{};
}

Result<std::chrono::year_month_day> parse_date(std::string_view text) {
  auto bad = [&] {
    return invalid("invalid date " + quote_value(text) + " (expected YYYY-MM-DD)");
  };
  if (text.size() != 10 || text[4] != '-' || text[7] != '-' || !all_digits(text.substr(0, 4)) ||
      !all_digits(text.substr(5, 2)) || !all_digits(text.substr(8, 2))) {
    return bad();
  }
  int y = 0;
  unsigned m = 0, d = 0;
  std::from_chars(text.data(), text.data() + 4, y);
  std::from_chars(text.data() + 5, text.data() + 7, m);
  std::from_chars(text.data() + 8, text.data() + 10, d);
  std::chrono::year_month_day ymd{std::chrono::year{y}, std::chrono::month{m}, std::chrono::day{d}};
  if (!ymd.ok()) return invalid("no such date " + quote_value(text));
  return ymd;
}

std::string format_date(std::chrono::year_month_day d) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", static_cast<int>(d.year()),
                static_cast<unsigned>(d.month()), static_cast<unsigned>(d.day()));
  return buf;
}

bool is_valid_timezone(std::string_view name) {
  if (name.empty()) return false;
  try {
    (void)date::locate_zone(std::string(name));
    return true;
  } catch (const std::exception&) {
    // locate_zone throws std::runtime_error for an unknown name (and when tzdb cannot be read,
    // in which case no zone can be used anyway).
    return false;
  }
}

Result<unsigned> parse_file_mode(std::string_view text) {
  bool octal = (text.size() == 3 || text.size() == 4) &&
               std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '7'; });
  if (!octal || (text.size() == 4 && text[0] != '0')) {
    return invalid("invalid file mode " + quote_value(text) + " (expected octal like \"0660\")");
  }
  unsigned mode = 0;
  std::from_chars(text.data(), text.data() + text.size(), mode, 8);
  return mode;
}

std::string format_file_mode(unsigned mode) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04o", mode);
  return buf;
}

bool is_json_pointer(std::string_view text) noexcept {
  if (text.empty()) return true;
  if (text.front() != '/') return false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '~' && (i + 1 >= text.size() || (text[i + 1] != '0' && text[i + 1] != '1'))) {
      return false;
    }
  }
  return true;
}

Result<std::string> parse_base_url(std::string_view text) {
  auto r = boost::urls::parse_absolute_uri(text);
  if (!r)
    return invalid("invalid URL " + quote_value(text) + " (expected e.g. https://host/api/v2)");
  const boost::urls::url_view& u = *r;
  if (u.scheme_id() != boost::urls::scheme::http && u.scheme_id() != boost::urls::scheme::https) {
    return invalid("URL " + quote_value(text) + " must start with http:// or https://");
  }
  if (!u.has_authority() || u.encoded_host().empty())
    return invalid("URL " + quote_value(text) + " has no host");
  if (u.has_userinfo()) {
    // Credentials belong in api_key, where they are redacted; a URL is printed freely.
    return invalid("URL must not contain user information (put the key in vocobase.api_key)");
  }
  if (u.has_query() || u.has_fragment())
    return invalid("URL " + quote_value(text) + " must not have a query or fragment");
  return std::string(text);
}

Result<std::string> parse_url_path(std::string_view text) {
  if (text.empty() || text.front() != '/')
    return invalid("path " + quote_value(text) + " must start with '/'");
  auto r = boost::urls::parse_origin_form(text);
  if (!r) return invalid("invalid URL path " + quote_value(text));
  if (r->has_query()) return invalid("path " + quote_value(text) + " must not have a query");
  return std::string(text);
}

}  // namespace dialer::config
