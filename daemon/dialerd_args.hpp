#pragma once
/// dialerd's command line (CONTRACT.md "Binaries", "Exit codes of dialerd"), parsed apart from
/// main() so that it can be tested, plus `--test-config` as a function.

#include "config/config.hpp"
#include "core/errc.hpp"

#include <ostream>
#include <span>
#include <string>

namespace dialer::daemon {

/// Exit codes of dialerd (CONTRACT.md).
enum ExitCode : int {
  exit_ok = 0,  ///< clean shutdown, or --test-config/--version/--help succeeded
  exit_runtime_failure = 1,
  exit_usage = 2,  ///< bad command line
  exit_invalid_config = 3,
  exit_store_failure = 4,  ///< store cannot be opened or migrated
  exit_locked = 5,         ///< another instance holds the admin socket lock
};

/// What dialerd was asked to do.
enum class DialerdCommand { run, test_config, version, help };

struct DialerdArgs {
  DialerdCommand command = DialerdCommand::run;
  std::string config_path{config::kDefaultConfigPath};

  bool operator==(const DialerdArgs&) const = default;
};

/// Parses argv (argv[0] included, as main receives it). A usage error is an Error whose message
/// says what was wrong ("unknown option --foo").
Result<DialerdArgs> parse_dialerd_args(std::span<const char* const> argv);

/// The --help text.
std::string dialerd_usage();

/// `dialerd --test-config`: loads `path`; on success prints "configuration OK" to `out` and
/// returns exit_ok, else prints every diagnostic, one per line, to `err` and returns
/// exit_invalid_config.
int run_test_config(const std::string& path, const config::GetEnv& env, std::ostream& out,
                    std::ostream& err);

}  // namespace dialer::daemon
