#include "daemon/scheduler_json.hpp"
#include "scheduler/blocked_by.hpp"
#include "scheduler/calling_window.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <gtest/gtest.h>

namespace dialer::scheduler {
namespace {

using daemon::to_json;

const TimePoint kT = *parse_iso8601("2026-03-10T06:31:15.250Z");

boost::json::value json(std::string_view s) {
  return boost::json::parse(s);
}

// While dialling blocked_by is empty: JSON null and no text.
TEST(BlockedBy, NoneIsNullAndEmpty) {
  EXPECT_FALSE(BlockedBy::none().blocked());
  EXPECT_TRUE(to_json(BlockedBy::none()).is_null());
  EXPECT_EQ(to_text(BlockedBy::none()), "");
}

// no_free_slot carries used/limit.
TEST(BlockedBy, NoFreeSlot) {
  auto b = BlockedBy::no_free_slot(5, 5);
  EXPECT_EQ(to_json(b), json(R"({"reason":"no_free_slot","used":5,"limit":5})"));
  EXPECT_EQ(to_text(b), "no free slot (5/5 in use)");
}

// rate_limited carries the next token time in UTC.
TEST(BlockedBy, RateLimited) {
  auto b = BlockedBy::rate_limited(kT);
  EXPECT_EQ(to_json(b),
            json(R"({"reason":"rate_limited","next_token_at":"2026-03-10T06:31:15.250Z"})"));
  EXPECT_EQ(to_text(b), "rate limited until 2026-03-10T06:31:15.250Z");
}

// outside_calling_window says when it opens, also in the campaign's own zone.
TEST(BlockedBy, OutsideCallingWindowInCampaignZone) {
  auto zone = locate_zone("Asia/Kolkata");
  ASSERT_TRUE(zone);
  auto b = BlockedBy::outside_calling_window(*parse_iso8601("2026-03-11T03:30:00Z"), *zone);
  EXPECT_EQ(to_json(b), json(R"({"reason":"outside_calling_window",
                                 "opens_at":"2026-03-11T03:30:00.000Z",
                                 "opens_at_local":"2026-03-11T09:00:00+05:30",
                                 "timezone":"Asia/Kolkata"})"));
  EXPECT_EQ(to_text(b), "outside calling window; opens 2026-03-11T09:00:00+05:30 (Asia/Kolkata)");

  auto never = BlockedBy::outside_calling_window(std::nullopt, *zone);
  EXPECT_EQ(to_json(never), json(R"({"reason":"outside_calling_window","opens_at":null,
                                     "opens_at_local":null,"timezone":"Asia/Kolkata"})"));
  EXPECT_EQ(to_text(never), "outside calling window; it never opens");
}

// no_due_contacts carries the next due time, or null when nothing is queued.
TEST(BlockedBy, NoDueContacts) {
  EXPECT_EQ(to_json(BlockedBy::no_due_contacts(kT)),
            json(R"({"reason":"no_due_contacts","next_due_at":"2026-03-10T06:31:15.250Z"})"));
  EXPECT_EQ(to_json(BlockedBy::no_due_contacts(std::nullopt)),
            json(R"({"reason":"no_due_contacts","next_due_at":null})"));
  EXPECT_EQ(to_text(BlockedBy::no_due_contacts(std::nullopt)), "no due contacts");
  EXPECT_EQ(to_text(BlockedBy::no_due_contacts(kT)),
            "no due contacts; next due 2026-03-10T06:31:15.250Z");
}

// The reasons without details are just their names.
TEST(BlockedBy, PlainReasons) {
  EXPECT_EQ(to_json(BlockedBy::not_running()), json(R"({"reason":"not_running"})"));
  EXPECT_EQ(to_json(BlockedBy::credit_exhausted()), json(R"({"reason":"credit_exhausted"})"));
  EXPECT_EQ(to_json(BlockedBy::provider_unavailable()),
            json(R"({"reason":"provider_unavailable","until":null})"));
  EXPECT_EQ(to_text(BlockedBy::not_running()), "not running");
  EXPECT_EQ(to_text(BlockedBy::credit_exhausted()), "credit exhausted");
  EXPECT_EQ(to_text(BlockedBy::provider_unavailable(kT)),
            "no usable provider until 2026-03-10T06:31:15.250Z");
}

// Times come with how far off they are when `now` is known: "(in 7 s)" and in_s.
TEST(BlockedBy, RelativeTimes) {
  const auto b = BlockedBy::rate_limited(kT);
  EXPECT_EQ(to_text(b, kT - std::chrono::seconds(7)),
            "rate limited until 2026-03-10T06:31:15.250Z (in 7 s)");
  EXPECT_EQ(to_json(b, kT - std::chrono::seconds(7)).at("in_s").as_int64(), 7);
  EXPECT_EQ(to_json(b, kT + std::chrono::seconds(7)).at("in_s").as_int64(), 0);
  EXPECT_EQ(format_in(std::chrono::seconds(0)), "now");
  EXPECT_EQ(format_in(std::chrono::seconds(59)), "in 59 s");
  EXPECT_EQ(format_in(std::chrono::minutes(12)), "in 12 min");
  EXPECT_EQ(format_in(std::chrono::minutes(185)), "in 3 h 05 min");
  EXPECT_EQ(format_in(std::chrono::hours(52)), "in 2 d 4 h");
}

// A window closed by a contact's zone names the contact and that zone, the opening in it.
TEST(BlockedBy, OutsideCallingWindowOfAContact) {
  auto zone = locate_zone("Pacific/Honolulu");
  ASSERT_TRUE(zone);
  auto b = BlockedBy::outside_calling_window(*parse_iso8601("2026-03-09T19:00:00Z"), *zone,
                                             "+18085550100");
  EXPECT_EQ(to_json(b), json(R"({"reason":"outside_calling_window",
                                 "opens_at":"2026-03-09T19:00:00.000Z",
                                 "opens_at_local":"2026-03-09T09:00:00-10:00",
                                 "timezone":"Pacific/Honolulu","contact":"+18085550100"})"));
  EXPECT_EQ(to_text(b),
            "outside calling window of +18085550100 (Pacific/Honolulu); opens "
            "2026-03-09T09:00:00-10:00");
}

// no_due_contacts names the next contact and the outcome it waits to retry after.
TEST(BlockedBy, NoDueContactsWithItsContact) {
  auto b = BlockedBy::no_due_contacts(kT, "+919876543210", Outcome::no_answer);
  EXPECT_EQ(to_json(b), json(R"({"reason":"no_due_contacts",
                                 "next_due_at":"2026-03-10T06:31:15.250Z",
                                 "contact":"+919876543210","retry_after":"no_answer"})"));
  EXPECT_EQ(to_text(b),
            "no due contacts; next due 2026-03-10T06:31:15.250Z: +919876543210, "
            "retry after no_answer");
}

// A pause for errors carries the last error; an account block the API's message.
TEST(BlockedBy, MessagesOfPausesAndBlocks) {
  auto p = BlockedBy::paused_by_errors("HTTP 500: upstream timeout");
  EXPECT_EQ(to_json(p),
            json(R"({"reason":"paused_by_errors","message":"HTTP 500: upstream timeout"})"));
  EXPECT_EQ(to_text(p),
            "paused after consecutive failed starts; last error: HTTP 500: "
            "upstream timeout");
  auto a = BlockedBy::account_blocked("Account suspended");
  EXPECT_EQ(to_json(a), json(R"({"reason":"account_blocked","message":"Account suspended"})"));
  EXPECT_EQ(to_text(a), "account blocked by the API: Account suspended");
  EXPECT_EQ(to_text(BlockedBy::account_blocked("")), "account blocked by the API (see status)");
}

}  // namespace
}  // namespace dialer::scheduler
