#include "api/admin/registry.hpp"

#include <boost/json/array.hpp>

#include <exception>

namespace dialer::admin {

namespace json = boost::json;

namespace {

bool valid_command_name(std::string_view name) noexcept {
  if (name.empty() || name.size() > 64) return false;
  if (name.front() < 'a' || name.front() > 'z') return false;
  for (const char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

Registry::Registry() {
  auto listed = add_sync("list-commands", "list the commands this daemon answers",
                         Effect::read_only, [this](Request&) {
                           json::array names;
                           json::object help;
                           for (const auto& [name, entry] : entries_) {
                             names.emplace_back(name);
                             help[name] = entry.info.help;
                           }
                           json::object args;
                           args["commands"] = std::move(names);
                           args["help"] = std::move(help);
                           return Response::success(std::to_string(entries_.size()) + " commands",
                                                    std::move(args));
                         });
  (void)listed;  // cannot fail: the registry is empty and the name is valid
}

Result<void> Registry::add(std::string name, std::string help, Effect effect, Handler handler) {
  if (!valid_command_name(name)) {
    return Error(errc::invalid_argument, "invalid command name '" + name + "'");
  }
  if (!handler) return Error(errc::invalid_argument, "command '" + name + "' has no handler");
  if (entries_.contains(name)) {
    return Error(errc::duplicate, "command '" + name + "' is already registered");
  }
  CommandInfo info{name, std::move(help), effect};
  entries_.emplace(std::move(name), Entry{std::move(info), std::move(handler)});
  return {};
}

Result<void> Registry::add_sync(std::string name, std::string help, Effect effect,
                                SyncHandler handler) {
  if (!handler) return Error(errc::invalid_argument, "command '" + name + "' has no handler");
  return add(std::move(name), std::move(help), effect,
             [h = std::move(handler)](Request request) -> boost::asio::awaitable<Response> {
               co_return h(request);
             });
}

bool Registry::remove(std::string_view name) {
  const auto it = entries_.find(name);
  if (it == entries_.end()) return false;
  entries_.erase(it);
  return true;
}

std::vector<CommandInfo> Registry::commands() const {
  std::vector<CommandInfo> out;
  out.reserve(entries_.size());
  for (const auto& [name, entry] : entries_) out.push_back(entry.info);
  return out;
}

std::optional<Effect> Registry::effect_of(std::string_view name) const {
  const auto it = entries_.find(name);
  if (it == entries_.end()) return std::nullopt;
  return it->second.info.effect;
}

boost::asio::awaitable<Response> Registry::dispatch(Request request) {
  const auto it = entries_.find(request.command);
  if (it == entries_.end()) {
    co_return Response{ResultCode::unknown_command,
                       "unknown command '" + request.command + "' (see list-commands)",
                       {}};
  }
  if (gate_ && request.command != "list-commands") {
    if (auto refused = gate_(request.command, it->second.info.effect)) co_return *refused;
  }
  // A copy in this frame: the handler's captures must outlive its coroutine even if the
  // command is removed from the registry while it runs.
  const Handler handler = it->second.handler;
  const std::string command = request.command;
  std::string failure;
  try {
    co_return co_await handler(std::move(request));
  } catch (const std::exception& e) {
    failure = e.what();
  } catch (...) {
    failure = "unknown exception";
  }
  co_return Response::error(command + " failed: " + failure);
}

}  // namespace dialer::admin
