// dialerd: parse arguments, load the config, hand both to the Daemon (the composition root).

#include "config/config.hpp"
#include "core/version.hpp"
#include "daemon/daemon.hpp"
#include "daemon/dialerd_args.hpp"

#include <exception>
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
  try {
    daemon::setup_logging(cfg->logging);
    daemon::Daemon d(args->config_path, std::move(*cfg), config::process_env());
    return d.run();
  } catch (const std::exception& e) {
    std::cerr << "dialerd: " << e.what() << "\n";
    return daemon::exit_runtime_failure;
  }
}
