#include "config/config.hpp"
#include "config_test_util.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace dialer::config {
namespace {

using namespace std::chrono_literals;
using test::errors_of;
using test::kMinimalConfig;
using test::load;
using test::single_error;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::StartsWith;

// A config holding only the secrets gets every other key from the table's defaults.
TEST(ConfigLoad, MinimalConfigGetsEveryDefault) {
  auto r = load(kMinimalConfig);
  ASSERT_TRUE(r) << format_diagnostics(r.error());
  const Config& c = *r;
  EXPECT_EQ(c.vocobase.base_url, "https://api.vocobase.com/api/v2");
  EXPECT_EQ(c.vocobase.request_timeout, 15s);
  EXPECT_EQ(c.vocobase.calls_per_minute, 10);
  EXPECT_EQ(c.vocobase.general_per_minute, 60);
  EXPECT_EQ(c.vocobase.credit_balance_pointer, "/data/credit_balance");
  EXPECT_DOUBLE_EQ(c.vocobase.min_credit_balance, 0.3);
  EXPECT_EQ(c.webhook.listen, (HostPort{"127.0.0.1", 8080}));
  EXPECT_EQ(c.webhook.path, "/webhooks/vocobase");
  EXPECT_EQ(c.webhook.tolerance, 5min);
  EXPECT_EQ(c.webhook.max_connections, 512);
  EXPECT_EQ(c.webhook.idle_timeout, 30s);
  EXPECT_EQ(c.admin.socket, "/run/dialerd/admin.sock");
  EXPECT_EQ(c.admin.mode, 0660u);
  EXPECT_EQ(c.admin.max_request_bytes, 1024u * 1024u);
  EXPECT_TRUE(c.admin.allowed_uids.empty());
  EXPECT_EQ(c.store.path, "/var/lib/dialerd/dialerd.db");
  EXPECT_EQ(c.store.synchronous, SyncMode::full);
  EXPECT_EQ(c.store.inbox_retention, 7 * 24h);
  EXPECT_EQ(c.store.audit_retention, 90 * 24h);
  EXPECT_EQ(c.scheduler.reconcile_after, 10min);
  EXPECT_EQ(c.scheduler.stale_call_timeout, 75min);
  EXPECT_EQ(c.scheduler.error_burst_threshold, 5);
  EXPECT_EQ(c.scheduler.provider_cooldown, 5min);
  EXPECT_EQ(c.scheduler.shutdown_grace, 10s);
  EXPECT_EQ(c.vocobase.connect_timeout, 5s);
  EXPECT_EQ(c.defaults.timezone, "Asia/Kolkata");
  EXPECT_EQ(c.defaults.window.start, 9h);
  EXPECT_EQ(c.defaults.window.end, 21h);
  EXPECT_EQ(c.defaults.window.days, (WeekDays{true, true, true, true, true, true, false}));
  EXPECT_EQ(c.defaults.retry, default_retry_policy());
  EXPECT_EQ(c.logging.level, LogLevel::info);
  EXPECT_EQ(c.logging.format, LogFormat::text);
  EXPECT_EQ(c.vocobase.api_key.reveal(), "rg_test_key_0123456789");
  EXPECT_EQ(c.vocobase.api_key_source, ApiKeySource::inline_value);
  ASSERT_EQ(c.webhook.secrets.size(), 1u);
  EXPECT_EQ(c.webhook.secrets[0].reveal(), "whsec_test_one");
}

// The example of CONTRACT.md "Config file" loads as written (secret files pointed at temp files)
// and every value lands in its typed field.
TEST(ConfigLoad, ContractExampleLoads) {
  test::TempDir dir;
  std::string key = dir.write("api-key", "rg_live_abc\n");
  std::string secrets = dir.write("webhook-secrets", "whsec_a\nwhsec_b\n");
  std::string text = R"(
vocobase:
  base_url: https://api.vocobase.com/api/v2     # http:// allowed (simulator)
  api_key_file: )" + key +
                     R"(
  request_timeout: 15s
  calls_per_minute: 10                          # /calls/* requests per sliding minute
  general_per_minute: 60                        # all other requests
  credit_balance_pointer: /data/credit_balance  # JSON pointer into GET /config
  min_credit_balance: 0.3
  resume_credit_balance: 1.0
webhook:
  listen: 127.0.0.1:8080
  path: /webhooks/vocobase
  secrets_file: )" + secrets +
                     R"(
  tolerance: 5m
