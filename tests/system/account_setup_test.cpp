// Setting up before dialling (issue: setup and planning): `dialerctl check` says what keeps this
// daemon from dialling, campaign-start refuses what the check already knows cannot dial, and
// `dialerctl webhook register|rotate` sets up the endpoint without a restart or a lost webhook.
#include "daemon_test_support.hpp"

#include <gmock/gmock.h>

#include <sys/stat.h>

namespace dialer::systest {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr const char* kAgent = "3fa85f64-5717-4562-b3fc-2c963f66afa6";
constexpr const char* kGhost = "00000000-1111-2222-3333-444444444444";

std::uint64_t calls_started(const TempDir& dir, const Sim& sim) {
  const auto st = sim_stats(dir, sim);
  return st.empty() ? 0 : st.at("calls_started").to_number<std::uint64_t>();
}

// Twilio is allowed but not configured and one campaign's agent does not exist: the check says
// so row by row, and neither campaign can be started — refused (4) with the row's text, no call
// placed. (Before, the start was accepted and the refusals came from POST /calls/start.)
TEST(AccountSetup, CheckSaysWhyAndAStartThatCannotDialIsRefused) {
  if (!Sim::exists()) GTEST_SKIP() << "vocobase-sim is not built";
  TempDir dir;
  Sim sim(dir, {"--api-key", "rg_test_secret_key", "--agent", kAgent});
  Daemon d(dir, dir.write("dialerd.yaml", test_config(dir, sim.base_url())));
  ASSERT_TRUE(d.ready());
  sim_control(dir, sim, "/_sim/providers",
              R"({"allowed": ["twilio", "plivo", "mcube"], "configured": ["plivo", "mcube"]})");
  const auto list = dir.write("list.csv", "phone\n+919876560001\n");
  ASSERT_EQ(result_of(d.call("campaign-create", {{"name", "twilio-only"}, {"agent_id", kAgent}})),
            0);
  ASSERT_EQ(result_of(d.call(
                "campaign-create",
                {{"name", "ghost"}, {"agent_id", kGhost}, {"providers", json::array{"plivo"}}})),
            0);
  ASSERT_EQ(result_of(d.call("campaign-create", {{"name", "fine"},
                                                 {"agent_id", kAgent},
                                                 {"providers", json::array{"twilio", "plivo"}}})),
            0);
  for (const char* c : {"twilio-only", "ghost", "fine"}) {
    ASSERT_EQ(result_of(d.call("contacts-import", {{"campaign", c}, {"path", list}})), 0);
  }

  auto shown = d.ctl({"check"});
  EXPECT_EQ(shown.exit_code, 4) << shown.err;
  EXPECT_THAT(shown.out, HasSubstr("ok    api key"));
  EXPECT_THAT(shown.out, HasSubstr("FAIL  provider twilio"));
  EXPECT_THAT(shown.out, HasSubstr("allowed but not configured (used by twilio-only, fine)"));
  EXPECT_THAT(shown.out, HasSubstr(std::string("FAIL  agent ") + kGhost));
  EXPECT_THAT(shown.out, HasSubstr("fix: dialerctl campaign update ghost --agent"));
  EXPECT_THAT(shown.out, HasSubstr("ok    provider plivo"));
  EXPECT_THAT(shown.out, HasSubstr("webhook.public_url is not set"));
  EXPECT_THAT(shown.err, HasSubstr("checks failed: agent " + std::string(kGhost)));

  const auto answer = d.call("account-check");
  EXPECT_EQ(result_of(answer), 4);
  bool saw_credits = false;
  for (const auto& row : args_of(answer).at("rows").as_array()) {
    const auto& o = row.as_object();
    for (const char* k : {"check", "ok", "detail", "fix"}) EXPECT_TRUE(o.contains(k)) << k;
    if (o.at("check").as_string() == "credits") {
      saw_credits = true;
      EXPECT_TRUE(o.at("ok").as_bool());
    }
  }
  EXPECT_TRUE(saw_credits);

  const auto refused = d.call("campaign-start", {{"campaign", "twilio-only"}});
  EXPECT_EQ(result_of(refused), 4) << json::serialize(refused);
  EXPECT_THAT(std::string(refused.at("text").as_string()),
              HasSubstr("campaign twilio-only cannot start: provider twilio: allowed but not "
                        "configured"));
  const auto ghost = d.call("campaign-start", {{"campaign", "ghost"}});
  EXPECT_EQ(result_of(ghost), 4);
  EXPECT_THAT(std::string(ghost.at("text").as_string()), HasSubstr("not found"));
  EXPECT_EQ(args_of(d.call("campaign-get", {{"campaign", "twilio-only"}})).at("state"), "draft");
  EXPECT_EQ(args_of(d.call("campaign-get", {{"campaign", "ghost"}})).at("state"), "draft");

  // One usable provider of two is enough: it starts, and dials through plivo.
  ASSERT_EQ(result_of(d.call("campaign-start", {{"campaign", "fine"}})), 0) << d.log();
  ASSERT_TRUE(eventually([&] { return calls_started(dir, sim) == 1; }, 60s)) << d.log();
  EXPECT_THAT(d.log(), HasSubstr("campaign fine: provider twilio: allowed but not configured"));
}

/// The daemon's config with no webhook secret and webhook.public_url pointing at its listener.
std::string unsecured_config(const TempDir& dir, const Sim& sim, const std::string& listen) {
  std::string cfg = test_config(dir, sim.base_url(), listen);
  const std::string secrets = "  secrets: [\"whsec_test_secret\"]\n";
  cfg.replace(cfg.find(secrets), secrets.size(),
              "  public_url: http://" + listen + "/webhooks/vocobase\n  rotation_overlap: 1h\n");
  return cfg;
}

/// Runs a one-contact campaign to completed.
void run_campaign(const TempDir& dir, Daemon& d, const std::string& name,
                  const std::string& phone) {
  const auto list = dir.write(name + ".csv", "phone\n" + phone + "\n");
  ASSERT_EQ(result_of(d.call("campaign-create", {{"name", name}, {"agent_id", kAgent}})), 0);
  ASSERT_EQ(result_of(d.call("contacts-import", {{"campaign", name}, {"path", list}})), 0);
  ASSERT_EQ(result_of(d.call("campaign-start", {{"campaign", name}})), 0) << d.log();
  ASSERT_TRUE(eventually(
      [&] {
        return args_of(d.call("campaign-stats", {{"campaign", name}})).at("state") == "completed";
      },
      120s))
      << d.log();
}

// A daemon started without any secret registers the endpoint for webhook.public_url: the secret
// is kept 0600 in the state directory, never shown or logged, and in force at once (outcomes
// arrive by webhook, none refused). A rotation keeps deliveries verified, and the old secret
// retires once a delivery signed with the new one arrived.
TEST(AccountSetup, WebhookRegisterAndRotateWithoutRestartOrLoss) {
  if (!Sim::exists()) GTEST_SKIP() << "vocobase-sim is not built";
  TempDir dir;
  const std::string listen = "127.0.0.1:" + std::to_string(reserve_loopback_port());
  Sim sim(dir, {"--api-key", "rg_test_secret_key", "--time-scale", "300", "--outcomes",
                "completed=1", "--calls-per-minute", "120"});
  Daemon d(dir, dir.write("dialerd.yaml", unsecured_config(dir, sim, listen)));
  ASSERT_TRUE(d.ready());
  ASSERT_TRUE(d.config_polled());
  EXPECT_THAT(d.log(), HasSubstr("no webhook secret: every delivery is refused"));

  auto reg = d.ctl({"webhook", "register"});
  ASSERT_EQ(reg.exit_code, 0) << reg.err;
  EXPECT_THAT(reg.out, HasSubstr("registered endpoint wh_1 for http://" + listen));
  const std::string file = dir.file("webhook-endpoint.json");
  struct stat st {};
  ASSERT_EQ(::stat(file.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(d.ctl({"webhook", "register"}).exit_code, 4);  // registered already

  run_campaign(dir, d, "first", "+919876560001");
  auto hooks = args_of(d.call("status-get")).at("webhooks").as_object();
  EXPECT_EQ(hooks.at("stored_last_hour").to_number<std::uint64_t>(), 1u) << json::serialize(hooks);
  EXPECT_EQ(hooks.at("refused_last_hour").to_number<std::uint64_t>(), 0u);

  auto rotated = d.ctl({"webhook", "rotate"});
  ASSERT_EQ(rotated.exit_code, 0) << rotated.err;
  EXPECT_THAT(rotated.out, HasSubstr("the previous secret is accepted until the first delivery "
                                     "signed with the new one"));
  const auto two = run(dir, {"/usr/bin/grep", "-o", "whsec_", file});
  EXPECT_EQ(two.out, "whsec_\nwhsec_\n");  // both secrets kept during the overlap

  run_campaign(dir, d, "second", "+919876560002");
  hooks = args_of(d.call("status-get")).at("webhooks").as_object();
  EXPECT_EQ(hooks.at("stored_last_hour").to_number<std::uint64_t>(), 2u) << json::serialize(hooks);
  EXPECT_EQ(hooks.at("refused_last_hour").to_number<std::uint64_t>(), 0u);
  EXPECT_EQ(run(dir, {"/usr/bin/grep", "-o", "whsec_", file}).out, "whsec_\n");
  EXPECT_THAT(d.log(), HasSubstr("a delivery signed with the new secret arrived; the previous "
                                 "secret is retired"));

  auto check = d.ctl({"check"});
  EXPECT_THAT(check.out, HasSubstr("ok    webhook endpoint"));
  EXPECT_THAT(check.out, HasSubstr("succeeded"));
  EXPECT_THAT(check.out, Not(HasSubstr("webhook secret")));
  EXPECT_THAT(d.log(), Not(HasSubstr("whsec_")));
  EXPECT_THAT(check.out + reg.out + rotated.out, Not(HasSubstr("whsec_")));
  EXPECT_THAT(json::serialize(d.call("config-get")), Not(HasSubstr("whsec_")));
}

}  // namespace
}  // namespace dialer::systest

namespace dialer::systest {
namespace {

// `dialerctl campaign forecast` on a draft: the real scheduler on a copy of the store, as if
// started now — the answer has a finish and days, the campaign stays a draft, and the simulated
// scheduler's own lines stay out of the daemon's log.
TEST(AccountSetup, ForecastADraftWithoutTouchingIt) {
  if (!Sim::exists()) GTEST_SKIP() << "vocobase-sim is not built";
  QuickStack stack;
  auto& dir = stack.dir;
  auto& d = stack.daemon;
  ASSERT_TRUE(d.ready());
  ASSERT_TRUE(d.config_polled());
  const auto list = dir.write("list.csv", "phone\n+919876560001\n+919876560002\n+919876560003\n");
  ASSERT_EQ(result_of(d.call("campaign-create", {{"name", "plan"}, {"agent_id", kAgent}})), 0);
  ASSERT_EQ(result_of(d.call("contacts-import", {{"campaign", "plan"}, {"path", list}})), 0);

  auto shown = d.ctl({"campaign", "forecast", "plan"});
  ASSERT_EQ(shown.exit_code, 0) << shown.err;
  EXPECT_THAT(shown.out, HasSubstr("campaign plan finishes "));
  EXPECT_THAT(shown.out, HasSubstr("DATE"));
  EXPECT_THAT(shown.out, HasSubstr("- a draft: forecast as if started now"));
  EXPECT_THAT(shown.out, HasSubstr("fewer than 30 calls"));

  const auto answer = d.call("campaign-forecast", {{"campaign", "plan"}});
  ASSERT_EQ(result_of(answer), 0) << json::serialize(answer);
  const auto& args = args_of(answer);
  EXPECT_TRUE(args.at("finish_at").is_string());
  EXPECT_GE(args.at("calls").to_number<std::int64_t>(), 3);
  EXPECT_FALSE(args.at("by_day").as_array().empty());
  EXPECT_EQ(args_of(d.call("campaign-get", {{"campaign", "plan"}})).at("state"), "draft");
  EXPECT_EQ(d.ctl({"campaign", "forecast", "nope"}).exit_code, 3);
  EXPECT_EQ(result_of(d.call("campaign-forecast", {{"campaign", "plan"}, {"max_seconds", 0}})), 1);

  const std::string log = d.log();
  EXPECT_THAT(log, HasSubstr("forecast of campaign plan:"));
  EXPECT_THAT(log, Not(HasSubstr("campaign plan: draft -(start)-> running")));
  EXPECT_THAT(log, Not(HasSubstr("forecast-call-")));
  EXPECT_EQ(run(dir, {"/usr/bin/find", dir.path().string(), "-name", "forecast-*"}).out, "");
}

}  // namespace
}  // namespace dialer::systest
