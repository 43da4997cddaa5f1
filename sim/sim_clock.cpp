#include "sim/sim_clock.hpp"

#include <cmath>

namespace dialer::sim {

using std::chrono::duration_cast;
using std::chrono::microseconds;
using std::chrono::steady_clock;

ScaledClock::ScaledClock(double scale, bool scale_rate_window)
    : origin_(steady_clock::now()), scale_(scale), scale_rate_window_(scale_rate_window) {}

SimMillis ScaledClock::now() const {
  auto us = duration_cast<microseconds>(steady_clock::now() - origin_).count();
  return offset_ + static_cast<SimMillis>(std::floor(static_cast<double>(us) * scale_ / 1000.0));
}

std::int64_t ScaledClock::rate_now() const {
  if (scale_rate_window_) return now();
  return duration_cast<std::chrono::milliseconds>(steady_clock::now() - origin_).count();
}

TimePoint ScaledClock::wall() const {
  return SystemClock{}.now();
}

microseconds ScaledClock::to_real(SimMillis sim) const {
  return microseconds{
      static_cast<std::int64_t>(std::ceil(static_cast<double>(sim) * 1000.0 / scale_))};
}

steady_clock::time_point ScaledClock::steady_at(SimMillis sim) const {
  auto rel = sim - offset_;
  if (rel <= 0) return origin_;
  return origin_ + to_real(rel);
}

void Timeline::schedule(SimMillis at, Fn fn) {
  auto before = next_due();
  events_.emplace(std::pair{at, seq_++}, std::move(fn));
  if (!running_ && on_change_ && (!before || at < *before)) on_change_();
}

std::optional<SimMillis> Timeline::next_due() const {
  if (events_.empty()) return std::nullopt;
  return events_.begin()->first.first;
}

std::size_t Timeline::run_due(SimMillis now) {
  std::size_t ran = 0;
  running_ = true;
  while (!events_.empty() && events_.begin()->first.first <= now) {
    auto node = events_.extract(events_.begin());
    node.mapped()();
    ++ran;
  }
  running_ = false;
  return ran;
}

void Timeline::clear() {
  events_.clear();
}

}  // namespace dialer::sim
