#include "core/campaign_spec.hpp"
#include "core/enums.hpp"
#include "core/errc.hpp"
#include "core/time.hpp"

#include <gtest/gtest.h>

namespace dialer {
namespace {

using namespace std::chrono_literals;

// Every duration spelling of CONTRACT.md parses to the right length.
TEST(Duration, ParsesContractSpellings) {
  EXPECT_EQ(parse_duration("250ms"), Millis{250});
  EXPECT_EQ(parse_duration("30s"), Millis{30'000});
  EXPECT_EQ(parse_duration("5m"), Millis{300'000});
  EXPECT_EQ(parse_duration("2h"), Millis{7'200'000});
  EXPECT_EQ(parse_duration("1d"), Millis{86'400'000});
  EXPECT_EQ(parse_duration("1h30m"), Millis{5'400'000});
  EXPECT_EQ(parse_duration("0"), Millis{0});
}

// Malformed durations are refused, never read as zero.
TEST(Duration, RejectsMalformed) {
  for (const char* bad : {"", "5", "m", "5 m", "-5m", "5M", "5min", "1.5h", "99999999999999d"}) {
    EXPECT_FALSE(parse_duration(bad).has_value()) << bad;
  }
}

// format_duration is the inverse of parse_duration for exact values.
TEST(Duration, FormatsShortestExact) {
  EXPECT_EQ(format_duration(90s), "1m30s");
  EXPECT_EQ(format_duration(5400s), "1h30m");
  EXPECT_EQ(format_duration(Millis{250}), "250ms");
  EXPECT_EQ(format_duration(Millis{0}), "0s");
  EXPECT_EQ(parse_duration(format_duration(Millis{93'784'005})), Millis{93'784'005});
}

// ISO-8601 round trip at millisecond precision, offsets normalised to UTC.
TEST(Iso8601, RoundTripsAndNormalisesOffsets) {
  auto t = parse_iso8601("2026-03-15T14:32:08.000Z");
  ASSERT_TRUE(t);
  EXPECT_EQ(format_iso8601(*t), "2026-03-15T14:32:08.000Z");
  EXPECT_EQ(parse_iso8601("2026-03-15T20:02:08+05:30"), t);
  EXPECT_EQ(parse_iso8601("2026-03-15T14:32:08.123456Z"), *t + Millis{123});
  EXPECT_FALSE(parse_iso8601("2026-03-15T14:32:08"));  // no zone
  EXPECT_FALSE(parse_iso8601("2026-02-30T00:00:00Z"));
  EXPECT_FALSE(parse_iso8601("yesterday"));
}

// Enum names are the wire spellings and round-trip.
TEST(Enums, RoundTripWireNames) {
  EXPECT_EQ(to_string(AttemptState::void_), "void");
  EXPECT_EQ(from_string<CampaignState>("credit_exhausted"), CampaignState::credit_exhausted);
  EXPECT_FALSE(from_string<Provider>("Twilio").has_value());
  for (auto s : all_values<Outcome>()) EXPECT_EQ(from_string<Outcome>(to_string(s)), s);
}

// The outcome is the disposition when present, else a terminal status.
TEST(Enums, OutcomePrefersDisposition) {
  EXPECT_EQ(outcome_of(Disposition::voicemail, CallStatus::completed), Outcome::voicemail);
  EXPECT_EQ(outcome_of(std::nullopt, CallStatus::busy), Outcome::busy);
  EXPECT_EQ(outcome_of(std::nullopt, CallStatus::ringing), std::nullopt);
}

// Name, uuid, E.164 and variable-name syntax checks.
TEST(Syntax, Validators) {
  EXPECT_TRUE(is_valid_campaign_name("spring-2026_a"));
  EXPECT_FALSE(is_valid_campaign_name("-spring"));
  EXPECT_FALSE(is_valid_campaign_name("Spring"));
  EXPECT_FALSE(is_valid_campaign_name(std::string(65, 'a')));
  EXPECT_TRUE(is_uuid("123e4567-e89b-12d3-a456-426614174000"));
  EXPECT_FALSE(is_uuid("123e4567e89b12d3a456426614174000"));
  EXPECT_TRUE(is_e164_syntax("+919876543210"));
  EXPECT_FALSE(is_e164_syntax("919876543210"));
  EXPECT_TRUE(is_variable_name("due_amount"));
  EXPECT_FALSE(is_variable_name("due amount!"));
}

// Errors carry their message through Result.
TEST(Errors, ResultCarriesMessage) {
  Result<int> r = Error{errc::not_found, "campaign spring not found"};
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, make_error_code(errc::not_found));
  EXPECT_EQ(r.error().what(), "campaign spring not found");
  EXPECT_THROW((void)r.value(), std::runtime_error);
}

}  // namespace
}  // namespace dialer
