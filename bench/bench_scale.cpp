// The `scale` scenario of ../shared/design/BENCHMARKS.md: 10,000,000 contacts in 100 campaigns,
// the real `dialerd` binary dispatching them at concurrency limit 200 against vocobase-sim.
//
// The store is written by a generator through the store's own API (CampaignRepo::create,
// ContactRepo::insert in large transactions), not through the CSV import path: the import has
// its own scenario, and 10M rows through libphonenumber would take minutes per run. It is
// generated once into --cache (kept between runs) and copied for each run, since dispatching
// changes it.
//
// Measured: the time from spawning dialerd to READY=1 on that store (startup recovery
// included), and again after a SIGKILL with every slot busy (recovery of the open attempts), its
// resident set sampled every 250 ms while all 100 campaigns dial (steady = the median of the second
// half, and the peak), and the claim time p99 from its own dialer_claim_seconds histogram (claim +
// reserve transaction of one contact), plus starts per second and the simulator's concurrency
// high-water mark.
//
//   bench_scale [--contacts N] [--campaigns N] [--limit N] [--seconds S] [--time-scale X]
//               [--cache PATH] [--dialerd PATH] [--keep-dir]
//
// One JSON line on stdout, a human summary and progress on stderr.

#include "bench/bench_support.hpp"
#include "bench/json_line.hpp"
#include "core/time.hpp"
#include "sim/simulator.hpp"
#include "store/sql/campaigns.hpp"
#include "store/sql/contacts.hpp"
#include "store/sql/database.hpp"
#include "tests/support/campaigns.hpp"
#include "tests/support/process.hpp"
#include "tests/support/temp_dir.hpp"

#include <CLI/CLI.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace dialer {
namespace {

using namespace std::chrono_literals;
using Steady = std::chrono::steady_clock;
using bench::JsonLine;
using testkit::NotifySocket;
using testkit::Process;
using testkit::TempDir;
namespace fs = std::filesystem;
namespace json = boost::json;

constexpr std::string_view kKey = "rg_live_scale_bench_key";
constexpr std::string_view kSecret = "whsec_scale_bench_secret";
constexpr std::string_view kAgent = "0f8fad5b-d9cb-469f-a165-70867728950e";

struct Args {
  std::int64_t contacts = 10'000'000;
  int campaigns = 100;
  int limit = 200;
  int seconds = 60;
  double time_scale = 100.0;
  std::string cache;
  std::string dialerd;
  bool keep_dir = false;
};

constexpr bench::Say say{"bench_scale"};

/// Writes the store: `campaigns` campaigns named scale-NNN, `contacts` contacts spread evenly,
/// distinct numbers, in transactions of 100,000 rows. False on error (said).
bool generate(const fs::path& path, const Args& a) {
  const auto t0 = Steady::now();
  fs::remove(path);
  store::OpenOptions o;
  o.synchronous = store::Synchronous::normal;
  auto db = store::Database::open(path.string(), o);
  if (!db) {
    say("%s", db.error().what().c_str());
    return false;
  }
  SystemClock clock;
  std::vector<std::int64_t> ids;
  store::SqlCampaigns campaigns(*db);
  for (int c = 0; c < a.campaigns; ++c) {
    char name[32];
    std::snprintf(name, sizeof name, "scale-%03d", c);
    auto id = campaigns.create(testkit::any_hour_campaign(name, kAgent, a.limit), clock.now());
    if (!id) {
      say("%s", id.error().what().c_str());
      return false;
    }
    ids.push_back(*id);
  }
  store::SqlContacts contacts(*db);
  const std::int64_t per = (a.contacts + a.campaigns - 1) / a.campaigns;
  std::int64_t written = 0;
  store::NewContact c;
  c.number_type = NumberType::mobile;
  c.region = "IN";
  for (std::size_t k = 0; k < ids.size() && written < a.contacts; ++k) {
    if (!db->exec("BEGIN IMMEDIATE")) return false;
    for (std::int64_t i = 0; i < per && written < a.contacts; ++i, ++written) {
      char phone[32];
      std::snprintf(phone, sizeof phone, "+91%010lld", 6'000'000'000LL + written);
      c.phone = phone;
      auto r = contacts.insert(ids[k], c, clock.now());
      if (!r) {
        say("insert: %s", r.error().what().c_str());
        return false;
      }
      if ((written + 1) % 100'000 == 0) {
        if (!db->exec("COMMIT") || !db->exec("BEGIN IMMEDIATE")) return false;
      }
      if ((written + 1) % 1'000'000 == 0) {
        say("generated %lld contacts (%.0f s)", static_cast<long long>(written + 1),
            std::chrono::duration<double>(Steady::now() - t0).count());
      }
    }
    if (!db->exec("COMMIT")) return false;
  }
  if (!db->exec("PRAGMA wal_checkpoint(TRUNCATE)")) return false;
  say("store generated: %lld contacts in %d campaigns, %.0f s, %.0f MB", (long long)written,
      a.campaigns, std::chrono::duration<double>(Steady::now() - t0).count(),
      static_cast<double>(fs::file_size(path)) / 1e6);
  return true;
}

/// VmRSS of a process in MiB (0 when unreadable).
double rss_mib(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;
  }
  return 0;
}

/// GET http://127.0.0.1:port/path, 10 s deadline; the body ("" on failure).
std::string http_get(int port, const std::string& path) {
  try {
    boost::asio::io_context io;
    boost::beast::tcp_stream stream(io);
    stream.expires_after(10s);
    stream.connect(boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"),
                                                  static_cast<unsigned short>(port)));
    namespace http = boost::beast::http;
    http::request<http::empty_body> req{http::verb::get, path, 11};
    req.set(http::field::host, "127.0.0.1");
    http::write(stream, req);
    boost::beast::flat_buffer buf;
    http::response_parser<http::string_body> parser;
    parser.body_limit(16 << 20);
    http::read(stream, buf, parser);
    return parser.get().body();
  } catch (const std::exception&) {
    return {};
  }
}

