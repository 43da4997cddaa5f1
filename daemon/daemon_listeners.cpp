// The daemon's listeners: the admin socket, the webhook listener with the secrets in force (the
// configured ones and those `dialerctl webhook register|rotate` keeps), and /metrics.

#include "daemon/daemon_impl.hpp"
#include "daemon/dialerd_args.hpp"
#include "store/sql/contacts.hpp"

#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <sys/stat.h>

namespace dialer::daemon {

namespace asio = boost::asio;

namespace {

/// Per-campaign contact counts for /metrics are read at most this often (a store scan).
constexpr auto kCountsEvery = std::chrono::seconds{5};

std::vector<std::string> reveal_all(const std::vector<config::Secret>& secrets) {
  std::vector<std::string> out;
  out.reserve(secrets.size());
  for (const auto& s : secrets) out.push_back(s.reveal());
  return out;
}

}  // namespace

std::optional<Failure> Daemon::Impl::start_admin(const config::Config& cfg) {
  // Admin socket: its lock tells whether another instance runs.
  admin::ServerOptions aopts;
  aopts.socket_path = cfg.admin.socket;
  aopts.socket_mode = static_cast<mode_t>(cfg.admin.mode);
  aopts.allowed_uids.assign(cfg.admin.allowed_uids.begin(), cfg.admin.allowed_uids.end());
  aopts.allowed_gids.assign(cfg.admin.allowed_gids.begin(), cfg.admin.allowed_gids.end());
  aopts.max_request_bytes = cfg.admin.max_request_bytes;
  auto server = admin::Server::listen(ioc_.get_executor(), registry_, aopts,
                                      [handlers_slot = handlers_slot_](const admin::AuditEvent& e) {
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
  return std::nullopt;
}

std::optional<Failure> Daemon::Impl::start_webhook(const config::Config& cfg) {
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
  return std::nullopt;
}

std::optional<Failure> Daemon::Impl::start_metrics(const config::Config& cfg,
                                                   const store::Connector& connect_worker) {
  daemon_metrics_.emplace(*metrics_);
  daemon_metrics_->set_role(role_view().dials(), takeovers_);
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
  metrics_server_->on_scrape([this, connect_worker] {
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
    asio::post(workers_, [running = counts_running_, metrics = &*daemon_metrics_, connect_worker,
                          t = clock_.now()] {
      if (auto db = connect_worker()) {
        if (auto counts = store::SqlContacts(*db).counts_of_all(t)) {
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

}  // namespace dialer::daemon
