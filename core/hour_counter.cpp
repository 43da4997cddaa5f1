#include "core/hour_counter.hpp"

#include <algorithm>

namespace dialer {
namespace {

std::int64_t minute_of(TimePoint t) noexcept {
  const auto m = std::chrono::floor<std::chrono::minutes>(t.time_since_epoch()).count();
  return m < 0 ? 0 : m;
}

}  // namespace

void HourCounter::add(TimePoint t, std::uint64_t n) noexcept {
  const std::int64_t m = minute_of(t);
  Bucket& b = buckets_[static_cast<std::size_t>(m % 60)];
  if (b.minute > m) return;  // older than what the ring now holds for this slot
  if (b.minute != m) b = Bucket{m, 0};
  b.count += n;
}

std::uint64_t HourCounter::last(TimePoint now, int minutes) const noexcept {
  const std::int64_t m = minute_of(now);
  const std::int64_t span = std::clamp(minutes, 1, 60);
  std::uint64_t total = 0;
  for (const Bucket& b : buckets_) {
    if (b.minute >= 0 && b.minute <= m && b.minute > m - span) total += b.count;
  }
  return total;
}

}  // namespace dialer
