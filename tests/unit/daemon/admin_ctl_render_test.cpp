// dialerctl's rendering: tables, key/value blocks, the import report, the progress line and
// the watch screen, from fixed JSON.

#include "daemon/ctl_render.hpp"

#include <boost/json.hpp>
#include <gtest/gtest.h>

namespace dialer::daemon::ctl {
namespace {

namespace json = boost::json;

json::object obj(std::string_view text) {
  return json::parse(text).as_object();
}

// Columns are aligned, numeric columns right-aligned, no line has trailing blanks, and
// multi-byte names count as one column per character.
TEST(CtlRender, TableAlignment) {
  const Table t{{"NAME", "STATE", "IN FLIGHT"},
                {{"spring", "running", "3/5"}, {"diwali-é", "paused", "12/20"}, {"x", "-", "-"}},
                {}};
  EXPECT_EQ(t.render(),
            "NAME      STATE    IN FLIGHT\n"
            "spring    running        3/5\n"
            "diwali-é  paused       12/20\n"
            "x         -                -\n");
}

// Cells: null "-", booleans yes/no, integral doubles without a fraction, arrays and objects
// flattened, newlines removed.
TEST(CtlRender, Cells) {
  EXPECT_EQ(format_cell(nullptr), "-");
  EXPECT_EQ(format_cell(true), "yes");
  EXPECT_EQ(format_cell(12.0), "12");
  EXPECT_EQ(format_cell(0.1 + 0.2), "0.3");
  EXPECT_EQ(format_cell(-7), "-7");
  EXPECT_EQ(format_cell(json::array{"twilio", "plivo"}), "twilio, plivo");
  EXPECT_EQ(format_cell(json::parse(R"({"used": 3, "limit": 10, "by": {"a": 1}})")),
            "used=3 limit=10 by={a=1}");
  EXPECT_EQ(format_cell("two\nlines"), "two lines");
  EXPECT_EQ(format_cell(json::array{}), "-");
}

// A status-like object: scalars and flat objects in an aligned block, a list of objects as a
// table section.
TEST(CtlRender, ArgumentsBlockAndTable) {
  const auto args = obj(R"({"version": "0.1.0", "uptime_s": 42,
      "slots": {"used": 3, "limit": 10, "source": "api"}, "providers": ["twilio"],
      "campaigns": [{"name": "spring", "state": "running"}, {"name": "autumn", "state": "draft"}],
      "empty": []})");
  EXPECT_EQ(render_arguments(args),
            "version    0.1.0\n"
            "uptime_s   42\n"
            "slots      used=3 limit=10 source=api\n"
            "providers  twilio\n"
            "empty      (none)\n"
            "\n"
            "campaigns:\n"
            "  NAME    STATE\n"
            "  spring  running\n"
            "  autumn  draft\n");
}

// Preferred columns pick and order a list's columns when present.
TEST(CtlRender, PreferredColumns) {
  const auto args = obj(R"({"contacts": [
      {"phone": "+919876543210", "id": 1, "variables": {"city": "Pune"}, "state": "queued"}]})");
  EXPECT_EQ(render_arguments(args, {"id", "phone", "state", "attempts"}),
            "contacts:\n"
            "  ID  PHONE          STATE\n"
            "   1  +919876543210  queued\n");
}

// The answer's text comes first; list-commands becomes a command/help table.
TEST(CtlRender, ResponseText) {
  admin::Response r = admin::Response::success("campaign spring started", obj(R"({"id": 7})"));
  EXPECT_EQ(render_response("campaign-start", r), "campaign spring started\nid  7\n");
  const admin::Response list =
      admin::Response::success("2 commands", obj(R"({"commands": ["list-commands", "status-get"],
                            "help": {"list-commands": "list them", "status-get": "status"}})"));
  EXPECT_EQ(render_response("list-commands", list),
            "COMMAND        HELP\n"
            "list-commands  list them\n"
            "status-get     status\n");
}

