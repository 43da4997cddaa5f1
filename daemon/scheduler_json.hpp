#pragma once
/// The JSON views of what the scheduler shows: status-get, campaign-get, a campaign's
/// blocked_by and campaign-forecast. Presentation for the admin answers; the scheduler itself
/// only produces the values.

#include "core/time.hpp"
#include "daemon/forecast.hpp"
#include "scheduler/blocked_by.hpp"
#include "scheduler/scheduler.hpp"

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <optional>

namespace dialer::daemon {

/// null while dialling; otherwise {"reason": …} plus the reason's fields:
/// no_free_slot {used, limit}; rate_limited {next_token_at}; outside_calling_window {opens_at,
/// opens_at_local, timezone, contact?}; no_due_contacts {next_due_at, contact?, retry_after?};
/// provider_unavailable {until}; paused_by_errors / account_blocked {message}.
/// Times are ISO-8601 UTC (opens_at_local: local with offset); unknown times are null. With
/// `now`, a known time also comes as `in_s` (seconds from now, never negative).
boost::json::value to_json(const scheduler::BlockedBy& b,
                           std::optional<TimePoint> now = std::nullopt);

/// status-get `arguments` fields: slots, rate, credits, campaigns, account_block.
boost::json::object to_json(const scheduler::SchedulerStatus& s);
/// campaign-get `arguments`: id, name, state, pause_reason, blocked_by, contacts, outcomes,
/// attempts, in_flight, credits_used, created_at, started_at, completed_at, plus every campaign
/// field (core/campaign_json.hpp).
boost::json::object to_json(const scheduler::CampaignView& v);
/// The campaign's state and counts without its fields (id, name, state, pause_reason,
/// blocked_by[_text], contacts, outcomes, attempts, in_flight, credits_used, the timestamps):
/// the part campaign-get and campaign-stats share.
boost::json::object campaign_status_json(const scheduler::CampaignView& v);

/// `{finish_at, finish_at_local, calls, credits, by_day, assumptions, …}`.
boost::json::object to_json(const Forecast& f);

}  // namespace dialer::daemon
