#pragma once
/// Time vocabulary: the project's time point (UTC, millisecond precision), an injectable clock,
/// duration strings ("250ms", "30s", "5m", "2h", "1d", "1h30m") and ISO-8601 UTC text.

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace dialer {

using Millis = std::chrono::milliseconds;
using TimePoint = std::chrono::time_point<std::chrono::system_clock, Millis>;

/// Wall-clock time source. Production uses SystemClock; tests inject ManualClock.
class Clock {
 public:
  virtual ~Clock() = default;
  [[nodiscard]] virtual TimePoint now() const = 0;
};

class SystemClock final : public Clock {
 public:
  [[nodiscard]] TimePoint now() const override {
    return std::chrono::time_point_cast<Millis>(std::chrono::system_clock::now());
  }
};

/// A clock that moves only when told to.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(TimePoint start = TimePoint{}) : now_(start) {}
  [[nodiscard]] TimePoint now() const override { return now_; }
  void set(TimePoint t) { now_ = t; }
  void advance(Millis d) { now_ += d; }

 private:
  TimePoint now_;
};

/// Parses "250ms", "30s", "5m", "2h", "1d" and concatenations ("1h30m"); "0" is zero.
/// Returns nullopt for anything else (negative, empty, unknown unit, overflow).
std::optional<Millis> parse_duration(std::string_view text) noexcept;

/// The shortest exact spelling: 90000ms → "90s", 5400000ms → "1h30m", 0 → "0s".
std::string format_duration(Millis d);

/// "2026-03-15T14:32:08.000Z" (always UTC, always milliseconds).
std::string format_iso8601(TimePoint t);

/// Parses ISO-8601 date-time: "YYYY-MM-DDTHH:MM:SS[.fff…](Z|±HH:MM|±HHMM)"; a space may stand
/// for the 'T'. Returns nullopt on anything else.
std::optional<TimePoint> parse_iso8601(std::string_view text) noexcept;

/// Milliseconds since the Unix epoch (storage form).
constexpr std::int64_t to_unix_ms(TimePoint t) noexcept {
  return t.time_since_epoch().count();
}
constexpr TimePoint from_unix_ms(std::int64_t ms) noexcept {
  return TimePoint{Millis{ms}};
}

}  // namespace dialer