admin:
  socket: /run/dialerd/admin.sock
  mode: "0660"
store:
  path: /var/lib/dialerd/dialerd.db
  synchronous: full                             # full | normal
scheduler:
  concurrency_poll_interval: 60s
  credit_poll_interval: 60s
  reconcile_after: 10m
  stale_call_timeout: 75m
  clock_skew: 2m
defaults:
  timezone: Asia/Kolkata
  window: { days: [mon, tue, wed, thu, fri, sat], start: "09:00", end: "21:00", end_margin: 10m,
            holidays: ["2026-12-25"] }
  max_attempts: 5
  dnc_on_blocked: true
  retry:
    no_answer: { delay: 30m, max: 3 }
    busy: { delay: 10m, max: 3 }
logging:
  level: info
  format: text
)";
  auto r = load(text);
  ASSERT_TRUE(r) << format_diagnostics(r.error());
  EXPECT_EQ(r->vocobase.api_key.reveal(), "rg_live_abc");
  EXPECT_EQ(r->vocobase.api_key_source, ApiKeySource::file);
  ASSERT_EQ(r->webhook.secrets.size(), 2u);
  EXPECT_EQ(r->webhook.secrets[1].reveal(), "whsec_b");
  EXPECT_EQ(r->webhook.secrets_source, SecretsSource::file);
  ASSERT_EQ(r->defaults.window.holidays.size(), 1u);
  EXPECT_EQ(r->defaults.window.holidays[0],
            std::chrono::year_month_day(std::chrono::year{2026}, std::chrono::December,
                                        std::chrono::day{25}));
  EXPECT_EQ(r->defaults.retry.at(Outcome::busy), (RetryRule{10min, 3}));
}

// Non-default values of every kind are stored in the typed fields.
TEST(ConfigLoad, NonDefaultValuesAreStored) {
  auto r = load(std::string(kMinimalConfig) + R"(
admin:
  socket: /tmp/x.sock
  mode: "0600"
  allowed_uids: [0, 1000]
  allowed_gids: [27]
  max_request_bytes: 4096
store:
  synchronous: normal
  inbox_retention: 2d
  audit_retention: 365d
scheduler:
  reconcile_after: 1h30m
  stale_call_timeout: 3h
  error_burst_threshold: 9
defaults:
  timezone: America/New_York
  window: {days: "mon-fri", start: "08:30", end: "24:00", end_margin: 0}
  retry: {failed: {max: 0}}
  providers: [twilio, plivo]
  provider_strategy: round_robin
  max_concurrency: 20
  auto_resume: false
logging: {level: debug, format: json}
)");
  ASSERT_TRUE(r) << format_diagnostics(r.error());
  EXPECT_EQ(r->admin.mode, 0600u);
  EXPECT_EQ(r->admin.allowed_uids, (std::vector<std::uint32_t>{0, 1000}));
  EXPECT_EQ(r->admin.allowed_gids, (std::vector<std::uint32_t>{27}));
  EXPECT_EQ(r->admin.max_request_bytes, 4096u);
  EXPECT_EQ(r->store.synchronous, SyncMode::normal);
  EXPECT_EQ(r->store.inbox_retention, 48h);
  EXPECT_EQ(r->store.audit_retention, 365 * 24h);
  EXPECT_EQ(r->scheduler.reconcile_after, 90min);
  EXPECT_EQ(r->scheduler.error_burst_threshold, 9);
  EXPECT_EQ(r->defaults.timezone, "America/New_York");
  EXPECT_EQ(r->defaults.window.days, (WeekDays{true, true, true, true, true, false, false}));
  EXPECT_EQ(r->defaults.window.start, 8h + 30min);
  EXPECT_EQ(r->defaults.window.end, 24h);
  EXPECT_EQ(r->defaults.window.end_margin, 0ms);
  // Only `max` of one outcome was given: its delay and every other outcome keep the built-in rule.
  RetryPolicy expected = default_retry_policy();
  expected[Outcome::failed].max = 0;
  EXPECT_EQ(r->defaults.retry, expected);
  EXPECT_EQ(r->defaults.providers, (std::vector<Provider>{Provider::twilio, Provider::plivo}));
  EXPECT_EQ(r->defaults.provider_strategy, ProviderStrategy::round_robin);
  EXPECT_EQ(r->defaults.max_concurrency, 20);
  EXPECT_FALSE(r->defaults.auto_resume);
  EXPECT_EQ(r->logging.level, LogLevel::debug);
  EXPECT_EQ(r->logging.format, LogFormat::json);
  CampaignSpec spec = r->defaults.to_spec();
  EXPECT_EQ(spec.timezone, "America/New_York");
  EXPECT_EQ(spec.max_concurrency, 20);
  EXPECT_EQ(spec.retry, expected);
  EXPECT_TRUE(spec.name.empty());
}

