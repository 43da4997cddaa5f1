// The built vocobase-sim binary: --help, the `listening on` line, serving, clean exit on
// SIGTERM/SIGINT, the YAML config and flags mirroring each other, usage and config errors.
#include "sim_test_support.hpp"

#include <fstream>
#include <poll.h>
#include <regex>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace dialer::sim::test {
namespace {

const std::string kBinary = DIALER_BIN_DIR "/vocobase-sim";

/// A child process with its stdout and stderr on pipes.
class Child {
 public:
  explicit Child(const std::vector<std::string>& args) {
    int out[2], err[2];
    EXPECT_EQ(pipe(out), 0);
    EXPECT_EQ(pipe(err), 0);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    posix_spawn_file_actions_adddup2(&fa, err[1], 2);
    posix_spawn_file_actions_addclose(&fa, out[0]);
    posix_spawn_file_actions_addclose(&fa, err[0]);
    std::vector<char*> argv;
    argv.push_back(const_cast<char*>(kBinary.c_str()));
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    EXPECT_EQ(posix_spawn(&pid_, kBinary.c_str(), &fa, nullptr, argv.data(), environ), 0);
    posix_spawn_file_actions_destroy(&fa);
    close(out[1]);
    close(err[1]);
    out_ = out[0];
    err_ = err[0];
  }
  ~Child() {
    if (pid_ > 0 && !exited_) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    close(out_);
    close(err_);
  }

  /// The next line of stdout, waiting at most `bound`.
  std::optional<std::string> line(std::chrono::milliseconds bound = kWait) {
    auto end = std::chrono::steady_clock::now() + bound;
    for (;;) {
      auto nl = out_buf_.find('\n');
      if (nl != std::string::npos) {
        auto l = out_buf_.substr(0, nl);
        out_buf_.erase(0, nl + 1);
        return l;
      }
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          end - std::chrono::steady_clock::now());
      if (left.count() <= 0) return std::nullopt;
      pollfd p{out_, POLLIN, 0};
      if (poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
      char buf[4096];
      auto n = read(out_, buf, sizeof buf);
      if (n <= 0) return std::nullopt;
      out_buf_.append(buf, static_cast<std::size_t>(n));
    }
  }

  /// Exit status (or -signal), waiting at most `bound`; nullopt if still running.
  std::optional<int> wait(std::chrono::milliseconds bound = kWait) {
    int status = 0;
    bool done = wait_until(
        [&] {
          auto r = waitpid(pid_, &status, WNOHANG);
          return r == pid_;
        },
        bound);
    if (!done) return std::nullopt;
    exited_ = true;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
  }

  /// Everything left on a stream (after exit).
  std::string rest_of_stdout() { return out_buf_ + drain(out_); }
  std::string stderr_text() { return drain(err_); }
  pid_t pid() const { return pid_; }

 private:
  static std::string drain(int fd) {
    std::string s;
    char buf[4096];
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0) s.append(buf, static_cast<std::size_t>(n));
    return s;
  }

  pid_t pid_ = -1;
  int out_ = -1, err_ = -1;
  bool exited_ = false;
  std::string out_buf_;
};

std::uint16_t port_of(const std::string& line) {
  static const std::regex re(R"(^listening on 127\.0\.0\.1:(\d+)$)");
  std::smatch m;
  if (!std::regex_match(line, m, re)) {
    ADD_FAILURE() << "first stdout line: '" << line << "'";
    return 0;
  }
  return static_cast<std::uint16_t>(std::stoi(m[1]));
}

std::string temp_file(const std::string& name, const std::string& text) {
  char tmpl[] = "/tmp/sim_bin_XXXXXX";
  EXPECT_NE(mkdtemp(tmpl), nullptr);
  auto path = std::string(tmpl) + "/" + name;
  std::ofstream(path) << text;
  return path;
}

// --help names every flag of CONTRACT.md (and the extra ones) and every fault, and exits 0.
TEST(SimBinary, HelpDocumentsEveryFlagAndFault) {
  Child c({"--help"});
  ASSERT_EQ(c.wait(), 0);
  auto help = c.rest_of_stdout();
  for (const char* flag : {"--listen",
                           "--api-key",
                           "--concurrency-limit",
                           "--calls-per-minute",
                           "--general-per-minute",
                           "--credits",
                           "--providers",
                           "--webhook",
                           "--time-scale",
                           "--scale-rate-window",
                           "--seed",
                           "--outcomes",
                           "--duration-mean",
                           "--script",
                           "--faults",
                           "--agent",
                           "--config",
                           "--slow-delay",
                           "--hold-time",
                           "--webhook-delay",
                           "--webhook-timeout",
                           "--webhook-queue",
                           "--webhook-connections",
                           "--max-connections",
                           "--idle-timeout",
                           "--max-calls",
                           "--log-level",
                           "--version"}) {
    EXPECT_NE(help.find(flag), std::string::npos) << flag;
  }
  for (auto f : all_faults()) EXPECT_NE(help.find(fault_name(f)), std::string::npos);
}

