#include "api/admin/server.hpp"

#include "core/errno_text.hpp"
#include "core/use_nothrow.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <exception>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <system_error>
#include <unistd.h>
#include <utility>

namespace dialer::admin {

namespace asio = boost::asio;
namespace json = boost::json;
namespace fs = std::filesystem;
using stream_protocol = asio::local::stream_protocol;

namespace {

/// Upper bound for ServerOptions::max_fds: sizes the control-message buffer.
constexpr std::size_t kMaxFdsCap = 64;
constexpr std::size_t kReadChunk = 64 * 1024;

Error io_failure(const std::string& what, int err) {
  return Error(errc::io_error, what + ": " + errno_text(err));
}

/// Creates `dir` and any missing ancestors with mode 0750.
Result<void> ensure_directory(const fs::path& dir) {
  struct stat st {};
  if (::stat(dir.c_str(), &st) == 0) {
    if (!S_ISDIR(st.st_mode)) {
      return Error(errc::io_error, dir.string() + " exists and is not a directory");
    }
    return {};
  }
  if (errno != ENOENT) return io_failure("cannot access " + dir.string(), errno);
  if (const auto parent = dir.parent_path(); !parent.empty() && parent != dir) {
    if (auto r = ensure_directory(parent); !r) return r;
  }
  if (::mkdir(dir.c_str(), 0750) != 0) {
    if (errno == EEXIST) return {};  // created meanwhile by someone else: not ours to chmod
    return io_failure("cannot create directory " + dir.string(), errno);
  }
  // mkdir's mode passes through the umask; the directory must be exactly 0750.
  if (::chmod(dir.c_str(), 0750) != 0) return io_failure("cannot chmod " + dir.string(), errno);
  return {};
}

PeerCredentials read_peer(int fd) {
  PeerCredentials peer;
  ucred cred{};
  socklen_t len = sizeof cred;
  if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0) {
    peer.uid = cred.uid;
    peer.gid = cred.gid;
    peer.pid = cred.pid;
  }
#ifdef SO_PEERGROUPS
  std::vector<gid_t> groups(32);
  for (int tries = 0; tries < 2; ++tries) {
    auto glen = static_cast<socklen_t>(groups.size() * sizeof(gid_t));
    if (::getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups.data(), &glen) == 0) {
      groups.resize(glen / sizeof(gid_t));
      peer.groups = std::move(groups);
      break;
    }
    if (errno != ERANGE) break;
    groups.resize(glen / sizeof(gid_t) + 1);
  }
#endif
  return peer;
}

/// What a connection sent: a valid request body, or the text of a result-1 answer.
struct Incoming {
  std::optional<RequestBody> body;
  std::string error;
  std::vector<UniqueFd> fds;
};

void log_failure(const char* what, std::exception_ptr e) {
  if (!e) return;
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    spdlog::error("admin: {} failed: {}", what, ex.what());
  } catch (...) {
    spdlog::error("admin: {} failed", what);
  }
}

}  // namespace

bool is_peer_allowed(const PeerCredentials& peer, const std::vector<uid_t>& allowed_uids,
                     const std::vector<gid_t>& allowed_gids) {
  if (allowed_uids.empty() && allowed_gids.empty()) return true;
  const auto has = [](const auto& list, auto v) {
    return std::find(list.begin(), list.end(), v) != list.end();
  };
  if (has(allowed_uids, peer.uid) || has(allowed_gids, peer.gid)) return true;
  return std::any_of(peer.groups.begin(), peer.groups.end(),
                     [&](gid_t g) { return has(allowed_gids, g); });
}

struct Server::State {
  State(asio::any_io_executor ex, Registry& r, ServerOptions o, AuditHook a)
      : strand(asio::make_strand(std::move(ex))),
        registry(r),
        options(std::move(o)),
        audit(std::move(a)),
        acceptor(strand) {}

  asio::strand<asio::any_io_executor> strand;
  Registry& registry;
  ServerOptions options;
  AuditHook audit;
  stream_protocol::acceptor acceptor;
  UniqueFd lock;
  dev_t dev = 0;  ///< identity of the socket file we created, so stop() removes only ours
  ino_t ino = 0;
  bool started = false;
  bool stopped = false;
  std::size_t active = 0;