// An unknown key is an error at the key's 1-based position, naming its path and the near miss.
TEST(ConfigLoad, UnknownKeyWithSuggestion) {
  auto r = load(std::string(kMinimalConfig) + "scheduler:\n  reconcile_afterr: 5m\n");
  EXPECT_EQ(single_error(r),
            "test.yaml:6:3: scheduler.reconcile_afterr: unknown key (did you mean "
            "scheduler.reconcile_after?)");
}

// A key put under the wrong section points to where it belongs.
TEST(ConfigLoad, KeyInWrongSectionSuggestsItsSection) {
  auto r = load(std::string(kMinimalConfig) + "vocobase:\n  reconcile_after: 5m\n");
  // vocobase appears twice: the duplicate section is reported, not merged silently.
  auto errors = errors_of(r);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0], "test.yaml:5:1: vocobase: duplicate key");

  auto r2 = load(std::string(kMinimalConfig) + "webhook_x: 1\nstore:\n  reconcile_after: 5m\n");
  EXPECT_THAT(errors_of(r2),
              ElementsAre("test.yaml:5:1: webhook_x: unknown key (did you mean webhook?)",
                          "test.yaml:7:3: store.reconcile_after: unknown key (did "
                          "you mean scheduler.reconcile_after?)"));
}

// A value of the wrong YAML type is reported with what was expected and what was found.
TEST(ConfigLoad, WrongTypes) {
  auto r = load(std::string(kMinimalConfig) +
                "scheduler:\n"
                "  error_burst_threshold: \"5\"\n"  // quoted: a string, not an integer
                "  reconcile_after: {a: 1}\n"
                "defaults:\n"
                "  dnc_on_blocked: yes\n"
                "  max_attempts: 2.5\n"
                "  providers: twilio\n"
                "logging:\n"
                "  level: [info]\n");
  EXPECT_THAT(
      errors_of(r),
      ElementsAre(
          "test.yaml:6:26: scheduler.error_burst_threshold: expected an integer, got \"5\"",
          "test.yaml:7:20: scheduler.reconcile_after: expected a duration, got a mapping",
          "test.yaml:9:19: defaults.dnc_on_blocked: expected true or false, got \"yes\"",
          "test.yaml:10:17: defaults.max_attempts: expected an integer, got \"2.5\"",
          "test.yaml:11:14: defaults.providers: expected a list of providers, got \"twilio\"",
          "test.yaml:13:10: logging.level: expected trace, debug, info, warn, error, critical or "
          "off, got a list"));
  auto number = load("vocobase: {api_key: k, min_credit_balance: lots}\nwebhook: {secrets: [s]}\n");
  EXPECT_EQ(single_error(number),
            "test.yaml:1:44: vocobase.min_credit_balance: expected a number, got \"lots\"");
}

