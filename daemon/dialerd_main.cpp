// dialerd: parse arguments, load config, (later) wire the components and run the loop.

#include "config/config.hpp"
#include "core/version.hpp"
#include "daemon/dialerd_args.hpp"

#include <iostream>

int main(int argc, char** argv) {
  using namespace dialer;
  auto args = daemon::parse_dialerd_args({argv, static_cast<std::size_t>(argc)});
  if (!args) {
    std::cerr << "dialerd: " << args.error().what() << "\nTry 'dialerd --help'.\n";
    return daemon::exit_usage;
  }
  switch (args->command) {
    case daemon::DialerdCommand::help:
      std::cout << daemon::dialerd_usage();
      return daemon::exit_ok;
    case daemon::DialerdCommand::version:
      std::cout << "dialerd " << dialer::version() << "\n";
      return daemon::exit_ok;
    case daemon::DialerdCommand::test_config:
      return daemon::run_test_config(args->config_path, config::process_env(), std::cout,
                                     std::cerr);
    case daemon::DialerdCommand::run:
      break;
  }
  auto cfg = config::load_file(args->config_path, config::process_env());
  if (!cfg) {
    std::cerr << config::format_diagnostics(cfg.error());
    return daemon::exit_invalid_config;
  }
  std::cerr << "dialerd: daemon mode not yet available\n";
  return daemon::exit_runtime_failure;
}
