// The `webhook` scenario of BENCHMARKS.md: wrk (2 threads, 64 connections, 10 s) posts valid
// signed `session.completed` bodies with distinct session ids to the webhook listener, each
// stored in the SQLite inbox (synchronous=full) before its 200; the reference, measured in the
// same run on the same listener, is `GET /healthz`.
//
// The requests are signed ahead of the run (one file per wrk thread, one request per line) and
// read by a generated wrk Lua script, so the load generator spends nothing on HMAC.
//
// Usage: bench_webhook [--requests N] [--threads T] [--connections C] [--duration S]
//                      [--synchronous full|normal] [--batch-delay-ms MS] [--wrk PATH] [--dir DIR]
//                      [--keep]
// Prints one JSON line on stdout and a human summary on stderr.

#include "api/webhook/server.hpp"
#include "api/webhook/signature.hpp"
#include "bench/json_line.hpp"
#include "store/sql/database.hpp"
#include "store/sql/inbox.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/json.hpp>
#include <prometheus/registry.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <future>
#include <iostream>
#include <map>
#include <string>
#include <thread>
#include <vector>

namespace {

namespace fs = std::filesystem;
namespace asio = boost::asio;
using namespace dialer;

constexpr double kTargetStoredRps = 10'000;
constexpr double kTargetRatio = 0.5;
constexpr double kTargetP99Ms = 10;
constexpr const char* kSecret = "whsec_bench_secret";
constexpr const char* kPath = "/webhooks/vocobase";

struct Args {
  std::size_t requests = 600'000;  ///< distinct pre-signed deliveries (split across threads)
  int threads = 2;
  int connections = 64;
  int duration_s = 10;
  std::string synchronous = "full";
  /// "background" (as the daemon: checkpoints on their own thread) or "owner" (SQLite's
  /// automatic checkpoint in the committing connection), to compare the two.
  std::string checkpoint = "background";
  long batch_delay_ms = -1;  ///< -1: the server's default
  std::string wrk = "wrk";
  fs::path dir;
  bool keep = false;
};

/// What the wrk Lua `done()` hook printed.
struct WrkRun {
  double requests = 0;
  double duration_s = 0;
  double p99_ms = 0;
  double p50_ms = 0;
  double errors = 0;  ///< connect/read/write/timeout errors and non-2xx answers
  [[nodiscard]] double rps() const { return duration_s > 0 ? requests / duration_s : 0; }
};

class CountingSink final : public api::OutcomeSink {
 public:
  void on_session_completed(const api::SessionEvent&) override { ++count; }
  std::size_t count = 0;
};

[[noreturn]] void usage(const char* why) {
  std::fprintf(stderr,
               "bench_webhook: %s\nusage: bench_webhook [--requests N] [--threads T] "
               "[--connections C] [--duration S] [--synchronous full|normal] [--checkpoint "
               "background|owner] [--batch-delay-ms MS] "
               "[--wrk PATH] "
               "[--dir DIR] [--keep]\n",
               why);
  std::exit(2);
}

Args parse_args(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    const std::string k = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage(("missing value for " + k).c_str());
      return argv[++i];
    };
    if (k == "--requests")
      a.requests = std::stoul(value());
    else if (k == "--threads")
      a.threads = std::stoi(value());
    else if (k == "--connections")
      a.connections = std::stoi(value());
    else if (k == "--duration")
      a.duration_s = std::stoi(value());
    else if (k == "--synchronous")
      a.synchronous = value();
    else if (k == "--checkpoint")
      a.checkpoint = value();
    else if (k == "--batch-delay-ms")
      a.batch_delay_ms = std::stol(value());
    else if (k == "--wrk")
      a.wrk = value();
    else if (k == "--dir")
      a.dir = value();
    else if (k == "--keep")
      a.keep = true;
    else
      usage(("unknown argument " + k).c_str());
  }
  if (a.threads < 1 || a.connections < a.threads || a.duration_s < 1 || a.requests < 1) {
    usage("threads, connections, duration and requests must be positive");
  }
  return a;
}

std::string body_for(std::size_t i) {
  char id[32];
  std::snprintf(id, sizeof id, "%010zu", i);
  return std::string(R"({"event":"session.completed","timestamp":"2026-03-15T14:32:08.000Z",)") +
         R"("data":{"session_id":"bench-)" + id +
         R"(","agent_id":"0b7c7f5e-1a2b-4c3d-8e9f-001122334455","duration_seconds":0,)"
         R"("credits_used":0,"processing_complete":true,"transcript":[],"variables":{},)"
         R"("call":{"call_id":"call-)" +
         id +
         R"(","to_number":"+919876543210","direction":"outbound","status":"no_answer",)"
         R"("disposition":"no_answer","answered_by":"not_answered"}}})";
}

