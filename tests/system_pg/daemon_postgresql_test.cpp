// dialerd with store.backend: postgresql, against vocobase-sim: a campaign imported, dialled and
// settled to `completed`, exported — every row in the PostgreSQL database of the throwaway test
// cluster (scripts/pg-test-cluster), none in an SQLite file.

#include "store/sql/database.hpp"
#include "tests/system/daemon_test_support.hpp"
#include "tests/unit/store/store_fixture.hpp"

#include <gmock/gmock.h>

namespace dialer::systest {
namespace {

using ::testing::HasSubstr;

constexpr const char* kAgent = "3fa85f64-5717-4562-b3fc-2c963f66afa6";

TEST(DaemonOnPostgresql, RunsACampaignToCompleted) {
  if (!Sim::exists()) GTEST_SKIP() << "vocobase-sim is not built";
  store::testing::PgTestSchema schema("sys");
  if (schema.cluster_missing()) GTEST_SKIP() << schema.error();
  ASSERT_TRUE(schema.usable()) << schema.error();
  auto count = [&](const std::string& table) {
    auto n = schema.admin().query_int64("SELECT count(*) FROM " + schema.name() + "." + table);
    return n ? *n : -1;
  };
  TempDir dir;
  const int webhook_port = reserve_loopback_port();
  const std::string listen = "127.0.0.1:" + std::to_string(webhook_port);
  dir.write("script.yaml", "\"+919876560001\": [busy, completed]\n");
  Sim sim(dir, {"--api-key", "rg_test_secret_key", "--time-scale", "300", "--outcomes",
                "completed=1", "--calls-per-minute", "120", "--script", dir.file("script.yaml"),
                "--webhook", "http://" + listen + "/webhooks/vocobase=whsec_test_secret"});
  const std::string config =
      on_postgresql(test_config(dir, sim.base_url(), listen, "", "  calls_per_minute: 120\n"),
                    schema.conninfo(), schema.name());
  Daemon d(dir, dir.write("dialerd.yaml", config));
  ASSERT_TRUE(d.ready()) << d.log();

  std::string csv = "phone,name\n";
  for (int i = 1; i <= 6; ++i)
    csv += "+91987656000" + std::to_string(i) + ",P" + std::to_string(i) + "\n";
  ASSERT_EQ(result_of(d.call("campaign-create", {{"name", "run"},
                                                 {"agent_id", kAgent},
                                                 {"max_concurrency", 3},
                                                 {"retry", {{"busy", "1s/2"}}}})),
            0)
      << d.log();
  auto imported =
      d.call("contacts-import", {{"campaign", "run"}, {"path", dir.write("l.csv", csv)}});
  ASSERT_EQ(result_of(imported), 0) << text_of(imported) << d.log();
  ASSERT_TRUE(d.config_polled());
  ASSERT_EQ(result_of(d.call("campaign-start", {{"campaign", "run"}})), 0) << d.log();

  json::object stats;
  std::string answer;
  ASSERT_TRUE(eventually(
      [&] {
        auto r = d.call("campaign-stats", {{"campaign", "run"}});
        answer = text_of(r);
        stats = args_of(r);
        return stats.contains("state") && stats.at("state").as_string() == "completed";
      },
      120s))
      << answer << "\n"
      << d.log();
  EXPECT_EQ(stats.at("contacts").at("done").as_int64(), 6);
  EXPECT_EQ(stats.at("outcomes").at("busy").as_int64(), 1);
  EXPECT_EQ(stats.at("attempts").as_int64(), 7);
  // The rows are PostgreSQL's: seven attempts, six contacts, the outcomes' inbox rows.
  EXPECT_EQ(count("attempts"), 7);
  EXPECT_EQ(count("contacts"), 6);
  EXPECT_GE(count("webhook_inbox"), 7);
  EXPECT_FALSE(std::filesystem::exists(dir.file("dialerd.db")));

  auto exported = d.call("campaign-export", {{"campaign", "run"}, {"output", dir.file("r.csv")}});
  ASSERT_EQ(result_of(exported), 0) << text_of(exported);
  EXPECT_THAT(read_file(dir.file("r.csv")), HasSubstr("+919876560001,P1,done,,2,completed"));

  d.process().signal(SIGTERM);
  EXPECT_EQ(d.process().wait(kStartTimeout), 0) << d.log();
}

}  // namespace
}  // namespace dialer::systest
