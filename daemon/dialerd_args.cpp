#include "daemon/dialerd_args.hpp"

#include <CLI/CLI.hpp>

#include <vector>

namespace dialer::daemon {

Result<DialerdArgs> parse_dialerd_args(std::span<const char* const> argv) {
  DialerdArgs args;
  bool test_config = false;
  bool version = false;
  bool help = false;
  CLI::App app{"outbound call-campaign dialer daemon", "dialerd"};
  // Help is handled by the caller (exit codes and streams are ours), so CLI11's is replaced.
  app.set_help_flag();
  app.add_flag("-h,--help", help);
  app.add_flag("--version", version);
  app.add_flag("--test-config", test_config);
  app.add_option("-c,--config", args.config_path)->type_name("PATH");
  try {
    app.parse(static_cast<int>(argv.size()), argv.data());
  } catch (const CLI::ParseError& e) {
    return Error{errc::invalid_argument, e.what()};
  }
  if (args.config_path.empty()) return Error{errc::invalid_argument, "--config: empty path"};
  if (help) {
    args.command = DialerdCommand::help;
  } else if (version) {
    args.command = DialerdCommand::version;
  } else if (test_config) {
    args.command = DialerdCommand::test_config;
  }
  return args;
}

std::string dialerd_usage() {
  return "Usage: dialerd [--config PATH]\n"
         "       dialerd --test-config [--config PATH]\n"
         "       dialerd --version | --help\n"
         "\n"
         "Outbound call-campaign dialer daemon for the Vocobase Partner API.\n"
         "\n"
         "  -c, --config PATH  config file (default " +
         std::string(config::kDefaultConfigPath) +
         ")\n"
         "      --test-config  check the config file and exit: 0 if valid, 3 if not, with\n"
         "                     file:line:col: messages on stderr\n"
         "      --version      print the version and exit\n"
         "  -h, --help         print this help and exit\n"
         "\n"
         "Exit status: 0 clean shutdown, 1 runtime failure, 2 usage error, 3 invalid config,\n"
         "4 store cannot be opened or migrated, 5 another instance is running.\n";
}

int run_test_config(const std::string& path, const config::GetEnv& env, std::ostream& out,
                    std::ostream& err) {
  auto cfg = config::load_file(path, env);
  if (!cfg) {
    err << config::format_diagnostics(cfg.error());
    err.flush();
    return exit_invalid_config;
  }
  out << "configuration OK\n";
  out.flush();
  return exit_ok;
}

}  // namespace dialer::daemon
