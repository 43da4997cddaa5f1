#pragma once
/// The commands about the daemon itself (CONTRACT.md): version-get, status-get, config-get,
/// config-reload, shutdown, account-unblock, log-level-set.

#include "core/errc.hpp"
#include "daemon/commands/command_context.hpp"

namespace dialer::daemon {

/// Adds the daemon's commands to the admin Registry.
Result<void> register_daemon_commands(CommandContext& c);

}  // namespace dialer::daemon
