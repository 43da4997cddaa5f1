#pragma once
/// The dialerd config file (CONTRACT.md "Config file") as a typed value, and its loader.
///
/// Every key, its type, default, range, whether a change needs a restart and its help text live
/// in one table (config/schema.hpp, `config_keys()`); the loader, the defaults, `reload_diff`,
/// `redacted_json` and the reference documentation all walk that table. The in-class
/// initializers below mirror the table so that a default-constructed Config is usable in tests;
/// a unit test proves the two agree.

#include "config/diagnostic.hpp"
#include "config/secret.hpp"
#include "config/values.hpp"
#include "core/campaign_spec.hpp"
#include "core/enums.hpp"
#include "core/time.hpp"

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace dialer::config {

/// SQLite `PRAGMA synchronous` (store.synchronous).
enum class SyncMode { full, normal };
/// Where the store lives (store.backend).
enum class StoreBackend { sqlite, postgresql };
/// Log threshold (logging.level); spdlog's levels.
enum class LogLevel { trace, debug, info, warn, error, critical, off };
/// Log line format (logging.format).
enum class LogFormat { text, json };
/// Where the API key came from (the loader's precedence, CONTRACT.md "Config file").
enum class ApiKeySource { none, inline_value, file, environment, credentials };
/// Where the webhook secrets came from.
enum class SecretsSource { none, inline_value, file, credentials };

/// `vocobase:` — the Partner API client.
struct VocobaseConfig {
  std::string base_url = "https://api.vocobase.com/api/v2";
  /// The resolved key, whichever source it came from (see `api_key_source`).
  Secret api_key;
  /// vocobase.api_key_file as written (relative paths are read relative to the config file).
  std::string api_key_file;
  ApiKeySource api_key_source = ApiKeySource::none;
  Millis request_timeout = std::chrono::seconds{15};
  Millis connect_timeout = std::chrono::seconds{5};
  int calls_per_minute = 10;
  int general_per_minute = 60;
  std::string credit_balance_pointer = "/data/credit_balance";
  double min_credit_balance = 0.3;
  double resume_credit_balance = 1.0;

  bool operator==(const VocobaseConfig&) const = default;
};

/// `webhook:` — the internet-facing HTTP listener: session.completed and /healthz.
struct WebhookConfig {
  HostPort listen{"127.0.0.1", 8080};
  std::string path = "/webhooks/vocobase";
  /// The resolved secrets (inline, from secrets_file or from $CREDENTIALS_DIRECTORY).
  std::vector<Secret> secrets;
  std::string secrets_file;
  SecretsSource secrets_source = SecretsSource::none;
  Millis tolerance = std::chrono::minutes{5};  ///< 0 = replay check off
  /// The URL Vocobase posts to (what `webhook register` registers and `account-check` looks
  /// for); "" = not set.
  std::string public_url;
  /// After `webhook rotate`, the previous secret stays accepted until the first delivery signed
  /// with the new one arrives, or this long at most.
  Millis rotation_overlap = std::chrono::hours{24};
  int max_connections = 512;
  Millis idle_timeout = std::chrono::seconds{30};

  bool operator==(const WebhookConfig&) const = default;
};

/// `metrics:` — the Prometheus listener, apart from the webhook one (which faces the internet).
struct MetricsConfig {
  /// GET/HEAD /metrics; nullopt = off.
  std::optional<HostPort> listen = HostPort{"127.0.0.1", 9470};

  bool operator==(const MetricsConfig&) const = default;
};

/// `admin:` — the control socket.
struct AdminConfig {
  std::string socket = "/run/dialerd/admin.sock";
  unsigned mode = 0660;  ///< permission bits of the socket file
  /// Peers (SO_PEERCRED) allowed to send commands; both empty = anyone who can open the socket.
  /// A peer is allowed when its uid is in allowed_uids or its gid is in allowed_gids.
  std::vector<std::uint32_t> allowed_uids;
  std::vector<std::uint32_t> allowed_gids;
  std::size_t max_request_bytes = 1024 * 1024;
  /// Where path arguments of admin commands may point ("" = nowhere: descriptors only).
  std::string files_dir;

  bool operator==(const AdminConfig&) const = default;
};

/// `store:` — the SQLite database.
struct StoreConfig {
  StoreBackend backend = StoreBackend::sqlite;
  /// PostgreSQL (store.backend: postgresql): libpq conninfo without a password.
  std::string pg_conninfo;
  std::string pg_password_file;
  /// Schema of dialerd's tables ("" = the server's search_path).
  std::string pg_schema;
  /// This node's name in the leader lease (status-get, the standby's refusals); "" = the
  /// host name.
  std::string pg_node_name;
  /// Read from pg_password_file or $CREDENTIALS_DIRECTORY/pg-password; never logged.
  Secret pg_password;
  std::string path = "/var/lib/dialerd/dialerd.db";
  SyncMode synchronous = SyncMode::full;
  /// Applied webhook inbox rows older than this are deleted (the raw bodies carry transcripts).
  Millis inbox_retention = std::chrono::hours{24 * 7};
  /// Audit log entries older than this are deleted.
  Millis audit_retention = std::chrono::hours{24 * 90};

  bool operator==(const StoreConfig&) const = default;
};

/// `scheduler:` — intervals and limits of dispatch, polling and recovery.
struct SchedulerConfig {
  Millis concurrency_poll_interval = std::chrono::seconds{60};
  Millis credit_poll_interval = std::chrono::seconds{60};
  Millis reconcile_after = std::chrono::minutes{10};
  Millis stale_call_timeout = std::chrono::minutes{75};
  Millis clock_skew = std::chrono::minutes{2};
  int error_burst_threshold = 5;  ///< consecutive failed starts that pause a campaign
  Millis provider_cooldown =
      std::chrono::minutes{5};  ///< a provider refused with 403 is skipped this long
  Millis shutdown_grace =
      std::chrono::seconds{10};  ///< time to settle in-flight requests on SIGTERM

  bool operator==(const SchedulerConfig&) const = default;
};

/// `defaults:` — what every campaign starts from.
struct CampaignDefaults {
  std::string timezone = "Asia/Kolkata";
  Window window;
  int max_attempts = 5;
  bool dnc_on_blocked = true;
  /// Merged over default_retry_policy(): outcomes not named keep the built-in rule.
  RetryPolicy retry = default_retry_policy();
  int max_concurrency = 5;
  std::vector<Provider> providers;
  ProviderStrategy provider_strategy = ProviderStrategy::failover;
  bool auto_resume = true;

  /// A CampaignSpec holding these defaults (name and agent_id empty): the base that
  /// parse_campaign() applies a campaign's own fields to.
  [[nodiscard]] CampaignSpec to_spec() const;

  bool operator==(const CampaignDefaults&) const = default;
};

/// `logging:`
struct LoggingConfig {
  LogLevel level = LogLevel::info;
  LogFormat format = LogFormat::text;

  bool operator==(const LoggingConfig&) const = default;
};

/// The whole config file.
struct Config {
  VocobaseConfig vocobase;
  WebhookConfig webhook;
  AdminConfig admin;
  MetricsConfig metrics;
  StoreConfig store;
  SchedulerConfig scheduler;
  CampaignDefaults defaults;
  LoggingConfig logging;

  bool operator==(const Config&) const = default;
};

/// Looks up an environment variable. Injected so that tests never read the real environment.
using GetEnv = std::function<std::optional<std::string>(const std::string& name)>;
/// The process environment (::getenv).
GetEnv process_env();
/// A fixed environment (tests).
GetEnv env_from_map(std::map<std::string, std::string> vars);

/// Largest config file read (a parser size limit).
inline constexpr std::size_t kMaxConfigBytes = 1024 * 1024;
/// Largest secret file read.
inline constexpr std::size_t kMaxSecretFileBytes = 64 * 1024;
/// Most webhook secrets accepted (Vocobase allows 5 endpoints; rotation needs a few more).
inline constexpr std::size_t kMaxWebhookSecrets = 32;
/// The default config path of dialerd.
inline constexpr std::string_view kDefaultConfigPath = "/etc/dialerd/dialerd.yaml";

/// Reads and validates a config file. Secret files named with a relative path are read relative
/// to the config file's directory. Errors: every problem, each with file:line:col.
Checked<Config> load_file(const std::string& path, const GetEnv& env);

/// Validates config text. `file_name` labels the diagnostics; relative secret file paths are
/// read relative to `base_dir` (empty = the working directory).
Checked<Config> load_text(std::string_view text, std::string_view file_name, const GetEnv& env,
                          const std::filesystem::path& base_dir = {});

/// The config every key's table default gives (no secrets).
const Config& table_defaults();

/// Every key of the config as config-get shows it: secrets as "<redacted>", durations as
/// strings ("30s"), addresses as "host:port", modes as "0660", enums by name.
boost::json::object redacted_json(const Config& config);

/// What a reload would change: `changed` lists every key path whose value differs (secrets by
/// path only), `needs_restart` the subset that only a restart applies (listen address, socket,
/// store path, …). Everything else applies live.
struct ReloadDiff {
  std::vector<std::string> changed;
  std::vector<std::string> needs_restart;

  bool operator==(const ReloadDiff&) const = default;
};
ReloadDiff reload_diff(const Config& old_config, const Config& new_config);

/// The config in force after a reload: `file` with the keys in `keep` (those only a restart
/// applies) still as `running` has them.
Config in_force_after_reload(const Config& running, Config file, std::span<const std::string> keep);

/// One key whose value in the file differs from the value in force (a reload that needs a
/// restart): both as config-get shows them.
struct PendingKey {
  std::string key;
  boost::json::value in_force;
  boost::json::value in_file;
};
/// Every key whose value differs between the config in force and the file last read.
std::vector<PendingKey> pending_keys(const Config& in_force, const Config& file);

}  // namespace dialer::config

