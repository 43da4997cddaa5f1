#pragma once
// Support for the system tests of the running daemon: vocobase-sim as a process on 127.0.0.1:0,
// a test config, dialerd with its fake NOTIFY_SOCKET. Processes, temp dirs and the admin protocol
// come from tests/support. Every wait is on a real event with a generous bound.

#include "tests/support/process.hpp"
#include "tests/support/temp_dir.hpp"

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <memory>
#include <string>
#include <vector>

namespace dialer::systest {

using namespace testkit;

namespace fs = std::filesystem;
namespace json = boost::json;
using namespace std::chrono_literals;

inline const std::string kBin = DIALER_BIN_DIR;
inline const std::string kDialerd = kBin + "/dialerd";
inline const std::string kDialerctl = kBin + "/dialerctl";
inline const std::string kSim = kBin + "/vocobase-sim";
inline const std::string kBenchRecovery = kBin + "/bench_recovery";

/// An integer of a benchmark's JSON line; -1 when absent (the assertion then names the line).
inline std::int64_t count(const json::object& line, const char* key) {
  const auto* v = line.if_contains(key);
  return v != nullptr && v->is_number() ? v->to_number<std::int64_t>() : -1;
}

/// bench_recovery's audit (tests/support/recovery_audit.hpp) found nothing: every count 0 and
/// `met`. `err` is the run's stderr (its findings), `out` the line.
inline void expect_audit_clean(const json::object& line, const std::string& out,
                               const std::string& err) {
  for (const char* key : {"calls_beyond_attempts", "numbers_active_twice",
                          "numbers_two_calls_at_once_across_campaigns", "contacts_non_terminal",
                          "outcomes_lost", "unknown_call_ids"}) {
    EXPECT_EQ(count(line, key), 0) << key << "\n" << err;
  }
  EXPECT_EQ(count(line, "limit_violations"), 0) << out;
  EXPECT_TRUE(line.at("met").as_bool()) << out;
}

/// vocobase-sim on 127.0.0.1:0; its address from the first stdout line.
class Sim {
 public:
  /// False when the binary is not built.
  static bool exists() { return ::access(kSim.c_str(), X_OK) == 0; }

  Sim(const TempDir& dir, std::vector<std::string> flags) {
    int pipe_fds[2];
    if (::pipe2(pipe_fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
    read_fd_ = pipe_fds[0];
    Process::Spec spec;
    spec.argv = {kSim, "--listen", "127.0.0.1:0"};
    spec.argv.insert(spec.argv.end(), flags.begin(), flags.end());
    spec.stdout_fd = pipe_fds[1];
    spec.stderr_path = dir.file("sim.err");
    process_ = std::make_unique<Process>(std::move(spec));
    ::close(pipe_fds[1]);
    std::string line;
    const auto deadline = std::chrono::steady_clock::now() + kStartTimeout;
    while (line.find('\n') == std::string::npos) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) throw std::runtime_error("vocobase-sim did not say where it listens");
      pollfd p{read_fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
      char c = 0;
      if (::read(read_fd_, &c, 1) != 1)
        throw std::runtime_error("vocobase-sim exited: " + process_->err());
      line.push_back(c);
    }
    const std::string prefix = "listening on ";
    if (line.rfind(prefix, 0) != 0) throw std::runtime_error("unexpected first line: " + line);
    address_ = line.substr(prefix.size(), line.size() - prefix.size() - 1);
  }
  ~Sim() {
    process_->signal(SIGTERM);
    (void)process_->wait(30s);
    ::close(read_fd_);
  }
  Sim(const Sim&) = delete;
  Sim& operator=(const Sim&) = delete;

  [[nodiscard]] const std::string& address() const { return address_; }
  [[nodiscard]] std::string base_url() const { return "http://" + address_ + "/api/v2"; }

 private:
  std::unique_ptr<Process> process_;
  int read_fd_ = -1;
  std::string address_;
};

/// GET /_sim/stats of the simulator (the referee); {} when it does not answer.
inline json::object sim_stats(const TempDir& dir, const Sim& sim) {
  auto r = run(dir, {"/usr/bin/curl", "-s", "http://" + sim.address() + "/_sim/stats"});
  boost::system::error_code ec;
  auto v = json::parse(r.out, ec);
  return !ec && v.is_object() ? v.get_object() : json::object{};
}

/// POST to a /_sim/ control endpoint of the simulator; fails the test unless it answers 2xx.
inline void sim_control(const TempDir& dir, const Sim& sim, const std::string& path,
                        const std::string& body) {
  auto r = run(dir, {"/usr/bin/curl", "-s", "-f", "-d", body, "http://" + sim.address() + path});
  ASSERT_EQ(r.exit_code, 0) << path << " " << body << ": " << r.err;
}

/// A config for tests: everything under `dir`, webhook on `webhook_listen`, API at `base_url`;
/// `extra` is appended (new top-level sections), `vocobase_extra` goes inside `vocobase:`.
inline std::string test_config(const TempDir& dir, const std::string& base_url,
                               const std::string& webhook_listen = "127.0.0.1:0",
                               const std::string& extra = "",
                               const std::string& vocobase_extra = "") {
  return "vocobase:\n"
         "  base_url: " +
         base_url +
         "\n"
         "  api_key: rg_test_secret_key\n"
         "  request_timeout: 10s\n" +
         vocobase_extra +
         "webhook:\n"
         "  listen: " +
         webhook_listen +
         "\n"
         "  secrets: [\"whsec_test_secret\"]\n"
         "admin:\n"
         "  socket: " +
         dir.file("admin.sock") +
         "\n"
         "  files_dir: " +
         dir.path().string() +
         "\n"
         "store:\n"
         "  path: " +
         dir.file("dialerd.db") +
         "\n"
         "  synchronous: normal\n"
         "metrics:\n"
         "  listen: 127.0.0.1:0\n"
         "scheduler:\n"
         "  concurrency_poll_interval: 60s\n"  // /calls/* tokens are for starts
         "  credit_poll_interval: 5s\n"
         "  reconcile_after: 10s\n"
         "defaults:\n"
         "  providers: [twilio]\n"
         "  window: { days: [mon, tue, wed, thu, fri, sat, sun], start: \"00:00\", end: \"24:00\","
         " end_margin: 0s }\n" +
         extra;
}

/// `config` (a test_config) with its store on PostgreSQL: `conninfo`, `schema`, and as node
/// `node` when not empty.
inline std::string on_postgresql(std::string config, const std::string& conninfo,
                                 const std::string& schema, const std::string& node = "") {
  const std::string section = "store:\n";
  config.replace(config.find(section), section.size(),
                 section + "  backend: postgresql\n  postgresql:\n    conninfo: \"" + conninfo +
                     "\"\n    schema: " + schema + "\n" +
                     (node.empty() ? "" : "    node_name: " + node + "\n"));
  return config;
}

/// The JSON line a benchmark program printed on stdout; empty when there is none.
inline json::object bench_line(const RunResult& r) {
  boost::system::error_code ec;
  auto parsed = json::parse(r.out, ec);
  return !ec && parsed.is_object() ? parsed.as_object() : json::object{};
}

/// vocobase-sim flags for a quick campaign: 300× time, every call completed, 120 /calls/* a
/// minute, webhooks to `listen` signed with `secret`.
inline std::vector<std::string> quick_sim_flags(const std::string& listen,
                                                const std::string& secret = "whsec_test_secret") {
  return {"--api-key",          "rg_test_secret_key",
          "--time-scale",       "300",
          "--outcomes",         "completed=1",
          "--calls-per-minute", "120",
          "--webhook",          "http://" + listen + "/webhooks/vocobase=" + secret};
}

/// A dialerd with its notify socket, started on `config` (a file in `dir`).
class Daemon {
 public:
  Daemon(const TempDir& dir, const std::string& config_path,
         std::vector<std::string> extra_env = {}, std::vector<std::string> prefix = {})
      : dir_(dir), notify_(dir.path() / ("notify-" + std::to_string(++instances_))) {
    Process::Spec spec;
    spec.argv = std::move(prefix);
    spec.argv.push_back(kDialerd);
    spec.argv.push_back("--config");
    spec.argv.push_back(config_path);
    extra_env.push_back(notify_.env());
    spec.env = child_env(extra_env);
    spec.stdout_path = dir.file("dialerd-" + std::to_string(instances_) + ".out");
    spec.stderr_path = dir.file("dialerd-" + std::to_string(instances_) + ".err");
    process_ = std::make_unique<Process>(std::move(spec));
  }

