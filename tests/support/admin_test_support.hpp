#pragma once
// Shared fixtures for the admin socket tests: a temp dir, an io_context on its own thread, and
// raw-socket helpers for clients that do not behave like dialerctl.

#include "api/admin/client.hpp"
#include "api/admin/registry.hpp"
#include "api/admin/server.hpp"
#include "tests/support/temp_dir.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <optional>
#include <poll.h>
#include <span>
#include <stdexcept>
#include <string>
#include <sys/socket.h>
#include <sys/un.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace dialer::admin::test {

using TempDir = ::dialer::testkit::TempDir;

/// Connects a raw Unix stream socket (blocking) or returns -1.
inline int raw_connect(const std::filesystem::path& path) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  const std::string s = path.string();
  std::memcpy(addr.sun_path, s.c_str(), s.size() + 1);
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

/// Reads until EOF (bounded by a generous deadline per read).
inline std::string read_to_eof(int fd) {
  std::string out;
  char buf[4096];
  for (;;) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 20'000) <= 0) break;
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  return out;
}

/// Server + loop thread around one registry; audit events are collected.
class AdminServerTest : public ::testing::Test {
 protected:
  void TearDown() override { stop_loop(); }

  [[nodiscard]] std::filesystem::path socket_path() const { return dir_.path() / "admin.sock"; }

  ServerOptions default_options() const {
    ServerOptions o;
    o.socket_path = socket_path();
    o.idle_timeout = std::chrono::seconds(20);
    return o;
  }

  /// Binds and starts the server, then runs the loop on a thread. Register handlers first.
  void start(std::optional<ServerOptions> options = std::nullopt) {
    auto s = Server::listen(io_.get_executor(), registry_, options ? *options : default_options(),
                            [this](const AuditEvent& e) {
                              const std::lock_guard lock(audit_mutex_);
                              audits_.push_back(e);
                            });
    ASSERT_TRUE(s) << s.error().what();
    server_ = std::move(*s);
    server_->start();
    thread_ = std::thread([this] { io_.run(); });
  }

  void stop_loop() {
    guard_.reset();
    io_.stop();
    if (thread_.joinable()) thread_.join();
    server_.reset();
  }

  Response must_call(std::string_view command, const boost::json::object& args = {},
                     std::span<const int> fds = {}) {
    auto r = call(socket_path(), command, args, fds);
    EXPECT_TRUE(r) << (r ? "" : r.error().what());
    return r ? *r : Response{};
  }

  Response must_call_raw(std::string_view text) {
    auto r = call_raw(socket_path(), text);
    EXPECT_TRUE(r) << (r ? "" : r.error().what());
    return r ? *r : Response{};
  }

  std::vector<AuditEvent> audits() {
    const std::lock_guard lock(audit_mutex_);
    return audits_;
  }

  TempDir dir_;
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard_{
      io_.get_executor()};
  Registry registry_;
  std::unique_ptr<Server> server_;
  std::thread thread_;
  std::mutex audit_mutex_;
  std::vector<AuditEvent> audits_;
};

}  // namespace dialer::admin::test
