#include "daemon/daemon.hpp"

#include "api/admin/progress.hpp"
#include "api/admin/registry.hpp"
#include "api/admin/server.hpp"
#include "api/vocobase/client.hpp"
#include "api/webhook/outcome_sink.hpp"
#include "api/webhook/server.hpp"
#include "core/log_mute.hpp"
#include "core/version.hpp"
#include "daemon/commands/account_commands.hpp"
#include "daemon/commands/forecast_command.hpp"
#include "daemon/dialerd_args.hpp"
#include "daemon/log_fields.hpp"
#include "daemon/metrics.hpp"
#include "daemon/vocobase_platform.hpp"
#include "scheduler/executor.hpp"
#include "scheduler/scheduler.hpp"
#include "store/contact_repo.hpp"
#include "store/database.hpp"
#include "store/housekeeping.hpp"
#include "store/import_recovery.hpp"
#include "store/inbox_repo.hpp"
#include "store/migrations.hpp"
#include "store/schema.hpp"
#include "store/zones.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <prometheus/registry.h>
#include <spdlog/formatter.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <systemd/sd-daemon.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <iostream>
#include <optional>
#include <set>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

namespace dialer::daemon {

namespace asio = boost::asio;
namespace json = boost::json;

// --- systemd -------------------------------------------------------------------------------

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

namespace {
/// busy_timeout of the event loop's store connection and of the worker connections.
constexpr Millis kLoopBusyTimeout{1000};
/// Per-campaign contact counts for /metrics are read at most this often (a store scan).
constexpr auto kCountsEvery = std::chrono::seconds{5};
constexpr Millis kWorkerBusyTimeout{10000};
}  // namespace

// --- logging -------------------------------------------------------------------------------

namespace {

/// One JSON object per line: {"time", "level", "message"} and the subjects the message names
/// (campaign, attempt, contact, call_id, session_id: daemon/log_fields.hpp). The message is
/// escaped by Boost.JSON (spdlog's patterns cannot escape a payload).
class JsonFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    const auto ms = std::chrono::time_point_cast<Millis>(msg.time);
    json::object o;
    o["time"] = format_iso8601(TimePoint{ms.time_since_epoch()});
    const auto level = spdlog::level::to_string_view(msg.level);
    o["level"] = std::string_view(level.data(), level.size());
    const std::string_view text(msg.payload.data(), msg.payload.size());
    o["message"] = text;
    const LogFields f = log_fields(text);
    if (f.campaign) o["campaign"] = *f.campaign;
    if (f.contact) o["contact"] = *f.contact;
    if (f.attempt) o["attempt"] = *f.attempt;
    if (f.call_id) o["call_id"] = *f.call_id;
    if (f.session_id) o["session_id"] = *f.session_id;
    const std::string line = json::serialize(o);
    dest.append(line.data(), line.data() + line.size());
    dest.push_back('\n');
  }
  [[nodiscard]] std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<JsonFormatter>();
  }
};

/// Under journald (sd-daemon(3)): each line starts with its syslog priority, "<3>" for an
/// error, so `journalctl -p err` finds it; the journal stamps the time itself.
class JournalPrefixFormatter final : public spdlog::formatter {
 public:
  explicit JournalPrefixFormatter(std::unique_ptr<spdlog::formatter> inner)
      : inner_(std::move(inner)) {}
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    const char* prefix = "<6>";
    switch (msg.level) {
      case spdlog::level::trace:
      case spdlog::level::debug:
        prefix = "<7>";  // SD_DEBUG
        break;
      case spdlog::level::info:
        prefix = "<6>";  // SD_INFO
        break;
      case spdlog::level::warn:
        prefix = "<4>";  // SD_WARNING
        break;
      case spdlog::level::err:
        prefix = "<3>";  // SD_ERR
        break;
      case spdlog::level::critical:
        prefix = "<2>";  // SD_CRIT
        break;
      default:
        break;
    }
    dest.append(prefix, prefix + 3);
    inner_->format(msg, dest);
  }
  [[nodiscard]] std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<JournalPrefixFormatter>(inner_->clone());
  }

 private:
  std::unique_ptr<spdlog::formatter> inner_;
};

