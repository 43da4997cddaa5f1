// System tests of every admin command against a running dialerd and vocobase-sim: each command
// round-trips with its exact result code, over the raw socket protocol and through dialerctl;
// state-changing commands land in the audit log; imports through passed descriptors.

#include "daemon_test_support.hpp"

#include <gmock/gmock.h>

#include <set>

namespace dialer::systest {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr const char* kAgent = "3fa85f64-5717-4562-b3fc-2c963f66afa6";

std::string ids_of(const json::array& a, const char* key) {
  std::string out;
  for (const auto& v : a) out += std::string(v.at(key).as_string()) + " ";
  return out;
}

class DaemonAdmin : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!Sim::exists()) GTEST_SKIP() << "vocobase-sim is not built";
    // Long calls, so that some are still in flight while the commands run.
    sim_ = std::make_unique<Sim>(
        dir_, std::vector<std::string>{"--api-key", "rg_test_secret_key", "--time-scale", "1",
                                       "--duration-mean", "600s", "--outcomes", "completed=1",
                                       "--providers", "twilio,plivo"});
    config_ = dir_.write("dialerd.yaml", test_config(dir_, sim_->base_url()));
    daemon_ = std::make_unique<Daemon>(dir_, config_);
    ASSERT_TRUE(daemon_->ready());
  }

  json::object call(const std::string& command, const json::object& args = {}) {
    return daemon_->call(command, args);
  }
  RunResult ctl(std::vector<std::string> args, int stdin_fd = -1) {
    return daemon_->ctl(std::move(args), stdin_fd);
  }

  TempDir dir_;
  std::unique_ptr<Sim> sim_;
  std::string config_;
  std::unique_ptr<Daemon> daemon_;
};

