#pragma once
/// The do-not-call commands (CONTRACT.md): dnc-add, dnc-remove, dnc-list and dnc-import (a file
/// read by store/dnc_file on a worker, committed chunk by chunk). A number put on the list also
/// skips the queued contacts that have it.

#include "core/errc.hpp"
#include "core/time.hpp"
#include "daemon/commands/command_context.hpp"
#include "store/store.hpp"

#include <cstdint>
#include <string_view>

namespace dialer::daemon {

/// Adds the DNC commands to the admin Registry.
Result<void> register_dnc_commands(CommandContext& c);

/// Skips the queued contacts of `phone` (reason "dnc") through the contact lifecycle (audited
/// for `actor`): what every way onto the DNC list does. Returns how many were skipped.
Result<std::int64_t> skip_queued_for_dnc(store::Store& store, std::string_view phone, TimePoint now,
                                         std::string actor);

}  // namespace dialer::daemon
