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
#include <initializer_list>
#include <memory>
#include <string>
#include <variant>

// GCC 12 at -O2 pairs Asio's recycling coroutine-frame allocator (aligned_alloc) with the
// frame's sized operator delete and warns about a mismatch that is not there: Asio frees those
// frames with the matching aligned free. (In this header: every command module has coroutines.)
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

namespace dialer::daemon {

// The names every command module uses.
namespace asio = boost::asio;
namespace json = boost::json;
using admin::Request;
using admin::Response;

struct CommandContext;

/// The first failed registration of a module's list, or success.
inline Result<void> first_error(std::initializer_list<Result<void>> registrations) {
  for (const auto& r : registrations) {
    if (!r) return r;
  }
  return {};
}

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