  void record_audit(const AuditEvent& event) const {
    if (!audit) return;
    try {
      audit(event);
    } catch (const std::exception& e) {
      spdlog::error("admin: audit hook failed for {}: {}", event.command, e.what());
    }
  }
};

namespace {

/// Bytes read and discarded after the answer beyond max_request_bytes before closing anyway.
constexpr std::size_t kMaxDrainExtra = 1024 * 1024;

/// Reads one request (and the descriptors sent with it) within the idle timeout.
asio::awaitable<Incoming> read_request(Server::State& st, stream_protocol::socket& sock,
                                       asio::steady_timer& timer) {
  Incoming in;
  JsonObjectReader reader(st.options.max_request_bytes, "request");
  const std::size_t max_fds = std::min(st.options.max_fds, kMaxFdsCap);
  bool fds_overflow = false;
  std::vector<char> buf(kReadChunk);
  alignas(cmsghdr) std::array<char, CMSG_SPACE(sizeof(int) * kMaxFdsCap)> control{};
  const int fd = sock.native_handle();

  while (reader.status() == JsonObjectReader::Status::need_more) {
    timer.expires_after(st.options.idle_timeout);
    // Whichever finishes first cancels the other (parallel_group rather than the awaitable
    // operators: those take awaitables by value, which GCC 12 miscompiles in co_await).
    auto [order, read_ec, timer_ec] =
        co_await asio::experimental::make_parallel_group(
            sock.async_wait(stream_protocol::socket::wait_read, asio::deferred),
            timer.async_wait(asio::deferred))
            .async_wait(asio::experimental::wait_for_one(), asio::use_awaitable);
    (void)timer_ec;
    if (order[0] == 1) {
      in.error = "timed out after " + std::to_string(st.options.idle_timeout.count()) +
                 "ms waiting for a complete request";
      co_return in;
    }
    if (read_ec) {
      in.error = "cannot read request: " + read_ec.message();
      co_return in;
    }

    iovec iov{buf.data(), buf.size()};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.data();
    msg.msg_controllen = CMSG_SPACE(sizeof(int) * max_fds);
    const ssize_t n = ::recvmsg(fd, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) continue;
      in.error = "cannot read request: " + errno_text(errno);
      co_return in;
    }
    // Take ownership of every descriptor first, so none leaks whatever happens next.
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
      if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
      const std::size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
      for (std::size_t i = 0; i < count; ++i) {
        int passed = -1;
        std::memcpy(&passed, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
        UniqueFd owned(passed);
        if (in.fds.size() < max_fds) {
          in.fds.push_back(std::move(owned));
        } else {
          fds_overflow = true;
        }
      }
    }
    // The kernel drops (and closes) descriptors that did not fit the control buffer.
    if ((msg.msg_flags & MSG_CTRUNC) != 0) fds_overflow = true;

    if (n == 0) {
      reader.finish();
    } else {
      reader.feed(std::string_view(buf.data(), static_cast<std::size_t>(n)));
    }
  }

  if (fds_overflow) {
    in.fds.clear();
    in.error = "too many file descriptors passed (at most " + std::to_string(max_fds) + ")";
    co_return in;
  }
  if (reader.status() == JsonObjectReader::Status::failed) {
    in.error = reader.error();
    co_return in;
  }
  auto body = validate_request(reader.release());
  if (!body) {
    in.error = body.error().what();
    co_return in;
  }
  in.body = std::move(*body);
  co_return in;
}

