#include "config/campaign.hpp"

#include "config/config.hpp"
#include "core/campaign_json.hpp"

#include <boost/json/serialize.hpp>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace dialer::config {
namespace {

using namespace std::chrono_literals;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr const char* kAgent = "3f2b6c1e-0d4a-4c8e-9b7a-2e5f1a6c9d3b";

CampaignSpec base_spec() {
  return CampaignDefaults{}.to_spec();
}

std::vector<std::string> errors_of(const Checked<CampaignSpec>& r) {
  std::vector<std::string> out;
  if (r) {
    ADD_FAILURE() << "expected the campaign to be rejected";
    return out;
  }
  for (const auto& d : r.error()) out.push_back(d.to_string());
  return out;
}

Checked<CampaignSpec> parse(const std::string& text, const CampaignSpec& base = base_spec()) {
  return parse_campaign_text(text, base, CampaignParseOptions::for_create("campaign.yaml"));
}

// Name and agent alone give a campaign that is the config's defaults plus those two.
TEST(Campaign, MinimalTakesConfigDefaults) {
  CampaignDefaults defaults;
  defaults.timezone = "Europe/Berlin";
  defaults.max_concurrency = 7;
  defaults.providers = {Provider::plivo};
  auto r = parse_campaign_text(std::string("name: spring\nagent_id: ") + kAgent + "\n",
                               defaults.to_spec());
  ASSERT_TRUE(r) << format_diagnostics(r.error());
  CampaignSpec expected = defaults.to_spec();
  expected.name = "spring";
  expected.agent_id = kAgent;
  EXPECT_EQ(*r, expected);
  EXPECT_EQ(r->timezone, "Europe/Berlin");
  EXPECT_EQ(r->max_concurrency, 7);
  EXPECT_EQ(r->priority, 0);
  EXPECT_EQ(r->weight, 1);
  EXPECT_FALSE(r->budget_credits);
}

// Every field of CONTRACT.md's list is read into the spec.
TEST(Campaign, EveryField) {
  auto r = parse(std::string(R"(
name: diwali-2026_b
agent_id: )") + kAgent +
                 R"(
providers: [twilio, plivo, sip]
provider_strategy: round_robin
max_concurrency: 12
priority: -3
weight: 4
timezone: America/Sao_Paulo
window:
  days: "mon-fri,sun"
  start: "10:00"
  end: "19:30"
  end_margin: 15m
  holidays: ["2026-11-08", "2026-11-09"]
max_attempts: 7
retry:
  busy: {delay: 20m, max: 5}
  lost: {delay: 1m, max: 1}
dnc_on_blocked: false
budget_credits: 250.5
auto_resume: false
description: "Festival offer, second wave"
)");
  ASSERT_TRUE(r) << format_diagnostics(r.error());
  EXPECT_EQ(r->name, "diwali-2026_b");
  EXPECT_EQ(r->providers,
            (std::vector<Provider>{Provider::twilio, Provider::plivo, Provider::sip}));
  EXPECT_EQ(r->provider_strategy, ProviderStrategy::round_robin);
  EXPECT_EQ(r->max_concurrency, 12);
  EXPECT_EQ(r->priority, -3);
  EXPECT_EQ(r->weight, 4);
  EXPECT_EQ(r->timezone, "America/Sao_Paulo");
  EXPECT_EQ(r->window.days, (WeekDays{true, true, true, true, true, false, true}));
  EXPECT_EQ(r->window.start, 10h);
  EXPECT_EQ(r->window.end, 19h + 30min);
  EXPECT_EQ(r->window.end_margin, 15min);
  EXPECT_EQ(r->window.holidays.size(), 2u);
  EXPECT_EQ(r->max_attempts, 7);
  EXPECT_EQ(r->retry.at(Outcome::busy), (RetryRule{20min, 5}));
  EXPECT_EQ(r->retry.at(Outcome::lost), (RetryRule{1min, 1}));
  EXPECT_EQ(r->retry.at(Outcome::voicemail), default_retry_policy().at(Outcome::voicemail));
  EXPECT_FALSE(r->dnc_on_blocked);
  EXPECT_EQ(r->budget_credits, 250.5);
  EXPECT_FALSE(r->auto_resume);
  EXPECT_EQ(r->description, "Festival offer, second wave");
}

// Problems are reported at file:line:col with the field path, all of them.
TEST(Campaign, ErrorsArePositionedAndAllReported) {
  auto r = parse(
      "name: Spring!\n"
      "agent_id: not-a-uuid\n"
      "window:\n"
      "    start: 9am\n"
      "providers: [twilio, skype, twilio]\n"
      "max_concurrency: 0\n"
      "weight: 0\n"
      "max_attempts: 0\n"
      "budget_credits: 0\n"
      "colour: blue\n");
  EXPECT_THAT(
      errors_of(r),
      ElementsAre(
          StartsWith("campaign.yaml:1:7: name: invalid campaign name \"Spring!\""),
          StartsWith("campaign.yaml:2:11: agent_id: invalid uuid \"not-a-uuid\""),
          "campaign.yaml:4:12: window.start: invalid time \"9am\" (expected HH:MM, 00:00 to 24:00)",
          "campaign.yaml:5:21: providers[1]: invalid value \"skype\" (expected mcube, twilio, "
          "exotel, plivo, vobiz, sip or voicelink)",
          "campaign.yaml:5:28: providers[2]: provider twilio is listed twice",
          "campaign.yaml:6:18: max_concurrency: must be between 1 and 10000, got 0",
          "campaign.yaml:7:9: weight: must be between 1 and 1000, got 0",
          "campaign.yaml:8:15: max_attempts: must be between 1 and 100, got 0",
          "campaign.yaml:9:17: budget_credits: must be greater than 0, at most 1000000000000, got "
          "0",
          "campaign.yaml:10:1: colour: unknown key"));
}

// Retry rules for completed or blocked, unknown outcomes and malformed rules are refused.
TEST(Campaign, RetryRuleErrors) {
  auto r = parse(std::string("name: a\nagent_id: ") + kAgent +
                 "\nretry:\n"
                 "  completed: {delay: 1h, max: 1}\n"
                 "  blocked: {delay: 1h, max: 1}\n"
                 "  ringing: {delay: 1h, max: 1}\n"
                 "  busy: {delay: soon, max: -1, jitter: 5}\n"
                 "  no_answer: 3\n");
  EXPECT_THAT(
      errors_of(r),
      ElementsAre(
          "campaign.yaml:4:3: retry.completed: a completed call is done and never retried; remove "
          "this rule",
          "campaign.yaml:5:3: retry.blocked: a blocked number is skipped and never retried (see "
          "dnc_on_blocked); remove this rule",
          StartsWith("campaign.yaml:6:3: retry.ringing: unknown outcome \"ringing\" (expected "
                     "voicemail, user_hangup_no_speech, no_answer, busy, failed, canceled, lost)"),
          "campaign.yaml:7:17: retry.busy.delay: invalid duration \"soon\" (expected e.g. 250ms, "
          "30s, 5m, 2h, 1d or 1h30m)",
          "campaign.yaml:7:28: retry.busy.max: must be between 0 and 100, got -1",
          "campaign.yaml:7:32: retry.busy.jitter: unknown key (expected delay and max, e.g. "
          "{delay: 30m, max: 3})",
          "campaign.yaml:8:14: retry.no_answer: expected a mapping, got \"3\""));
}

// A window and a retry map given in part merge over the base, field by field.
TEST(Campaign, WindowAndRetryMergeOverBase) {
  CampaignSpec base = base_spec();
  base.window.days = {true, false, true, false, true, false, false};
  base.window.end = 20h;
  auto r = parse(std::string("name: a\nagent_id: ") + kAgent +
                     "\nwindow: {start: \"11:00\"}\nretry: {busy: {max: 1}}\n",
                 base);
  ASSERT_TRUE(r) << format_diagnostics(r.error());
  EXPECT_EQ(r->window.days, base.window.days);
  EXPECT_EQ(r->window.start, 11h);
  EXPECT_EQ(r->window.end, 20h);
  RetryPolicy expected = base.retry;
  expected[Outcome::busy].max = 1;
  EXPECT_EQ(r->retry, expected);
}

// Window rules: start before end, margin inside the window, days not empty, real dates.
TEST(Campaign, WindowRules) {
  auto r = parse(std::string("name: a\nagent_id: ") + kAgent +
                 "\nwindow:\n  start: \"21:00\"\n  end: \"09:00\"\n  holidays: [2026-02-30, x]\n");
  EXPECT_THAT(errors_of(r),
              ElementsAre("campaign.yaml:5:8: window.end: window end 09:00 must be after start "
                          "21:00 (windows cannot cross midnight)",
                          "campaign.yaml:6:14: window.holidays[0]: no such date \"2026-02-30\"",
                          "campaign.yaml:6:26: window.holidays[1]: invalid date \"x\" (expected "
                          "YYYY-MM-DD)"));
  auto days =
      parse(std::string("name: a\nagent_id: ") + kAgent + "\nwindow: {days: [mon, funday]}\n");
  EXPECT_THAT(
      errors_of(days),
      ElementsAre(StartsWith("campaign.yaml:3:22: window.days[1]: invalid day \"funday\"")));
}

// Creating needs name and agent_id; an update does not, and skips the caller's own keys.
TEST(Campaign, IdentityRequiredOnlyOnCreate) {
  EXPECT_THAT(
      errors_of(parse("max_concurrency: 3\n")),
      ElementsAre("campaign.yaml:1:1: name: required", "campaign.yaml:1:1: agent_id: required"));
  CampaignSpec current = base_spec();
  current.name = "spring";
  current.agent_id = kAgent;
  current.budget_credits = 100;
  auto r =
      parse_campaign_text(R"({"campaign": "spring", "max_concurrency": 9, "budget_credits": null})",
                          current, CampaignParseOptions::for_update("request"));
  ASSERT_TRUE(r) << format_diagnostics(r.error());
  EXPECT_EQ(r->name, "spring");
  EXPECT_EQ(r->max_concurrency, 9);
  EXPECT_FALSE(r->budget_credits);  // null clears the budget
}

// An admin request's JSON arguments are validated with positions on the JSON text; a quoted
// number is a string and refused.
TEST(Campaign, JsonArgumentsHavePositions) {
  std::string json = std::string(R"({"name": "spring", "agent_id": ")") + kAgent +
                     R"(", "max_concurrency": "5", "window": {"end": "25:00"}})";
  auto r = parse_campaign_text(json, base_spec(), CampaignParseOptions::for_create("request"));
  auto errors = errors_of(r);
  ASSERT_EQ(errors.size(), 2u);
  std::size_t col1 = json.find("\"5\"") + 1;
  std::size_t col2 = json.find("\"25:00\"") + 1;
  EXPECT_EQ(errors[0], "request:1:" + std::to_string(col1) +
                           ": max_concurrency: expected an integer, got \"5\"");
  EXPECT_EQ(errors[1], "request:1:" + std::to_string(col2) +
                           ": window.end: invalid time \"25:00\" (expected HH:MM, 00:00 to 24:00)");
  EXPECT_THAT(errors_of(parse_campaign_text("{\"name\": ", base_spec(),
                                            CampaignParseOptions::for_create("request"))),
              ElementsAre(StartsWith("request:1:")));
  EXPECT_THAT(
      errors_of(
          parse_campaign_text("[1, 2]", base_spec(), CampaignParseOptions::for_create("request"))),
      ::testing::Contains("request:1:1: expected a mapping of campaign fields, got a list"));
}

