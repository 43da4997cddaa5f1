// vocobase-sim: parse flags, start the simulator, run the loop until SIGTERM/SIGINT.
#include "sim/cli.hpp"
#include "sim/log.hpp"
#include "sim/simulator.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/json/serialize.hpp>

#include <cstdio>
#include <iostream>

int main(int argc, char** argv) {
  using namespace dialer::sim;
  auto cmd = parse_command_line(argc, argv);
  if (!cmd.out.empty()) std::fputs(cmd.out.c_str(), stdout);
  if (!cmd.err.empty()) std::fputs(cmd.err.c_str(), stderr);
  if (!cmd.options) return cmd.exit_code;
  if (!set_log_level(cmd.options->log_level)) {
    std::fprintf(stderr, "vocobase-sim: unknown log level '%s'\n", cmd.options->log_level.c_str());
    return kExitUsage;
  }

  try {
    boost::asio::io_context io{1};
    Simulator sim(io, *cmd.options);
    auto ep = sim.start();
    if (!ep) {
      logger().critical("{}", ep.error().message);
      return 1;
    }
    auto addr = ep->address();
    std::string host = addr.to_string();
    if (addr.is_v6()) host = std::string("[").append(host).append("]");
    std::printf("listening on %s:%u\n", host.c_str(), static_cast<unsigned>(ep->port()));
    std::fflush(stdout);
    logger().info("settings {}", boost::json::serialize(describe(*cmd.options)));

    boost::asio::signal_set signals(io, SIGTERM, SIGINT);
    signals.async_wait([&](const boost::system::error_code& ec, int sig) {
      if (ec) return;
      logger().info("signal {}: shutting down", sig);
      sim.stop();
    });
    io.run();
    logger().info("stopped");
    return 0;
  } catch (const std::exception& e) {
    logger().critical("fatal: {}", e.what());
    return 1;
  }
}
