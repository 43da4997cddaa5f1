#include "scheduler/executor.hpp"

#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>

#include <vector>

namespace dialer::scheduler {
namespace {

using namespace std::chrono_literals;

const TimePoint kT0 = from_unix_ms(1'772'000'000'000);

// Posted work runs before time advances, and timers run in deadline order (ties in scheduling
// order), each with the clock at its own deadline.
TEST(SimulatedExecutor, RunsPostsFirstThenTimersInOrder) {
  SimulatedExecutor ex(kT0);
  std::vector<std::string> seen;
  ex.schedule_at(kT0 + 2s,
                 [&] { seen.push_back("t2@" + std::to_string((ex.now() - kT0).count())); });
  ex.schedule_at(kT0 + 1s, [&] { seen.push_back("t1a"); });
  ex.schedule_at(kT0 + 1s, [&] { seen.push_back("t1b"); });
  ex.post([&] {
    seen.push_back("post");
    ex.post([&] { seen.push_back("nested"); });
  });
  ex.run_until(kT0 + 5s);
  EXPECT_EQ(seen, (std::vector<std::string>{"post", "nested", "t1a", "t1b", "t2@2000"}));
  EXPECT_EQ(ex.now(), kT0 + 5s);
}

// A cancelled timer never runs, and cancel reports whether there was something to cancel.
TEST(SimulatedExecutor, CancelledTimerDoesNotRun) {
  SimulatedExecutor ex(kT0);
  bool ran = false;
  const TimerId id = ex.schedule_at(kT0 + 1s, [&] { ran = true; });
  EXPECT_EQ(ex.pending_timers(), 1U);
  EXPECT_TRUE(ex.cancel(id));
  EXPECT_FALSE(ex.cancel(id));
  ex.run_for(10s);
  EXPECT_FALSE(ran);
  EXPECT_EQ(ex.pending_timers(), 0U);
}

// A deadline in the past runs at the current instant; the clock never goes back.
TEST(SimulatedExecutor, PastDeadlineRunsNow) {
  SimulatedExecutor ex(kT0);
  TimePoint ran_at{};
  ex.schedule_at(kT0 - 1h, [&] { ran_at = ex.now(); });
  ex.run_ready();
  EXPECT_EQ(ran_at, TimePoint{});  // not run by run_ready: timers need run_until
  ex.run_until(kT0);
  EXPECT_EQ(ran_at, kT0);
}

// run_until_idle stops at the horizon, so a periodic timer cannot make it spin for ever.
TEST(SimulatedExecutor, RunUntilIdleHonoursHorizon) {
  SimulatedExecutor ex(kT0);
  int ticks = 0;
  std::function<void()> tick = [&] {
    ++ticks;
    ex.schedule_at(ex.now() + 1min, tick);
  };
  ex.schedule_at(kT0 + 1min, tick);
  ex.run_until_idle(10min);
  EXPECT_EQ(ticks, 10);
}

// The Asio executor runs a posted function and a timer on the io_context, and a cancelled
// timer's function never runs.
TEST(AsioExecutor, RunsPostsAndTimers) {
  boost::asio::io_context io;
  SystemClock clock;
  AsioExecutor ex(io.get_executor(), clock);
  std::vector<std::string> seen;
  const TimerId cancelled = ex.schedule_at(clock.now() + 1ms, [&] { seen.push_back("cancelled"); });
  ex.post([&] { seen.push_back("post"); });
  ex.schedule_at(clock.now() + 5ms, [&] { seen.push_back("timer"); });
  EXPECT_TRUE(ex.cancel(cancelled));
  EXPECT_EQ(ex.pending_timers(), 1U);
  io.run_for(std::chrono::seconds{10});  // returns as soon as the work is done
  EXPECT_EQ(seen, (std::vector<std::string>{"post", "timer"}));
  EXPECT_EQ(ex.pending_timers(), 0U);
}

}  // namespace
}  // namespace dialer::scheduler
