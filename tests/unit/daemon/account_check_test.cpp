// account-check's rows from API answers (daemon/account_check): each rule without a network.
#include "daemon/account_check.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace dialer::daemon {
namespace {

using ::testing::HasSubstr;

api::AccountConfig account(std::vector<std::string> allowed,
                           std::map<std::string, api::TelephonyEntry> telephony) {
  api::AccountConfig c;
  c.name = "acme";
  c.status = "approved";
  c.allowed_providers = std::move(allowed);
  c.telephony = std::move(telephony);
  c.credit_balance = 42.5;
  return c;
}

CheckInputs inputs(std::vector<CampaignNeeds> campaigns) {
  CheckInputs in;
  in.campaigns = std::move(campaigns);
  in.api_url = "https://api.example/api/v2";
  in.public_url = "https://dialer.example/webhooks/vocobase";
  in.credit_pointer = "/data/credit_balance";
  in.min_credit_balance = 0.3;
  in.concurrency_limit = 5;
  in.concurrency_source = "partner";
  in.have_secret = true;
  return in;
}

TEST(AccountCheck, ProvidersAreAllowedConfiguredOrSaidWhyNot) {
  auto cfg =
      account({"twilio", "plivo"}, {{"twilio", {true, "+14155550101"}}, {"plivo", {false, ""}}});
  auto in = inputs({{"a", "agent", {Provider::twilio, Provider::plivo}},
                    {"b", "agent", {Provider::exotel}},
                    {"c", "agent", {}}});
  std::vector<api::LegacyConnection> legacy{{"conn_7", "Plivo", "active"}};
  auto rows = provider_rows(cfg, in, &legacy);
  ASSERT_EQ(rows.size(), 4u);  // twilio, plivo, exotel, mcube (c's API default)
  EXPECT_EQ(rows[0].check, "provider twilio");
  EXPECT_TRUE(rows[0].ok);
  EXPECT_THAT(rows[0].detail, HasSubstr("from +14155550101"));
  EXPECT_EQ(rows[1].check, "provider plivo");
  EXPECT_FALSE(rows[1].ok);
  EXPECT_THAT(rows[1].detail, HasSubstr("allowed but not configured (used by a)"));
  EXPECT_THAT(rows[1].detail, HasSubstr("legacy BYOP connection exists (conn_7"));
  EXPECT_EQ(rows[2].check, "provider exotel");
  EXPECT_FALSE(rows[2].ok);
  EXPECT_THAT(rows[2].detail, HasSubstr("not in the account's allowed_telephony_providers "
                                        "(twilio, plivo) (used by b)"));
  EXPECT_THAT(rows[2].fix, HasSubstr("ask Vocobase to allow exotel"));
  EXPECT_EQ(rows[3].check, "provider mcube");
  EXPECT_FALSE(rows[3].ok);
}

TEST(AccountCheck, KeyAndAccount) {
  auto in = inputs({});
  api::ApiResult<api::AccountConfig> refused =
      api::ApiError(api::Reason::auth, "Invalid API key", 401);
  auto rows = account_rows(refused, in);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].check, "api key");
  EXPECT_FALSE(rows[0].ok);
  EXPECT_THAT(rows[0].fix, HasSubstr("vocobase.api_key_file"));

  api::ApiResult<api::AccountConfig> down = api::ApiError(api::Reason::connect_failed, "refused");
  rows = account_rows(down, in);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_THAT(rows[0].detail, HasSubstr("cannot ask https://api.example/api/v2"));

  auto cfg = account({}, {});
  cfg.status = "suspended";
  rows = account_rows(cfg, in);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_TRUE(rows[0].ok);
  EXPECT_FALSE(rows[1].ok);
  EXPECT_THAT(rows[1].detail, HasSubstr("status is 'suspended'"));
}

TEST(AccountCheck, AgentRows) {
  api::ApiResult<std::string> found = std::string("Sales bot");
  EXPECT_TRUE(agent_row("a1", {"c"}, found).ok);
  api::ApiResult<std::string> gone = api::ApiError(api::Reason::not_found, "Agent not found", 404);
  auto row = agent_row("a1", {"c", "d"}, gone);
  EXPECT_FALSE(row.ok);
  EXPECT_THAT(row.detail, HasSubstr("not found"));
  EXPECT_THAT(row.detail, HasSubstr("(used by c, d)"));
  EXPECT_THAT(row.fix, HasSubstr("dialerctl campaign update c --agent"));
  api::ApiResult<std::string> flaky = api::ApiError(api::Reason::server_error, "boom", 502);
  EXPECT_FALSE(agent_row("a1", {"c"}, flaky).ok);
}

