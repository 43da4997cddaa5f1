#pragma once
/// Calling windows (STATE-MACHINES.md "Calling windows"): is a contact callable now, and when
/// does its window next open. A contact with several candidate zones (e.g. a US number) is
/// callable only when the window holds in every one of them. All local-time arithmetic goes
/// through the tz database's real rules (date::time_zone), never through stored offsets.

#include "core/campaign_spec.hpp"
#include "core/errc.hpp"
#include "core/time.hpp"

#include <date/tz.h>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace dialer::scheduler {

using Zone = const date::time_zone*;

/// The tz database entry for an IANA name; errc::invalid_argument for an unknown name.
Result<Zone> locate_zone(std::string_view name);

/// Splits a stored zone list ("America/New_York,America/Chicago") into names; blanks dropped.
std::vector<std::string> split_zone_list(std::string_view joined);

/// Caches located zones by name so per-contact windows cost no tzdb search.
class ZoneCache {
 public:
  /// The zone for `name` (cached after the first lookup); unknown names are an error value.
  Result<Zone> locate(std::string_view name);

  /// The zones for `names`, or `[campaign_zone]` when `names` is empty. Fails on the first
  /// unknown name.
  Result<std::vector<Zone>> locate_all(std::span<const std::string> names,
                                       std::string_view campaign_zone);

 private:
  std::unordered_map<std::string, Zone> zones_;
};

/// "2026-03-09T09:00:00+05:30": `t` (to the second) as local time in `zone`, with its offset.
std::string format_local(TimePoint t, Zone zone);

/// A time as a callee's request gives it: ISO 8601 with an offset, or local "YYYY-MM-DD HH:MM"
/// read in `zone` (a local time that a DST change skips or repeats takes its earliest reading).
/// nullopt for anything else.
std::optional<TimePoint> parse_callback_time(std::string_view text, Zone zone);

/// A weekly window applied in one or more zones.
///
/// Starting a call is allowed at instant t when, in every zone, the local date is an enabled
/// weekday and not a holiday, and the local time of day lies in [start, end − end_margin).
/// Overnight windows (start ≥ end) are not supported: such a window never opens.
class CallingWindow {
 public:
  /// How far next_opening() searches before deciding the window never opens.
  static constexpr auto kSearchHorizon = std::chrono::days{2 * 366};

  /// Locates `zones` (empty → `campaign_zone`) through `cache`; unknown names are an error value.
  static Result<CallingWindow> create(const Window& window, std::span<const std::string> zones,
                                      std::string_view campaign_zone, ZoneCache& cache);

  /// A window over already located zones. `zones` must not be empty or hold null.
  CallingWindow(const Window& window, std::vector<Zone> zones);

  /// True only if the window holds at `now` in every zone.
  [[nodiscard]] bool allowed(TimePoint now) const;

  /// The earliest instant ≥ `now` at which allowed() holds, or nullopt when the window never
  /// opens (no enabled day, start ≥ end − end_margin, zones that never overlap) within
  /// kSearchHorizon.
  [[nodiscard]] std::optional<TimePoint> next_opening(TimePoint now) const;

  /// When allowed(now): the first instant after `now` at which it stops holding (in the zone
  /// that closes first; now + kSearchHorizon for a window that never closes, e.g. 00:00-24:00
  /// every day). nullopt when the window is closed at `now`.
  [[nodiscard]] std::optional<TimePoint> window_closes_at(TimePoint now) const;

  /// True when the window can never open whatever the date (no day enabled or an empty span).
  [[nodiscard]] bool never_opens() const noexcept { return never_; }

  [[nodiscard]] std::span<const Zone> zones() const noexcept { return zones_; }

 private:
  using LocalMs = date::local_time<Millis>;

  [[nodiscard]] bool local_allowed(LocalMs local) const;
  [[nodiscard]] bool day_allowed(date::local_days day) const;
  [[nodiscard]] std::optional<LocalMs> earliest_local_open(LocalMs from,
                                                           date::local_days last_day) const;
  [[nodiscard]] std::optional<TimePoint> zone_next_open(Zone z, TimePoint t,
                                                        TimePoint horizon) const;
  [[nodiscard]] TimePoint zone_next_close(Zone z, TimePoint t) const;

  std::array<bool, 7> days_;
  Millis open_;  ///< local time of day the window opens
  Millis last_;  ///< end − end_margin: first local time of day at which starting is refused
  std::vector<std::int64_t> holidays_;  ///< days since 1970-01-01, sorted
  std::vector<Zone> zones_;
  bool never_ = false;
};

}  // namespace dialer::scheduler
