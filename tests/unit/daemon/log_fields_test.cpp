#include "daemon/log_fields.hpp"

#include <gtest/gtest.h>

namespace dialer::daemon {
namespace {

// The subjects the daemon's messages name become fields of JSON log lines.
TEST(LogFields, LiftsTheSubjectsMessagesName) {
  LogFields f = log_fields("campaign spring-24: attempt 42 finished: completed");
  EXPECT_EQ(f.campaign, "spring-24");
  EXPECT_EQ(f.attempt, 42);
  EXPECT_FALSE(f.contact);
  f = log_fields("attempt 7: ambiguous start settled by its outcome (call call_abc123)");
  EXPECT_EQ(f.attempt, 7);
  EXPECT_EQ(f.call_id, "call_abc123");
  f = log_fields("session sess_1 (call 9f8e-77): no attempt of ours; ignored");
  EXPECT_EQ(f.session_id, "sess_1");
  EXPECT_EQ(f.call_id, "9f8e-77");
  f = log_fields("campaign autumn: contact 12 skipped: number on the DNC list");
  EXPECT_EQ(f.campaign, "autumn");
  EXPECT_EQ(f.contact, 12);
  // Words that follow "campaign" or "call" in prose are not subjects.
  EXPECT_EQ(log_fields("due numbers are in a call of another campaign; next try"), LogFields{});
  EXPECT_EQ(log_fields("the campaign is paused; recall 5 times"), LogFields{});
  EXPECT_EQ(log_fields("no attempt matched"), LogFields{});
}

}  // namespace
}  // namespace dialer::daemon
