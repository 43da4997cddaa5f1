// The `dispatch`, `rate_bound` and `pace` scenarios of ../shared/design/BENCHMARKS.md.
//
//   bench_dispatch dispatch   [--contacts N] [--time-scale X] [--duration-mean S] [--sync S]
//   bench_dispatch rate_bound [--seconds N] [--contacts N] [--duration-mean S] [--sync S]
//   bench_dispatch pace       [--contacts N] [--time-scale X] [--duration-mean S]
//
// Everything runs in-process, wired as tests/integration/scheduler_sim_test.cpp wires it: the
// real scheduler over daemon::VocobasePlatform and the real Partner API client, outcomes
// arriving as signed webhooks through the real receiver and durable inbox, vocobase-sim on its
// own thread on 127.0.0.1:0, a temp-file SQLite store. One JSON line on stdout, a human summary
// on stderr.

#include "api/vocobase/client.hpp"
#include "api/webhook/outcome_sink.hpp"
#include "api/webhook/server.hpp"
#include "bench/json_line.hpp"
#include "core/time.hpp"
#include "daemon/vocobase_platform.hpp"
#include "scheduler/executor.hpp"
#include "scheduler/scheduler.hpp"
#include "sim/simulator.hpp"
#include "store/inbox_repo.hpp"
#include "store/sql/contacts.hpp"
#include "store/sql/database.hpp"
#include "tests/support/campaigns.hpp"
#include "tests/support/sim_stack.hpp"

#include <CLI/CLI.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>
#include <prometheus/registry.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <iostream>
#include <memory>
#include <optional>
#include <queue>
#include <string>
#include <thread>
#include <vector>

namespace dialer {
namespace {

using namespace std::chrono_literals;
using Steady = std::chrono::steady_clock;

constexpr std::string_view kAgent = "0f8fad5b-d9cb-469f-a165-70867728950e";

struct Args {
  std::string scenario;
  int contacts = 0;  // 0 = the scenario's default
  int seconds = 180;
  double time_scale = 0;       // 0 = the scenario's default
  double duration_mean_s = 0;  // simulated seconds; 0 = the scenario's default
  std::string sync = "normal";
  /// "background" (as the daemon) or "owner" (SQLite's automatic checkpoint in the loop's
  /// commits), to compare the handoff tail of both.
  std::string checkpoint = "background";
};

using bench::JsonLine;

bool g_background_checkpoint = true;  // --checkpoint

std::int64_t num(const boost::json::value& v) {
  return v.to_number<std::int64_t>();
}

/// The scheduler, client, webhook receiver and store on this thread's io_context; the
/// simulator on its own thread.
class Rig : public testkit::SimStack {
 public:
  bool start(const sim::SimOptions& base, store::Synchronous sync, Millis poll_interval = 5s) {
    store::OpenOptions oo;
    oo.synchronous = sync;
    oo.background_checkpoint = g_background_checkpoint;
    scheduler::SchedulerOptions options;
    options.concurrency_poll_interval = poll_interval;
    if (auto failed = launch(base, options, oo, registry_.get())) return fail(*failed);
    return true;
  }

  /// start(), then a campaign "bench" at `max_concurrency` holding `contacts` contacts.
  bool prepare(const sim::SimOptions& base, store::Synchronous sync, int max_concurrency,
               int contacts, Millis poll_interval = 5s) {
    if (!start(base, sync, poll_interval)) return false;
    auto id = create_campaign(max_concurrency);
    if (!id) return fail(id.error().what());
    return add_contacts(*id, contacts);
  }

  Result<std::int64_t> create_campaign(int max_concurrency) {
    auto s = testkit::any_hour_campaign("bench", kAgent, max_concurrency);
    s.max_attempts = 1;
    s.retry.clear();
    return scheduler_->create(s);
  }

