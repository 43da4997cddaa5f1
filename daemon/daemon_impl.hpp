#pragma once
/// Daemon::Impl, private to daemon/: what the daemon owns and the order it is torn down in. Its
/// members are defined by responsibility:
///   daemon.cpp              the composition root: start-up wiring, run(), the Daemon facade
///   daemon_listeners.cpp    the admin socket, the webhook and metrics listeners, webhook secrets
///   daemon_reload.cpp       config reload: what changes live, what waits for a restart
///   daemon_systemd.cpp      sd_notify, the watchdog, the status text and the signals
///   daemon_housekeeping.cpp the hourly store pruning
///   daemon_lease.cpp        leader or standby of a pair on PostgreSQL: the lease, takeover
///   daemon_shutdown.cpp     graceful shutdown and the teardown after a failed start
///   daemon_logging.cpp      setup_logging

#include "api/admin/progress.hpp"
#include "api/admin/registry.hpp"
#include "api/admin/server.hpp"
#include "api/vocobase/client.hpp"
#include "api/webhook/outcome_sink.hpp"
#include "api/webhook/server.hpp"
#include "daemon/commands/account_commands.hpp"
#include "daemon/commands/forecast_command.hpp"
#include "daemon/daemon.hpp"
#include "daemon/dialerd_args.hpp"
#include "daemon/metrics.hpp"
#include "daemon/vocobase_platform.hpp"
#include "scheduler/executor.hpp"
#include "scheduler/scheduler.hpp"
#include "store/inbox_repo.hpp"
#include "store/postgresql/lease.hpp"
#include "store/sql/sql_store.hpp"
#include "store/sqlite/housekeeping.hpp"
#include "store/zones.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <prometheus/registry.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstddef>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace dialer::daemon {

/// The Partner API client's options from the config (at start and on every reload).
api::ClientOptions client_options(const config::Config& c);
/// The scheduler's options from the config (at start and on every reload).
scheduler::SchedulerOptions scheduler_options(const config::Config& c);

/// Webhook events are already durable in the inbox when this is told. The receiver's parsed
/// event goes straight to the scheduler (one parse per webhook); the scheduler finds its inbox
/// row by session id and marks it applied with the outcome. Rows not applied now (before
/// recovery, after a store error) are applied by the inbox drain.
class InboxSink final : public api::OutcomeSink {
 public:
  void on_session_completed(const api::SessionEvent& event) override {
    if (scheduler_ != nullptr) {
      scheduler_->on_session_completed(to_session_outcome(event.data, event.data_json));
    }
  }
  void attach(scheduler::Scheduler* s) { scheduler_ = s; }

 private:
  scheduler::Scheduler* scheduler_ = nullptr;
};

/// A startup failure: what to print and the exit code.
struct Failure {
  int code;
  std::string message;
};

class Daemon::Impl {
 public:
  Impl(Daemon& self, std::string config_path, config::Config config, config::GetEnv env,
       std::unique_ptr<Notifier> notifier)
      : self_(self),
        config_path_(std::move(config_path)),
        config_(std::make_unique<config::Config>(config)),
        file_config_(std::make_unique<config::Config>(std::move(config))),
        env_(std::move(env)),
        notifier_(std::move(notifier)) {}

  int run();
  config::Checked<config::ReloadDiff> reload();
  void request_shutdown(std::string reason);

  Daemon& self_;
  std::string config_path_;
  std::unique_ptr<config::Config> config_;  ///< in force
  /// As the file read last says: differs from config_ in keys waiting for a restart.
  std::unique_ptr<config::Config> file_config_;
  config::GetEnv env_;
  std::unique_ptr<Notifier> notifier_;
  SystemClock clock_;
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
  std::string webhook_address_;
  std::string metrics_address() const { return metrics_address_; }
  [[nodiscard]] api::WebhookSnapshot webhook_stats() const {
    return webhook_ ? webhook_->stats() : api::WebhookSnapshot{};
  }
  [[nodiscard]] RoleView role_view() const;

 private:
  std::optional<Failure> start();
  std::optional<Failure> start_admin(const config::Config& cfg);
  std::optional<Failure> start_webhook(const config::Config& cfg);
  std::optional<Failure> start_metrics(const config::Config& cfg,
                                       const store::Connector& connect_worker);
  void stop_after_failed_start();
  // daemon_lease.cpp
  enum class Role { standalone, standby, taking_over, leader };
  /// Connects the lease and tries it once: leader (or taking over), else standby.
  std::optional<Failure> start_lease(const config::Config& cfg);
  /// Recovery as after a crash (imports, then the scheduler), then dial: role leader.
  std::optional<Failure> lead();
  /// The lease was taken: fence the store with its epoch; lead now, or after the old holder's
  /// lease check has had time to stop it (lead_at_).
  void on_acquired(const store::LeaseHolder& mine, const std::string& previous_holder);
  void arm_lease();
  void lease_round();
  /// The leader no longer holds the lease: stop at once (exit 1; systemd starts it again, as
  /// the standby). Nothing more is sent: reservations are fenced already.
  [[noreturn]] void lose_lease(const std::string& why);
  /// The fence of a node without the lease: no epoch matches it.
  static constexpr std::int64_t kNoEpoch = -1;
  /// The admin gate of a node that does not dial: what changes shared state is refused.
  std::optional<admin::Response> gate(std::string_view command, admin::Effect effect) const;
  void publish_role();
  void arm_watchdog();
  void arm_status();
  void arm_housekeeping(std::chrono::milliseconds after);
  void housekeeping_round();
  void wait_signals();
  void finish();
  std::string status_line() const;

