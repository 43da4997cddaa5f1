#include "daemon/ctl_render.hpp"

#include "core/time.hpp"

#include <boost/json/array.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <sstream>

namespace dialer::daemon::ctl {

namespace json = boost::json;

namespace {

/// Display width in code points (UTF-8 continuation bytes do not count).
std::size_t width_of(std::string_view s) {
  return static_cast<std::size_t>(
      std::count_if(s.begin(), s.end(), [](char c) { return (c & 0xC0) != 0x80; }));
}

/// The first `width` code points of `s`.
std::string cut(std::string_view s, std::size_t width) {
  std::size_t seen = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if ((s[i] & 0xC0) != 0x80) {
      if (seen == width) return std::string(s.substr(0, i));
      ++seen;
    }
  }
  return std::string(s);
}

std::string pad_right(const std::string& s, std::size_t w) {
  const auto n = width_of(s);
  return n >= w ? s : s + std::string(w - n, ' ');
}

std::string pad_left(const std::string& s, std::size_t w) {
  const auto n = width_of(s);
  return n >= w ? s : std::string(w - n, ' ') + s;
}

bool looks_numeric(std::string_view s) {
  if (s == "-") return true;
  if (s.empty()) return false;
  std::size_t i = s[0] == '-' ? 1 : 0;
  if (i >= s.size() || std::isdigit(static_cast<unsigned char>(s[i])) == 0) return false;
  return std::all_of(s.begin() + static_cast<std::ptrdiff_t>(i), s.end(), [](char c) {
    return std::isdigit(static_cast<unsigned char>(c)) != 0 || c == '.' || c == ',' || c == '/';
  });
}

bool is_scalar(const json::value& v) {
  return !v.is_object() && !v.is_array();
}

bool all_scalar(const json::object& o) {
  return std::all_of(o.begin(), o.end(), [](const auto& m) { return is_scalar(m.value()); });
}

bool all_scalar(const json::array& a) {
  return std::all_of(a.begin(), a.end(), is_scalar);
}

bool all_objects(const json::array& a) {
  return std::all_of(a.begin(), a.end(), [](const json::value& v) { return v.is_object(); });
}

std::string header_of(std::string_view key) {
  std::string h(key);
  for (auto& c : h)
    c = c == '_' ? ' ' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return h;
}

std::string format_number(double d) {
  if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 1e15) {
    return std::to_string(static_cast<long long>(d));
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.10g", d);
  return buf;
}

std::string group_digits(std::uint64_t n) {
  std::string s = std::to_string(n);
  for (int i = static_cast<int>(s.size()) - 3; i > 0; i -= 3)
    s.insert(static_cast<std::size_t>(i), ",");
  return s;
}

double number_of(const json::object& o, std::string_view key, double fallback = 0) {
  const auto* v = o.if_contains(key);
  if (v == nullptr) return fallback;
  if (v->is_int64()) return static_cast<double>(v->get_int64());
  if (v->is_uint64()) return static_cast<double>(v->get_uint64());
  if (v->is_double()) return v->get_double();
  return fallback;
}

const json::object& object_of(const json::object& o, std::string_view key) {
  static const json::object empty;
  const auto* v = o.if_contains(key);
  return v != nullptr && v->is_object() ? v->get_object() : empty;
}

std::string cell_of(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v == nullptr ? "-" : format_cell(*v);
}

std::string format_elapsed(double ms) {
  if (ms < 1000) return format_number(std::round(ms)) + " ms";
  if (ms < 60'000) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f s", ms / 1000);
    return buf;
  }
  return format_clock(ms / 1000);
}

std::string format_uptime(double seconds) {
  auto s = static_cast<long long>(seconds);
  const long long d = s / 86400;
  const long long h = (s % 86400) / 3600;
  const long long m = (s % 3600) / 60;
  s %= 60;
  char buf[48];
  if (d > 0) {
    std::snprintf(buf, sizeof buf, "%lldd%02lldh", d, h);
  } else if (h > 0) {
    std::snprintf(buf, sizeof buf, "%lldh%02lldm", h, m);
  } else {
    std::snprintf(buf, sizeof buf, "%lldm%02llds", m, s);
  }
  return buf;
}

/// "completed 10, no_answer 3" from a count map (zero counts left out).
std::string counts_text(const json::object& counts) {
  std::string out;
  for (const auto& m : counts) {
    if (m.value().is_number() && m.value().to_number<double>() == 0) continue;
    if (!out.empty()) out += ", ";
    out += std::string(m.key()) + " " + format_cell(m.value());
  }
  return out.empty() ? "-" : out;
}

Table table_of(const json::array& rows, const std::vector<std::string>& preferred) {
  std::vector<std::string> columns;
  for (const auto& p : preferred) {
    const bool present = std::any_of(
        rows.begin(), rows.end(), [&](const json::value& r) { return r.get_object().contains(p); });
    if (present) columns.push_back(p);
  }
  if (columns.empty()) {
    for (const auto& r : rows) {
      for (const auto& m : r.get_object()) {
        if (std::find(columns.begin(), columns.end(), m.key()) == columns.end()) {
          columns.emplace_back(m.key());
        }
      }
    }
  }
  Table t;
  for (const auto& c : columns) t.headers.push_back(header_of(c));
  for (const auto& r : rows) {
    std::vector<std::string> row;
    for (const auto& c : columns) row.push_back(cell_of(r.get_object(), c));
    t.rows.push_back(std::move(row));
  }
  return t;
}

std::string indent(const std::string& text, std::size_t n) {
  std::string out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    out += line.empty() ? "\n" : std::string(n, ' ') + line + "\n";
  }
  return out;
}

