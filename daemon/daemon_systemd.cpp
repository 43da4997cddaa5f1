// systemd's side of the daemon: the notify protocol (READY, STATUS, RELOADING, STOPPING), the
// watchdog pinged from the loop, the status text and the signals (SIGHUP reloads, SIGTERM and
// SIGINT shut down).

#include "daemon/daemon_impl.hpp"

#include <spdlog/spdlog.h>
#include <systemd/sd-daemon.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

namespace dialer::daemon {

// The notify protocol by hand rather than sd_notify(): sd_notify's sendmsg blocks while the
// receiver's queue is full (a supervisor that stopped reading), and it is called on the event
// loop. One datagram to $NOTIFY_SOCKET with MSG_DONTWAIT: a report that cannot be queued is
// dropped (the next status replaces it), never waited for.
void SystemdNotifier::notify(std::string_view state) {
  const char* env = std::getenv("NOTIFY_SOCKET");
  if (env == nullptr || *env == '\0') return;
  const std::string_view path(env);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if ((path[0] != '/' && path[0] != '@') || path.size() >= sizeof addr.sun_path) {
    if (!notify_warned_) spdlog::warn("NOTIFY_SOCKET {} is not a usable socket path", path);
    notify_warned_ = true;
    return;
  }
  std::memcpy(addr.sun_path, path.data(), path.size());
  if (path[0] == '@') addr.sun_path[0] = '\0';  // abstract namespace
  const auto len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size());
  const int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) {
    spdlog::warn("notify socket: {}", std::strerror(errno));
    return;
  }
  const ssize_t sent = ::sendto(fd, state.data(), state.size(), MSG_DONTWAIT | MSG_NOSIGNAL,
                                reinterpret_cast<const sockaddr*>(&addr), len);
  const int err = errno;
  ::close(fd);
  if (sent >= 0) {
    notify_warned_ = false;
    return;
  }
  if (!notify_warned_) {
    spdlog::warn("notify socket {}: {}; status reports are dropped while it is not read", path,
                 std::strerror(err));
  }
  notify_warned_ = true;
}

Millis SystemdNotifier::watchdog_interval() const {
  std::uint64_t usec = 0;
  if (::sd_watchdog_enabled(0, &usec) <= 0 || usec == 0) return Millis{0};
  return std::chrono::duration_cast<Millis>(std::chrono::microseconds(usec));
}

std::string Daemon::Impl::status_line() const {
  if (!scheduler_) return "starting";
  const RoleView role = role_view();
  if (!role.dials()) return (stopping_ ? "stopping: " : "") + role_text(role);
  const auto s = scheduler_->status();
  const auto it = s.campaigns.find(CampaignState::running);
  const auto running = it == s.campaigns.end() ? 0 : it->second;
  std::string line = std::to_string(running) + " campaign(s) running, slots " +
                     std::to_string(s.slots.used) + "/" + std::to_string(s.slots.limit);
  if (s.account_block != scheduler::AccountBlock::none) {
    line += ", dialling stopped: " + std::string(to_string(s.account_block));
  } else if (s.credits.state == scheduler::CreditState::exhausted) {
    line += ", credits exhausted";
  }
  line = role_text(role) + line;
  if (stopping_) line = "stopping: " + line;
  return line;
}

void Daemon::Impl::arm_watchdog() {
  const Millis interval = notifier_->watchdog_interval();
  if (interval.count() <= 0) return;
  // Pinging from a timer on the loop itself: a wedged loop stops pinging and systemd notices.
  const Millis every = std::max(Millis{1}, interval / 2);
  notifier_->notify("WATCHDOG=1");
  watchdog_timer_.expires_after(every);
  watchdog_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec || finished_) return;
    arm_watchdog();
  });
}

void Daemon::Impl::arm_status() {
  status_timer_.expires_after(std::chrono::seconds(2));
  status_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec || finished_) return;
    auto line = status_line();
    if (line != last_status_) {
      last_status_ = line;
      notifier_->notify("STATUS=" + line);
    }
    arm_status();
  });
}

void Daemon::Impl::wait_signals() {
  signals_.async_wait([this](const boost::system::error_code& ec, int sig) {
    if (ec) return;
    if (sig == SIGHUP) {
      spdlog::info("SIGHUP: reloading {}", config_path_);
      (void)reload();
      wait_signals();
      return;
    }
    request_shutdown(sig == SIGINT ? "SIGINT" : "SIGTERM");
    wait_signals();  // a second signal during the grace period is logged and ignored
  });
}

}  // namespace dialer::daemon
