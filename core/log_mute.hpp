#pragma once
/// While a LogMute lives on a thread, the daemon's log sink drops that thread's messages: a
/// forecast runs the real scheduler in simulated time on a worker, and its thousands of lines
/// about calls that never happen must not reach the journal.

namespace dialer {

class LogMute {
 public:
  LogMute() noexcept { ++depth(); }
  ~LogMute() { --depth(); }
  LogMute(const LogMute&) = delete;
  LogMute& operator=(const LogMute&) = delete;

  /// True on a thread inside a LogMute.
  static bool active() noexcept { return depth() > 0; }

 private:
  static int& depth() noexcept {
    thread_local int d = 0;
    return d;
  }
};

}  // namespace dialer
