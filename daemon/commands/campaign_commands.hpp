#pragma once
/// The campaign commands (CONTRACT.md): campaign-create, -update, -list, -get, -stats, -start,
/// -pause, -resume, -stop, -delete and -export. The lifecycle is the scheduler's; the export is
/// store/export_writer's, run on a worker (Jobs).

#include "core/campaign_spec.hpp"
#include "core/errc.hpp"
#include "daemon/commands/command_context.hpp"

#include <boost/json/object.hpp>

namespace dialer::daemon {

/// Adds the campaign commands to the admin Registry.
Result<void> register_campaign_commands(CommandContext& c);

/// Campaign fields from admin arguments, on top of `base`: what `dialerctl campaign create`
/// sends — the fields as JSON, `window` also as the compact "mon-sat,09:00-21:00", `retry`
/// values also as "30m/3" — and, for `-f FILE`, the file's text in `spec_yaml` (labelled with
/// `spec_file` in messages), which the other arguments override. `create` requires a name and
/// an agent id in the end. Errors: every problem, each with its position, as one text.
Result<CampaignSpec> campaign_spec_from_arguments(const boost::json::object& arguments,
                                                  const CampaignSpec& base, bool create);

/// Expands the compact `window` and `retry` forms of dialerctl into the documented shapes
/// (unchanged when already objects).
Result<boost::json::object> expand_compact_fields(const boost::json::object& arguments);

}  // namespace dialer::daemon
