#pragma once
/// The campaign fields of CONTRACT.md as one value type, shared by config (defaults, YAML),
/// store (campaigns table), scheduler (policy) and the admin commands.

#include "core/enums.hpp"
#include "core/time.hpp"

#include <array>
#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace dialer {

/// A weekly calling window in the callee's local time.
struct Window {
  /// Index 0 = Monday … 6 = Sunday.
  std::array<bool, 7> days{true, true, true, true, true, true, false};
  std::chrono::minutes start{9 * 60};           ///< local time of day the window opens
  std::chrono::minutes end{21 * 60};            ///< local time of day the window closes (exclusive)
  Millis end_margin{std::chrono::minutes{10}};  ///< no call starts this close to `end`
  std::vector<std::chrono::year_month_day> holidays;  ///< local dates with no calling

  bool operator==(const Window&) const = default;
};

/// Retry rule for one outcome: wait `delay` (±10 % jitter) and try again; at most `max` attempts
/// of the contact end with this outcome ("busy: retry after 10m, at most 3" = the third busy
/// exhausts the contact, so three calls at most). `max_attempts` still caps every attempt.
struct RetryRule {
  Millis delay{0};
  int max = 0;
  bool operator==(const RetryRule&) const = default;
};

/// Per-outcome rules. `completed` and `blocked` are never retried whatever this holds.
using RetryPolicy = std::map<Outcome, RetryRule>;

/// STATE-MACHINES.md "Outcome and retry policy" defaults.
RetryPolicy default_retry_policy();

/// Everything a campaign is configured with (CONTRACT.md "Campaign fields").
struct CampaignSpec {
  std::string name;
  std::string agent_id;
  std::vector<Provider> providers;
  ProviderStrategy provider_strategy = ProviderStrategy::failover;
  int max_concurrency = 5;
  int priority = 0;
  int weight = 1;
  std::string timezone = "Asia/Kolkata";
  Window window;
  int max_attempts = 5;
  RetryPolicy retry = default_retry_policy();
  bool dnc_on_blocked = true;
  std::optional<double> budget_credits;
  bool auto_resume = true;
  std::string description;
  /// A draft starts itself at this instant (audited as the scheduler).
  std::optional<TimePoint> start_at;
  /// From this instant no call is placed: queued contacts are skipped (campaign_ended) and the
  /// campaign completes; calls in flight are followed to their outcome.
  std::optional<TimePoint> end_at;
  /// `callback: {field: K}`: a finished call whose extraction values hold K with a time queues
  /// the contact for that time ("" = off).
  std::string callback_field;

  bool operator==(const CampaignSpec&) const = default;
};

/// `[a-z0-9][a-z0-9-_]{0,63}`
bool is_valid_campaign_name(std::string_view name) noexcept;
/// 8-4-4-4-12 hex digits, either case.
bool is_uuid(std::string_view s) noexcept;
/// '+' then 8 to 15 digits, the first not 0 (syntax only; libphonenumber decides validity).
bool is_e164_syntax(std::string_view s) noexcept;
/// `^[a-zA-Z_][a-zA-Z0-9_]*$`
bool is_variable_name(std::string_view s) noexcept;

}  // namespace dialer
