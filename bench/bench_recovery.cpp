// The `recovery` scenario of ../shared/design/BENCHMARKS.md: the dispatch scenario with the
// simulator's faults on, and the real `dialerd` binary killed with SIGKILL every few seconds and
// restarted at once, until the campaign completes. Then the simulator (the referee) and the
// store are compared:
//
//   calls_beyond_attempts   numbers the simulator called more often than the store has started
//                           attempts for the contact, or more than max_attempts
//   numbers_active_twice    numbers with two calls in progress at once (simulator's count)
//   numbers_two_calls_at_once_across_campaigns
//                           of those, numbers whose contacts are in both campaigns
//   contacts_non_terminal   contacts not done/exhausted/skipped
//   outcomes_lost           calls the simulator placed whose final outcome the store does not
//                           hold (no attempt with the call id, an attempt not finished, or a
//                           different outcome)
//   unknown_call_ids        attempts holding a call id the simulator never issued
//
// The account is shared the hard way: a second campaign holds the first --overlap share of the
// same numbers and dials at the same time; another integration keeps --foreign calls of its own
// in progress (listed in GET /calls, counted in concurrency); a share of starts is answered only
// after dialerd's request timeout (the call exists meanwhile); some GET /calls pages come
// without `total` or short. Those are on top of the BENCHMARKS.md faults.
//
// The simulator runs in this process on 127.0.0.1:0 (so its view is read directly); dialerd is
// a child process with its store, admin socket and logs in a temp directory. scripts/bench runs
// the full scenario; tests/system/recovery_test.cpp runs a short one through this same program.
//
//   bench_recovery [--contacts N] [--limit N] [--kill-every S] [--kill-jitter S] [--max-kills N]
//                  [--overlap F] [--foreign N] [--slow-starts P] [--list-faults P]
//                  [--time-scale X] [--seed N] [--timeout S] [--sync full|normal]
//                  [--dialerd PATH] [--keep-dir]
//
// The `failover` scenario (issue "high availability") is this program with --pair CONNINFO: two
// dialerd (nodes a and b) on one PostgreSQL schema, each through a TCP proxy of this program so
// that its link can be cut; the simulator posts webhooks through a third proxy in front of both
// listeners (one public URL behind a load balancer). The leader is killed with SIGKILL every
// --kill-every seconds after it took over, and once (--cut-at) cut off from PostgreSQL instead:
// it must notice and exit 1 by itself. A stopped node is started again after 2 s (systemd's
// RestartSec), as the standby. Takeover time: from the kill (or cut) until a node reports
// `role: leader` in status-get. The audit is the same.
//
// One JSON line on stdout, a human summary and progress on stderr. Exit 0 when the campaign
// completed and every count above is 0, 1 when a count is not 0, 2 when the run itself failed
// (dialerd did not start, exited by itself, or the campaign did not complete in --timeout).

#include "bench/bench_support.hpp"
#include "bench/json_line.hpp"
#include "bench/tcp_proxy.hpp"
#include "core/enums.hpp"
#include "sim/simulator.hpp"
#include "store/sql/database.hpp"
#include "tests/support/process.hpp"
#include "tests/support/recovery_audit.hpp"
#include "tests/support/sim_stack.hpp"
#include "tests/support/temp_dir.hpp"

#include <CLI/CLI.hpp>
#include <boost/json.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