  bool add_contacts(std::int64_t campaign_id, int count) {
    store::SqlContacts repo(*db_);
    // One transaction: the import path is not what this benchmark measures.
    if (!db_->exec("BEGIN IMMEDIATE")) return fail("BEGIN failed");
    for (int i = 0; i < count; ++i) {
      char buf[32];
      std::snprintf(buf, sizeof buf, "+9198%07d", i);
      store::NewContact c;
      c.phone = buf;
      auto r = repo.insert(campaign_id, c, clock_.now());
      if (!r) return fail(r.error().what());
    }
    if (!db_->exec("COMMIT")) return fail("COMMIT failed");
    return true;
  }

  /// Σ over the store's attempts of how long each call held a slot at the simulator (created
  /// → terminal), in real seconds; calls not found are counted in `missing`.
  double sum_call_seconds(double time_scale, int& calls, int& missing) {
    std::vector<std::string> ids;
    auto st = db_->prepare("SELECT call_id FROM attempts WHERE call_id IS NOT NULL");
    if (st) {
      while (true) {
        auto step = st->step();
        if (!step || *step != store::Step::row) break;
        ids.push_back(st->column_text(0));
      }
    }
    calls = static_cast<int>(ids.size());
    struct Sum {
      double ms = 0;
      int missing = 0;
    };
    auto sum = sim_->call([&ids](sim::Simulator& s) {
      Sum out;
      for (const auto& id : ids) {
        const auto* c = s.engine().find_call(id);
        if (c == nullptr || c->history.empty() || c->active()) {
          ++out.missing;
          continue;
        }
        out.ms += static_cast<double>(c->history.back().second - c->history.front().second);
      }
      return out;
    });
    missing = sum.missing;
    return sum.ms / 1000.0 / time_scale;
  }

  /// p50/p99 (seconds, linear within the bucket) and count of the handoff histogram.
  struct Quantiles {
    double p50 = 0, p99 = 0;
    std::uint64_t count = 0;
    std::uint64_t over_2ms = 0;  ///< exact: 2 ms is a bucket bound
  };
  Quantiles handoff() const {
    Quantiles q;
    for (const auto& fam : registry_->Collect()) {
      if (fam.name != "dialer_dispatch_handoff_seconds" || fam.metric.empty()) continue;
      const auto& h = fam.metric.front().histogram;
      q.count = h.sample_count;
      for (const auto& b : h.bucket) {
        if (std::abs(b.upper_bound - 0.002) < 1e-9)
          q.over_2ms = h.sample_count - b.cumulative_count;
      }
      auto at = [&](double quantile) {
        const double rank = quantile * static_cast<double>(h.sample_count);
        double lower = 0;
        std::uint64_t below = 0;
        for (const auto& b : h.bucket) {
          if (static_cast<double>(b.cumulative_count) >= rank) {
            if (!std::isfinite(b.upper_bound)) return lower;  // beyond the last bound
            const auto in = b.cumulative_count - below;
            const double f = in == 0 ? 1.0 : (rank - static_cast<double>(below)) / in;
            return lower + f * (b.upper_bound - lower);
          }
          lower = b.upper_bound;
          below = b.cumulative_count;
        }
        return lower;
      };
      if (h.sample_count > 0) {
        q.p50 = at(0.5);
        q.p99 = at(0.99);
      }
    }
    return q;
  }

  scheduler::Scheduler& scheduler() { return *scheduler_; }
  sim::SimThread& sim() { return *sim_; }

 private:
  bool fail(const std::string& what) {
    std::fprintf(stderr, "bench_dispatch: %s\n", what.c_str());
    return false;
  }

