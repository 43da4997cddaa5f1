#pragma once
/// Token planning (STATE-MACHINES.md "Slots and rate"): at the documented 10 `/calls/*` requests a
/// minute every token is worth a call, so an optional read — the periodic concurrency poll, an
/// early-settle listing, GET /calls/{id} — may only spend a token that no start the window can
/// place will need. Pure arithmetic: no clock, no platform, so it is tested on its own and the
/// engine tests check its use in simulated time.

#include "core/time.hpp"

#include <cstdint>
#include <limits>
#include <optional>
#include <vector>

namespace dialer::scheduler {

/// What the engine knows, at one instant, about the /calls/* tokens and the starts that may want
/// them before a token spent now comes back.
struct TokenPlan {
  TimePoint now{};
  /// When a token spent now is back (now + window + guard): starts after it are not affected.
  TimePoint horizon{};
  /// Tokens spendable now, net of claims whose requests are not sent yet.
  int tokens = 0;
  /// When tokens spent earlier come back, oldest first (each one token).
  std::vector<TimePoint> returns;
  /// Slots a start could take now.
  int free_slots = 0;
  /// When each busy slot is expected to free, one entry per call that will free it without our
  /// asking (a call whose outcome is overdue is left out: only a read frees its slot).
  std::vector<TimePoint> slot_frees;
  /// The shortest time a call started now is expected to hold its slot (observed durations).
  Millis turnover{std::chrono::seconds{1}};
  /// The earliest time a contact is due; nullopt when none is due before the horizon.
  std::optional<TimePoint> due_from;
  /// At most this many starts can be placed (contacts due); unknown: no bound.
  std::int64_t max_starts = std::numeric_limits<std::int64_t>::max();
  /// At most this many calls can be in flight at once for the campaigns with contacts due (their
  /// max_concurrency, within the account's capacity): only the earliest-freeing that many slots
  /// take starts.
  int max_slots = std::numeric_limits<int>::max();
};

/// The shortest turnover the plan assumes, and the most starts it simulates (beyond that it
/// answers 0: no slack, the safe side).
inline constexpr Millis kMinTurnover{100};
/// The turnover assumed before any call's hold was observed: the shortest a real call (dialling,
/// a busy tone) plausibly holds a slot.
inline constexpr Millis kDefaultTurnover{5'000};
inline constexpr int kMaxPlannedStarts = 4096;

/// Tokens an optional read may spend now: 0 whenever, after spending one, some start the window
/// can place — every free slot filled at once, every busy slot refilled when its call is
/// expected to end and again each `turnover`, never more than `max_starts` — would find no token.
[[nodiscard]] int slack_tokens(const TokenPlan& plan);

}  // namespace dialer::scheduler