namespace dialer {
namespace {

using namespace std::chrono_literals;
using Steady = std::chrono::steady_clock;
using bench::JsonLine;
using testkit::NotifySocket;
using testkit::Process;
using testkit::TempDir;
namespace json = boost::json;

constexpr std::string_view kKey = "rg_live_recovery_bench_key";
constexpr std::string_view kSecret = "whsec_recovery_bench_secret";
constexpr std::string_view kAgent = "0f8fad5b-d9cb-469f-a165-70867728950e";
constexpr const char* kCampaign = "recovery";
constexpr const char* kOverlapCampaign = "overlap";
// dialerd's vocobase.request_timeout below, and the simulator's slow answer just past it.
constexpr auto kRequestTimeout = 5s;
constexpr auto kSlowAnswer = kRequestTimeout + 1s;
constexpr int kMaxAttempts = 3;

struct Args {
  int contacts = 20'000;
  int limit = 50;
  double kill_every_s = 5.0;
  double kill_jitter_s = 0.0;
  int max_kills = -1;  // < 0: no bound, kill until the campaign completes
  double time_scale = 100.0;
  double talk_mean_s = 11.0;  // as the dispatch scenario: a call holds its slot ~200 ms real
  double overlap = 0.5;       // share of the list also in the second campaign (0: one campaign)
  int foreign = -1;           // another integration's calls (< 0: limit / 8, at least 1)
  double slow_starts = 0.02;  // starts answered after the request timeout
  double list_faults = 0.1;   // each of: a page without total, a short page
  std::uint64_t seed = 11;
  int timeout_s = 3600;
  std::string sync = "normal";
  std::string dialerd;
  bool keep_dir = false;
  std::string pair_conninfo;  // non-empty: the failover scenario on this PostgreSQL
  int cut_at = 2;             // pair: the kill that is a cut from PostgreSQL instead (0: none)
};

/// One node of the pair: its directory (admin socket, logs), webhook port, link to PostgreSQL.
struct NodeSetup {
  std::string name;
  std::filesystem::path dir;
  int webhook_port = 0;
  std::string conninfo;  // through the node's proxy
  std::string schema;
};

/// Splits a libpq key=value conninfo (no quoting: the test cluster's) into its pairs.
std::vector<std::pair<std::string, std::string>> conninfo_pairs(const std::string& conninfo) {
  std::vector<std::pair<std::string, std::string>> out;
  std::istringstream in(conninfo);
  for (std::string word; in >> word;) {
    const auto eq = word.find('=');
    if (eq != std::string::npos) out.emplace_back(word.substr(0, eq), word.substr(eq + 1));
  }
  return out;
}

std::string conninfo_value(const std::string& conninfo, const std::string& key) {
  for (const auto& [k, v] : conninfo_pairs(conninfo)) {
    if (k == key) return v;
  }
  return "";
}

/// The conninfo with host and port replaced (a node's way to the server through its proxy).
std::string conninfo_via(const std::string& conninfo, int port) {
  std::string out = "host=127.0.0.1 port=" + std::to_string(port);
  for (const auto& [k, v] : conninfo_pairs(conninfo)) {
    if (k != "host" && k != "port") out += " " + k + "=" + v;
  }
  return out;
}

constexpr bench::Say say{"bench_recovery"};

/// The last `lines` lines of a log file (for a failure message).
std::string tail(const std::string& path, std::size_t lines = 30) {
  const auto text = testkit::read_file(path);
  std::size_t pos = text.size();
  for (std::size_t n = 0; n <= lines && pos > 0; ++n) {
    pos = text.rfind('\n', pos - 1);
    if (pos == std::string::npos) return text;
  }
  return text.substr(pos + 1);
}

std::string config_text(const TempDir& dir, const Args& a, const std::string& base_url,
                        int webhook_port, const NodeSetup* node = nullptr) {
  const std::string port = std::to_string(node != nullptr ? node->webhook_port : webhook_port);
  const std::string socket =
      node != nullptr ? (node->dir / "admin.sock").string() : dir.file("admin.sock");
  const std::string store =
      node != nullptr ? "  backend: postgresql\n  postgresql:\n    conninfo: \"" + node->conninfo +
                            "\"\n    schema: " + node->schema + "\n    node_name: " + node->name +
                            "\n  path: " + (node->dir / "unused.db").string() + "\n"
                      : "  path: " + dir.file("dialerd.db") + "\n  synchronous: " + a.sync + "\n";
  return "vocobase:\n"
         "  base_url: " +
         base_url +
         "\n"
         "  api_key: " +
         std::string(kKey) +
         "\n"
         "  request_timeout: " +
         std::to_string(std::chrono::seconds(kRequestTimeout).count()) +
         "s\n"
         "  calls_per_minute: 100000\n"
         "  general_per_minute: 100000\n"
         "webhook:\n"
         "  listen: 127.0.0.1:" +
         port +
         "\n"
         "  secrets: [\"" +
         std::string(kSecret) +
         "\"]\n"
         "metrics:\n"
         "  listen: \"\"\n"
         "admin:\n"
         "  socket: " +
         socket +
         "\n"
         "  files_dir: " +
         dir.path().string() +
         "\n"
         "store:\n" +
         store +
         "scheduler:\n"
         "  concurrency_poll_interval: 5s\n"
         "  credit_poll_interval: 5s\n"
         "  reconcile_after: 10s\n"
         "  stale_call_timeout: 2m\n"
         // Loopback, one clock: the listing that proves a start absent need not reach minutes
         // back (at 250 starts/s, 2 minutes of skew are 30,000 calls to page through).
         "  clock_skew: 2s\n"
         // 5 % 5xx and 2 % lost responses: a run of failed starts is chance here, not an outage.
         "  error_burst_threshold: 1000\n"
         "defaults:\n"
         "  providers: [twilio]\n"
         "  timezone: UTC\n"
         "  window: { days: [mon, tue, wed, thu, fri, sat, sun], start: \"00:00\","
         " end: \"24:00\", end_margin: 0s }\n"
         "logging:\n"
         "  level: info\n";
}

/// One life of dialerd: the process and the notify socket it reports READY=1 on.
struct Life {
  int number = 0;
  std::unique_ptr<NotifySocket> notify;
  std::unique_ptr<Process> process;
  Steady::time_point spawned;
  bool ready = false;
  std::string log_path;
};

class Run {
 public:
  explicit Run(Args args) : a_(std::move(args)), rng_(a_.seed) {}
  ~Run() {
    // The pair's schema goes with the run (the processes first: they hold sessions in it).
    for (Node& n : nodes_) {
      if (n.life) n.life.reset();
    }
    if (schema_.empty() || a_.keep_dir) return;
    store::PgOptions o;
    o.conninfo = a_.pair_conninfo;
    o.migrate = false;
    if (auto db = store::Database::open_postgresql(o)) {
      (void)db->exec("DROP SCHEMA IF EXISTS " + schema_ + " CASCADE");
    }
  }
  Run(const Run&) = delete;
  Run& operator=(const Run&) = delete;