// The import report: counts right-aligned, elapsed in seconds, the first errors as a table,
// and where rejected rows went.
TEST(CtlRender, ImportReport) {
  const auto report = obj(R"({"rows": 1000, "imported": 950, "duplicates": 20, "invalid": 25,
      "unverified": 3, "dnc": 2, "elapsed_ms": 1234,
      "errors": [{"line": 12, "column": "phone", "value": "12345", "reason": "not a possible number"},
                 {"line": 40, "column": "phone", "value": "9.19E+11", "reason": "inexact scientific notation"},
                 {"line": 77, "column": "city name", "value": "x", "reason": "bad header"}],
      "reject_file": "/home/op/rejects.csv"})");
  EXPECT_EQ(render_import_report(report, 2),
            "rows        1000\n"
            "imported     950\n"
            "duplicates    20\n"
            "invalid       25\n"
            "unverified     3\n"
            "dnc            2\n"
            "elapsed     1.2 s\n"
            "\n"
            "errors (first 2 of 3):\n"
            "  LINE  COLUMN  VALUE     REASON\n"
            "    12  phone   12345     not a possible number\n"
            "    40  phone   9.19E+11  inexact scientific notation\n"
            "\n"
            "rejected rows written to /home/op/rejects.csv\n");
}

// The progress line with a known total: bar, percent, bytes, rows, rows/s, ETA, fitted to the
// width; with an unknown total (a pipe) no bar and no ETA.
TEST(CtlRender, ProgressLine) {
  const auto p = obj(R"({"bytes_done": 524288, "bytes_total": 2097152, "rows": 10000,
                         "elapsed_ms": 2000})");
  const auto line = render_progress_line(p, 100);
  EXPECT_EQ(line,
            "importing [######..................]   25%  512.0 KiB / 2.0 MiB  "
            "10,000 rows  5,000 rows/s  ETA 0:06");
  EXPECT_EQ(line.size(), 100u);  // exactly the width
  const auto narrow = render_progress_line(p, 40);
  EXPECT_LE(narrow.size(), 40u);
  EXPECT_EQ(narrow.find('['), std::string::npos);
  EXPECT_EQ(render_progress_line(obj(R"({"bytes_done": 3072, "bytes_total": 0, "rows": 7,
                                          "elapsed_ms": 0})"),
                                 80),
            "importing 3.0 KiB  7 rows");
}

