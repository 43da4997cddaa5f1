#pragma once
/// What the admin command modules of AdminHandlers share: the daemon's parts (AdminDeps), the
/// long jobs, and the steps every handler takes (registering, naming the actor, finding the
/// campaign an argument names). Owned by AdminHandlers, which outlives every handler.

#include "api/admin/registry.hpp"
#include "daemon/admin_handlers.hpp"
#include "daemon/commands/jobs.hpp"
#include "store/campaign_repo.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/json/object.hpp>

#include <atomic>
#include <memory>
#include <string>
#include <variant>

namespace dialer::daemon {

struct CommandContext;

/// A handler that answers at once, on the event loop.
using SyncCommand = admin::Response (*)(CommandContext&, admin::Request&);
/// A handler that may suspend (a job on the worker, the account check).
using AsyncCommand = boost::asio::awaitable<admin::Response> (*)(CommandContext&, admin::Request);

struct CommandContext {
  CommandContext(AdminDeps deps, std::shared_ptr<std::atomic<int>> running);
  CommandContext(const CommandContext&) = delete;
  CommandContext& operator=(const CommandContext&) = delete;

  /// Registers `fn` as `name` on the admin Registry.
  Result<void> add(std::string name, std::string help, admin::Effect effect, SyncCommand fn);
  Result<void> add(std::string name, std::string help, admin::Effect effect, AsyncCommand fn);

  /// "uid:N", the audit log's actor.
  static std::string actor(const admin::Request& r);
  /// admin.files_dir as in force now (a reload changes it).
  [[nodiscard]] std::string files_dir() const;
  /// The campaign named by the `campaign` argument; a Response when there is none.
  std::variant<store::CampaignRow, admin::Response> find_campaign(const boost::json::object& args,
                                                                  bool lookup);

  AdminDeps d;
  Jobs jobs;
};

}  // namespace dialer::daemon
