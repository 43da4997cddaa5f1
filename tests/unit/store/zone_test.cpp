#include "store/zones.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>

namespace dialer::store {
namespace {

// Real tz names (zones and links) are accepted; made-up and host-specific ones are not.
TEST(ZoneValidity, UsesTheTzDatabase) {
  EXPECT_TRUE(is_valid_zone("Asia/Kolkata"));
  EXPECT_TRUE(is_valid_zone("America/Los_Angeles"));
  EXPECT_TRUE(is_valid_zone("Asia/Calcutta"));  // a link
  EXPECT_TRUE(is_valid_zone("UTC"));
  EXPECT_FALSE(is_valid_zone("Mars/Olympus"));
  EXPECT_FALSE(is_valid_zone(""));
  EXPECT_FALSE(is_valid_zone("asia/kolkata"));
  EXPECT_FALSE(is_valid_zone("localtime"));
  EXPECT_FALSE(is_valid_zone("../../etc/passwd"));
  EXPECT_FALSE(is_valid_zone("Asia/Kolkata "));
}

// The system zone1970.tab gives one zone for single-zone countries and the list for others.
TEST(ZoneTable, SystemTableByRegion) {
  auto table = ZoneTable::load();
  ASSERT_TRUE(table) << table.error().what();
  EXPECT_GT(table->size(), 200u);
  EXPECT_EQ(table->zones("IN"), "Asia/Kolkata");
  EXPECT_EQ(table->zones("GB"), "Europe/London");
  EXPECT_EQ(table->zones("XX"), "");
  EXPECT_EQ(table->zones(""), "");
  // Several zones: the country's own first (Berlin), then those it overlaps (Büsingen).
  EXPECT_EQ(table->zones("DE"), "Europe/Berlin,Europe/Zurich");
  std::string us{table->zones("US")};
  EXPECT_EQ(us.rfind("America/New_York,", 0), 0u) << us;
  EXPECT_NE(us.find("America/Los_Angeles"), std::string::npos);
  EXPECT_NE(us.find("Pacific/Honolulu"), std::string::npos);
  for (const char* multi : {"US", "CA", "AU", "BR", "RU", "MX", "ID"}) {
    EXPECT_NE(table->zones(multi).find(','), std::string_view::npos) << multi;
  }
  // Every listed zone is a real zone.
  std::string_view list = table->zones("RU");
  while (!list.empty()) {
    auto comma = list.find(',');
    EXPECT_TRUE(is_valid_zone(list.substr(0, comma))) << list.substr(0, comma);
    list.remove_prefix(comma == std::string_view::npos ? list.size() : comma + 1);
  }
}

// Parsing follows the file's columns, skips comments and names the line of a malformed row.
TEST(ZoneTable, ParsesColumnsAndReportsBadLines) {
  auto t = ZoneTable::parse(
      "# comment\n"
      "IN\t+2232+08822\tAsia/Kolkata\n"
      "CH,DE,LI\t+4723+00832\tEurope/Zurich\tBusingen\r\n"
      "DE,DK\t+5230+01322\tEurope/Berlin\tmost of Germany\n");
  ASSERT_TRUE(t) << t.error().what();
  EXPECT_EQ(t->zones("IN"), "Asia/Kolkata");
  EXPECT_EQ(t->zones("DE"), "Europe/Berlin,Europe/Zurich");
  EXPECT_EQ(t->zones("LI"), "Europe/Zurich");
  EXPECT_EQ(t->zones("DK"), "Europe/Berlin");

  auto bad = ZoneTable::parse("# c\nIN\tAsia/Kolkata\n");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, make_error_code(errc::parse_error));
  EXPECT_NE(bad.error().message.find("line 2"), std::string::npos) << bad.error().message;
  EXPECT_FALSE(ZoneTable::parse("IND\t+1\tAsia/Kolkata\n"));
}

// A missing table file is an I/O error naming the path.
TEST(ZoneTable, MissingFileIsIoError) {
  auto t = ZoneTable::load("/nonexistent/zone1970.tab");
  ASSERT_FALSE(t);
  EXPECT_EQ(t.error().code, make_error_code(errc::io_error));
  EXPECT_NE(t.error().message.find("/nonexistent/zone1970.tab"), std::string::npos);
}

}  // namespace
}  // namespace dialer::store
