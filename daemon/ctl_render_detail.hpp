#pragma once
/// Text helpers shared by dialerctl's renderers (ctl_render.cpp: tables, cells, arguments;
/// ctl_render_reports.cpp: check, forecast, import report and progress; ctl_render_watch.cpp:
/// status and the watch screen). Internal to daemon/.

#include "daemon/ctl_render.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace dialer::daemon::ctl::detail {

/// Display width in code points (UTF-8 continuation bytes do not count).
std::size_t width_of(std::string_view s);
/// The first `width` code points of `s`.
std::string cut(std::string_view s, std::size_t width);
std::string pad_right(const std::string& s, std::size_t w);
std::string pad_left(const std::string& s, std::size_t w);
/// Digits (with `.` `,` `/`), an optional leading `-`, or "-" alone: right-aligned in tables.
bool looks_numeric(std::string_view s);
/// Integers without a fraction, others with up to 10 significant digits.
std::string format_number(double d);
/// "1,234,567".
std::string group_digits(std::uint64_t n);
/// The member as a number; `fallback` when missing or not a number.
double number_of(const boost::json::object& o, std::string_view key, double fallback = 0);
/// The member as an object; an empty one when missing or not an object.
const boost::json::object& object_of(const boost::json::object& o, std::string_view key);
/// The member as a cell (format_cell); "-" when missing.
std::string cell_of(const boost::json::object& o, std::string_view key);
/// "12m05s", "3h04m", "2d01h".
std::string format_uptime(double seconds);
/// "completed 10, no_answer 3" from a count map (zero counts left out).
std::string counts_text(const boost::json::object& counts);
/// An array of objects as a table: the `preferred` columns present, else every member.
Table table_of(const boost::json::array& rows, const std::vector<std::string>& preferred);
/// Every non-empty line of `text` indented by `n` spaces.
std::string indent(const std::string& text, std::size_t n);
/// `text` in lines of `width` columns after `indent` (two more on continuation lines), whole
/// words, at most `max_lines`; the last line ends in "…" when something was left out.
std::vector<std::string> wrap_words(const std::string& text, std::size_t width,
                                    const std::string& first_indent, std::size_t max_lines);

}  // namespace dialer::daemon::ctl::detail