  std::shared_ptr<prometheus::Registry> registry_ = std::make_shared<prometheus::Registry>();
};

/// Samples the simulator's active calls every `period` on its own thread while `due` holds.
class ActiveSampler {
 public:
  ActiveSampler(sim::SimThread& sim, std::chrono::milliseconds period)
      : thread_([this, &sim, period] {
          while (!stop_.load()) {
            if (due.load()) {
              const auto active = sim.call([](sim::Simulator& s) { return s.engine().active(); });
              if (due.load()) {
                sum_ += static_cast<double>(active);
                ++samples_;
              }
            }
            std::this_thread::sleep_for(period);
          }
        }) {}
  ~ActiveSampler() { finish(); }
  ActiveSampler(const ActiveSampler&) = delete;
  ActiveSampler& operator=(const ActiveSampler&) = delete;

  void finish() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  /// After finish().
  [[nodiscard]] double mean() const { return samples_ == 0 ? 0 : sum_ / samples_; }
  [[nodiscard]] std::uint64_t samples() const { return samples_; }

  std::atomic<bool> due{false};

 private:
  std::atomic<bool> stop_{false};
  double sum_ = 0;
  std::uint64_t samples_ = 0;
  std::thread thread_;
};

store::Synchronous sync_of(const Args& a) {
  return store::synchronous_from_string(a.sync).value_or(store::Synchronous::normal);
}

int run_dispatch(const Args& a) {
  const int contacts = a.contacts > 0 ? a.contacts : 20'000;
  const double scale = a.time_scale > 0 ? a.time_scale : 100.0;
  // Dialling (0.5–2.5 s) and ringing (3–12 s) come before the talk time; with an 11 s talk
  // mean a call holds its slot ~20 s simulated, ~200 ms real at scale 100.
  const double talk_mean = a.duration_mean_s > 0 ? a.duration_mean_s : 11.0;
  constexpr int kLimit = 50;

  sim::SimOptions so;
  so.concurrency_limit = kLimit;
  so.calls_per_minute = 100'000;
  so.general_per_minute = 100'000;
  so.credits = 1e9;
  so.time_scale = scale;
  so.duration_mean = Millis{static_cast<std::int64_t>(talk_mean * 1000)};
  so.seed = 11;
  so.outcomes = {};
  so.outcomes.set(Disposition::completed, 1.0);

  Rig rig;
  if (!rig.prepare(so, sync_of(a), kLimit, contacts)) return 1;
  std::fprintf(stderr, "bench_dispatch: dispatch, %d contacts, limit %d, scale %.0f, sync %s\n",
               contacts, kLimit, scale, a.sync.c_str());

  auto& sched = rig.scheduler();
  ActiveSampler sampler(rig.sim(), 2ms);
  const auto t0 = Steady::now();
  sampler.due = true;
  if (auto r = sched.start("bench"); !r) {
    std::fprintf(stderr, "bench_dispatch: start: %s\n", r.error().what().c_str());
    return 1;
  }
  const auto all_started = [&] {
    return sched.stats().started + sched.stats().rejected >= static_cast<std::uint64_t>(contacts);
  };
  const bool started_all = rig.run_until(all_started, 30min, 1ms);
  sampler.due = false;
  const auto t_due = Steady::now();
  const bool completed = rig.run_until(
      [&] { return sched.campaign_view("bench")->campaign.state == CampaignState::completed; },
      10min, 2ms);
  const auto t_end = Steady::now();
  sampler.finish();
  if (!started_all || !completed) {
    std::fprintf(stderr, "bench_dispatch: the campaign did not complete (started %llu)\n",
                 static_cast<unsigned long long>(sched.stats().started));
  }

  int calls = 0, missing = 0;
  const double sum_s = rig.sum_call_seconds(scale, calls, missing);
  const double lower_bound = sum_s / kLimit;
  const double makespan = std::chrono::duration<double>(t_end - t0).count();
  const double due_s = std::chrono::duration<double>(t_due - t0).count();
  const double utilization = sampler.mean() / kLimit;
  const auto h = rig.handoff();
  const auto stats = rig.sim_stats();
  const auto& refused = stats.at("refused").as_object();

  JsonLine line;
  line.text("scenario", "dispatch");
  line.number("contacts", contacts, 0);
  line.number("limit", kLimit, 0);
  line.text("synchronous", a.sync);
  line.text("checkpoint", a.checkpoint);
  line.number("time_scale", scale, 0);
  line.boolean("completed", completed && started_all);
  line.number("calls", calls, 0);
  line.number("mean_call_s", calls > 0 ? sum_s / calls : 0, 4);
  line.number("utilization", utilization, 4);
  line.number("utilization_samples", static_cast<double>(sampler.samples()), 0);
  line.number("due_s", due_s, 3);
  line.number("makespan_s", makespan, 3);
  line.number("lower_bound_s", lower_bound, 3);
  line.number("makespan_ratio", lower_bound > 0 ? makespan / lower_bound : 0, 4);
  line.number("handoff_p50_ms", h.p50 * 1000, 3);
  line.number("handoff_p99_ms", h.p99 * 1000, 3);
  line.number("handoff_samples", static_cast<double>(h.count), 0);
  line.number("handoff_over_2ms", static_cast<double>(h.over_2ms), 0);
  line.number("limit_violations", static_cast<double>(num(stats.at("limit_violations"))), 0);
  line.number("sim_max_concurrent", static_cast<double>(num(stats.at("max_concurrent"))), 0);
  line.number("refused_concurrency", static_cast<double>(num(refused.at("concurrency"))), 0);
  line.number("engine_max_in_flight", sched.stats().max_in_flight, 0);
  line.raw("targets", R"({"utilization":">=0.98","makespan_ratio":"<=1.03","handoff_p99_ms":"<=2",)"
                      R"("limit_violations":"0"})");
  std::cout << line.finish() << std::endl;

  std::fprintf(stderr,
               "dispatch: %d calls (mean %.1f ms, %d not found at the sim), utilization %.4f "
               "over %.1f s due (target ≥ 0.98)\n"
               "  makespan %.2f s vs lower bound %.2f s: ratio %.4f (target ≤ 1.03)\n"
               "  handoff p50 %.3f ms, p99 %.3f ms over %llu handoffs (target p99 ≤ 2 ms; "
               "interpolated in histogram buckets; %llu over 2 ms)\n"
               "  limit violations %lld, sim max concurrent %lld, refused for concurrency %lld\n",
               calls, calls > 0 ? sum_s / calls * 1000 : 0, missing, utilization, due_s, makespan,
               lower_bound, lower_bound > 0 ? makespan / lower_bound : 0, h.p50 * 1000,
               h.p99 * 1000, static_cast<unsigned long long>(h.count),
               static_cast<unsigned long long>(h.over_2ms),
               static_cast<long long>(num(stats.at("limit_violations"))),
               static_cast<long long>(num(stats.at("max_concurrent"))),
               static_cast<long long>(num(refused.at("concurrency"))));
  return 0;
}

int run_rate_bound(const Args& a) {
  constexpr int kLimit = 100;
  constexpr int kPerMinute = 120;
  const int seconds = a.seconds > 0 ? a.seconds : 180;
  // Enough contacts that the rate, never the queue, bounds the run.
  const int contacts = a.contacts > 0 ? a.contacts : kPerMinute * (seconds / 60 + 2) + 100;
  // Dialling and ringing (~9 s) come first: a 21 s talk mean holds a slot ~30 s, so 100 slots
  // could take 200 starts a minute and the rate, not the slots, binds.
  const double talk_mean = a.duration_mean_s > 0 ? a.duration_mean_s : 21.0;

  sim::SimOptions so;
  so.concurrency_limit = kLimit;
  so.calls_per_minute = kPerMinute;
  so.general_per_minute = kPerMinute;
  so.credits = 1e9;
  so.time_scale = 1.0;
  so.duration_mean = Millis{static_cast<std::int64_t>(talk_mean * 1000)};
  so.seed = 11;
  so.outcomes = {};
  so.outcomes.set(Disposition::completed, 1.0);

  Rig rig;
  if (!rig.prepare(so, sync_of(a), kLimit, contacts)) return 1;
  std::fprintf(stderr,
               "bench_dispatch: rate_bound, %d contacts, limit %d, %d /calls/* per minute, %d s, "
               "talk mean %.0f s\n",
               contacts, kLimit, kPerMinute, seconds, talk_mean);

  const auto before = rig.sim_stats();
  auto& sched = rig.scheduler();
  const auto t0 = Steady::now();
  if (auto r = sched.start("bench"); !r) {
    std::fprintf(stderr, "bench_dispatch: start: %s\n", r.error().what().c_str());
    return 1;
  }
  rig.run_until([] { return false; }, std::chrono::seconds{seconds}, 20ms);
  const double elapsed = std::chrono::duration<double>(Steady::now() - t0).count();
  const auto stats = rig.sim_stats();
  const auto& refused = stats.at("refused").as_object();
  const auto& refused0 = before.at("refused").as_object();
  const auto d = [&](const boost::json::object& now, const boost::json::object& then,
                     const char* key) { return num(now.at(key)) - num(then.at(key)); };
  const std::int64_t rate_calls = d(refused, refused0, "rate_calls");
  const std::int64_t rate_general = d(refused, refused0, "rate_general");
  const std::int64_t starts = d(stats, before, "calls_started");
  const std::int64_t call_requests =
      d(stats.at("requests").as_object(), before.at("requests").as_object(), "calls");
  const double per_minute = static_cast<double>(starts) / (elapsed / 60.0);
  const double efficiency =
      call_requests > 0 ? static_cast<double>(starts) / static_cast<double>(call_requests) : 0;
  const int max_concurrent = static_cast<int>(num(stats.at("max_concurrent")));

  JsonLine line;
  line.text("scenario", "rate_bound");
  line.number("limit", kLimit, 0);
  line.number("calls_per_minute_limit", kPerMinute, 0);
  line.number("seconds", elapsed, 1);
  line.number("talk_mean_s", talk_mean, 0);
  line.number("starts", static_cast<double>(starts), 0);
  line.number("calls_requests", static_cast<double>(call_requests), 0);
  line.number("starts_per_request", efficiency, 4);
  line.number("starts_per_minute", per_minute, 2);
  line.number("starts_per_minute_ratio", per_minute / kPerMinute, 4);
  line.number("refused_429", static_cast<double>(rate_calls + rate_general), 0);
  line.number("refused_rate_calls", static_cast<double>(rate_calls), 0);
  line.number("refused_rate_general", static_cast<double>(rate_general), 0);
  line.number("sim_max_concurrent", max_concurrent, 0);
  line.number("limit_violations", static_cast<double>(num(stats.at("limit_violations"))), 0);
  line.raw(
      "targets",
      R"({"refused_429":"0","starts_per_request":">=0.95","starts_per_minute_ratio":">=0.95"})");
  std::cout << line.finish() << std::endl;

  std::fprintf(stderr,
               "rate_bound: %lld starts in %.1f s = %.1f/min vs limit %d (ratio %.4f, target ≥ "
               "0.95)\n"
               "  %lld /calls/* requests: starts/requests %.4f (target ≥ 0.95)\n"
               "  429s: %lld rate_calls + %lld rate_general (target 0); sim max concurrent %d of "
               "%d\n",
               static_cast<long long>(starts), elapsed, per_minute, kPerMinute,
               per_minute / kPerMinute, static_cast<long long>(call_requests), efficiency,
               static_cast<long long>(rate_calls), static_cast<long long>(rate_general),
               max_concurrent, kLimit);
  return 0;
}

/// The earliest the calls could all be over given only the limits: each start needs a token
/// (`per_window` in any `window_s`) and a slot (`slots`), in the order the calls were made, each
/// holding its slot as long as it did (seconds).
double limits_lower_bound(const std::vector<double>& holds, int per_window, double window_s,
                          int slots) {
  std::priority_queue<double, std::vector<double>, std::greater<>> free;
  for (int i = 0; i < slots; ++i) free.push(0.0);
  std::vector<double> starts(holds.size());
  double end = 0;
  for (std::size_t k = 0; k < holds.size(); ++k) {
    const double slot = free.top();
    free.pop();
    const double token =
        k >= static_cast<std::size_t>(per_window) ? starts[k - per_window] + window_s : 0.0;
    starts[k] = std::max(slot, token);
    free.push(starts[k] + holds[k]);
    end = std::max(end, starts[k] + holds[k]);
  }
  return end;
}

/// One pace run's figures, read from the simulator (simulated seconds).
struct PaceFigures {
  double makespan_s = 0;
  double lower_bound_s = 0;
  std::int64_t starts = 0;
  std::int64_t calls_requests = 0;
  std::int64_t refused_429 = 0;
  std::int64_t concurrency_refused = 0;
  bool complete = false;