/// Whether stderr is the journal's stream: systemd sets JOURNAL_STREAM to "DEV:INODE" of it, and
/// a stderr redirected elsewhere (a wrapper, a file) no longer matches (systemd.exec(5)).
bool stderr_is_journal() {
  const char* v = std::getenv("JOURNAL_STREAM");
  if (v == nullptr) return false;
  unsigned long long dev = 0;
  unsigned long long ino = 0;
  if (std::sscanf(v, "%llu:%llu", &dev, &ino) != 2) return false;
  struct stat st {};
  if (::fstat(STDERR_FILENO, &st) != 0) return false;
  return static_cast<unsigned long long>(st.st_dev) == dev &&
         static_cast<unsigned long long>(st.st_ino) == ino;
}

spdlog::level::level_enum to_spdlog(config::LogLevel l) {
  switch (l) {
    case config::LogLevel::trace:
      return spdlog::level::trace;
    case config::LogLevel::debug:
      return spdlog::level::debug;
    case config::LogLevel::info:
      return spdlog::level::info;
    case config::LogLevel::warn:
      return spdlog::level::warn;
    case config::LogLevel::error:
      return spdlog::level::err;
    case config::LogLevel::critical:
      return spdlog::level::critical;
    case config::LogLevel::off:
      return spdlog::level::off;
  }
  return spdlog::level::info;
}

}  // namespace

namespace {
/// stderr, except for threads inside a LogMute (a forecast's simulated scheduler).
class MutableStderrSink final : public spdlog::sinks::stderr_sink_mt {
 public:
  void log(const spdlog::details::log_msg& msg) override {
    if (!LogMute::active()) spdlog::sinks::stderr_sink_mt::log(msg);
  }
};
}  // namespace

void setup_logging(const config::LoggingConfig& logging) {
  auto logger = spdlog::default_logger();
  if (logger == nullptr || logger->name() != "dialerd") {
    logger = std::make_shared<spdlog::logger>("dialerd", std::make_shared<MutableStderrSink>());
    spdlog::set_default_logger(logger);
  }
  const bool journal = stderr_is_journal();
  std::unique_ptr<spdlog::formatter> formatter;
  if (logging.format == config::LogFormat::json) {
    formatter = std::make_unique<JsonFormatter>();
  } else if (journal) {
    // The journal stamps each line itself.
    formatter = std::make_unique<spdlog::pattern_formatter>("%l: %v");
  } else {
    formatter = std::make_unique<spdlog::pattern_formatter>("%Y-%m-%dT%H:%M:%S.%e%z %l: %v");
  }
  if (journal) formatter = std::make_unique<JournalPrefixFormatter>(std::move(formatter));
  logger->set_formatter(std::move(formatter));
  logger->set_level(to_spdlog(logging.level));
  logger->flush_on(spdlog::level::trace);
}

std::vector<std::string> keys_needing_restart(const config::ReloadDiff& diff) {
  // Live in the config table, but the running components take them only at construction.
  static const std::set<std::string, std::less<>> kOnlyAtStart{
      "webhook.max_connections", "webhook.idle_timeout", "admin.allowed_uids", "admin.allowed_gids",
      "admin.max_request_bytes"};
  std::set<std::string> out(diff.needs_restart.begin(), diff.needs_restart.end());
  for (const auto& k : diff.changed) {
    if (kOnlyAtStart.contains(k)) out.insert(k);
  }
  return {out.begin(), out.end()};
}

// --- the daemon ----------------------------------------------------------------------------