// Every command of CONTRACT.md answers with its exact result code, in a realistic sequence.
TEST_F(DaemonAdmin, EveryCommandRoundTripsWithItsResultCode) {
  // list-commands names every contract command.
  auto listed = call("list-commands");
  ASSERT_EQ(result_of(listed), 0) << daemon_->log();
  std::set<std::string> names;
  for (const auto& n : args_of(listed).at("commands").as_array()) names.emplace(n.as_string());
  for (const char* c : {"list-commands",   "version-get",   "status-get",      "config-get",
                        "config-reload",   "shutdown",      "campaign-create", "campaign-update",
                        "campaign-list",   "campaign-get",  "campaign-start",  "campaign-pause",
                        "campaign-resume", "campaign-stop", "campaign-stats",  "campaign-export",
                        "contacts-import", "contacts-list", "calls-list",      "dnc-add",
                        "dnc-remove",      "dnc-list",      "dnc-import",      "attempt-resolve",
                        "account-unblock", "log-level-set"}) {
    EXPECT_TRUE(names.contains(c)) << c;
  }

  // version-get, status-get (every key CONTRACT.md names), config-get (secrets redacted).
  auto version = call("version-get");
  EXPECT_EQ(result_of(version), 0);
  EXPECT_FALSE(args_of(version).at("version").as_string().empty());
  auto status = call("status-get");
  ASSERT_EQ(result_of(status), 0);
  const auto& s = args_of(status);
  for (const char* k :
       {"version", "uptime_s", "webhook_listen", "slots", "rate", "credits", "campaigns"}) {
    EXPECT_TRUE(s.contains(k)) << k;
  }
  for (const char* k : {"used", "limit", "source"})
    EXPECT_TRUE(s.at("slots").as_object().contains(k));
  for (const char* k : {"calls_per_minute", "used_last_minute"}) {
    EXPECT_TRUE(s.at("rate").as_object().contains(k));
  }
  for (const char* k : {"balance", "state"}) EXPECT_TRUE(s.at("credits").as_object().contains(k));
  EXPECT_EQ(s.at("campaigns").at("draft").as_int64(), 0);
  auto config = call("config-get");
  EXPECT_EQ(result_of(config), 0);
  const std::string config_text = json::serialize(config);
  EXPECT_THAT(config_text, Not(HasSubstr("rg_test_secret_key")));
  EXPECT_THAT(config_text, Not(HasSubstr("whsec_test_secret")));
  EXPECT_THAT(config_text, HasSubstr("<redacted>"));

  // campaign-create: dialerctl's compact flags; a duplicate name is a conflict; bad input is 1
  // with the position; a campaign file with a mistake names the file and line.
  auto created =
      ctl({"campaign", "create", "spring", "--agent", kAgent, "--provider", "twilio", "--window",
           "mon-sun,00:00-24:00", "--retry", "no_answer=10m/2", "--max-concurrency", "2"});
  ASSERT_EQ(created.exit_code, 0) << created.err << daemon_->log();
  auto got = call("campaign-get", {{"campaign", "spring"}});
  ASSERT_EQ(result_of(got), 0);
  EXPECT_EQ(args_of(got).at("state").as_string(), "draft");
  EXPECT_EQ(args_of(got).at("retry").at("no_answer").at("delay").as_string(), "10m");
  EXPECT_EQ(args_of(got).at("window").at("end").as_string(), "24:00");
  EXPECT_EQ(args_of(got).at("max_concurrency").as_int64(), 2);
  EXPECT_EQ(result_of(call("campaign-create", {{"name", "spring"}, {"agent_id", kAgent}})), 4);
  auto bad_create = call("campaign-create",
                         {{"name", "autumn"}, {"agent_id", kAgent}, {"max_concurrency", "many"}});
  EXPECT_EQ(result_of(bad_create), 1);
  EXPECT_THAT(text_of(bad_create), HasSubstr("argument 'max_concurrency'"));
  EXPECT_THAT(text_of(bad_create), Not(HasSubstr("request:")));
  // Through dialerctl, the flag that set the field is named, not a spot in its JSON.
  auto bad_flags = ctl({"campaign", "create", "winter", "--agent", kAgent, "--timezone",
                        "Mars/Olympus", "--window", "mon-fri,25:00-26:00"});
  EXPECT_EQ(bad_flags.exit_code, 1);
  EXPECT_THAT(bad_flags.err, HasSubstr("--window: "));
  EXPECT_THAT(bad_flags.err, Not(HasSubstr("request:")));
  auto bad_zone =
      ctl({"campaign", "create", "winter", "--agent", kAgent, "--timezone", "Mars/Olympus"});
  EXPECT_EQ(bad_zone.exit_code, 1);
  EXPECT_THAT(bad_zone.err, HasSubstr("--timezone: unknown time zone \"Mars/Olympus\""));
  EXPECT_THAT(bad_zone.err, Not(HasSubstr("request:")));
  const auto spec = dir_.write("autumn.yaml", "name: autumn\nagent_id: " + std::string(kAgent) +
                                                  "\nwindow:\n  start: \"25:00\"\n");
  auto from_file = ctl({"campaign", "create", "-f", spec});
  EXPECT_EQ(from_file.exit_code, 1);
  EXPECT_THAT(from_file.err, HasSubstr("autumn.yaml:4:"));
  dir_.write("autumn.yaml", "name: autumn\nagent_id: " + std::string(kAgent) + "\npriority: 3\n");
  EXPECT_EQ(ctl({"campaign", "create", "-f", spec}).exit_code, 0);
  EXPECT_EQ(args_of(call("campaign-get", {{"campaign", "autumn"}})).at("priority").as_int64(), 3);

  // An unknown campaign is nothing found (3) for lookups and actions alike (CONTRACT.md).
  EXPECT_EQ(result_of(call("campaign-get", {{"campaign", "nosuch"}})), 3);
  EXPECT_EQ(result_of(call("campaign-stats", {{"campaign", "nosuch"}})), 3);
  auto start_unknown = call("campaign-start", {{"campaign", "nosuch"}});
  EXPECT_EQ(result_of(start_unknown), 3);
  EXPECT_THAT(text_of(start_unknown), HasSubstr("nosuch"));
  EXPECT_EQ(ctl({"campaign", "get", "nosuch"}).exit_code, 3);

  // A draft cannot be paused or resumed, nor started without contacts (conflicts, 4).
  EXPECT_EQ(result_of(call("campaign-pause", {{"campaign", "spring"}})), 4);
  EXPECT_EQ(ctl({"campaign", "pause", "spring"}).exit_code, 4);
  EXPECT_EQ(result_of(call("campaign-resume", {{"campaign", "spring"}})), 4);
  EXPECT_EQ(result_of(call("campaign-start", {{"campaign", "spring"}})), 4);
  EXPECT_EQ(result_of(call("contacts-list", {{"campaign", "spring"}})), 3);

  // contacts-import by a path the daemon opens itself; a missing file is an error.
  const auto csv = dir_.write("list.csv",
                              "phone,name,city\n"
                              "+919876500001,Ravi,Pune\n"
                              "+919876500002,Asha,Delhi\n"
                              "98765 00003,Vik,Goa\n"
                              "not-a-number,Bad,X\n"
                              "+919876500001,Dup,Y\n");
  auto imported =
      call("contacts-import", {{"campaign", "spring"}, {"path", csv}, {"default_region", "IN"}});
  ASSERT_EQ(result_of(imported), 0) << text_of(imported);
  const auto& report = args_of(imported);
  EXPECT_EQ(report.at("rows").as_int64(), 5);
  EXPECT_EQ(report.at("imported").as_int64(), 3);
  EXPECT_EQ(report.at("invalid").as_int64(), 1);
  EXPECT_EQ(report.at("duplicates").as_int64(), 1);
  EXPECT_EQ(report.at("errors").as_array().at(0).at("line").as_int64(), 5);
  EXPECT_EQ(result_of(call("contacts-import",
                           {{"campaign", "spring"}, {"path", dir_.file("missing.csv")}})),
            1);
  EXPECT_EQ(result_of(call("contacts-import",
                           {{"campaign", "spring"}, {"path", csv}, {"default_region", "XX"}})),
            1);
  auto contacts = call("contacts-list", {{"campaign", "spring"}});
  ASSERT_EQ(result_of(contacts), 0);
  EXPECT_EQ(args_of(contacts).at("contacts").as_array().size(), 3u);
  EXPECT_EQ(args_of(contacts).at("contacts").at(0).at("variables").at("city").as_string(), "Pune");

  // campaign-update changes fields of a draft.
  EXPECT_EQ(result_of(call("campaign-update", {{"campaign", "spring"}, {"max_concurrency", 1}})),
            0);
  EXPECT_EQ(result_of(call("campaign-update", {{"campaign", "spring"}, {"weight", -3}})), 1);

  // campaign delete: a draft goes (audited), anything else is a conflict, unknown is 3.
  ASSERT_EQ(result_of(call("campaign-create", {{"name", "scratch"}, {"agent_id", kAgent}})), 0);
  EXPECT_EQ(ctl({"campaign", "delete", "no-such"}).exit_code, 3);
  auto deleted = ctl({"campaign", "delete", "scratch"});
  EXPECT_EQ(deleted.exit_code, 0) << deleted.err;
  EXPECT_THAT(deleted.out, HasSubstr("campaign scratch deleted"));
  EXPECT_EQ(result_of(call("campaign-get", {{"campaign", "scratch"}})), 3);

  // DNC: add skips the queued contact with that number; garbage is an error; list, remove.
  auto dnc = ctl({"dnc", "add", "+919876500002"});
  EXPECT_EQ(dnc.exit_code, 0) << dnc.err;
  auto skipped = call("contacts-list", {{"campaign", "spring"}, {"state", "skipped"}});
  ASSERT_EQ(result_of(skipped), 0);
  EXPECT_EQ(args_of(skipped).at("contacts").at(0).at("phone").as_string(), "+919876500002");
  EXPECT_EQ(args_of(skipped).at("contacts").at(0).at("reason").as_string(), "dnc");
  EXPECT_EQ(result_of(call("dnc-add", {{"numbers", json::array{"hello"}}})), 1);
  EXPECT_EQ(result_of(call("dnc-add", {{"numbers", "+919876500002"}})), 1);
  // A national number without a region says what is missing, and how to give it.
  auto national = ctl({"dnc", "add", "98765 00003"});
  EXPECT_EQ(national.exit_code, 1);
  EXPECT_THAT(national.err, HasSubstr("'98765 00003': a national number: give its region with "
                                      "--default-region"))
      << national.err;
  EXPECT_EQ(ctl({"dnc", "add", "98765 00003", "--default-region", "IN"}).exit_code, 0);
  EXPECT_EQ(result_of(call("dnc-remove", {{"numbers", json::array{"+919876500003"}}})), 0);
  auto dnc_list = call("dnc-list");
  EXPECT_EQ(result_of(dnc_list), 0);
  EXPECT_EQ(args_of(dnc_list).at("total").as_int64(), 1);
  EXPECT_EQ(result_of(call("dnc-remove", {{"numbers", json::array{"+919999999999"}}})), 3);
  const auto dnc_file = dir_.write("dnc.txt", "number\n+919800000001\n098000 00002\nnope\n");
  auto dnc_import = call("dnc-import", {{"path", dnc_file}, {"default_region", "IN"}});
  ASSERT_EQ(result_of(dnc_import), 0) << text_of(dnc_import);
  EXPECT_EQ(args_of(dnc_import).at("added").as_int64(), 2);
  EXPECT_EQ(args_of(dnc_import).at("invalid").as_int64(), 1);
  EXPECT_EQ(result_of(call("dnc-remove", {{"numbers", json::array{"+919800000001"}}})), 0);
  EXPECT_EQ(args_of(call("dnc-list")).at("total").as_int64(), 2);

  // Start, and a second start is a conflict; a call goes out and is listed in flight.
  auto started = ctl({"campaign", "start", "spring"});
  ASSERT_EQ(started.exit_code, 0) << started.err << daemon_->log();
  EXPECT_EQ(result_of(call("campaign-start", {{"campaign", "spring"}})), 4);
  EXPECT_EQ(ctl({"campaign", "delete", "spring"}).exit_code, 4);  // running: stop it instead
  json::object in_flight;
  ASSERT_TRUE(eventually(
      [&] {
        in_flight = call("calls-list", {{"in_flight", true}});
        return result_of(in_flight) == 0;
      },
      kStartTimeout))
      << daemon_->log();
  EXPECT_EQ(args_of(in_flight).at("calls").at(0).at("campaign").as_string(), "spring");
  EXPECT_EQ(result_of(call("calls-list")), 0);
  EXPECT_EQ(result_of(call("calls-list", {{"in_flight", "yes"}})), 1);

  // Pause (again: conflict), resume, stats with the CONTRACT keys.
  EXPECT_EQ(result_of(call("campaign-pause", {{"campaign", "spring"}})), 0);
  EXPECT_EQ(result_of(call("campaign-pause", {{"campaign", "spring"}})), 4);
  EXPECT_EQ(result_of(call("campaign-resume", {{"campaign", "spring"}})), 0);
  auto stats = call("campaign-stats", {{"campaign", "spring"}});
  ASSERT_EQ(result_of(stats), 0);
  for (const char* k :
       {"id", "name", "state", "pause_reason", "blocked_by", "contacts", "outcomes", "attempts",
        "in_flight", "credits_used", "created_at", "started_at", "completed_at"}) {
    EXPECT_TRUE(args_of(stats).contains(k)) << k;
  }
  auto list = call("campaign-list");
  EXPECT_EQ(result_of(list), 0);
  EXPECT_EQ(ids_of(args_of(list).at("campaigns").as_array(), "name"), "spring autumn ");

  // Export by path: the CONTRACT columns then the variables.
  auto exported =
      call("campaign-export", {{"campaign", "spring"}, {"output", dir_.file("out.csv")}});
  ASSERT_EQ(result_of(exported), 0) << text_of(exported);
  const auto csv_out = read_file(dir_.file("out.csv"));
  EXPECT_THAT(csv_out,
              ::testing::StartsWith(
                  "phone,name,state,reason,attempts,last_outcome,answered_by,"
                  "duration_seconds,credits_used,last_call_id,last_session_id,updated_at"));
  EXPECT_THAT(csv_out.substr(0, csv_out.find('\n')), HasSubstr(",city"));
  EXPECT_EQ(args_of(exported).at("rows").as_int64(), 3);
  EXPECT_EQ(result_of(call("campaign-export", {{"campaign", "spring"}})), 1);

  // Stop; then stop, update and import are conflicts.
  EXPECT_EQ(result_of(call("campaign-stop", {{"campaign", "spring"}})), 0);
  EXPECT_EQ(result_of(call("campaign-stop", {{"campaign", "spring"}})), 4);
  EXPECT_EQ(result_of(call("campaign-update", {{"campaign", "spring"}, {"priority", 2}})), 4);
  EXPECT_EQ(result_of(call("contacts-import", {{"campaign", "spring"}, {"path", csv}})), 4);

  // Protocol: unknown command 2, garbage 1, unknown argument 1.
  EXPECT_EQ(result_of(call("campaign-explode")), 2);
  EXPECT_EQ(ctl({"raw", R"({"command": "campaign-explode"})"}).exit_code, 2);
  EXPECT_EQ(result_of(admin_raw(daemon_->socket(), "this is not json").value_or(json::object{})),
            1);
  EXPECT_EQ(result_of(call("status-get", {{"verbose", true}})), 1);
  EXPECT_EQ(result_of(call("config-reload")), 0);
  EXPECT_EQ(result_of(call("account-unblock")), 4);  // nothing to lift
  EXPECT_EQ(ctl({"account", "unblock"}).exit_code, 4);

  // The audit log holds the state-changing commands with the peer's uid and their results.
  auto audit = run(dir_, {"/usr/bin/sqlite3", dir_.file("dialerd.db"),
                          "SELECT actor || ' ' || action || ' ' || result FROM audit_log "
                          "WHERE actor LIKE 'uid:%' ORDER BY id"});
  ASSERT_EQ(audit.exit_code, 0) << audit.err;
  const std::string uid = "uid:" + std::to_string(::getuid());
  EXPECT_THAT(audit.out, HasSubstr(uid + " campaign-create 0"));
  EXPECT_THAT(audit.out, HasSubstr(uid + " campaign-pause 4"));
  EXPECT_THAT(audit.out, HasSubstr(uid + " campaign-start 0"));
  EXPECT_THAT(audit.out, HasSubstr(uid + " dnc-add 0"));
  EXPECT_THAT(audit.out, HasSubstr(uid + " contacts-import 0"));
  EXPECT_THAT(audit.out, Not(HasSubstr("campaign-get")));  // read-only commands are not audited

  // shutdown answers 0, then the daemon exits 0.
  EXPECT_EQ(ctl({"shutdown"}).exit_code, 0);
  EXPECT_EQ(daemon_->process().wait(kStartTimeout), 0) << daemon_->log();
}

