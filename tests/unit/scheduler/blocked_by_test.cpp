#include "scheduler/blocked_by.hpp"

#include "scheduler/calling_window.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <gtest/gtest.h>

namespace dialer::scheduler {
namespace {

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

// Every reason name matches the spelling of STATE-MACHINES.md.
TEST(BlockedBy, ReasonNames) {
  EXPECT_EQ(to_string(BlockReason::outside_calling_window), "outside_calling_window");
  EXPECT_EQ(to_string(BlockReason::provider_unavailable), "provider_unavailable");
  EXPECT_EQ(from_string<BlockReason>("no_free_slot"), BlockReason::no_free_slot);
}

}  // namespace
}  // namespace dialer::scheduler