// The watch screen from a fixed status and campaign list: the header, one row per campaign
// with its reason to wait and last error below it, drafts folded into one line; at 80 columns
// every column fits, narrower ones leave out the least important columns, and no line is
// longer than the terminal or cut inside a word.
TEST(CtlRender, WatchScreen) {
  const auto status = obj(R"({"version": "0.1.0", "uptime_s": 3725,
      "webhook_listen": "127.0.0.1:8080", "slots": {"used": 4, "limit": 10, "source": "api"},
      "rate": {"calls_per_minute": 10, "used_last_minute": 6},
      "credits": {"balance": 123.45, "state": "ok", "age_s": 180},
      "webhooks": {"last_stored_age_s": 12, "stored_last_hour": 40, "refused_last_hour": 0},
      "outcomes_by_poll_last_hour": 0,
      "campaigns": {"running": 2, "paused": 1, "draft": 2}})");
  const auto campaigns = obj(R"J({"campaigns": [
      {"name": "spring", "state": "running", "blocked_by": "no free slot (5/5 in use)",
       "in_flight": 3, "max_concurrency": 5, "credits_used": 12.5,
       "contacts": {"queued": 88, "in_call": 3, "done": 109}, "contacts_total": 200,
       "contacts_finished": 109, "due_now": 12, "starts_last_5m": 4, "starts_last_hour": 48,
       "eta_s": 7800, "answer_rate": 0.614, "last_error": "HTTP 503 from the API",
       "outcomes": {"completed": 10, "no_answer": 3}},
      {"name": "autumn", "state": "running", "in_flight": 0, "max_concurrency": 2,
       "blocked_by": "outside calling window of +18085550100 (Pacific/Honolulu); opens 2026-03-09T09:00:00-10:00 (in 8 h 59 min)",
       "credits_used": 0, "contacts": {"queued": 5}, "contacts_total": 5,
       "contacts_finished": 0, "due_now": 0, "starts_last_5m": 0, "starts_last_hour": 0,
       "eta_s": null, "answer_rate": null, "last_error": ""},
      {"name": "winter", "state": "paused", "in_flight": 0, "max_concurrency": 5,
       "blocked_by": "paused after consecutive failed starts; last error: HTTP 500",
       "credits_used": 1, "contacts": {"queued": 9, "done": 1}, "contacts_total": 10,
       "contacts_finished": 1, "due_now": 9, "starts_last_5m": 0, "starts_last_hour": 2,
       "eta_s": null, "answer_rate": 1, "last_error": "HTTP 500"},
      {"name": "d1", "state": "draft"}, {"name": "d2", "state": "draft"}]})J");
  const std::string screen = render_watch(status, campaigns, 80);
  EXPECT_EQ(screen,
            "dialerd 0.1.0   up 1h02m   webhook 127.0.0.1:8080\n"
            "slots 4/10 (api)   rate 6/10 per min   credits 123.45 (ok, read 3m00s ago)\n"
            "webhooks last stored 0m12s ago, last hour 40 stored\n"
            "campaigns  running 2, paused 1, draft 2\n"
            "\n"
            "CAMPAIGN  STATE    DONE         CALLS  DUE/LATER  ETA    1H  5M  ANS   CREDITS\n"
            "spring    running  109/200 54%    3/5      12/76  2h10m  48   4  61%      12.5\n"
            "  waiting: no free slot (5/5 in use)\n"
            "  last error: HTTP 503 from the API\n"
            "autumn    running  0/5 0%         0/2        0/5  -       0   0  -           0\n"
            "  waiting: outside calling window of +18085550100 (Pacific/Honolulu); opens\n"
            "    2026-03-09T09:00:00-10:00 (in 8 h 59 min)\n"
            "winter    paused   1/10 10%       0/5        9/0  -       2   0  100%        1\n"
            "  waiting: paused after consecutive failed starts; last error: HTTP 500\n"
            "drafts (2): d1, d2\n")
      << screen;
  const std::string narrow = render_watch(status, campaigns, 40);
  std::istringstream in(narrow);
  for (std::string line; std::getline(in, line);) {
    const auto columns =
        std::count_if(line.begin(), line.end(), [](char ch) { return (ch & 0xC0) != 0x80; });
    EXPECT_LE(columns, 40) << line;
  }
  EXPECT_NE(narrow.find("CAMPAIGN  STATE    DONE         CALLS\n"), std::string::npos) << narrow;
  EXPECT_NE(
      narrow.find("  waiting: outside calling window of\n    +18085550100 (Pacific/Honolulu)…\n"),
      std::string::npos)
      << narrow;
  // No campaigns at all.
  EXPECT_NE(render_watch(obj(R"({})"), obj(R"({"campaigns": []})"), 80).find("no campaigns\n"),
            std::string::npos);
}

// The webhooks line says when an event was last stored, and shouts refusals (with the reason)
// and outcomes that had to be polled: a wrong secret is visible at a glance.
TEST(CtlRender, WebhooksLine) {
  EXPECT_EQ(render_webhooks_line(obj(R"({"webhooks": {"last_stored_age_s": 12,
      "stored_last_hour": 40, "refused_last_hour": 0, "last_refusal": null},
      "outcomes_by_poll_last_hour": 0})")),
            "webhooks last stored 0m12s ago, last hour 40 stored");
  EXPECT_EQ(render_webhooks_line(obj(R"({"webhooks": {"last_stored_age_s": null,
      "stored_last_hour": 0, "refused_last_hour": 37,
      "last_refusal": {"age_s": 5, "reason": "signature mismatch", "hint": "check"}},
      "outcomes_by_poll_last_hour": 12})")),
            "webhooks none stored yet, last hour 0 stored, 37 REFUSED (signature mismatch), 12 "
            "outcomes polled");
}