namespace dialer {
// Wire names, so core's to_string/from_string/all_values work on the config enums.
template <>
struct EnumNames<config::SyncMode> {
  static constexpr auto names = std::to_array<std::string_view>({"full", "normal"});
};
template <>
struct EnumNames<config::StoreBackend> {
  static constexpr auto names = std::to_array<std::string_view>({"sqlite", "postgresql"});
};
template <>
struct EnumNames<config::LogLevel> {
  static constexpr auto names = std::to_array<std::string_view>(
      {"trace", "debug", "info", "warn", "error", "critical", "off"});
};
template <>
struct EnumNames<config::LogFormat> {
  static constexpr auto names = std::to_array<std::string_view>({"text", "json"});
};
template <>
struct EnumNames<config::ApiKeySource> {
  static constexpr auto names =
      std::to_array<std::string_view>({"none", "vocobase.api_key", "vocobase.api_key_file",
                                       "DIALERD_API_KEY", "$CREDENTIALS_DIRECTORY/api-key"});
};
template <>
struct EnumNames<config::SecretsSource> {
  static constexpr auto names =
      std::to_array<std::string_view>({"none", "webhook.secrets", "webhook.secrets_file",
                                       "$CREDENTIALS_DIRECTORY/webhook-secrets"});
};
}  // namespace dialer
