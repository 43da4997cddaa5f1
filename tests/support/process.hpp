#pragma once
// Child processes for tests and benchmarks that drive the built binaries: processes that die with
// their parent and are waited on with a deadline (pidfd + poll), a fake NOTIFY_SOCKET, the admin
// protocol spoken directly over the socket, a loopback port for a listener that must keep its
// address across restarts. No test framework here: the benchmark programs use it too.

#include "tests/support/temp_dir.hpp"

#include <boost/json.hpp>

#include <arpa/inet.h>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <functional>
#include <linux/close_range.h>
#include <memory>
#include <netinet/in.h>
#include <optional>
#include <poll.h>
#include <sstream>
#include <stdexcept>
#include <string>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

extern char** environ;

namespace dialer::testkit {

namespace fs = std::filesystem;
namespace json = boost::json;
using namespace std::chrono_literals;

/// Bounds for waits: generous, so a loaded machine (sanitizers, two cores) does not flake.
inline constexpr auto kStartTimeout = 60s;
inline constexpr auto kCommandTimeout = 60s;

inline std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

/// The environment children get: ours, minus what would make them talk to a real systemd or
/// pick up credentials, plus `extra` ("NAME=value").
inline std::vector<std::string> child_env(const std::vector<std::string>& extra = {}) {
  static const std::vector<std::string> kDropped{
      "NOTIFY_SOCKET=",   "WATCHDOG_USEC=",  "WATCHDOG_PID=",    "LISTEN_FDS=",
      "LISTEN_PID=",      "JOURNAL_STREAM=", "DIALERD_API_KEY=", "CREDENTIALS_DIRECTORY=",
      "DIALERCTL_SOCKET="};
  std::vector<std::string> out;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string kv = *e;
    bool drop = false;
    for (const auto& prefix : kDropped) drop = drop || kv.rfind(prefix, 0) == 0;
    if (!drop) out.push_back(kv);
  }
  out.insert(out.end(), extra.begin(), extra.end());
  return out;
}

/// A child process, killed (SIGKILL) and reaped on destruction if still running.
class Process {
 public:
  struct Spec {
    std::vector<std::string> argv;
    std::vector<std::string> env = child_env();
    std::string stdin_path = "/dev/null";
    int stdin_fd = -1;  ///< used instead of stdin_path when >= 0 (not closed)
    std::string stdout_path;
    std::string stderr_path;
    int stdout_fd = -1;  ///< used instead of stdout_path when >= 0 (not closed)
  };

