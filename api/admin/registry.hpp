#pragma once
/// The admin command registry: each module registers the commands it owns, by name, with a
/// one-line help and whether the command changes state (those are audited).

#include "api/admin/protocol.hpp"
#include "core/errc.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace dialer::admin {

/// Whether a command changes daemon state; every state-changing command is audited.
enum class Effect { read_only, changes_state };

/// A command handler: a coroutine on the server's executor. It may suspend (e.g. `run_on` a
/// worker thread for a long import) without blocking other connections. Throwing is allowed:
/// the exception text becomes a result-1 answer (this is a task boundary).
using Handler = std::function<boost::asio::awaitable<Response>(Request)>;
/// A handler that answers at once, on the event loop.
using SyncHandler = std::function<Response(Request&)>;

/// What `list-commands` tells about a command.
struct CommandInfo {
  std::string name;
  std::string help;
  Effect effect = Effect::read_only;
};

/// Asked before a command runs: a response to answer instead (the command is refused), or
/// nullopt to run it. E.g. a standby node refuses what would change shared state.
using Gate = std::function<std::optional<Response>(std::string_view command, Effect effect)>;

/// Commands by name. `list-commands` is built in. Use from the event-loop thread only.
class Registry {
 public:
  Registry();
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  /// Registers `name` (`[a-z][a-z0-9-]*`, at most 64 characters). Fails with errc::duplicate
  /// when the name is taken, errc::invalid_argument for a bad name or an empty handler.
  Result<void> add(std::string name, std::string help, Effect effect, Handler handler);
  /// Same, for a handler that answers without suspending.
  Result<void> add_sync(std::string name, std::string help, Effect effect, SyncHandler handler);
  /// Unregisters `name`; false if it was not registered. A running call of it finishes.
  bool remove(std::string_view name);

  /// Registered commands, sorted by name.
  [[nodiscard]] std::vector<CommandInfo> commands() const;
  /// The effect of `name`, or nullopt when no such command is registered.
  [[nodiscard]] std::optional<Effect> effect_of(std::string_view name) const;

  /// Puts `gate` in front of every command but list-commands (empty = none).
  void set_gate(Gate gate) { gate_ = std::move(gate); }

  /// Runs the handler for `request.command`: result 2 when unknown, the gate's answer when it
  /// refuses, result 1 with the exception text when the handler throws.
  boost::asio::awaitable<Response> dispatch(Request request);

 private:
  struct Entry {
    CommandInfo info;
    Handler handler;
  };
  std::map<std::string, Entry, std::less<>> entries_;
  Gate gate_;
};

/// Runs `fn` on `worker` (e.g. a thread pool's executor) and resumes the calling coroutine on
/// its own executor with fn's result; an exception from `fn` is rethrown in the caller:
/// `auto n = co_await run_on(pool.get_executor(), [&] { return import(fd); });`
/// GCC 12 caveat: a lambda temporary whose init-captures own resources (`[t = std::move(x)]`)
/// written inside a co_await expression has those captures destroyed more than once. Name such
/// a lambda first and pass it with std::move.
template <class F>
boost::asio::awaitable<std::invoke_result_t<std::decay_t<F>&>> run_on(
    boost::asio::any_io_executor worker, F&& fn) {
  using R = std::invoke_result_t<std::decay_t<F>&>;
  // Deliberately not a coroutine itself: GCC 12 destroys a temporary passed by value to a
  // coroutine inside a co_await expression twice, and callers naturally pass a lambda
  // temporary here. co_spawn keeps the callable in the spawned coroutine's own state.
  return boost::asio::co_spawn(
      std::move(worker),
      [f = std::forward<F>(fn)]() mutable -> boost::asio::awaitable<R> {
        if constexpr (std::is_void_v<R>) {
          f();
          co_return;
        } else {
          co_return f();
        }
      },
      boost::asio::use_awaitable);
}

}  // namespace dialer::admin