/// One file per wrk thread: "timestamp<TAB>signature<TAB>body" per line, disjoint session ids.
void write_requests(const Args& a, const std::string& timestamp) {
  const std::size_t per_thread = (a.requests + a.threads - 1) / a.threads;
  std::size_t next = 0;
  for (int t = 0; t < a.threads; ++t) {
    std::ofstream out(a.dir / ("requests." + std::to_string(t)));
    for (std::size_t k = 0; k < per_thread; ++k, ++next) {
      const std::string body = body_for(next);
      out << timestamp << '\t' << api::sign_webhook(kSecret, timestamp, body) << '\t' << body
          << '\n';
    }
  }
}

constexpr const char* kDoneHook = R"lua(
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("BENCH requests=%d duration_us=%d p99_us=%d p50_us=%d errors=%d\n",
    summary.requests, summary.duration, latency:percentile(99), latency:percentile(50),
    e.connect + e.read + e.write + e.status + e.timeout))
end
)lua";

void write_scripts(const Args& a) {
  std::ofstream webhook(a.dir / "webhook.lua");
  webhook << R"lua(
local next_id = 0
function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
end
function init(args)
  -- Every request is built here, before the clock starts: request() only hands them out, so
  -- the load generator costs about what it costs for the static /healthz request.
  requests = {}
  local headers = { ["Content-Type"] = "application/json" }
  for line in io.lines(args[1] .. "." .. id) do
    local ts, sig, body = line:match("^([^\t]*)\t([^\t]*)\t(.*)$")
    headers["X-Webhook-Timestamp"] = ts
    headers["X-Webhook-Signature"] = sig
    requests[#requests + 1] = wrk.format("POST", ")lua"
          << kPath << R"lua(", headers, body)
  end
  next_request = 0
end
function request()
  next_request = next_request + 1
  if next_request > #requests then next_request = 1 end
  return requests[next_request]
end
)lua" << kDoneHook;
  std::ofstream healthz(a.dir / "healthz.lua");
  healthz << kDoneHook;
}

WrkRun run_wrk(const Args& a, const std::string& script, const std::string& url,
               const std::string& script_args) {
  const std::string cmd = a.wrk + " -t" + std::to_string(a.threads) + " -c" +
                          std::to_string(a.connections) + " -d" + std::to_string(a.duration_s) +
                          "s -s " + (a.dir / script).string() + " " + url +
                          (script_args.empty() ? "" : " -- " + script_args) + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) {
    std::fprintf(stderr, "bench_webhook: cannot run %s\n", cmd.c_str());
    std::exit(1);
  }
  WrkRun run;
  bool found = false;
  char line[4096];
  while (std::fgets(line, sizeof line, p) != nullptr) {
    long long req = 0, dur = 0, p99 = 0, p50 = 0, err = 0;
    if (std::sscanf(line,
                    "BENCH requests=%lld duration_us=%lld p99_us=%lld p50_us=%lld errors=%lld",
                    &req, &dur, &p99, &p50, &err) == 5) {
      run.requests = static_cast<double>(req);
      run.duration_s = static_cast<double>(dur) / 1e6;
      run.p99_ms = static_cast<double>(p99) / 1e3;
      run.p50_ms = static_cast<double>(p50) / 1e3;
      run.errors = static_cast<double>(err);
      found = true;
    }
  }
  const int status = pclose(p);
  if (!found || status != 0) {
    std::fprintf(stderr, "bench_webhook: wrk failed (%s)\n", cmd.c_str());
    std::exit(1);
  }
  return run;
}

/// Runs `f` on the server's loop thread (the store connection belongs to it) and waits.
template <class F>
auto on_loop(asio::io_context& ioc, F f) {
  std::packaged_task<decltype(f())()> task(std::move(f));
  auto result = task.get_future();
  asio::post(ioc, [&task] { task(); });
  return result.get();
}

using bench::JsonLine;

}  // namespace

