// Two dialerd on one PostgreSQL schema (issue "high availability"): the first takes the leader
// lease and dials, the second stands by — read-only admin commands, writes refused naming the
// leader, webhooks stored in the shared inbox for the leader to apply — and takes over when the
// leader stops. The failover benchmark in short (leader SIGKILLed, once cut off from PostgreSQL,
// under the simulator's recovery faults) runs through bench_recovery --pair and is judged by its
// audit.

#include "store/sql/database.hpp"
#include "tests/system/daemon_test_support.hpp"
#include "tests/unit/store/store_fixture.hpp"

#include <gmock/gmock.h>

namespace dialer::systest {
namespace {

using ::testing::HasSubstr;

constexpr const char* kAgent = "3fa85f64-5717-4562-b3fc-2c963f66afa6";

/// test_config with the store on the shared schema, as node `name`.
std::string pair_config(const TempDir& dir, const std::string& base_url, const std::string& listen,
                        const store::testing::PgTestSchema& schema, const std::string& name) {
  return on_postgresql(test_config(dir, base_url, listen, "", "  calls_per_minute: 120\n"),
                       schema.conninfo(), schema.name(), name);
}

std::string str(const json::object& o, const char* key) {
  const auto* v = o.if_contains(key);
  return v != nullptr && v->is_string() ? std::string(v->as_string()) : "";
}

/// The value of an unlabelled series in a /metrics page ("" when absent).
std::string metric(const TempDir& dir, Daemon& d, const std::string& name) {
  const std::string listen = str(args_of(d.call("status-get")), "metrics_listen");
  const std::string page = run(dir, {"/usr/bin/curl", "-s", "http://" + listen + "/metrics"}).out;
  std::istringstream in(page);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(name + " ", 0) == 0) return line.substr(name.size() + 1);
  }
  return "";
}

std::int64_t stored_last_hour(Daemon& d) {
  return args_of(d.call("status-get"))
      .at("webhooks")
      .at("stored_last_hour")
      .to_number<std::int64_t>();
}

