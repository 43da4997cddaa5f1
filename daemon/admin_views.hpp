#pragma once
/// The JSON views of campaigns, contacts and calls that the admin answers share (campaign-get,
/// campaign-stats, campaign-list and `watch`; contacts-list; calls-list).

#include "core/enums.hpp"
#include "scheduler/scheduler.hpp"
#include "store/attempt_repo.hpp"
#include "store/contact_repo.hpp"

#include <boost/json/object.hpp>

#include <cstdint>
#include <map>
#include <string>

namespace dialer::daemon {

/// Contacts by state, the states with none left out.
boost::json::object counts_nonzero(const std::map<ContactState, std::int64_t>& counts);
/// Calls by outcome.
boost::json::object outcome_counts(const std::map<Outcome, std::int64_t>& counts);

/// The pace figures campaign-get, campaign-stats and campaign-list share (watch shows them):
/// due_now (capped), starts in the last 5 min and hour, contacts finished in the last hour,
/// eta_s at that pace, the answer rate of the outcomes so far, the last error.
void add_pace(boost::json::object& o, const scheduler::CampaignView& v);

/// The figures of campaign-stats (campaign-get adds every field of the campaign).
boost::json::object stats_json(const scheduler::CampaignView& v);

/// A contact as contacts-list shows it.
boost::json::object contact_json(const store::ContactRow& c);
/// An attempt as calls-list shows it, with its campaign's name.
boost::json::object attempt_json(const store::AttemptRow& a, const std::string& campaign);

}  // namespace dialer::daemon
