#pragma once
// Campaign specs for tests and benchmarks.

#include "core/campaign_spec.hpp"

#include <chrono>
#include <string>
#include <string_view>

namespace dialer::testkit {

/// A campaign that may dial at any hour: UTC, every day, 00:00-24:00, no end margin, twilio,
/// `max_concurrency` at once; every other field at its default.
inline CampaignSpec any_hour_campaign(std::string name, std::string_view agent_id,
                                      int max_concurrency) {
  CampaignSpec s;
  s.name = std::move(name);
  s.agent_id = std::string(agent_id);
  s.providers = {Provider::twilio};
  s.timezone = "UTC";
  s.window.days = {true, true, true, true, true, true, true};
  s.window.start = std::chrono::minutes{0};
  s.window.end = std::chrono::minutes{24 * 60};
  s.window.end_margin = Millis{0};
  s.max_concurrency = max_concurrency;
  return s;
}

}  // namespace dialer::testkit
