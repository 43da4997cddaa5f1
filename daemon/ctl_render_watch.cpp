// dialerctl's status and watch screens: the status header shared by both, the webhooks line
// and the campaign table of `watch`.

#include "core/time.hpp"
#include "daemon/ctl_render.hpp"
#include "daemon/ctl_render_detail.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <sstream>

namespace dialer::daemon::ctl {

namespace json = boost::json;
using namespace detail;

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

}  // namespace

std::vector<std::string> status_header_lines(const json::object& status) {
  std::vector<std::string> lines;
  lines.push_back("dialerd " + cell_of(status, "version") + "   up " +
                  format_uptime(number_of(status, "uptime_s")) + "   webhook " +
                  cell_of(status, "webhook_listen"));
  // A pair on PostgreSQL: which node this is and who dials.
  if (const std::string role = cell_of(status, "role"); role != "-" && role != "standalone") {
    const auto& leader = object_of(status, "leader");
    std::string line = "role " + role + " (node " + cell_of(status, "node") + ", lease epoch " +
                       cell_of(status, "lease_epoch") + ")";
    if (role == "leader") {
      line += "   takeovers " + cell_of(status, "takeovers");
    } else if (!leader.empty()) {
      line += "   leader " + cell_of(leader, "node") + " since " + cell_of(leader, "since");
    }
    if (role != "leader") line += "   NOT DIALLING";
    lines.push_back(std::move(line));
  }
  // A node that does not dial has no slots, rate or credits of its own to show.
  const std::string role = cell_of(status, "role");
  const bool dials = role == "-" || role == "standalone" || role == "leader";
  const auto& slots = object_of(status, "slots");
  const auto& rate = object_of(status, "rate");
  const auto& credits = object_of(status, "credits");
  std::string balance = cell_of(credits, "balance");
  if (balance == "-") balance = "unknown";
  if (dials) {
    lines.push_back("slots " + cell_of(slots, "used") + "/" + cell_of(slots, "limit") + " (" +
                    cell_of(slots, "source") + ")   rate " + cell_of(rate, "used_last_minute") +
                    "/" + cell_of(rate, "calls_per_minute") + " per min   credits " + balance +
                    " (" + cell_of(credits, "state") + credit_age(credits) + ")");
  }
  lines.push_back(render_webhooks_line(status));
  const auto& block = object_of(status, "account_block");
  if (!block.empty()) {
    lines.push_back("DIALLING STOPPED (" + cell_of(block, "reason") +
                    "): " + cell_of(block, "message"));
  }
  lines.push_back("campaigns  " + counts_text(object_of(status, "campaigns")));
  return lines;
}

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