// Numbers and durations outside their range name the range.
TEST(ConfigLoad, OutOfRange) {
  auto r = load(std::string(kMinimalConfig) +
                "scheduler:\n"
                "  error_burst_threshold: 0\n"
                "  clock_skew: 2h\n"
                "  reconcile_after: 1s\n"
                "admin:\n"
                "  max_request_bytes: 10\n"
                "defaults:\n"
                "  max_attempts: 101\n");
  EXPECT_THAT(errors_of(r),
              ElementsAre("test.yaml:6:26: scheduler.error_burst_threshold: must be between 1 and "
                          "1000, got 0",
                          "test.yaml:7:15: scheduler.clock_skew: must be between 0s and 1h, got 2h",
                          "test.yaml:8:20: scheduler.reconcile_after: must be between 10s and 1d, "
                          "got 1s",
                          "test.yaml:10:22: admin.max_request_bytes: must be between 1024 and "
                          "67108864, got 10",
                          "test.yaml:12:17: defaults.max_attempts: must be between 1 and 100, got "
                          "101"));
}

// A malformed duration is refused with the accepted spellings (core parse_duration).
TEST(ConfigLoad, BadDuration) {
  auto r = load(std::string(kMinimalConfig) + "scheduler:\n  reconcile_after: 10x\n");
  EXPECT_EQ(single_error(r),
            "test.yaml:6:20: scheduler.reconcile_after: invalid duration \"10x\" (expected e.g. "
            "250ms, 30s, 5m, 2h, 1d or 1h30m)");
  auto r2 = load(std::string(kMinimalConfig) + "  tolerance: -5m\n");
  EXPECT_EQ(single_error(r2),
            "test.yaml:5:14: webhook.tolerance: invalid duration \"-5m\" (expected e.g. 250ms, "
            "30s, 5m, 2h, 1d or 1h30m)");
}

// An unknown IANA zone is refused; a real one (with DST) is accepted.
TEST(ConfigLoad, BadTimeZone) {
  auto r = load(std::string(kMinimalConfig) + "defaults:\n  timezone: Mars/Olympus_Mons\n");
  EXPECT_EQ(single_error(r),
            "test.yaml:6:13: defaults.timezone: unknown time zone \"Mars/Olympus_Mons\" (expected "
            "an IANA name such as Asia/Kolkata)");
  EXPECT_TRUE(load(std::string(kMinimalConfig) + "defaults:\n  timezone: Europe/Berlin\n"));
}

// Listen addresses: IPv4, [IPv6] and host names with a port 0–65535; everything else refused.
TEST(ConfigLoad, ListenAddress) {
  for (const char* good :
       {"0.0.0.0:0", "[::1]:8080", "[::]:65535", "localhost:80", "dialer.example.com:443"}) {
    auto r = load(std::string(kMinimalConfig) + "  listen: \"" + good + "\"\n");
    EXPECT_TRUE(r) << good << ": " << (r ? "" : format_diagnostics(r.error()));
  }
  struct Case {
    const char* text;
    const char* message;
  };
  for (const Case& c : {
           Case{"localhost", "missing port"},
           Case{"1.2.3:80", "invalid IPv4 address \"1.2.3\""},
           Case{"256.1.1.1:80", "invalid IPv4 address"},
           Case{"[::1]:99999", "port 99999 out of range 0 to 65535"},
           Case{"[::1]:123456", "invalid port \"123456\""},
           Case{"[::1]:65536", "port 65536 out of range"},
           Case{"::1:80", "an IPv6 address must be in brackets"},
           Case{"[zz::1]:80", "invalid IPv6 address"},
           Case{":8080", "missing host"},
           Case{"bad_host!:80", "invalid host name"},
           Case{"host:http", "invalid port \"http\""},
       }) {
    auto r = load(std::string(kMinimalConfig) + "  listen: \"" + c.text + "\"\n");
    std::string e = single_error(r);
    EXPECT_THAT(e, StartsWith("test.yaml:5:11: webhook.listen: ")) << c.text;
    EXPECT_THAT(e, HasSubstr(c.message)) << c.text;
  }
}

