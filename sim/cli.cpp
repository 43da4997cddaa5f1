#include "sim/cli.hpp"

#include "core/version.hpp"
#include "sim/text_util.hpp"

#include <CLI/CLI.hpp>

#include <sstream>

namespace dialer::sim {

namespace {

std::string fault_help() {
  std::string s = "Faults, each NAME=P with P a probability in [0,1]:";
  for (auto f : all_faults()) {
    s += "\n  ";
    s += fault_name(f);
    s += std::string(20 - std::min<std::size_t>(19, fault_name(f).size()), ' ');
    s += fault_description(f);
  }
  return s;
}

}  // namespace

CommandLine parse_command_line(int argc, const char* const* argv) {
  CommandLine out;
  CLI::App app{
      "vocobase-sim: a simulator of the Vocobase Partner API v2 (see sim/README.md).\n"
      "Serves /api/v2 and the loopback-only /_sim/ control endpoints; prints\n"
      "`listening on HOST:PORT` as the first line on stdout.",
      "vocobase-sim"};
  app.footer(fault_help() +
             "\n\nDurations are 250ms, 30s, 5m, 2h, 1d. Simulated durations (calls, webhook\n"
             "retries, timeout, delay) run --time-scale times faster; --slow-delay, --hold-time\n"
             "and --idle-timeout are real time (they target the client's own deadlines).\n"
             "Control (loopback only): POST /_sim/faults {\"NAME\": P}, /_sim/foreign\n"
             "{\"active\": N} (another integration's calls: listed, counted in concurrency),\n"
             "/_sim/concurrency, /_sim/credits, /_sim/advance, /_sim/reset; GET /_sim/stats.\n"
             "Exit status: 0 on SIGTERM/SIGINT, 1 runtime failure, 2 usage, 3 invalid config.");
  app.get_formatter()->column_width(34);

  std::string config, listen, providers, outcomes, faults, script, credits, time_scale;
  std::string duration_mean, slow_delay, hold_time, webhook_delay, webhook_timeout, idle_timeout;
  std::string log_level;
  std::vector<std::string> api_keys, webhooks, agents;
  int concurrency = 0, cpm = 0, gpm = 0;
  std::uint64_t seed = 0;
  std::size_t webhook_queue = 0, webhook_connections = 0, max_connections = 0, max_calls = 0;
  bool scale_rate_window = false, version = false;

  app.add_option("--config", config, "YAML file mirroring these flags (flags win)")
      ->type_name("FILE");
  app.add_option("--listen", listen, "HOST:PORT to serve on; port 0 picks one [127.0.0.1:8089]")
      ->type_name("HOST:PORT");
  app.add_option("--api-key", api_keys,
                 "accepted Bearer key (repeatable); none = any non-empty key")
      ->type_name("KEY")
      ->allow_extra_args(false);
  app.add_option("--concurrency-limit", concurrency,
                 "active calls (pending+ringing+in_progress) allowed [5]")
      ->type_name("N");
  app.add_option("--calls-per-minute", cpm, "/calls/* requests per key per sliding minute [10]")
      ->type_name("N");
  app.add_option("--general-per-minute", gpm, "other requests per key per sliding minute [60]")
      ->type_name("N");
  app.add_option("--credits", credits, "starting credit balance [1000]")->type_name("X");
  app.add_option("--providers", providers,
                 "allowed and configured providers, e.g. twilio,plivo [all]")
      ->type_name("LIST");
  app.add_option("--webhook", webhooks,
                 "URL=SECRET of a session.completed endpoint (repeatable, up to 5)")
      ->type_name("URL=SECRET")
      ->allow_extra_args(false);
  app.add_option("--time-scale", time_scale,
                 "K: simulated durations run K times faster (K < 1 = slower) [1]")
      ->type_name("K");
  app.add_flag("--scale-rate-window", scale_rate_window,
               "shrink the 60 s rate windows by --time-scale too");
  app.add_option("--seed", seed, "seed of every random draw (outcomes, ids, faults) [1]")
      ->type_name("N");
  app.add_option("--outcomes", outcomes,
                 "outcome weights, e.g. completed=0.5,no_answer=0.2,busy=0.1,voicemail=0.1,"
                 "failed=0.1 (also user_hangup_no_speech, canceled, blocked)")
      ->type_name("NAME=W,...");
  app.add_option("--duration-mean", duration_mean,
                 "mean talk time of a completed call, simulated [120s]")
      ->type_name("DURATION");
  app.add_option("--script", script, "YAML file: number -> list of outcomes, consumed one per call")
      ->type_name("FILE");
  app.add_option("--faults", faults, "fault probabilities NAME=P,... (see below)")
      ->type_name("NAME=P,...");
  app.add_option("--agent", agents, "known agent UUID (repeatable); none = any UUID is known")
      ->type_name("UUID")
      ->allow_extra_args(false);
  app.add_option("--slow-delay", slow_delay, "delay of a `slow` response, real time [3s]")
      ->type_name("DURATION");
  app.add_option("--hold-time", hold_time,
                 "how long lost_response_hold keeps a connection silent, real time [60s]")
      ->type_name("DURATION");
  app.add_option("--webhook-delay", webhook_delay,
                 "wait of webhook_delay and longest webhook_reorder hold, simulated [30s]")
      ->type_name("DURATION");
  app.add_option("--webhook-timeout", webhook_timeout,
                 "per-attempt webhook timeout, simulated, at least 250ms real [10s]")
      ->type_name("DURATION");
  app.add_option("--webhook-queue", webhook_queue,
                 "most webhook deliveries pending at once; more are dropped [10000]")
      ->type_name("N");
  app.add_option("--webhook-connections", webhook_connections,
                 "most webhook connections open at once [64]")
      ->type_name("N");
  app.add_option("--max-connections", max_connections, "most API connections at once [4096]")
      ->type_name("N");
  app.add_option("--idle-timeout", idle_timeout,
                 "close an API connection idle this long, real time [30s]")
      ->type_name("DURATION");
  app.add_option("--max-calls", max_calls,
                 "calls kept for GET /calls; oldest finished ones are forgotten [200000]")
      ->type_name("N");
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error, critical, off [info]")
      ->type_name("LEVEL");
  app.add_flag("--version", version, "print the version and exit");

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    out.out = app.help();
    out.exit_code = 0;
    return out;
  } catch (const CLI::ParseError& e) {
    out.err = std::string("vocobase-sim: ") + e.what() + "\nRun with --help for usage.\n";
    out.exit_code = kExitUsage;
    return out;
  }
  if (version) {
    out.out = "vocobase-sim " + std::string(dialer::version()) + "\n";
    return out;
  }