// An import of a file no path reaches (unlinked after opening) succeeds through the descriptor
// dialerctl passes; the same by path cannot work.
TEST_F(DaemonAdmin, ImportThroughPassedDescriptorOfUnlinkedFile) {
  ASSERT_EQ(result_of(call("campaign-create", {{"name", "fd"}, {"agent_id", kAgent}})), 0);
  const auto path = dir_.write("secret-list.csv", "phone\n+919876511111\n+919876522222\n");
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::unlink(path.c_str()), 0);
  EXPECT_EQ(result_of(call("contacts-import", {{"campaign", "fd"}, {"path", path}})), 1);
  auto r = ctl({"--json", "import", "fd", "-"}, fd);
  ::close(fd);
  ASSERT_EQ(r.exit_code, 0) << r.err << daemon_->log();
  auto report = json::parse(r.out).as_object();
  EXPECT_EQ(report.at("imported").as_int64(), 2);
  EXPECT_EQ(
      args_of(call("campaign-stats", {{"campaign", "fd"}})).at("contacts").at("queued").as_int64(),
      2);
}

// Export and the reject file through descriptors dialerctl opens: the files are written even
// though the daemon is never told a path it could write itself.
TEST_F(DaemonAdmin, ExportAndRejectFileThroughDescriptors) {
  ASSERT_EQ(result_of(call("campaign-create", {{"name", "files"}, {"agent_id", kAgent}})), 0);
  const auto csv = dir_.write("l.csv", "phone,tier\n+919876533333,gold\nbroken,x\n");
  auto r = ctl({"import", "files", csv, "--reject-file", dir_.file("rejects.csv")});
  ASSERT_EQ(r.exit_code, 0) << r.err << daemon_->log();
  EXPECT_THAT(read_file(dir_.file("rejects.csv")), HasSubstr("broken"));
  auto e = ctl({"export", "files", "-o", dir_.file("results.csv"), "--with-transcript"});
  ASSERT_EQ(e.exit_code, 0) << e.err;
  const auto out = read_file(dir_.file("results.csv"));
  EXPECT_THAT(out.substr(0, out.find('\n')), HasSubstr(",tier,transcript"));
  EXPECT_THAT(out, HasSubstr("+919876533333"));
}

