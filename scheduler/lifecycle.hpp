#pragma once
/// The one authority over a contact's and an attempt's state. Every move names an event; the
/// lifecycle looks it up in the transition tables (state_machines.hpp), makes one guarded write
/// (store/state_writes.hpp: `… SET state = :to … WHERE id = ? AND state = :from`), audits it
/// and logs it, and answers whether it was written. Nothing else in the project writes those
/// states: only Lifecycle can call StateWrites. Every move first checks the store's fence
/// (Store::check_fence): a node another one took the lease over from writes no state at all,
/// refused with errc::conflict.
///
/// It holds no state of its own and costs two references, so whoever holds a store (the engine
/// on the event loop, an admin job on a worker) makes one when needed.

#include "core/enums.hpp"
#include "core/errc.hpp"
#include "core/time.hpp"
#include "scheduler/state_machines.hpp"
#include "store/contact_repo.hpp"
#include "store/state_writes.hpp"
#include "store/store.hpp"

#include <cstdint>
#include <string>
#include <string_view>

namespace dialer::scheduler {

class Lifecycle {
 public:
  /// `actor` is who the audit log names for the moves ("scheduler", "uid:1000", …).
  explicit Lifecycle(store::Store& store, std::string actor = "scheduler");

  /// The contact in `from` takes `event`. True when written; false when it is no longer in
  /// `from` (nothing written, nothing audited); errc::invalid_transition when the table has no
  /// such move (nothing written).
  Result<bool> contact(std::int64_t contact_id, ContactState from, ContactEvent event,
                       const store::ContactChange& change, TimePoint now);
  /// The attempt in `from` takes `event`; as contact(). errc::duplicate when another attempt
  /// already holds the call or session id the change names.
  Result<bool> attempt(std::int64_t attempt_id, AttemptState from, AttemptEvent event,
                       const store::AttemptChange& change, TimePoint now);

  /// What reserve() did.
  struct Reservation {
    store::Claim claim = store::Claim::not_queued;
    std::int64_t attempt_id = 0;  ///< the new attempt, when claimed
  };
  /// The dispatcher's claim and reservation, in the caller's transaction; refused
  /// (errc::conflict, nothing written) when the store's fence says another node leads. The
  /// queued contact
  /// takes `claimed` only while its number has no open attempt in any campaign (one statement),
  /// and a new attempt enters the attempt machine in its initial state, `reserved`.
  Result<Reservation> reserve(std::int64_t campaign_id, const store::ContactRow& contact,
                              Provider provider, std::string_view agent_id, TimePoint now);

  /// Every queued contact of the campaign takes `campaign_stopped` with `reason` (a stop, or its
  /// end_at); how many (one audit entry for all, on `campaign:<name>`).
  Result<std::int64_t> skip_queued(std::int64_t campaign_id, std::string_view campaign_name,
                                   std::string_view reason, TimePoint now);
  /// Queued contacts with this phone, in every campaign, take `dnc_added` with `reason`; how many.
  Result<std::int64_t> skip_queued_number(std::string_view phone, std::string_view reason,
                                          TimePoint now);

  /// Startup's repair of a contact left `dialing` or `in_call` without an open attempt (a store
  /// damaged by hand, or by a bug): back to queued, its fields kept. The one move outside the
  /// table, audited as action `repair`. False when it is no longer in `from`.
  Result<bool> repair(std::int64_t contact_id, ContactState from, TimePoint now);

 private:
  void audit(std::string subject, std::string detail_json, TimePoint now,
             std::string_view action = "transition");

  store::Store& store_;
  store::StateWrites& writes_;
  std::string actor_;
};

}  // namespace dialer::scheduler
