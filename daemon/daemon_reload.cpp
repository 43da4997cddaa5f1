// Config reload (SIGHUP, `config-reload`): what the running components take live — logging,
// the API client, the scheduler's options, the webhook secrets — and which keys wait for a
// restart (kept as they are in force; config-get shows both). Also the components' options as
// read from the config, at start and on every reload.

#include "daemon/daemon_impl.hpp"

#include <spdlog/spdlog.h>

#include <cstdint>
#include <ctime>
#include <set>

namespace dialer::daemon {

std::vector<std::string> keys_needing_restart(const config::ReloadDiff& diff) {
  // Live in the config table, but the running components take them only at construction.
  static const std::set<std::string, std::less<>> kOnlyAtStart{
      "webhook.max_connections", "webhook.idle_timeout", "admin.allowed_uids", "admin.allowed_gids",
      "admin.max_request_bytes"};
  std::set<std::string> out(diff.needs_restart.begin(), diff.needs_restart.end());
  for (const auto& k : diff.changed) {
    if (kOnlyAtStart.contains(k)) out.insert(k);
  }
  return {out.begin(), out.end()};
}

api::ClientOptions client_options(const config::Config& c) {
  api::ClientOptions o;
  o.base_url = c.vocobase.base_url;
  o.api_key = c.vocobase.api_key.reveal();
  o.connect_timeout = c.vocobase.connect_timeout;
  o.request_timeout = c.vocobase.request_timeout;
  o.credit_balance_pointer = c.vocobase.credit_balance_pointer;
  o.rate.calls_per_minute = c.vocobase.calls_per_minute;
  o.rate.general_per_minute = c.vocobase.general_per_minute;
  return o;
}

scheduler::SchedulerOptions scheduler_options(const config::Config& c) {
  scheduler::SchedulerOptions o;
  o.concurrency_poll_interval = c.scheduler.concurrency_poll_interval;
  o.credit_poll_interval = c.scheduler.credit_poll_interval;
  o.reconcile_after = c.scheduler.reconcile_after;
  o.stale_call_timeout = c.scheduler.stale_call_timeout;
  o.clock_skew = c.scheduler.clock_skew;
  o.min_credit_balance = c.vocobase.min_credit_balance;
  o.resume_credit_balance = c.vocobase.resume_credit_balance;
  o.error_burst_threshold = c.scheduler.error_burst_threshold;
  o.provider_cooldown = c.scheduler.provider_cooldown;
  o.shutdown_grace = c.scheduler.shutdown_grace;
  o.campaign_defaults = c.defaults.to_spec();
  // A start is written at the latest when the client's token wait for starts and its connect
  // deadline have both run out.
  o.request_timeout = c.vocobase.request_timeout;
  o.start_wait_limit = api::ClientOptions{}.start_queue_timeout + c.vocobase.connect_timeout;
  return o;
}

config::Checked<config::ReloadDiff> Daemon::Impl::reload() {
  std::timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  const auto usec = static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000u +
                    static_cast<std::uint64_t>(ts.tv_nsec) / 1000u;
  notifier_->notify("RELOADING=1\nMONOTONIC_USEC=" + std::to_string(usec) + "\nSTATUS=reloading " +
                    config_path_);
  auto fresh = config::load_file(config_path_, env_);
  if (!fresh) {
    spdlog::error("reload: {} is invalid; still running on the previous config:", config_path_);
    for (const auto& d : fresh.error()) spdlog::error("  {}", d.to_string());
    notifier_->notify("READY=1\nSTATUS=" + status_line() + " (last reload failed)");
    return fresh.error();
  }
  config::ReloadDiff diff = config::reload_diff(*config_, *fresh);
  diff.needs_restart = keys_needing_restart(diff);
  // What only a restart applies stays as it is in force (config-get shows both); a file put
  // back to what runs is then no change at all.
  file_config_ = std::make_unique<config::Config>(*fresh);
  auto next = std::make_unique<config::Config>(
      config::in_force_after_reload(*config_, std::move(*fresh), diff.needs_restart));
  setup_logging(next->logging);
  if (client_) client_->apply_reload(client_options(*next));
  // A 401 stopped dialling; a new key is the operator's answer to it.
  if (scheduler_ && next->vocobase.api_key.reveal() != config_->vocobase.api_key.reveal() &&
      scheduler_->status().account_block == scheduler::AccountBlock::auth) {
    spdlog::info("reload: new API key; dialling resumes");
    scheduler_->clear_account_block();
  }
  if (scheduler_) scheduler_->update_options(scheduler_options(*next));
  config_ = std::move(next);
  apply_secrets();
  std::string changed;
  for (const auto& k : diff.changed) changed += (changed.empty() ? "" : ", ") + k;
  std::string restart;
  for (const auto& k : diff.needs_restart) restart += (restart.empty() ? "" : ", ") + k;
  spdlog::info("config reloaded: {}", changed.empty() ? "nothing changed" : "changed " + changed);
  if (!restart.empty()) spdlog::warn("config reload: a restart is needed to apply {}", restart);
  last_status_ = status_line();
  notifier_->notify("READY=1\nSTATUS=" + last_status_);
  return diff;
}

}  // namespace dialer::daemon
