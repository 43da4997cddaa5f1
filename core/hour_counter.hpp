#pragma once
/// "How many in the last hour" for status figures: sixty one-minute buckets in a ring, so the
/// memory is fixed whatever the rate. The hour is counted in whole minutes (the current minute
/// and the 59 before it).

#include "core/time.hpp"

#include <array>
#include <cstdint>

namespace dialer {

class HourCounter {
 public:
  /// Counts `n` events at `t`. Times before the newest bucket's hour are dropped.
  void add(TimePoint t, std::uint64_t n = 1) noexcept;
  /// Events counted in the minute of `now` and the 59 minutes before it.
  [[nodiscard]] std::uint64_t last_hour(TimePoint now) const noexcept { return last(now, 60); }
  /// Events counted in the minute of `now` and the `minutes` − 1 before it (1 to 60).
  [[nodiscard]] std::uint64_t last(TimePoint now, int minutes) const noexcept;

 private:
  struct Bucket {
    std::int64_t minute = -1;  ///< minutes since the epoch; -1 = empty
    std::uint64_t count = 0;
  };
  std::array<Bucket, 60> buckets_{};
};

}  // namespace dialer
