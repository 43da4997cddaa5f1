#pragma once
/// Every admin command of CONTRACT.md ("Admin socket protocol") on the admin Registry, with the
/// exact result codes: 0 success, 1 bad input (the text says exactly what), 2 unknown command
/// (the registry's), 3 success with nothing found, 4 conflict with the current state.
///
/// The handlers only translate: arguments are checked there, the work is the scheduler's
/// (lifecycle), the store's (lists, DNC, import, export) or the daemon's (config, shutdown).
/// Each module of daemon/commands/ registers the commands it owns (campaign_commands,
/// contacts_commands, dnc_commands, daemon_commands); AdminHandlers owns what they share and
/// registers them all. Long work — a contacts import, an export, a DNC import — runs on a worker
/// executor with its own database connection (commands/jobs.hpp) so the event loop keeps
/// dialling meanwhile.

#include "api/admin/progress.hpp"
#include "api/admin/registry.hpp"
#include "api/admin/server.hpp"
#include "api/webhook/stats.hpp"
#include "config/config.hpp"
#include "core/errc.hpp"
#include "core/time.hpp"
#include "scheduler/scheduler.hpp"
#include "store/campaign_repo.hpp"
#include "store/sql/database.hpp"
#include "store/zones.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/json/object.hpp>

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace dialer::daemon {

/// This node's part in a pair of dialerd on one PostgreSQL (status-get `role`). SQLite: always
/// standalone.
struct RoleView {
  /// standalone (SQLite), leader (dials), standby (holds no lease: read-only), taking_over
  /// (holds the lease, recovering before it dials).
  std::string role = "standalone";
  std::string node;  ///< this node's name; "" when standalone
  /// Who leads per the lease row (this node when leader); unset while unknown.
  std::optional<std::string> leader;
  std::optional<TimePoint> leader_since;
  std::int64_t epoch = 0;       ///< the lease epoch last seen
  std::uint64_t takeovers = 0;  ///< times this process took the lease over from another node
  [[nodiscard]] bool dials() const { return role == "standalone" || role == "leader"; }
};

/// What status-get and systemd's STATUS= say of the role before any figures: "leader (node a):
/// " for a leader, "standby (node b), not dialling; leader a since …" for a node that does not
/// dial, "" standalone.
inline std::string role_text(const RoleView& v) {
  if (v.role == "standalone") return {};
  if (v.dials()) return v.role + " (node " + v.node + "): ";
  std::string text = v.role + " (node " + v.node + "), not dialling";
  if (v.role == "standby" && v.leader) {
    text +=
        "; leader " + *v.leader + " since " + format_iso8601(v.leader_since.value_or(TimePoint{}));
  }
  return text;
}

/// What the admin commands need from the running daemon itself. Implemented by Daemon; tests
/// implement it with plain values.
class DaemonControl {
 public:
  virtual ~DaemonControl() = default;
  /// The config in force.
  [[nodiscard]] virtual const config::Config& config() const = 0;
  /// The config as the file read last says (differs from config() in keys that wait for a
  /// restart).
  [[nodiscard]] virtual const config::Config& file_config() const = 0;
  /// The config file the daemon reads (and re-reads on reload).
  [[nodiscard]] virtual std::string config_path() const = 0;
  /// The webhook listener's bound address, "host:port" (the real port when 0 was asked for).
  [[nodiscard]] virtual std::string webhook_listen() const = 0;
  /// The metrics listener's bound address; "" when metrics.listen is off.
  [[nodiscard]] virtual std::string metrics_listen() const = 0;
  /// Deliveries the webhook listener stored and refused (status-get `webhooks`).
  [[nodiscard]] virtual api::WebhookSnapshot webhook_stats() const = 0;
  /// Time since the daemon started.
  [[nodiscard]] virtual Millis uptime() const = 0;
  /// Reads and validates the config file again and swaps it in whole; the diagnostics when it
  /// is invalid (the old config stays in force).
  virtual config::Checked<config::ReloadDiff> reload() = 0;
  /// Begins a graceful shutdown soon (after the current admin answer is written).
  virtual void request_shutdown(std::string reason) = 0;
  /// Leader, standby or standalone.
  [[nodiscard]] virtual RoleView role() const { return {}; }
};

/// What campaign-start asks before starting a draft (account-check's agent and provider rows):
/// the refusal to answer (result 4), or nullopt to go ahead.
using StartCheck =
    std::function<boost::asio::awaitable<std::optional<admin::Response>>(store::CampaignRow)>;

/// Everything the handlers use; all must outlive the AdminHandlers.
struct AdminDeps {
  admin::Registry& registry;
  admin::ProgressTable& progress;
  /// The event loop's store session (short reads and writes).
  store::Store& store;
  /// Opens a worker thread's own connection (imports, exports, DNC imports).
  store::Connector connect;
  scheduler::Scheduler& scheduler;
  DaemonControl& control;
  const store::ZoneTable& zones;
  const Clock& clock;
  /// Runs long jobs off the event loop (a thread pool's executor).
  boost::asio::any_io_executor worker;
  /// A private directory of the daemon (beside the database) for temporary files.
  std::filesystem::path scratch_dir;
  /// Run by campaign-start for a draft; empty = start without asking the API.
  StartCheck start_check{};
  /// The last campaign-forecast of a campaign ({finish_at, made_at}); shown by campaign-list and
  /// campaign-stats (watch's forecast column). Empty = none kept.
  std::function<std::optional<boost::json::object>(const std::string&)> forecast_of{};
};

/// The commands of CONTRACT.md this file registers (list-commands is the registry's own).
std::span<const std::string_view> contract_commands();

/// Registers the command modules and keeps the state they share (running jobs).
class AdminHandlers {
 public:
  explicit AdminHandlers(AdminDeps deps);
  ~AdminHandlers();
  AdminHandlers(const AdminHandlers&) = delete;
  AdminHandlers& operator=(const AdminHandlers&) = delete;

  /// Adds every command of contract_commands() plus `import-progress`. Call once.
  Result<void> register_all();

  /// The hook the admin server calls after every state-changing command: one audit_log row
  /// (actor uid:N, command, subject, arguments without secrets, result).
  [[nodiscard]] admin::AuditHook audit_hook();

  /// Asks running imports to stop (shutdown): they fail, writing nothing.
  void cancel_jobs();
  /// Imports and exports running now.
  [[nodiscard]] int jobs_running() const noexcept { return jobs_->load(); }

  class Impl;

 private:
  std::unique_ptr<Impl> impl_;
  std::shared_ptr<std::atomic<int>> jobs_;
};

}  // namespace dialer::daemon
