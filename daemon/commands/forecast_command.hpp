#pragma once
/// `campaign-forecast` (CONTRACT.md): runs scheduler/forecast on a worker thread — a copy of the
/// store, the real scheduler in simulated time — with a progress id like imports, a bounded run
/// time, and keeps the last answer per campaign for `watch`.

#include "api/admin/progress.hpp"
#include "api/admin/registry.hpp"
#include "core/time.hpp"
#include "daemon/admin_handlers.hpp"
#include "scheduler/scheduler.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/json/object.hpp>

#include <atomic>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>

namespace dialer::daemon {

struct ForecastDeps {
  admin::Registry& registry;
  admin::ProgressTable& progress;
  scheduler::Scheduler& scheduler;
  DaemonControl& control;
  const Clock& clock;
  boost::asio::any_io_executor worker;
  std::string db_path;  ///< the SQLite store; "" with PostgreSQL (no forecast there)
  std::filesystem::path scratch_dir;
  scheduler::SessionParser parse_session;
};

class ForecastCommand {
 public:
  explicit ForecastCommand(ForecastDeps deps) : d_(std::move(deps)) {}
  Result<void> register_all();
  /// Asks a running forecast to stop (shutdown).
  void cancel() { stop_.request_stop(); }
  /// The last forecast's finish of `campaign` (name), when one was made: {finish_at, made_at}.
  [[nodiscard]] std::optional<boost::json::object> last_of(const std::string& campaign) const;

 private:
  boost::asio::awaitable<admin::Response> forecast(admin::Request r);

  ForecastDeps d_;
  std::stop_source stop_;
  std::shared_ptr<std::atomic<bool>> running_ = std::make_shared<std::atomic<bool>>(false);
  mutable std::mutex mutex_;
  std::map<std::string, boost::json::object> last_;
};

}  // namespace dialer::daemon