TEST(AccountCheck, WebhookEndpointForThePublicUrl) {
  auto in = inputs({});
  std::vector<api::WebhookEndpointInfo> list{
      {"wh_1", "other", "https://elsewhere.example/hook", true, std::nullopt, std::nullopt},
      {"wh_2", "ours", "https://dialer.example/webhooks/vocobase/", true, "2026-12-05T10:00:00Z",
       "success"}};
  auto rows = webhook_rows(list, in);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_TRUE(rows[0].ok) << rows[0].detail;
  EXPECT_THAT(rows[0].detail, HasSubstr("endpoint wh_2"));
  EXPECT_THAT(rows[0].detail, HasSubstr("succeeded"));

  list[1].last_delivery_status = "failed";
  rows = webhook_rows(list, in);
  EXPECT_FALSE(rows[0].ok);
  EXPECT_THAT(rows[0].detail, HasSubstr("was 'failed'"));

  list[1].enabled = false;
  EXPECT_THAT(webhook_rows(list, in)[0].detail, HasSubstr("is disabled"));

  list.pop_back();
  rows = webhook_rows(list, in);
  EXPECT_FALSE(rows[0].ok);
  EXPECT_THAT(rows[0].detail, HasSubstr("no endpoint for https://dialer.example/webhooks/vocobase "
                                        "(1 other registered)"));
  EXPECT_EQ(rows[0].fix, "dialerctl webhook register");

  in.public_url.clear();
  in.have_secret = false;
  rows = webhook_rows(list, in);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_THAT(rows[0].detail, HasSubstr("webhook.public_url is not set"));
  EXPECT_EQ(rows[1].check, "webhook secret");
  EXPECT_FALSE(rows[1].ok);
}

TEST(AccountCheck, VoicelinkReadinessPerDid) {
  api::VoicelinkReadiness r;
  r.readiness.push_back({"918047100004", "READY", {}});
  r.readiness.push_back({"918047100005", "NO_BOT", {{"ATTACH_BOT", "Attach a bot to the DID"}}});
  auto rows = voicelink_rows(r);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].check, "voicelink DID +918047100004");
  EXPECT_TRUE(rows[0].ok);
  EXPECT_FALSE(rows[1].ok);
  EXPECT_EQ(rows[1].detail, "NO_BOT");
  EXPECT_EQ(rows[1].fix, "Attach a bot to the DID");

  r.warnings.push_back("TRUNCATED");
  rows = voicelink_rows(r);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_FALSE(rows[0].ok);
  EXPECT_THAT(rows[0].detail, HasSubstr("suppressed by the API (TRUNCATED): not guessed"));

  api::ApiResult<api::VoicelinkReadiness> err =
      api::ApiError(api::Reason::validation, "connection_id is required", 400);
  rows = voicelink_rows(err);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_THAT(rows[0].detail, HasSubstr("connection_id is required"));
}

TEST(AccountCheck, CreditsAndConcurrency) {
  auto in = inputs({});
  auto cfg = account({}, {});
  EXPECT_TRUE(credit_row(cfg, in).ok);
  EXPECT_THAT(credit_row(cfg, in).detail, HasSubstr("42.50 credits"));
  cfg.credit_balance = 0.1;
  EXPECT_FALSE(credit_row(cfg, in).ok);
  cfg.credit_balance.reset();
  auto row = credit_row(cfg, in);
  EXPECT_TRUE(row.ok);
  EXPECT_THAT(row.detail, HasSubstr("not found at /data/credit_balance"));
  EXPECT_THAT(row.fix, HasSubstr("vocobase.credit_balance_pointer"));

  EXPECT_EQ(concurrency_row(in).detail, "5 calls at once, source partner");
  in.concurrency_source = "default";
  EXPECT_THAT(concurrency_row(in).detail, HasSubstr("documented default"));
}

}  // namespace
}  // namespace dialer::daemon