  int main() {
    if (a_.dialerd.empty()) {
      a_.dialerd = (std::filesystem::read_symlink("/proc/self/exe").parent_path() / "dialerd");
    }
    if (::access(a_.dialerd.c_str(), X_OK) != 0) {
      say("no dialerd at %s (--dialerd PATH)", a_.dialerd.c_str());
      return 2;
    }
    if (a_.keep_dir) {
      dir_.keep();
      say("keeping %s", dir_.path().c_str());
    }
    if (pair() && !set_up_pair_links()) return 2;
    if (!start_sim()) return 2;
    config_ = dir_.write("dialerd.yaml", config_text(dir_, a_, sim_->base_url(), webhook_port_));
    std::string csv = "phone\n";
    for (int i = 0; i < a_.contacts; ++i) {
      char buf[32];
      std::snprintf(buf, sizeof buf, "+91987%07d\n", i);
      csv += buf;
    }
    list_ = dir_.write("contacts.csv", csv);
    overlap_ = static_cast<int>(a_.overlap * a_.contacts);
    if (overlap_ > 0) {
      std::string shared = "phone\n";
      for (int i = 0; i < overlap_; ++i) {
        char buf[32];
        std::snprintf(buf, sizeof buf, "+91987%07d\n", i);
        shared += buf;
      }
      overlap_list_ = dir_.write("overlap.csv", shared);
    }

    if (pair()) return run_pair();
    const auto t0 = Steady::now();
    if (!spawn() || !wait_ready(testkit::kStartTimeout) || !set_up()) return fail_run();
    life_->spawned = Steady::now();  // the kill clock of the first life starts with dialling
    say("campaigns started: %d contacts, %d of them in a second campaign, %d foreign calls, "
        "limit %d, kill every %.1f s (±%.1f s)%s",
        a_.contacts, overlap_, foreign_, a_.limit, a_.kill_every_s, a_.kill_jitter_s,
        a_.max_kills >= 0 ? (", at most " + std::to_string(a_.max_kills) + " kills").c_str() : "");

    const auto overall = t0 + std::chrono::seconds(a_.timeout_s);
    bool completed = false;
    while (!completed) {
      const auto kill_at = next_kill();
      while (!completed) {
        if (Steady::now() >= overall) {
          say("the campaign did not complete within %d s", a_.timeout_s);
          return fail_run();
        }
        if (auto code = life_->process->wait(0ms)) {
          say("dialerd (life %d) exited by itself with %d", life_->number, *code);
          return fail_run();
        }
        if (kill_at && Steady::now() >= *kill_at) break;
        if (!life_->ready) {
          const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
              (kill_at ? std::min(*kill_at, overall) : overall) - Steady::now());
          life_->ready = life_->notify->wait_for("READY=1", std::clamp(left, 1ms, 200ms));
          continue;
        }
        completed = campaign_completed();
        if (!completed) std::this_thread::sleep_for(100ms);
      }
      if (completed) break;
      life_->process->signal(SIGKILL);
      if (!life_->process->wait(30s)) {
        say("dialerd did not die of SIGKILL");
        return fail_run();
      }
      ++kills_;
      if (!life_->ready) ++kills_before_ready_;
      if (kills_ % 10 == 0) progress();
      if (!spawn()) return fail_run();
    }
    const double run_s = std::chrono::duration<double>(Steady::now() - t0).count();

    // The last life shuts down as systemd would stop it: SIGTERM, exit 0.
    life_->process->signal(SIGTERM);
    const auto exit_code = life_->process->wait(testkit::kStartTimeout);
    if (exit_code != 0) {
      say("dialerd exited with %d on SIGTERM", exit_code.value_or(-1));
      return fail_run();
    }
    return compare(run_s);
  }

 private:
  [[nodiscard]] bool pair() const { return !a_.pair_conninfo.empty(); }