  auto usage = [&](const std::string& msg) {
    out.err = "vocobase-sim: " + msg + "\n";
    out.exit_code = kExitUsage;
    return out;
  };
  auto given = [&](const char* name) { return app.count(name) > 0; };

  SimOptions o;
  if (given("--config")) {
    auto loaded = load_config_file(config, o);
    if (!loaded) {
      out.err = "vocobase-sim: " + loaded.error().message + "\n";
      out.exit_code = kExitConfig;
      return out;
    }
    o = std::move(*loaded);
  }
  auto duration = [&](const char* flag, const std::string& text, Millis& field) -> bool {
    if (!given(flag)) return true;
    auto d = parse_duration(text);
    if (!d) return false;
    field = *d;
    return true;
  };

  if (given("--listen")) {
    auto l = parse_listen(listen);
    if (!l) return usage("--listen: " + l.error().message);
    o.listen_host = l->first;
    o.listen_port = l->second;
  }
  if (given("--api-key")) o.api_keys = api_keys;
  if (given("--concurrency-limit")) o.concurrency_limit = concurrency;
  if (given("--calls-per-minute")) o.calls_per_minute = cpm;
  if (given("--general-per-minute")) o.general_per_minute = gpm;
  if (given("--credits")) {
    auto v = parse_double(credits);
    if (!v) return usage("--credits: not a number: " + credits);
    o.credits = *v;
  }
  if (given("--providers")) {
    auto p = parse_provider_list(providers);
    if (!p) return usage("--providers: " + p.error().message);
    o.allowed_providers = o.configured_providers = *p;
  }
  if (given("--webhook")) {
    o.webhooks.clear();
    for (const auto& w : webhooks) {
      auto t = parse_webhook_flag(w);
      if (!t) return usage("--webhook: " + t.error().message);
      o.webhooks.push_back(*t);
    }
  }
  if (given("--time-scale")) {
    auto v = parse_double(time_scale);
    if (!v || !(*v > 0)) return usage("--time-scale must be a number > 0");
    o.time_scale = *v;
  }
  if (scale_rate_window) o.scale_rate_window = true;
  if (given("--seed")) o.seed = seed;
  if (given("--outcomes")) {
    auto w = parse_outcome_weights(outcomes);
    if (!w) return usage("--outcomes: " + w.error().message);
    o.outcomes = *w;
  }
  if (!duration("--duration-mean", duration_mean, o.duration_mean)) {
    return usage("--duration-mean: bad duration");
  }
  if (given("--script")) {
    auto s = load_script_file(script);
    if (!s) {
      out.err = "vocobase-sim: " + s.error().message + "\n";
      out.exit_code = kExitConfig;
      return out;
    }
    o.script = *s;
  }
  if (given("--faults")) {
    auto f = parse_fault_list(faults, o.faults);
    if (!f) return usage("--faults: " + f.error().message);
    o.faults = *f;
  }
  if (given("--agent")) o.agents = agents;
  if (!duration("--slow-delay", slow_delay, o.slow_delay) ||
      !duration("--hold-time", hold_time, o.hold_time) ||
      !duration("--webhook-delay", webhook_delay, o.webhook_delay) ||
      !duration("--webhook-timeout", webhook_timeout, o.webhook_timeout) ||
      !duration("--idle-timeout", idle_timeout, o.idle_timeout)) {
    return usage("bad duration (use 250ms, 30s, 5m, …)");
  }
  if (given("--webhook-queue")) o.webhook_queue = webhook_queue;
  if (given("--webhook-connections")) o.webhook_connections = webhook_connections;
  if (given("--max-connections")) o.max_connections = max_connections;
  if (given("--max-calls")) o.max_calls = max_calls;
  if (given("--log-level")) o.log_level = log_level;

  if (auto r = validate(o); !r) return usage(r.error().message);
  out.options = std::move(o);
  return out;
}

}  // namespace dialer::sim