// campaign_spec_to_json writes the shape parse_campaign reads: a full round trip is lossless.
TEST(Campaign, JsonRoundTrip) {
  CampaignSpec spec = base_spec();
  spec.name = "round-trip";
  spec.agent_id = kAgent;
  spec.providers = {Provider::exotel, Provider::vobiz};
  spec.priority = 5;
  spec.window.holidays = {std::chrono::year{2026} / 12 / 25};
  spec.window.end_margin = 90s;
  spec.retry[Outcome::no_answer] = {45min, 4};
  spec.budget_credits = 12.25;
  spec.description = "quote \" and unicode é";
  boost::json::object j = campaign_spec_to_json(spec);
  EXPECT_EQ(j.at("window").at("end_margin"), "1m30s");
  EXPECT_EQ(j.at("budget_credits"), 12.25);
  auto back = parse_campaign_text(boost::json::serialize(j), CampaignSpec{},
                                  CampaignParseOptions::for_create("json"));
  ASSERT_TRUE(back) << format_diagnostics(back.error());
  EXPECT_EQ(*back, spec);
}

// The compact --window form: days and/or a time range.
TEST(CompactWindow, Parses) {
  auto w = parse_window_compact("mon-sat,09:00-21:00");
  ASSERT_TRUE(w) << w.error().what();
  EXPECT_EQ(w->days, (WeekDays{true, true, true, true, true, true, false}));
  EXPECT_EQ(w->start, 9h);
  EXPECT_EQ(w->end, 21h);
  auto times = parse_window_compact("10:00-18:30");
  ASSERT_TRUE(times);
  EXPECT_FALSE(times->days);
  EXPECT_EQ(times->end, 18h + 30min);
  auto days = parse_window_compact("mon,wed,fri-sun");
  ASSERT_TRUE(days);
  EXPECT_EQ(days->days, (WeekDays{true, false, true, false, true, true, true}));
  EXPECT_FALSE(days->start);
  Window applied = w->apply_to(Window{});
  EXPECT_EQ(applied.end_margin, Window{}.end_margin);
  EXPECT_EQ(applied.start, 9h);
  EXPECT_EQ(boost::json::serialize(w->to_json()),
            R"({"days":["mon","tue","wed","thu","fri","sat"],"start":"09:00","end":"21:00"})");
  // The JSON form is what parse_campaign reads under "window".
  auto r =
      parse_campaign_text(boost::json::serialize(boost::json::object{
                              {"name", "w"}, {"agent_id", kAgent}, {"window", times->to_json()}}),
                          base_spec());
  ASSERT_TRUE(r) << format_diagnostics(r.error());
  EXPECT_EQ(r->window.start, 10h);
}