  bool start_sim() {
    if (webhook_port_ == 0) webhook_port_ = testkit::reserve_loopback_port();
    sim::SimOptions so = bench::loopback_sim(kKey, kSecret, webhook_port_, a_.limit, a_.time_scale);
    so.duration_mean = Millis{static_cast<std::int64_t>(a_.talk_mean_s * 1000)};
    so.seed = a_.seed;
    // Outcomes that retry, so "beyond each contact's attempts" has something to bound.
    so.outcomes = {};
    so.outcomes.set(Disposition::completed, 0.6);
    so.outcomes.set(Disposition::busy, 0.2);
    so.outcomes.set(Disposition::no_answer, 0.2);
    testkit::set_recovery_faults(so);
    so.faults.set(sim::Fault::slow_start, a_.slow_starts);
    so.faults.set(sim::Fault::list_no_total, a_.list_faults);
    so.faults.set(sim::Fault::list_short_page, a_.list_faults);
    so.slow_delay = std::chrono::duration_cast<Millis>(kSlowAnswer);
    auto st = sim::SimThread::start(so);
    if (!st) {
      say("vocobase-sim: %s", st.error().what().c_str());
      return false;
    }
    sim_ = std::move(*st);
    foreign_ = a_.foreign >= 0 ? a_.foreign : std::max(1, a_.limit / 8);
    sim_->call([n = foreign_](sim::Simulator& s) {
      s.engine().set_foreign_calls(static_cast<std::uint64_t>(n));
      return 0;
    });
    return true;
  }

  /// Starts dialerd on `config` with its notify socket and log in `dir` (named by `tag`).
  std::unique_ptr<Life> start_life(int number, const std::filesystem::path& dir,
                                   const std::string& tag, const std::string& config) {
    auto life = std::make_unique<Life>();
    life->number = number;
    life->notify = std::make_unique<NotifySocket>(dir / ("notify-" + tag));
    life->log_path = (dir / ("dialerd-" + tag + ".log")).string();
    Process::Spec spec;
    spec.argv = {a_.dialerd, "--config", config};
    spec.env = testkit::child_env({life->notify->env()});
    spec.stdout_path = "/dev/null";
    spec.stderr_path = life->log_path;
    try {
      life->process = std::make_unique<Process>(std::move(spec));
    } catch (const std::exception& e) {
      say("%s", e.what());
      return nullptr;
    }
    life->spawned = Steady::now();
    return life;
  }

  bool spawn() {
    ++lives_;
    auto life = start_life(lives_, dir_.path(), std::to_string(lives_), config_);
    if (!life) return false;
    // Keep the logs of the last few lives only: a long run has hundreds.
    if (life->number > 3 && !a_.keep_dir) {
      std::error_code ec;
      std::filesystem::remove(dir_.file("dialerd-" + std::to_string(life->number - 3) + ".log"),
                              ec);
      std::filesystem::remove(dir_.path() / ("notify-" + std::to_string(life->number - 3)), ec);
    }
    life_ = std::move(life);
    return true;
  }

  bool wait_ready(std::chrono::milliseconds bound) {
    life_->ready = life_->notify->wait_for("READY=1", bound);
    if (!life_->ready) say("dialerd sent no READY=1 within %lld ms", (long long)bound.count());
    return life_->ready;
  }

  json::object admin(const std::string& command, const json::object& arguments,
                     std::chrono::milliseconds timeout = testkit::kCommandTimeout) {
    json::object req{{"command", command}, {"arguments", arguments}};
    auto r = testkit::admin_raw(admin_socket_, json::serialize(req), timeout);
    return r ? *r : json::object{};
  }

  bool ok(const json::object& answer, const char* what) {
    if (testkit::result_of(answer) == 0) return true;
    say("%s: %s", what, json::serialize(answer).c_str());
    return false;
  }

  /// The campaigns dialling: the main one, and the overlapping one when there is one.
  std::vector<const char*> campaigns() const {
    if (overlap_ > 0) return {kCampaign, kOverlapCampaign};
    return {kCampaign};
  }

  bool create(const char* name, const std::string& list) {
    json::object retry{
        {"busy", "1s/2"}, {"no_answer", "1s/2"}, {"failed", "1s/2"}, {"lost", "1s/2"}};
    if (!ok(admin("campaign-create", {{"name", name},
                                      {"agent_id", kAgent},
                                      {"max_concurrency", a_.limit},
                                      {"max_attempts", kMaxAttempts},
                                      {"retry", retry}}),
            "campaign-create")) {
      return false;
    }
    auto imported = admin("contacts-import", {{"campaign", name}, {"path", list}}, 10min);
    return ok(imported, "contacts-import");
  }

  bool set_up() {
    if (!create(kCampaign, list_)) return false;
    if (overlap_ > 0 && !create(kOverlapCampaign, overlap_list_)) return false;
    // The first start needs GET /config's providers: wait for the first credit poll.
    if (!testkit::eventually(
            [&] {
              const auto status = admin("status-get", {}, 5s);
              return bench::config_polled(testkit::args_of(status));
            },
            testkit::kStartTimeout)) {
      say("dialerd never polled GET /config");
      return false;
    }
    for (const char* name : campaigns()) {
      if (!ok(admin("campaign-start", {{"campaign", name}}), "campaign-start")) return false;
    }
    return true;
  }

