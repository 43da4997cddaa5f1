// dialerctl's reports: account-check, campaign-forecast, the contacts-import report and the
// import progress line.

#include "daemon/ctl_render.hpp"
#include "daemon/ctl_render_detail.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace dialer::daemon::ctl {

namespace json = boost::json;
using namespace detail;

namespace {

std::string format_elapsed(double ms) {
  if (ms < 1000) return format_number(std::round(ms)) + " ms";
  if (ms < 60'000) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f s", ms / 1000);
    return buf;
  }
  return format_clock(ms / 1000);
}

}  // namespace

std::string render_check(const json::object& args, std::size_t width) {
  const auto* rows = args.if_contains("rows");
  if (rows == nullptr || !rows->is_array()) return render_arguments(args);
  std::size_t name_w = 5;
  for (const auto& v : rows->get_array()) {
    if (v.is_object()) name_w = std::max(name_w, width_of(cell_of(v.get_object(), "check")));
  }
  name_w = std::min<std::size_t>(name_w, 44);
  const std::string indent(2 + 4 + 2 + name_w + 2, ' ');
  std::string out;
  std::size_t failed = 0;
  for (const auto& v : rows->get_array()) {
    if (!v.is_object()) continue;
    const auto& o = v.get_object();
    const bool ok = o.contains("ok") && o.at("ok").is_bool() && o.at("ok").get_bool();
    if (!ok) ++failed;
    const std::string head = std::string("  ") + (ok ? "ok  " : "FAIL") + "  " +
                             pad_right(cell_of(o, "check"), name_w) + "  ";
    auto lines = wrap_words(cell_of(o, "detail"), width, indent, 4);
    out += head + (lines.empty() ? std::string() : lines.front().substr(indent.size())) + "\n";
    for (std::size_t i = 1; i < lines.size(); ++i) out += lines[i] + "\n";
    const auto* f = o.if_contains("fix");
    const std::string fix = f != nullptr && f->is_string() ? std::string(f->get_string()) : "";
    if (!fix.empty()) {
      for (auto& l : wrap_words("fix: " + fix, width, indent, 4)) out += l + "\n";
    }
  }
  const std::size_t n = rows->get_array().size();
  out += failed == 0
             ? "\nall " + std::to_string(n) + " checks passed: this daemon can dial\n"
             : "\n" + std::to_string(failed) + " of " + std::to_string(n) + " checks failed\n";
  return out;
}

std::string render_forecast(const json::object& args) {
  std::string out;
  Table days{{"DATE", "CALLS", "CREDITS"}, {}, {}};
  if (const auto* list = args.if_contains("by_day"); list && list->is_array()) {
    for (const auto& d : list->get_array()) {
      if (!d.is_object()) continue;
      char credits[32];
      std::snprintf(credits, sizeof credits, "%.2f", number_of(d.get_object(), "credits"));
      days.rows.push_back(
          {cell_of(d.get_object(), "date"), cell_of(d.get_object(), "calls"), credits});
    }
  }
  if (!days.rows.empty()) out += days.render();
  if (const auto* mix = args.if_contains("mix");
      mix && mix->is_array() && !mix->get_array().empty()) {
    out += "\noutcome mix:";
    for (const auto& m : mix->get_array()) {
      if (!m.is_object()) continue;
      const auto& o = m.get_object();
      char part[160];
      std::snprintf(part, sizeof part, " %s %.0f%% (%.0f s, %.2f cr)",
                    cell_of(o, "outcome").c_str(), number_of(o, "share") * 100,
                    number_of(o, "hold_s"), number_of(o, "credits"));
      out += part;
    }
    out += "\n";
  }
  if (const auto* a = args.if_contains("assumptions"); a && a->is_array()) {
    out += "assumptions:\n";
    for (const auto& line : a->get_array()) {
      if (line.is_string()) out += "  - " + std::string(line.get_string()) + "\n";
    }
  }
  char tail[128];
  std::snprintf(tail, sizeof tail, "(simulated %.1f days in %.1f s)\n",
                number_of(args, "simulated_s") / 86400, number_of(args, "wall_ms") / 1000);
  return out + tail;
}

