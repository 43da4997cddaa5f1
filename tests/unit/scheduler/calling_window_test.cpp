#include "scheduler/calling_window.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace dialer::scheduler {
namespace {

using namespace std::chrono_literals;

TimePoint at(const char* iso) {
  auto t = parse_iso8601(iso);
  EXPECT_TRUE(t) << iso;
  return t.value_or(TimePoint{});
}

Window every_day(std::chrono::minutes start, std::chrono::minutes end, Millis margin = 0ms) {
  Window w;
  w.days = {true, true, true, true, true, true, true};
  w.start = start;
  w.end = end;
  w.end_margin = margin;
  return w;
}

CallingWindow make(const Window& w, std::vector<std::string> zones,
                   std::string_view campaign_zone = "Asia/Kolkata") {
  ZoneCache cache;
  auto r = CallingWindow::create(w, zones, campaign_zone, cache);
  EXPECT_TRUE(r) << (r ? "" : r.error().what());
  return std::move(r).value();
}

// Every zone of the US in tzdata's zone1970.tab (the list a US number without a CSV zone gets).
const std::vector<std::string> kUsZones = {"America/New_York",
                                           "America/Detroit",
                                           "America/Kentucky/Louisville",
                                           "America/Kentucky/Monticello",
                                           "America/Indiana/Indianapolis",
                                           "America/Indiana/Vincennes",
                                           "America/Indiana/Winamac",
                                           "America/Indiana/Marengo",
                                           "America/Indiana/Petersburg",
                                           "America/Indiana/Vevay",
                                           "America/Chicago",
                                           "America/Indiana/Tell_City",
                                           "America/Indiana/Knox",
                                           "America/Menominee",
                                           "America/North_Dakota/Center",
                                           "America/North_Dakota/New_Salem",
                                           "America/North_Dakota/Beulah",
                                           "America/Denver",
                                           "America/Boise",
                                           "America/Phoenix",
                                           "America/Los_Angeles",
                                           "America/Anchorage",
                                           "America/Juneau",
                                           "America/Sitka",
                                           "America/Metlakatla",
                                           "America/Yakutat",
                                           "America/Nome",
                                           "America/Adak",
                                           "Pacific/Honolulu"};

// 09:00 in Kolkata stays 03:30Z while 09:00 in New York moves from 14:00Z to 13:00Z when the US
// springs forward on 2026-03-08: each contact opens at its own local 09:00.
TEST(CallingWindow, OpensAtLocalNineAcrossUsSpringForward) {
  const auto w = every_day(9h, 21h, 10min);
  const auto india = make(w, {"Asia/Kolkata"});
  const auto ny = make(w, {"America/New_York"});

  // Saturday 2026-03-07, standard time in New York.
  EXPECT_EQ(india.next_opening(at("2026-03-06T20:00:00Z")), at("2026-03-07T03:30:00Z"));
  EXPECT_EQ(ny.next_opening(at("2026-03-07T02:00:00Z")), at("2026-03-07T14:00:00Z"));
  // Sunday 2026-03-08, clocks went 02:00 EST -> 03:00 EDT overnight.
  EXPECT_EQ(india.next_opening(at("2026-03-07T20:00:00Z")), at("2026-03-08T03:30:00Z"));
  EXPECT_EQ(ny.next_opening(at("2026-03-08T02:00:00Z")), at("2026-03-08T13:00:00Z"));
  // Monday 2026-03-09, daylight time.
  EXPECT_EQ(ny.next_opening(at("2026-03-09T02:00:00Z")), at("2026-03-09T13:00:00Z"));

  EXPECT_FALSE(ny.allowed(at("2026-03-08T12:59:59.999Z")));
  EXPECT_TRUE(ny.allowed(at("2026-03-08T13:00:00Z")));
  EXPECT_FALSE(ny.allowed(at("2026-03-07T13:30:00Z")));  // 08:30 EST the day before
  EXPECT_TRUE(india.allowed(at("2026-03-08T03:30:00Z")));
  EXPECT_FALSE(india.allowed(at("2026-03-08T03:29:59.999Z")));
}

// When the US falls back on 2026-11-01, New York's 09:00 moves from 13:00Z to 14:00Z; Kolkata
// does not move.
TEST(CallingWindow, OpensAtLocalNineAcrossUsFallBack) {
  const auto w = every_day(9h, 21h, 10min);
  const auto india = make(w, {"Asia/Kolkata"});
  const auto ny = make(w, {"America/New_York"});

  EXPECT_EQ(ny.next_opening(at("2026-10-31T02:00:00Z")), at("2026-10-31T13:00:00Z"));
  EXPECT_EQ(ny.next_opening(at("2026-11-01T02:00:00Z")), at("2026-11-01T14:00:00Z"));
  EXPECT_EQ(ny.next_opening(at("2026-11-02T02:00:00Z")), at("2026-11-02T14:00:00Z"));
  EXPECT_EQ(india.next_opening(at("2026-10-31T20:00:00Z")), at("2026-11-01T03:30:00Z"));
  EXPECT_FALSE(ny.allowed(at("2026-11-01T13:30:00Z")));  // 08:30 EST
  // Closing follows local time too: 20:50 EST is 01:50Z the next day.
  EXPECT_EQ(ny.window_closes_at(at("2026-11-01T15:00:00Z")), at("2026-11-02T01:50:00Z"));
}

// A contact given every US zone is callable only while 09:00-21:00 holds from New York to
// Honolulu: in July that is 19:00Z (09:00 HST) to 00:50Z (20:50 EDT, the margin applied).
TEST(CallingWindow, UsZoneListRequiresEveryZone) {
  const auto w = every_day(9h, 21h, 10min);
  const auto us = make(w, kUsZones);
  const auto ny = make(w, {"America/New_York"});
  ASSERT_EQ(us.zones().size(), kUsZones.size());

  const auto mid_morning_ny = at("2026-07-15T14:00:00Z");  // 10:00 EDT, 04:00 HST
  EXPECT_TRUE(ny.allowed(mid_morning_ny));
  EXPECT_FALSE(us.allowed(mid_morning_ny));

  EXPECT_FALSE(us.allowed(at("2026-07-15T18:59:59.999Z")));
  EXPECT_TRUE(us.allowed(at("2026-07-15T19:00:00Z")));
  EXPECT_TRUE(us.allowed(at("2026-07-16T00:49:59.999Z")));
  EXPECT_FALSE(us.allowed(at("2026-07-16T00:50:00Z")));

  EXPECT_EQ(us.next_opening(mid_morning_ny), at("2026-07-15T19:00:00Z"));
  EXPECT_EQ(us.next_opening(at("2026-07-16T00:50:00Z")), at("2026-07-16T19:00:00Z"));
  EXPECT_EQ(us.window_closes_at(at("2026-07-15T20:00:00Z")), at("2026-07-16T00:50:00Z"));
}

// In winter New York is UTC-5, so the all-US intersection shifts to 19:00Z-01:50Z.
TEST(CallingWindow, UsZoneListFollowsStandardTime) {
  const auto us = make(every_day(9h, 21h, 10min), kUsZones);
  EXPECT_EQ(us.next_opening(at("2026-01-14T12:00:00Z")), at("2026-01-14T19:00:00Z"));
  EXPECT_EQ(us.window_closes_at(at("2026-01-14T19:00:00Z")), at("2026-01-15T01:50:00Z"));
  EXPECT_TRUE(us.allowed(at("2026-01-15T01:49:00Z")));
  EXPECT_FALSE(us.allowed(at("2026-01-15T01:50:00Z")));
}

// No call starts within end_margin of the close; with no margin the end itself is exclusive.
TEST(CallingWindow, EndMarginStopsStartsBeforeTheClose) {
  const auto margin = make(every_day(9h, 21h, 10min), {"Asia/Kolkata"});
  EXPECT_TRUE(margin.allowed(at("2026-03-10T20:49:59.999+05:30")));
  EXPECT_FALSE(margin.allowed(at("2026-03-10T20:50:00+05:30")));
  EXPECT_FALSE(margin.allowed(at("2026-03-10T20:59:00+05:30")));
  EXPECT_EQ(margin.window_closes_at(at("2026-03-10T12:00:00+05:30")),
            at("2026-03-10T20:50:00+05:30"));

  const auto none = make(every_day(9h, 21h, 0ms), {"Asia/Kolkata"});
  EXPECT_TRUE(none.allowed(at("2026-03-10T20:59:59.999+05:30")));
  EXPECT_FALSE(none.allowed(at("2026-03-10T21:00:00+05:30")));
  // Inside the margin the next opening is the next morning.
  EXPECT_EQ(margin.next_opening(at("2026-03-10T20:55:00+05:30")), at("2026-03-11T09:00:00+05:30"));
}

// A holiday is a local date: no calls all that day, and the next opening is the following
// allowed day.
TEST(CallingWindow, HolidaysBlockTheWholeLocalDay) {
  Window w;  // mon-sat 09:00-21:00, 10m margin
  w.holidays = {std::chrono::year{2026} / 12 / 25};
  const auto india = make(w, {"Asia/Kolkata"});
  EXPECT_FALSE(india.allowed(at("2026-12-25T10:00:00+05:30")));
  EXPECT_TRUE(india.allowed(at("2026-12-24T10:00:00+05:30")));
  EXPECT_EQ(india.next_opening(at("2026-12-24T22:00:00+05:30")), at("2026-12-26T09:00:00+05:30"));

  // 2026-12-25T02:00Z is still Thursday the 24th, 18:00, in Los Angeles: allowed there.
  const auto la = make(w, {"America/Los_Angeles"});
  EXPECT_TRUE(la.allowed(at("2026-12-25T02:00:00Z")));
  EXPECT_FALSE(india.allowed(at("2026-12-25T02:00:00Z")));  // 07:30 on the 25th, and too early
}

// A window closed for the weekend reopens on Monday morning.
TEST(CallingWindow, NextOpeningSkipsTheWeekend) {
  Window w;
  w.days = {true, true, true, true, true, false, false};  // mon-fri
  const auto india = make(w, {"Asia/Kolkata"});
  // Friday 2026-03-13 after hours, Saturday and Sunday.
  for (const char* t :
       {"2026-03-13T21:30:00+05:30", "2026-03-14T11:00:00+05:30", "2026-03-15T23:59:59+05:30"}) {
    EXPECT_FALSE(india.allowed(at(t))) << t;
    EXPECT_EQ(india.next_opening(at(t)), at("2026-03-16T09:00:00+05:30")) << t;
  }
  // The default window (mon-sat) opens on Saturday instead.
  EXPECT_EQ(make(Window{}, {"Asia/Kolkata"}).next_opening(at("2026-03-13T21:30:00+05:30")),
            at("2026-03-14T09:00:00+05:30"));
}

// A window opening inside the skipped hour of a spring-forward day opens at the transition.
TEST(CallingWindow, OpeningInsideDstGapIsTheTransitionInstant) {
  const auto ny = make(every_day(2h + 30min, 5h), {"America/New_York"});
  // 2026-03-08: 01:59:59 EST (06:59:59Z) is followed by 03:00 EDT (07:00Z).
  EXPECT_EQ(ny.next_opening(at("2026-03-08T05:00:00Z")), at("2026-03-08T07:00:00Z"));
  EXPECT_FALSE(ny.allowed(at("2026-03-08T06:59:59.999Z")));
  EXPECT_TRUE(ny.allowed(at("2026-03-08T07:00:00Z")));
  // Closes at 05:00 EDT = 09:00Z.
  EXPECT_EQ(ny.window_closes_at(at("2026-03-08T07:00:00Z")), at("2026-03-08T09:00:00Z"));
}

// In the repeated hour of a fall-back day the window follows the local clock: 01:30-01:45
// happens twice.
TEST(CallingWindow, RepeatedHourOpensTwice) {
  const auto ny = make(every_day(1h + 30min, 1h + 45min), {"America/New_York"});
  EXPECT_EQ(ny.next_opening(at("2026-11-01T04:00:00Z")), at("2026-11-01T05:30:00Z"));  // EDT
  EXPECT_EQ(ny.window_closes_at(at("2026-11-01T05:30:00Z")), at("2026-11-01T05:45:00Z"));
  EXPECT_EQ(ny.next_opening(at("2026-11-01T05:50:00Z")), at("2026-11-01T06:30:00Z"));  // EST
  EXPECT_FALSE(ny.allowed(at("2026-11-01T06:10:00Z")));                                // 01:10 EST
}

// A window that can never open reports no opening instead of searching forever.
TEST(CallingWindow, NeverOpeningWindowHasNoOpening) {
  Window no_days;
  no_days.days = {};
  EXPECT_TRUE(make(no_days, {"Asia/Kolkata"}).never_opens());
  EXPECT_EQ(make(no_days, {"Asia/Kolkata"}).next_opening(at("2026-03-10T00:00:00Z")), std::nullopt);

  // The margin eats the whole window.
  const auto squeezed = make(every_day(9h, 9h + 10min, 10min), {"Asia/Kolkata"});
  EXPECT_TRUE(squeezed.never_opens());
  EXPECT_FALSE(squeezed.allowed(at("2026-03-10T09:05:00+05:30")));
  EXPECT_EQ(squeezed.next_opening(at("2026-03-10T00:00:00Z")), std::nullopt);

  // Each zone opens daily, but 09:00-10:00 in Kolkata and in New York never overlap.
  const auto disjoint = make(every_day(9h, 10h), {"Asia/Kolkata", "America/New_York"});
  EXPECT_FALSE(disjoint.never_opens());
  EXPECT_EQ(disjoint.next_opening(at("2026-03-10T00:00:00Z")), std::nullopt);

  // Every day a holiday for the whole search horizon.
  Window all_holidays = every_day(9h, 21h);
  const auto first = std::chrono::sys_days{std::chrono::year{2026} / 1 / 1};
  for (int i = 0; i < 800; ++i) all_holidays.holidays.emplace_back(first + std::chrono::days{i});
  EXPECT_EQ(make(all_holidays, {"Asia/Kolkata"}).next_opening(at("2026-01-01T00:00:00Z")),
            std::nullopt);
}

// A window open at the instant asked about opens "now"; a closed one has no closing time.
TEST(CallingWindow, OpenNowAndClosesAtWhenOpenOnly) {
  const auto india = make(every_day(9h, 21h, 10min), {"Asia/Kolkata"});
  const auto noon = at("2026-03-10T12:00:00+05:30");
  EXPECT_EQ(india.next_opening(noon), noon);
  EXPECT_EQ(india.window_closes_at(at("2026-03-10T22:00:00+05:30")), std::nullopt);
}

// A 00:00-24:00 window over consecutive days does not "close" at midnight.
TEST(CallingWindow, AllDayWindowContinuesPastMidnight) {
  Window w = every_day(0min, 24h);
  w.days = {true, true, true, true, true, false, false};  // closes for the weekend
  const auto india = make(w, {"Asia/Kolkata"});
  EXPECT_TRUE(india.allowed(at("2026-03-10T23:59:59.999+05:30")));
  EXPECT_TRUE(india.allowed(at("2026-03-11T00:00:00+05:30")));
  EXPECT_EQ(india.window_closes_at(at("2026-03-10T12:00:00+05:30")),
            at("2026-03-14T00:00:00+05:30"));
}

// An empty zone list means the campaign's zone; unknown names are error values naming the zone.
TEST(ZoneLookup, CampaignZoneFallbackAndUnknownNames) {
  ZoneCache cache;
  auto w = CallingWindow::create(Window{}, {}, "America/Chicago", cache);
  ASSERT_TRUE(w);
  ASSERT_EQ(w->zones().size(), 1u);
  EXPECT_EQ(w->zones()[0]->name(), "America/Chicago");

  std::vector<std::string> bad = {"Asia/Kolkata", "Mars/Olympus_Mons"};
  auto r = CallingWindow::create(Window{}, bad, "Asia/Kolkata", cache);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, make_error_code(errc::invalid_argument));
  EXPECT_EQ(r.error().message, "unknown time zone \"Mars/Olympus_Mons\"");
  EXPECT_FALSE(CallingWindow::create(Window{}, {}, "", cache));
}