// Malformed --window values say what is wrong.
TEST(CompactWindow, Rejects) {
  for (auto [text, message] : std::vector<std::pair<std::string, std::string>>{
           {"", "empty window"},
           {"mon-sat,", "invalid day \"\""},
           {"mon-sat,21:00-09:00", "must be after start"},
           {"mon-sat,9-21", "invalid day \"9\""},
           {"mon-sat,09:00", "invalid time range"},
           {"09:00-12:00,13:00-18:00", "more than one time range"},
           {"monday", "invalid day \"monday\""},
           {"mon-sat,09:00-25:00", "invalid time \"25:00\""},
       }) {
    auto r = parse_window_compact(text);
    ASSERT_FALSE(r) << text;
    EXPECT_THAT(r.error().what(), HasSubstr(message)) << text;
  }
}

// The compact --retry form "outcome=delay/max".
TEST(CompactRetry, ParsesAndRejects) {
  auto r = parse_retry_compact("no_answer=30m/3");
  ASSERT_TRUE(r) << r.error().what();
  EXPECT_EQ(r->first, Outcome::no_answer);
  EXPECT_EQ(r->second, (RetryRule{30min, 3}));
  auto zero = parse_retry_compact("voicemail=0/0");
  ASSERT_TRUE(zero);
  EXPECT_EQ(zero->second, (RetryRule{0ms, 0}));
  for (auto [text, message] : std::vector<std::pair<std::string, std::string>>{
           {"no_answer", "invalid retry rule"},
           {"no_answer=30m", "invalid retry rule"},
           {"completed=1h/1", "never retried"},
           {"blocked=1h/1", "never retried"},
           {"ringing=1h/1", "unknown outcome \"ringing\""},
           {"busy=soon/1", "invalid duration \"soon\""},
           {"busy=10m/x", "invalid retry count \"x\""},
           {"busy=10m/101", "invalid retry count \"101\""},
           {"busy=31d/1", "at most 30d"},
       }) {
    auto bad = parse_retry_compact(text);
    ASSERT_FALSE(bad) << text;
    EXPECT_THAT(bad.error().what(), HasSubstr(message)) << text;
  }
  RetryPolicy p{{Outcome::no_answer, {30min, 3}}};
  EXPECT_EQ(boost::json::serialize(retry_to_json(p)), R"({"no_answer":{"delay":"30m","max":3}})");
}

}  // namespace
}  // namespace dialer::config
