#include "core/time.hpp"

#include <charconv>
#include <cstdio>
#include <limits>

namespace dialer {
namespace {

bool parse_int(std::string_view s, int& out) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc{} && p == s.data() + s.size();
}

}  // namespace

std::optional<Millis> parse_duration(std::string_view text) noexcept {
  if (text == "0") return Millis{0};
  if (text.empty()) return std::nullopt;
  std::int64_t total = 0;
  std::size_t i = 0;
  while (i < text.size()) {
    std::size_t start = i;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i;
    if (i == start || i - start > 12) return std::nullopt;
    std::int64_t n = 0;
    std::from_chars(text.data() + start, text.data() + i, n);
    std::size_t ustart = i;
    while (i < text.size() && text[i] >= 'a' && text[i] <= 'z') ++i;
    std::string_view unit = text.substr(ustart, i - ustart);
    std::int64_t scale = 0;
    if (unit == "ms")
      scale = 1;
    else if (unit == "s")
      scale = 1000;
    else if (unit == "m")
      scale = 60'000;
    else if (unit == "h")
      scale = 3'600'000;
    else if (unit == "d")
      scale = 86'400'000;
    else
      return std::nullopt;
    if (n > std::numeric_limits<std::int64_t>::max() / scale - total / scale - 1)
      return std::nullopt;
    total += n * scale;
  }
  return Millis{total};
}

std::string format_duration(Millis d) {
  std::int64_t ms = d.count();
  if (ms == 0) return "0s";
  std::string out;
  if (ms < 0) {
    out = "-";
    ms = -ms;
  }
  struct Unit {
    std::int64_t scale;
    const char* name;
  };
  static constexpr Unit units[] = {
      {86'400'000, "d"}, {3'600'000, "h"}, {60'000, "m"}, {1000, "s"}, {1, "ms"}};
  for (const auto& u : units) {
    if (ms >= u.scale) {
      out += std::to_string(ms / u.scale);
      out += u.name;
      ms %= u.scale;
    }
  }
  return out;
}

std::string format_iso8601(TimePoint t) {
  using namespace std::chrono;
  auto day = floor<days>(t);
  year_month_day ymd{day};
  hh_mm_ss<Millis> hms{t - day};
  char buf[40];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ",
                static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                static_cast<unsigned>(ymd.day()), static_cast<int>(hms.hours().count()),
                static_cast<int>(hms.minutes().count()), static_cast<int>(hms.seconds().count()),
                static_cast<int>(hms.subseconds().count()));
  return buf;
}

std::optional<TimePoint> parse_iso8601(std::string_view s) noexcept {
  using namespace std::chrono;
  // YYYY-MM-DDTHH:MM:SS
  if (s.size() < 19 || s[4] != '-' || s[7] != '-' ||
      (s[10] != 'T' && s[10] != ' ' && s[10] != 't') || s[13] != ':' || s[16] != ':')
    return std::nullopt;
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, se = 0;
  if (!parse_int(s.substr(0, 4), y) || !parse_int(s.substr(5, 2), mo) ||
      !parse_int(s.substr(8, 2), d) || !parse_int(s.substr(11, 2), h) ||
      !parse_int(s.substr(14, 2), mi) || !parse_int(s.substr(17, 2), se))
    return std::nullopt;
  year_month_day ymd{year{y}, month{static_cast<unsigned>(mo)}, day{static_cast<unsigned>(d)}};
  if (!ymd.ok() || h > 23 || mi > 59 || se > 60) return std::nullopt;
  std::size_t i = 19;
  std::int64_t ms = 0;
  if (i < s.size() && s[i] == '.') {
    ++i;
    std::size_t start = i;
    int digits = 0;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
      if (digits < 3) {
        ms = ms * 10 + (s[i] - '0');
        ++digits;
      }
      ++i;
    }
    if (i == start) return std::nullopt;
    while (digits < 3) {
      ms *= 10;
      ++digits;
    }
  }
  std::int64_t offset_min = 0;
  if (i >= s.size()) return std::nullopt;  // a zone is required
  if (s[i] == 'Z' || s[i] == 'z') {
    ++i;
  } else if (s[i] == '+' || s[i] == '-') {
    int sign = s[i] == '-' ? -1 : 1;
    ++i;
    int oh = 0, om = 0;
    std::string_view rest = s.substr(i);
    if (rest.size() == 5 && rest[2] == ':') {
      if (!parse_int(rest.substr(0, 2), oh) || !parse_int(rest.substr(3, 2), om))
        return std::nullopt;
    } else if (rest.size() == 4) {
      if (!parse_int(rest.substr(0, 2), oh) || !parse_int(rest.substr(2, 2), om))
        return std::nullopt;
    } else if (rest.size() == 2) {
      if (!parse_int(rest, oh)) return std::nullopt;
    } else {
      return std::nullopt;
    }
    if (oh > 23 || om > 59) return std::nullopt;
    offset_min = sign * (oh * 60 + om);
    i = s.size();
  } else {
    return std::nullopt;
  }
  if (i != s.size()) return std::nullopt;
  auto tp = sys_days{ymd} + hours{h} + minutes{mi} + seconds{se} + Millis{ms} - minutes{offset_min};
  return time_point_cast<Millis>(tp);
}

}  // namespace dialer