namespace {

store::Synchronous to_store(config::SyncMode m) {
  return m == config::SyncMode::normal ? store::Synchronous::normal : store::Synchronous::full;
}

api::ClientOptions client_options(const config::Config& c) {
  api::ClientOptions o;
  o.base_url = c.vocobase.base_url;
  o.api_key = c.vocobase.api_key.reveal();
  o.connect_timeout = c.vocobase.connect_timeout;
  o.request_timeout = c.vocobase.request_timeout;
  o.credit_balance_pointer = c.vocobase.credit_balance_pointer;
  o.rate.calls_per_minute = c.vocobase.calls_per_minute;
  o.rate.general_per_minute = c.vocobase.general_per_minute;
  return o;
}

scheduler::SchedulerOptions scheduler_options(const config::Config& c) {
  scheduler::SchedulerOptions o;
  o.concurrency_poll_interval = c.scheduler.concurrency_poll_interval;
  o.credit_poll_interval = c.scheduler.credit_poll_interval;
  o.reconcile_after = c.scheduler.reconcile_after;
  o.stale_call_timeout = c.scheduler.stale_call_timeout;
  o.clock_skew = c.scheduler.clock_skew;
  o.min_credit_balance = c.vocobase.min_credit_balance;
  o.resume_credit_balance = c.vocobase.resume_credit_balance;
  o.error_burst_threshold = c.scheduler.error_burst_threshold;
  o.provider_cooldown = c.scheduler.provider_cooldown;
  o.shutdown_grace = c.scheduler.shutdown_grace;
  o.campaign_defaults = c.defaults.to_spec();
  // A start is written at the latest when the client's token wait for starts and its connect
  // deadline have both run out.
  o.request_timeout = c.vocobase.request_timeout;
  o.start_wait_limit = api::ClientOptions{}.start_queue_timeout + c.vocobase.connect_timeout;
  return o;
}

std::vector<std::string> reveal_all(const std::vector<config::Secret>& secrets) {
  std::vector<std::string> out;
  out.reserve(secrets.size());
  for (const auto& s : secrets) out.push_back(s.reveal());
  return out;
}

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

}  // namespace

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

 private:
  std::optional<Failure> start();
  std::optional<Failure> start_metrics(const config::Config& cfg,
                                       const store::OpenOptions& worker_open);
  void arm_watchdog();
  void arm_status();
  void arm_housekeeping(std::chrono::milliseconds after);
  void housekeeping_round();
  void wait_signals();
  void finish();
  std::string status_line() const;

  // Declared first so it is destroyed last: every component below holds I/O objects of it.
  asio::io_context ioc_{1};
  asio::thread_pool workers_{2};
  std::optional<store::Database> db_;
  std::optional<store::ZoneTable> zones_;
  std::optional<store::InboxRepo> inbox_repo_;
  std::optional<api::StoreInbox> inbox_;
  InboxSink sink_;
  std::shared_ptr<prometheus::Registry> metrics_ = std::make_shared<prometheus::Registry>();
  admin::Registry registry_;
  admin::ProgressTable progress_;
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
  asio::steady_timer retire_timer_{ioc_};
  /// Registered secrets (newest first), then the configured ones.
  [[nodiscard]] std::vector<std::string> secrets_in_force() const;
  /// Puts secrets_in_force() in force on the listener and arms the retirement timer.
  void apply_secrets();
  void on_secret_used(std::size_t index);
  void load_registered_secrets(const std::filesystem::path& state_dir);
  asio::signal_set signals_{ioc_, SIGTERM, SIGINT, SIGHUP};
  asio::steady_timer watchdog_timer_{ioc_};
  asio::steady_timer status_timer_{ioc_};
  asio::steady_timer housekeeping_timer_{ioc_};
  store::PruneRound pruned_;  ///< totals of the housekeeping pass under way
  std::string last_status_;
  bool stopping_ = false;
  bool finished_ = false;
};

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
  auto db = store::Database::open(cfg.store.path, open);
  if (!db) {
    return Failure{exit_store_failure,
                   "cannot open the store " + cfg.store.path + ": " + db.error().message};
  }
  db_.emplace(std::move(*db));
  auto version = db_->user_version();
  spdlog::info("store {} at schema version {}", cfg.store.path,
               version ? *version : store::current_schema_version());
  auto zones = store::ZoneTable::load();
  if (!zones)
    return Failure{exit_runtime_failure, "cannot load the zone table: " + zones.error().message};
  zones_.emplace(std::move(*zones));
  inbox_repo_.emplace(*db_);
  inbox_.emplace(*inbox_repo_);

  // Admin socket: its lock tells whether another instance runs.
  admin::ServerOptions aopts;
  aopts.socket_path = cfg.admin.socket;
  aopts.socket_mode = static_cast<mode_t>(cfg.admin.mode);
  aopts.allowed_uids.assign(cfg.admin.allowed_uids.begin(), cfg.admin.allowed_uids.end());
  aopts.allowed_gids.assign(cfg.admin.allowed_gids.begin(), cfg.admin.allowed_gids.end());
  aopts.max_request_bytes = cfg.admin.max_request_bytes;
  std::shared_ptr<AdminHandlers*> handlers_slot = std::make_shared<AdminHandlers*>(nullptr);
  auto server = admin::Server::listen(ioc_.get_executor(), registry_, aopts,
                                      [handlers_slot](const admin::AuditEvent& e) {
                                        if (*handlers_slot != nullptr)
                                          (*handlers_slot)->audit_hook()(e);
                                      });
  if (!server) {
    if (server.error().code == make_error_code(errc::conflict)) {
      return Failure{exit_locked, "another dialerd is running: " + server.error().message};
    }
    return Failure{exit_runtime_failure,
                   "cannot listen on " + cfg.admin.socket + ": " + server.error().message};
  }
  admin_ = std::move(*server);

  // Webhook listener, with the configured secrets and the one `webhook register` kept.
  load_registered_secrets(std::filesystem::absolute(cfg.store.path).parent_path());
  api::WebhookServerOptions wopts;
  wopts.listen = cfg.webhook.listen.to_string();
  wopts.webhook.path = cfg.webhook.path;
  wopts.webhook.secrets = secrets_in_force();
  if (wopts.webhook.secrets.empty()) {
    spdlog::warn(
        "no webhook secret: every delivery is refused and outcomes are polled until "
        "`dialerctl webhook register` (or webhook.secrets_file) provides one");
  }
  wopts.webhook.tolerance = cfg.webhook.tolerance;
  wopts.max_connections = static_cast<std::size_t>(cfg.webhook.max_connections);
  wopts.idle_timeout = cfg.webhook.idle_timeout;
  auto webhook =
      api::WebhookServer::create(ioc_.get_executor(), wopts, *inbox_, sink_, clock_, metrics_);
  if (!webhook) {
    return Failure{exit_runtime_failure, "cannot listen for webhooks on " + wopts.listen + ": " +
                                             webhook.error().message};
  }
  webhook_ = std::move(*webhook);
  webhook_address_ = webhook_->local_address();
  webhook_->on_secret_used([this](std::size_t index) { on_secret_used(index); });
  apply_secrets();

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
      scheduler::SchedulerDeps{*executor_, *db_, *platform_, &parse_session_outcome,
                               metrics_.get()},
      scheduler_options(cfg));
  sink_.attach(scheduler_.get());

  store::OpenOptions worker_open = open;
  worker_open.migrate = false;
  worker_open.busy_timeout = kWorkerBusyTimeout;  // workers may wait for the loop's writes
  const auto db_dir = std::filesystem::absolute(cfg.store.path).parent_path();
  forecast_ = std::make_unique<ForecastCommand>(
      ForecastDeps{registry_, progress_, *scheduler_, self_, clock_, workers_.get_executor(),
                   cfg.store.path, db_dir, &parse_session_outcome});
  account_ = std::make_unique<AccountCommands>(
      AccountCommandDeps{registry_, *client_, *scheduler_, *db_, self_, secrets_, clock_});
  handlers_ = std::make_unique<AdminHandlers>(
      AdminDeps{registry_, progress_, *db_, cfg.store.path, worker_open, *scheduler_, self_,
                *zones_, clock_, workers_.get_executor(), db_dir, account_->start_check(),
                [this](const std::string& campaign) { return forecast_->last_of(campaign); }});
  *handlers_slot = handlers_.get();
  if (auto r = account_->register_all(); !r) {
    return Failure{exit_runtime_failure, "admin commands: " + r.error().message};
  }
  if (auto r = forecast_->register_all(); !r) {
    return Failure{exit_runtime_failure, "admin commands: " + r.error().message};
  }
  if (auto failure = start_metrics(cfg, worker_open)) return failure;
  if (auto r = handlers_->register_all(); !r) {
    return Failure{exit_runtime_failure, "admin commands: " + r.error().message};
  }

  // Imports interrupted by a crash are rolled back (still staging) or finished (past their
  // commit point) before the scheduler looks at contacts.
  if (auto r = store::recover_imports(*db_); !r) {
    return Failure{exit_store_failure, "import recovery failed: " + r.error().message};
  } else if (r->rolled_back + r->completed > 0) {
    spdlog::info("imports recovered: {} rolled back, {} completed", r->rolled_back, r->completed);
  }

  if (auto r = scheduler_->recover(); !r) {
    return Failure{r.error().code == make_error_code(errc::db_error) ? exit_store_failure
                                                                     : exit_runtime_failure,
                   "recovery failed: " + r.error().message};
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

std::optional<Failure> Daemon::Impl::start_metrics(const config::Config& cfg,
                                                   const store::OpenOptions& worker_open) {
  daemon_metrics_.emplace(*metrics_);
  if (!cfg.metrics.listen) {
    spdlog::info("metrics.listen is off: no /metrics");
    return std::nullopt;
  }
  api::WebhookServerOptions mopts;
  mopts.listen = cfg.metrics.listen->to_string();
  mopts.webhook.serve_webhook = false;
  mopts.webhook.serve_metrics = true;
  mopts.max_connections = 16;
  auto server =
      api::WebhookServer::create(ioc_.get_executor(), mopts, *inbox_, sink_, clock_, metrics_);
  if (!server) {
    return Failure{exit_runtime_failure, "cannot listen for metrics on " + mopts.listen + ": " +
                                             server.error().message +
                                             " (set metrics.listen, or \"\" to turn it off)"};
  }
  metrics_server_ = std::move(*server);
  metrics_address_ = metrics_server_->local_address();
  const std::string db_path = cfg.store.path;
  metrics_server_->on_scrape([this, db_path, worker_open] {
    client_->update_metrics();
    webhook_->refresh_metrics();
    daemon_metrics_->refresh_process();
    // The per-campaign contact counts scan the store: never on the event loop. A worker reads
    // them on its own connection at most every kCountsEvery; a scrape shows the last reading.
    const auto now = std::chrono::steady_clock::now();
    if (counts_running_->load() || (counts_read_at_ && now - *counts_read_at_ < kCountsEvery)) {
      return;
    }
    counts_read_at_ = now;
    counts_running_->store(true);
    asio::post(workers_, [running = counts_running_, metrics = &*daemon_metrics_, db_path,
                          worker_open, t = clock_.now()] {
      if (auto db = store::Database::open(db_path, worker_open)) {
        store::ContactRepo contacts(*db);
        if (auto counts = contacts.counts_of_all(t)) {
          metrics->apply(*counts);
        } else {
          spdlog::warn("metrics: campaign contact counts: {}", counts.error().what());
        }
      }
      running->store(false);
    });
  });
  return std::nullopt;
}

int Daemon::Impl::run() {
  // A client that closes its end while an export is written must not kill the daemon.
  std::signal(SIGPIPE, SIG_IGN);
  spdlog::info("dialerd {} starting (config {})", dialer::version(), config_path_);
  if (auto failure = start()) {
    spdlog::critical("{}", failure->message);
    notifier_->notify("STATUS=failed: " + failure->message);
    if (admin_) admin_->stop();
    if (webhook_) webhook_->stop();
    if (metrics_server_) metrics_server_->stop();
    if (client_) client_->shutdown();
    ioc_.restart();
    ioc_.run_for(std::chrono::seconds(2));
    workers_.join();
    return failure->code;
  }
  spdlog::info("ready: admin socket {}, webhook listener http://{}{}, API {}",
               config_->admin.socket, webhook_address_, config_->webhook.path, client_->base_url());
  last_status_ = status_line();
  notifier_->notify("READY=1\nSTATUS=" + last_status_ + "\nMAINPID=" + std::to_string(::getpid()));
  wait_signals();
  arm_watchdog();
  arm_status();
  arm_housekeeping(std::chrono::milliseconds{0});

  ioc_.run();
  // The loop was stopped by finish(): let what is already under way (the answer to a
  // `shutdown` command, closing connections) complete, within a bound.
  ioc_.restart();
  ioc_.run_for(std::chrono::seconds(5));
  workers_.join();
  spdlog::info("dialerd stopped");
  return exit_ok;
}

std::string Daemon::Impl::status_line() const {
  if (!scheduler_) return "starting";
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

// Housekeeping: a pass at start and every hour, in rounds of bounded deletes so a large backlog
// never holds the loop (or the store's write lock) for long.
constexpr std::int64_t kPruneBatch = 2000;
constexpr auto kHousekeepingEvery = std::chrono::hours{1};
constexpr auto kBetweenPruneRounds = std::chrono::milliseconds{50};

void Daemon::Impl::arm_housekeeping(std::chrono::milliseconds after) {
  housekeeping_timer_.expires_after(after);
  housekeeping_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec || finished_ || stopping_) return;
    housekeeping_round();
  });
}

