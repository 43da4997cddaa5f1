#pragma once
/// Simulated time. Every lifecycle duration is expressed in simulated milliseconds; a real
/// steady clock scaled by --time-scale (plus any explicit jump) says how far simulated time has
/// run. Timestamps on the wire stay wall-clock (clients compare them with their own clocks).

#include "core/time.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <utility>

namespace dialer::sim {

/// Milliseconds of simulated time since the simulator started.
using SimMillis = std::int64_t;

/// Where the simulator's notion of "now" comes from (a scaled steady clock in production, a
/// hand-moved one in tests).
class SimClock {
 public:
  virtual ~SimClock() = default;
  /// Simulated time.
  [[nodiscard]] virtual SimMillis now() const = 0;
  /// The time base of the rate windows: simulated time with --scale-rate-window, else real
  /// elapsed milliseconds.
  [[nodiscard]] virtual std::int64_t rate_now() const = 0;
  /// Wall clock, for ISO-8601 timestamps.
  [[nodiscard]] virtual TimePoint wall() const = 0;
  /// Real duration that `sim` simulated milliseconds take.
  [[nodiscard]] virtual std::chrono::microseconds to_real(SimMillis sim) const = 0;
};

/// Real steady clock × scale, plus explicit jumps (POST /_sim/advance).
class ScaledClock final : public SimClock {
 public:
  ScaledClock(double scale, bool scale_rate_window);

  [[nodiscard]] SimMillis now() const override;
  [[nodiscard]] std::int64_t rate_now() const override;
  [[nodiscard]] TimePoint wall() const override;
  [[nodiscard]] std::chrono::microseconds to_real(SimMillis sim) const override;

  /// The steady-clock instant at which simulated time reaches `sim` (rounded up).
  [[nodiscard]] std::chrono::steady_clock::time_point steady_at(SimMillis sim) const;
  /// Jumps simulated time forward.
  void advance(SimMillis by) { offset_ += by; }
  [[nodiscard]] double scale() const { return scale_; }

 private:
  std::chrono::steady_clock::time_point origin_;
  double scale_;
  bool scale_rate_window_;
  SimMillis offset_ = 0;
};

/// A clock moved by hand (tests of the socket-free core).
class ManualSimClock final : public SimClock {
 public:
  explicit ManualSimClock(TimePoint wall_start = TimePoint{Millis{1'773'000'000'000}})
      : wall_start_(wall_start) {}
  [[nodiscard]] SimMillis now() const override { return now_; }
  [[nodiscard]] std::int64_t rate_now() const override { return now_; }
  [[nodiscard]] TimePoint wall() const override { return wall_start_ + Millis{now_}; }
  [[nodiscard]] std::chrono::microseconds to_real(SimMillis sim) const override {
    return std::chrono::microseconds{sim * 1000};
  }
  void advance(SimMillis by) { now_ += by; }

 private:
  TimePoint wall_start_;
  SimMillis now_ = 0;
};

/// Events due at simulated times, run in (time, insertion) order: one ordered queue instead of
/// a timer per call, so 1,000 calls cost one armed timer and ordering is deterministic.
class Timeline {
 public:
  using Fn = std::function<void()>;

  /// Adds an event. When it becomes the earliest, the change hook runs (to re-arm a timer).
  void schedule(SimMillis at, Fn fn);
  /// Earliest pending event time.
  [[nodiscard]] std::optional<SimMillis> next_due() const;
  /// Runs every event due at or before `now`, including ones scheduled while running.
  std::size_t run_due(SimMillis now);
  /// Drops every pending event.
  void clear();
  [[nodiscard]] std::size_t size() const { return events_.size(); }
  /// Called when the earliest due time moved earlier.
  void on_change(std::function<void()> hook) { on_change_ = std::move(hook); }

 private:
  std::map<std::pair<SimMillis, std::uint64_t>, Fn> events_;
  std::uint64_t seq_ = 0;
  std::function<void()> on_change_;
  bool running_ = false;
};

}  // namespace dialer::sim
