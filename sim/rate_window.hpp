#pragma once
/// Sliding-window request limits per API key, as the service applies them (VOCOBASE-API.md:
/// 10 /calls/* requests and 60 others per minute per key; the window type is a project decision).

#include <cstdint>
#include <deque>
#include <string>
#include <unordered_map>

namespace dialer::sim {

/// At most `limit` accepted requests per key in any window of `window` time units. Refused
/// requests are not recorded, so a client that backs off recovers when the window slides.
class SlidingWindowLimiter {
 public:
  SlidingWindowLimiter(int limit, std::int64_t window) : limit_(limit), window_(window) {}

  /// Records a request at `now` and says whether it is inside the limit.
  bool try_acquire(const std::string& key, std::int64_t now);
  /// Requests the key has made in the window ending at `now`.
  [[nodiscard]] int used(const std::string& key, std::int64_t now);
  void set_limit(int limit) { limit_ = limit; }
  [[nodiscard]] int limit() const { return limit_; }
  void clear() { log_.clear(); }

 private:
  void expire(std::deque<std::int64_t>& q, std::int64_t now) const;

  int limit_;
  std::int64_t window_;
  std::unordered_map<std::string, std::deque<std::int64_t>> log_;
};

}  // namespace dialer::sim
