// System tests of the running dialerd: readiness and watchdog on a fake NOTIFY_SOCKET, exit
// codes (5 another instance, 4 store, 3 config), SIGHUP with valid and invalid files, SIGTERM.

#include "daemon_test_support.hpp"
#include "store/sql/audit.hpp"
#include "store/sql/database.hpp"
#include "store/sql/inbox.hpp"
#include "store/sql/schema.hpp"

#include <gmock/gmock.h>

#include <cctype>
#include <sstream>
#include <sys/stat.h>

namespace dialer::systest {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// An API address nothing listens on (loopback, refused at once): for tests that place no call.
const std::string kNoApi = "http://127.0.0.1:9/api/v2";

// READY=1 comes first and only once the admin socket and webhook port answer; WATCHDOG=1 follows
// when WATCHDOG_USEC is set; SIGTERM brings STOPPING=1 and exit 0.
TEST(DaemonLifecycle, ReadinessWatchdogAndStoppingInOrder) {
  TempDir dir;
  const auto config = dir.write("dialerd.yaml", test_config(dir, kNoApi));
  Daemon d(dir, config, {"WATCHDOG_USEC=400000"});
  ASSERT_TRUE(d.ready());
  // Nothing before READY=1 claims readiness, and it came as the first message.
  EXPECT_EQ(d.notify().index_of("READY=1"), 0);
  // Once READY=1 is seen, the admin socket answers at once.
  auto status = d.call("status-get");
  ASSERT_EQ(result_of(status), 0) << d.log();
  const std::string listen(args_of(status).at("webhook_listen").as_string());
  EXPECT_THAT(listen, ::testing::StartsWith("127.0.0.1:"));
  EXPECT_NE(listen, "127.0.0.1:0");  // the real port, not the one asked for
  EXPECT_THAT(d.log(), HasSubstr(listen));
  // /healthz on that port says ok.
  auto health = run(dir, {"/usr/bin/curl", "-s", "-o", "/dev/stdout", "-w", " %{http_code}",
                          "http://" + listen + "/healthz"});
  EXPECT_THAT(health.out, HasSubstr("200"));
  EXPECT_THAT(health.out, HasSubstr("ok"));
  // The watchdog pings, twice at least, after READY=1.
  ASSERT_TRUE(d.notify().wait_for("WATCHDOG=1", 30s));
  ASSERT_TRUE(d.notify().wait_for("WATCHDOG=1", 30s));
  EXPECT_GT(d.notify().index_of("WATCHDOG=1"), d.notify().index_of("READY=1"));
  d.process().signal(SIGTERM);
  ASSERT_TRUE(d.notify().wait_for("STOPPING=1"));
  EXPECT_EQ(d.process().wait(kStartTimeout), 0) << d.log();
  EXPECT_GT(d.notify().index_of("STOPPING=1"), d.notify().index_of("WATCHDOG=1"));
  // Secrets never reach the log.
  EXPECT_THAT(d.log(), Not(HasSubstr("rg_test_secret_key")));
  EXPECT_THAT(d.log(), Not(HasSubstr("whsec_test_secret")));
}

// /metrics is on metrics.listen, not on the internet-facing webhook listener; GET and HEAD
// work; it carries dialer_build_info, process_* and per-campaign series. metrics.listen ""
// turns it off.
TEST(DaemonLifecycle, MetricsAreServedOnTheirOwnListener) {
  TempDir dir;
  const auto config = dir.write("dialerd.yaml", test_config(dir, kNoApi));
  Daemon d(dir, config);
  ASSERT_TRUE(d.ready());
  const auto status = args_of(d.call("status-get"));
  const std::string webhook(status.at("webhook_listen").as_string());
  const std::string metrics(status.at("metrics_listen").as_string());
  ASSERT_THAT(metrics, ::testing::StartsWith("127.0.0.1:"));
  EXPECT_NE(metrics, "127.0.0.1:0");
  EXPECT_NE(metrics, webhook);
  auto code = [&](const std::vector<std::string>& extra, const std::string& url) {
    std::vector<std::string> argv = {"/usr/bin/curl", "-s", "-o",
                                     "/dev/null",     "-w", "%{http_code}"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    argv.push_back(url);
    return run(dir, argv).out;
  };
  EXPECT_EQ(code({}, "http://" + webhook + "/metrics"), "404");
  EXPECT_EQ(code({"-I"}, "http://" + metrics + "/metrics"), "200");
  EXPECT_EQ(code({}, "http://" + metrics + "/healthz"), "404");

  ASSERT_EQ(
      result_of(d.call("campaign-create",
                       {{"name", "m1"}, {"agent_id", "3fa85f64-5717-4562-b3fc-2c963f66afa6"}})),
      0);
  const auto list = dir.write("list.csv", "phone\n+919876560001\n+919876560002\n");
  ASSERT_EQ(result_of(d.call("contacts-import", {{"campaign", "m1"}, {"path", list}})), 0);
  std::string text;
  // Per-campaign contact counts are read off the event loop: a later scrape shows them.
  EXPECT_TRUE(eventually(
      [&] {
        text = run(dir, {"/usr/bin/curl", "-s", "http://" + metrics + "/metrics"}).out;
        return text.find("dialer_campaign_contacts{campaign=\"m1\",state=\"queued\"} 2") !=
               std::string::npos;
      },
      30s))
      << text;
  EXPECT_THAT(text, HasSubstr("dialer_campaign_due_now{campaign=\"m1\"} 2"));
  EXPECT_THAT(text, HasSubstr("dialer_campaign_in_flight{campaign=\"m1\"} 0"));
  EXPECT_THAT(text, HasSubstr("dialer_build_info{version=\""));
  EXPECT_THAT(text, HasSubstr("dialer_credits_spent_total 0"));
  EXPECT_THAT(text, HasSubstr("dialer_account_blocked{reason=\"auth\"} 0"));
  EXPECT_THAT(text, HasSubstr("dialer_webhook_last_stored_timestamp_seconds 0"));
  EXPECT_THAT(text, HasSubstr("dialer_ambiguous_attempts 0"));
  EXPECT_THAT(text, ::testing::ContainsRegex("process_resident_memory_bytes [1-9]"));
  EXPECT_THAT(text, ::testing::ContainsRegex("process_open_fds [1-9]"));
  EXPECT_THAT(text, HasSubstr("process_cpu_seconds_total"));
  EXPECT_THAT(text, HasSubstr("process_start_time_seconds"));
  // Every metric contrib/ (Grafana dashboard, Prometheus rules) names is one dialerd serves.
  const auto scrape = dir.write("scrape.txt", text);
  auto contrib =
      run(dir, {std::string(DIALER_SOURCE_DIR) + "/tests/system/contrib_metrics_check.sh",
                DIALER_SOURCE_DIR, scrape});
  EXPECT_EQ(contrib.exit_code, 0) << contrib.out << contrib.err;
  d.process().signal(SIGTERM);
  EXPECT_EQ(d.process().wait(kStartTimeout), 0) << d.log();

  // Off: no listener, and status-get says so.
  TempDir off_dir;
  std::string off_text = test_config(off_dir, kNoApi);
  const std::string on = "metrics:\n  listen: 127.0.0.1:0\n";
  ASSERT_NE(off_text.find(on), std::string::npos);
  off_text.replace(off_text.find(on), on.size(), "metrics:\n  listen: \"\"\n");
  Daemon off(off_dir, off_dir.write("dialerd.yaml", off_text));
  ASSERT_TRUE(off.ready());
  EXPECT_EQ(args_of(off.call("status-get")).at("metrics_listen").as_string(), "");
}

// Without WATCHDOG_USEC there is no WATCHDOG=1; SIGINT is a clean shutdown too.
TEST(DaemonLifecycle, NoWatchdogWithoutWatchdogUsecAndSigintExitsZero) {
  TempDir dir;
  const auto config = dir.write("dialerd.yaml", test_config(dir, kNoApi));
  Daemon d(dir, config);
  ASSERT_TRUE(d.ready());
  d.process().signal(SIGINT);
  ASSERT_TRUE(d.notify().wait_for("STOPPING=1"));
  EXPECT_EQ(d.process().wait(kStartTimeout), 0) << d.log();
  EXPECT_EQ(d.notify().index_of("WATCHDOG=1"), -1);
}

// A notify socket whose queue is full (nobody reads it) never blocks the daemon: it starts,
// answers on its admin socket, and stops on SIGTERM — status reports it could not deliver are
// dropped, not waited for. (sd_notify blocks in sendmsg on a full queue.)
TEST(DaemonLifecycle, ANotifySocketNobodyReadsNeverBlocksTheDaemon) {
  TempDir dir;
  const auto config = dir.write("dialerd.yaml", test_config(dir, kNoApi));
  const auto path = dir.path() / "full-notify";
  NotifySocket unread(path);
  // Fill its queue the way a stalled supervisor would leave it.
  const int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  ASSERT_GE(fd, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
  int queued = 0;
  for (; queued < 100'000; ++queued) {
    if (::sendto(fd, "X=1", 3, MSG_DONTWAIT, reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0) {
      break;
    }
  }
  ::close(fd);
  ASSERT_GT(queued, 0);
  ASSERT_LT(queued, 100'000) << "the queue never filled";

  Process::Spec spec;
  spec.argv = {kDialerd, "--config", config};
  spec.env = child_env({unread.env()});
  spec.stdout_path = "/dev/null";
  spec.stderr_path = dir.file("dialerd.err");
  Process p(std::move(spec));
  EXPECT_TRUE(
      eventually([&] { return result_of(admin(dir.path() / "admin.sock", "status-get", {})) == 0; },
                 kStartTimeout))
      << read_file(dir.file("dialerd.err"));
  p.signal(SIGTERM);
  EXPECT_EQ(p.wait(kStartTimeout), 0) << read_file(dir.file("dialerd.err"));
}

// A second dialerd on the same admin socket exits 5 and names the lock; the first keeps running.
TEST(DaemonLifecycle, SecondInstanceOnTheSameSocketExitsFive) {
  TempDir dir;
  const auto config = dir.write("dialerd.yaml", test_config(dir, kNoApi));
  Daemon first(dir, config);
  ASSERT_TRUE(first.ready());
  auto second = run(dir, {kDialerd, "--config", config});
  EXPECT_EQ(second.exit_code, 5) << second.err;
  EXPECT_THAT(second.err, HasSubstr("another dialerd"));
  EXPECT_EQ(result_of(first.call("version-get")), 0);
  EXPECT_EQ(result_of(first.call("shutdown")), 0);
  EXPECT_EQ(first.process().wait(kStartTimeout), 0) << first.log();
}

// A store file that is no database, and one written by a newer schema: exit 4, saying why (the
// latter naming both versions).
TEST(DaemonLifecycle, StoreThatCannotBeOpenedOrIsNewerExitsFour) {
  TempDir dir;
  const auto config = dir.write("dialerd.yaml", test_config(dir, kNoApi));
  dir.write("dialerd.db", std::string(8192, 'x'));
  auto garbage = run(dir, {kDialerd, "--config", config});
  EXPECT_EQ(garbage.exit_code, 4) << garbage.err;
  EXPECT_THAT(garbage.err, HasSubstr(dir.file("dialerd.db")));

  fs::remove(dir.file("dialerd.db"));
  ASSERT_EQ(
      run(dir, {"/usr/bin/sqlite3", dir.file("dialerd.db"), "PRAGMA user_version = 99;"}).exit_code,
      0);
  auto newer = run(dir, {kDialerd, "--config", config});
  EXPECT_EQ(newer.exit_code, 4) << newer.err;
  EXPECT_THAT(newer.err, HasSubstr("99"));
  EXPECT_THAT(newer.err,
              HasSubstr("supports up to " + std::to_string(store::current_schema_version())));
}

// An invalid config in daemon mode: exit 3 with file:line:col, nothing started.
TEST(DaemonLifecycle, InvalidConfigExitsThree) {
  TempDir dir;
  const auto config =
      dir.write("dialerd.yaml", test_config(dir, kNoApi) + "logging:\n  level: loud\n");
  auto r = run(dir, {kDialerd, "--config", config});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_THAT(r.err, HasSubstr(config + ":"));
  EXPECT_THAT(r.err, HasSubstr("logging.level"));
  EXPECT_FALSE(fs::exists(dir.file("admin.sock")));
}

// SIGHUP with a valid changed file: RELOADING=1 then READY=1, the new value in force; with an
// invalid file: still running on the old one, the log says why, and config-reload answers 1.
TEST(DaemonLifecycle, SighupAppliesValidFileAndKeepsOldOnInvalid) {
  TempDir dir;
  const auto base = test_config(dir, kNoApi);
  const auto config = dir.write("dialerd.yaml", base);
  Daemon d(dir, config);
  ASSERT_TRUE(d.ready());
  auto before = args_of(d.call("config-get"));
  EXPECT_EQ(before.at("config").at("vocobase").at("calls_per_minute").as_int64(), 10);
  EXPECT_EQ(before.at("config").at("vocobase").at("api_key").as_string(), "<redacted>");

  // Valid: a live key and a restart-only key.
  std::string text = base + "logging:\n  level: debug\n";
  text.replace(text.find("request_timeout: 10s"), 20,
               "request_timeout: 10s\n  calls_per_minute: 7");
  text.replace(text.find("synchronous: normal"), 19, "synchronous: full");
  dir.write("dialerd.yaml", text);
  d.process().signal(SIGHUP);
  ASSERT_TRUE(d.notify().wait_for("RELOADING=1"));
  ASSERT_TRUE(d.notify().wait_for("READY=1"));
  auto after = args_of(d.call("config-get"));
  EXPECT_EQ(after.at("config").at("vocobase").at("calls_per_minute").as_int64(), 7);
  auto status = args_of(d.call("status-get"));
  EXPECT_EQ(status.at("rate").at("calls_per_minute").as_int64(), 7);
  EXPECT_THAT(d.log(), HasSubstr("config reloaded"));
  EXPECT_THAT(d.log(), HasSubstr("store.synchronous"));  // named as needing a restart

  // Invalid: the daemon keeps the previous config and says why.
  dir.write("dialerd.yaml", text + "scheduler:\n  reconcile_after: soon\n");
  d.process().signal(SIGHUP);
  ASSERT_TRUE(d.notify().wait_for("RELOADING=1"));
  ASSERT_TRUE(d.notify().wait_for("READY=1"));
  EXPECT_THAT(d.log(), HasSubstr("still running on the previous config"));
  EXPECT_EQ(
      args_of(d.call("config-get")).at("config").at("vocobase").at("calls_per_minute").as_int64(),
      7);
  auto reply = d.call("config-reload");
  EXPECT_EQ(result_of(reply), 1);
  EXPECT_THAT(text_of(reply), HasSubstr("dialerd.yaml:"));
  EXPECT_EQ(result_of(d.call("status-get")), 0);

  // Fixed again: config-reload answers 0 and lists what changed.
  dir.write("dialerd.yaml", base);
  auto fixed = d.call("config-reload");
  EXPECT_EQ(result_of(fixed), 0) << text_of(fixed);
  EXPECT_FALSE(args_of(fixed).at("changed").as_array().empty());
  d.process().signal(SIGTERM);
  EXPECT_EQ(d.process().wait(kStartTimeout), 0) << d.log();
}

// logging.format json: every line is an object, the subjects a message names are fields of
// their own (campaign, contact, attempt, call_id), and a refused admin command says why.
TEST(DaemonLifecycle, JsonLogLinesCarryTheirSubjectsAndRefusalsTheirReason) {
  TempDir dir;
  const auto config = dir.write(
      "dialerd.yaml", test_config(dir, kNoApi, "127.0.0.1:0", "logging:\n  format: json\n"));
  Daemon d(dir, config);
  ASSERT_TRUE(d.ready());
  ASSERT_EQ(
      result_of(d.call("campaign-create", {{"name", "jsonlog"},
                                           {"agent_id", "3fa85f64-5717-4562-b3fc-2c963f66afa6"}})),
      0);
  const auto list = dir.write("list.csv", "phone\n+919876560001\n");
  ASSERT_EQ(result_of(d.call("contacts-import", {{"campaign", "jsonlog"}, {"path", list}})), 0);
  EXPECT_EQ(result_of(d.call("campaign-start", {{"campaign", "jsonlog"}})), 4);
  d.process().signal(SIGTERM);
  ASSERT_EQ(d.process().wait(kStartTimeout), 0) << d.log();

  bool refusal = false;
  bool with_campaign = false;
  std::istringstream lines(d.log());
  for (std::string line; std::getline(lines, line);) {
    boost::system::error_code ec;
    const auto v = json::parse(line, ec);
    ASSERT_FALSE(ec) << "not JSON: " << line;
    const auto& o = v.as_object();
    const std::string message(o.at("message").as_string());
    if (message.find("admin: campaign-start by uid") != std::string::npos) {
      refusal = true;
      EXPECT_THAT(message, HasSubstr(": result 4: campaign jsonlog cannot start: "));
    }
    if (const auto* c = o.if_contains("campaign"); c && c->as_string() == "jsonlog") {
      with_campaign = true;
    }
  }
  EXPECT_TRUE(refusal) << d.log();
  EXPECT_TRUE(with_campaign) << d.log();
}

// config-get shows the config in force: after a reload that needs a restart (a new
// webhook.listen) the old address, still bound, with the file's value beside it under
// pending_restart; putting the file back is no change at all — no false "restart needed".
TEST(DaemonLifecycle, ConfigGetShowsTheConfigInForce) {
  TempDir dir;
  const auto base = test_config(dir, kNoApi);
  const auto config = dir.write("dialerd.yaml", base);
  Daemon d(dir, config);
  ASSERT_TRUE(d.ready());
  const std::string bound(args_of(d.call("status-get")).at("webhook_listen").as_string());
  const std::string moved = "127.0.0.1:" + std::to_string(reserve_loopback_port());
  std::string text = base;
  text.replace(text.find("listen: 127.0.0.1:0"), 19, "listen: " + moved);
  text.replace(text.find("reconcile_after: 10s"), 20, "reconcile_after: 20s");
  dir.write("dialerd.yaml", text);
  auto reload = d.call("config-reload");
  ASSERT_EQ(result_of(reload), 0) << text_of(reload);
  EXPECT_EQ(json::serialize(args_of(reload).at("needs_restart")), R"(["webhook.listen"])");

  auto got = d.call("config-get");
  const auto& in_force = args_of(got).at("config").as_object();
  EXPECT_EQ(in_force.at("webhook").at("listen").as_string(), "127.0.0.1:0");
  EXPECT_EQ(in_force.at("scheduler").at("reconcile_after").as_string(), "20s");  // live
  const auto& pending = args_of(got).at("pending_restart").as_array();
  ASSERT_EQ(pending.size(), 1u) << json::serialize(pending);
  EXPECT_EQ(pending[0].at("key").as_string(), "webhook.listen");
  EXPECT_EQ(pending[0].at("in_force").as_string(), "127.0.0.1:0");
  EXPECT_EQ(pending[0].at("in_file").as_string(), moved);
  EXPECT_THAT(text_of(got), HasSubstr("webhook.listen wait(s) for a restart"));
  EXPECT_EQ(args_of(d.call("status-get")).at("webhook_listen").as_string(), bound);

  dir.write("dialerd.yaml", base);
  auto back = d.call("config-reload");
  ASSERT_EQ(result_of(back), 0) << text_of(back);
  EXPECT_EQ(json::serialize(args_of(back).at("needs_restart")), "[]");
  EXPECT_EQ(json::serialize(args_of(back).at("changed")), R"(["scheduler.reconcile_after"])");
  EXPECT_TRUE(args_of(d.call("config-get")).at("pending_restart").as_array().empty());
  d.process().signal(SIGTERM);
  EXPECT_EQ(d.process().wait(kStartTimeout), 0) << d.log();
}

// Under journald (JOURNAL_STREAM naming stderr's device and inode) every line starts with its
// syslog priority — <6> for info, <3> for an error — so `journalctl -p err` finds errors; the
// journal stamps the time. JOURNAL_STREAM naming another stream (stderr redirected) changes
// nothing: the plain timestamped lines.
TEST(DaemonLifecycle, JournalStreamLinesCarryTheirPriority) {
  TempDir dir;
  const auto base = test_config(dir, kNoApi);
  const auto config = dir.write("dialerd.yaml", base);
  const std::string err_path = dir.write("journal.err", "");
  struct stat st {};
  ASSERT_EQ(::stat(err_path.c_str(), &st), 0);
  NotifySocket notify(dir.path() / "notify-journal");
  Process::Spec spec;
  spec.argv = {kDialerd, "--config", config};
  spec.env = child_env({notify.env(), "JOURNAL_STREAM=" + std::to_string(st.st_dev) + ":" +
                                          std::to_string(st.st_ino)});
  spec.stdout_path = dir.file("journal.out");
  spec.stderr_path = err_path;  // opened with O_TRUNC: the same inode
  Process p(std::move(spec));
  ASSERT_TRUE(notify.wait_for("READY=1")) << p.err();
  dir.write("dialerd.yaml", base + "scheduler:\n  reconcile_after: soon\n");
  EXPECT_EQ(result_of(admin(dir.path() / "admin.sock", "config-reload", {})), 1);
  p.signal(SIGTERM);
  ASSERT_EQ(p.wait(kStartTimeout), 0) << p.err();
  const std::string log = read_file(err_path);
  bool info_ready = false;
  bool error_reload = false;
  std::istringstream lines(log);
  for (std::string line; std::getline(lines, line);) {
    if (line.empty()) continue;
    EXPECT_TRUE(line.size() > 3 && line[0] == '<' && line[2] == '>') << line;
    info_ready = info_ready || line.rfind("<6>info: ready:", 0) == 0;
    error_reload = error_reload || line.rfind("<3>error: reload:", 0) == 0;
  }
  EXPECT_TRUE(info_ready) << log;
  EXPECT_TRUE(error_reload) << log;

  // Another stream: no prefixes.
  dir.write("dialerd.yaml", base);
  Daemon other(dir, config, {"JOURNAL_STREAM=1:1"});
  ASSERT_TRUE(other.ready());
  other.process().signal(SIGTERM);
  ASSERT_EQ(other.process().wait(kStartTimeout), 0);
  std::istringstream plain(other.log());
  for (std::string line; std::getline(plain, line);) {
    if (line.empty()) continue;
    EXPECT_TRUE(std::isdigit(static_cast<unsigned char>(line[0]))) << line;
  }
}

// The API key is live on reload: a daemon started with a key the API refuses (401) uses the
// corrected key after SIGHUP, without a restart (its GET /config then answers).
TEST(DaemonLifecycle, ReloadAppliesANewApiKeyWithoutRestart) {
  if (!Sim::exists()) GTEST_SKIP() << "vocobase-sim is not built";
  TempDir dir;
  Sim sim(dir, {"--api-key", "rg_live_rotated_key"});
  const auto wrong = test_config(dir, sim.base_url());  // rg_test_secret_key
  const auto config = dir.write("dialerd.yaml", wrong);
  Daemon d(dir, config);
  ASSERT_TRUE(d.ready());
  const auto refused_auth = [&] {
    const auto v = sim_stats(dir, sim);
    return v.empty() ? 0 : v.at("refused").at("auth").to_number<std::int64_t>();
  };
  ASSERT_TRUE(eventually([&] { return refused_auth() > 0; }, kStartTimeout)) << d.log();
  EXPECT_TRUE(args_of(d.call("status-get")).at("credits").at("polled_at").is_null());

  auto right = wrong;
  right.replace(right.find("rg_test_secret_key"), std::string("rg_test_secret_key").size(),
                "rg_live_rotated_key");
  dir.write("dialerd.yaml", right);
  d.process().signal(SIGHUP);
  ASSERT_TRUE(d.notify().wait_for("RELOADING=1"));
  ASSERT_TRUE(d.notify().wait_for("READY=1"));
  ASSERT_TRUE(eventually(
      [&] { return !args_of(d.call("status-get")).at("credits").at("polled_at").is_null(); },
      kStartTimeout))
      << d.log();
  EXPECT_THAT(d.log(), HasSubstr("changed vocobase.api_key"));
  EXPECT_THAT(d.log(), Not(HasSubstr("restart is needed to apply vocobase.api_key")));
  EXPECT_THAT(d.log(), Not(HasSubstr("rg_live_rotated_key")));
  EXPECT_THAT(d.log(), Not(HasSubstr("rg_test_secret_key")));
  d.process().signal(SIGTERM);
  EXPECT_EQ(d.process().wait(kStartTimeout), 0) << d.log();
}

// Housekeeping: at start (and hourly) dialerd deletes applied webhook inbox rows older than
// store.inbox_retention and audit entries older than store.audit_retention, logs what it did,
// and leaves recent rows alone.
TEST(DaemonLifecycle, PrunesOldInboxAndAuditRowsAtStart) {
  TempDir dir;
  auto text = test_config(dir, kNoApi);
  const std::string sync = "  synchronous: normal\n";
  ASSERT_NE(text.find(sync), std::string::npos);
  text.insert(text.find(sync) + sync.size(), "  inbox_retention: 2d\n  audit_retention: 30d\n");
  const auto config = dir.write("dialerd.yaml", text);
  {
    Daemon first(dir, config);  // creates the store
    ASSERT_TRUE(first.ready());
    first.process().signal(SIGTERM);
    ASSERT_EQ(first.process().wait(kStartTimeout), 0) << first.log();
  }
  const auto now = std::chrono::time_point_cast<Millis>(std::chrono::system_clock::now());
  {
    auto db = store::Database::open(dir.file("dialerd.db"));
    ASSERT_TRUE(db) << db.error().what();
    store::SqlInbox inbox(*db);
    ASSERT_TRUE(inbox.insert({"old-session", "old-call", "{}", now - 72h}));
    ASSERT_TRUE(inbox.mark_applied(inbox.find_by_session("old-session").value()->id, now - 72h));
    ASSERT_TRUE(inbox.insert({"new-session", "new-call", "{}", now - 1h}));
    ASSERT_TRUE(inbox.mark_applied(inbox.find_by_session("new-session").value()->id, now - 1h));
    store::SqlAudit audit(*db);
    ASSERT_TRUE(audit.append({now - 40 * 24h, "system", "old-entry", "", "{}", ""}));
    ASSERT_TRUE(audit.append({now - 20 * 24h, "system", "kept-entry", "", "{}", ""}));
  }
  Daemon d(dir, config);
  ASSERT_TRUE(d.ready());
  ASSERT_TRUE(eventually(
      [&] {
        return d.log().find("housekeeping: deleted 1 applied webhook inbox row") !=
               std::string::npos;
      },
      kStartTimeout))
      << d.log();
  EXPECT_THAT(d.log(), HasSubstr("1 audit entry older than"));
  d.process().signal(SIGTERM);
  ASSERT_EQ(d.process().wait(kStartTimeout), 0) << d.log();

  auto db = store::Database::open(dir.file("dialerd.db"));
  ASSERT_TRUE(db) << db.error().what();
  store::SqlInbox inbox(*db);
  EXPECT_FALSE(inbox.find_by_session("old-session").value().has_value());
  EXPECT_TRUE(inbox.find_by_session("new-session").value().has_value());
  store::SqlAudit audit(*db);
  bool old_seen = false, kept_seen = false;
  for (const auto& row : audit.recent(1000).value()) {
    old_seen = old_seen || row.entry.action == "old-entry";
    kept_seen = kept_seen || row.entry.action == "kept-entry";
  }
  EXPECT_FALSE(old_seen);
  EXPECT_TRUE(kept_seen);
}

}  // namespace
}  // namespace dialer::systest