  /// Waits for READY=1; false (with the log in the failure message) when it did not come.
  ::testing::AssertionResult ready() {
    if (notify_.wait_for("READY=1")) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << "no READY=1; dialerd said:\n" << process_->err();
  }

  [[nodiscard]] fs::path socket() const { return dir_.path() / "admin.sock"; }
  json::object call(const std::string& command, const json::object& arguments = {}) {
    return admin(socket(), command, arguments);
  }
  /// Runs `dialerctl --socket <this daemon's> ARGS…`.
  RunResult ctl(std::vector<std::string> args, int stdin_fd = -1) const {
    args.insert(args.begin(), {kDialerctl, "--socket", socket().string()});
    return run(dir_, std::move(args), stdin_fd);
  }
  NotifySocket& notify() { return notify_; }
  /// Waits until GET /config has answered (a campaign can start only then).
  ::testing::AssertionResult config_polled() {
    if (eventually(
            [&] { return !args_of(call("status-get")).at("credits").at("polled_at").is_null(); },
            kStartTimeout)) {
      return ::testing::AssertionSuccess();
    }
    return ::testing::AssertionFailure() << "GET /config never answered:\n" << process_->err();
  }
  Process& process() { return *process_; }
  [[nodiscard]] std::string log() const { return process_->err(); }

 private:
  const TempDir& dir_;
  NotifySocket notify_;
  std::unique_ptr<Process> process_;
  static inline int instances_ = 0;
};

/// vocobase-sim (quick_sim_flags) and a dialerd whose webhooks it signs with `secret`, at 120
/// /calls/* a minute: what a test that dials starts from. Check daemon.ready() and
/// daemon.config_polled() before use.
struct QuickStack {
  explicit QuickStack(const std::string& secret = "whsec_test_secret")
      : listen("127.0.0.1:" + std::to_string(reserve_loopback_port())),
        sim(dir, quick_sim_flags(listen, secret)),
        daemon(dir, dir.write("dialerd.yaml", test_config(dir, sim.base_url(), listen, "",
                                                          "  calls_per_minute: 120\n"))) {}
  TempDir dir;
  std::string listen;
  Sim sim;
  Daemon daemon;
};

}  // namespace dialer::systest
