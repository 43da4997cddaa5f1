#pragma once
/// dialerctl's output: aligned tables and key/value blocks from an answer's arguments, the
/// import report, the import progress bar and the `watch` screen. Pure string functions.

#include "api/admin/protocol.hpp"

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace dialer::daemon::ctl {

/// Columns separated by two spaces, headers upper-cased, numeric columns right-aligned, no
/// trailing blanks.
struct Table {
  std::vector<std::string> headers;
  std::vector<std::vector<std::string>> rows;
  /// Columns left-aligned even when every cell looks like a number (e.g. raw CSV values).
  std::vector<std::size_t> text_columns;
  [[nodiscard]] std::string render() const;
};

/// One value as a cell: strings bare, null "-", numbers shortest, arrays "a, b", objects
/// "k=v k=v".
std::string format_cell(const boost::json::value& v);

/// Indented JSON (Boost.JSON 1.81 has no pretty printer), ending in a newline.
std::string pretty_json(const boost::json::value& v);

/// Any arguments object for people: scalars as an aligned key/value block, arrays of objects as
/// tables, nested objects as indented sections. `preferred` picks and orders table columns
/// when present (others are left out); with none present, every scalar member is a column.
std::string render_arguments(const boost::json::object& args,
                             const std::vector<std::string>& preferred = {});

/// The human rendering of an answer to `command` (text line, then its arguments).
std::string render_response(std::string_view command, const admin::Response& r);
/// account-check's rows: "ok"/"FAIL", the check, its detail and, indented, "fix: …"; a summary
/// line last. Lines wrap at `width`.
std::string render_check(const boost::json::object& args, std::size_t width = 100);
/// campaign-forecast: calls and credits by day, the outcome mix, the assumptions.
std::string render_forecast(const boost::json::object& args);

/// The contacts-import report: counts, elapsed, the first `max_errors` errors as a table
/// (line, column, value, reason) and where rejected rows went.
std::string render_import_report(const boost::json::object& report, std::size_t max_errors = 20);

/// One progress line from an import-progress answer, fitted to `width` columns: bar, percent,
/// bytes read / total, rows, rows/s, ETA (bar and ETA only when the total is known).
std::string render_progress_line(const boost::json::object& progress, int width);

/// "webhooks last stored 12s ago, last hour 40 stored, 3 REFUSED (signature mismatch), 2
/// outcomes polled" from status-get: the line `status` and `watch` share.
std::string render_webhooks_line(const boost::json::object& status);

/// The header `status` and `watch` share: version and uptime, the role of a node of a pair,
/// slots, rate and credits, webhooks, an account block, campaigns by state.
std::vector<std::string> status_header_lines(const boost::json::object& status);

/// `dialerctl status`: the header `watch` shows, then ambiguous attempts, pid, config and jobs.
std::string render_status(const boost::json::object& status);

/// `line` in `width` columns: whole words, then "…" when something was left out.
std::string fit_words(std::string_view line, std::size_t width);

/// The `watch` screen from status-get and campaign-list arguments, fitted to `width` columns:
/// the status header, one table row per campaign (progress, due now/later, calls in flight,
/// ETA, starts last hour and 5 min, answer rate, credits — columns left out from the end when
/// narrow) with its reason to wait and last error below it, drafts folded into one line.
std::string render_watch(const boost::json::object& status, const boost::json::object& campaigns,
                         int width);

/// "1.5 KiB", "12.3 MiB" …
std::string format_bytes(double bytes);
/// "0:07", "1:02:03".
std::string format_clock(double seconds);

}  // namespace dialer::daemon::ctl
