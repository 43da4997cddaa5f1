#pragma once
/// The composition root: config → logging → store → admin socket → webhook listener → API
/// client → scheduler, on one event loop, with systemd's readiness protocol, the watchdog,
/// SIGHUP reload and a graceful SIGTERM. `dialerd_main.cpp` only parses arguments, loads the
/// config and calls Daemon::run().

#include "config/config.hpp"
#include "core/time.hpp"
#include "daemon/admin_handlers.hpp"

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace dialer::daemon {

/// The systemd notification protocol (sd_notify(3)): a no-op unless $NOTIFY_SOCKET is set.
/// Injected so the daemon's messages can be observed; the default goes through libsystemd.
class Notifier {
 public:
  virtual ~Notifier() = default;
  /// Sends newline-separated assignments ("READY=1\nSTATUS=…").
  virtual void notify(std::string_view state) = 0;
  /// The watchdog interval systemd asked for ($WATCHDOG_USEC for this pid), or zero when off.
  [[nodiscard]] virtual Millis watchdog_interval() const = 0;
};

/// sd_notify / sd_watchdog_enabled from libsystemd.
class SystemdNotifier final : public Notifier {
 public:
  /// Never blocks: a report the receiver cannot queue is dropped (logged once).
  void notify(std::string_view state) override;
  [[nodiscard]] Millis watchdog_interval() const override;

 private:
  bool notify_warned_ = false;
};

/// Logging as configured (logging.level, logging.format), to stderr: text lines (with a
/// timestamp unless stderr is the journal, which adds its own) or one JSON object per line.
void setup_logging(const config::LoggingConfig& logging);

/// Reload keys this daemon applies only on restart besides those the config table marks
/// (the components have no live setter for them): the union is what a reload reports.
std::vector<std::string> keys_needing_restart(const config::ReloadDiff& diff);

class Daemon final : public DaemonControl {
 public:
  /// `config` is the validated content of `config_path`; `env` is used again on reload.
  Daemon(std::string config_path, config::Config config, config::GetEnv env,
         std::unique_ptr<Notifier> notifier = std::make_unique<SystemdNotifier>());
  ~Daemon() override;
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;

  /// Starts every component, runs the event loop until SIGTERM/SIGINT or `shutdown`, stops
  /// gracefully and returns the exit code (CONTRACT.md): 0 clean, 1 runtime failure (also: the
  /// leader lease was lost, or PostgreSQL cannot be reached — systemd starts it again), 4 store,
  /// 5 another instance holds the admin socket lock.
  int run();

  // DaemonControl
  [[nodiscard]] const config::Config& config() const override;
  [[nodiscard]] std::string config_path() const override;
  [[nodiscard]] const config::Config& file_config() const override;
  [[nodiscard]] std::string webhook_listen() const override;
  [[nodiscard]] std::string metrics_listen() const override;
  [[nodiscard]] api::WebhookSnapshot webhook_stats() const override;
  [[nodiscard]] Millis uptime() const override;
  config::Checked<config::ReloadDiff> reload() override;
  void request_shutdown(std::string reason) override;
  [[nodiscard]] RoleView role() const override;

  class Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace dialer::daemon