/// p99 (seconds, linear within the bucket) and count of a Prometheus text histogram.
std::pair<double, double> histogram_p99(const std::string& text, const std::string& name) {
  std::vector<std::pair<double, double>> buckets;  // (le, cumulative)
  std::istringstream in(text);
  std::string line;
  const std::string prefix = name + "_bucket{le=\"";
  double count = 0;
  while (std::getline(in, line)) {
    if (line.rfind(prefix, 0) == 0) {
      const auto end = line.find('"', prefix.size());
      const std::string le = line.substr(prefix.size(), end - prefix.size());
      const double v = std::stod(line.substr(line.rfind(' ') + 1));
      buckets.emplace_back(le == "+Inf" ? INFINITY : std::stod(le), v);
    } else if (line.rfind(name + "_count ", 0) == 0) {
      count = std::stod(line.substr(line.rfind(' ') + 1));
    }
  }
  if (count <= 0) return {0, 0};
  const double rank = 0.99 * count;
  double lower = 0, below = 0;
  for (const auto& [le, cum] : buckets) {
    if (cum >= rank) {
      if (!std::isfinite(le)) return {lower, count};
      const double in_bucket = cum - below;
      return {lower + (in_bucket > 0 ? (rank - below) / in_bucket : 1.0) * (le - lower), count};
    }
    lower = le;
    below = cum;
  }
  return {lower, count};
}

std::string config_text(const TempDir& dir, const std::string& base_url, int webhook_port,
                        int metrics_port) {
  return "vocobase:\n  base_url: " + base_url + "\n  api_key: " + std::string(kKey) +
         "\n  calls_per_minute: 100000\n  general_per_minute: 100000\n"
         "webhook:\n  listen: 127.0.0.1:" +
         std::to_string(webhook_port) + "\n  secrets: [\"" + std::string(kSecret) +
         "\"]\n"
         "admin:\n  socket: " +
         dir.file("admin.sock") + "\nstore:\n  path: " + dir.file("dialerd.db") +
         "\n  synchronous: normal\n"
         "metrics:\n  listen: 127.0.0.1:" +
         std::to_string(metrics_port) +
         "\n"
         "scheduler:\n  concurrency_poll_interval: 5s\n  credit_poll_interval: 5s\n"
         "logging:\n  level: warn\n";
}

