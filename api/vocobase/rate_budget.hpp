#pragma once
/// The Partner API request budget: two sliding-window buckets (VOCOBASE-API.md "Limits",
/// STATE-MACHINES.md "Slots and rate") and a bounded priority queue of requests waiting for a
/// token. Pure logic: no sockets, no timers; time comes from an injected Clock so tests run in
/// simulated time. The client (and the scheduler, for `blocked_by: rate_limited`) read it.

#include "core/time.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace dialer::api {

/// Which limit a request counts against.
enum class Bucket {
  calls,    ///< every `/calls/*` request: start, list, get, concurrency (`calls_per_minute`)
  general,  ///< everything else: `/config`, `/sessions/{id}` (`general_per_minute`)
};

/// Who is served first when several requests wait for the same bucket (lower first).
enum class Priority {
  start = 0,      ///< POST /calls/start: starts have first claim on the /calls/* bucket
  reconcile = 1,  ///< GET /calls listings that settle ambiguous attempts
  poll = 2,       ///< status polls: concurrency, config, single calls and sessions
};

/// The bucket a request path (relative to the API base, e.g. "/calls/start") counts against.
Bucket bucket_for_path(std::string_view path) noexcept;

std::string_view to_string(Bucket b) noexcept;

/// Limits of both buckets; a limit below 1 is treated as 1.
struct RateLimits {
  int calls_per_minute = 10;
  int general_per_minute = 60;
  Millis window{60'000};  ///< the sliding window (one minute on the real API)
  /// A send leaves the window only this long after `window`: the server counts a request when
  /// it arrives, which is after we count it, so without a margin a token freed at exactly
  /// send + window can reach the server while it still counts the earlier request (429).
  Millis guard{1'000};
  std::size_t max_waiting = 256;  ///< queue bound per bucket
};

/// Sliding-window budget of both buckets plus the queue of requests waiting for a token.
///
/// A token is spendable at time T when the bucket is not frozen at T and fewer than `limit`
/// requests were sent in (T − window, T]. A request is only sent after `grant()` handed it a
/// token, so the client never exceeds either limit in any window. Not thread-safe: used from
/// the client's strand.
class RateBudget {
 public:
  using Ticket = std::uint64_t;

  RateBudget(const Clock& clock, RateLimits limits);

  /// Changes the limits (config reload); sends already recorded keep counting.
  void set_limits(const RateLimits& limits);
  [[nodiscard]] const RateLimits& limits() const noexcept { return limits_; }
  [[nodiscard]] int limit(Bucket b) const noexcept;

  /// Tokens spendable now (0 while the bucket is frozen by a 429).
  [[nodiscard]] int available(Bucket b) const;
  /// Tokens not already promised to a waiting request: available(b) − waiting(b), at least 0.
  /// What a caller may still plan to spend this instant without queueing behind others.
  [[nodiscard]] int unclaimed(Bucket b) const;
  /// When the bucket next has a token: now when `available(b) > 0`.
  [[nodiscard]] TimePoint next_token_at(Bucket b) const;
  /// Requests recorded in the last window (what `status-get` reports as used_last_minute).
  [[nodiscard]] int used_last_window(Bucket b) const;
  /// When each token spent in the window comes back (its send + window + guard), oldest first.
  [[nodiscard]] std::vector<TimePoint> returns(Bucket b) const;
  /// How long a token spent now stays spent (window + guard).
  [[nodiscard]] Millis spent_for() const noexcept { return limits_.window + limits_.guard; }
  /// End of the freeze after a 429, when one is in force now.
  [[nodiscard]] std::optional<TimePoint> frozen_until(Bucket b) const;

  /// Joins the bucket's queue; nullopt when the queue is full (the bound of every queue).
  [[nodiscard]] std::optional<Ticket> enqueue(Bucket b, Priority p);
  /// Leaves the queue without a token (deadline, shutdown). False when not waiting.
  bool cancel(Ticket t);
  /// Hands tokens to waiting tickets — per bucket, highest priority first, then arrival order —
  /// while tokens are available. Each returned ticket has spent its token (counted as sent now).
  [[nodiscard]] std::vector<Ticket> grant();
  /// Tickets waiting in a bucket.
  [[nodiscard]] std::size_t waiting(Bucket b) const;
  /// Earliest time a waiting ticket can be granted; nullopt when nobody waits.
  [[nodiscard]] std::optional<TimePoint> next_wake() const;

  /// A 429 about the request rate: the bucket sends nothing until `retry_after` from now when
  /// the server sent Retry-After, else until a whole window has passed.
  void on_rate_limited(Bucket b, std::optional<Millis> retry_after);

 private:
  struct State {
    std::deque<TimePoint> sends;  ///< send times inside the window, oldest first
    TimePoint frozen_until{};
    // Ordered by (priority, arrival): begin() is served first.
    std::map<std::pair<int, Ticket>, Ticket> queue;
  };

  State& state(Bucket b) const noexcept { return buckets_[static_cast<std::size_t>(b)]; }
  /// Drops sends that left the window; `now` is also the moment a clock step back is absorbed.
  void prune(State& s, TimePoint now) const;
  [[nodiscard]] int count_in_window(State& s, TimePoint now) const;
  [[nodiscard]] TimePoint next_token_at(State& s, int limit, TimePoint now) const;

  const Clock& clock_;
  RateLimits limits_;
  // Mutable: observing the budget prunes expired sends (logically const).
  mutable std::array<State, 2> buckets_{};
  std::unordered_map<Ticket, std::pair<Bucket, std::pair<int, Ticket>>> index_;
  Ticket next_ticket_ = 1;
};

}  // namespace dialer::api
