#include "config/schema.hpp"

#include "config/codecs.hpp"
#include "config/config.hpp"
#include "config_test_util.hpp"

#include <boost/json/serialize.hpp>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <sstream>

namespace dialer::config {
namespace {

using ::testing::HasSubstr;

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

const std::string kExamplePath = std::string(DIALER_SOURCE_DIR) + "/systemd/dialerd.example.yaml";

// Key paths are unique, and every row has a type, help text and a codec.
TEST(KeyTable, RowsAreComplete) {
  std::set<std::string_view> paths;
  for (const auto& k : config_keys()) {
    EXPECT_TRUE(paths.insert(k.info.path).second) << "duplicate " << k.info.path;
    EXPECT_FALSE(k.info.type.empty()) << k.info.path;
    EXPECT_GT(k.info.help.size(), 10u) << k.info.path;
    EXPECT_TRUE(k.parse && k.to_json && k.equal) << k.info.path;
  }
  std::set<std::string_view> campaign_paths;
  for (const auto& k : campaign_keys()) {
    EXPECT_TRUE(campaign_paths.insert(k.info.path).second) << "duplicate " << k.info.path;
    EXPECT_FALSE(k.info.help.empty()) << k.info.path;
  }
  // CONTRACT.md's campaign fields, all present.
  for (const char* f :
       {"name", "agent_id", "providers", "provider_strategy", "max_concurrency", "priority",
        "weight", "timezone", "window.days", "window.start", "window.end", "window.end_margin",
        "window.holidays", "max_attempts", "retry", "dnc_on_blocked", "budget_credits",
        "auto_resume", "description"}) {
    EXPECT_TRUE(campaign_paths.contains(f)) << f;
  }
}

// Only the secret sources (the API key, the webhook secrets, the PostgreSQL password file) lack a
// default; every default validates and the struct's in-class
// initializers are exactly the table's defaults.
TEST(KeyTable, DefaultsValidateAndMatchTheStruct) {
  std::set<std::string_view> without_default;
  for (const auto& k : config_keys()) {
    if (k.info.default_text.empty()) without_default.insert(k.info.path);
  }
  EXPECT_EQ(without_default,
            (std::set<std::string_view>{"store.postgresql.password_file", "vocobase.api_key",
                                        "vocobase.api_key_file", "webhook.secrets",
                                        "webhook.secrets_file"}));
  const Config& from_table = table_defaults();
  EXPECT_EQ(from_table, Config{}) << boost::json::serialize(redacted_json(from_table)) << "\n"
                                  << boost::json::serialize(redacted_json(Config{}));
  // A default that does not match a key's rules would be a table bug: applying them to a config
  // holding other values must give the defaults back.
  Config scrambled;
  scrambled.scheduler.reconcile_after = std::chrono::hours{5};
  scrambled.webhook.listen = HostPort{"example.com", 1};
  scrambled.logging.level = LogLevel::off;
  detail::apply_table_defaults(config_keys(), scrambled);
  EXPECT_EQ(scrambled, Config{});
}

// Ranges print in the key's own unit.
TEST(KeyTable, RangeText) {
  auto find = [](std::string_view path) -> const KeyInfo& {
    for (const auto& k : config_keys()) {
      if (k.info.path == path) return k.info;
    }
    throw std::runtime_error("no key " + std::string(path));
  };
  EXPECT_EQ(range_text(find("scheduler.reconcile_after")), "between 10s and 1d");
  EXPECT_EQ(range_text(find("vocobase.calls_per_minute")), "between 1 and 100000");
  EXPECT_EQ(range_text(find("admin.socket")), "at most 107 characters");
  EXPECT_EQ(range_text(find("logging.level")), "");
}

// The generated reference names every key with its default and reload behaviour.
TEST(KeyTable, ReferenceMarkdownListsEveryKey) {
  std::string md = reference_markdown();
  for (const auto& k : config_keys())
    EXPECT_THAT(md, HasSubstr("`" + std::string(k.info.path) + "`"));
  for (const auto& k : campaign_keys())
    EXPECT_THAT(md, HasSubstr("`" + std::string(k.info.path) + "`"));
  EXPECT_THAT(md, HasSubstr("| `webhook.listen` | host:port | `127.0.0.1:8080` |  | restart |"));
  EXPECT_THAT(
      md,
      HasSubstr("| `scheduler.reconcile_after` | duration | `10m` | between 10s and 1d | live |"));
}

// systemd/dialerd.example.yaml validates (API key from the injected environment, the secrets
// file pointed at a temp file) and equals the defaults: it documents them, it changes nothing.
TEST(ExampleConfig, Validates) {
  std::string text = read_text(kExamplePath);
  ASSERT_FALSE(text.empty()) << kExamplePath;
  test::TempDir dir;
  std::string secrets = dir.write("webhook-secrets", "whsec_example\n");
  const std::string shipped = "/etc/dialerd/webhook-secrets";
  std::size_t at = text.find("secrets_file: " + shipped);
  ASSERT_NE(at, std::string::npos);
  text.replace(at + 14, shipped.size(), secrets);
  auto r =
      load_text(text, "dialerd.example.yaml", env_from_map({{"DIALERD_API_KEY", "rg_test_fake"}}));
  ASSERT_TRUE(r) << format_diagnostics(r.error());
  EXPECT_EQ(r->vocobase.api_key_source, ApiKeySource::environment);
  Config expected = table_defaults();
  expected.vocobase.api_key = Secret{"rg_test_fake"};
  expected.vocobase.api_key_source = ApiKeySource::environment;
  expected.webhook.secrets_file = secrets;
  expected.webhook.secrets = {Secret{"whsec_example"}};
  expected.webhook.secrets_source = SecretsSource::file;
  EXPECT_EQ(*r, expected);
}

// Every key of the table is in the example: set (with a comment on or above its line) or, for
// the alternative secret sources, shown commented out.
TEST(ExampleConfig, DocumentsEveryKey) {
  std::string text = read_text(kExamplePath);
  std::vector<std::string> lines;
  std::stringstream ss(text);
  for (std::string line; std::getline(ss, line);) lines.push_back(line);

  YAML::Node root = YAML::Load(text);
  ParseContext ctx("example");
  Config scratch;
  detail::walk(root, Field{"", root.Mark()}, config_keys(), scratch, ctx);
  ASSERT_FALSE(ctx.has_errors()) << format_diagnostics(ctx.take());
  for (const auto& k : config_keys()) {
    std::string path(k.info.path);
    std::string leaf = path.substr(path.rfind('.') + 1);
    if (auto mark = ctx.where_set(path)) {
      // The mark is the value's; a block value starts below its key, so look up for the key.
      auto line = static_cast<std::size_t>(mark->line);
      while (line > 0 && lines[line].find(leaf + ":") == std::string::npos) --line;
      auto is_comment = [&](std::size_t i) {
        std::size_t first = lines[i].find_first_not_of(' ');
        return first != std::string::npos && lines[i][first] == '#';
      };
      bool commented =
          lines[line].find('#') != std::string::npos || (line > 0 && is_comment(line - 1));
      EXPECT_TRUE(commented) << path << " has no comment at line " << line + 1;
    } else {
      EXPECT_THAT(text, HasSubstr("# " + leaf + ":")) << path << " is missing from the example";
    }
  }
}

}  // namespace
}  // namespace dialer::config