  /// When the current life is to be killed (nullopt: never, --max-kills reached).
  std::optional<Steady::time_point> next_kill() {
    if (a_.max_kills >= 0 && kills_ >= a_.max_kills) return std::nullopt;
    std::uniform_real_distribution<double> jitter(-a_.kill_jitter_s, a_.kill_jitter_s);
    const double after = std::max(0.05, a_.kill_every_s + jitter(rng_));
    return life_->spawned + std::chrono::microseconds(static_cast<std::int64_t>(after * 1e6));
  }

  bool campaign_completed() {
    for (const char* name : campaigns()) {
      const auto answer = admin("campaign-stats", {{"campaign", name}}, 5s);
      const auto& args = testkit::args_of(answer);
      const auto* state = args.if_contains("state");
      if (state == nullptr || !state->is_string()) return false;
      if (std::string_view(name) == kCampaign) last_stats_ = args;
      if (state->as_string() != "completed") return false;
    }
    return true;
  }

  void progress() {
    const auto* contacts = last_stats_.if_contains("contacts");
    say("%d kills (%d before READY), %s", kills_, kills_before_ready_,
        contacts != nullptr ? json::serialize(*contacts).c_str() : "{}");
  }

  Result<store::Database> open_store_for_audit() {
    if (!pair()) return store::Database::open(dir_.file("dialerd.db"));
    store::PgOptions o;
    o.conninfo = a_.pair_conninfo;
    o.schema = schema_;
    o.migrate = false;
    return store::Database::open_postgresql(o);
  }

  int fail_run() {
    if (life_) {
      say("log of dialerd life %d (last lines):\n%s", life_->number, tail(life_->log_path).c_str());
    }
    for (const Node& n : nodes_) {
      if (n.life) {
        say("log of node %s life %d (last lines):\n%s", n.setup.name.c_str(), n.life->number,
            tail(n.life->log_path).c_str());
      }
    }
    JsonLine line;
    line.text("scenario", pair() ? "failover" : "recovery");
    line.boolean("completed", false);
    line.number("kills", kills_, 0);
    std::printf("%s\n", line.finish().c_str());
    return 2;
  }

  // --- the failover scenario (--pair) ------------------------------------------------------

  /// One node: its setup, the PostgreSQL link it can lose, its current life.
  struct Node {
    NodeSetup setup;
    std::unique_ptr<bench::TcpProxy> pg;
    std::string config;
    std::unique_ptr<Life> life;
    int lives = 0;
    std::optional<Steady::time_point> respawn_at;  // stopped: started again then
    bool cut = false;                              // its link is cut: it must exit by itself
  };

  /// The schema, the proxies to PostgreSQL and the webhook balancer (before the simulator,
  /// which posts to the balancer).
  bool set_up_pair_links() {
    const std::string host = conninfo_value(a_.pair_conninfo, "host");
    const int port = std::atoi(conninfo_value(a_.pair_conninfo, "port").c_str());
    if ((host != "127.0.0.1" && host != "localhost") || port <= 0) {
      say("--pair needs a loopback TCP conninfo (host=127.0.0.1 port=N …), got '%s'",
          a_.pair_conninfo.c_str());
      return false;
    }
    schema_ = "failover_" + std::to_string(::getpid());
    store::PgOptions admin_options;
    admin_options.conninfo = a_.pair_conninfo;
    admin_options.migrate = false;
    auto admin_db = store::Database::open_postgresql(admin_options);
    if (!admin_db) {
      say("PostgreSQL: %s", admin_db.error().what().c_str());
      return false;
    }
    if (auto r = admin_db->exec("DROP SCHEMA IF EXISTS " + schema_ + " CASCADE; CREATE SCHEMA " +
                                schema_);
        !r) {
      say("PostgreSQL: %s", r.error().what().c_str());
      return false;
    }
    std::vector<int> webhook_ports;
    for (int i = 0; i < 2; ++i) {
      Node& n = nodes_[i];
      n.setup.name = i == 0 ? "a" : "b";
      n.setup.dir = dir_.path() / n.setup.name;
      std::filesystem::create_directories(n.setup.dir);
      n.setup.webhook_port = testkit::reserve_loopback_port();
      n.pg = std::make_unique<bench::TcpProxy>(std::vector<int>{port});
      n.setup.conninfo = conninfo_via(a_.pair_conninfo, n.pg->port());
      n.setup.schema = schema_;
      webhook_ports.push_back(n.setup.webhook_port);
    }
    balancer_ = std::make_unique<bench::TcpProxy>(webhook_ports);
    webhook_port_ = balancer_->port();
    return true;
  }

