#pragma once
/// The simulator's logger: stderr only (stdout carries the `listening on` line).

#include <spdlog/logger.h>

#include <memory>
#include <string_view>

namespace dialer::sim {

/// The shared "vocobase-sim" logger, created on first use, writing to stderr.
spdlog::logger& logger();
/// Sets the level by name (trace … off); false if the name is unknown.
bool set_log_level(std::string_view level);

}  // namespace dialer::sim
