#include "config/config.hpp"
#include "config/secret.hpp"
#include "config_test_util.hpp"

#include <boost/json/serialize.hpp>
#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sstream>

namespace dialer::config {
namespace {

using test::errors_of;
using test::load;
using test::single_error;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr const char* kSecrets = "webhook:\n  secrets: [whsec_s]\n";

// Every source of the API key present at once: the inline key wins, then the file, then
// $DIALERD_API_KEY, then $CREDENTIALS_DIRECTORY/api-key (CONTRACT.md's order).
TEST(ApiKey, PrecedenceInlineFileEnvCredentials) {
  test::TempDir dir;
  std::string file = dir.write("key-file", "from_file\n");
  dir.write("api-key", "from_credentials\n");
  std::map<std::string, std::string> env{{"DIALERD_API_KEY", "from_env"},
                                         {"CREDENTIALS_DIRECTORY", dir.path().string()}};

  auto inline_key = load(std::string("vocobase:\n  api_key: from_inline\n") + kSecrets, env);
  ASSERT_TRUE(inline_key) << format_diagnostics(inline_key.error());
  EXPECT_EQ(inline_key->vocobase.api_key.reveal(), "from_inline");
  EXPECT_EQ(inline_key->vocobase.api_key_source, ApiKeySource::inline_value);

  auto file_key = load("vocobase:\n  api_key_file: " + file + "\n" + kSecrets, env);
  ASSERT_TRUE(file_key) << format_diagnostics(file_key.error());
  EXPECT_EQ(file_key->vocobase.api_key.reveal(), "from_file");
  EXPECT_EQ(file_key->vocobase.api_key_source, ApiKeySource::file);
  EXPECT_EQ(file_key->vocobase.api_key_file, file);

  auto env_key = load(kSecrets, env);
  ASSERT_TRUE(env_key) << format_diagnostics(env_key.error());
  EXPECT_EQ(env_key->vocobase.api_key.reveal(), "from_env");
  EXPECT_EQ(env_key->vocobase.api_key_source, ApiKeySource::environment);

  env.erase("DIALERD_API_KEY");
  auto cred_key = load(kSecrets, env);
  ASSERT_TRUE(cred_key) << format_diagnostics(cred_key.error());
  EXPECT_EQ(cred_key->vocobase.api_key.reveal(), "from_credentials");
  EXPECT_EQ(cred_key->vocobase.api_key_source, ApiKeySource::credentials);
}

// api_key and api_key_file together is an error at api_key_file, naming the other line.
TEST(ApiKey, InlineAndFileTogetherIsAnError) {
  test::TempDir dir;
  std::string file = dir.write("k", "x\n");
  auto r = load("vocobase:\n  api_key: a\n  api_key_file: " + file + "\n" + kSecrets);
  EXPECT_EQ(single_error(r),
            "test.yaml:3:17: vocobase.api_key_file: cannot be used together with vocobase.api_key "
            "(line 2); keep one of them");
}

// Without any key the error names all four sources, at the vocobase section or 1:1.
TEST(ApiKey, NoKeyNamesAllFourSources) {
  std::string e = single_error(load(kSecrets));
  EXPECT_THAT(e, ::testing::StartsWith("test.yaml:1:1: vocobase.api_key: no API key: "));
  for (const char* source : {"vocobase.api_key ", "vocobase.api_key_file", "DIALERD_API_KEY",
                             "$CREDENTIALS_DIRECTORY/api-key"}) {
    EXPECT_THAT(e, HasSubstr(source));
  }
  std::string at_section =
      single_error(load(std::string(kSecrets) + "vocobase:\n  request_timeout: 5s\n"));
  EXPECT_THAT(at_section, ::testing::StartsWith("test.yaml:3:1: vocobase.api_key: no API key"));
  // An empty variable counts as unset; a credentials directory without api-key too.
  test::TempDir empty;
  EXPECT_THAT(single_error(load(kSecrets, {{"DIALERD_API_KEY", ""},
                                           {"CREDENTIALS_DIRECTORY", empty.path().string()}})),
              HasSubstr("no API key"));
}

// Key files: surrounding whitespace is dropped; empty, unreadable or multi-word files are errors
// whose messages never show the file's contents.
TEST(ApiKey, KeyFileProblems) {
  test::TempDir dir;
  std::string spaced = dir.write("spaced", "  \n rg_live_k \n\n");
  auto ok = load("vocobase:\n  api_key_file: " + spaced + "\n" + kSecrets);
  ASSERT_TRUE(ok) << format_diagnostics(ok.error());
  EXPECT_EQ(ok->vocobase.api_key.reveal(), "rg_live_k");

  std::string empty = dir.write("empty", "\n\n");
  EXPECT_EQ(single_error(load("vocobase:\n  api_key_file: " + empty + "\n" + kSecrets)),
            "test.yaml:2:17: vocobase.api_key_file: " + empty + " is empty");

  std::string two = dir.write("two", "rg_live_SECRETPART other_SECRETPART\n");
  std::string e = single_error(load("vocobase:\n  api_key_file: " + two + "\n" + kSecrets));
  EXPECT_EQ(e, "test.yaml:2:17: vocobase.api_key_file: " + two +
                   " must hold only the key, on one line without spaces");
  EXPECT_THAT(e, Not(HasSubstr("SECRETPART")));

  std::string missing = (dir.path() / "missing").string();
  EXPECT_EQ(single_error(load("vocobase:\n  api_key_file: " + missing + "\n" + kSecrets)),
            "test.yaml:2:17: vocobase.api_key_file: cannot read " + missing +
                ": No such file or directory");
  // A directory where a file is expected (what running as root leaves as "unreadable").
  EXPECT_EQ(
      single_error(load("vocobase:\n  api_key_file: " + dir.path().string() + "\n" + kSecrets)),
      "test.yaml:2:17: vocobase.api_key_file: cannot read " + dir.path().string() +
          ": not a regular file");
  // A credentials directory whose api-key is broken is an error, not a silent fallthrough.
  dir.write("api-key", "");
  EXPECT_THAT(single_error(load(kSecrets, {{"CREDENTIALS_DIRECTORY", dir.path().string()}})),
              HasSubstr("vocobase.api_key: credential $CREDENTIALS_DIRECTORY/api-key: "));
}

// An inline key with whitespace is refused without echoing it; DIALERD_API_KEY likewise.
TEST(ApiKey, MalformedInlineAndEnvKeysAreNotEchoed) {
  std::string e =
      single_error(load(std::string("vocobase:\n  api_key: \"rg_live_SECRET x\"\n") + kSecrets));
  EXPECT_EQ(e,
            "test.yaml:2:12: vocobase.api_key: must not contain whitespace or control characters");
  std::string e2 =
      single_error(load("vocobase:\n  api_key: {rg_live_SECRET: 1}\n" + std::string(kSecrets)));
  EXPECT_EQ(e2, "test.yaml:2:12: vocobase.api_key: expected a string, got a mapping");
  std::string e3 = single_error(load(kSecrets, {{"DIALERD_API_KEY", "rg_live_SECRET x"}}));
  EXPECT_THAT(e3, HasSubstr("DIALERD_API_KEY must hold only the key"));
  for (const auto& m : {e, e2, e3}) EXPECT_THAT(m, Not(HasSubstr("SECRET")));
}

// secrets_file: one secret per line, blank lines and # comments ignored.
TEST(WebhookSecrets, FileSkipsBlankLinesAndComments) {
  test::TempDir dir;
  std::string file =
      dir.write("s", "# rotated 2026-03\n\nwhsec_new\n   \n  whsec_old  \r\n# end\n");
  auto r = load("vocobase: {api_key: k}\nwebhook:\n  secrets_file: " + file + "\n");
  ASSERT_TRUE(r) << format_diagnostics(r.error());
  ASSERT_EQ(r->webhook.secrets.size(), 2u);
  EXPECT_EQ(r->webhook.secrets[0].reveal(), "whsec_new");
  EXPECT_EQ(r->webhook.secrets[1].reveal(), "whsec_old");
  EXPECT_EQ(r->webhook.secrets_source, SecretsSource::file);
}

// Bad secret sources: both keys, an empty file, a line with spaces, none at all.
TEST(WebhookSecrets, Problems) {
  test::TempDir dir;
  std::string good = dir.write("good", "whsec_a\n");
  EXPECT_EQ(
      single_error(load("vocobase: {api_key: k}\nwebhook:\n  secrets: [whsec_b]\n  secrets_file: " +
                        good + "\n")),
      "test.yaml:4:17: webhook.secrets_file: cannot be used together with webhook.secrets "
      "(line 3); keep one of them");
  std::string comments = dir.write("comments", "# nothing\n\n");
  EXPECT_EQ(
      single_error(load("vocobase: {api_key: k}\nwebhook:\n  secrets_file: " + comments + "\n")),
      "test.yaml:3:17: webhook.secrets_file: " + comments + " contains no secret");
  std::string spaced = dir.write("spaced", "whsec_a\nwhsec_SECRET b\n");
  std::string e =
      single_error(load("vocobase: {api_key: k}\nwebhook:\n  secrets_file: " + spaced + "\n"));
  EXPECT_EQ(e, "test.yaml:3:17: webhook.secrets_file: " + spaced +
                   " line 2: a secret must not contain spaces");
  EXPECT_EQ(single_error(load("vocobase: {api_key: k}\nwebhook:\n  secrets: []\n")),
            "test.yaml:3:12: webhook.secrets: at least one secret is needed");
  EXPECT_EQ(single_error(load("vocobase: {api_key: k}\nwebhook:\n  secrets: [ok, \"\"]\n")),
            "test.yaml:3:17: webhook.secrets[1]: must not be empty");
  // No secret at all is valid: `dialerctl webhook register` stores one in the state directory
  // later (the first-day flow starts the daemon before any endpoint exists).
  auto none = load("vocobase: {api_key: k}\n");
  ASSERT_TRUE(none) << format_diagnostics(none.error());
  EXPECT_TRUE(none->webhook.secrets.empty());
  EXPECT_EQ(none->webhook.secrets_source, SecretsSource::none);
}

// Without secrets in the config, $CREDENTIALS_DIRECTORY/webhook-secrets is read.
TEST(WebhookSecrets, CredentialsDirectoryFallback) {
  test::TempDir dir;
  dir.write("webhook-secrets", "whsec_cred\n");
  auto r = load("vocobase: {api_key: k}\n", {{"CREDENTIALS_DIRECTORY", dir.path().string()}});
  ASSERT_TRUE(r) << format_diagnostics(r.error());
  ASSERT_EQ(r->webhook.secrets.size(), 1u);
  EXPECT_EQ(r->webhook.secrets[0].reveal(), "whsec_cred");
  EXPECT_EQ(r->webhook.secrets_source, SecretsSource::credentials);
}

// A Secret prints as <redacted> through iostreams, fmt and gtest; reveal() gives the value.
TEST(Secret, NeverPrintsItsValue) {
  Secret s{"rg_live_TOPSECRET"};
  std::ostringstream os;
  os << s;
  EXPECT_EQ(os.str(), "<redacted>");
  EXPECT_EQ(fmt::format("key={}", s), "key=<redacted>");
  EXPECT_EQ(::testing::PrintToString(s), "<redacted>");
  EXPECT_EQ(s.reveal(), "rg_live_TOPSECRET");
  EXPECT_EQ(s, Secret{"rg_live_TOPSECRET"});
  EXPECT_NE(s, Secret{"rg_live_TOPSECREU"});
  EXPECT_NE(s, Secret{"rg_live_TOPSECRE"});
}

// config-get output holds every secret as "<redacted>" and no secret text anywhere.
TEST(RedactedJson, NeverLeaksSecrets) {
  test::TempDir dir;
  std::string key_file = dir.write("key", "rg_live_FILEKEY\n");
  auto r = load("vocobase:\n  api_key_file: " + key_file +
                "\nwebhook:\n  secrets: [whsec_ONE, whsec_TWO]\n");
  ASSERT_TRUE(r) << format_diagnostics(r.error());
  boost::json::object j = redacted_json(*r);
  std::string text = boost::json::serialize(j);
  EXPECT_THAT(text, Not(HasSubstr("FILEKEY")));
  EXPECT_THAT(text, Not(HasSubstr("whsec_ONE")));
  EXPECT_THAT(text, Not(HasSubstr("whsec_TWO")));
  EXPECT_EQ(j.at("vocobase").at("api_key"), "<redacted>");
  EXPECT_EQ(j.at("vocobase").at("api_key_file").as_string(), key_file);  // a path is not a secret
  EXPECT_EQ(boost::json::serialize(j.at("webhook").at("secrets")),
            R"(["<redacted>","<redacted>"])");

  auto inline_key = load("vocobase: {api_key: rg_live_INLINE}\nwebhook: {secrets: [whsec_x]}\n");
  ASSERT_TRUE(inline_key);
  EXPECT_THAT(boost::json::serialize(redacted_json(*inline_key)), Not(HasSubstr("INLINE")));
}

// config-get shows every key of the table, durations as strings, enums and addresses as text.
TEST(RedactedJson, ShowsEveryKeyInItsTextForm) {
  auto r = load(test::kMinimalConfig);
  ASSERT_TRUE(r);
  boost::json::object j = redacted_json(*r);
  EXPECT_EQ(j.at("scheduler").at("reconcile_after"), "10m");
  EXPECT_EQ(j.at("scheduler").at("stale_call_timeout"), "1h15m");
  EXPECT_EQ(j.at("webhook").at("listen"), "127.0.0.1:8080");
  EXPECT_EQ(j.at("admin").at("mode"), "0660");
  EXPECT_EQ(j.at("store").at("synchronous"), "full");
  EXPECT_EQ(j.at("vocobase").at("calls_per_minute"), 10);
  EXPECT_EQ(j.at("defaults").at("window").at("start"), "09:00");
  EXPECT_EQ(boost::json::serialize(j.at("defaults").at("window").at("days")),
            R"(["mon","tue","wed","thu","fri","sat"])");
  EXPECT_EQ(j.at("defaults").at("retry").at("no_answer").at("delay"), "30m");
  EXPECT_EQ(j.at("defaults").at("retry").at("no_answer").at("max"), 3);
  EXPECT_EQ(j.at("vocobase").at("api_key_file"), "");
  EXPECT_EQ(j.at("logging").at("level"), "info");
  EXPECT_EQ(j.at("metrics").at("listen"), "127.0.0.1:9470");
  EXPECT_EQ(j.size(), 8u);  // the eight sections
}

}  // namespace
}  // namespace dialer::config