  bool spawn_node(Node& n) {
    ++n.lives;
    auto life =
        start_life(n.lives, n.setup.dir, n.setup.name + "-" + std::to_string(n.lives), n.config);
    if (!life) return false;
    n.life = std::move(life);
    n.respawn_at.reset();
    return true;
  }

  /// status-get's role of a running node ("" when it does not answer).
  std::string role_of(const Node& n) {
    if (!n.life) return "";
    json::object req{{"command", "status-get"}, {"arguments", json::object{}}};
    auto r = testkit::admin_raw(n.setup.dir / "admin.sock", json::serialize(req), 2s);
    if (!r) return "";
    const auto& args = testkit::args_of(*r);
    const auto* role = args.if_contains("role");
    return role != nullptr && role->is_string() ? std::string(role->as_string()) : "";
  }

  /// The node reporting `leader`, polling both every 100 ms until `until`.
  Node* wait_leader(Steady::time_point until) {
    while (Steady::now() < until) {
      for (Node& n : nodes_) {
        if (n.life && role_of(n) == "leader") return &n;
      }
      std::this_thread::sleep_for(100ms);
    }
    return nullptr;
  }

  int run_pair() {
    for (Node& n : nodes_) {
      n.config = dir_.write("dialerd-" + n.setup.name + ".yaml",
                            config_text(dir_, a_, sim_->base_url(), 0, &n.setup));
    }
    const auto t0 = Steady::now();
    // a first, b once a leads: the first run has a known leader.
    if (!spawn_node(nodes_[0])) return fail_run();
    Node* leader = wait_leader(Steady::now() + testkit::kStartTimeout);
    if (leader == nullptr) {
      say("no node became the leader");
      return fail_run();
    }
    if (!spawn_node(nodes_[1])) return fail_run();
    admin_socket_ = leader->setup.dir / "admin.sock";
    if (!set_up()) return fail_run();
    say("pair: campaigns started through node %s: %d contacts, %d in a second campaign, %d "
        "foreign calls, limit %d, leader killed every %.1f s (kill %d is a cut from PostgreSQL)",
        leader->setup.name.c_str(), a_.contacts, overlap_, foreign_, a_.limit, a_.kill_every_s,
        a_.cut_at);

    const auto overall = t0 + std::chrono::seconds(a_.timeout_s);
    auto leading_since = Steady::now();
    std::optional<Steady::time_point> stopped_at;  // the leader's kill or cut
    bool completed = false;
    while (!completed) {
      const auto now = Steady::now();
      if (now >= overall) {
        say("the campaign did not complete within %d s", a_.timeout_s);
        return fail_run();
      }
      for (Node& n : nodes_) {
        if (n.life) {
          if (auto code = n.life->process->wait(0ms)) {
            if (!n.cut) {
              say("node %s (life %d) exited by itself with %d", n.setup.name.c_str(),
                  n.life->number, *code);
              return fail_run();
            }
            cut_exit_code_ = *code;
            cut_exit_s_ = std::chrono::duration<double>(now - *stopped_at).count();
            say("node %s, cut from PostgreSQL, exited by itself with %d after %.1f s",
                n.setup.name.c_str(), *code, cut_exit_s_);
            n.cut = false;
            n.life.reset();
            n.respawn_at = now + 2s;
          }
        } else if (n.respawn_at && now >= *n.respawn_at) {
          n.pg->restore();
          if (!spawn_node(n)) return fail_run();
        }
      }
      if (leader == nullptr) {
        for (Node& n : nodes_) {
          // A cut node may say `leader` until its next lease check: it is not.
          if (n.life && !n.cut && role_of(n) == "leader") leader = &n;
        }
        if (leader != nullptr) {
          const double took = std::chrono::duration<double>(Steady::now() - *stopped_at).count();
          takeovers_s_.push_back(took);
          leading_since = Steady::now();
          admin_socket_ = leader->setup.dir / "admin.sock";
          say("node %s leads %.1f s after the %s", leader->setup.name.c_str(), took,
              kills_ == a_.cut_at ? "cut" : "kill");
        } else {
          std::this_thread::sleep_for(100ms);
          continue;
        }
      }
      const bool kill_due =
          (a_.max_kills < 0 || kills_ < a_.max_kills) &&
          Steady::now() >= leading_since + std::chrono::microseconds(
                                               static_cast<std::int64_t>(a_.kill_every_s * 1e6));
      if (kill_due) {
        ++kills_;
        stopped_at = Steady::now();
        if (kills_ == a_.cut_at) {
          leader->cut = true;
          leader->pg->cut();
        } else {
          leader->life->process->signal(SIGKILL);
          if (!leader->life->process->wait(30s)) {
            say("dialerd did not die of SIGKILL");
            return fail_run();
          }
          leader->life.reset();
          leader->respawn_at = Steady::now() + 2s;
        }
        // Read-only answers come from the other node meanwhile.
        Node& other = leader == &nodes_[0] ? nodes_[1] : nodes_[0];
        admin_socket_ = other.setup.dir / "admin.sock";
        leader = nullptr;
        continue;
      }
      completed = campaign_completed();
      if (!completed) std::this_thread::sleep_for(100ms);
    }
    const double run_s = std::chrono::duration<double>(Steady::now() - t0).count();
    // Both stop as systemd would stop them: SIGTERM, exit 0.
    for (Node& n : nodes_) {
      if (!n.life) continue;
      n.life->process->signal(SIGTERM);
      const auto code = n.life->process->wait(testkit::kStartTimeout);
      if (code != 0) {
        say("node %s exited with %d on SIGTERM", n.setup.name.c_str(), code.value_or(-1));
        return fail_run();
      }
    }
    return compare(run_s);
  }