// The cache hands back the same tz entry for repeated lookups and de-duplicates zone lists.
TEST(ZoneLookup, CacheReturnsSameZoneAndDeduplicates) {
  ZoneCache cache;
  auto a = cache.locate("Asia/Kolkata");
  auto b = cache.locate("Asia/Kolkata");
  ASSERT_TRUE(a && b);
  EXPECT_EQ(*a, *b);
  std::vector<std::string> twice = {"Asia/Kolkata", "Asia/Kolkata", "Europe/London"};
  auto all = cache.locate_all(twice, "UTC");
  ASSERT_TRUE(all);
  EXPECT_EQ(all->size(), 2u);
}

// Stored zone lists split on commas with blanks trimmed.
TEST(ZoneLookup, SplitsStoredZoneList) {
  EXPECT_EQ(split_zone_list("America/New_York, America/Chicago,,Pacific/Honolulu "),
            (std::vector<std::string>{"America/New_York", "America/Chicago", "Pacific/Honolulu"}));
  EXPECT_TRUE(split_zone_list("").empty());
}

// Local formatting uses the zone's offset at that instant (EST vs EDT).
TEST(ZoneLookup, FormatsLocalTimeWithOffset) {
  auto ny = locate_zone("America/New_York");
  ASSERT_TRUE(ny);
  EXPECT_EQ(format_local(at("2026-03-07T14:00:00Z"), *ny), "2026-03-07T09:00:00-05:00");
  EXPECT_EQ(format_local(at("2026-03-09T13:00:00.500Z"), *ny), "2026-03-09T09:00:00-04:00");
}

}  // namespace
}  // namespace dialer::scheduler
