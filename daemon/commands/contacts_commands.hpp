#pragma once
/// The commands about a campaign's contacts and calls (CONTRACT.md): contacts-import (a CSV
/// list, run on a worker by store::ContactImporter with progress), contacts-list, calls-list and
/// attempt-resolve.

#include "core/errc.hpp"
#include "daemon/commands/command_context.hpp"

namespace dialer::daemon {

/// Adds the contacts and calls commands to the admin Registry.
Result<void> register_contacts_commands(CommandContext& c);

}  // namespace dialer::daemon
