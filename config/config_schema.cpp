// The config key table: the single place where a config key is defined.

#include "config/codecs.hpp"
#include "config/config.hpp"
#include "config/schema.hpp"

#include <array>

namespace dialer::config {
namespace {

using namespace std::chrono_literals;
using detail::make_key;

constexpr double ms(Millis d) {
  return static_cast<double>(d.count());
}
constexpr std::optional<double> kNone = std::nullopt;
constexpr bool kRestart = true;
constexpr bool kLive = false;

template <class Codec, class Acc>
constexpr KeyDef<Config> key(std::string_view path, std::string_view default_text,
                             std::optional<double> min, std::optional<double> max,
                             bool needs_restart, std::string_view help, Acc acc) {
  return make_key<Codec, Config>(KeyInfo{.path = path,
                                         .type = {},
                                         .default_text = default_text,
                                         .min = min,
                                         .max = max,
                                         .min_exclusive = false,
                                         .needs_restart = needs_restart,
                                         .help = help},
                                 acc);
}

// clang-format off
constexpr auto kConfigKeys = std::to_array<KeyDef<Config>>({
  // --- vocobase ---------------------------------------------------------------------------------
  key<detail::UrlCodec>("vocobase.base_url", "https://api.vocobase.com/api/v2", kNone, 2048, kRestart,
      "Partner API base URL; http:// is allowed (for vocobase-sim).",
      [](auto& c) -> auto& { return c.vocobase.base_url; }),
  key<detail::SecretCodec>("vocobase.api_key", "", kNone, kNone, kLive,
      "The API key itself (\"rg_live_…\"). Not together with api_key_file. Without either, "
      "$DIALERD_API_KEY, then $CREDENTIALS_DIRECTORY/api-key (systemd LoadCredential=api-key:…) "
      "are used. Never printed or logged.",
      [](auto& c) -> auto& { return c.vocobase.api_key; }),
  key<detail::PathCodec>("vocobase.api_key_file", "", kNone, 4096, kLive,
      "File holding the API key (surrounding whitespace ignored), read at start and on every "
      "reload; a relative path is relative to the config file.",
      [](auto& c) -> auto& { return c.vocobase.api_key_file; }),
  key<detail::DurationCodec>("vocobase.request_timeout", "15s", ms(1s), ms(10min), kLive,
      "Deadline for one Partner API request, connect to last byte.",
      [](auto& c) -> auto& { return c.vocobase.request_timeout; }),
  key<detail::DurationCodec>("vocobase.connect_timeout", "5s", ms(100ms), ms(5min), kLive,
      "Deadline for the TCP and TLS handshake (extension).",
      [](auto& c) -> auto& { return c.vocobase.connect_timeout; }),
  key<detail::IntCodec>("vocobase.calls_per_minute", "10", 1, 100000, kLive,
      "Request budget for /calls/* endpoints per sliding minute.",
      [](auto& c) -> auto& { return c.vocobase.calls_per_minute; }),
  key<detail::IntCodec>("vocobase.general_per_minute", "60", 1, 100000, kLive,
      "Request budget for every other endpoint per sliding minute.",
      [](auto& c) -> auto& { return c.vocobase.general_per_minute; }),
  key<detail::JsonPointerCodec>("vocobase.credit_balance_pointer", "/data/credit_balance", kNone, 1024, kLive,
      "JSON pointer to the credit balance in the GET /config response.",
      [](auto& c) -> auto& { return c.vocobase.credit_balance_pointer; }),
  key<detail::NumberCodec>("vocobase.min_credit_balance", "0.3", 0, 1e12, kLive,
      "Below this balance every running campaign moves to credit_exhausted.",
      [](auto& c) -> auto& { return c.vocobase.min_credit_balance; }),
  key<detail::NumberCodec>("vocobase.resume_credit_balance", "1.0", 0, 1e12, kLive,
      "Campaigns in credit_exhausted resume (auto_resume) once the balance is back to this; "
      "at least min_credit_balance.",
      [](auto& c) -> auto& { return c.vocobase.resume_credit_balance; }),

  // --- webhook ----------------------------------------------------------------------------------
  key<detail::HostPortCodec>("webhook.listen", "127.0.0.1:8080", kNone, kNone, kRestart,
      "host:port of the HTTP listener (IPv4, [IPv6] or a host name); port 0 picks a free port.",
      [](auto& c) -> auto& { return c.webhook.listen; }),
  key<detail::UrlPathCodec>("webhook.path", "/webhooks/vocobase", kNone, 1024, kRestart,
      "Path that accepts POSTed session.completed events.",
      [](auto& c) -> auto& { return c.webhook.path; }),
  key<detail::SecretListCodec>("webhook.secrets", "", kNone, kNone, kLive,
      "Signing secrets (whsec_…), every one accepted (rotation, several endpoints). Not together "
      "with secrets_file; without either, $CREDENTIALS_DIRECTORY/webhook-secrets is read. Never "
      "printed or logged.",
      [](auto& c) -> auto& { return c.webhook.secrets; }),
  key<detail::PathCodec>("webhook.secrets_file", "", kNone, 4096, kLive,
      "File with one secret per line; blank lines and # comments ignored; relative to the "
      "config file. Re-read on reload.",
      [](auto& c) -> auto& { return c.webhook.secrets_file; }),
  key<detail::DurationCodec>("webhook.tolerance", "5m", 0, ms(24h), kLive,
      "Replay window: X-Webhook-Timestamp must be this close to now; 0 turns the check off.",
      [](auto& c) -> auto& { return c.webhook.tolerance; }),
  key<detail::OptionalHttpUrlCodec>("webhook.public_url", "\"\"", kNone, 2048, kLive,
      "The URL Vocobase posts deliveries to (behind your proxy or load balancer): what `dialerctl "
      "webhook register` registers and `dialerctl check` looks for; \"\" = not set.",
      [](auto& c) -> auto& { return c.webhook.public_url; }),
  key<detail::DurationCodec>("webhook.rotation_overlap", "24h", ms(1min), ms(24h * 30), kLive,
      "After `dialerctl webhook rotate` the previous secret is still accepted until the first "
      "delivery signed with the new one arrives, or this long at most.",
      [](auto& c) -> auto& { return c.webhook.rotation_overlap; }),
  key<detail::IntCodec>("webhook.max_connections", "512", 1, 65536, kLive,
      "Most simultaneous HTTP connections; more wait in the listen backlog (extension).",
      [](auto& c) -> auto& { return c.webhook.max_connections; }),
  key<detail::DurationCodec>("webhook.idle_timeout", "30s", ms(1s), ms(1h), kLive,
      "A connection idle this long (or this slow to send a request) is closed (extension).",
      [](auto& c) -> auto& { return c.webhook.idle_timeout; }),

  // --- admin ------------------------------------------------------------------------------------
  key<detail::PathCodec>("admin.socket", "/run/dialerd/admin.sock", kNone, 107, kRestart,
      "Path of the admin Unix socket (at most 107 bytes, the sun_path limit).",
      [](auto& c) -> auto& { return c.admin.socket; }),
  key<detail::FileModeCodec>("admin.mode", "\"0660\"", kNone, kNone, kRestart,
      "Permission bits of the socket file, octal in quotes.",
      [](auto& c) -> auto& { return c.admin.mode; }),
  key<detail::IdListCodec>("admin.allowed_uids", "[]", kNone, kNone, kLive,
      "Peer uids (SO_PEERCRED) allowed to send commands (extension). With allowed_gids: a peer "
      "passes if either list names it; both empty = anyone who can open the socket.",
      [](auto& c) -> auto& { return c.admin.allowed_uids; }),
  key<detail::IdListCodec>("admin.allowed_gids", "[]", kNone, kNone, kLive,
      "Peer primary gids allowed to send commands (extension); see allowed_uids.",
      [](auto& c) -> auto& { return c.admin.allowed_gids; }),
  key<detail::SizeCodec>("admin.max_request_bytes", "1048576", 1024, 64.0 * 1024 * 1024, kLive,
      "Largest admin request accepted, in bytes (extension).",
      [](auto& c) -> auto& { return c.admin.max_request_bytes; }),
  key<detail::OptionalDirCodec>("admin.files_dir", "\"\"", kNone, kNone, kLive,
      "Directory that path arguments (import path, reject_file, export output) must lie in, "
      "resolved without following symlinks; files are created new there, never overwritten. "
      "\"\" = path arguments are refused; descriptors passed by dialerctl always work.",
      [](auto& c) -> auto& { return c.admin.files_dir; }),

  // --- metrics ----------------------------------------------------------------------------------
  key<detail::OptionalHostPortCodec>("metrics.listen", "127.0.0.1:9470", kNone, kNone, kRestart,
      "host:port serving Prometheus GET/HEAD /metrics; \"\" = off; port 0 picks a free port "
      "(status-get metrics_listen). Never the webhook listener, which faces the internet.",
      [](auto& c) -> auto& { return c.metrics.listen; }),

  // --- store ------------------------------------------------------------------------------------
  key<detail::EnumCodec<StoreBackend>>("store.backend", "sqlite", kNone, kNone, kRestart,
      "sqlite: the embedded store (store.path); postgresql: a shared PostgreSQL database "
      "(store.postgresql.*), for two dialerd of which one dials (extension).",
      [](auto& c) -> auto& { return c.store.backend; }),
  key<detail::StringCodec>("store.postgresql.conninfo", "\"\"", kNone, 4096, kRestart,
      "libpq connection string (\"host=db.example port=5432 dbname=dialer user=dialerd\"), "
      "without a password (extension).",
      [](auto& c) -> auto& { return c.store.pg_conninfo; }),
  key<detail::PathCodec>("store.postgresql.password_file", "", kNone, 4096, kRestart,
      "File holding the PostgreSQL password; without it, $CREDENTIALS_DIRECTORY/pg-password "
      "when present (systemd LoadCredential=pg-password:…), else none (extension).",
      [](auto& c) -> auto& { return c.store.pg_password_file; }),
  key<detail::StringCodec>("store.postgresql.schema", "\"\"", kNone, 63, kRestart,
      "Schema holding dialerd's tables; \"\" = the server's search_path (extension).",
      [](auto& c) -> auto& { return c.store.pg_schema; }),
  key<detail::StringCodec>("store.postgresql.node_name", "\"\"", kNone, 63, kRestart,
      "This node's name in the leader lease of a pair (status-get, the standby's answers); "
      "\"\" = the host name (extension).",
      [](auto& c) -> auto& { return c.store.pg_node_name; }),
  key<detail::PathCodec>("store.path", "/var/lib/dialerd/dialerd.db", kNone, 4096, kRestart,
      "SQLite database file (WAL mode; -wal and -shm files sit beside it).",
      [](auto& c) -> auto& { return c.store.path; }),
  key<detail::EnumCodec<SyncMode>>("store.synchronous", "full", kNone, kNone, kRestart,
      "full survives power loss; normal may lose the last commits on power loss (never "
      "corrupts).",
      [](auto& c) -> auto& { return c.store.synchronous; }),
  key<detail::DurationCodec>("store.inbox_retention", "7d", ms(1h), ms(24h * 3650), kLive,
      "Applied webhook inbox rows (raw bodies, kept to recognise duplicates) are deleted after "
      "this long; unapplied rows never are (extension).",
      [](auto& c) -> auto& { return c.store.inbox_retention; }),
  key<detail::DurationCodec>("store.audit_retention", "90d", ms(24h), ms(24h * 3650), kLive,
      "Audit log entries are deleted after this long (extension).",
      [](auto& c) -> auto& { return c.store.audit_retention; }),

  // --- scheduler --------------------------------------------------------------------------------
  key<detail::DurationCodec>("scheduler.concurrency_poll_interval", "60s", ms(1s), ms(1h), kLive,
      "How often GET /calls/concurrency refreshes the account's slot limit.",
      [](auto& c) -> auto& { return c.scheduler.concurrency_poll_interval; }),
  key<detail::DurationCodec>("scheduler.credit_poll_interval", "60s", ms(1s), ms(1h), kLive,
      "How often the balance is polled while campaigns are credit_exhausted.",
      [](auto& c) -> auto& { return c.scheduler.credit_poll_interval; }),
  key<detail::DurationCodec>("scheduler.reconcile_after", "10m", ms(10s), ms(24h), kLive,
      "A call with no outcome after this is polled.",
      [](auto& c) -> auto& { return c.scheduler.reconcile_after; }),
  key<detail::DurationCodec>("scheduler.stale_call_timeout", "75m", ms(1min), ms(7 * 24h), kLive,
      "A call with no outcome after this is closed as lost and its slot freed; more than "
      "reconcile_after.",
      [](auto& c) -> auto& { return c.scheduler.stale_call_timeout; }),
  key<detail::DurationCodec>("scheduler.clock_skew", "2m", 0, ms(1h), kLive,
      "Allowed clock difference with Vocobase when matching calls during reconciliation.",
      [](auto& c) -> auto& { return c.scheduler.clock_skew; }),
  key<detail::IntCodec>("scheduler.error_burst_threshold", "5", 1, 1000, kLive,
      "Consecutive failed starts that pause a campaign (pause_reason errors) (extension).",
      [](auto& c) -> auto& { return c.scheduler.error_burst_threshold; }),
  key<detail::DurationCodec>("scheduler.provider_cooldown", "5m", 0, ms(24h), kLive,
      "A provider refused as not enabled is skipped this long before it is tried again "
      "(extension).",
      [](auto& c) -> auto& { return c.scheduler.provider_cooldown; }),
  key<detail::DurationCodec>("scheduler.shutdown_grace", "10s", 0, ms(10min), kLive,
      "On SIGTERM, time allowed for requests in flight to settle before exiting (extension).",
      [](auto& c) -> auto& { return c.scheduler.shutdown_grace; }),

  // --- defaults ---------------------------------------------------------------------------------
  key<detail::ZoneCodec>("defaults.timezone", "Asia/Kolkata", kNone, kNone, kLive,
      "IANA zone of the calling window, for contacts whose own zone is unknown.",
      [](auto& c) -> auto& { return c.defaults.timezone; }),
  key<detail::DaysCodec>("defaults.window.days", "[mon, tue, wed, thu, fri, sat]", kNone, kNone, kLive,
      "Calling days: a list [mon, tue, …] or a range string \"mon-sat\".",
      [](auto& c) -> auto& { return c.defaults.window.days; }),
  key<detail::TimeOfDayCodec>("defaults.window.start", "\"09:00\"", kNone, kNone, kLive,
      "Local time the window opens, \"HH:MM\".",
      [](auto& c) -> auto& { return c.defaults.window.start; }),
  key<detail::TimeOfDayCodec>("defaults.window.end", "\"21:00\"", kNone, kNone, kLive,
      "Local time the window closes, \"HH:MM\" (24:00 = midnight); after start.",
      [](auto& c) -> auto& { return c.defaults.window.end; }),
  key<detail::DurationCodec>("defaults.window.end_margin", "10m", 0, ms(12h), kLive,
      "No call starts this close to the window's end.",
      [](auto& c) -> auto& { return c.defaults.window.end_margin; }),
  key<detail::HolidaysCodec>("defaults.window.holidays", "[]", kNone, 1000, kLive,
      "Local dates \"YYYY-MM-DD\" with no calling.",
      [](auto& c) -> auto& { return c.defaults.window.holidays; }),
  key<detail::IntCodec>("defaults.max_attempts", "5", 1, 100, kLive,
      "Cap on all attempts of one contact together.",
      [](auto& c) -> auto& { return c.defaults.max_attempts; }),
  key<detail::BoolCodec>("defaults.dnc_on_blocked", "true", kNone, kNone, kLive,
      "A blocked outcome puts the number on the DNC list.",
      [](auto& c) -> auto& { return c.defaults.dnc_on_blocked; }),
  key<detail::RetryCodec>("defaults.retry", "{}", kNone, kNone, kLive,
      "Per-outcome rules {outcome: {delay: 30m, max: 3}} over the built-in policy "
      "(STATE-MACHINES.md); outcomes: voicemail, user_hangup_no_speech, no_answer, busy, failed, "
      "canceled, lost; max N = at most N attempts end with that outcome (max 0 or 1: never retried).",
      [](auto& c) -> auto& { return c.defaults.retry; }),
  key<detail::IntCodec>("defaults.max_concurrency", "5", 1, 10000, kLive,
      "Most calls in flight per campaign (extension).",
      [](auto& c) -> auto& { return c.defaults.max_concurrency; }),
  key<detail::ProvidersCodec>("defaults.providers", "[]", kNone, kNone, kLive,
      "Ordered telephony providers (mcube, twilio, exotel, plivo, vobiz, sip, voicelink); empty = "
      "the account's default (extension).",
      [](auto& c) -> auto& { return c.defaults.providers; }),
  key<detail::EnumCodec<ProviderStrategy>>("defaults.provider_strategy", "failover", kNone, kNone, kLive,
      "failover (first available in order) or round_robin (extension).",
      [](auto& c) -> auto& { return c.defaults.provider_strategy; }),
  key<detail::BoolCodec>("defaults.auto_resume", "true", kNone, kNone, kLive,
      "Campaigns paused for credits resume by themselves when credits are back (extension).",
      [](auto& c) -> auto& { return c.defaults.auto_resume; }),

  // --- logging ----------------------------------------------------------------------------------
  key<detail::EnumCodec<LogLevel>>("logging.level", "info", kNone, kNone, kLive,
      "trace, debug, info, warn, error, critical or off.",
      [](auto& c) -> auto& { return c.logging.level; }),
  key<detail::EnumCodec<LogFormat>>("logging.format", "text", kNone, kNone, kLive,
      "text (for journald) or json (one object per line).",
      [](auto& c) -> auto& { return c.logging.format; }),
});
// clang-format on

std::string markdown_escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '|') out += '\\';
    out += c;
  }
  return out;
}

template <class Root>
void markdown_table(std::string& out, std::span<const KeyDef<Root>> keys, bool with_defaults) {
  out += with_defaults ? "| key | type | default | range | on reload | description |\n"
                         "| --- | --- | --- | --- | --- | --- |\n"
                       : "| field | type | range | description |\n| --- | --- | --- | --- |\n";
  for (const auto& k : keys) {
    const KeyInfo& i = k.info;
    out += "| `" + std::string(i.path) + "` | " + std::string(i.type) + " | ";
    if (with_defaults) {
      out +=
          i.default_text.empty() ? std::string("—") : "`" + markdown_escape(i.default_text) + "`";
      out += " | ";
    }
    out += markdown_escape(range_text(i)) + " | ";
    if (with_defaults) out += i.needs_restart ? "restart | " : "live | ";
    out += markdown_escape(i.help) + " |\n";
  }
}

}  // namespace

std::span<const KeyDef<Config>> config_keys() {
  return kConfigKeys;
}

std::string reference_markdown() {
  std::string out = "## Config keys\n\n";
  markdown_table(out, config_keys(), true);
  out += "\n## Campaign fields\n\n";
  markdown_table(out, campaign_keys(), false);
  return out;
}

}  // namespace dialer::config