// metrics.listen: 127.0.0.1:9470 by default, an address, or "" for off; a bad address says
// that "" turns it off.
TEST(ConfigLoad, MetricsListen) {
  auto def = load(kMinimalConfig);
  ASSERT_TRUE(def);
  EXPECT_EQ(def->metrics.listen, (HostPort{"127.0.0.1", 9470}));
  auto off = load(std::string(kMinimalConfig) + "metrics:\n  listen: \"\"\n");
  ASSERT_TRUE(off) << format_diagnostics(off.error());
  EXPECT_FALSE(off->metrics.listen.has_value());
  EXPECT_EQ(redacted_json(*off).at("metrics").at("listen"), "");
  auto set = load(std::string(kMinimalConfig) + "metrics:\n  listen: \"[::1]:9100\"\n");
  ASSERT_TRUE(set);
  EXPECT_EQ(set->metrics.listen, (HostPort{"::1", 9100}));
  const std::string e =
      single_error(load(std::string(kMinimalConfig) + "metrics:\n  listen: \"9470\"\n"));
  EXPECT_THAT(e, HasSubstr("metrics.listen: missing port"));
  EXPECT_THAT(e, HasSubstr("\"\" turns it off"));
}

// Enumerated values list the accepted names.
TEST(ConfigLoad, BadChoice) {
  auto r = load(std::string(kMinimalConfig) +
                "store:\n  synchronous: extra\nlogging:\n  level: verbose\n");
  EXPECT_THAT(
      errors_of(r),
      ElementsAre("test.yaml:6:16: store.synchronous: invalid value \"extra\" (expected "
                  "full or normal)",
                  "test.yaml:8:10: logging.level: invalid value \"verbose\" (expected trace, "
                  "debug, info, warn, error, critical or off)"));
}

// Strings with a shape of their own: URL, path, JSON pointer, file mode, socket path length.
TEST(ConfigLoad, ShapedStrings) {
  auto r = load(std::string(kMinimalConfig) +
                "  path: webhooks\n"
                "vocobase:\n");
  EXPECT_THAT(
      errors_of(r),
      ::testing::Contains("test.yaml:5:9: webhook.path: path \"webhooks\" must start with '/'"));
  auto r2 = load(
      "vocobase:\n"
      "  api_key: k\n"
      "  base_url: ftp://example.com/\n"
      "  credit_balance_pointer: data/x\n"
      "webhook:\n"
      "  secrets: [s]\n"
      "admin:\n"
      "  mode: \"0999\"\n"
      "  socket: /" +
      std::string(120, 'a') + "\n");
  EXPECT_THAT(
      errors_of(r2),
      ElementsAre("test.yaml:3:13: vocobase.base_url: URL \"ftp://example.com/\" must start "
                  "with http:// or https://",
                  "test.yaml:4:27: vocobase.credit_balance_pointer: invalid JSON pointer "
                  "\"data/x\" (expected e.g. /data/credit_balance)",
                  "test.yaml:8:9: admin.mode: invalid file mode \"0999\" (expected octal "
                  "like \"0660\")",
                  "test.yaml:9:11: admin.socket: must be at most 107 characters long, got "
                  "121"));
  auto r3 = load(std::string(kMinimalConfig) + "vocobase_x: 1\n");
  EXPECT_FALSE(r3);
  EXPECT_TRUE(
      load("vocobase: {api_key: k, base_url: \"http://127.0.0.1:9000/api/v2\"}\nwebhook: {secrets: "
           "[s]}\n"));
}

// Every problem of a file is reported, in document order, not just the first.
TEST(ConfigLoad, AllErrorsAreReported) {
  auto r = load(
      "vocobase:\n"
      "  api_key: k\n"
      "  calls_per_minute: none\n"
      "webhook:\n"
      "  secrets: [s]\n"
      "  listen: nowhere\n"
      "scheduler:\n"
      "  reconcile_after: soon\n"
      "  bogus: 1\n"
      "defaults:\n"
      "  timezone: Nowhere/Land\n");
  auto errors = errors_of(r);
  ASSERT_EQ(errors.size(), 5u);
  EXPECT_THAT(errors[0], StartsWith("test.yaml:3:21: vocobase.calls_per_minute: "));
  EXPECT_THAT(errors[1], StartsWith("test.yaml:6:11: webhook.listen: "));
  EXPECT_THAT(errors[2], StartsWith("test.yaml:8:20: scheduler.reconcile_after: "));
  EXPECT_THAT(errors[3], StartsWith("test.yaml:9:3: scheduler.bogus: unknown key"));
  EXPECT_THAT(errors[4], StartsWith("test.yaml:11:13: defaults.timezone: "));
}

