// The composition root: config → store → admin socket → webhook listener → API client →
// scheduler → admin commands, wired on one event loop (Daemon::Impl::start), the loop run until
// shutdown (Daemon::Impl::run), and the Daemon facade over Daemon::Impl (daemon_impl.hpp).

#include "daemon/daemon.hpp"

#include "core/version.hpp"
#include "daemon/daemon_impl.hpp"
#include "daemon/dialerd_args.hpp"
#include "store/sql/migrations.hpp"
#include "store/sql/schema.hpp"

#include <spdlog/spdlog.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <unistd.h>

namespace dialer::daemon {

namespace {

/// busy_timeout of the event loop's store connection and of the worker connections.
constexpr Millis kLoopBusyTimeout{1000};
constexpr Millis kWorkerBusyTimeout{10000};

store::Synchronous to_store(config::SyncMode m) {
  return m == config::SyncMode::normal ? store::Synchronous::normal : store::Synchronous::full;
}

}  // namespace

std::optional<Failure> Daemon::Impl::start() {
  const config::Config& cfg = *config_;

  // Store: opened and migrated before anything can touch it.
  store::OpenOptions open;
  open.synchronous = to_store(cfg.store.synchronous);
  // The event loop's connection waits at most 1 s for another writer (imports commit in short
  // chunks): a longer wait would stall every timer, webhook and admin answer behind it.
  open.busy_timeout = kLoopBusyTimeout;
  // Checkpoints (page write-back and syncs) run on their own thread, not in the loop's commits.
  open.background_checkpoint = true;
  store::Connector connect_worker;
  if (cfg.store.backend == config::StoreBackend::postgresql) {
    store::PgOptions pg;
    pg.conninfo = cfg.store.pg_conninfo;
    pg.password = cfg.store.pg_password.reveal();
    pg.schema = cfg.store.pg_schema;
    auto opened = store::SqlStore::open_postgresql(pg);
    if (!opened) {
      // An unreachable server is worth another try (exit 1: systemd restarts the unit); a
      // refusal (a newer schema, a failed migration) is not.
      return Failure{opened.error().code == make_error_code(errc::io_error) ? exit_runtime_failure
                                                                            : exit_store_failure,
                     "cannot open the store: " + opened.error().message};
    }
    store_ = std::move(*opened);
    pg.migrate = false;
    connect_worker = [pg] { return store::Database::open_postgresql(pg); };
    lease_options_ = pg;
    // Until the lease says otherwise, this node reserves nothing (fence: no epoch matches).
    store_->set_fence(kNoEpoch);
  } else {
    auto opened = store::SqlStore::open(cfg.store.path, open);
    if (!opened) {
      return Failure{exit_store_failure,
                     "cannot open the store " + cfg.store.path + ": " + opened.error().message};
    }
    store_ = std::move(*opened);
    store::OpenOptions worker_open = open;
    worker_open.migrate = false;
    worker_open.busy_timeout = kWorkerBusyTimeout;  // workers may wait for the loop's writes
    connect_worker = [path = cfg.store.path, worker_open] {
      return store::Database::open(path, worker_open);
    };
  }
  auto version = store_->schema_version();
  spdlog::info("store {} at schema version {}", store_->database().path(),
               version ? *version : store::current_schema_version());
  auto zones = store::ZoneTable::load();
  if (!zones)
    return Failure{exit_runtime_failure, "cannot load the zone table: " + zones.error().message};
  zones_.emplace(std::move(*zones));
  inbox_.emplace(store_->inbox());

  // Admin socket (its lock tells whether another instance runs), then the webhook listener.
  if (auto failure = start_admin(cfg)) return failure;
  if (auto failure = start_webhook(cfg)) return failure;
  // Leader or standby (PostgreSQL): only the holder of the lease recovers and dials. After the
  // admin socket's lock, so a second instance on this host never touches the lease.
  if (cfg.store.backend == config::StoreBackend::postgresql) {
    if (auto failure = start_lease(cfg)) return failure;
  }

  // Partner API client and the scheduler over it.
  auto client =
      api::VocobaseClient::create(ioc_.get_executor(), client_options(cfg), clock_, metrics_.get());
  if (!client) {
    return Failure{exit_invalid_config, "vocobase client: " + client.error().message};
  }
  client_ = std::move(*client);
  platform_ = std::make_unique<VocobasePlatform>(ioc_.get_executor(), *client_);
  executor_ = std::make_unique<scheduler::AsioExecutor>(ioc_.get_executor(), clock_);
  scheduler_ = std::make_unique<scheduler::Scheduler>(
      scheduler::SchedulerDeps{*executor_, *store_, *platform_, &parse_session_outcome,
                               metrics_.get()},
      scheduler_options(cfg));
  sink_.attach(scheduler_.get());

  const bool sqlite = cfg.store.backend == config::StoreBackend::sqlite;
  const auto db_dir = std::filesystem::absolute(cfg.store.path).parent_path();
  forecast_ = std::make_unique<ForecastCommand>(
      ForecastDeps{registry_, progress_, *scheduler_, self_, clock_, workers_.get_executor(),
                   sqlite ? cfg.store.path : std::string(), db_dir, &parse_session_outcome});
  account_ = std::make_unique<AccountCommands>(
      AccountCommandDeps{registry_, *client_, *scheduler_, *store_, self_, secrets_, clock_});
  handlers_ = std::make_unique<AdminHandlers>(
      AdminDeps{registry_, progress_, *store_, connect_worker, *scheduler_, self_, *zones_, clock_,
                workers_.get_executor(), db_dir, account_->start_check(),
                [this](const std::string& campaign) { return forecast_->last_of(campaign); }});
  *handlers_slot_ = handlers_.get();
  if (auto r = account_->register_all(); !r) {
    return Failure{exit_runtime_failure, "admin commands: " + r.error().message};
  }
  if (auto r = forecast_->register_all(); !r) {
    return Failure{exit_runtime_failure, "admin commands: " + r.error().message};
  }
  if (auto failure = start_metrics(cfg, connect_worker)) return failure;
  if (auto r = handlers_->register_all(); !r) {
    return Failure{exit_runtime_failure, "admin commands: " + r.error().message};
  }

  // A standby (or a node waiting for the old leader to notice) recovers when it leads.
  registry_.set_gate(
      [this](std::string_view command, admin::Effect effect) { return gate(command, effect); });
  if (role_ == Role::standalone || (role_ == Role::taking_over && !lead_at_)) {
    if (auto failure = lead()) return failure;
  }

  admin_->start();
  webhook_->start();
  webhook_->set_ready(true);
  if (metrics_server_) {
    metrics_server_->set_ready(true);
    metrics_server_->start();
  }
  return std::nullopt;
}

int Daemon::Impl::run() {
  // A client that closes its end while an export is written must not kill the daemon.
  std::signal(SIGPIPE, SIG_IGN);
  spdlog::info("dialerd {} starting (config {})", dialer::version(), config_path_);
  if (auto failure = start()) {
    spdlog::critical("{}", failure->message);
    notifier_->notify("STATUS=failed: " + failure->message);
    stop_after_failed_start();
    return failure->code;
  }
  spdlog::info("ready: admin socket {}, webhook listener http://{}{}, API {}{}",
               config_->admin.socket, webhook_address_, config_->webhook.path, client_->base_url(),
               role_ == Role::standalone ? "" : ", role " + role_view().role);
  last_status_ = status_line();
  notifier_->notify("READY=1\nSTATUS=" + last_status_ + "\nMAINPID=" + std::to_string(::getpid()));
  wait_signals();
  arm_watchdog();
  arm_status();
  arm_housekeeping(std::chrono::milliseconds{0});
  arm_lease();

  ioc_.run();
  // The loop was stopped by finish(): let what is already under way (the answer to a
  // `shutdown` command, closing connections) complete, within a bound.
  ioc_.restart();
  ioc_.run_for(std::chrono::seconds(5));
  workers_.join();
  spdlog::info("dialerd stopped");
  return exit_ok;
}

// --- Daemon --------------------------------------------------------------------------------

Daemon::Daemon(std::string config_path, config::Config config, config::GetEnv env,
               std::unique_ptr<Notifier> notifier)
    : impl_(std::make_unique<Impl>(*this, std::move(config_path), std::move(config), std::move(env),
                                   std::move(notifier))) {}

Daemon::~Daemon() = default;

int Daemon::run() {
  return impl_->run();
}

const config::Config& Daemon::config() const {
  return *impl_->config_;
}

const config::Config& Daemon::file_config() const {
  return *impl_->file_config_;
}

std::string Daemon::config_path() const {
  return impl_->config_path_;
}

std::string Daemon::webhook_listen() const {
  return impl_->webhook_address_;
}

std::string Daemon::metrics_listen() const {
  return impl_->metrics_address();
}

api::WebhookSnapshot Daemon::webhook_stats() const {
  return impl_->webhook_stats();
}

Millis Daemon::uptime() const {
  return std::chrono::duration_cast<Millis>(std::chrono::steady_clock::now() - impl_->started_);
}

config::Checked<config::ReloadDiff> Daemon::reload() {
  return impl_->reload();
}

void Daemon::request_shutdown(std::string reason) {
  impl_->request_shutdown(std::move(reason));
}

RoleView Daemon::role() const {
  return impl_->role_view();
}

}  // namespace dialer::daemon