int run(Args a) {
  if (a.dialerd.empty()) {
    a.dialerd = (fs::read_symlink("/proc/self/exe").parent_path() / "dialerd").string();
  }
  if (a.cache.empty()) {
    a.cache = (fs::temp_directory_path() /
               ("dialer-bench-scale-" + std::to_string(a.contacts) + "-" +
                std::to_string(a.campaigns) + "-" + std::to_string(a.limit) + ".db"))
                  .string();
  }
  if (!fs::exists(a.cache)) {
    say("generating the store into %s (kept for later runs)…", a.cache.c_str());
    if (!generate(fs::path(a.cache + ".tmp"), a)) return 2;
    fs::rename(a.cache + ".tmp", a.cache);
  } else {
    say("store %s (generated earlier)", a.cache.c_str());
  }
  TempDir dir("dialer-bench-scale");
  if (a.keep_dir) dir.keep();
  fs::copy_file(a.cache, dir.path() / "dialerd.db");

  const int webhook_port = testkit::reserve_loopback_port();
  const int metrics_port = testkit::reserve_loopback_port();
  sim::SimOptions so = bench::loopback_sim(kKey, kSecret, webhook_port, a.limit, a.time_scale);
  so.duration_mean = Millis{11'000};  // a call holds its slot ~20 s simulated
  so.seed = 5;
  so.outcomes = {};
  so.outcomes.set(Disposition::completed, 1.0);
  auto st = sim::SimThread::start(so);
  if (!st) {
    say("vocobase-sim: %s", st.error().what().c_str());
    return 2;
  }
  auto sim = std::move(*st);
  const auto config =
      dir.write("dialerd.yaml", config_text(dir, sim->base_url(), webhook_port, metrics_port));

  // One life of dialerd: spawned, READY=1 awaited; the seconds it took.
  const auto spawn = [&](const std::string& tag, std::unique_ptr<NotifySocket>& notify,
                         std::unique_ptr<Process>& process) -> std::optional<double> {
    notify = std::make_unique<NotifySocket>(dir.path() / ("notify-" + tag));
    Process::Spec spec;
    spec.argv = {a.dialerd, "--config", config};
    spec.env = testkit::child_env({notify->env()});
    spec.stdout_path = "/dev/null";
    spec.stderr_path = dir.file("dialerd-" + tag + ".log");
    const auto spawned = Steady::now();
    process = std::make_unique<Process>(std::move(spec));
    if (!notify->wait_for("READY=1", 10min)) {
      say("dialerd sent no READY=1 in 10 min; log in %s",
          dir.file("dialerd-" + tag + ".log").c_str());
      return std::nullopt;
    }
    return std::chrono::duration<double>(Steady::now() - spawned).count();
  };
  std::unique_ptr<NotifySocket> notify;
  std::unique_ptr<Process> life;
  const auto startup = spawn("1", notify, life);
  if (!startup) return 2;
  Process& daemon = *life;
  const double startup_s = *startup;
  const double rss_ready = rss_mib(daemon.pid());
  say("dialerd ready in %.2f s on %lld contacts (RSS %.1f MiB)", startup_s,
      static_cast<long long>(a.contacts), rss_ready);

  const auto admin = [&](const std::string& command, const json::object& args) {
    json::object req{{"command", command}, {"arguments", args}};
    auto r = testkit::admin_raw(dir.path() / "admin.sock", json::serialize(req), 60s);
    return r ? *r : json::object{};
  };
  // The first start needs GET /config's providers.
  testkit::eventually(
      [&] {
        const auto status = admin("status-get", {});
        return bench::config_polled(testkit::args_of(status));
      },
      60s);
  const auto t_start = Steady::now();
  for (int c = 0; c < a.campaigns; ++c) {
    char name[32];
    std::snprintf(name, sizeof name, "scale-%03d", c);
    const auto answer = admin("campaign-start", {{"campaign", name}});
    if (testkit::result_of(answer) != 0) {
      say("campaign-start %s: %s", name, json::serialize(answer).c_str());
      return 2;
    }
  }
  const double start_all_s = std::chrono::duration<double>(Steady::now() - t_start).count();
  const auto stats = [&] {
    return sim->call([](sim::Simulator& s) { return s.engine().stats_json(s.webhooks().stats()); });
  };
  const auto before = stats();
  const auto t0 = Steady::now();
  std::vector<double> rss;
  double active_sum = 0;
  std::uint64_t active_samples = 0;
  while (Steady::now() - t0 < std::chrono::seconds{a.seconds}) {
    std::this_thread::sleep_for(250ms);
    if (daemon.wait(0ms)) {
      say("dialerd exited; log in %s", dir.file("dialerd.log").c_str());
      return 2;
    }
    rss.push_back(rss_mib(daemon.pid()));
    active_sum +=
        static_cast<double>(sim->call([](sim::Simulator& s) { return s.engine().active(); }));
    ++active_samples;
  }
  const double elapsed = std::chrono::duration<double>(Steady::now() - t0).count();
  const auto after = stats();
  const std::string metrics = http_get(metrics_port, "/metrics");
  const auto [claim_p99, claims] = histogram_p99(metrics, "dialer_claim_seconds");
  const auto [handoff_p99, handoffs] = histogram_p99(metrics, "dialer_dispatch_handoff_seconds");

  // A crash in full flight: SIGKILL with every slot busy, then the time to READY=1 again
  // (startup recovery of the open attempts on the 10M-contact store).
  const double in_flight_at_kill =
      static_cast<double>(sim->call([](sim::Simulator& s) { return s.engine().active(); }));
  daemon.signal(SIGKILL);
  (void)daemon.wait(60s);
  std::unique_ptr<NotifySocket> notify2;
  std::unique_ptr<Process> life2;
  const auto restart = spawn("2", notify2, life2);
  if (!restart) return 2;
  const double restart_rss = rss_mib(life2->pid());
  // Let it settle what was in flight, then stop it as systemd would.
  std::this_thread::sleep_for(5s);
  life2->signal(SIGTERM);
  const auto code = life2->wait(60s);
  sim->stop();

  std::vector<double> second_half(rss.begin() + static_cast<std::ptrdiff_t>(rss.size() / 2),
                                  rss.end());
  std::sort(second_half.begin(), second_half.end());
  const double rss_steady = second_half.empty() ? 0 : second_half[second_half.size() / 2];
  const double rss_peak = rss.empty() ? 0 : *std::max_element(rss.begin(), rss.end());
  const auto n = [](const json::value& v, const char* k) {
    return v.as_object().at(k).to_number<double>();
  };
  const double starts = n(after, "calls_started") - n(before, "calls_started");
  const double utilization =
      active_samples > 0 ? active_sum / static_cast<double>(active_samples) / a.limit : 0;

  JsonLine line;
  line.text("scenario", "scale");
  line.number("contacts", static_cast<double>(a.contacts), 0);
  line.number("campaigns", a.campaigns, 0);
  line.number("limit", a.limit, 0);
  line.text("store", "generated through ContactRepo::insert");
  line.number("store_mb", static_cast<double>(fs::file_size(a.cache)) / 1e6, 0);
  line.number("startup_s", startup_s, 3);
  line.number("start_all_campaigns_s", start_all_s, 3);
  line.number("in_flight_at_kill", in_flight_at_kill, 0);
  line.number("restart_after_kill_s", *restart, 3);
  line.number("rss_restart_mb", restart_rss, 1);
  line.number("seconds", elapsed, 1);
  line.number("starts", starts, 0);
  line.number("starts_per_s", starts / elapsed, 1);
  line.number("utilization", utilization, 4);
  line.number("rss_ready_mb", rss_ready, 1);
  line.number("rss_steady_mb", rss_steady, 1);
  line.number("rss_peak_mb", rss_peak, 1);
  line.number("claim_p99_ms", claim_p99 * 1000, 3);
  line.number("claims", claims, 0);
  line.number("handoff_p99_ms", handoff_p99 * 1000, 3);
  line.number("handoffs", handoffs, 0);
  line.number("exit_code", code.value_or(-1), 0);
  line.raw("targets", R"({"rss_steady_mb":"<=64","claim_p99_ms":"<=1"})");
  std::cout << line.finish() << std::endl;
  say("startup %.2f s; %d campaigns started in %.2f s; %.0f starts in %.1f s (%.1f/s, "
      "utilization %.3f of %d)",
      startup_s, a.campaigns, start_all_s, starts, elapsed, starts / elapsed, utilization, a.limit);
  say("killed with %.0f calls in flight: ready again in %.2f s (RSS %.1f MiB)", in_flight_at_kill,
      *restart, restart_rss);
  say("RSS steady %.1f MiB, peak %.1f MiB (target ≤ 64); claim p99 %.3f ms over %.0f claims "
      "(target ≤ 1); handoff p99 %.3f ms",
      rss_steady, rss_peak, claim_p99 * 1000, claims, handoff_p99 * 1000);
  return code == 0 ? 0 : 1;
}

}  // namespace
}  // namespace dialer

int main(int argc, char** argv) {
  dialer::Args a;
  CLI::App app{"scale benchmark: 10M contacts in 100 campaigns, dialerd at limit 200"};
  app.add_option("--contacts", a.contacts, "contacts in all (10,000,000)");
  app.add_option("--campaigns", a.campaigns, "campaigns (100)");
  app.add_option("--limit", a.limit, "account concurrency limit (200)");
  app.add_option("--seconds", a.seconds, "how long to measure dispatch (60)");
  app.add_option("--time-scale", a.time_scale, "simulator time scale (100)");
  app.add_option("--cache", a.cache, "generated store, kept between runs");
  app.add_option("--dialerd", a.dialerd, "dialerd binary (beside this one)");
  app.add_flag("--keep-dir", a.keep_dir, "keep the run's directory");
  CLI11_PARSE(app, argc, argv);
  spdlog::set_level(spdlog::level::warn);
  try {
    return dialer::run(a);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_scale: %s\n", e.what());
    return 2;
  }
}
