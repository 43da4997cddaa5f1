#include "core/campaign_json.hpp"

#include "tests/unit/store/store_fixture.hpp"

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <array>

namespace dialer {
namespace {

namespace json = boost::json;
using store::testing::sample_spec;

json::value parse(std::string_view text) {
  return json::parse(text);
}

std::string error_of(const json::value& v) {
  auto r = campaign_spec_from_json(v);
  EXPECT_FALSE(r) << "accepted " << json::serialize(v);
  return r ? std::string{} : r.error().message;
}

// The window has the documented shape: day names, HH:MM times, a duration and ISO dates.
TEST(CampaignJson, WindowShape) {
  Window w;
  w.holidays = {std::chrono::year{2026} / 12 / 25};
  EXPECT_EQ(json::serialize(window_to_json(w)),
            R"({"days":["mon","tue","wed","thu","fri","sat"],"start":"09:00","end":"21:00",)"
            R"("end_margin":"10m","holidays":["2026-12-25"]})");
}

// Retry rules are keyed by outcome name with a duration and a count.
TEST(CampaignJson, RetryShape) {
  RetryPolicy p{{Outcome::no_answer, {std::chrono::minutes{30}, 3}},
                {Outcome::busy, {std::chrono::minutes{10}, 3}}};
  EXPECT_EQ(json::serialize(retry_to_json(p)),
            R"({"no_answer":{"delay":"30m","max":3},"busy":{"delay":"10m","max":3}})");
}

// A spec written to JSON reads back identical, every field included.
TEST(CampaignJson, SpecRoundTrip) {
  CampaignSpec spec = sample_spec("spring");
  auto back = campaign_spec_from_json(campaign_spec_to_json(spec), CampaignSpec{});
  ASSERT_TRUE(back) << back.error().what();
  // from_json merges retry rules onto the base; the sample drops voicemail, so compare the
  // rules it does carry and the rest field by field.
  for (const auto& [outcome, rule] : spec.retry) EXPECT_EQ(back->retry.at(outcome), rule);
  back->retry = spec.retry;
  EXPECT_EQ(*back, spec);
  auto w = window_from_json(window_to_json(spec.window));
  ASSERT_TRUE(w);
  EXPECT_EQ(*w, spec.window);
  auto r = retry_from_json(retry_to_json(spec.retry));
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, spec.retry);
  auto p = providers_from_json(providers_to_json(spec.providers));
  ASSERT_TRUE(p);
  EXPECT_EQ(*p, spec.providers);
}

// Fields left out keep the base's values; window and retry merge into the base's.
TEST(CampaignJson, MissingFieldsKeepBase) {
  CampaignSpec base = sample_spec("base");
  auto r = campaign_spec_from_json(parse(R"({"max_concurrency": 9, "window": {"start": "10:00"},
                "retry": {"busy": {"delay": "1m", "max": 1}}, "budget_credits": null})"),
                                   base);
  ASSERT_TRUE(r) << r.error().what();
  EXPECT_EQ(r->name, "base");
  EXPECT_EQ(r->max_concurrency, 9);
  EXPECT_EQ(r->window.start, std::chrono::minutes{600});
  EXPECT_EQ(r->window.end, base.window.end);
  EXPECT_EQ(r->window.holidays, base.window.holidays);
  EXPECT_EQ(r->retry.at(Outcome::busy), (RetryRule{std::chrono::minutes{1}, 1}));
  EXPECT_EQ(r->retry.at(Outcome::no_answer), base.retry.at(Outcome::no_answer));
  EXPECT_EQ(r->budget_credits, std::nullopt);
}

// Every type or spelling error names the field it is in.
TEST(CampaignJson, ErrorsNameTheField) {
  EXPECT_EQ(error_of(parse(R"({"window": {"start": "9am"}})")),
            R"(window.start: expected a time "HH:MM", got "9am")");
  EXPECT_EQ(error_of(parse(R"({"retry": {"no_answer": {"delay": "30m", "max": "3"}}})")),
            "retry.no_answer.max: expected an integer, got a string");
  EXPECT_EQ(error_of(parse(R"({"retry": {"no_answer": {"max": 3}}})")),
            "retry.no_answer.delay: missing");
  EXPECT_NE(error_of(parse(R"({"retry": {"sometimes": {"delay": "1m", "max": 1}}})"))
                .find("retry.sometimes: unknown value"),
            std::string::npos);
  EXPECT_NE(error_of(parse(R"({"providers": ["twilio", "skype"]})")).find("providers[1]"),
            std::string::npos);
  EXPECT_EQ(error_of(parse(R"({"window": {"days": ["mon", "funday"]}})")).substr(0, 15),
            "window.days[1]:");
  EXPECT_EQ(error_of(parse(R"({"window": {"holidays": ["2026-02-30"]}})")),
            R"(window.holidays[0]: expected a date "YYYY-MM-DD", got "2026-02-30")");
  EXPECT_EQ(error_of(parse(R"({"window": {"end_margin": "ten"}})")).substr(0, 18),
            "window.end_margin:");
  EXPECT_EQ(error_of(parse(R"({"max_concurrency": 0})")).substr(0, 16), "max_concurrency:");
  EXPECT_EQ(error_of(parse(R"({"budget_credits": "lots"})")),
            "budget_credits: expected a number, got a string");
  EXPECT_EQ(error_of(parse(R"({"dnc_on_blocked": 1})")),
            "dnc_on_blocked: expected true or false, got a number");
  EXPECT_EQ(error_of(parse(R"({"colour": "red"})")), "colour: unknown field");
  EXPECT_EQ(error_of(parse(R"([1, 2])")), "campaign: expected an object, got an array");
}

// Keys the caller names as its own are ignored rather than refused.
TEST(CampaignJson, IgnoredKeysAccepted) {
  constexpr std::array<std::string_view, 1> ignored{"campaign"};
  auto r = campaign_spec_from_json(parse(R"({"campaign": "spring", "weight": 4})"), {}, ignored);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->weight, 4);
}

// "24:00" closes a window at midnight; it is not a valid start.
TEST(CampaignJson, TimeOfDayBounds) {
  EXPECT_EQ(parse_time_of_day("24:00", true), std::chrono::minutes{1440});
  EXPECT_EQ(parse_time_of_day("24:00"), std::nullopt);
  EXPECT_EQ(parse_time_of_day("23:59"), std::chrono::minutes{1439});
  EXPECT_EQ(parse_time_of_day("9:00"), std::nullopt);
  EXPECT_EQ(parse_time_of_day("12:60"), std::nullopt);
  EXPECT_EQ(format_time_of_day(std::chrono::minutes{1440}), "24:00");
  auto w = window_from_json(parse(R"({"end": "24:00"})"));
  ASSERT_TRUE(w);
  EXPECT_EQ(w->end, std::chrono::minutes{1440});
  EXPECT_FALSE(window_from_json(parse(R"({"start": "24:00"})")));
}

}  // namespace
}  // namespace dialer
