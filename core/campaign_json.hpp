#pragma once
/// JSON form of the campaign fields (CONTRACT.md "Campaign fields"), used for the campaigns
/// table's window/retry/providers columns and for admin output and arguments:
///   window: {"days":["mon",…],"start":"09:00","end":"21:00","end_margin":"10m",
///            "holidays":["2026-12-25"]}
///   retry:  {"no_answer":{"delay":"30m","max":3}, …}
/// The *_from_json functions check types and spellings and name the offending field
/// ("window.start: expected \"HH:MM\" …"); business rules (uuid agent, zone exists, limits) and
/// file:line:col positions are the config layer's.

#include "core/campaign_spec.hpp"
#include "core/errc.hpp"

#include <boost/json/value.hpp>

#include <chrono>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace dialer {

/// "09:00"; 1440 minutes is "24:00" (a window that runs to midnight).
std::string format_time_of_day(std::chrono::minutes m);
/// "HH:MM", 00:00 to 23:59, and "24:00" when `allow_24` (a window's end).
std::optional<std::chrono::minutes> parse_time_of_day(std::string_view text,
                                                      bool allow_24 = false) noexcept;
/// "2026-12-25".
std::string format_date(std::chrono::year_month_day d);
/// "YYYY-MM-DD", a real calendar date.
std::optional<std::chrono::year_month_day> parse_date(std::string_view text) noexcept;

/// Every field of the window.
boost::json::object window_to_json(const Window& w);
/// Fields left out keep `base`'s values. `field` prefixes error messages.
Result<Window> window_from_json(const boost::json::value& v, const Window& base = {},
                                std::string_view field = "window");

/// One entry per rule of the policy, keyed by outcome name.
boost::json::object retry_to_json(const RetryPolicy& policy);
/// Exactly the rules given (no defaults added); each rule needs "delay" and "max".
Result<RetryPolicy> retry_from_json(const boost::json::value& v, std::string_view field = "retry");

boost::json::array providers_to_json(const std::vector<Provider>& providers);
Result<std::vector<Provider>> providers_from_json(const boost::json::value& v,
                                                  std::string_view field = "providers");

/// Every field; `budget_credits` is null when unset.
boost::json::object campaign_spec_to_json(const CampaignSpec& spec);

/// Reads a JSON object of campaign fields. Fields left out keep `base`'s values (the config
/// defaults for campaign-create, the current spec for campaign-update). `window` is merged
/// field by field onto base.window; `retry` rules replace base's rules for the outcomes they
/// name (`{"max": 0}` turns an outcome's retries off). Unknown keys are errors, except those
/// in `ignored_keys` (e.g. the "campaign" argument of campaign-update).
Result<CampaignSpec> campaign_spec_from_json(const boost::json::value& v,
                                             const CampaignSpec& base = {},
                                             std::span<const std::string_view> ignored_keys = {});

}  // namespace dialer