asio::awaitable<void> run_session(std::shared_ptr<Server::State> st, stream_protocol::socket sock) {
  ++st->active;
  struct Leave {
    Server::State& s;
    ~Leave() { --s.active; }
  } leave{*st};

  asio::steady_timer timer(co_await asio::this_coro::executor);
  const PeerCredentials peer = read_peer(sock.native_handle());
  Response response;
  std::string command;

  if (st->active > st->options.max_connections) {
    response = Response::error("admin socket busy (" + std::to_string(st->options.max_connections) +
                               " connections open), try again");
  } else {
    Incoming in = co_await read_request(*st, sock, timer);
    if (in.body) command = in.body->command;
    if (!is_peer_allowed(peer, st->options.allowed_uids, st->options.allowed_gids)) {
      response = Response::error("permission denied");
      AuditEvent event{peer, command, {}, response.result, response.text};
      if (in.body) event.arguments = strip_secrets(in.body->arguments);
      st->record_audit(event);
      spdlog::warn("admin: refused uid {} gid {} pid {} ({})", peer.uid, peer.gid, peer.pid,
                   command.empty() ? "no command" : command);
    } else if (!in.body) {
      response = Response::error(std::move(in.error));
    } else {
      const auto effect = st->registry.effect_of(command);
      const bool audited = effect == Effect::changes_state;
      json::object audit_args;
      if (audited) audit_args = strip_secrets(in.body->arguments);
      Request request{std::move(in.body->command), std::move(in.body->arguments), peer,
                      std::move(in.fds)};
      response = co_await st->registry.dispatch(std::move(request));
      // A refusal says why in the log too (its first line, shortened), not only to the caller.
      std::string why;
      const int code = to_int(response.result);
      if (code != 0 && code != 3 && !response.text.empty()) {
        why = ": " + response.text.substr(0, std::min(response.text.find('\n'), std::size_t{200}));
      }
      if (audited) {
        st->record_audit(
            AuditEvent{peer, command, std::move(audit_args), response.result, response.text});
        spdlog::info("admin: {} by uid {} pid {}: result {}{}", command, peer.uid, peer.pid, code,
                     why);
      } else {
        spdlog::debug("admin: {} by uid {} pid {}: result {}{}", command, peer.uid, peer.pid, code,
                      why);
      }
    }
  }

  // The trailing newline is for people typing at socat.
  const std::string out = serialize(response) + "\n";
  timer.expires_after(st->options.idle_timeout);
  auto [order, write_ec, written, timer_ec] =
      co_await asio::experimental::make_parallel_group(
          asio::async_write(sock, asio::buffer(out), asio::deferred),
          timer.async_wait(asio::deferred))
          .async_wait(asio::experimental::wait_for_one(), asio::use_awaitable);
  (void)written;
  (void)timer_ec;
  if (order[0] == 1) {
    spdlog::debug("admin: answer to uid {} not written in time", peer.uid);
  } else if (write_ec) {
    spdlog::debug("admin: answer to uid {} not written: {}", peer.uid, write_ec.message());
  }
  // Closing a Unix socket with unread bytes in it resets the connection, and the peer loses the
  // answer it has not read yet (a refused request that was still arriving). So: half-close,
  // then read and discard what is left — bounded in bytes and by the idle timeout — and only
  // then close.
  boost::system::error_code ignored;
  sock.shutdown(stream_protocol::socket::shutdown_send, ignored);
  std::array<char, 16 * 1024> sink{};
  std::size_t drained = 0;
  const std::size_t max_drain = st->options.max_request_bytes + kMaxDrainExtra;
  timer.expires_after(st->options.idle_timeout);
  while (drained < max_drain) {
    auto [dorder, read_ec, n, dtimer_ec] =
        co_await asio::experimental::make_parallel_group(
            sock.async_read_some(asio::buffer(sink), asio::deferred),
            timer.async_wait(asio::deferred))
            .async_wait(asio::experimental::wait_for_one(), asio::use_awaitable);
    (void)dtimer_ec;
    if (dorder[0] == 1 || read_ec) break;
    drained += n;
  }
  sock.shutdown(stream_protocol::socket::shutdown_both, ignored);
  sock.close(ignored);
}

asio::awaitable<void> accept_loop(std::shared_ptr<Server::State> st) {
  for (;;) {
    auto [ec, sock] = co_await st->acceptor.async_accept(use_nothrow);
    if (st->stopped || ec == asio::error::operation_aborted) co_return;
    if (ec) {
      // Out of descriptors or memory: back off instead of spinning on the same error.
      spdlog::warn("admin: accept failed: {}", ec.message());
      asio::steady_timer pause(st->strand, std::chrono::milliseconds(100));
      co_await pause.async_wait(use_nothrow);
      continue;
    }
    asio::co_spawn(st->strand, run_session(st, std::move(sock)),
                   [](std::exception_ptr e) { log_failure("connection", std::move(e)); });
  }
}

}  // namespace