int main(int argc, char** argv) {
  Args args = parse_args(argc, argv);
  spdlog::set_level(spdlog::level::warn);
  bool made_dir = false;
  if (args.dir.empty()) {
    char tmpl[] = "/tmp/dialer-bench-webhook-XXXXXX";
    if (mkdtemp(tmpl) == nullptr) {
      std::perror("bench_webhook: mkdtemp");
      return 1;
    }
    args.dir = tmpl;
    made_dir = true;
  }
  fs::create_directories(args.dir);

  store::OpenOptions db_options;
  const auto sync = store::synchronous_from_string(args.synchronous);
  if (!sync) usage("--synchronous must be full or normal");
  db_options.synchronous = *sync;
  if (args.checkpoint != "background" && args.checkpoint != "owner")
    usage("--checkpoint must be background or owner");
  db_options.background_checkpoint = args.checkpoint == "background";
  auto db = store::Database::open((args.dir / "dialerd.db").string(), db_options);
  if (!db) {
    std::fprintf(stderr, "bench_webhook: %s\n", db.error().what().c_str());
    return 1;
  }
  store::SqlInbox repo(*db);
  api::StoreInbox inbox(repo);
  CountingSink sink;
  SystemClock clock;
  auto registry = std::make_shared<prometheus::Registry>();
  asio::io_context ioc(1);

  api::WebhookServerOptions options;
  options.listen = "127.0.0.1:0";
  options.webhook.path = kPath;
  options.webhook.secrets = {kSecret};
  if (args.batch_delay_ms >= 0) options.batch_delay = Millis{args.batch_delay_ms};
  auto server =
      api::WebhookServer::create(ioc.get_executor(), options, inbox, sink, clock, registry);
  if (!server) {
    std::fprintf(stderr, "bench_webhook: %s\n", server.error().what().c_str());
    return 1;
  }
  (*server)->start();
  (*server)->set_ready(true);
  const std::string base = "http://" + (*server)->local_address();

  std::fprintf(stderr, "bench_webhook: signing %zu deliveries into %s\n", args.requests,
               args.dir.c_str());
  write_requests(args, format_iso8601(clock.now()));
  write_scripts(args);

  auto guard = asio::make_work_guard(ioc);
  std::thread loop([&] { ioc.run(); });

  const WrkRun hooks = run_wrk(args, "webhook.lua", base + kPath, (args.dir / "requests").string());
  const auto stored =
      on_loop(ioc, [&] { return db->query_int64("SELECT count(*) FROM webhook_inbox"); });
  const WrkRun health = run_wrk(args, "healthz.lua", base + "/healthz", "");

  double batches = 0, batch_events = 0;
  for (const auto& family : on_loop(ioc, [&] { return registry->Collect(); })) {
    if (family.name != "dialer_webhook_inbox_batch_events") continue;
    for (const auto& m : family.metric) {
      batches += static_cast<double>(m.histogram.sample_count);
      batch_events += m.histogram.sample_sum;
    }
  }

  guard.reset();
  on_loop(ioc, [&] {
    (*server)->stop();
    return 0;
  });
  ioc.stop();
  loop.join();

  const double stored_rows = stored ? static_cast<double>(*stored) : 0;
  const double stored_rps = hooks.duration_s > 0 ? stored_rows / hooks.duration_s : 0;
  const double ratio = health.rps() > 0 ? hooks.rps() / health.rps() : 0;
  const bool met = stored_rps >= kTargetStoredRps && ratio >= kTargetRatio &&
                   hooks.p99_ms <= kTargetP99Ms && hooks.errors == 0;

  // Written by hand so figures read as decimals ("31443.062"), not Boost.JSON's "3.1443062E4".
  JsonLine line;
  line.text("scenario", "webhook");
  line.number("stored_rps", stored_rps, 1);
  line.number("webhook_rps", hooks.rps(), 1);
  line.number("healthz_rps", health.rps(), 1);
  line.number("ratio", ratio, 3);
  line.number("p99_ms", hooks.p99_ms, 3);
  line.number("p50_ms", hooks.p50_ms, 3);
  line.number("healthz_p99_ms", health.p99_ms, 3);
  line.number("stored", stored_rows, 0);
  line.number("responses", hooks.requests, 0);
  line.number("errors", hooks.errors + health.errors, 0);
  line.text("checkpoint", args.checkpoint);
  line.number("mean_batch", batches > 0 ? batch_events / batches : 0, 1);
  line.text("synchronous", args.synchronous);
  line.number("batch_delay_ms", static_cast<double>(options.batch_delay.count()), 0);
  line.number("threads", args.threads, 0);
  line.number("connections", args.connections, 0);
  line.number("duration_s", args.duration_s, 0);
  line.boolean("targets_met", met);
  std::cout << line.finish() << std::endl;

  std::fprintf(stderr,
               "webhook: %.0f signed-and-stored req/s (%.0f answered, %.0f stored rows, mean "
               "batch %.1f), p50 %.2f ms, p99 %.2f ms\n"
               "healthz: %.0f req/s, p99 %.2f ms\n"
               "ratio webhook/healthz %.3f (target >= %.1f); stored >= %.0f/s: %s; p99 <= %.0f "
               "ms: %s; errors %.0f\n",
               stored_rps, hooks.rps(), stored_rows, batches > 0 ? batch_events / batches : 0,
               hooks.p50_ms, hooks.p99_ms, health.rps(), health.p99_ms, ratio, kTargetRatio,
               kTargetStoredRps, stored_rps >= kTargetStoredRps ? "yes" : "no", kTargetP99Ms,
               hooks.p99_ms <= kTargetP99Ms ? "yes" : "no", hooks.errors + health.errors);
  if (stored_rows < hooks.requests) {
    std::fprintf(stderr,
                 "bench_webhook: %.0f of %.0f deliveries were repeats (only %zu distinct were "
                 "signed); raise --requests\n",
                 hooks.requests - stored_rows, hooks.requests, args.requests);
  }
  if (made_dir && !args.keep) fs::remove_all(args.dir);
  return 0;
}
