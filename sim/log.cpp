#include "sim/log.hpp"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

namespace dialer::sim {

spdlog::logger& logger() {
  static std::shared_ptr<spdlog::logger> instance = [] {
    auto existing = spdlog::get("vocobase-sim");
    if (existing) return existing;
    auto l = spdlog::stderr_logger_mt("vocobase-sim");
    l->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ vocobase-sim: %v");
    return l;
  }();
  return *instance;
}

bool set_log_level(std::string_view level) {
  auto lvl = spdlog::level::from_str(std::string(level));
  if (lvl == spdlog::level::off && level != "off") return false;
  logger().set_level(lvl);
  return true;
}

}  // namespace dialer::sim
