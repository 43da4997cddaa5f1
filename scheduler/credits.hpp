#pragma once
/// Credit rules (STATE-MACHINES.md "Credits"): when the account's balance sends running campaigns
/// to credit_exhausted, when they come back, and when a campaign's own budget pauses it.

#include "core/enums.hpp"

#include <optional>

namespace dialer::scheduler {

/// `vocobase.min_credit_balance` and `vocobase.resume_credit_balance` (CONTRACT.md defaults).
struct CreditThresholds {
  double min_balance = 0.3;     ///< below this, every running campaign → credit_exhausted
  double resume_balance = 1.0;  ///< at or above this, credit_exhausted campaigns may resume
};

/// A known balance below the minimum (event `credits_low`). An unknown balance (the key is
/// absent from GET /config) never triggers it: the daemon relies on the next signal (a 403).
bool balance_too_low(std::optional<double> balance, const CreditThresholds& t) noexcept;

/// A credit_exhausted campaign with `auto_resume` goes back to running (event
/// `credits_restored`) once the polled balance is known and at least the resume level.
bool should_auto_resume(bool auto_resume, std::optional<double> balance,
                        const CreditThresholds& t) noexcept;

/// A manual `resume` from credit_exhausted is refused while the known balance is below the
/// minimum; from other states the balance is not consulted.
bool manual_resume_allowed(CampaignState from, std::optional<double> balance,
                           const CreditThresholds& t) noexcept;

/// The campaign's own `budget_credits` is spent (event `budget_reached`); no budget → never.
bool budget_reached(double credits_used, std::optional<double> budget_credits) noexcept;

}  // namespace dialer::scheduler
