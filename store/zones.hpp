#pragma once
/// Time zones of contacts (STATE-MACHINES.md "Calling windows"): IANA names checked against the
/// real tz database (date/tz.h, system tzdb), and the zones of each region from tzdata's
/// zone1970.tab, so a number with no `timezone` column gets its country's zone(s).

#include "core/errc.hpp"

#include <cstddef>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>

namespace dialer::store {

/// True when `name` is a zone (or link) of the system tz database, e.g. "Asia/Kolkata",
/// "America/Los_Angeles", "UTC". Host-dependent entries (`localtime`, `posixrules`) are refused.
bool is_valid_zone(std::string_view name);

/// Region (ISO 3166 alpha-2) -> its zones. Loaded once, immutable, safe to share across threads.
class ZoneTable {
 public:
  static constexpr std::string_view kSystemPath = "/usr/share/zoneinfo/zone1970.tab";

  /// Reads a zone1970.tab file (columns: comma-separated country codes, coordinates, TZ,
  /// comments; `#` lines are comments). A missing or unreadable file is an io_error; a
  /// malformed line is a parse_error naming the line.
  static Result<ZoneTable> load(const std::filesystem::path& path = kSystemPath);
  /// The same from text already in memory.
  static Result<ZoneTable> parse(std::string_view text);

  /// The zones of `region` joined by ',' ("Asia/Kolkata"; "America/New_York,America/Detroit,…"
  /// for a country with several), "" when the region is unknown. Rows whose first country is
  /// `region` (its own principal zones) come first, then the rows it only overlaps, each group
  /// in file order. The view lives as long as the table.
  [[nodiscard]] std::string_view zones(std::string_view region) const noexcept;

  /// Number of regions known.
  [[nodiscard]] std::size_t size() const noexcept { return by_region_.size(); }

 private:
  std::map<std::string, std::string, std::less<>> by_region_;
};

}  // namespace dialer::store