void pretty(const json::value& v, std::string& out, int depth) {
  const auto nl = [&](int d) { out += "\n" + std::string(static_cast<std::size_t>(d) * 2, ' '); };
  if (const auto* o = v.if_object(); o != nullptr && !o->empty()) {
    out += "{";
    bool first = true;
    for (const auto& m : *o) {
      if (!first) out += ",";
      first = false;
      nl(depth + 1);
      out += json::serialize(json::value(m.key())) + ": ";
      pretty(m.value(), out, depth + 1);
    }
    nl(depth);
    out += "}";
  } else if (const auto* a = v.if_array(); a != nullptr && !a->empty()) {
    out += "[";
    bool first = true;
    for (const auto& item : *a) {
      if (!first) out += ",";
      first = false;
      nl(depth + 1);
      pretty(item, out, depth + 1);
    }
    nl(depth);
    out += "]";
  } else {
    out += json::serialize(v);
  }
}

std::vector<std::string> preferred_columns(std::string_view command) {
  if (command == "campaign-list") {
    return {"name",      "state",           "pause_reason", "blocked_by", "priority",
            "in_flight", "max_concurrency", "credits_used", "contacts"};
  }
  if (command == "contacts-list") {
    return {"id",       "phone",           "name",         "state",
            "attempts", "next_attempt_at", "last_outcome", "reason"};
  }
  if (command == "calls-list") {
    return {"attempt_id", "campaign",   "phone",  "state",  "call_id",
            "provider",   "started_at", "status", "outcome"};
  }
  if (command == "dnc-list") return {"phone", "number", "reason", "source", "added_at"};
  return {};
}

}  // namespace

std::string Table::render() const {
  const std::size_t n = headers.size();
  std::vector<std::size_t> widths(n, 0);
  std::vector<bool> numeric(n, true);
  for (std::size_t c = 0; c < n; ++c) widths[c] = width_of(headers[c]);
  for (const auto c : text_columns) {
    if (c < n) numeric[c] = false;
  }
  for (const auto& row : rows) {
    for (std::size_t c = 0; c < n && c < row.size(); ++c) {
      widths[c] = std::max(widths[c], width_of(row[c]));
      if (!looks_numeric(row[c])) numeric[c] = false;
    }
  }
  const auto line = [&](const std::vector<std::string>& cells) {
    std::string out;
    for (std::size_t c = 0; c < n; ++c) {
      const std::string cell = c < cells.size() ? cells[c] : "";
      const bool last = c + 1 == n;
      if (c > 0) out += "  ";
      if (numeric[c] && !rows.empty()) {
        out += pad_left(cell, widths[c]);
      } else {
        out += last ? cell : pad_right(cell, widths[c]);
      }
    }
    while (!out.empty() && out.back() == ' ') out.pop_back();
    return out + "\n";
  };
  std::string out = line(headers);
  for (const auto& row : rows) out += line(row);
  return out;
}

