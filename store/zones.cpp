#include "store/zones.hpp"

#include <date/tz.h>

#include <fstream>
#include <sstream>
#include <stdexcept>
#include <vector>

namespace dialer::store {

bool is_valid_zone(std::string_view name) {
  // Both name files of the host, not zones: their meaning depends on the machine.
  if (name.empty() || name == "localtime" || name == "posixrules") return false;
  try {
    // date's only lookup API reports "not found" by throwing; it is an expected answer here.
    (void)date::locate_zone(name);
    return true;
  } catch (const std::runtime_error&) {
    return false;
  }
}

Result<ZoneTable> ZoneTable::load(const std::filesystem::path& path) {
  std::ifstream in{path, std::ios::binary};
  if (!in) return Error{errc::io_error, "cannot read " + path.string()};
  // zone1970.tab is ~20 KiB; refuse anything that is clearly not it.
  constexpr std::uintmax_t kMaxBytes = 1 << 20;
  std::error_code ec;
  if (auto size = std::filesystem::file_size(path, ec); !ec && size > kMaxBytes) {
    return Error{errc::limit_exceeded, path.string() + " is larger than 1 MiB"};
  }
  std::ostringstream text;
  text << in.rdbuf();
  auto table = parse(text.str());
  if (!table) return Error{table.error().code, path.string() + ": " + table.error().message};
  return table;
}

Result<ZoneTable> ZoneTable::parse(std::string_view text) {
  struct Row {
    std::vector<std::string_view> codes;
    std::string_view zone;
  };
  std::vector<Row> rows;
  std::size_t line_no = 0;
  while (!text.empty()) {
    ++line_no;
    auto nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty() || line.front() == '#') continue;

    std::vector<std::string_view> cols;
    for (std::size_t start = 0;;) {
      auto tab = line.find('\t', start);
      cols.push_back(line.substr(start, tab == std::string_view::npos ? tab : tab - start));
      if (tab == std::string_view::npos) break;
      start = tab + 1;
    }
    if (cols.size() < 3 || cols[0].empty() || cols[2].empty()) {
      return Error{errc::parse_error,
                   "line " + std::to_string(line_no) + ": expected codes<TAB>coordinates<TAB>TZ"};
    }
    Row row{{}, cols[2]};
    for (std::size_t start = 0;;) {
      auto comma = cols[0].find(',', start);
      auto code = cols[0].substr(start, comma == std::string_view::npos ? comma : comma - start);
      if (code.size() != 2) {
        return Error{errc::parse_error, "line " + std::to_string(line_no) + ": bad country code '" +
                                            std::string{code} + "'"};
      }
      row.codes.push_back(code);
      if (comma == std::string_view::npos) break;
      start = comma + 1;
    }
    rows.push_back(std::move(row));
  }

  ZoneTable table;
  auto append = [&](std::string_view code, std::string_view zone) {
    auto& list = table.by_region_[std::string{code}];
    if (!list.empty()) list += ',';
    list += zone;
  };
  // A region's own rows (listed first in column 1) before the rows it merely overlaps.
  for (const auto& row : rows) append(row.codes.front(), row.zone);
  for (const auto& row : rows) {
    for (std::size_t i = 1; i < row.codes.size(); ++i) append(row.codes[i], row.zone);
  }
  return table;
}

std::string_view ZoneTable::zones(std::string_view region) const noexcept {
  auto it = by_region_.find(region);
  return it == by_region_.end() ? std::string_view{} : std::string_view{it->second};
}

}  // namespace dialer::store