  [[nodiscard]] double ratio() const { return lower_bound_s > 0 ? makespan_s / lower_bound_s : 0; }
  [[nodiscard]] double per_request() const {
    return calls_requests > 0 ? static_cast<double>(starts) / static_cast<double>(calls_requests)
                              : 0;
  }
};

constexpr int kPacePerMinute = 10;
constexpr int kPaceSlots = 5;

/// Makespan (from `t0`, simulated ms) and the limits' lower bound from the simulator's calls;
/// request counts from its stats since `before`.
PaceFigures pace_figures(sim::SimThread& sim, sim::SimMillis t0, const boost::json::value& before,
                         const boost::json::value& after, int contacts) {
  struct Calls {
    std::vector<double> holds;
    double last_end = 0;
    int ended = 0;
  };
  const auto calls = sim.call([](sim::Simulator& s) {
    Calls out;
    for (const auto& c : s.engine().calls()) {
      if (c.foreign || c.history.empty()) continue;
      out.holds.push_back(static_cast<double>(c.history.back().second - c.history.front().second) /
                          1000.0);
      if (!c.active()) {
        ++out.ended;
        out.last_end = std::max(out.last_end, static_cast<double>(c.history.back().second));
      }
    }
    return out;
  });
  PaceFigures f;
  f.complete = calls.ended >= contacts;
  f.makespan_s = (calls.last_end - static_cast<double>(t0)) / 1000.0;
  f.lower_bound_s = limits_lower_bound(calls.holds, kPacePerMinute, 60.0, kPaceSlots);
  const auto d = [](const boost::json::value& now, const boost::json::value& then,
                    std::initializer_list<const char*> path) {
    const boost::json::value* a = &now;
    const boost::json::value* b = &then;
    for (const char* k : path) {
      a = &a->as_object().at(k);
      b = &b->as_object().at(k);
    }
    return num(*a) - num(*b);
  };
  f.starts = d(after, before, {"calls_started"});
  f.calls_requests = d(after, before, {"requests", "calls"});
  f.refused_429 = d(after, before, {"refused", "rate_calls"});
  f.concurrency_refused = d(after, before, {"refused", "concurrency"});
  return f;
}

void pace_json(JsonLine& line, const std::string& prefix, const PaceFigures& f) {
  line.number((prefix + "makespan_s").c_str(), f.makespan_s, 1);
  line.number((prefix + "lower_bound_s").c_str(), f.lower_bound_s, 1);
  line.number((prefix + "ratio").c_str(), f.ratio(), 4);
  line.number((prefix + "starts").c_str(), static_cast<double>(f.starts), 0);
  line.number((prefix + "calls_requests").c_str(), static_cast<double>(f.calls_requests), 0);
  line.number((prefix + "starts_per_request").c_str(), f.per_request(), 4);
  line.number((prefix + "refused_429").c_str(), static_cast<double>(f.refused_429), 0);
}

std::string g_self_dir;  // where bench_naive_peer is

int run_pace(const Args& a) {
  const int contacts = a.contacts > 0 ? a.contacts : 40;
  // The sim's rate windows shrink with its clock (scale_rate_window), and so do the client's:
  // 10 a (simulated) minute either way.
  const double scale = a.time_scale > 0 ? a.time_scale : 10.0;
  // Dialling and ringing come before the talk time: an 11 s talk mean holds a slot ~20 s.
  const double talk_mean = a.duration_mean_s > 0 ? a.duration_mean_s : 11.0;

  sim::SimOptions so;
  so.concurrency_limit = kPaceSlots;
  so.calls_per_minute = kPacePerMinute;
  so.general_per_minute = 60;
  so.credits = 1e9;
  so.time_scale = scale;
  so.scale_rate_window = true;
  so.duration_mean = Millis{static_cast<std::int64_t>(talk_mean * 1000)};
  so.seed = 11;
  so.outcomes = {};
  so.outcomes.set(Disposition::completed, 1.0);
  std::fprintf(stderr,
               "bench_dispatch: pace, %d contacts, limit %d, %d /calls/* a minute, time scale %.0f "
               "(figures in simulated seconds)\n",
               contacts, kPaceSlots, kPacePerMinute, scale);

  const auto real = [scale](Millis simulated) {
    return Millis{std::max<std::int64_t>(1, static_cast<std::int64_t>(simulated.count() / scale))};
  };
  std::vector<std::pair<int, PaceFigures>> runs;
  for (const int interval_s : {5, 60}) {
    Rig rig;
    if (!rig.prepare(so, sync_of(a), kPaceSlots, contacts, real(std::chrono::seconds{interval_s})))
      return 1;
    const boost::json::value before = rig.sim_stats();
    const sim::SimMillis t0 = rig.sim().call([](sim::Simulator& s) { return s.now(); });
    auto& sched = rig.scheduler();
    if (auto r = sched.start("bench"); !r) {
      std::fprintf(stderr, "bench_dispatch: start: %s\n", r.error().what().c_str());
      return 1;
    }
    rig.run_until(
        [&] { return sched.campaign_view("bench")->campaign.state == CampaignState::completed; },
        real(std::chrono::minutes{60}), 1ms);
    const boost::json::value after = rig.sim_stats();
    runs.emplace_back(interval_s, pace_figures(rig.sim(), t0, before, after, contacts));
  }

  // The naive peer: a fresh simulator with the same seed, the peer program against it.
  PaceFigures peer;
  {
    sim::SimOptions po = so;
    po.listen_host = "127.0.0.1";
    po.listen_port = 0;
    po.api_keys = {std::string(testkit::kStackKey)};
    auto st = sim::SimThread::start(po);
    if (!st) {
      std::fprintf(stderr, "bench_dispatch: simulator: %s\n", st.error().what().c_str());
      return 1;
    }
    auto& psim = **st;
    const auto stats = [&psim] {
      return boost::json::value(
          psim.call([](sim::Simulator& s) { return s.engine().stats_json(s.webhooks().stats()); }));
    };
    const auto before = stats();
    const sim::SimMillis t0 = psim.call([](sim::Simulator& s) { return s.now(); });
    const std::string cmd = g_self_dir + "/bench_naive_peer --base-url " + psim.base_url() +
                            " --key " + std::string(testkit::kStackKey) + " --agent " +
                            std::string(kAgent) + " --contacts " + std::to_string(contacts) +
                            " --sleep-ms " + std::to_string(real(1s).count()) + " 1>&2";
    if (std::system(cmd.c_str()) != 0) {  // its own JSON line goes to stderr
      std::fprintf(stderr, "bench_dispatch: %s failed\n", cmd.c_str());
      return 1;
    }
    const auto deadline = Steady::now() + 10min;
    while (psim.call([](sim::Simulator& s) { return s.engine().active(); }) > 0 &&
           Steady::now() < deadline) {
      std::this_thread::sleep_for(1ms);
    }
    peer = pace_figures(psim, t0, before, stats(), contacts);
    psim.stop();
  }

  JsonLine line;
  line.text("scenario", "pace");
  line.number("contacts", contacts, 0);
  line.number("limit", kPaceSlots, 0);
  line.number("calls_per_minute_limit", kPacePerMinute, 0);
  line.number("time_scale", scale, 0);
  bool complete = peer.complete;
  for (const auto& [interval, f] : runs) {
    const std::string p = "poll" + std::to_string(interval) + "s_";
    pace_json(line, p, f);
    line.number((p + "vs_peer").c_str(), peer.makespan_s > 0 ? f.makespan_s / peer.makespan_s : 0,
                4);
    complete = complete && f.complete;
  }
  pace_json(line, "peer_", peer);
  line.boolean("completed", complete);
  line.raw("targets", R"({"ratio":"<=1.05","starts_per_request":">=0.95","refused_429":"0"})");
  std::cout << line.finish() << std::endl;

  for (const auto& [interval, f] : runs) {
    std::fprintf(stderr,
                 "pace, poll every %d s: makespan %.1f s vs lower bound %.1f s: ratio %.4f "
                 "(target ≤ 1.05); %lld starts / %lld /calls/* requests = %.4f (target ≥ 0.95); "
                 "%lld 429s (target 0); %.2f × the naive peer's makespan\n",
                 interval, f.makespan_s, f.lower_bound_s, f.ratio(),
                 static_cast<long long>(f.starts), static_cast<long long>(f.calls_requests),
                 f.per_request(), static_cast<long long>(f.refused_429),
                 peer.makespan_s > 0 ? f.makespan_s / peer.makespan_s : 0);
  }
  std::fprintf(stderr,
               "naive peer: makespan %.1f s vs lower bound %.1f s: ratio %.4f; %lld starts / %lld "
               "requests = %.4f; %lld 429s\n",
               peer.makespan_s, peer.lower_bound_s, peer.ratio(),
               static_cast<long long>(peer.starts), static_cast<long long>(peer.calls_requests),
               peer.per_request(), static_cast<long long>(peer.refused_429));
  return complete ? 0 : 1;
}

}  // namespace
}  // namespace dialer

