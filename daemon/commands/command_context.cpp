#include "daemon/commands/command_context.hpp"

#include "daemon/admin_args.hpp"

namespace dialer::daemon {

using admin::Request;
using admin::Response;

CommandContext::CommandContext(AdminDeps deps, std::shared_ptr<std::atomic<int>> running)
    : d(std::move(deps)), jobs(std::move(running), d.worker, d.connect) {}

Result<void> CommandContext::add(std::string name, std::string help, admin::Effect effect,
                                 SyncCommand fn) {
  return d.registry.add_sync(std::move(name), std::move(help), effect,
                             [this, fn](Request& r) { return fn(*this, r); });
}

Result<void> CommandContext::add(std::string name, std::string help, admin::Effect effect,
                                 AsyncCommand fn) {
  return d.registry.add(std::move(name), std::move(help), effect,
                        [this, fn](Request r) { return fn(*this, std::move(r)); });
}

std::string CommandContext::actor(const Request& r) {
  return "uid:" + std::to_string(r.peer.uid);
}

std::string CommandContext::files_dir() const {
  return d.control.config().admin.files_dir;
}

std::variant<store::CampaignRow, Response> CommandContext::find_campaign(
    const boost::json::object& args, bool lookup) {
  auto name = req_string(args, "campaign");
  if (!name) return bad(name.error());
  auto& repo = d.store.campaigns();
  auto row = repo.find(*name);
  if (!row) return Response::error(row.error().message);
  if (!*row) return no_campaign(*name, lookup);
  return std::move(**row);
}

}  // namespace dialer::daemon
