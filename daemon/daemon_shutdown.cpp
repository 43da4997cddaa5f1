// Shutdown: a graceful stop (commands refused, calls in flight given shutdown_grace to settle,
// then the listeners, the API client and the timers stopped) and the teardown after a failed
// start.

#include "daemon/daemon_impl.hpp"

#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

#include <chrono>

namespace dialer::daemon {

namespace asio = boost::asio;

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
  lease_timer_.cancel();
  if (lease_ && role_ != Role::standby) {
    // A clean stop hands the lease over now rather than when the session closes.
    if (auto r = lease_->release(); !r) spdlog::warn("releasing the lease: {}", r.error().message);
  }
  boost::system::error_code ignored;
  signals_.cancel(ignored);
  watchdog_timer_.cancel();
  status_timer_.cancel();
  housekeeping_timer_.cancel();
  retire_timer_.cancel();
  ioc_.stop();
}

void Daemon::Impl::stop_after_failed_start() {
  if (admin_) admin_->stop();
  if (webhook_) webhook_->stop();
  if (metrics_server_) metrics_server_->stop();
  if (client_) client_->shutdown();
  ioc_.restart();
  ioc_.run_for(std::chrono::seconds(2));
  workers_.join();
}

}  // namespace dialer::daemon