  /// The simulator's view against the store's (tests/support/recovery_audit.hpp); prints the
  /// JSON line.
  int compare(double run_s) {
    const auto stats =
        sim_->call([](sim::Simulator& s) { return s.engine().stats_json(s.webhooks().stats()); });
    auto db = open_store_for_audit();
    if (!db) {
      say("store: %s", db.error().what().c_str());
      return 2;
    }
    const auto audit = testkit::audit_recovery(*sim_, *db, kMaxAttempts);
    sim_->stop();
    if (!audit.error.empty()) {
      say("store: %s", audit.error.c_str());
      return 2;
    }
    for (const auto& f : audit.findings) say("%s", f.c_str());

    const auto& refused = stats.at("refused").as_object();
    const auto& faults = stats.at("faults").as_object();
    const auto count = [](const json::value& v) { return v.to_number<double>(); };
    const auto states = [&](const char* state) {
      auto it = audit.attempt_states.find(state);
      return it == audit.attempt_states.end() ? 0.0 : static_cast<double>(it->second);
    };
    JsonLine line;
    line.text("scenario", pair() ? "failover" : "recovery");
    line.number("contacts", a_.contacts, 0);
    line.number("limit", a_.limit, 0);
    line.number("kill_every_s", a_.kill_every_s, 1);
    line.number("campaigns", static_cast<double>(campaigns().size()), 0);
    line.number("shared_numbers", audit.shared_numbers, 0);
    line.number("foreign_calls", foreign_, 0);
    if (!pair()) line.text("synchronous", a_.sync);  // SQLite's
    line.boolean("completed", true);
    line.number("run_s", run_s, 1);
    line.number("kills", kills_, 0);
    if (!pair()) line.number("kills_before_ready", kills_before_ready_, 0);
    line.number("calls", static_cast<double>(audit.calls), 0);
    line.number("attempts_finished", states("finished"), 0);
    line.number("attempts_void", states("void"), 0);
    line.number("attempts_rejected", states("rejected"), 0);
    line.number("attempts_lost", states("lost"), 0);
    line.number("faults_5xx", count(faults.at("error_5xx")), 0);
    line.number("faults_lost_response", count(faults.at("lost_response")), 0);
    line.number("faults_slow_start", count(faults.at("slow_start")), 0);
    line.number("faults_list_no_total", count(faults.at("list_no_total")), 0);
    line.number("faults_list_short_page", count(faults.at("list_short_page")), 0);
    line.number("webhooks_dropped", count(faults.at("webhook_drop")), 0);
    line.number("webhooks_duplicated", count(faults.at("webhook_duplicate")), 0);
    line.number("limit_violations", count(stats.at("limit_violations")), 0);
    line.number("refused_rate", count(refused.at("rate_calls")) + count(refused.at("rate_general")),
                0);
    line.number("calls_beyond_attempts", audit.calls_beyond_attempts, 0);
    line.number("numbers_active_twice", audit.numbers_active_twice, 0);
    line.number("numbers_two_calls_at_once_across_campaigns", audit.shared_numbers_active_twice, 0);
    line.number("contacts_non_terminal", audit.contacts_non_terminal, 0);
    line.number("outcomes_lost", audit.outcomes_lost(), 0);
    line.number("unknown_call_ids", audit.unknown_call_ids, 0);
    if (pair()) {
      std::vector<double> t = takeovers_s_;
      std::sort(t.begin(), t.end());
      line.number("takeovers", static_cast<double>(t.size()), 0);
      line.number("takeover_p50_s", t.empty() ? 0.0 : t[t.size() / 2], 1);
      line.number("takeover_max_s", t.empty() ? 0.0 : t.back(), 1);
      line.boolean("takeover_goal_met", !t.empty() && t.back() <= 15.0);
      line.number("cut_exit_code", cut_exit_code_, 0);
      line.number("cut_exit_s", cut_exit_s_, 1);
      say("%zu takeovers: p50 %.1f s, max %.1f s (goal <= 15 s); the cut leader exited with %d "
          "after %.1f s",
          t.size(), t.empty() ? 0.0 : t[t.size() / 2], t.empty() ? 0.0 : t.back(), cut_exit_code_,
          cut_exit_s_);
    }
    line.boolean("met", audit.clean());
    std::printf("%s\n", line.finish().c_str());
    say("%d kills over %.1f s, %zu calls: %d beyond attempts, %d numbers active twice (%d of "
        "%d in both campaigns), %d contacts non-terminal, %d outcomes lost, %d unknown call ids "
        "— %s",
        kills_, run_s, audit.calls, audit.calls_beyond_attempts, audit.numbers_active_twice,
        audit.shared_numbers_active_twice, audit.shared_numbers, audit.contacts_non_terminal,
        audit.outcomes_lost(), audit.unknown_call_ids, audit.clean() ? "met" : "NOT met");
    return audit.clean() ? 0 : 1;
  }

