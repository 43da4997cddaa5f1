#pragma once
/// The scheduler's only view of time and of the event loop: post work, run a function at a
/// wall-clock instant, cancel it. Production runs on an Asio io_context (AsioExecutor); unit
/// tests run in simulated time (SimulatedExecutor) with no sockets and no sleeps.
///
/// Every callback runs on the executor's single thread, never re-entrantly from post() or
/// schedule_at() themselves.

#include "core/time.hpp"

#include <boost/asio/any_io_executor.hpp>

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <unordered_map>
#include <vector>

namespace dialer::scheduler {

/// Identifies a scheduled function; 0 is never issued (use it for "no timer").
using TimerId = std::uint64_t;

class Executor {
 public:
  virtual ~Executor() = default;

  /// Runs `fn` soon, after the caller returns.
  virtual void post(std::function<void()> fn) = 0;
  /// Runs `fn` once the clock reaches `at` (at once, but still later, when `at` is past).
  virtual TimerId schedule_at(TimePoint at, std::function<void()> fn) = 0;
  /// Cancels a scheduled function. False when it already ran, was cancelled or is unknown.
  virtual bool cancel(TimerId id) = 0;
  /// The wall clock the deadlines are expressed in.
  [[nodiscard]] virtual const Clock& clock() const = 0;
  /// Functions scheduled and neither run nor cancelled (diagnostics and tests).
  [[nodiscard]] virtual std::size_t pending_timers() const = 0;
};

/// Production executor over an Asio executor (an io_context's, or a strand). A wall-clock
/// deadline is converted to a steady_timer duration when it is scheduled, so a later wall-clock
/// step does not move timers already set.
class AsioExecutor final : public Executor {
 public:
  AsioExecutor(boost::asio::any_io_executor ex, const Clock& clock);
  ~AsioExecutor() override;
  AsioExecutor(const AsioExecutor&) = delete;
  AsioExecutor& operator=(const AsioExecutor&) = delete;

  void post(std::function<void()> fn) override;
  TimerId schedule_at(TimePoint at, std::function<void()> fn) override;
  bool cancel(TimerId id) override;
  [[nodiscard]] const Clock& clock() const override { return clock_; }
  [[nodiscard]] std::size_t pending_timers() const override;

  /// Cancels every pending timer (their functions never run).
  void cancel_all();

 private:
  struct State;
  boost::asio::any_io_executor ex_;
  const Clock& clock_;
  std::shared_ptr<State> state_;
};

/// Simulated time for tests: a ManualClock, a FIFO of posted work and an ordered timer queue.
/// Posted work always runs before time advances; timers due at the same instant run in the
/// order they were scheduled.
class SimulatedExecutor final : public Executor {
 public:
  explicit SimulatedExecutor(TimePoint start = TimePoint{});

  void post(std::function<void()> fn) override;
  TimerId schedule_at(TimePoint at, std::function<void()> fn) override;
  bool cancel(TimerId id) override;
  [[nodiscard]] const Clock& clock() const override { return clock_; }
  [[nodiscard]] std::size_t pending_timers() const override { return timers_.size(); }

  [[nodiscard]] TimePoint now() const { return clock_.now(); }
  /// Runs posted work (and work it posts) until none is left, without moving the clock.
  /// Returns how many functions ran. Bounded: throws std::runtime_error after `limit` runs
  /// (a livelock in the code under test).
  std::size_t run_ready(std::size_t limit = 10'000'000);
  /// Runs everything due up to `t` in time order, moving the clock to each timer's instant,
  /// then leaves the clock at `t` (never moves it backwards).
  std::size_t run_until(TimePoint t);
  std::size_t run_for(Millis d) { return run_until(now() + d); }
  /// Runs posted work and timers, advancing the clock to each, until nothing is left or the
  /// clock would pass `horizon` (a bound on simulated time for periodic timers).
  std::size_t run_until_idle(Millis horizon = std::chrono::hours{24 * 366});
  /// Deadlines of the pending timers, earliest first.
  [[nodiscard]] std::vector<TimePoint> timer_deadlines() const;
  /// The earliest pending timer's deadline.
  [[nodiscard]] std::optional<TimePoint> next_deadline() const;
  /// Posted functions not yet run.
  [[nodiscard]] std::size_t pending_posts() const { return posted_.size(); }

 private:
  bool run_one_timer(TimePoint limit);

  ManualClock clock_;
  std::deque<std::function<void()>> posted_;
  std::map<std::pair<TimePoint, TimerId>, std::function<void()>> timers_;
  std::unordered_map<TimerId, TimePoint> index_;
  TimerId next_id_ = 1;
};

}  // namespace dialer::scheduler
