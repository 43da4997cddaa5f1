#include "scheduler/credits.hpp"

namespace dialer::scheduler {

bool balance_too_low(std::optional<double> balance, const CreditThresholds& t) noexcept {
  return balance && *balance < t.min_balance;
}

bool should_auto_resume(bool auto_resume, std::optional<double> balance,
                        const CreditThresholds& t) noexcept {
  return auto_resume && balance && *balance >= t.resume_balance;
}

bool manual_resume_allowed(CampaignState from, std::optional<double> balance,
                           const CreditThresholds& t) noexcept {
  if (from != CampaignState::credit_exhausted) return true;
  return !balance_too_low(balance, t);
}

bool budget_reached(double credits_used, std::optional<double> budget_credits) noexcept {
  return budget_credits && credits_used >= *budget_credits;
}

}  // namespace dialer::scheduler