// While an import runs (its input is a pipe still being written), its progress can be asked on
// other connections and the daemon keeps answering; it completes once the input ends.
TEST_F(DaemonAdmin, ImportProgressIsQueryableWhileItRuns) {
  ASSERT_EQ(result_of(call("campaign-create", {{"name", "big"}, {"agent_id", kAgent}})), 0);
  int pipe_fds[2];
  ASSERT_EQ(::pipe2(pipe_fds, O_CLOEXEC), 0);
  Process::Spec spec;
  spec.argv = {kDialerctl, "--socket", daemon_->socket().string(), "--json", "import", "big", "-"};
  spec.stdin_fd = pipe_fds[0];
  spec.stdout_path = dir_.file("import.out");
  spec.stderr_path = dir_.file("import.err");
  Process importer(std::move(spec));
  ::close(pipe_fds[0]);
  // More rows than one progress step (10,000) plus the importer's read-ahead (at most 8 batches
  // of 512 rows read but not yet written), written while nothing reads the rest.
  const auto write_rows = [&](int from, int to) {
    std::string chunk;
    for (int i = from; i < to; ++i) chunk += "+9198" + std::to_string(10000000 + i) + "\n";
    std::string_view rest = chunk;
    while (!rest.empty()) {
      const ssize_t w = ::write(pipe_fds[1], rest.data(), rest.size());
      ASSERT_GT(w, 0);
      rest.remove_prefix(static_cast<std::size_t>(w));
    }
  };
  const std::string header = "phone\n";
  ASSERT_EQ(::write(pipe_fds[1], header.data(), header.size()),
            static_cast<ssize_t>(header.size()));
  write_rows(0, 15'000);
  json::object jobs;
  ASSERT_TRUE(eventually(
      [&] {
        auto p = call("import-progress");
        if (result_of(p) != 0) return false;
        jobs = args_of(p);
        return jobs.at("jobs").as_array().at(0).at("rows").as_int64() >= 10'000;
      },
      kStartTimeout))
      << daemon_->log();
  EXPECT_THAT(std::string(jobs.at("jobs").at(0).at("label").as_string()), HasSubstr("big"));
  EXPECT_EQ(args_of(call("status-get")).at("jobs").as_array().size(), 1u);
  write_rows(15'000, 18'000);
  ::close(pipe_fds[1]);
  ASSERT_EQ(importer.wait(kStartTimeout), 0) << importer.err();
  auto report = json::parse(read_file(dir_.file("import.out"))).as_object();
  EXPECT_EQ(report.at("imported").as_int64() + report.at("invalid").as_int64(), 18'000);
  EXPECT_EQ(result_of(call("import-progress")), 3);  // finished: nothing running
}

// A campaign that does not exist answers 3 (nothing found) whatever the command — the
// lifecycle commands, update, import and export as much as get and stats — and dialerctl exits 3.
TEST_F(DaemonAdmin, UnknownCampaignIsThreeForEveryCommand) {
  for (const char* command : {"campaign-start", "campaign-pause", "campaign-resume",
                              "campaign-stop", "campaign-get", "campaign-stats"}) {
    auto reply = call(command, {{"campaign", "nosuch"}});
    EXPECT_EQ(result_of(reply), 3) << command << ": " << text_of(reply);
    EXPECT_THAT(text_of(reply), HasSubstr("nosuch")) << command;
  }
  auto update = call("campaign-update", {{"campaign", "nosuch"}, {"max_concurrency", 2}});
  EXPECT_EQ(result_of(update), 3) << text_of(update);
  const auto csv = dir_.write("nosuch.csv", "phone\n+919876500001\n");
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"campaign", "start", "nosuch"},
           {"import", "nosuch", csv},
           {"export", "nosuch", "-o", dir_.file("nosuch-out.csv")}}) {
    auto r = ctl(args);
    EXPECT_EQ(r.exit_code, 3) << args[0] << " " << args[1] << ": " << r.err;
  }
}