std::string render_import_report(const json::object& report, std::size_t max_errors) {
  std::vector<std::pair<std::string, std::string>> kv;
  for (const char* key : {"rows", "imported", "duplicates", "invalid", "unverified", "dnc"}) {
    kv.emplace_back(key, cell_of(report, key));
  }
  if (report.contains("elapsed_ms")) {
    kv.emplace_back("elapsed", format_elapsed(number_of(report, "elapsed_ms")));
  }
  std::size_t kw = 0;
  std::size_t vw = 0;
  for (const auto& [k, v] : kv) {
    kw = std::max(kw, width_of(k));
    vw = std::max(vw, looks_numeric(v) ? width_of(v) : 0);
  }
  std::string out;
  for (const auto& [k, v] : kv) {
    out += pad_right(k, kw) + "  " + (looks_numeric(v) ? pad_left(v, vw) : v) + "\n";
  }
  const auto* errors = report.if_contains("errors");
  if (errors != nullptr && errors->is_array() && !errors->get_array().empty()) {
    const auto& list = errors->get_array();
    const std::size_t shown = std::min(max_errors, list.size());
    out += "\nerrors";
    if (shown < list.size()) {
      out += " (first " + std::to_string(shown) + " of " + std::to_string(list.size()) + ")";
    }
    out += ":\n";
    Table t{{"LINE", "COLUMN", "VALUE", "REASON"}, {}, {2}};
    for (std::size_t i = 0; i < shown; ++i) {
      if (!list[i].is_object()) continue;
      const auto& e = list[i].get_object();
      t.rows.push_back(
          {cell_of(e, "line"), cell_of(e, "column"), cell_of(e, "value"), cell_of(e, "reason")});
    }
    out += indent(t.render(), 2);
  }
  if (const auto* hint = report.if_contains("hint"); hint && hint->is_string()) {
    out += "\nhint: " + std::string(hint->get_string()) + "\n";
  }
  if (const auto* reject = report.if_contains("reject_file");
      reject != nullptr && reject->is_string() && !reject->get_string().empty()) {
    out += "\nrejected rows written to " + std::string(reject->get_string()) + "\n";
  }
  return out;
}

std::string format_bytes(double bytes) {
  static constexpr const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  std::size_t u = 0;
  while (bytes >= 1024 && u + 1 < std::size(kUnits)) {
    bytes /= 1024;
    ++u;
  }
  char buf[32];
  if (u == 0) {
    std::snprintf(buf, sizeof buf, "%.0f B", bytes);
  } else {
    std::snprintf(buf, sizeof buf, "%.1f %s", bytes, kUnits[u]);
  }
  return buf;
}

std::string format_clock(double seconds) {
  const auto s = static_cast<long long>(std::llround(std::max(0.0, seconds)));
  char buf[32];
  if (s >= 3600) {
    std::snprintf(buf, sizeof buf, "%lld:%02lld:%02lld", s / 3600, (s % 3600) / 60, s % 60);
  } else {
    std::snprintf(buf, sizeof buf, "%lld:%02lld", s / 60, s % 60);
  }
  return buf;
}

std::string render_progress_line(const json::object& progress, int width) {
  if (cell_of(progress, "label").rfind("forecast", 0) == 0) {
    // A forecast: simulated seconds of the horizon, calls placed so far.
    const double done_days = number_of(progress, "bytes_done") / 86400;
    const double total_days = number_of(progress, "bytes_total") / 86400;
    char text[160];
    std::snprintf(text, sizeof text, "forecasting: %.1f of at most %.0f days simulated, %s calls",
                  done_days, total_days,
                  group_digits(static_cast<std::uint64_t>(number_of(progress, "rows"))).c_str());
    return cut(text, static_cast<std::size_t>(std::max(width, 0)));
  }
  const double done = number_of(progress, "bytes_done");
  const double total = number_of(progress, "bytes_total");
  const double rows = number_of(progress, "rows");
  const double elapsed_s = number_of(progress, "elapsed_ms") / 1000;
  const bool known = total > 0;
  const double fraction = known ? std::clamp(done / total, 0.0, 1.0) : 0;

  std::string right;
  if (known) {
    char pct[8];
    std::snprintf(pct, sizeof pct, "%3.0f%%", fraction * 100);
    right += std::string(pct) + "  " + format_bytes(done) + " / " + format_bytes(total);
  } else {
    right += format_bytes(done);
  }
  right += "  " + group_digits(static_cast<std::uint64_t>(rows)) + " rows";
  if (elapsed_s > 0) {
    right += "  " + group_digits(static_cast<std::uint64_t>(rows / elapsed_s)) + " rows/s";
  }
  if (known && done > 0 && elapsed_s > 0) {
    right += "  ETA " + format_clock(elapsed_s * (total - done) / done);
  }

  const std::string left = "importing ";
  const int bar = width - static_cast<int>(width_of(left) + width_of(right)) - 4;
  if (!known || bar < 10) return cut(left + right, static_cast<std::size_t>(std::max(width, 0)));
  const auto filled = static_cast<int>(std::lround(fraction * bar));
  return left + "[" + std::string(static_cast<std::size_t>(filled), '#') +
         std::string(static_cast<std::size_t>(bar - filled), '.') + "]  " + right;
}

}  // namespace dialer::daemon::ctl