TEST(DaemonPair, StandbyServesReadsRefusesWritesAndTakesOverWhenTheLeaderStops) {
  if (!Sim::exists()) GTEST_SKIP() << "vocobase-sim is not built";
  store::testing::PgTestSchema schema("pair");
  if (schema.cluster_missing()) GTEST_SKIP() << schema.error();
  ASSERT_TRUE(schema.usable()) << schema.error();
  TempDir dir_a;
  TempDir dir_b;
  const std::string listen_a = "127.0.0.1:" + std::to_string(reserve_loopback_port());
  const std::string listen_b = "127.0.0.1:" + std::to_string(reserve_loopback_port());
  // Every webhook goes to the standby: the leader must still apply it (the shared inbox).
  Sim sim(dir_a, quick_sim_flags(listen_b));

  Daemon a(dir_a, dir_a.write("a.yaml", pair_config(dir_a, sim.base_url(), listen_a, schema, "a")));
  ASSERT_TRUE(a.ready()) << a.log();
  auto status_a = args_of(a.call("status-get"));
  ASSERT_EQ(str(status_a, "role"), "leader") << json::serialize(status_a) << a.log();
  EXPECT_EQ(str(status_a, "node"), "a");
  // systemd hears READY=1 from both, and which one dials.
  EXPECT_GE(a.notify().index_of("READY=1\nSTATUS=leader (node a): "), 0);

  Daemon b(dir_b, dir_b.write("b.yaml", pair_config(dir_b, sim.base_url(), listen_b, schema, "b")));
  ASSERT_TRUE(b.ready()) << b.log();
  const auto standby = b.call("status-get");
  const auto& status_b = args_of(standby);
  EXPECT_EQ(str(status_b, "role"), "standby") << json::serialize(standby);
  EXPECT_EQ(str(status_b, "node"), "b");
  ASSERT_TRUE(status_b.at("leader").is_object()) << json::serialize(standby);
  EXPECT_EQ(str(status_b.at("leader").as_object(), "node"), "a");
  EXPECT_THAT(text_of(standby), HasSubstr("not dialling; leader a since "));
  EXPECT_GE(b.notify().index_of("READY=1\nSTATUS=standby (node b), not dialling; leader a"), 0);
  EXPECT_EQ(metric(dir_a, a, "dialer_leader"), "1");
  EXPECT_EQ(metric(dir_b, b, "dialer_leader"), "0");
  EXPECT_THAT(b.ctl({"status"}).out, HasSubstr("role standby (node b"));

  // Writes go to the leader; the standby says which node that is and changes nothing.
  const auto refused =
      b.call("campaign-create", {{"name", "on-b"}, {"agent_id", kAgent}, {"max_concurrency", 1}});
  EXPECT_EQ(result_of(refused), 4) << json::serialize(refused);
  EXPECT_THAT(text_of(refused), HasSubstr("node b is the standby"));
  EXPECT_THAT(text_of(refused), HasSubstr("goes to the leader, a"));
  EXPECT_EQ(result_of(a.call("campaign-get", {{"campaign", "on-b"}})), 3);
  // Its own business it still does.
  EXPECT_EQ(result_of(b.call("log-level-set", {{"level", "debug"}})), 0);

  std::string csv = "phone\n";
  for (int i = 1; i <= 4; ++i) csv += "+91987656001" + std::to_string(i) + "\n";
  ASSERT_EQ(result_of(a.call("campaign-create",
                             {{"name", "run"}, {"agent_id", kAgent}, {"max_concurrency", 2}})),
            0)
      << a.log();
  ASSERT_EQ(result_of(a.call("contacts-import",
                             {{"campaign", "run"}, {"path", dir_a.write("l.csv", csv)}})),
            0)
      << a.log();
  ASSERT_TRUE(a.config_polled());
  ASSERT_EQ(result_of(a.call("campaign-start", {{"campaign", "run"}})), 0) << a.log();
  std::string answer;
  ASSERT_TRUE(eventually(
      [&] {
        auto r = b.call("campaign-stats", {{"campaign", "run"}});  // reads work on the standby
        answer = json::serialize(r);
        return str(args_of(r), "state") == "completed";
      },
      120s))
      << answer << "\n"
      << a.log() << "\n"
      << b.log();
  // Every outcome came through the standby's listener and was applied by the leader.
  EXPECT_EQ(stored_last_hour(a), 0);
  EXPECT_GE(stored_last_hour(b), 4);

  // The leader stops cleanly: it hands the lease over and the standby takes over.
  a.process().signal(SIGTERM);
  EXPECT_EQ(a.process().wait(kStartTimeout), 0) << a.log();
  ASSERT_TRUE(eventually([&] { return str(args_of(b.call("status-get")), "role") == "leader"; },
                         kStartTimeout))
      << b.log();
  const auto led = args_of(b.call("status-get"));
  EXPECT_EQ(led.at("takeovers").to_number<std::int64_t>(), 1);
  EXPECT_EQ(str(led.at("leader").as_object(), "node"), "b");
  EXPECT_EQ(metric(dir_b, b, "dialer_leader"), "1");
  EXPECT_EQ(metric(dir_b, b, "dialer_takeovers_total"), "1");
  EXPECT_THAT(b.log(), HasSubstr("took the leader lease over from a"));
  EXPECT_TRUE(b.notify().wait_for("STATUS=leader (node b): "));
  EXPECT_EQ(result_of(b.call("campaign-create", {{"name", "after"}, {"agent_id", kAgent}})), 0);

  b.process().signal(SIGTERM);
  EXPECT_EQ(b.process().wait(kStartTimeout), 0) << b.log();
}

// `scripts/bench failover` in short: the leader's link to PostgreSQL cut first (it must stop by
// itself, exit 1), then SIGKILLs; webhooks through a balancer in front of both nodes.
TEST(DaemonPair, FailoverUnderKillsAndACutLosesNothingAndNeverCallsTwice) {
  if (::access(kBenchRecovery.c_str(), X_OK) != 0) GTEST_SKIP() << "bench_recovery is not built";
  const std::string conninfo = store::testing::test_pg_conninfo();
  if (conninfo.empty()) GTEST_SKIP() << "no PostgreSQL test cluster (scripts/pg-test-cluster)";
  TempDir dir;
  const auto r = run(dir,
                     {kBenchRecovery, "--pair", conninfo, "--contacts", "60", "--limit", "6",
                      "--kill-every", "4", "--max-kills", "3", "--cut-at", "1", "--seed", "29",
                      "--timeout", "400", "--dialerd", kDialerd},
                     -1, 450s);
  ASSERT_EQ(r.exit_code, 0) << r.out << "\n" << r.err;
  const auto line = bench_line(r);
  ASSERT_FALSE(line.empty()) << r.out;
  EXPECT_EQ(str(line, "scenario"), "failover");
  EXPECT_TRUE(line.at("completed").as_bool()) << r.out;
  EXPECT_EQ(count(line, "cut_exit_code"), 1) << "a leader cut off stops by itself: " << r.err;
  EXPECT_GE(count(line, "takeovers"), 1) << r.out;
  EXPECT_EQ(count(line, "takeovers"), count(line, "kills")) << r.out;
  expect_audit_clean(line, r.out, r.err);
}

}  // namespace
}  // namespace dialer::systest
