#pragma once
/// Why a campaign is not placing a call right now (`blocked_by` in campaign-get,
/// STATE-MACHINES.md "Campaign"), as a value with a one-line text form (its JSON:
/// daemon/scheduler_json).

#include "core/enums.hpp"
#include "core/time.hpp"

#include <date/tz.h>

#include <optional>
#include <string>

namespace dialer::scheduler {

enum class BlockReason {
  none,                      ///< dialling
  not_running,               ///< the campaign is not in `running`
  no_free_slot,              ///< account capacity or max_concurrency reached (used/limit)
  rate_limited,              ///< no /calls/* token before `at`
  outside_calling_window,    ///< the window opens at `at` (null: never), shown in the campaign zone
  no_due_contacts,           ///< no queued contact is due; the next is due at `at` (null: none)
  credit_exhausted,          ///< the account ran out of credits
  provider_unavailable,      ///< no usable provider; one comes back from cooldown at `at` if known
  account_blocked,           ///< the API refused the key (401) or the account (403): see status-get
  number_in_call_elsewhere,  ///< due contacts wait: their numbers are in a call of another campaign
  unknown_timezone,          ///< a zone tzdata cannot resolve closes the window (fail closed)
  api_unreachable,           ///< starts could not reach the API; probed again at `at`
  paused_by_errors,          ///< paused by the circuit breaker: `message` is the last error
  standby,                   ///< this node does not dial (a standby of a pair): the leader does
};

}  // namespace dialer::scheduler

namespace dialer {
template <>
struct EnumNames<scheduler::BlockReason> {
  static constexpr auto names = std::to_array<std::string_view>(
      {"", "not_running", "no_free_slot", "rate_limited", "outside_calling_window",
       "no_due_contacts", "credit_exhausted", "provider_unavailable", "account_blocked",
       "number_in_call_elsewhere", "unknown_timezone", "api_unreachable", "paused_by_errors",
       "standby"});
};
}  // namespace dialer

namespace dialer::scheduler {

/// The reason plus the details each reason carries. Build it with the named factories.
struct BlockedBy {
  BlockReason reason = BlockReason::none;
  int used = 0;                 ///< no_free_slot
  int limit = 0;                ///< no_free_slot
  std::optional<TimePoint> at;  ///< next token / window opening / next due / provider back
  std::string timezone;         ///< outside_calling_window: the zone whose window is closed
                                ///< (the contact's, else the campaign's);
                                ///< unknown_timezone: the zone tzdata does not know
  std::string at_local;         ///< outside_calling_window: `at` in that zone, with its offset
  /// outside_calling_window / no_due_contacts: the phone of the contact that is next (its
  /// window, its retry), when known.
  std::string contact;
  /// no_due_contacts: the next contact waits for its retry after this outcome.
  std::optional<Outcome> retry_after;
  /// paused_by_errors: the last error; account_blocked: the API's message.
  std::string message;

  /// A value with `r` and no details.
  static BlockedBy of(BlockReason r) {
    BlockedBy b;
    b.reason = r;
    return b;
  }
  static BlockedBy none() { return {}; }
  static BlockedBy not_running() { return of(BlockReason::not_running); }
  static BlockedBy no_free_slot(int used, int limit);
  static BlockedBy rate_limited(TimePoint next_token);
  /// `opens_at` from CallingWindow::next_opening (nullopt: the window never opens); `zone` the
  /// zone whose window is closed (the contact's strictest, else the campaign's); `contact` the
  /// phone of the contact waiting for it ("" = not one contact).
  static BlockedBy outside_calling_window(std::optional<TimePoint> opens_at,
                                          const date::time_zone* zone, std::string contact = {});
  /// `contact`: the phone of the contact due next; `retry_after`: it waits for a retry after
  /// that outcome.
  static BlockedBy no_due_contacts(std::optional<TimePoint> next_due, std::string contact = {},
                                   std::optional<Outcome> retry_after = std::nullopt);
  static BlockedBy paused_by_errors(std::string last_error) {
    BlockedBy b = of(BlockReason::paused_by_errors);
    b.message = std::move(last_error);
    return b;
  }
  static BlockedBy account_blocked(std::string api_message) {
    BlockedBy b = of(BlockReason::account_blocked);
    b.message = std::move(api_message);
    return b;
  }
  static BlockedBy credit_exhausted() { return of(BlockReason::credit_exhausted); }
  static BlockedBy provider_unavailable(std::optional<TimePoint> back_at = std::nullopt);
  /// `retry_at`: when the waiting contacts are looked at again.
  static BlockedBy number_in_call_elsewhere(std::optional<TimePoint> retry_at);
  static BlockedBy unknown_timezone(std::string zone);
  /// `probe_at`: when the API is tried again.
  static BlockedBy api_unreachable(std::optional<TimePoint> probe_at) {
    BlockedBy b = of(BlockReason::api_unreachable);
    b.at = probe_at;
    return b;
  }

  [[nodiscard]] bool blocked() const noexcept { return reason != BlockReason::none; }
  bool operator==(const BlockedBy&) const = default;
};

/// One line for logs and dialerctl, e.g. "no free slot (5/5 in use)"; empty while dialling.
/// With `now`, times are followed by "(in 7 s)".
std::string to_text(const BlockedBy& b, std::optional<TimePoint> now = std::nullopt);

/// "in 7 s", "in 12 min", "in 3 h 05 min", "in 2 d 4 h"; "now" for zero or less.
std::string format_in(Millis d);

}  // namespace dialer::scheduler