void Daemon::Impl::housekeeping_round() {
  const auto& sc = config_->store;  // read each round: a reload applies at once
  auto round =
      store::prune_round(*db_, clock_.now(), sc.inbox_retention, sc.audit_retention, kPruneBatch);
  if (!round) {
    spdlog::warn("housekeeping: {}; tried again in an hour", round.error().what());
    pruned_ = {};
    arm_housekeeping(kHousekeepingEvery);
    return;
  }
  pruned_.inbox += round->inbox;
  pruned_.audit += round->audit;
  if (round->more) {
    arm_housekeeping(kBetweenPruneRounds);
    return;
  }
  if (pruned_.inbox > 0 || pruned_.audit > 0) {
    spdlog::info(
        "housekeeping: deleted {} applied webhook inbox row(s) older than {}, {} audit "
        "entr{} older than {}",
        pruned_.inbox, format_duration(sc.inbox_retention), pruned_.audit,
        pruned_.audit == 1 ? "y" : "ies", format_duration(sc.audit_retention));
  }
  pruned_ = {};
  arm_housekeeping(kHousekeepingEvery);
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

config::Checked<config::ReloadDiff> Daemon::Impl::reload() {
  std::timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  const auto usec = static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000u +
                    static_cast<std::uint64_t>(ts.tv_nsec) / 1000u;
  notifier_->notify("RELOADING=1\nMONOTONIC_USEC=" + std::to_string(usec) + "\nSTATUS=reloading " +
                    config_path_);
  auto fresh = config::load_file(config_path_, env_);
  if (!fresh) {
    spdlog::error("reload: {} is invalid; still running on the previous config:", config_path_);
    for (const auto& d : fresh.error()) spdlog::error("  {}", d.to_string());
    notifier_->notify("READY=1\nSTATUS=" + status_line() + " (last reload failed)");
    return fresh.error();
  }
  config::ReloadDiff diff = config::reload_diff(*config_, *fresh);
  diff.needs_restart = keys_needing_restart(diff);
  // What only a restart applies stays as it is in force (config-get shows both); a file put
  // back to what runs is then no change at all.
  file_config_ = std::make_unique<config::Config>(*fresh);
  auto next = std::make_unique<config::Config>(
      config::in_force_after_reload(*config_, std::move(*fresh), diff.needs_restart));
  setup_logging(next->logging);
  if (client_) client_->apply_reload(client_options(*next));
  // A 401 stopped dialling; a new key is the operator's answer to it.
  if (scheduler_ && next->vocobase.api_key.reveal() != config_->vocobase.api_key.reveal() &&
      scheduler_->status().account_block == scheduler::AccountBlock::auth) {
    spdlog::info("reload: new API key; dialling resumes");
    scheduler_->clear_account_block();
  }
  if (scheduler_) scheduler_->update_options(scheduler_options(*next));
  config_ = std::move(next);
  apply_secrets();
  std::string changed;
  for (const auto& k : diff.changed) changed += (changed.empty() ? "" : ", ") + k;
  std::string restart;
  for (const auto& k : diff.needs_restart) restart += (restart.empty() ? "" : ", ") + k;
  spdlog::info("config reloaded: {}", changed.empty() ? "nothing changed" : "changed " + changed);
  if (!restart.empty()) spdlog::warn("config reload: a restart is needed to apply {}", restart);
  last_status_ = status_line();
  notifier_->notify("READY=1\nSTATUS=" + last_status_);
  return diff;
}

std::vector<std::string> Daemon::Impl::secrets_in_force() const {
  std::vector<std::string> out;
  if (registration_) out = registration_->accepted();
  for (auto& s : reveal_all(config_->webhook.secrets)) {
    if (std::find(out.begin(), out.end(), s) == out.end()) out.push_back(std::move(s));
  }
  return out;
}

void Daemon::Impl::load_registered_secrets(const std::filesystem::path& state_dir) {
  registration_file_ = registration_path(state_dir);
  auto loaded = load_registration(registration_file_);
  if (!loaded) {
    // Outcomes are still polled without it: report loudly, keep dialling.
    spdlog::error("webhook endpoint file unusable, its secrets are not in force: {}",
                  loaded.error().message);
    return;
  }
  registration_ = std::move(*loaded);
  if (registration_) {
    if (registration_->expire(clock_.now()))
      (void)save_registration(registration_file_, *registration_);
    spdlog::info("webhook endpoint {} ({}) registered by this daemon: {} secret(s) in force",
                 registration_->endpoint_id, registration_->url, registration_->secrets.size());
  }
}

void Daemon::Impl::apply_secrets() {
  if (!webhook_) return;
  webhook_->set_secrets(secrets_in_force());
  retire_timer_.cancel();
  if (!registration_) return;
  const auto at = registration_->next_retirement();
  if (!at) return;
  const auto wait =
      std::max<Millis>(Millis{0}, std::chrono::duration_cast<Millis>(*at - clock_.now()));
  retire_timer_.expires_after(wait + Millis{1});
  retire_timer_.async_wait([this](boost::system::error_code ec) {
    if (ec || !registration_) return;
    if (registration_->expire(clock_.now())) {
      if (auto s = save_registration(registration_file_, *registration_); !s) {
        spdlog::error("webhook endpoint file: {}", s.error().message);
      }
      spdlog::info("webhook endpoint {}: the previous secret retired (rotation overlap ended)",
                   registration_->endpoint_id);
    }
    apply_secrets();
  });
}

void Daemon::Impl::on_secret_used(std::size_t index) {
  // Index 0 is the newest registered secret; older registered ones follow it.
  if (!registration_ || index != 0 || registration_->secrets.size() <= 1) return;
  registration_->newest_used();
  if (auto s = save_registration(registration_file_, *registration_); !s) {
    spdlog::error("webhook endpoint file: {}", s.error().message);
  }
  spdlog::info(
      "webhook endpoint {}: a delivery signed with the new secret arrived; the previous "
      "secret is retired",
      registration_->endpoint_id);
  apply_secrets();
}

void Daemon::Impl::request_shutdown(std::string reason) {
  if (stopping_) {
    spdlog::info("{}: already shutting down", reason);
    return;
  }
  stopping_ = true;
  spdlog::info("{}: shutting down (calls in flight get up to {} to settle)", reason,
               format_duration(config_->scheduler.shutdown_grace));
  notifier_->notify("STOPPING=1\nSTATUS=stopping");
  if (handlers_) handlers_->cancel_jobs();
  if (forecast_) forecast_->cancel();
  // Stop taking commands; the answer being written (e.g. to `shutdown`) still goes out.
  asio::post(ioc_, [this] {
    if (admin_) admin_->stop();
    if (!scheduler_) {
      finish();
      return;
    }
    // Webhooks keep being received until the scheduler has settled what it had sent.
    scheduler_->shutdown([this] { finish(); });
  });
}

void Daemon::Impl::finish() {
  if (finished_) return;
  finished_ = true;
  // The scheduler has said how it stopped (every start settled, or which were left).
  if (webhook_) webhook_->stop();
  if (metrics_server_) metrics_server_->stop();
  if (client_) client_->shutdown();
  boost::system::error_code ignored;
  signals_.cancel(ignored);
  watchdog_timer_.cancel();
  status_timer_.cancel();
  housekeeping_timer_.cancel();
  retire_timer_.cancel();
  ioc_.stop();
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

}  // namespace dialer::daemon
