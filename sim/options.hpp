#pragma once
/// vocobase-sim settings. The command-line flags and the YAML config file mirror each other
/// (CONTRACT.md, section vocobase-sim); defaults live here, in one place.

#include "core/enums.hpp"
#include "core/errc.hpp"
#include "core/time.hpp"
#include "sim/faults.hpp"

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dialer::sim {

/// Relative weight per outcome kind, indexed by Disposition (the outcome kinds of a simulated
/// call are exactly the disposition names). Weights are normalised when drawn.
struct OutcomeWeights {
  std::array<double, 8> weight{};

  [[nodiscard]] double get(Disposition d) const noexcept {
    return weight[static_cast<std::size_t>(d)];
  }
  void set(Disposition d, double w) noexcept { weight[static_cast<std::size_t>(d)] = w; }
  [[nodiscard]] double total() const noexcept;
  bool operator==(const OutcomeWeights&) const = default;
};

/// completed=0.5, no_answer=0.2, busy=0.1, voicemail=0.1, failed=0.1.
OutcomeWeights default_outcome_weights() noexcept;
/// Parses "completed=0.5,no_answer=0.2,…": names are outcome kinds, values non-negative with a
/// positive sum. Kinds not listed get weight 0.
Result<OutcomeWeights> parse_outcome_weights(std::string_view text);

/// One scripted call: its outcome and, optionally, its talk time (connected outcomes only).
struct ScriptEntry {
  Disposition outcome = Disposition::completed;
  std::optional<Millis> duration;
  /// The session's extraction values for this call (connected outcomes), instead of made-up
  /// ones: e.g. {"callback_at": "2026-12-07 17:00"}.
  std::optional<boost::json::object> extraction{};
  bool operator==(const ScriptEntry&) const = default;
};
/// E.164 number → outcomes consumed one per call to that number, in order; when a number's
/// list is used up its calls fall back to the seeded distribution.
using Script = std::map<std::string, std::vector<ScriptEntry>>;

/// Reads a script file: a YAML map number → list of entries, each an outcome name
/// ("busy") or a map {outcome: completed, duration: 30s}.
Result<Script> load_script_file(const std::string& path);
/// The same shape as JSON (POST /_sim/script).
Result<Script> script_from_json(const boost::json::value& v);

/// One webhook endpoint and its signing secret.
struct WebhookTarget {
  std::string url;
  std::string secret;
  bool operator==(const WebhookTarget&) const = default;
};
/// Parses "URL=SECRET" (split at the first '='; the URL itself may not contain '=').
Result<WebhookTarget> parse_webhook_flag(std::string_view text);

/// Every setting of the simulator.
struct SimOptions {
  std::string listen_host = "127.0.0.1";
  std::uint16_t listen_port = 8089;
  /// Accepted Bearer keys; empty = any non-empty key is accepted.
  std::vector<std::string> api_keys;
  int concurrency_limit = 5;
  int calls_per_minute = 10;
  int general_per_minute = 60;
  double credits = 1000.0;
  /// Providers that GET /config lists as allowed, and those configured among them.
  std::vector<Provider> allowed_providers = all_providers();
  std::vector<Provider> configured_providers = all_providers();
  std::vector<WebhookTarget> webhooks;
  /// Every simulated duration runs this many times faster (> 0; below 1 = slower).
  double time_scale = 1.0;
  /// Shrink the 60 s rate windows by time_scale too.
  bool scale_rate_window = false;
  std::uint64_t seed = 1;
  OutcomeWeights outcomes = default_outcome_weights();
  /// Mean talk time of an answered (`completed`) call, simulated time.
  Millis duration_mean{120'000};
  Script script;
  FaultRates faults;
  /// Known agents; empty = any well-formed UUID is known.
  std::vector<std::string> agents;
  /// Delay of a `slow` response (real time: it targets the client's own deadlines).
  Millis slow_delay{3'000};
  /// How long `lost_response_hold` keeps a connection silent (real time).
  Millis hold_time{60'000};
  /// Extra wait of `webhook_delay`, and the longest `webhook_reorder` hold (simulated time).
  Millis webhook_delay{30'000};
  /// Per-attempt webhook timeout (simulated time; never below 250 ms real).
  Millis webhook_timeout{10'000};
  /// Most webhook deliveries waiting or in flight at once; more are dropped (counted).
  std::size_t webhook_queue = 10'000;
  /// Most webhook connections open at once.
  std::size_t webhook_connections = 64;
  /// Most API connections open at once; more are closed on accept.
  std::size_t max_connections = 4'096;
  /// An API connection with no complete request for this long is closed (real time).
  Millis idle_timeout{30'000};
  /// Calls kept for GET /calls; the oldest finished ones are forgotten beyond this.
  std::size_t max_calls = 200'000;
  /// trace, debug, info, warn, error, critical, off.
  std::string log_level = "info";

  /// The providers in declaration order.
  static std::vector<Provider> all_providers();
};

/// Checks cross-field rules (ranges, up to 5 webhooks, UUID agents…).
Result<void> validate(const SimOptions& o);

/// Reads a YAML config file on top of `base`. Unknown keys are errors; every message is
/// "file:line:col: text".
Result<SimOptions> load_config_file(const std::string& path, SimOptions base = {});

/// Parses "HOST:PORT" or "[V6]:PORT".
Result<std::pair<std::string, std::uint16_t>> parse_listen(std::string_view text);
/// Parses "twilio,plivo" (case-insensitive).
Result<std::vector<Provider>> parse_provider_list(std::string_view text);

/// The settings as JSON with webhook secrets and API keys redacted (for logs and /_sim/).
boost::json::object describe(const SimOptions& o);

}  // namespace dialer::sim
