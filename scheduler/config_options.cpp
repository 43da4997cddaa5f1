#include "scheduler/config_options.hpp"

namespace dialer::scheduler {

SchedulerOptions options_from_config(const config::Config& config, const SchedulerOptions& base) {
  SchedulerOptions o = base;
  const auto& s = config.scheduler;
  o.concurrency_poll_interval = s.concurrency_poll_interval;
  o.credit_poll_interval = s.credit_poll_interval;
  o.reconcile_after = s.reconcile_after;
  o.stale_call_timeout = s.stale_call_timeout;
  o.clock_skew = s.clock_skew;
  o.error_burst_threshold = s.error_burst_threshold;
  o.provider_cooldown = s.provider_cooldown;
  o.shutdown_grace = s.shutdown_grace;
  o.min_credit_balance = config.vocobase.min_credit_balance;
  o.resume_credit_balance = config.vocobase.resume_credit_balance;
  o.campaign_defaults = config.defaults.to_spec();
  return o;
}

}  // namespace dialer::scheduler
