#include "config/values.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace dialer::config {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;

// host:port accepts IPv4, bracketed IPv6 and host names, and prints IPv6 back in brackets.
TEST(HostPortValue, ParsesAndPrints) {
  auto v4 = parse_host_port("10.0.0.1:0");
  ASSERT_TRUE(v4);
  EXPECT_EQ(*v4, (HostPort{"10.0.0.1", 0}));
  auto v6 = parse_host_port("[fe80::1]:65535");
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->host, "fe80::1");
  EXPECT_EQ(v6->port, 65535);
  EXPECT_EQ(v6->to_string(), "[fe80::1]:65535");
  auto name = parse_host_port("my-host.example:8080");
  ASSERT_TRUE(name);
  EXPECT_EQ(name->to_string(), "my-host.example:8080");
  for (const char* bad : {"", "host", "host:", ":1", "-bad.example:1", "a..b:1", "1.2.3.4.5:1",
                          "[::1]", "[::1]x80", "[::1:80", "h:-1", "h:+1", "h:1 "}) {
    EXPECT_FALSE(parse_host_port(bad)) << bad;
  }
}

// Times of day run from 00:00 to 24:00 in HH:MM only.
TEST(TimeOfDay, Strict) {
  EXPECT_EQ(parse_time_of_day("00:00").value(), 0min);
  EXPECT_EQ(parse_time_of_day("09:05").value(), 9h + 5min);
  EXPECT_EQ(parse_time_of_day("24:00").value(), 24h);
  for (const char* bad : {"9:00", "09:0", "24:01", "25:00", "12:60", "0900", "09:00:00", "aa:bb"}) {
    EXPECT_FALSE(parse_time_of_day(bad)) << bad;
  }
  EXPECT_EQ(format_time_of_day(9h + 5min), "09:05");
}

// Day lists and ranges, including ranges across the weekend.
TEST(Days, RangesAndLists) {
  EXPECT_EQ(parse_days("mon-sat").value(), (WeekDays{true, true, true, true, true, true, false}));
  EXPECT_EQ(parse_days("fri-mon").value(), (WeekDays{true, false, false, false, true, true, true}));
  EXPECT_EQ(parse_days("sun").value(), (WeekDays{false, false, false, false, false, false, true}));
  EXPECT_EQ(parse_days("mon, wed").value(),
            (WeekDays{true, false, true, false, false, false, false}));
  for (const char* bad : {"", "Mon", "monday", "mon-", "-fri", "mon-xyz", "mon,,tue"}) {
    EXPECT_FALSE(parse_days(bad)) << bad;
  }
  EXPECT_EQ(format_days(WeekDays{true, false, false, false, false, false, true}),
            (std::vector<std::string>{"mon", "sun"}));
}

// Dates must be real calendar dates in YYYY-MM-DD.
TEST(Dates, Strict) {
  auto d = parse_date("2028-02-29");
  ASSERT_TRUE(d);
  EXPECT_EQ(format_date(*d), "2028-02-29");
  for (const char* bad : {"2027-02-29", "2026-13-01", "2026-1-01", "26-01-01", "2026/01/01", ""}) {
    EXPECT_FALSE(parse_date(bad)) << bad;
  }
}

// Zones come from the system tzdb through date::locate_zone.
TEST(Zones, KnownAndUnknown) {
  EXPECT_TRUE(is_valid_timezone("Asia/Kolkata"));
  EXPECT_TRUE(is_valid_timezone("America/Argentina/Buenos_Aires"));
  EXPECT_TRUE(is_valid_timezone("UTC"));
  EXPECT_FALSE(is_valid_timezone("Asia/Bangalore"));
  EXPECT_FALSE(is_valid_timezone(""));
  EXPECT_FALSE(is_valid_timezone("asia/kolkata"));
}

// Octal modes, JSON pointers, base URLs and URL paths.
TEST(ShapedStrings, ModesPointersUrls) {
  EXPECT_EQ(parse_file_mode("0660").value(), 0660u);
  EXPECT_EQ(parse_file_mode("600").value(), 0600u);
  EXPECT_FALSE(parse_file_mode("1777"));
  EXPECT_FALSE(parse_file_mode("0668"));
  EXPECT_FALSE(parse_file_mode("66"));
  EXPECT_EQ(format_file_mode(0640), "0640");

  EXPECT_TRUE(is_json_pointer(""));
  EXPECT_TRUE(is_json_pointer("/data/credit_balance"));
  EXPECT_TRUE(is_json_pointer("/a~1b/~0c"));
  EXPECT_FALSE(is_json_pointer("data"));
  EXPECT_FALSE(is_json_pointer("/a~2"));
  EXPECT_FALSE(is_json_pointer("/a~"));

  EXPECT_TRUE(parse_base_url("https://api.vocobase.com/api/v2"));
  EXPECT_TRUE(parse_base_url("http://127.0.0.1:8081/api/v2"));
  EXPECT_TRUE(parse_base_url("http://[::1]:8081"));
  EXPECT_FALSE(parse_base_url("api.vocobase.com/api/v2"));
  EXPECT_FALSE(parse_base_url("https:///nohost"));
  EXPECT_FALSE(parse_base_url("https://h/x?y=1"));
  auto userinfo = parse_base_url("https://user:SECRETPW@h/");
  ASSERT_FALSE(userinfo);
  EXPECT_THAT(userinfo.error().message, ::testing::Not(HasSubstr("SECRETPW")));

  EXPECT_TRUE(parse_url_path("/webhooks/vocobase"));
  EXPECT_FALSE(parse_url_path("webhooks"));
  EXPECT_FALSE(parse_url_path("/a?b"));
  EXPECT_FALSE(parse_url_path("/a b"));
  EXPECT_FALSE(parse_url_path("/a#b"));
}

}  // namespace
}  // namespace dialer::config