// A YAML syntax error is reported with its 1-based position.
TEST(ConfigLoad, SyntaxErrorHasPosition) {
  auto r = load("vocobase:\n  api_key: [unclosed\nwebhook:\n");
  std::string e = single_error(r);
  EXPECT_THAT(e, ::testing::MatchesRegex("test\\.yaml:[0-9]+:[0-9]+: YAML syntax error: .+"));
  auto r2 = load("a: 1\n  b: 2\n");
  EXPECT_EQ(single_error(r2), "test.yaml:2:4: YAML syntax error: illegal map value");
}

// Structure errors: a section that is not a mapping, a document that is not a mapping, two
// documents, a duplicate key.
TEST(ConfigLoad, StructureErrors) {
  EXPECT_EQ(single_error(load(std::string(kMinimalConfig) + "scheduler: 5\n")),
            "test.yaml:5:12: scheduler: expected a mapping of keys, got \"5\"");
  EXPECT_THAT(errors_of(load("- a\n- b\n")),
              ::testing::Contains("test.yaml:1:1: expected a mapping of sections (vocobase:, "
                                  "webhook:, …), got a list"));
  EXPECT_EQ(single_error(load(std::string(kMinimalConfig) + "---\nstore: {}\n")),
            "test.yaml:6:1: only one YAML document is allowed");
  EXPECT_EQ(single_error(load(std::string(kMinimalConfig) + "store:\n  path: /a\n  path: /b\n")),
            "test.yaml:7:3: store.path: duplicate key");
  // An empty section is allowed ("admin:" with every key commented out).
  EXPECT_TRUE(load(std::string(kMinimalConfig) + "admin:\nstore:\n"));
}

// Rules tying keys together are reported at the key the file set.
TEST(ConfigLoad, CrossFieldChecks) {
  auto balance = load(
      "vocobase:\n  api_key: k\n  min_credit_balance: 5\n  resume_credit_balance: 2\n"
      "webhook:\n  secrets: [s]\n");
  EXPECT_EQ(single_error(balance),
            "test.yaml:4:26: vocobase.resume_credit_balance: resume_credit_balance (2) must be at "
            "least min_credit_balance (5)");
  auto stale = load(std::string(kMinimalConfig) + "scheduler:\n  stale_call_timeout: 5m\n");
  EXPECT_EQ(single_error(stale),
            "test.yaml:6:23: scheduler.stale_call_timeout: stale_call_timeout (5m) must be longer "
            "than reconcile_after (10m, the default)");
  // The user's own value was refused: no rule compares the other side with a default they
  // never wrote; only the refused value is reported.
  auto refused = load(
      "vocobase:\n  api_key: k\n  min_credit_balance: lots\n  resume_credit_balance: 0.1\n"
      "webhook:\n  secrets: [s]\n");
  EXPECT_THAT(single_error(refused), StartsWith("test.yaml:3:23: vocobase.min_credit_balance: "));
  auto refused_reconcile = load(std::string(kMinimalConfig) +
                                "scheduler:\n  reconcile_after: 2 hours\n"
                                "  stale_call_timeout: 5m\n");
  EXPECT_THAT(single_error(refused_reconcile),
              StartsWith("test.yaml:6:20: scheduler.reconcile_after: invalid duration"));
  auto window = load(std::string(kMinimalConfig) +
                     "defaults:\n  window:\n    start: \"18:00\"\n    end: \"09:00\"\n");
  EXPECT_EQ(single_error(window),
            "test.yaml:8:10: defaults.window.end: window end 09:00 must be after start 18:00 "
            "(windows cannot cross midnight)");
  auto margin = load(std::string(kMinimalConfig) +
                     "defaults:\n  window: {start: \"09:00\", end: \"09:30\", end_margin: 30m}\n");
  EXPECT_THAT(
      single_error(margin),
      StartsWith("test.yaml:6:54: defaults.window.end_margin: end_margin 30m leaves no time "
                 "in the window 09:00-09:30"));
  auto days = load(std::string(kMinimalConfig) + "defaults:\n  window: {days: []}\n");
  EXPECT_EQ(single_error(days), "test.yaml:6:18: defaults.window.days: at least one day is needed");
}