// `dialerctl log-level` changes the level at run time: at debug the read-only commands are
// logged too, at warn not even the audited ones; an unknown level is refused (exit 1) and the
// change itself is audited.
TEST_F(DaemonAdmin, LogLevelChangesAtRunTime) {
  const auto count = [&](const std::string& needle) {
    const std::string log = daemon_->log();
    std::size_t n = 0;
    for (auto at = log.find(needle); at != std::string::npos; at = log.find(needle, at + 1)) ++n;
    return n;
  };
  ASSERT_EQ(result_of(call("status-get")), 0);
  EXPECT_EQ(count("admin: status-get by uid"), 0u) << "read-only commands log at debug";

  auto debug = ctl({"log-level", "debug"});
  ASSERT_EQ(debug.exit_code, 0) << debug.err;
  ASSERT_EQ(result_of(call("status-get")), 0);
  EXPECT_EQ(count("admin: status-get by uid"), 1u) << daemon_->log();
  EXPECT_EQ(count("admin: log-level-set by uid"), 1u);

  auto warn = ctl({"--json", "log-level", "warn"});
  ASSERT_EQ(warn.exit_code, 0) << warn.err;
  EXPECT_EQ(json::parse(warn.out).at("was").as_string(), "debug");
  ASSERT_EQ(result_of(call("campaign-create", {{"name", "quiet"}, {"agent_id", kAgent}})), 0);
  EXPECT_EQ(count("admin: campaign-create by uid"), 0u) << "info is below warn";

  auto bad = call("log-level-set", {{"level", "verbose"}});
  EXPECT_EQ(result_of(bad), 1);
  EXPECT_THAT(text_of(bad), HasSubstr("trace, debug, info, warn, error, critical or off"));
  EXPECT_NE(ctl({"log-level", "verbose"}).exit_code, 0);
}