  Args a_;
  TempDir dir_{"dialer-recovery"};
  std::mt19937_64 rng_;
  std::unique_ptr<sim::SimThread> sim_;
  int webhook_port_ = 0;
  std::string config_;
  std::string list_;
  std::string overlap_list_;
  int overlap_ = 0;
  int foreign_ = 0;
  std::unique_ptr<Life> life_;
  std::filesystem::path admin_socket_ = dir_.path() / "admin.sock";
  // --pair
  std::string schema_;
  std::array<Node, 2> nodes_;
  std::unique_ptr<bench::TcpProxy> balancer_;
  std::vector<double> takeovers_s_;
  int cut_exit_code_ = -1;
  double cut_exit_s_ = 0;
  int lives_ = 0;
  int kills_ = 0;
  int kills_before_ready_ = 0;
  json::object last_stats_;
};

}  // namespace
}  // namespace dialer

int main(int argc, char** argv) {
  dialer::Args a;
  CLI::App app{
      "The recovery benchmark: dialerd killed with SIGKILL every few seconds under simulator\n"
      "faults until its campaign completes; then the simulator's stats and the store compared."};
  app.add_option("--contacts", a.contacts, "contacts in the campaign")
      ->check(CLI::Range(1, 1'000'000));
  app.add_option("--limit", a.limit, "concurrency limit (account and campaign)")
      ->check(CLI::Range(1, 1000));
  app.add_option("--kill-every", a.kill_every_s, "seconds between a start and its SIGKILL")
      ->check(CLI::Range(0.05, 3600.0));
  app.add_option("--kill-jitter", a.kill_jitter_s, "± seconds of seeded jitter on each kill")
      ->check(CLI::Range(0.0, 3600.0));
  app.add_option("--max-kills", a.max_kills, "stop killing after N kills (default: never)");
  app.add_option("--overlap", a.overlap,
                 "share of the list also in a second campaign dialling at once (0: one campaign)")
      ->check(CLI::Range(0.0, 1.0));
  app.add_option("--foreign", a.foreign,
                 "another integration's calls kept in progress on the account (default limit/8)")
      ->check(CLI::Range(0, 100'000));
  app.add_option("--slow-starts", a.slow_starts,
                 "share of starts answered only after dialerd's request timeout")
      ->check(CLI::Range(0.0, 1.0));
  app.add_option("--list-faults", a.list_faults,
                 "share of GET /calls pages without total, and again of short pages")
      ->check(CLI::Range(0.0, 1.0));
  app.add_option("--time-scale", a.time_scale, "simulator time scale")->check(CLI::Range(1.0, 1e4));
  app.add_option("--seed", a.seed, "simulator and kill-schedule seed");
  app.add_option("--timeout", a.timeout_s, "give up after S seconds")->check(CLI::Range(1, 86400));
  app.add_option("--sync", a.sync, "store.synchronous of dialerd")
      ->check(CLI::IsMember({"full", "normal"}));
  app.add_option("--dialerd", a.dialerd, "the dialerd binary (default: next to this program)");
  app.add_flag("--keep-dir", a.keep_dir, "keep the temp directory (store, logs)");
  app.add_option("--pair", a.pair_conninfo,
                 "the failover scenario: two dialerd on this PostgreSQL (loopback TCP conninfo, "
                 "e.g. scripts/pg-test-cluster's); the leader is killed every --kill-every s");
  app.add_option("--cut-at", a.cut_at,
                 "--pair: the kill that cuts the leader off PostgreSQL instead (0: none)")
      ->check(CLI::Range(0, 1000));
  CLI11_PARSE(app, argc, argv);
  spdlog::set_level(spdlog::level::warn);
  std::signal(SIGPIPE, SIG_IGN);
  try {
    dialer::Run run(std::move(a));
    return run.main();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_recovery: %s\n", e.what());
    return 2;
  }
}
