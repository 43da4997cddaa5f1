// System tests that dial: a campaign run to `completed` against vocobase-sim with signed webhooks
// delivered to the daemon, and SIGTERM while start requests are on the wire.

#include "daemon_test_support.hpp"

#include <gmock/gmock.h>

namespace dialer::systest {
namespace {

using ::testing::HasSubstr;

constexpr const char* kAgent = "3fa85f64-5717-4562-b3fc-2c963f66afa6";

/// GET /_sim/stats of the simulator (the referee).
json::object sim_stats(const TempDir& dir, const Sim& sim) {
  auto r = run(dir, {"/usr/bin/curl", "-s", "http://" + sim.address() + "/_sim/stats"});
  boost::system::error_code ec;
  auto v = json::parse(r.out, ec);
  return !ec && v.is_object() ? v.get_object() : json::object{};
}

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
  ASSERT_TRUE(eventually(
      [&] { return !args_of(d.call("status-get")).at("credits").at("polled_at").is_null(); },
      kStartTimeout));
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
    ASSERT_TRUE(eventually(
        [&] { return !args_of(d.call("status-get")).at("credits").at("polled_at").is_null(); },
        kStartTimeout));
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
