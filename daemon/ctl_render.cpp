#include "daemon/ctl_render.hpp"

#include "daemon/ctl_render_detail.hpp"

#include <boost/json/array.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <sstream>

namespace dialer::daemon::ctl {

namespace json = boost::json;

// --- shared text helpers (ctl_render_detail.hpp) --------------------------------------------

namespace {

/// A table header from a member name: "in_flight" → "IN FLIGHT".
std::string header_of(std::string_view key) {
  std::string h(key);
  for (auto& c : h)
    c = c == '_' ? ' ' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return h;
}

}  // namespace

namespace detail {

std::size_t width_of(std::string_view s) {
  return static_cast<std::size_t>(
      std::count_if(s.begin(), s.end(), [](char c) { return (c & 0xC0) != 0x80; }));
}

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

double number_of(const json::object& o, std::string_view key, double fallback) {
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

}  // namespace detail

using namespace detail;

namespace {

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

}  // namespace dialer::daemon::ctl
