#pragma once
/// The admin control socket (CONTRACT.md "Admin socket protocol", STYLE.md item 10): a Unix
/// stream socket, one JSON request per connection, answered from the command Registry.

#include "api/admin/protocol.hpp"
#include "api/admin/registry.hpp"
#include "core/errc.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/json/object.hpp>

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <sys/types.h>
#include <vector>

namespace dialer::admin {

/// How the socket is set up and what each connection may do.
struct ServerOptions {
  std::filesystem::path socket_path = "/run/dialerd/admin.sock";
  mode_t socket_mode = 0660;  ///< applied with chmod before the socket appears at its path
  /// Peers allowed in: a peer whose uid is listed, or whose primary or supplementary group is
  /// listed, is let in. Both lists empty = everybody who can reach the socket file.
  std::vector<uid_t> allowed_uids;
  std::vector<gid_t> allowed_gids;
  std::size_t max_request_bytes = 1024 * 1024;
  /// Longest wait for the next request byte; the whole answer must be written within this too.
  std::chrono::milliseconds idle_timeout{10'000};
  std::size_t max_fds = 8;           ///< descriptors accepted with one request (at most 64)
  std::size_t max_connections = 32;  ///< concurrent connections; more are answered "busy"
  int backlog = 64;
};

/// One audited command (refusals and state-changing commands).
struct AuditEvent {
  PeerCredentials peer;
  std::string command;            ///< empty if a refused peer sent no readable command
  boost::json::object arguments;  ///< with secret-looking members removed
  ResultCode result = ResultCode::success;
  std::string text;
};

/// Called on the event loop after every state-changing command and every refused peer. The
/// daemon wires it to the store's audit log. Exceptions are caught and logged.
using AuditHook = std::function<void(const AuditEvent&)>;

/// The peer check: true when both lists are empty, the uid is allowed, or the primary or a
/// supplementary group is allowed.
bool is_peer_allowed(const PeerCredentials& peer, const std::vector<uid_t>& allowed_uids,
                     const std::vector<gid_t>& allowed_gids);

/// The listening admin socket. Create with `listen`, then `start`. Use from the event-loop
/// thread (or while the loop is not running). The Registry and the hook must outlive every
/// connection, i.e. the io_context's run.
class Server {
 public:
  /// Creates the socket's parent directory (mode 0750) when missing, takes an exclusive flock on
  /// `<socket>.lock`, binds a fresh socket under a temporary name, applies `socket_mode`, listens
  /// and renames it over the socket path, replacing a stale socket left by a dead instance.
  /// Errors: errc::conflict exactly when another live process holds the lock (dialerd exits 5);
  /// errc::invalid_argument for an unusable path; errc::io_error for anything else.
  static Result<std::unique_ptr<Server>> listen(boost::asio::any_io_executor executor,
                                                Registry& registry, ServerOptions options,
                                                AuditHook audit = {});
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  /// Begins accepting connections.
  void start();
  /// Stops accepting, removes the socket file and releases the lock. Connections in progress
  /// finish (each is bounded by its deadlines; a running handler is not interrupted).
  void stop();

  [[nodiscard]] const std::filesystem::path& socket_path() const noexcept;

  struct State;

 private:
  explicit Server(std::shared_ptr<State> state);
  std::shared_ptr<State> state_;
};

}  // namespace dialer::admin