Result<std::unique_ptr<Server>> Server::listen(asio::any_io_executor executor, Registry& registry,
                                               ServerOptions options, AuditHook audit) {
  const fs::path path = options.socket_path;
  const std::string tmp = path.string() + ".tmp";
  if (path.empty() || path.filename().empty()) {
    return Error(errc::invalid_argument, "admin socket path is empty");
  }
  if (tmp.size() >= sizeof(sockaddr_un::sun_path)) {
    return Error(errc::invalid_argument,
                 "admin socket path " + path.string() + " is too long (at most " +
                     std::to_string(sizeof(sockaddr_un::sun_path) - 5) + " bytes)");
  }
  if (const auto parent = path.parent_path(); !parent.empty()) {
    if (auto r = ensure_directory(parent); !r) return r.error();
  }

  auto state =
      std::make_shared<State>(std::move(executor), registry, std::move(options), std::move(audit));
  // The lock comes first: only its holder may touch the socket path, so a second instance
  // cannot unlink a live socket, and a stale one (its owner died) is safe to replace.
  const std::string lock_path = path.string() + ".lock";
  state->lock.reset(::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (!state->lock) return io_failure("cannot open lock file " + lock_path, errno);
  if (::flock(state->lock.get(), LOCK_EX | LOCK_NB) != 0) {
    if (errno == EWOULDBLOCK) {
      return Error(errc::conflict,
                   "another dialerd holds " + lock_path + " (admin socket " + path.string() + ")");
    }
    return io_failure("cannot lock " + lock_path, errno);
  }

  struct stat existing {};
  if (::lstat(path.c_str(), &existing) == 0 && !S_ISSOCK(existing.st_mode)) {
    return Error(errc::io_error, path.string() + " exists and is not a socket; not replacing it");
  }
  ::unlink(tmp.c_str());  // left by an instance that died between bind and rename

  boost::system::error_code ec;
  auto& acceptor = state->acceptor;
  acceptor.open(stream_protocol(), ec);
  if (!ec) acceptor.bind(stream_protocol::endpoint(tmp), ec);
  if (ec) return Error(errc::io_error, "cannot bind " + tmp + ": " + ec.message());
  acceptor.listen(state->options.backlog, ec);
  // Bound under a temporary name so the socket never exists at its real path with the
  // umask's mode: chmod first, then rename it over the old socket in one step.
  int err = 0;
  if (ec) {
    err = ec.value();
  } else if (::chmod(tmp.c_str(), state->options.socket_mode) != 0) {
    err = errno;
  } else if (::rename(tmp.c_str(), path.c_str()) != 0) {
    err = errno;
  }
  if (err != 0) {
    ::unlink(tmp.c_str());
    return io_failure("cannot set up admin socket " + path.string(), err);
  }
  struct stat bound {};
  if (::lstat(path.c_str(), &bound) == 0) {
    state->dev = bound.st_dev;
    state->ino = bound.st_ino;
  }
  return std::unique_ptr<Server>(new Server(std::move(state)));
}

Server::Server(std::shared_ptr<State> state) : state_(std::move(state)) {}

Server::~Server() {
  stop();
}

void Server::start() {
  if (state_->started || state_->stopped) return;
  state_->started = true;
  asio::co_spawn(state_->strand, accept_loop(state_),
                 [](std::exception_ptr e) { log_failure("accept loop", std::move(e)); });
}

void Server::stop() {
  auto& st = *state_;
  if (st.stopped) return;
  st.stopped = true;
  boost::system::error_code ignored;
  st.acceptor.close(ignored);
  struct stat current {};
  const auto& path = st.options.socket_path;
  if (::lstat(path.c_str(), &current) == 0 && S_ISSOCK(current.st_mode) &&
      current.st_dev == st.dev && current.st_ino == st.ino) {
    ::unlink(path.c_str());
  }
  // The lock file itself stays: unlinking it would let two instances lock different inodes.
  st.lock.reset();
}

const fs::path& Server::socket_path() const noexcept {
  return state_->options.socket_path;
}

}  // namespace dialer::admin
