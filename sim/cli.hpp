#pragma once
/// The vocobase-sim command line (CLI11). Flags override the YAML file given with --config.

#include "sim/options.hpp"

#include <optional>
#include <string>

namespace dialer::sim {

/// Result of reading the command line.
struct CommandLine {
  std::optional<SimOptions> options;  ///< set when the simulator should run
  int exit_code = 0;                  ///< otherwise exit with this (0 after --help/--version)
  std::string out;                    ///< text for stdout (help, version)
  std::string err;                    ///< text for stderr (usage or config errors)
};

/// Exit codes, as dialerd's: 2 usage error, 3 invalid config.
inline constexpr int kExitUsage = 2;
inline constexpr int kExitConfig = 3;

CommandLine parse_command_line(int argc, const char* const* argv);

}  // namespace dialer::sim
