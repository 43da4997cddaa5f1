#include "scheduler/credits.hpp"

#include "scheduler/state_machines.hpp"

#include <gtest/gtest.h>

namespace dialer::scheduler {
namespace {

const CreditThresholds kDefaults{};  // min 0.3, resume 1.0

// A known balance under min_credit_balance exhausts credits; an unknown one never does.
TEST(Credits, LowBalanceOnlyWhenKnownAndBelowMinimum) {
  EXPECT_TRUE(balance_too_low(0.29, kDefaults));
  EXPECT_TRUE(balance_too_low(0.0, kDefaults));
  EXPECT_FALSE(balance_too_low(0.3, kDefaults));
  EXPECT_FALSE(balance_too_low(std::nullopt, kDefaults));
}

// Auto resume needs auto_resume and a balance back at resume_credit_balance, not just above the
// minimum (hysteresis between 0.3 and 1.0).
TEST(Credits, AutoResumeNeedsResumeLevel) {
  EXPECT_FALSE(should_auto_resume(true, 0.5, kDefaults));
  EXPECT_TRUE(should_auto_resume(true, 1.0, kDefaults));
  EXPECT_FALSE(should_auto_resume(false, 50.0, kDefaults));
  EXPECT_FALSE(should_auto_resume(true, std::nullopt, kDefaults));
}

// A manual resume from credit_exhausted is refused while the known balance is below the minimum.
TEST(Credits, ManualResumeRefusedWhileBalanceLow) {
  EXPECT_FALSE(manual_resume_allowed(CampaignState::credit_exhausted, 0.1, kDefaults));
  EXPECT_TRUE(manual_resume_allowed(CampaignState::credit_exhausted, 0.3, kDefaults));
  EXPECT_TRUE(manual_resume_allowed(CampaignState::credit_exhausted, std::nullopt, kDefaults));
  EXPECT_TRUE(manual_resume_allowed(CampaignState::paused, 0.0, kDefaults));
}

// The campaign's own budget pauses it once spent; no budget never does.
TEST(Credits, BudgetReached) {
  EXPECT_FALSE(budget_reached(9.99, 10.0));
  EXPECT_TRUE(budget_reached(10.0, 10.0));
  EXPECT_FALSE(budget_reached(1e9, std::nullopt));
}

// Slots in use are exactly the reserved, ambiguous and started attempts.
TEST(AttemptRules, SlotOccupancy) {
  for (auto s : all_values<AttemptState>()) {
    const bool expected =
        s == AttemptState::reserved || s == AttemptState::ambiguous || s == AttemptState::started;
    EXPECT_EQ(occupies_slot(s), expected) << to_string(s);
  }
}

// Refusals without a call and voided attempts do not count; a refusal about the number does.
TEST(AttemptRules, WhichAttemptsCount) {
  EXPECT_TRUE(counts_toward_attempts(AttemptState::started, false));
  EXPECT_TRUE(counts_toward_attempts(AttemptState::finished, false));
  EXPECT_TRUE(counts_toward_attempts(AttemptState::lost, false));
  EXPECT_FALSE(counts_toward_attempts(AttemptState::rejected, false));
  EXPECT_TRUE(counts_toward_attempts(AttemptState::rejected, true));
  EXPECT_FALSE(counts_toward_attempts(AttemptState::void_, false));
  EXPECT_FALSE(counts_toward_attempts(AttemptState::ambiguous, false));
  EXPECT_FALSE(counts_toward_attempts(AttemptState::reserved, false));
}

// Contacts may be added in every non-terminal campaign state only.
TEST(AttemptRules, ContactsAddableUntilTerminal) {
  EXPECT_TRUE(accepts_new_contacts(CampaignState::draft));
  EXPECT_TRUE(accepts_new_contacts(CampaignState::running));
  EXPECT_TRUE(accepts_new_contacts(CampaignState::credit_exhausted));
  EXPECT_FALSE(accepts_new_contacts(CampaignState::completed));
  EXPECT_FALSE(accepts_new_contacts(CampaignState::cancelled));
}

}  // namespace
}  // namespace dialer::scheduler