namespace dialer::config {
namespace {

// No message quotes a value under a secret key, whatever shape the mistake has: a single
// secret where a list is expected, a secret with a space, a list or mapping where a string is
// expected, a secret under a misspelt key next to a secret key.
TEST(SecretsNeverQuoted, NoDiagnosticCarriesTheSecretText) {
  const std::string key = "vocobase:\n  api_key: rg_live_K3YTEXT\n";
  const std::vector<std::string> texts = {
      key + "webhook:\n  secrets: whsec_S3CRETTEXT\n",
      key + "webhook:\n  secrets: \"whsec_S3CRET TEXT\"\n",
      key + "webhook:\n  secrets: [\"whsec_S3CRET TEXT\"]\n",
      key + "webhook:\n  secrets: {a: whsec_S3CRETTEXT}\n",
      "vocobase:\n  api_key: [rg_live_K3YTEXT]\n" + std::string(kSecrets),
      "vocobase:\n  api_key: \"rg_live_K3Y TEXT\"\n" + std::string(kSecrets),
      "vocobase:\n  api_key: {k: rg_live_K3YTEXT}\n" + std::string(kSecrets),
  };
  for (const auto& text : texts) {
    auto r = load(text);
    ASSERT_FALSE(r) << text;
    const std::string all = format_diagnostics(r.error());
    EXPECT_THAT(all, Not(HasSubstr("S3CRET"))) << text;
    EXPECT_THAT(all, Not(HasSubstr("K3Y"))) << text;
  }
}

}  // namespace
}  // namespace dialer::config

