#include "scheduler/blocked_by.hpp"

#include <gtest/gtest.h>

namespace dialer::scheduler {
namespace {

// Every reason name matches the spelling of STATE-MACHINES.md.
TEST(BlockedBy, ReasonNames) {
  EXPECT_EQ(to_string(BlockReason::outside_calling_window), "outside_calling_window");
  EXPECT_EQ(to_string(BlockReason::provider_unavailable), "provider_unavailable");
  EXPECT_EQ(from_string<BlockReason>("no_free_slot"), BlockReason::no_free_slot);
  EXPECT_EQ(to_string(BlockReason::paused_by_errors), "paused_by_errors");
}

}  // namespace
}  // namespace dialer::scheduler