// load_file labels messages with the path and reads relative secret files beside the config.
TEST(ConfigLoad, LoadFileResolvesRelativeSecretFiles) {
  test::TempDir dir;
  dir.write("key", "rg_file_key\n");
  dir.write("secrets", "# comment\n\nwhsec_x\n");
  std::string path = dir.write("dialerd.yaml",
                               "vocobase:\n  api_key_file: key\nwebhook:\n  secrets_file: secrets\n"
                               "store:\n  synchronous: sometimes\n");
  auto r = load_file(path, env_from_map({}));
  ASSERT_FALSE(r);
  ASSERT_EQ(r.error().size(), 1u);
  EXPECT_EQ(
      r.error()[0].to_string(),
      path + ":6:16: store.synchronous: invalid value \"sometimes\" (expected full or normal)");

  std::string ok =
      dir.write("ok.yaml", "vocobase:\n  api_key_file: key\nwebhook:\n  secrets_file: secrets\n");
  auto good = load_file(ok, env_from_map({}));
  ASSERT_TRUE(good) << format_diagnostics(good.error());
  EXPECT_EQ(good->vocobase.api_key.reveal(), "rg_file_key");
  ASSERT_EQ(good->webhook.secrets.size(), 1u);
  EXPECT_EQ(good->webhook.secrets[0].reveal(), "whsec_x");
}

// A config file that cannot be read, or is too large, is one positioned error.
TEST(ConfigLoad, UnreadableOrHugeConfigFile) {
  test::TempDir dir;
  std::string missing = (dir.path() / "nope.yaml").string();
  auto r = load_file(missing, env_from_map({}));
  EXPECT_EQ(single_error(r),
            missing + ":1:1: cannot read " + missing + ": No such file or directory");
  std::string big = dir.write("big.yaml", "# " + std::string(kMaxConfigBytes, 'x') + "\n");
  EXPECT_THAT(single_error(load_file(big, env_from_map({}))),
              HasSubstr("is larger than 1048576 bytes"));
  EXPECT_THAT(single_error(load_file(dir.path().string(), env_from_map({}))),
              HasSubstr("not a regular file"));
}

// JSON is YAML: a config written as JSON validates with positions too.
TEST(ConfigLoad, JsonConfig) {
  auto r =
      load(R"({"vocobase": {"api_key": "k"}, "webhook": {"secrets": ["s"], "tolerance": "x"}})");
  EXPECT_EQ(single_error(r),
            "test.yaml:1:75: webhook.tolerance: invalid duration \"x\" (expected e.g. 250ms, 30s, "
            "5m, 2h, 1d or 1h30m)");
}

// Checked<Config>::value() on a rejected config throws with every message (startup code path).
TEST(ConfigLoad, ValueThrowsWithAllMessages) {
  auto r = load("store: {synchronous: x}\nwebhook: {public_url: \"ftp://x\"}\n",
                {{"DIALERD_API_KEY", "k"}});
  try {
    (void)r.value();
    FAIL() << "value() did not throw";
  } catch (const std::runtime_error& e) {
    EXPECT_THAT(e.what(), HasSubstr("test.yaml:1:22: store.synchronous"));
    EXPECT_THAT(e.what(), HasSubstr("test.yaml:2:23: webhook.public_url: must be an absolute"));
  }
}

}  // namespace
}  // namespace dialer::config