// `dialerctl status` is the watch header plus ambiguous attempts, an account block and jobs,
// not a dump of nested JSON.
TEST(CtlRender, StatusScreen) {
  const auto status = obj(R"({"version": "0.1.0", "uptime_s": 65, "pid": 42,
      "config_path": "/etc/dialerd/dialerd.yaml", "webhook_listen": "127.0.0.1:8080",
      "slots": {"used": 0, "limit": 5, "source": "api"},
      "rate": {"calls_per_minute": 10, "used_last_minute": 0},
      "credits": {"balance": 0.2, "state": "exhausted", "age_s": 4},
      "webhooks": {"last_stored_age_s": 3700, "stored_last_hour": 0, "refused_last_hour": 3,
                   "last_refusal": {"reason": "stale timestamp"}},
      "outcomes_by_poll_last_hour": 2,
      "account_block": {"reason": "auth", "message": "Invalid API key"},
      "campaigns": {"running": 1}, "ambiguous_attempts": 1,
      "ambiguous_overdue": {"count": 1, "oldest": []}, "starts_outstanding": 0,
      "api_unreachable": false, "jobs": []})");
  EXPECT_EQ(render_status(status),
            "dialerd 0.1.0   up 1m05s   webhook 127.0.0.1:8080\n"
            "slots 0/5 (api)   rate 0/10 per min   credits 0.2 (exhausted, read 0m04s ago)\n"
            "webhooks last stored 1h01m ago, last hour 0 stored, 3 REFUSED (stale timestamp), 2 "
            "outcomes polled\n"
            "DIALLING STOPPED (auth): Invalid API key\n"
            "campaigns  running 1\n"
            "ambiguous attempts 1 (1 past stale_call_timeout: settle with attempt-resolve)   "
            "starts unanswered 0\n"
            "pid 42   config /etc/dialerd/dialerd.yaml\n");
}

// A node of a pair on PostgreSQL says its role under the first line: the leader its takeovers,
// a standby who leads and that it does not dial. Standalone (SQLite) adds no line.
TEST(CtlRender, RoleLine) {
  const auto standby = obj(R"({"version": "0.1.0", "uptime_s": 5, "webhook_listen": "x:1",
      "role": "standby", "node": "b", "lease_epoch": 3, "takeovers": 0,
      "leader": {"node": "a", "since": "2026-12-05T10:00:00Z"}})");
  EXPECT_EQ(status_header_lines(standby).at(1),
            "role standby (node b, lease epoch 3)   leader a since 2026-12-05T10:00:00Z   NOT "
            "DIALLING");
  // No slots line: a standby's scheduler holds none.
  EXPECT_EQ(status_header_lines(standby).at(2).rfind("webhooks ", 0), 0u);
  const auto leader = obj(R"({"version": "0.1.0", "uptime_s": 5, "webhook_listen": "x:1",
      "role": "leader", "node": "a", "lease_epoch": 4, "takeovers": 2,
      "leader": {"node": "a", "since": "2026-12-05T10:00:00Z"}})");
  EXPECT_EQ(status_header_lines(leader).at(1), "role leader (node a, lease epoch 4)   takeovers 2");
  EXPECT_NE(render_watch(leader, obj(R"({"campaigns": []})"), 80)
                .find("\nrole leader (node a, lease epoch 4)   takeovers 2\n"),
            std::string::npos);
  const auto alone = obj(R"({"version": "0.1.0", "uptime_s": 5, "webhook_listen": "x:1",
      "role": "standalone"})");
  EXPECT_EQ(status_header_lines(alone).at(1).rfind("slots ", 0), 0u);
}

// --json output is indented JSON that parses back to the same value.
TEST(CtlRender, PrettyJson) {
  const auto v = json::parse(R"({"a": [1, {"b": null}], "c": {}, "d": "x\"y"})");
  const auto text = pretty_json(v);
  EXPECT_EQ(text,
            "{\n"
            "  \"a\": [\n"
            "    1,\n"
            "    {\n"
            "      \"b\": null\n"
            "    }\n"
            "  ],\n"
            "  \"c\": {},\n"
            "  \"d\": \"x\\\"y\"\n"
            "}\n");
  EXPECT_EQ(json::parse(text), v);
}

// Byte sizes and clock durations.
TEST(CtlRender, Units) {
  EXPECT_EQ(format_bytes(512), "512 B");
  EXPECT_EQ(format_bytes(1536), "1.5 KiB");
  EXPECT_EQ(format_bytes(3.5 * 1024 * 1024 * 1024), "3.5 GiB");
  EXPECT_EQ(format_clock(7), "0:07");
  EXPECT_EQ(format_clock(3723), "1:02:03");
}

}  // namespace
}  // namespace dialer::daemon::ctl