// The first stdout line is exactly `listening on HOST:PORT` with the port picked; the binary
// then serves the API and exits 0 on SIGTERM and on SIGINT.
TEST(SimBinary, ListensServesAndExitsCleanlyOnSignals) {
  for (int sig : {SIGTERM, SIGINT}) {
    Child c({"--listen", "127.0.0.1:0", "--api-key", kKey, "--api-key", "rg_live_second",
             "--log-level", "warn"});
    auto line = c.line();
    ASSERT_TRUE(line.has_value()) << c.stderr_text();
    auto port = port_of(*line);
    ASSERT_NE(port, 0);
    TestClient client(port);
    EXPECT_EQ(client.get("/api/v2/config").status, 200);
    TestClient second(port, "rg_live_second");
    EXPECT_EQ(second.get("/api/v2/config").status, 200);
    EXPECT_EQ(client.get("/_sim/stats").status, 200);
    ASSERT_EQ(kill(c.pid(), sig), 0);
    EXPECT_EQ(c.wait(), 0) << "signal " << sig;
  }
}

// The YAML config mirrors the flags, a flag given as well wins, --script and --time-scale
// drive the calls.
TEST(SimBinary, ConfigFileAndFlags) {
  auto script = temp_file("script.yaml", "\"+919800000001\": [busy]\n");
  auto config = temp_file("sim.yaml",
                          "listen: 127.0.0.1:0\n"
                          "api_keys: [" +
                              std::string(kKey) +
                              "]\n"
                              "concurrency_limit: 7\n"
                              "credits: 42\n"
                              "providers: [twilio]\n"
                              "calls_per_minute: 1000\n"
                              "log_level: warn\n");
  Child c(
      {"--config", config, "--concurrency-limit", "9", "--script", script, "--time-scale", "1000"});
  auto line = c.line();
  ASSERT_TRUE(line.has_value()) << c.stderr_text();
  TestClient client(port_of(*line));
  EXPECT_EQ(client.get("/api/v2/calls/concurrency").data().at("limit"), 9);
  auto cfg = client.get("/api/v2/config").data();
  EXPECT_EQ(cfg.at("credit_balance"), 42);
  EXPECT_EQ(cfg.at("allowed_telephony_providers"), (json::array{"twilio"}));
  auto start = client.start("+919800000001", "twilio");
  ASSERT_EQ(start.status, 200) << start;
  auto id = s(start.data(), "/call_id");
  EXPECT_TRUE(
      wait_until([&] { return s(client.get("/api/v2/calls/" + id).data(), "/status") == "busy"; }));
  kill(c.pid(), SIGTERM);
  EXPECT_EQ(c.wait(), 0);
}

// Bad flags exit 2; a bad config exits 3 with file:line:col on stderr; nothing is printed on
// stdout.
TEST(SimBinary, UsageAndConfigErrors) {
  {
    Child c({"--bogus"});
    EXPECT_EQ(c.wait(), 2);
  }
  {
    Child c({"--faults", "explode=1"});
    EXPECT_EQ(c.wait(), 2);
    EXPECT_NE(c.stderr_text().find("explode"), std::string::npos);
  }
  {
    Child c({"--webhook", "http://127.0.0.1:1/h"});
    EXPECT_EQ(c.wait(), 2);
  }
  {
    auto config = temp_file("bad.yaml", "listen: 127.0.0.1:0\nlisten_port: 9\n");
    Child c({"--config", config});
    EXPECT_EQ(c.wait(), 3);
    EXPECT_NE(c.stderr_text().find("bad.yaml:2:1: unknown key 'listen_port'"), std::string::npos);
    EXPECT_EQ(c.rest_of_stdout(), "");
  }
  {
    Child c({"--script", "/nonexistent/script.yaml"});
    EXPECT_EQ(c.wait(), 3);
  }
}

}  // namespace
}  // namespace dialer::sim::test
