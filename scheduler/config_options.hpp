#pragma once
/// SchedulerOptions from the daemon's config (scheduler.*, vocobase.*_credit_balance,
/// defaults.*), so the composition root and config reload fill them the same way.

#include "config/config.hpp"
#include "scheduler/scheduler.hpp"

namespace dialer::scheduler {

/// Every option the config names; the rest keep SchedulerOptions' defaults (`base`).
SchedulerOptions options_from_config(const config::Config& config,
                                     const SchedulerOptions& base = {});

}  // namespace dialer::scheduler
