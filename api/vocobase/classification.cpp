#include "api/vocobase/classification.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <chrono>
#include <stdexcept>

namespace dialer::api {
namespace {

bool icontains(std::string_view haystack, std::string_view needle) {
  auto it = std::search(haystack.begin(), haystack.end(), needle.begin(), needle.end(),
                        [](char a, char b) {
                          return std::tolower(static_cast<unsigned char>(a)) ==
                                 std::tolower(static_cast<unsigned char>(b));
                        });
  return it != haystack.end();
}

bool about_to_number(std::string_view message) {
  return icontains(message, "to_number") || icontains(message, "to number");
}

}  // namespace

std::string_view to_string(Verdict v) noexcept {
  switch (v) {
    case Verdict::ok:
      return "ok";
    case Verdict::rejected:
      return "rejected";
    case Verdict::ambiguous:
      return "ambiguous";
    case Verdict::not_sent:
      return "not_sent";
  }
  return "unknown";
}

std::string_view to_string(Reason r) noexcept {
  switch (r) {
    case Reason::none:
      return "none";
    case Reason::rate:
      return "rate";
    case Reason::concurrency:
      return "concurrency";
    case Reason::credits:
      return "credits";
    case Reason::provider:
      return "provider";
    case Reason::account:
      return "account";
    case Reason::auth:
      return "auth";
    case Reason::bad_number:
      return "bad_number";
    case Reason::not_found:
      return "not_found";
    case Reason::validation:
      return "validation";
    case Reason::conflict:
      return "conflict";
    case Reason::client_error:
      return "client_error";
    case Reason::server_error:
      return "server_error";
    case Reason::timeout_after_write:
      return "timeout_after_write";
    case Reason::connection_lost:
      return "connection_lost";
    case Reason::bad_response:
      return "bad_response";
    case Reason::connect_failed:
      return "connect_failed";
    case Reason::timeout_before_write:
      return "timeout_before_write";
    case Reason::write_failed:
      return "write_failed";
    case Reason::queue_full:
      return "queue_full";
    case Reason::queue_timeout:
      return "queue_timeout";
    case Reason::cancelled:
      return "cancelled";
  }
  return "unknown";
}

Verdict verdict_of(Reason r) noexcept {
  switch (r) {
    case Reason::none:
      return Verdict::ok;
    case Reason::rate:
    case Reason::concurrency:
    case Reason::credits:
    case Reason::provider:
    case Reason::account:
    case Reason::auth:
    case Reason::bad_number:
    case Reason::not_found:
    case Reason::validation:
    case Reason::conflict:
    case Reason::client_error:
      return Verdict::rejected;
    case Reason::server_error:
    case Reason::timeout_after_write:
    case Reason::connection_lost:
    case Reason::bad_response:
      return Verdict::ambiguous;
    case Reason::connect_failed:
    case Reason::timeout_before_write:
    case Reason::write_failed:
    case Reason::queue_full:
    case Reason::queue_timeout:
    case Reason::cancelled:
      return Verdict::not_sent;
  }
  return Verdict::ambiguous;
}

std::string ApiError::describe() const {
  std::string out{to_string(verdict)};
  out += '/';
  out += to_string(reason);
  if (http_status != 0 || !api_code.empty()) {
    out += " (";
    if (http_status != 0) out += std::to_string(http_status);
    if (http_status != 0 && !api_code.empty()) out += ' ';
    out += api_code;
    out += ')';
  }
  if (!message.empty()) {
    out += ": ";
    out += message;
  }
  return out;
}

void throw_exception_from_error(const ApiError& e, const boost::source_location&) {
  throw std::runtime_error(e.describe());
}

ApiError classify_http_error(int status, std::string_view api_code, std::string_view message,
                             std::optional<Millis> retry_after) {
  Reason reason = Reason::bad_response;
  if (status == 400) {
    reason = about_to_number(message) ? Reason::bad_number : Reason::validation;
  } else if (status == 401) {
    reason = Reason::auth;
  } else if (status == 403) {
    if (icontains(message, "credit") || icontains(message, "balance")) {
      reason = Reason::credits;
    } else if (icontains(message, "provider") || icontains(message, "not enabled")) {
      reason = Reason::provider;
    } else {
      reason = Reason::account;
    }
  } else if (status == 404) {
    reason = about_to_number(message) ? Reason::bad_number : Reason::not_found;
  } else if (status == 409) {
    reason = Reason::conflict;
  } else if (status == 429) {
    reason = icontains(message, "concurren") ? Reason::concurrency : Reason::rate;
  } else if (status >= 400 && status < 500) {
    reason = Reason::client_error;
  } else if (status >= 500 && status < 600) {
    reason = Reason::server_error;
  }
  // 1xx/3xx and anything else: the request was written and the answer says nothing definitive,
  // so it stays ambiguous (bad_response).
  ApiError e(reason, std::string(message), status);
  if (e.message.empty()) e.message = "HTTP " + std::to_string(status);
  e.api_code = std::string(api_code);
  e.retry_after = retry_after;
  return e;
}

void parse_error_envelope(std::string_view body, std::string& code, std::string& message) {
  code.clear();
  message.clear();
  boost::system::error_code ec;
  boost::json::parse_options opts;
  opts.max_depth = 32;
  boost::json::value v = boost::json::parse(body, ec, {}, opts);
  if (ec || !v.is_object()) return;
  const auto* err = v.as_object().if_contains("error");
  if (err == nullptr) return;
  if (err->is_string()) {
    // Some proxies answer {"error": "text"}.
    message = std::string(err->as_string());
    return;
  }
  if (!err->is_object()) return;
  if (const auto* c = err->as_object().if_contains("code"); c && c->is_string()) {
    code = std::string(c->as_string());
  }
  if (const auto* m = err->as_object().if_contains("message"); m && m->is_string()) {
    message = std::string(m->as_string());
  }
}

std::optional<Millis> parse_retry_after(std::string_view value, TimePoint now) {
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
  if (value.empty()) return std::nullopt;
  if (std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    std::int64_t seconds = 0;
    auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
    if (ec != std::errc{} || p != value.data() + value.size()) return std::nullopt;
    // A day is far beyond any sane Retry-After; clamp rather than overflow.
    return Millis{std::min<std::int64_t>(seconds, 86'400) * 1000};
  }
  // IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT".
  if (value.size() != 29 || value.substr(25) != " GMT" || value[3] != ',') return std::nullopt;
  static constexpr std::array<std::string_view, 12> months{
      "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  auto num = [&](std::size_t pos, std::size_t len, int& out) {
    std::string_view s = value.substr(pos, len);
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return ec == std::errc{} && p == s.data() + s.size();
  };
  int day = 0, year = 0, hh = 0, mm = 0, ss = 0;
  if (!num(5, 2, day) || !num(12, 4, year) || !num(17, 2, hh) || !num(20, 2, mm) ||
      !num(23, 2, ss) || value[19] != ':' || value[22] != ':') {
    return std::nullopt;
  }
  auto mit = std::find(months.begin(), months.end(), value.substr(8, 3));
  if (mit == months.end()) return std::nullopt;
  using namespace std::chrono;
  const year_month_day ymd{std::chrono::year{year},
                           std::chrono::month{static_cast<unsigned>(mit - months.begin() + 1)},
                           std::chrono::day{static_cast<unsigned>(day)}};
  if (!ymd.ok() || hh > 23 || mm > 59 || ss > 60) return std::nullopt;
  const TimePoint at =
      time_point_cast<Millis>(sys_days{ymd} + hours{hh} + minutes{mm} + seconds{ss});
  if (at <= now) return Millis{0};
  return std::min<Millis>(duration_cast<Millis>(at - now), Millis{86'400'000});
}

}  // namespace dialer::api
