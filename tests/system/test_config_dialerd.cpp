// System tests of `dialerd --test-config`, `--version`, `--help` and usage errors: the built
// binary run with temp files and a controlled environment.

#include "tests/support/temp_dir.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <spawn.h>
#include <sstream>
#include <stdexcept>
#include <string>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;

const std::string kDialerd = std::string(DIALER_BIN_DIR) + "/dialerd";

using TempDir = ::dialer::testkit::TempDir;

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream ss(text);
  for (std::string line; std::getline(ss, line);) out.push_back(line);
  return out;
}

struct Outcome {
  int exit_code = -1;
  std::string out;
  std::string err;
};

/// Runs dialerd with `args` and exactly the environment `env` (nothing inherited), stdout and
/// stderr captured in files of `dir`; waits for it to exit.
Outcome run_dialerd(const TempDir& dir, const std::vector<std::string>& args,
                    const std::vector<std::string>& env = {}) {
  std::vector<std::string> argv_s{kDialerd};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env_s = env;
  std::vector<char*> envp;
  for (auto& e : env_s) envp.push_back(e.data());
  envp.push_back(nullptr);

  const std::string out_path = (dir.path() / "stdout").string();
  const std::string err_path = (dir.path() / "stderr").string();
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0600);
  posix_spawn_file_actions_addopen(&actions, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0600);
  pid_t pid = 0;
  int rc = posix_spawn(&pid, kDialerd.c_str(), &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  Outcome result;
  if (rc != 0) {
    ADD_FAILURE() << "cannot start " << kDialerd << ": " << std::strerror(rc);
    return result;
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  result.out = read_file(out_path);
  result.err = read_file(err_path);
  return result;
}

constexpr const char* kValidConfig =
    "vocobase:\n"
    "  api_key: rg_test_system\n"
    "webhook:\n"
    "  listen: 127.0.0.1:0\n"
    "  secrets_file: secrets\n"  // relative: beside the config file
    "scheduler:\n"
    "  reconcile_after: 5m\n"
    "defaults:\n"
    "  timezone: Asia/Kolkata\n";

// A valid config: exit 0, "configuration OK", nothing on stderr.
TEST(DialerdTestConfig, ValidConfigExitsZero) {
  TempDir dir;
  dir.write("secrets", "whsec_system\n");
  std::string config = dir.write("dialerd.yaml", kValidConfig);
  Outcome r = run_dialerd(dir, {"--test-config", "--config", config});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "configuration OK\n");
  EXPECT_EQ(r.err, "");
}

// Three different mistakes: exit 3 and exactly three stderr lines, each file:line:col: with the
// key path, in file order.
TEST(DialerdTestConfig, ThreeMistakesExitThreeWithThreeMessages) {
  TempDir dir;
  dir.write("secrets", "whsec_system\n");
  std::string config = dir.write("dialerd.yaml",
                                 "vocobase:\n"
                                 "  api_key: rg_test_system\n"
                                 "webhook:\n"
                                 "  secrets_file: secrets\n"
                                 "scheduler:\n"
                                 "  reconcile_after: 10x\n"  // bad duration
                                 "  reconcile_afterr: 5m\n"  // unknown key
                                 "defaults:\n"
                                 "  timezone: Mars/Olympus\n");  // unknown zone
  Outcome r = run_dialerd(dir, {"--test-config", "--config", config});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_EQ(r.out, "");
  auto lines = lines_of(r.err);
  EXPECT_THAT(lines,
              ElementsAre(config + ":6:20: scheduler.reconcile_after: invalid duration \"10x\" "
                                   "(expected e.g. 250ms, 30s, 5m, 2h, 1d or 1h30m)",
                          config + ":7:3: scheduler.reconcile_afterr: unknown key (did you mean "
                                   "scheduler.reconcile_after?)",
                          config + ":9:13: defaults.timezone: unknown time zone \"Mars/Olympus\" "
                                   "(expected an IANA name such as Asia/Kolkata)"));
  for (const auto& line : lines) {
    EXPECT_THAT(line, MatchesRegex(".*dialerd\\.yaml:[0-9]+:[0-9]+: [a-z_.]+: .+"));
  }
  EXPECT_THAT(r.err, ::testing::Not(HasSubstr("rg_test_system")));
}

