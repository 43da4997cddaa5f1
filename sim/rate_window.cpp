#include "sim/rate_window.hpp"

namespace dialer::sim {

namespace {
// Keys seen are bounded by the configured keys, except in "any key" mode: past this many,
// keys with nothing left in their window are forgotten.
constexpr std::size_t kPruneAbove = 4096;
}  // namespace

void SlidingWindowLimiter::expire(std::deque<std::int64_t>& q, std::int64_t now) const {
  while (!q.empty() && q.front() <= now - window_) q.pop_front();
}

bool SlidingWindowLimiter::try_acquire(const std::string& key, std::int64_t now) {
  if (log_.size() > kPruneAbove) {
    for (auto it = log_.begin(); it != log_.end();) {
      expire(it->second, now);
      it = it->second.empty() ? log_.erase(it) : std::next(it);
    }
  }
  auto& q = log_[key];
  expire(q, now);
  if (static_cast<std::int64_t>(q.size()) >= limit_) return false;
  q.push_back(now);
  return true;
}

int SlidingWindowLimiter::used(const std::string& key, std::int64_t now) {
  auto it = log_.find(key);
  if (it == log_.end()) return 0;
  expire(it->second, now);
  return static_cast<int>(it->second.size());
}

}  // namespace dialer::sim