int main(int argc, char** argv) {
  dialer::g_self_dir = std::filesystem::absolute(argv[0]).parent_path().string();
  dialer::Args args;
  CLI::App app{"dialerd dispatch benchmarks (dispatch, rate_bound)"};
  app.add_option("scenario", args.scenario, "dispatch or rate_bound")
      ->required()
      ->check(CLI::IsMember({"dispatch", "rate_bound", "pace"}));
  app.add_option("--contacts", args.contacts, "contacts in the campaign");
  app.add_option("--seconds", args.seconds, "rate_bound: length of the run");
  app.add_option("--time-scale", args.time_scale, "dispatch: simulator time scale (100)");
  app.add_option("--duration-mean", args.duration_mean_s,
                 "mean talk time of a call, simulated seconds");
  app.add_option("--sync", args.sync, "store PRAGMA synchronous")
      ->check(CLI::IsMember({"full", "normal"}));
  app.add_option("--checkpoint", args.checkpoint,
                 "WAL checkpoints on their own thread (background, as the daemon) or in the "
                 "loop's commits (owner)")
      ->check(CLI::IsMember({"background", "owner"}));
  CLI11_PARSE(app, argc, argv);
  dialer::g_background_checkpoint = args.checkpoint == "background";
  spdlog::set_level(spdlog::level::warn);
  try {
    if (args.scenario == "pace") return dialer::run_pace(args);
    return args.scenario == "dispatch" ? dialer::run_dispatch(args) : dialer::run_rate_bound(args);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_dispatch: %s\n", e.what());
    return 1;
  }
}