std::string format_cell(const json::value& v) {
  switch (v.kind()) {
    case json::kind::null:
      return "-";
    case json::kind::bool_:
      return v.get_bool() ? "yes" : "no";
    case json::kind::int64:
      return std::to_string(v.get_int64());
    case json::kind::uint64:
      return std::to_string(v.get_uint64());
    case json::kind::double_:
      return format_number(v.get_double());
    case json::kind::string: {
      std::string s(v.get_string());
      std::replace_if(
          s.begin(), s.end(), [](char c) { return c == '\n' || c == '\r' || c == '\t'; }, ' ');
      return s.empty() ? "-" : s;
    }
    case json::kind::array: {
      std::string out;
      for (const auto& item : v.get_array()) {
        if (!out.empty()) out += ", ";
        out += format_cell(item);
      }
      return out.empty() ? "-" : out;
    }
    case json::kind::object: {
      std::string out;
      for (const auto& m : v.get_object()) {
        if (!out.empty()) out += " ";
        const auto inner = format_cell(m.value());
        out += std::string(m.key()) + "=" + (m.value().is_object() ? "{" + inner + "}" : inner);
      }
      return out.empty() ? "-" : out;
    }
  }
  return "-";
}

std::string pretty_json(const json::value& v) {
  std::string out;
  pretty(v, out, 0);
  return out + "\n";
}

std::string render_arguments(const json::object& args, const std::vector<std::string>& preferred) {
  std::vector<std::pair<std::string, std::string>> kv;
  std::string sections;
  for (const auto& m : args) {
    const std::string key(m.key());
    const auto& v = m.value();
    if (const auto* a = v.if_array(); a != nullptr && !a->empty() && all_objects(*a)) {
      sections += "\n" + key + ":\n" + indent(table_of(*a, preferred).render(), 2);
    } else if (const auto* o = v.if_object(); o != nullptr && !o->empty() && !all_scalar(*o)) {
      sections += "\n" + key + ":\n" + indent(render_arguments(*o, preferred), 2);
    } else if (a != nullptr && !a->empty() && !all_scalar(*a)) {
      sections += "\n" + key + ":\n" + indent(pretty_json(v), 2);
    } else {
      kv.emplace_back(key, a != nullptr && a->empty() ? "(none)" : format_cell(v));
    }
  }
  std::size_t w = 0;
  for (const auto& [k, v] : kv) w = std::max(w, width_of(k));
  std::string out;
  for (const auto& [k, v] : kv) out += pad_right(k, w) + "  " + v + "\n";
  if (out.empty() && !sections.empty()) sections.erase(0, 1);  // no blank line at the top
  return out + sections;
}

