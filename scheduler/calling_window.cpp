#include "scheduler/calling_window.hpp"

#include <algorithm>
#include <charconv>
#include <exception>

namespace dialer::scheduler {
namespace {

using Seconds = std::chrono::seconds;

/// A tz segment end as a TimePoint, no later than `cap`. Zones without further transitions end
/// their last segment in the year 32767; comparing in seconds keeps that from overflowing.
TimePoint clamp_to(date::sys_seconds s, TimePoint cap) {
  if (s >= date::floor<Seconds>(cap)) return cap;
  return TimePoint{s};
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

Result<Zone> locate_zone(std::string_view name) {
  if (!name.empty()) {
    try {
      return date::locate_zone(name);
    } catch (const std::exception&) {
      // date reports an unknown name by throwing; here it is an ordinary invalid input.
    }
  }
  return Error{errc::invalid_argument, "unknown time zone \"" + std::string{name} + "\""};
}

std::vector<std::string> split_zone_list(std::string_view joined) {
  std::vector<std::string> out;
  while (!joined.empty()) {
    auto comma = joined.find(',');
    auto part = trim(joined.substr(0, comma));
    if (!part.empty()) out.emplace_back(part);
    if (comma == std::string_view::npos) break;
    joined.remove_prefix(comma + 1);
  }
  return out;
}

Result<Zone> ZoneCache::locate(std::string_view name) {
  if (auto it = zones_.find(std::string{name}); it != zones_.end()) return it->second;
  auto z = scheduler::locate_zone(name);
  if (z) zones_.emplace(std::string{name}, *z);
  return z;
}

Result<std::vector<Zone>> ZoneCache::locate_all(std::span<const std::string> names,
                                                std::string_view campaign_zone) {
  std::vector<Zone> out;
  if (names.empty()) {
    auto z = locate(campaign_zone);
    if (!z) return z.error();
    out.push_back(*z);
    return out;
  }
  out.reserve(names.size());
  for (const auto& n : names) {
    auto z = locate(n);
    if (!z) return z.error();
    if (std::find(out.begin(), out.end(), *z) == out.end()) out.push_back(*z);
  }
  return out;
}

std::optional<TimePoint> parse_callback_time(std::string_view text, Zone zone) {
  if (auto t = parse_iso8601(text)) return t;
  // "YYYY-MM-DD HH:MM" (or with a T), local to the contact.
  if (zone == nullptr || text.size() != 16 || (text[10] != ' ' && text[10] != 'T') ||
      text[4] != '-' || text[7] != '-' || text[13] != ':') {
    return std::nullopt;
  }
  int y = 0;
  unsigned mo = 0;
  unsigned d = 0;
  int h = 0;
  int mi = 0;
  const auto num = [&](std::size_t at, std::size_t len, auto& out) {
    auto [p, ec] = std::from_chars(text.data() + at, text.data() + at + len, out);
    return ec == std::errc{} && p == text.data() + at + len;
  };
  if (!num(0, 4, y) || !num(5, 2, mo) || !num(8, 2, d) || !num(11, 2, h) || !num(14, 2, mi)) {
    return std::nullopt;
  }
  const date::year_month_day ymd{date::year{y}, date::month{mo}, date::day{d}};
  if (!ymd.ok() || h > 23 || mi > 59) return std::nullopt;
  const auto local = date::local_days{ymd} + std::chrono::hours{h} + std::chrono::minutes{mi};
  const auto sys = zone->to_sys(local, date::choose::earliest);
  return std::chrono::time_point_cast<Millis>(sys);
}

std::string format_local(TimePoint t, Zone zone) {
  return date::format("%FT%T%Ez", date::make_zoned(zone, date::floor<Seconds>(t)));
}

Result<CallingWindow> CallingWindow::create(const Window& window,
                                            std::span<const std::string> zones,
                                            std::string_view campaign_zone, ZoneCache& cache) {
  auto located = cache.locate_all(zones, campaign_zone);
  if (!located) return located.error();
  return CallingWindow{window, std::move(*located)};
}

CallingWindow::CallingWindow(const Window& window, std::vector<Zone> zones)
    : days_(window.days),
      open_(window.start),
      last_(Millis{window.end} - window.end_margin),
      zones_(std::move(zones)) {
  for (const auto& ymd : window.holidays) {
    if (ymd.ok()) holidays_.push_back(std::chrono::sys_days{ymd}.time_since_epoch().count());
  }
  std::sort(holidays_.begin(), holidays_.end());
  never_ = zones_.empty() || std::none_of(days_.begin(), days_.end(), [](bool d) { return d; }) ||
           open_ >= last_;
}

bool CallingWindow::day_allowed(date::local_days day) const {
  const unsigned iso = date::weekday{day}.iso_encoding();  // 1 = Monday … 7 = Sunday
  if (!days_[iso - 1]) return false;
  return !std::binary_search(holidays_.begin(), holidays_.end(),
                             static_cast<std::int64_t>(day.time_since_epoch().count()));
}

bool CallingWindow::local_allowed(LocalMs local) const {
  const auto day = date::floor<date::days>(local);
  const auto tod = local - day;
  return day_allowed(day) && tod >= open_ && tod < last_;
}

std::optional<CallingWindow::LocalMs> CallingWindow::earliest_local_open(
    LocalMs from, date::local_days last_day) const {
  auto day = date::floor<date::days>(from);
  const auto tod = from - day;
  if (day_allowed(day)) {
    if (tod < open_) return LocalMs{day} + open_;
    if (tod < last_) return from;
  }
  for (day += date::days{1}; day <= last_day; day += date::days{1}) {
    if (day_allowed(day)) return LocalMs{day} + open_;
  }
  return std::nullopt;
}

// Within one tz segment the offset is constant, so local time is sys time plus that offset and
// the window is a plain calendar question. Segment by segment, that handles DST gaps (an opening
// inside a skipped hour becomes the transition instant) and repeated hours exactly.
std::optional<TimePoint> CallingWindow::zone_next_open(Zone z, TimePoint t,
                                                       TimePoint horizon) const {
  while (t < horizon) {
    const auto info = z->get_info(t);
    const Millis off = info.offset;
    const TimePoint seg_end = clamp_to(info.end, horizon);
    const LocalMs local{t.time_since_epoch() + off};
    const auto last_day = date::floor<date::days>(LocalMs{horizon.time_since_epoch() + off});
    const auto open = earliest_local_open(local, last_day);
    if (!open) return std::nullopt;
    const TimePoint candidate{open->time_since_epoch() - off};
    if (candidate < seg_end) return candidate;
    t = seg_end;
  }
  return std::nullopt;
}

TimePoint CallingWindow::zone_next_close(Zone z, TimePoint t) const {
  const TimePoint horizon = t + kSearchHorizon;
  while (t < horizon) {
    const auto info = z->get_info(t);
    const Millis off = info.offset;
    const TimePoint seg_end = clamp_to(info.end, horizon);
    const LocalMs local{t.time_since_epoch() + off};
    if (!local_allowed(local)) return t;
    const TimePoint candidate{(date::floor<date::days>(local) + last_).time_since_epoch() - off};
    if (candidate < seg_end) {
      // A window reaching midnight may continue into the next enabled day.
      if (!local_allowed(z->to_local(candidate))) return candidate;
      t = candidate;
    } else {
      t = seg_end;
    }
  }
  return horizon;
}

bool CallingWindow::allowed(TimePoint now) const {
  if (never_) return false;
  return std::all_of(zones_.begin(), zones_.end(),
                     [&](Zone z) { return local_allowed(z->to_local(now)); });
}

std::optional<TimePoint> CallingWindow::next_opening(TimePoint now) const {
  if (never_) return std::nullopt;
  const TimePoint horizon = now + kSearchHorizon;
  // Each zone's next opening is a lower bound for the common one: jump to the latest of them
  // until every zone is open at the same instant. t only grows, and stops at the horizon.
  TimePoint t = now;
  for (;;) {
    TimePoint latest = t;
    for (Zone z : zones_) {
      const auto open = zone_next_open(z, t, horizon);
      if (!open) return std::nullopt;
      latest = std::max(latest, *open);
    }
    if (latest == t) return t;
    t = latest;
  }
}

std::optional<TimePoint> CallingWindow::window_closes_at(TimePoint now) const {
  if (!allowed(now)) return std::nullopt;
  TimePoint first = now + kSearchHorizon;
  for (Zone z : zones_) first = std::min(first, zone_next_close(z, now));
  return first;
}

}  // namespace dialer::scheduler
