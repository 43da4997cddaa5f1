#pragma once
/// Store queries only the scheduler engine needs (crash recovery, polled outcomes). Kept apart
/// from the repositories so they stay small; each is one cached statement.

#include "core/enums.hpp"
#include "core/errc.hpp"
#include "core/time.hpp"
#include "store/database.hpp"

#include <cstdint>
#include <string_view>
#include <vector>

namespace dialer::store {

/// A contact claimed by the dispatcher (dialing or in_call) that no open attempt holds.
struct OrphanContact {
  std::int64_t id = 0;
  std::int64_t campaign_id = 0;
  ContactState state = ContactState::dialing;
};

/// Contacts in `dialing` or `in_call` without an attempt in reserved, ambiguous or started.
/// Claim and reserve share one transaction, so this finds nothing unless the database was
/// edited by hand; recovery repairs what it finds. Seeks contacts_state once per campaign.
Result<std::vector<OrphanContact>> orphan_claimed_contacts(Database& db);

/// Records an outcome obtained by polling (GET /sessions/{id}) in the webhook inbox, already
/// applied, so a late webhook for the same session is recognised as a duplicate. False when
/// the session is already in the inbox (nothing written).
Result<bool> record_polled_session(Database& db, std::string_view session_id,
                                   std::string_view call_id, std::string_view body, TimePoint at);

}  // namespace dialer::store