// The daemon running as another user cannot open the operator's private file by path, but the
// import through dialerctl's descriptor succeeds.
TEST(DaemonOtherUser, ImportOfAFileTheDaemonCannotReadByPath) {
  if (::geteuid() != 0 || ::access("/usr/bin/setpriv", X_OK) != 0) {
    GTEST_SKIP() << "needs root and setpriv to run the daemon as another user";
  }
  TempDir dir;
  const uid_t nobody = 65534;
  ASSERT_EQ(::chown(dir.path().c_str(), nobody, nobody), 0);
  const auto config = dir.write("dialerd.yaml", test_config(dir, "http://127.0.0.1:9/api/v2"));
  Daemon d(dir, config, {},
           {"/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"});
  ASSERT_TRUE(d.ready());
  fs::create_directory(dir.path() / "private");
  fs::permissions(dir.path() / "private", fs::perms::owner_all);
  const auto csv = dir.write("private/list.csv", "phone\n+919876544444\n");
  ASSERT_EQ(result_of(d.call("campaign-create", {{"name", "priv"}, {"agent_id", kAgent}})), 0);
  auto by_path = d.call("contacts-import", {{"campaign", "priv"}, {"path", csv}});
  EXPECT_EQ(result_of(by_path), 1);
  EXPECT_THAT(text_of(by_path), HasSubstr("Permission denied"));
  auto r = run(dir, {kDialerctl, "--socket", d.socket().string(), "--json", "import", "priv", csv});
  ASSERT_EQ(r.exit_code, 0) << r.err << d.log();
  EXPECT_EQ(json::parse(r.out).at("imported").as_int64(), 1);
  d.process().signal(SIGTERM);
  EXPECT_EQ(d.process().wait(kStartTimeout), 0) << d.log();
}

}  // namespace
}  // namespace dialer::systest