  explicit Process(Spec spec) : spec_(std::move(spec)) {
    // Everything the child needs is prepared before fork(): between fork() and exec only
    // async-signal-safe calls are allowed (the parent may have other threads).
    std::vector<char*> argv;
    for (auto& a : spec_.argv) argv.push_back(a.data());
    argv.push_back(nullptr);
    std::vector<char*> envp;
    for (auto& e : spec_.env) envp.push_back(e.data());
    envp.push_back(nullptr);
    int report[2];  // the child writes errno here when it cannot exec
    if (::pipe2(report, O_CLOEXEC) != 0) throw std::runtime_error("pipe2 failed");
    const pid_t parent = ::getpid();
    pid_ = ::fork();
    if (pid_ < 0) {
      ::close(report[0]);
      ::close(report[1]);
      throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
    }
    if (pid_ == 0) {
      // The child dies with its parent: a test or benchmark that crashes leaves no daemon
      // behind holding ports and sockets. (A credential change in a prefix such as setpriv
      // clears this; those children are reaped by the destructor as before.)
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != parent) ::_exit(127);
      const auto fail = [&] {
        const int e = errno;
        (void)!::write(report[1], &e, sizeof e);
        ::_exit(127);
      };
      const auto redirect = [&](int fd, const std::string& path, int flags, int target) {
        if (fd < 0) fd = ::open(path.c_str(), flags | O_CLOEXEC, 0644);
        if (fd < 0 || ::dup2(fd, target) < 0) fail();
      };
      redirect(spec_.stdin_fd, spec_.stdin_path, O_RDONLY, 0);
      redirect(spec_.stdout_fd, spec_.stdout_path, O_WRONLY | O_CREAT | O_TRUNC, 1);
      redirect(-1, spec_.stderr_path, O_WRONLY | O_CREAT | O_TRUNC, 2);
      // Nothing of the parent's but stdio reaches the child: a socket of the parent's (a proxy's
      // connection, a listener) held open by a child would outlive the parent closing it.
      if (::close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) != 0) {
        const long max = ::sysconf(_SC_OPEN_MAX);  // bounded: it can be 1M in containers
        const long last = max > 0 && max < 65536 ? max : 65536;
        for (int fd = 3; fd < last; ++fd) ::fcntl(fd, F_SETFD, FD_CLOEXEC);
      }
      ::execve(argv[0], argv.data(), envp.data());
      fail();
    }
    ::close(report[1]);
    int child_errno = 0;
    ssize_t got = 0;
    do {
      got = ::read(report[0], &child_errno, sizeof child_errno);
    } while (got < 0 && errno == EINTR);
    ::close(report[0]);
    if (got == static_cast<ssize_t>(sizeof child_errno)) {
      int status = 0;
      while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
      }
      exit_code_ = 127;
      throw std::runtime_error("cannot start " + spec_.argv[0] + ": " + std::strerror(child_errno));
    }
    pidfd_ = static_cast<int>(::syscall(SYS_pidfd_open, pid_, 0));
    if (pidfd_ < 0) throw std::runtime_error(std::string("pidfd_open: ") + std::strerror(errno));
  }
  ~Process() {
    if (!exit_code_) {
      ::kill(pid_, SIGKILL);
      (void)wait(30s);
    }
    if (pidfd_ >= 0) ::close(pidfd_);
  }
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  [[nodiscard]] pid_t pid() const { return pid_; }
  void signal(int sig) const { ::kill(pid_, sig); }

  /// Waits for the exit (the pidfd becomes readable); the exit code (128+N for signal N), or
  /// nullopt when it is still running after `timeout`.
  std::optional<int> wait(std::chrono::milliseconds timeout) {
    if (exit_code_) return exit_code_;
    pollfd p{pidfd_, POLLIN, 0};
    int n = 0;
    do {
      n = ::poll(&p, 1, static_cast<int>(timeout.count()));
    } while (n < 0 && errno == EINTR);
    if (n <= 0) return std::nullopt;
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return exit_code_;
  }

  [[nodiscard]] std::string err() const { return read_file(spec_.stderr_path); }
  [[nodiscard]] std::string out() const {
    return spec_.stdout_path.empty() ? std::string() : read_file(spec_.stdout_path);
  }

 private:
  Spec spec_;
  pid_t pid_ = 0;
  int pidfd_ = -1;
  std::optional<int> exit_code_;
};

struct RunResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

/// Runs a program to completion (bounded), capturing its output in `dir`.
inline RunResult run(const TempDir& dir, std::vector<std::string> argv, int stdin_fd = -1,
                     std::chrono::milliseconds timeout = kCommandTimeout) {
  static int seq = 0;
  const std::string tag = std::to_string(++seq);
  Process::Spec spec;
  spec.argv = std::move(argv);
  spec.stdin_fd = stdin_fd;
  spec.stdout_path = dir.file("run-" + tag + ".out");
  spec.stderr_path = dir.file("run-" + tag + ".err");
  Process p(std::move(spec));
  RunResult r;
  auto code = p.wait(timeout);
  r.exit_code = code.value_or(-1);
  r.out = p.out();
  r.err = p.err();
  return r;
}

