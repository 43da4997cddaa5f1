// System tests that dial: a campaign run to `completed` against vocobase-sim with signed webhooks
// delivered to the daemon, and SIGTERM while start requests are on the wire.

#include "core/time.hpp"
#include "daemon_test_support.hpp"

#include <gmock/gmock.h>

namespace dialer::systest {
namespace {

using ::testing::HasSubstr;

constexpr const char* kAgent = "3fa85f64-5717-4562-b3fc-2c963f66afa6";

// A campaign runs to `completed`: every call's outcome arrives by signed webhook, the retry rule
// is applied (busy once, then completed), and the export holds the extraction columns.
TEST(DaemonCampaign, RunsToCompletedWithWebhookOutcomes) {
  if (!Sim::exists()) GTEST_SKIP() << "vocobase-sim is not built";
  TempDir dir;
  const int webhook_port = reserve_loopback_port();
  const std::string listen = "127.0.0.1:" + std::to_string(webhook_port);
  dir.write("script.yaml", "\"+919876560001\": [busy, completed]\n");
  Sim sim(dir, {"--api-key", "rg_test_secret_key", "--time-scale", "300", "--outcomes",
                "completed=1", "--calls-per-minute", "120", "--script", dir.file("script.yaml"),
                "--webhook", "http://" + listen + "/webhooks/vocobase=whsec_test_secret"});
  const auto config = dir.write(
      "dialerd.yaml", test_config(dir, sim.base_url(), listen, "", "  calls_per_minute: 120\n"));
  Daemon d(dir, config);
  ASSERT_TRUE(d.ready());

  std::string csv = "phone,name,segment\n";
  for (int i = 1; i <= 6; ++i) {
    csv += "+9198765600" + std::string(i < 10 ? "0" : "") + std::to_string(i) + ",P" +
           std::to_string(i) + ",s" + std::to_string(i % 2) + "\n";
  }
  const auto list = dir.write("list.csv", csv);
  ASSERT_EQ(result_of(d.call("campaign-create", {{"name", "run"},
                                                 {"agent_id", kAgent},
                                                 {"max_concurrency", 3},
                                                 {"retry", {{"busy", "1s/2"}}}})),
            0)
      << d.log();
  ASSERT_EQ(result_of(d.call("contacts-import", {{"campaign", "run"}, {"path", list}})), 0);
  // The start needs GET /config's providers: wait until the credit poll has answered.
  ASSERT_TRUE(d.config_polled());
  ASSERT_EQ(result_of(d.call("campaign-start", {{"campaign", "run"}})), 0) << d.log();

  json::object stats;
  ASSERT_TRUE(eventually(
      [&] {
        stats = args_of(d.call("campaign-stats", {{"campaign", "run"}}));
        return stats.contains("state") && stats.at("state").as_string() == "completed";
      },
      120s))
      << json::serialize(stats) << "\n"
      << d.log();
  EXPECT_EQ(stats.at("contacts").at("done").as_int64(), 6);
  EXPECT_EQ(stats.at("outcomes").at("completed").as_int64(), 6);
  EXPECT_EQ(stats.at("outcomes").at("busy").as_int64(), 1);
  EXPECT_EQ(stats.at("attempts").as_int64(), 7);
  EXPECT_GT(stats.at("credits_used").as_double(), 0.0);
  // The outcomes came as webhooks (the daemon polls only after reconcile_after, 10 s).
  auto referee = sim_stats(dir, sim);
  EXPECT_EQ(referee.at("calls_started").as_int64(), 7);
  EXPECT_GE(referee.at("webhooks").at("delivered").as_int64(), 7);
  EXPECT_EQ(referee.at("limit_violations").as_int64(), 0);
  EXPECT_EQ(referee.at("refused").at("rate_calls").as_int64(), 0);

  auto exported = d.call("campaign-export", {{"campaign", "run"}, {"output", dir.file("r.csv")}});
  ASSERT_EQ(result_of(exported), 0) << text_of(exported);
  const auto out = read_file(dir.file("r.csv"));
  const auto header = out.substr(0, out.find('\n'));
  EXPECT_THAT(header, HasSubstr(",x_"));
  EXPECT_THAT(header, HasSubstr(",segment"));
  EXPECT_THAT(out, HasSubstr("+919876560001,P1,done,,2,completed,human"));

  d.process().signal(SIGTERM);
  EXPECT_EQ(d.process().wait(kStartTimeout), 0) << d.log();
}

// An ambiguous start no listing can settle (the start is reset, every page of GET /calls comes
// without `total`) stays claimed until an operator resolves it: `attempt-resolve` answers 3 for
// no such attempt, 1 for a bad `as`, 0 for the ambiguous one (audited, with the caller's uid),
// 4 when it is no longer ambiguous; the contact is then dialled again and completes.
TEST(DaemonCampaign, AnAmbiguousStartIsResolvedByHand) {
  if (!Sim::exists()) GTEST_SKIP() << "vocobase-sim is not built";
  QuickStack stack;
  auto& dir = stack.dir;
  auto& sim = stack.sim;
  auto& d = stack.daemon;
  ASSERT_TRUE(d.ready());
  const auto list = dir.write("list.csv", "phone\n+919876560001\n");
  ASSERT_EQ(result_of(d.call("campaign-create", {{"name", "stuck"}, {"agent_id", kAgent}})), 0);
  ASSERT_EQ(result_of(d.call("contacts-import", {{"campaign", "stuck"}, {"path", list}})), 0);
  ASSERT_TRUE(d.config_polled());
  sim_control(dir, sim, "/_sim/faults", R"({"reset": 1, "list_no_total": 1})");
  ASSERT_EQ(result_of(d.call("campaign-start", {{"campaign", "stuck"}})), 0) << d.log();
  ASSERT_TRUE(eventually(
      [&] { return args_of(d.call("status-get")).at("ambiguous_attempts").as_int64() == 1; }, 60s))
      << d.log();
  sim_control(dir, sim, "/_sim/faults", R"({"reset": 0})");  // listings still prove nothing

  const auto in_flight = args_of(d.call("calls-list", {{"in_flight", true}}));
  const auto& calls = in_flight.at("calls").as_array();
  ASSERT_EQ(calls.size(), 1U) << json::serialize(in_flight);
  const auto id = calls[0].at("attempt_id").as_int64();
  EXPECT_EQ(result_of(d.call("attempt-resolve", {{"id", id + 1000}, {"as", "void"}})), 3);
  EXPECT_EQ(result_of(d.call("attempt-resolve", {{"id", id}, {"as", "maybe"}})), 1);
  EXPECT_EQ(result_of(d.call("attempt-resolve", {{"id", id}})), 1);
  auto resolved = d.call("attempt-resolve", {{"id", id}, {"as", "void"}});
  ASSERT_EQ(result_of(resolved), 0) << text_of(resolved) << "\n" << d.log();
  EXPECT_EQ(args_of(d.call("status-get")).at("ambiguous_attempts").as_int64(), 0);
  EXPECT_EQ(result_of(d.call("attempt-resolve", {{"id", id}, {"as", "lost"}})), 4);

  sim_control(dir, sim, "/_sim/faults", R"({"list_no_total": 0})");
  json::object stats;
  ASSERT_TRUE(eventually(
      [&] {
        stats = args_of(d.call("campaign-stats", {{"campaign", "stuck"}}));
        return stats.contains("state") && stats.at("state").as_string() == "completed";
      },
      120s))
      << json::serialize(stats) << "\n"
      << d.log();
  EXPECT_EQ(stats.at("contacts").at("done").as_int64(), 1);
  EXPECT_EQ(sim_stats(dir, sim).at("calls_started").as_int64(), 1);

  auto audit = run(dir, {"/usr/bin/sqlite3", dir.file("dialerd.db"),
                         "SELECT actor || ' ' || action || ' ' || result FROM audit_log "
                         "WHERE action = 'attempt-resolve' ORDER BY id"});
  ASSERT_EQ(audit.exit_code, 0) << audit.err;
  const std::string uid = "uid:" + std::to_string(::getuid());
  EXPECT_THAT(audit.out, HasSubstr(uid + " attempt-resolve 0"));
  EXPECT_THAT(audit.out, HasSubstr(uid + " attempt-resolve 4"));
}

// A wrong webhook secret is visible: the campaign still completes (outcomes polled after
// reconcile_after), and status-get, `dialerctl status` and the log say deliveries are refused
// and why — the warning once, not once per delivery.
TEST(DaemonCampaign, AWrongWebhookSecretIsVisible) {
  if (!Sim::exists()) GTEST_SKIP() << "vocobase-sim is not built";
  QuickStack stack("whsec_not_the_daemons");
  auto& dir = stack.dir;
  auto& d = stack.daemon;
  ASSERT_TRUE(d.ready());
  const auto list = dir.write("list.csv", "phone\n+919876560001\n+919876560002\n");
  ASSERT_EQ(result_of(d.call("campaign-create", {{"name", "deaf"}, {"agent_id", kAgent}})), 0);
  ASSERT_EQ(result_of(d.call("contacts-import", {{"campaign", "deaf"}, {"path", list}})), 0);
  ASSERT_TRUE(d.config_polled());
  ASSERT_EQ(result_of(d.call("campaign-start", {{"campaign", "deaf"}})), 0) << d.log();
  ASSERT_TRUE(eventually(
      [&] {
        const auto stats = args_of(d.call("campaign-stats", {{"campaign", "deaf"}}));
        return stats.contains("state") && stats.at("state").as_string() == "completed";
      },
      120s))
      << d.log();

  const auto status = args_of(d.call("status-get"));
  const auto& hooks = status.at("webhooks").as_object();
  EXPECT_GE(hooks.at("refused_last_hour").to_number<std::uint64_t>(), 2u) << json::serialize(hooks);
  EXPECT_EQ(hooks.at("stored_last_hour").to_number<std::uint64_t>(), 0u);
  EXPECT_TRUE(hooks.at("last_stored_at").is_null());
  EXPECT_EQ(hooks.at("last_refusal").at("reason").as_string(), "signature mismatch");
  EXPECT_EQ(status.at("outcomes_by_poll_last_hour").to_number<std::uint64_t>(), 2u);

  auto shown = d.ctl({"status"});
  EXPECT_EQ(shown.exit_code, 0) << shown.err;
  EXPECT_THAT(shown.out, HasSubstr("REFUSED (signature mismatch), 2 outcomes polled"));

  const std::string log = d.log();
  const std::string warning = "delivery refused (signature mismatch)";
  const auto first = log.find(warning);
  EXPECT_NE(first, std::string::npos) << log;
  EXPECT_EQ(log.find(warning, first + 1), std::string::npos) << "warned twice:\n" << log;
  EXPECT_EQ(log.find("whsec_"), std::string::npos);
}

// A campaign created with --start-at a few seconds ahead starts itself (audited as the
// scheduler) and completes; a malformed --start-at is named as the flag.
TEST(DaemonCampaign, ACampaignStartsAtItsStartAt) {
  if (!Sim::exists()) GTEST_SKIP() << "vocobase-sim is not built";
  QuickStack stack;
  auto& dir = stack.dir;
  auto& d = stack.daemon;
  ASSERT_TRUE(d.ready());
  ASSERT_TRUE(d.config_polled());
  const auto ctl = [&](std::vector<std::string> args) { return d.ctl(std::move(args)); };
  auto bad = ctl({"campaign", "create", "timed", "--agent", kAgent, "--start-at", "tomorrow"});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_THAT(bad.err, HasSubstr("--start-at: invalid time \"tomorrow\" (expected ISO 8601 with "
                                 "an offset"));
  const auto start_at =
      format_iso8601(std::chrono::time_point_cast<Millis>(std::chrono::system_clock::now()) + 3s);
  auto created = ctl({"campaign", "create", "timed", "--agent", kAgent, "--start-at", start_at});
  ASSERT_EQ(created.exit_code, 0) << created.err;
  const auto list = dir.write("list.csv", "phone\n+919876560001\n");
  ASSERT_EQ(result_of(d.call("contacts-import", {{"campaign", "timed"}, {"path", list}})), 0);
  EXPECT_EQ(args_of(d.call("campaign-get", {{"campaign", "timed"}})).at("start_at").as_string(),
            start_at);
  ASSERT_TRUE(eventually(
      [&] {
        const auto s = args_of(d.call("campaign-stats", {{"campaign", "timed"}}));
        return s.at("state").as_string() == "completed";
      },
      60s))
      << d.log();
  EXPECT_THAT(d.log(), HasSubstr("campaign timed: started at its start_at"));
}

// The callee asks to be called back (vocobase-sim scripts the extraction values): the contact is
// queued for that time with reason callback (callback_at in the export), called again then, and
// the campaign completes with two calls to that number.
TEST(DaemonCampaign, ARequestedCallbackIsPlacedEndToEnd) {
  if (!Sim::exists()) GTEST_SKIP() << "vocobase-sim is not built";
  QuickStack stack;
  auto& dir = stack.dir;
  auto& sim = stack.sim;
  auto& d = stack.daemon;
  ASSERT_TRUE(d.ready());
  ASSERT_TRUE(d.config_polled());
  const auto at =
      format_iso8601(std::chrono::time_point_cast<Millis>(std::chrono::system_clock::now()) + 10s);
  sim_control(dir, sim, "/_sim/script",
              R"({"+919876560001": [{"outcome": "completed", "extraction": {"callback_at": ")" +
                  at + R"("}}, "completed"]})");
  ASSERT_EQ(result_of(d.call(
                "campaign-create",
                {{"name", "cb"}, {"agent_id", kAgent}, {"callback", {{"field", "callback_at"}}}})),
            0);
  const auto list = dir.write("list.csv", "phone\n+919876560001\n");
  ASSERT_EQ(result_of(d.call("contacts-import", {{"campaign", "cb"}, {"path", list}})), 0);
  ASSERT_EQ(result_of(d.call("campaign-start", {{"campaign", "cb"}})), 0) << d.log();
  json::object waiting;
  ASSERT_TRUE(eventually(
      [&] {
        waiting = args_of(d.call("contacts-list", {{"campaign", "cb"}, {"state", "queued"}}));
        return waiting.contains("contacts") && !waiting.at("contacts").as_array().empty() &&
               waiting.at("contacts").at(0).at("reason").as_string() == "callback";
      },
      30s))
      << json::serialize(waiting) << d.log();
  auto exported = d.call("campaign-export", {{"campaign", "cb"}, {"output", dir.file("cb.csv")}});
  ASSERT_EQ(result_of(exported), 0) << text_of(exported);
  EXPECT_THAT(read_file(dir.file("cb.csv")), HasSubstr("," + at));
  ASSERT_TRUE(eventually(
      [&] {
        const auto s = args_of(d.call("campaign-stats", {{"campaign", "cb"}}));
        return s.at("state").as_string() == "completed";
      },
      60s))
      << d.log();
  EXPECT_EQ(sim_stats(dir, sim).at("calls_started").as_int64(), 2);
}

