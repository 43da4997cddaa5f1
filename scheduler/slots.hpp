#pragma once
/// Slot arithmetic (STATE-MACHINES.md "Slots and rate"): how many calls this daemon may have in
/// flight given the account's concurrency limit and the calls other clients of the same account
/// are making, and whether one campaign may start another call.

#include <optional>

namespace dialer::scheduler {

/// The account limit Vocobase documents when GET /calls/concurrency has not answered yet.
inline constexpr int kDefaultAccountLimit = 5;

/// GET /calls/concurrency `data`: the account limit and the calls the server counts as active.
struct ConcurrencySnapshot {
  int limit = kDefaultAccountLimit;
  int active = 0;
};

/// The account's slots as this daemon sees them at one moment.
struct SlotAccount {
  int limit = 0;      ///< the account limit
  int foreign = 0;    ///< active calls of the account that this daemon did not start
  int capacity = 0;   ///< limit − foreign, never below 0: what this daemon may have in flight
  int in_flight = 0;  ///< our own calls in flight (reserved, ambiguous, started without outcome)

  /// Slots this daemon may still fill.
  [[nodiscard]] int free() const noexcept {
    return capacity > in_flight ? capacity - in_flight : 0;
  }
  /// Calls on the account as a whole (ours + foreign), for `no_free_slot` and status-get.
  [[nodiscard]] int used() const noexcept { return in_flight + foreign; }
};

/// Builds the account view. `ours_active_on_server` is how many of our in-flight calls the
/// server counts in `active` (started, no outcome yet — a reserved or ambiguous attempt may or may
/// not be there, so the caller counts only those it knows the server has); foreign =
/// max(0, active − ours_active_on_server). Without a snapshot the documented default limit
/// applies and no foreign calls are assumed.
SlotAccount account_slots(const std::optional<ConcurrencySnapshot>& snapshot, int ours_in_flight,
                          int ours_active_on_server) noexcept;

/// Whether a campaign may start another call now, and the limit that decides it.
struct SlotCheck {
  bool allowed = false;
  bool account_bound = false;  ///< refused by the account's capacity (else by max_concurrency)
  int used = 0;                ///< account: ours + foreign; campaign: its own in flight
  int limit = 0;               ///< account: the account limit; campaign: max_concurrency
};

/// A campaign may start another call only if our total in flight is below the account capacity
/// and its own in flight is below its max_concurrency. When both bind, the account is reported.
SlotCheck campaign_slot(const SlotAccount& account, int campaign_in_flight,
                        int max_concurrency) noexcept;

}  // namespace dialer::scheduler