/// A fake systemd: a datagram socket the daemon's sd_notify writes to.
class NotifySocket {
 public:
  explicit NotifySocket(const fs::path& path) : path_(path) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      throw std::runtime_error(std::string("bind notify socket: ") + std::strerror(errno));
    }
    // Writable by every user, like systemd's own: a daemon started under another uid reports too.
    ::chmod(path.c_str(), 0666);
  }
  ~NotifySocket() { ::close(fd_); }
  NotifySocket(const NotifySocket&) = delete;
  NotifySocket& operator=(const NotifySocket&) = delete;

  [[nodiscard]] std::string env() const { return "NOTIFY_SOCKET=" + path_.string(); }

  /// Receives messages until one contains `needle`; true when it came within `timeout`.
  bool wait_for(std::string_view needle, std::chrono::milliseconds timeout = kStartTimeout) {
    for (std::size_t i = seen_; i < messages_.size(); ++i) {
      if (messages_[i].find(needle) != std::string::npos) {
        seen_ = i + 1;
        return true;
      }
    }
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return false;
      pollfd p{fd_, POLLIN, 0};
      const int n = ::poll(&p, 1, static_cast<int>(left.count()));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      char buf[4096];
      const ssize_t got = ::recv(fd_, buf, sizeof buf, 0);
      if (got <= 0) continue;
      messages_.emplace_back(buf, static_cast<std::size_t>(got));
      if (messages_.back().find(needle) != std::string::npos) {
        seen_ = messages_.size();
        return true;
      }
    }
  }

  /// Every message received so far, in order.
  [[nodiscard]] const std::vector<std::string>& messages() const { return messages_; }

  /// Index of the first message containing `needle`, or -1.
  [[nodiscard]] int index_of(std::string_view needle) const {
    for (std::size_t i = 0; i < messages_.size(); ++i) {
      if (messages_[i].find(needle) != std::string::npos) return static_cast<int>(i);
    }
    return -1;
  }

 private:
  fs::path path_;
  int fd_ = -1;
  std::vector<std::string> messages_;
  std::size_t seen_ = 0;
};

/// One admin request over the socket, exactly as `socat - UNIX-CONNECT:…` would send it; the
/// parsed answer, or nullopt when the daemon did not answer with a JSON object in time.
inline std::optional<json::object> admin_raw(const fs::path& socket, const std::string& request,
                                             std::chrono::milliseconds timeout = kCommandTimeout) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, socket.c_str(), sizeof addr.sun_path - 1);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return std::nullopt;
  }
  std::string_view rest = request;
  while (!rest.empty()) {
    const ssize_t w = ::send(fd, rest.data(), rest.size(), MSG_NOSIGNAL);
    if (w <= 0) {
      ::close(fd);
      return std::nullopt;
    }
    rest.remove_prefix(static_cast<std::size_t>(w));
  }
  ::shutdown(fd, SHUT_WR);
  std::string answer;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    pollfd p{fd, POLLIN, 0};
    const int n = ::poll(&p, 1, static_cast<int>(left.count()));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    char buf[65536];
    const ssize_t got = ::recv(fd, buf, sizeof buf, 0);
    if (got <= 0) break;
    answer.append(buf, static_cast<std::size_t>(got));
  }
  ::close(fd);
  boost::system::error_code ec;
  auto v = json::parse(answer, ec);
  if (ec || !v.is_object()) return std::nullopt;
  return v.get_object();
}

/// {"command": command, "arguments": arguments}; the answer (an empty object when none came).
inline json::object admin(const fs::path& socket, const std::string& command,
                          const json::object& arguments = {}) {
  json::object req{{"command", command}, {"arguments", arguments}};
  auto r = admin_raw(socket, json::serialize(req));
  return r ? *r : json::object{};
}

/// The result code of an answer (-1 when there was none).
inline std::int64_t result_of(const json::object& answer) {
  const auto* r = answer.if_contains("result");
  return r != nullptr && r->is_int64() ? r->get_int64() : -1;
}

inline const json::object& args_of(const json::object& answer) {
  static const json::object kEmpty;
  const auto* a = answer.if_contains("arguments");
  return a != nullptr && a->is_object() ? a->get_object() : kEmpty;
}

inline std::string text_of(const json::object& answer) {
  const auto* t = answer.if_contains("text");
  return t != nullptr && t->is_string() ? std::string(t->get_string()) : std::string();
}

/// Asks until `pred(answer)` holds or `timeout` passes: the wait is on the daemon's own state,
/// polled every 50 ms. True when it held.
inline bool eventually(const std::function<bool()>& pred, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(50ms);
  }
  return pred();
}

/// A TCP port on 127.0.0.1 that was free a moment ago (bound to port 0, then released). Only
/// for the daemon's webhook listener when the simulator, started first, must be told where to
/// deliver: the simulator takes its webhook URL at startup and cannot learn it later.
inline int reserve_loopback_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

}  // namespace dialer::testkit
