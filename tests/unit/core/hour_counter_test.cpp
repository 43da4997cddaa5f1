#include "core/hour_counter.hpp"

#include <gtest/gtest.h>

namespace dialer {
namespace {

using namespace std::chrono_literals;

const TimePoint kT0 = *parse_iso8601("2026-12-05T10:00:00.000Z");

// Events count for the hour after them, minute by minute, then drop out.
TEST(HourCounter, CountsTheLastSixtyMinutes) {
  HourCounter c;
  EXPECT_EQ(c.last_hour(kT0), 0u);
  c.add(kT0);
  c.add(kT0 + 30s, 2);
  c.add(kT0 + 10min);
  EXPECT_EQ(c.last_hour(kT0 + 10min), 4u);
  EXPECT_EQ(c.last(kT0 + 10min, 5), 1u);  // 10:06 to 10:10
  EXPECT_EQ(c.last(kT0 + 4min, 5), 3u);
  EXPECT_EQ(c.last_hour(kT0 + 59min + 59s), 4u);
  EXPECT_EQ(c.last_hour(kT0 + 60min), 1u);  // the first minute has left the hour
  EXPECT_EQ(c.last_hour(kT0 + 70min), 0u);
}

// The ring reuses a minute's bucket an hour later without carrying its old count.
TEST(HourCounter, ReusedBucketsStartFromZero) {
  HourCounter c;
  c.add(kT0, 5);
  c.add(kT0 + 60min);
  EXPECT_EQ(c.last_hour(kT0 + 60min), 1u);
  c.add(kT0 + 1s);  // older than the bucket's hour now: dropped
  EXPECT_EQ(c.last_hour(kT0 + 60min), 1u);
  // Events in the future of `now` are not counted yet.
  EXPECT_EQ(c.last_hour(kT0 + 59min), 0u);
}

}  // namespace
}  // namespace dialer