namespace dialer::config {
namespace {

// The cause before its consequence: a typo'd api_key_fil is reported first as the unknown key
// (with its suggestion), then the missing key it causes — although the latter is placed at the
// section's line, earlier in the file.
TEST(ApiKey, TypoedKeyComesBeforeTheMissingKeyItCauses) {
  auto r = load("vocobase:\n  api_key_fil: /etc/dialerd/key\n" + std::string(kSecrets));
  ASSERT_FALSE(r);
  ASSERT_EQ(r.error().size(), 2u) << format_diagnostics(r.error());
  EXPECT_THAT(r.error()[0].to_string(), HasSubstr("api_key_fil: unknown key (did you mean "
                                                  "vocobase.api_key_file?)"));
  EXPECT_THAT(r.error()[1].to_string(), HasSubstr("no API key"));
}

// store.backend: postgresql takes its password from password_file, else the systemd credential
// pg-password; it is never printed.
TEST(PostgresqlStore, PasswordFromFileOrCredential) {
  test::TempDir dir;
  std::string file = dir.write("pg-file", "from_file\n");
  dir.write("pg-password", "from_credentials\n");
  std::map<std::string, std::string> env{{"DIALERD_API_KEY", "k"},
                                         {"CREDENTIALS_DIRECTORY", dir.path().string()}};
  const std::string pg =
      "store:\n  backend: postgresql\n  postgresql:\n    conninfo: \"host=db dbname=d\"\n";
  auto from_file = load(pg + "    password_file: " + file + "\n" + kSecrets, env);
  ASSERT_TRUE(from_file) << format_diagnostics(from_file.error());
  EXPECT_EQ(from_file->store.backend, StoreBackend::postgresql);
  EXPECT_EQ(from_file->store.pg_password.reveal(), "from_file");
  auto from_credential = load(pg + kSecrets, env);
  ASSERT_TRUE(from_credential) << format_diagnostics(from_credential.error());
  EXPECT_EQ(from_credential->store.pg_password.reveal(), "from_credentials");
  EXPECT_THAT(fmt::format("{}", from_credential->store.pg_password), Not(HasSubstr("from")));
  env.erase("CREDENTIALS_DIRECTORY");
  auto none = load(pg + kSecrets, env);
  ASSERT_TRUE(none) << format_diagnostics(none.error());
  EXPECT_TRUE(none->store.pg_password.empty());
}

// A password inside the conninfo is refused (it would sit in the config and in config-get); the
// backend needs a conninfo; the schema is a plain name.
TEST(PostgresqlStore, RefusesAPasswordInTheConninfoAndOddSchemas) {
  std::map<std::string, std::string> env{{"DIALERD_API_KEY", "k"}};
  auto with_password = load(std::string("store:\n  backend: postgresql\n  postgresql:\n"
                                        "    conninfo: \"host=db password=hunter2\"\n") +
                                kSecrets,
                            env);
  ASSERT_FALSE(with_password);
  const auto text = format_diagnostics(with_password.error());
  EXPECT_THAT(text, HasSubstr("store.postgresql.conninfo"));
  EXPECT_THAT(text, HasSubstr("password_file"));
  EXPECT_THAT(text, Not(HasSubstr("hunter2")));

  // The URI form carries one as user:password@host.
  for (const char* uri : {"postgresql://dialer:hunter2@db/dialer", "postgres://:hunter2@db"}) {
    auto in_uri = load(std::string("store:\n  backend: postgresql\n  postgresql:\n"
                                   "    conninfo: \"") +
                           uri + "\"\n" + kSecrets,
                       env);
    ASSERT_FALSE(in_uri) << uri;
    const auto said = format_diagnostics(in_uri.error());
    EXPECT_THAT(said, HasSubstr("store.postgresql.conninfo")) << uri;
    EXPECT_THAT(said, Not(HasSubstr("hunter2"))) << uri;
  }
  auto user_only = load(std::string("store:\n  backend: postgresql\n  postgresql:\n"
                                    "    conninfo: \"postgresql://dialer@db:5432/dialer\"\n") +
                            kSecrets,
                        env);
  EXPECT_TRUE(user_only) << format_diagnostics(user_only.error());

  auto missing = load(std::string("store:\n  backend: postgresql\n") + kSecrets, env);
  ASSERT_FALSE(missing);
  EXPECT_THAT(format_diagnostics(missing.error()), HasSubstr("set store.postgresql.conninfo"));

  auto schema = load(std::string("store:\n  backend: postgresql\n  postgresql:\n"
                                 "    conninfo: \"host=db\"\n    schema: \"x; DROP\"\n") +
                         kSecrets,
                     env);
  ASSERT_FALSE(schema);
  EXPECT_THAT(format_diagnostics(schema.error()), HasSubstr("store.postgresql.schema"));
}

}  // namespace
}  // namespace dialer::config