namespace {
std::vector<std::string> wrap_words(const std::string& text, std::size_t width,
                                    const std::string& first_indent, std::size_t max_lines);
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

std::string render_response(std::string_view command, const admin::Response& r) {
  std::string out;
  if (r.result == admin::ResultCode::success && !r.text.empty() && command != "account-check") {
    out += r.text + "\n";
  }
  if (r.arguments.empty()) return out;
  if (command == "account-check") return out + render_check(r.arguments);
  if (command == "campaign-forecast") return out + render_forecast(r.arguments);
  if (command == "contacts-import" && r.result == admin::ResultCode::success) {
    return out + render_import_report(r.arguments);
  }
  if (command == "status-get" && r.result == admin::ResultCode::success) {
    return out + render_status(r.arguments);
  }
  if (command == "list-commands") {
    Table t{{"COMMAND", "HELP"}, {}, {}};
    const auto& help = object_of(r.arguments, "help");
    if (const auto* names = r.arguments.if_contains("commands"); names && names->is_array()) {
      for (const auto& n : names->get_array()) {
        const std::string name = format_cell(n);
        t.rows.push_back({name, cell_of(help, name)});
      }
      return t.render();
    }
  }
  return out + render_arguments(r.arguments, preferred_columns(command));
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

std::string render_webhooks_line(const json::object& status) {
  const auto& hooks = object_of(status, "webhooks");
  const double polled = number_of(status, "outcomes_by_poll_last_hour");
  std::string line = "webhooks ";
  const auto* age = hooks.if_contains("last_stored_age_s");
  if (age != nullptr && age->is_number()) {
    line += "last stored " + format_uptime(age->to_number<double>()) + " ago";
  } else {
    line += "none stored yet";
  }
  line += ", last hour " + format_number(number_of(hooks, "stored_last_hour")) + " stored";
  const double refused = number_of(hooks, "refused_last_hour");
  if (refused > 0) {
    line += ", " + format_number(refused) + " REFUSED";
    const auto& last = object_of(hooks, "last_refusal");
    if (const auto* reason = last.if_contains("reason"); reason && reason->is_string()) {
      line += " (" + std::string(reason->get_string()) + ")";
    }
  }
  if (polled > 0) line += ", " + format_number(polled) + " outcomes polled";
  return line;
}

namespace {
/// ", read 3m00s ago" from status-get's credits.age_s; "" when never read.
std::string credit_age(const json::object& credits) {
  const auto* age = credits.if_contains("age_s");
  if (age == nullptr || !age->is_number()) return "";
  return ", read " + format_uptime(age->to_number<double>()) + " ago";
}

std::vector<std::string> status_header_lines(const json::object& status) {
  std::vector<std::string> lines;
  lines.push_back("dialerd " + cell_of(status, "version") + "   up " +
                  format_uptime(number_of(status, "uptime_s")) + "   webhook " +
                  cell_of(status, "webhook_listen"));
  const auto& slots = object_of(status, "slots");
  const auto& rate = object_of(status, "rate");
  const auto& credits = object_of(status, "credits");
  std::string balance = cell_of(credits, "balance");
  if (balance == "-") balance = "unknown";
  lines.push_back("slots " + cell_of(slots, "used") + "/" + cell_of(slots, "limit") + " (" +
                  cell_of(slots, "source") + ")   rate " + cell_of(rate, "used_last_minute") + "/" +
                  cell_of(rate, "calls_per_minute") + " per min   credits " + balance + " (" +
                  cell_of(credits, "state") + credit_age(credits) + ")");
  lines.push_back(render_webhooks_line(status));
  const auto& block = object_of(status, "account_block");
  if (!block.empty()) {
    lines.push_back("DIALLING STOPPED (" + cell_of(block, "reason") +
                    "): " + cell_of(block, "message"));
  }
  lines.push_back("campaigns  " + counts_text(object_of(status, "campaigns")));
  return lines;
}

}  // namespace

std::string render_status(const json::object& status) {
  std::string out;
  for (const auto& line : status_header_lines(status)) out += line + "\n";
  const auto& overdue = object_of(status, "ambiguous_overdue");
  std::string ambiguous = cell_of(status, "ambiguous_attempts");
  if (number_of(overdue, "count") > 0) {
    ambiguous +=
        " (" + cell_of(overdue, "count") + " past stale_call_timeout: settle with attempt-resolve)";
  }
  out += "ambiguous attempts " + ambiguous + "   starts unanswered " +
         cell_of(status, "starts_outstanding") + "\n";
  if (const auto* down = status.if_contains("api_unreachable");
      down && down->is_bool() && down->get_bool()) {
    out += "API UNREACHABLE: starts wait until it answers again\n";
  }
  out += "pid " + cell_of(status, "pid") + "   config " + cell_of(status, "config_path") + "\n";
  if (const auto* jobs = status.if_contains("jobs");
      jobs && jobs->is_array() && !jobs->get_array().empty()) {
    out += "\n" + table_of(jobs->get_array(), {}).render();
  }
  return out;
}

std::string fit_words(std::string_view line, std::size_t width) {
  if (width_of(line) <= width) return std::string(line);
  if (width <= 1) return cut(line, width);
  std::string head = cut(line, width - 1);  // room for the ellipsis
  const auto space = head.find_last_of(' ');
  if (space != std::string::npos && space > 0) head.erase(space);
  while (!head.empty() && (head.back() == ' ' || head.back() == ',' || head.back() == ';')) {
    head.pop_back();
  }
  return head + "…";
}

namespace {

/// "12m", "1h05m", "3d04h" from seconds.
std::string duration_text(long long s) {
  char buf[32];
  if (s < 3600) {
    std::snprintf(buf, sizeof buf, "%lldm", std::max(1LL, (s + 59) / 60));
  } else if (s < 86400) {
    std::snprintf(buf, sizeof buf, "%lldh%02lldm", s / 3600, (s % 3600) / 60);
  } else {
    std::snprintf(buf, sizeof buf, "%lldd%02lldh", s / 86400, (s % 86400) / 3600);
  }
  return buf;
}

/// The pace ETA, then "fc 2h05m": time to the finish the last campaign-forecast gave.
std::string eta_text(const json::object& c) {
  const auto* eta = c.if_contains("eta_s");
  std::string out = eta == nullptr || !eta->is_number()
                        ? std::string("-")
                        : duration_text(static_cast<long long>(eta->to_number<double>()));
  const auto* fc = c.if_contains("forecast");
  const auto* at =
      fc != nullptr && fc->is_object() ? fc->get_object().if_contains("finish_at") : nullptr;
  if (at != nullptr && at->is_string()) {
    if (auto t = parse_iso8601(at->get_string())) {
      const auto left =
          std::chrono::duration_cast<std::chrono::seconds>(*t - SystemClock{}.now()).count();
      if (left > 0) out += " fc " + duration_text(left);
    }
  }
  return out;
}

/// Credits with two decimals at most ("36.83", "12.5", "0").
std::string credits_text(const json::object& c) {
  const auto* v = c.if_contains("credits_used");
  if (v == nullptr || !v->is_number()) return "-";
  return format_number(std::round(v->to_number<double>() * 100) / 100);
}

/// `text` in lines of `width` columns after `indent` (two more on continuation lines), whole
/// words, at most `max_lines`; the last line ends in "…" when something was left out.
std::vector<std::string> wrap_words(const std::string& text, std::size_t width,
                                    const std::string& first_indent, std::size_t max_lines) {
  std::vector<std::string> out;
  std::string rest = text;
  while (!rest.empty() && out.size() < max_lines) {
    const std::string indent = out.empty() ? first_indent : first_indent + "  ";
    const std::size_t room = width > width_of(indent) + 8 ? width - width_of(indent) : 8;
    if (width_of(rest) <= room || out.size() + 1 == max_lines) {
      out.push_back(indent + fit_words(rest, room));
      break;
    }
    std::string head = cut(rest, room + 1);
    auto space = head.find_last_of(' ');
    if (space == std::string::npos || space == 0) space = cut(rest, room).size();
    out.push_back(indent + rest.substr(0, space));
    rest = rest.substr(std::min(rest.size(), space + 1));
  }
  return out;
}

/// One campaign's row: the columns of kWatchColumns, in order.
std::vector<std::string> watch_row(const json::object& c) {
  const double total = number_of(c, "contacts_total");
  const double finished = number_of(c, "contacts_finished");
  std::string done = format_number(finished) + "/" + format_number(total);
  if (total > 0) done += " " + format_number(std::floor(100 * finished / total)) + "%";
  const double queued = number_of(object_of(c, "contacts"), "queued");
  const double due = number_of(c, "due_now");
  std::string due_text = format_number(due);
  if (const auto* capped = c.if_contains("due_now_capped");
      capped && capped->is_bool() && capped->get_bool()) {
    due_text += "+";
  }
  due_text += "/" + format_number(std::max(0.0, queued - due));
  std::string answered = "-";
  if (const auto* rate = c.if_contains("answer_rate"); rate && rate->is_number()) {
    answered = format_number(std::round(100 * rate->to_number<double>())) + "%";
  }
  return {cell_of(c, "name"),
          cell_of(c, "state"),
          done,
          cell_of(c, "in_flight") + "/" + cell_of(c, "max_concurrency"),
          due_text,
          eta_text(c),
          cell_of(c, "starts_last_hour"),
          cell_of(c, "starts_last_5m"),
          answered,
          credits_text(c)};
}

// Columns of the campaign table, most important first: the narrower the terminal, the more are
// left out from the end.
const std::vector<std::string> kWatchColumns = {"CAMPAIGN", "STATE", "DONE", "CALLS", "DUE/LATER",
                                                "ETA",      "1H",    "5M",   "ANS",   "CREDITS"};

}  // namespace

std::string render_watch(const json::object& status, const json::object& campaigns, int width) {
  const auto w = static_cast<std::size_t>(std::max(width, 1));
  std::vector<std::string> lines = status_header_lines(status);
  lines.emplace_back();

  std::vector<const json::object*> shown;
  std::vector<std::string> drafts;
  if (const auto* list = campaigns.if_contains("campaigns"); list && list->is_array()) {
    for (const auto& item : list->get_array()) {
      if (!item.is_object()) continue;
      const auto& c = item.get_object();
      if (cell_of(c, "state") == "draft") {
        drafts.push_back(cell_of(c, "name"));
      } else {
        shown.push_back(&c);
      }
    }
  }
  if (shown.empty() && drafts.empty()) lines.emplace_back("no campaigns");
  if (!shown.empty()) {
    std::vector<std::vector<std::string>> rows;
    for (const auto* c : shown) rows.push_back(watch_row(*c));
    // Leave out columns from the least important until the table fits.
    std::size_t columns = kWatchColumns.size();
    std::vector<std::string> table;
    for (;; --columns) {
      Table t{{kWatchColumns.begin(), kWatchColumns.begin() + static_cast<long>(columns)}, {}, {0}};
      for (const auto& r : rows)
        t.rows.emplace_back(r.begin(), r.begin() + static_cast<long>(columns));
      table.clear();
      std::istringstream in(t.render());
      std::size_t widest = 0;
      for (std::string line; std::getline(in, line);) {
        widest = std::max(widest, width_of(line));
        table.push_back(line);
      }
      if (widest <= w || columns <= 2) break;
    }
    lines.push_back(table.front());
    for (std::size_t i = 0; i < shown.size(); ++i) {
      lines.push_back(table[i + 1]);
      const auto& c = *shown[i];
      const std::string why = cell_of(c, "blocked_by");
      // Two lines at most each, wrapped at words: the time a window opens is at the end.
      if (why != "-" && !why.empty() && cell_of(c, "state") != "completed") {
        for (auto& l : wrap_words("waiting: " + why, w, "  ", 2)) lines.push_back(std::move(l));
      }
      const std::string error = cell_of(c, "last_error");
      if (error != "-" && !error.empty() && why.find(error) == std::string::npos) {
        for (auto& l : wrap_words("last error: " + error, w, "  ", 2)) {
          lines.push_back(std::move(l));
        }
      }
    }
  }
  if (!drafts.empty()) {
    std::string line = "drafts (" + std::to_string(drafts.size()) + "): ";
    for (std::size_t i = 0; i < drafts.size(); ++i) line += (i > 0 ? ", " : "") + drafts[i];
    lines.push_back(line);
  }

  std::string out;
  for (const auto& line : lines) out += fit_words(line, w) + "\n";
  return out;
}

}  // namespace dialer::daemon::ctl