// SIGTERM while POST /calls/start requests are on the wire (the simulator answers slowly): the
// daemon waits for their answers, records them, exits 0; after a restart no attempt is left
// reserved or ambiguous and the started calls are still tracked.
TEST(DaemonCampaign, SigtermSettlesStartsInFlightAndExitsZero) {
  if (!Sim::exists()) GTEST_SKIP() << "vocobase-sim is not built";
  TempDir dir;
  Sim sim(dir, {"--api-key", "rg_test_secret_key", "--time-scale", "1", "--duration-mean", "600s",
                "--outcomes", "completed=1", "--faults", "slow=1", "--slow-delay", "2s"});
  const auto config = dir.write("dialerd.yaml", test_config(dir, sim.base_url()));
  {
    Daemon d(dir, config);
    ASSERT_TRUE(d.ready());
    ASSERT_EQ(result_of(d.call("campaign-create",
                               {{"name", "slow"}, {"agent_id", kAgent}, {"max_concurrency", 2}})),
              0);
    const auto list = dir.write("list.csv", "phone\n+919876570001\n+919876570002\n+919876570003\n");
    ASSERT_EQ(result_of(d.call("contacts-import", {{"campaign", "slow"}, {"path", list}})), 0);
    ASSERT_TRUE(d.config_polled());
    ASSERT_EQ(result_of(d.call("campaign-start", {{"campaign", "slow"}})), 0) << d.log();
    ASSERT_TRUE(eventually(
        [&] { return args_of(d.call("status-get")).at("starts_outstanding").as_int64() > 0; },
        kStartTimeout))
        << d.log();
    d.process().signal(SIGTERM);
    ASSERT_TRUE(d.notify().wait_for("STOPPING=1"));
    EXPECT_EQ(d.process().wait(kStartTimeout), 0) << d.log();
    EXPECT_THAT(d.log(), HasSubstr("every start request settled"));
  }
  Daemon again(dir, config);
  ASSERT_TRUE(again.ready());
  auto calls = again.call("calls-list");
  ASSERT_EQ(result_of(calls), 0) << again.log();
  int started = 0;
  for (const auto& c : args_of(calls).at("calls").as_array()) {
    const std::string state(c.at("state").as_string());
    EXPECT_NE(state, "reserved");
    EXPECT_NE(state, "ambiguous");
    if (state == "started") ++started;
  }
  EXPECT_GE(started, 1);
  EXPECT_EQ(args_of(again.call("status-get")).at("ambiguous_attempts").as_int64(), 0);
  again.process().signal(SIGTERM);
  EXPECT_EQ(again.process().wait(kStartTimeout), 0) << again.log();
}

}  // namespace
}  // namespace dialer::systest