  // Declared first so it is destroyed last: every component below holds I/O objects of it.
  boost::asio::io_context ioc_{1};
  boost::asio::thread_pool workers_{2};
  std::unique_ptr<store::SqlStore> store_;
  std::optional<store::ZoneTable> zones_;
  std::optional<api::StoreInbox> inbox_;
  InboxSink sink_;
  std::shared_ptr<prometheus::Registry> metrics_ = std::make_shared<prometheus::Registry>();
  admin::Registry registry_;
  admin::ProgressTable progress_;
  /// The admin server's audit hook reaches the handlers through this once they exist.
  std::shared_ptr<AdminHandlers*> handlers_slot_ = std::make_shared<AdminHandlers*>(nullptr);
  std::unique_ptr<admin::Server> admin_;
  std::unique_ptr<api::WebhookServer> webhook_;
  std::unique_ptr<api::WebhookServer> metrics_server_;  ///< metrics.listen; null when off
  std::string metrics_address_;
  std::optional<DaemonMetrics> daemon_metrics_;
  /// Per-campaign contact counts are read on a worker every kCountsEvery at most.
  std::optional<std::chrono::steady_clock::time_point> counts_read_at_;
  std::shared_ptr<std::atomic<bool>> counts_running_ = std::make_shared<std::atomic<bool>>(false);
  std::unique_ptr<api::VocobaseClient> client_;
  std::unique_ptr<VocobasePlatform> platform_;
  std::unique_ptr<scheduler::AsioExecutor> executor_;
  std::unique_ptr<scheduler::Scheduler> scheduler_;
  std::unique_ptr<AdminHandlers> handlers_;
  std::unique_ptr<AccountCommands> account_;
  std::unique_ptr<ForecastCommand> forecast_;

  // The webhook endpoint this daemon registered (`dialerctl webhook register|rotate`).
  class Secrets final : public WebhookSecretsHolder {
   public:
    explicit Secrets(Impl& impl) : impl_(impl) {}
    [[nodiscard]] std::optional<WebhookRegistration> registration() const override {
      return impl_.registration_;
    }
    Result<void> store_registration(WebhookRegistration r) override {
      if (auto s = save_registration(impl_.registration_file_, r); !s) return s;
      impl_.registration_ = std::move(r);
      impl_.apply_secrets();
      return {};
    }
    [[nodiscard]] bool have_secret() const override { return !impl_.secrets_in_force().empty(); }
    [[nodiscard]] std::filesystem::path registration_file() const override {
      return impl_.registration_file_;
    }

   private:
    Impl& impl_;
  };
  Secrets secrets_{*this};
  std::optional<WebhookRegistration> registration_;
  std::filesystem::path registration_file_;
  boost::asio::steady_timer retire_timer_{ioc_};
  /// Registered secrets (newest first), then the configured ones.
  [[nodiscard]] std::vector<std::string> secrets_in_force() const;
  /// Puts secrets_in_force() in force on the listener and arms the retirement timer.
  void apply_secrets();
  void on_secret_used(std::size_t index);
  void load_registered_secrets(const std::filesystem::path& state_dir);
  boost::asio::signal_set signals_{ioc_, SIGTERM, SIGINT, SIGHUP};
  boost::asio::steady_timer watchdog_timer_{ioc_};
  boost::asio::steady_timer status_timer_{ioc_};
  boost::asio::steady_timer housekeeping_timer_{ioc_};
  store::PruneRound pruned_;  ///< totals of the housekeeping pass under way
  std::string last_status_;
  // Leader lease (store.backend: postgresql); role_ stays standalone on SQLite.
  Role role_ = Role::standalone;
  std::string node_;
  store::PgOptions lease_options_;  ///< the store's options (set when it is opened)
  std::optional<store::PgLease> lease_;
  std::optional<store::LeaseHolder> leader_;                      ///< the lease row as last read
  std::optional<std::chrono::steady_clock::time_point> lead_at_;  ///< taking_over: recover then
  std::uint64_t takeovers_ = 0;
  bool lease_trouble_logged_ = false;
  boost::asio::steady_timer lease_timer_{ioc_};
  bool stopping_ = false;
  bool finished_ = false;
};

}  // namespace dialer::daemon