// The API key can come from the environment; without any source the error names them all.
TEST(DialerdTestConfig, ApiKeyFromEnvironment) {
  TempDir dir;
  dir.write("secrets", "whsec_system\n");
  std::string config = dir.write("dialerd.yaml", "webhook:\n  secrets_file: secrets\n");
  Outcome with_env =
      run_dialerd(dir, {"--test-config", "--config", config}, {"DIALERD_API_KEY=rg_from_env"});
  EXPECT_EQ(with_env.exit_code, 0) << with_env.err;
  Outcome without = run_dialerd(dir, {"--test-config", "--config", config});
  EXPECT_EQ(without.exit_code, 3);
  EXPECT_THAT(without.err, HasSubstr(config + ":1:1: vocobase.api_key: no API key"));
  EXPECT_THAT(without.err, HasSubstr("DIALERD_API_KEY"));
  EXPECT_THAT(without.err, HasSubstr("$CREDENTIALS_DIRECTORY/api-key"));
  // systemd's LoadCredential= hands the key over in $CREDENTIALS_DIRECTORY/api-key.
  TempDir creds;
  creds.write("api-key", "rg_from_credential\n");
  Outcome with_creds = run_dialerd(dir, {"--test-config", "--config", config},
                                   {"CREDENTIALS_DIRECTORY=" + creds.path().string()});
  EXPECT_EQ(with_creds.exit_code, 0) << with_creds.err;
}

// A YAML syntax error and an unreadable file are invalid configs too (exit 3, positioned).
TEST(DialerdTestConfig, SyntaxErrorAndMissingFile) {
  TempDir dir;
  std::string config = dir.write("broken.yaml", "vocobase:\n  api_key: [oops\n");
  Outcome r = run_dialerd(dir, {"--test-config", "--config", config});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_THAT(r.err, MatchesRegex(".*broken\\.yaml:[0-9]+:[0-9]+: YAML syntax error: .*\n"));
  std::string missing = (dir.path() / "none.yaml").string();
  Outcome m = run_dialerd(dir, {"--test-config", "--config=" + missing});
  EXPECT_EQ(m.exit_code, 3);
  EXPECT_EQ(m.err, missing + ":1:1: cannot read " + missing + ": No such file or directory\n");
}

// Starting the daemon with an invalid config fails with 3 before anything else happens.
TEST(DialerdTestConfig, DaemonModeRefusesInvalidConfig) {
  TempDir dir;
  std::string config = dir.write("dialerd.yaml", "store:\n  synchronous: maybe\n");
  Outcome r = run_dialerd(dir, {"--config", config}, {"DIALERD_API_KEY=k"});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_THAT(r.err, HasSubstr(config + ":2:16: store.synchronous: invalid value \"maybe\""));
}

// Without --config the default path /etc/dialerd/dialerd.yaml is read.
TEST(DialerdTestConfig, DefaultConfigPath) {
  if (fs::exists("/etc/dialerd/dialerd.yaml")) GTEST_SKIP() << "a real config is installed here";
  TempDir dir;
  Outcome r = run_dialerd(dir, {"--test-config"});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_THAT(r.err,
              HasSubstr("/etc/dialerd/dialerd.yaml:1:1: cannot read /etc/dialerd/dialerd.yaml"));
}

// The shipped example config passes --test-config (fake key from the environment, its secrets
// file pointed at a temp file).
TEST(DialerdTestConfig, ExampleConfigPasses) {
  TempDir dir;
  std::string text = read_file(std::string(DIALER_SOURCE_DIR) + "/systemd/dialerd.example.yaml");
  std::string secrets = dir.write("webhook-secrets", "whsec_example\n");
  const std::string shipped = "/etc/dialerd/webhook-secrets";
  auto at = text.find(shipped);
  ASSERT_NE(at, std::string::npos);
  text.replace(at, shipped.size(), secrets);
  std::string config = dir.write("dialerd.yaml", text);
  Outcome r = run_dialerd(dir, {"--test-config", "--config", config}, {"DIALERD_API_KEY=rg_fake"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "configuration OK\n");
}

// --version and --help exit 0 on stdout; a bad command line exits 2 with a message on stderr.
TEST(DialerdTestConfig, VersionHelpAndUsageErrors) {
  TempDir dir;
  Outcome v = run_dialerd(dir, {"--version"});
  EXPECT_EQ(v.exit_code, 0);
  EXPECT_THAT(v.out, MatchesRegex("dialerd [0-9]+\\.[0-9]+\\.[0-9]+\n"));
  Outcome h = run_dialerd(dir, {"--help"});
  EXPECT_EQ(h.exit_code, 0);
  EXPECT_THAT(h.out, HasSubstr("--test-config"));
  EXPECT_THAT(h.out, HasSubstr("/etc/dialerd/dialerd.yaml"));
  for (const auto& args :
       std::vector<std::vector<std::string>>{{"--no-such-flag"},
                                             {"extra-argument"},
                                             {"--config"},
                                             {"--test-config", "--config", ""}}) {
    Outcome u = run_dialerd(dir, args);
    EXPECT_EQ(u.exit_code, 2) << args.front();
    EXPECT_THAT(u.err, HasSubstr("dialerd: ")) << args.front();
    EXPECT_EQ(u.out, "") << args.front();
  }
}

}  // namespace
