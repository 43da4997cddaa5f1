// The account monitor: concurrency limit, credits, GET /config, account blocks and the API
// being unreachable, with their polls and probes.

#include "core/campaign_json.hpp"
#include "scheduler/scheduler_impl.hpp"

#include <boost/json/serialize.hpp>
#include <prometheus/family.h>
#include <prometheus/registry.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <random>

namespace dialer::scheduler {

void Scheduler::Impl::clear_account_block() {
  if (account_.block == AccountBlock::none) return;
  spdlog::info("account block ({}) lifted", to_string(account_.block));
  account_.block = AccountBlock::none;
  account_.block_message.clear();
  if (!account_.api_unreachable && account_.probe_timer != 0) {
    ex_.cancel(account_.probe_timer);
    account_.probe_timer = 0;
  }
  request_dispatch();
}

void Scheduler::Impl::block_account(AccountBlock why, std::string message) {
  const bool was_blocked = account_.block != AccountBlock::none;
  account_.block = why;
  account_.block_message = std::move(message);
  if (!was_blocked) {
    spdlog::critical(
        "dispatch stopped for the whole account: {} ({}); GET /config is tried again "
        "in {}, or lift it with account-unblock",
        why == AccountBlock::auth ? "the API key was refused" : "the account was refused",
        account_.block_message, format_duration(account_.account_probe_interval));
    arm_probe(account_.account_probe_interval);
  }
}

void Scheduler::Impl::enter_unreachable(std::string message) {
  account_.unreachable_message = std::move(message);
  if (account_.api_unreachable) return;
  account_.api_unreachable = true;
  account_.unreachable_probe_interval = kUnreachableProbeFirst;
  spdlog::warn("the API cannot be reached ({}): dispatch holds, GET /config is tried again in {}",
               account_.unreachable_message, format_duration(account_.unreachable_probe_interval));
  if (account_.probe_timer == 0 ||
      account_.probe_at > now() + account_.unreachable_probe_interval) {
    arm_probe(account_.unreachable_probe_interval);
  }
}

void Scheduler::Impl::leave_unreachable() {
  if (!account_.api_unreachable) return;
  account_.api_unreachable = false;
  spdlog::info("the API answers again: dispatch resumes");
  if (account_.block == AccountBlock::none && account_.probe_timer != 0) {
    ex_.cancel(account_.probe_timer);
    account_.probe_timer = 0;
  }
  request_dispatch();
}

void Scheduler::Impl::arm_probe(Millis after) {
  if (run_.stopping) return;
  if (account_.probe_timer != 0) ex_.cancel(account_.probe_timer);
  account_.probe_at = now() + after;
  account_.probe_timer = ex_.schedule_at(account_.probe_at, guard([this] {
                                           account_.probe_timer = 0;
                                           poll_config();
                                         }));
}

void Scheduler::Impl::maybe_probe_credits(TimePoint t) {
  if (account_.credit_probe || t < account_.credit_probe_at) return;
  CampaignRt* probe = nullptr;
  for (auto& [id, c] : campaigns_) {
    if (c.row.state == CampaignState::credit_exhausted && c.spec().auto_resume) {
      probe = &c;
      break;
    }
  }
  if (probe == nullptr) return;
  if (auto r = campaign_event(*probe, CampaignEvent::credits_restored, PauseReason::none,
                              Scheduler::kActor, "probe: the balance cannot be read");
      !r) {
    spdlog::error("campaign {}: {}", probe->name(), r.error().what());
    return;
  }
  account_.credit_state = CreditState::ok;
  account_.credit_probe = probe->id();
  spdlog::info("credits: the balance cannot be read; campaign {} resumes as a probe",
               probe->name());
  request_dispatch();
}

void Scheduler::Impl::start_accepted_account_checks() {
  account_.account_probe_interval = kAccountProbeFirst;
  leave_unreachable();
  if (account_.credit_probe) {
    spdlog::info("credits: the probe's start was accepted; every exhausted campaign resumes");
    credits_restored();
  }
}

void Scheduler::Impl::credits_low_all(std::string_view why) {
  const bool was_ok = account_.credit_state == CreditState::ok;
  account_.credit_state = CreditState::exhausted;
  if (was_ok) spdlog::warn("credits: {}; every running campaign pauses until they are back", why);
  // With no balance key only a probe can tell when credits are back: a refused probe doubles the
  // interval (up to an hour), a first exhaustion waits credit_poll_interval.
  if (account_.credit_probe) {
    account_.credit_probe_interval = std::min<Millis>(
        std::max<Millis>(account_.credit_probe_interval, options_.credit_poll_interval) * 2,
        kCreditProbeMax);
    account_.credit_probe.reset();
    account_.credit_probe_at = now() + account_.credit_probe_interval;
    spdlog::info("credits: the probe was refused; next probe in {}",
                 format_duration(account_.credit_probe_interval));
  } else if (was_ok) {
    if (account_.credit_probe_interval == Millis{0})
      account_.credit_probe_interval = options_.credit_poll_interval;
    account_.credit_probe_at = now() + account_.credit_probe_interval;
  }
  for (auto& [id, c] : campaigns_) {
    if (c.row.state != CampaignState::running) continue;
    if (auto r = campaign_event(c, CampaignEvent::credits_low, PauseReason::none, Scheduler::kActor,
                                why);
        !r) {
      spdlog::error("campaign {}: {}", c.name(), r.error().what());
    }
  }
}

void Scheduler::Impl::credits_restored() {
  account_.credit_state = CreditState::ok;
  account_.credit_probe.reset();
  account_.credit_probe_interval = Millis{0};
  spdlog::info("credits: balance {} is back at the resume level", account_.balance.value_or(0));
  for (auto& [id, c] : campaigns_) {
    if (c.row.state != CampaignState::credit_exhausted || !c.spec().auto_resume) continue;
    if (auto r = campaign_event(c, CampaignEvent::credits_restored, PauseReason::none,
                                Scheduler::kActor);
        !r) {
      spdlog::error("campaign {}: {}", c.name(), r.error().what());
    }
  }
}

void Scheduler::Impl::arm_poll_timers() {
  // Before recover() (a standby of a pair) nothing polls: recover() arms the polls itself.
  if (run_.stopping || !run_.recovered) return;
  arm_periodic_poll(options_.concurrency_poll_interval);
  if (account_.config_timer != 0) ex_.cancel(account_.config_timer);
  account_.config_timer = ex_.schedule_at(now() + options_.credit_poll_interval, guard([this] {
                                            account_.config_timer = 0;
                                            poll_config();
                                          }));
}

void Scheduler::Impl::arm_periodic_poll(Millis after) {
  // While a concurrency 429 holds dispatch, its own (required) polls run the timer; the
  // periodic one is armed again once a fresh reading lifts the hold.
  if (account_.full_until_fresh_poll) return;
  if (account_.concurrency_timer != 0) ex_.cancel(account_.concurrency_timer);
  account_.concurrency_timer = ex_.schedule_at(now() + after, guard([this] {
                                                 account_.concurrency_timer = 0;
                                                 account_.concurrency_poll_due = true;
                                                 request_dispatch();
                                               }));
}

std::optional<TimePoint> Scheduler::Impl::maybe_periodic_poll(TimePoint t) {
  if (!account_.concurrency_poll_due || account_.concurrency_poll_outstanding || run_.stopping)
    return std::nullopt;
  // A 429 hold polls on its own; a limit never read yet (the startup poll failed) is no
  // optional reading.
  if (account_.full_until_fresh_poll) return std::nullopt;
  if (!account_.concurrency) {
    poll_concurrency();
    return std::nullopt;
  }
  const bool due_work = dispatch_.plan_due_from &&
                        *dispatch_.plan_due_from < t + platform_.token_span(RateBucket::calls);
  const Millis longest = longest_hold();
  const bool overdue = std::any_of(open_.by_id.begin(), open_.by_id.end(), [&](const auto& entry) {
    return outcome_overdue(entry.second, t, longest);
  });
  if (!due_work && !overdue) {
    // Webhooks account for every slot and nothing is due: a reading would change nothing.
    account_.concurrency_poll_due = false;
    account_.poll_waiting_since.reset();
    ++stats_.concurrency_polls_skipped;
    arm_periodic_poll(options_.concurrency_poll_interval);
    return std::nullopt;
  }
  if (!account_.poll_waiting_since) account_.poll_waiting_since = t;
  if (optional_tokens(t, account_.poll_waiting_since) <= 0) {
    ++stats_.concurrency_polls_deferred;
    const TimePoint at = slack_check_at(t);
    return at == TimePoint::max() ? std::nullopt : std::optional(at);
  }
  poll_concurrency();
  return std::nullopt;
}

void Scheduler::Impl::poll_concurrency() {
  if (run_.stopping || account_.concurrency_poll_outstanding) return;
  if (account_.concurrency_timer != 0) {
    ex_.cancel(account_.concurrency_timer);
    account_.concurrency_timer = 0;
  }
  if (calls_tokens() <= 0) {
    // Starts have first claim on the /calls/* bucket: poll when a token returns.
    account_.concurrency_timer =
        ex_.schedule_at(platform_.next_token_at(RateBucket::calls), guard([this] {
                          account_.concurrency_timer = 0;
                          poll_concurrency();
                        }));
    return;
  }
  account_.concurrency_poll_outstanding = true;
  account_.concurrency_poll_due = false;
  account_.poll_waiting_since.reset();
  account_.concurrency_429s_at_poll = account_.concurrency_429s;
  account_.started_at_concurrency_poll.clear();
  for (const auto& [id, a] : open_.by_id) {
    if (a.state == AttemptState::started && !a.start_outstanding) {
      account_.started_at_concurrency_poll.push_back(id);
    }
  }
  platform_.get_concurrency(
      guard([this](PlatformResult<ConcurrencyReading> r) { on_concurrency(std::move(r)); }));
}

void Scheduler::Impl::on_concurrency(PlatformResult<ConcurrencyReading> result) {
  account_.concurrency_poll_outstanding = false;
  if (result) {
    leave_unreachable();
    const bool changed = !account_.concurrency || account_.concurrency->limit != result->limit;
    account_.concurrency = ConcurrencySnapshot{result->limit, result->active};
    // Every open attempt counts as ours on the server, including starts still unanswered
    // (the server has usually created them) and ambiguous ones: overcounting ours can at worst
    // cost one 429 and an early poll, while undercounting would read our own calls as foreign
    // and leave slots idle until the next poll.
    account_.ours_at_concurrency_poll = open_.in_flight;
    account_.limit_source = result->limit_source.empty() ? "api" : result->limit_source;
    // A reading taken before the latest 429 does not lift the hold; one taken after it does.
    if (account_.concurrency_429s_at_poll == account_.concurrency_429s)
      account_.full_until_fresh_poll = false;
    // Webhooks of calls that ended just before the reading may still be on their way: look
    // again once they had time to arrive, so only calls whose outcome is really missing remain.
    if (!account_.started_at_concurrency_poll.empty()) {
      ex_.schedule_at(now() + kLateWebhookGrace,
                      guard([this, ids = std::move(account_.started_at_concurrency_poll),
                             active = result->active] { settle_ended_early(ids, active); }));
    }
    account_.started_at_concurrency_poll.clear();
    const auto acc = slot_account();
    if (changed) {
      spdlog::info("concurrency: limit {} (source {}), {} active, {} of them not ours",
                   result->limit, account_.limit_source, result->active, acc.foreign);
    } else {
      spdlog::debug("concurrency: limit {}, {} active, {} foreign", result->limit, result->active,
                    acc.foreign);
    }
  } else {
    spdlog::warn("GET /calls/concurrency: {}", result.error().message);
    // A 429 hold stays until a reading answers: the next poll comes sooner while it lasts.
  }
  if (!run_.stopping) {
    if (account_.concurrency_timer != 0) ex_.cancel(account_.concurrency_timer);
    // Held by a 429: a reading older than it is followed by a fresh one at once; a failed
    // poll is retried sooner than the interval. Otherwise the next reading is optional: it
    // waits for a slack token (maybe_periodic_poll).
    if (!account_.full_until_fresh_poll) {
      arm_periodic_poll(options_.concurrency_poll_interval);
    } else {
      const Millis next =
          result ? Millis{0}
                 : std::min<Millis>(options_.concurrency_poll_interval, kConcurrencyHoldRepoll);
      account_.concurrency_timer = ex_.schedule_at(now() + next, guard([this] {
                                                     account_.concurrency_timer = 0;
                                                     poll_concurrency();
                                                   }));
    }
  }
  request_dispatch();
}

void Scheduler::Impl::poll_config() {
  if (run_.stopping || account_.config_poll_outstanding) return;
  if (account_.config_timer != 0) {
    ex_.cancel(account_.config_timer);
    account_.config_timer = 0;
  }
  account_.config_poll_outstanding = true;
  platform_.get_config(guard([this](PlatformResult<AccountInfo> r) { on_config(std::move(r)); }));
}

void Scheduler::Impl::on_config(PlatformResult<AccountInfo> result) {
  account_.config_poll_outstanding = false;
  const TimePoint t = now();
  if (result) {
    leave_unreachable();
    if (account_.block != AccountBlock::none && t >= account_.probe_at) {
      spdlog::info("GET /config answered: lifting the account block");
      // A block that comes back at once is probed less often next time (reset by an accepted
      // start).
      account_.account_probe_interval =
          std::min<Millis>(account_.account_probe_interval * 2, kAccountProbeMax);
      clear_account_block();
    }
    providers_.set_account(result->providers);
    account_.balance_polled_at = t;
    if (!result->credit_balance) {
      if (!account_.balance_key_missing_logged) {
        spdlog::warn(
            "GET /config has no credit balance at the configured pointer "
            "(vocobase.credit_balance_pointer); credits are noticed by 403 answers, and while "
            "they are exhausted one campaign is resumed as a probe now and then");
        account_.balance_key_missing_logged = true;
      }
      maybe_probe_credits(t);
    } else {
      account_.balance = result->credit_balance;
      if (auto r = kv_.set("credit_balance", std::to_string(*account_.balance)); !r) {
        spdlog::warn("kv: {}", r.error().what());
      }
      const CreditThresholds th{options_.min_credit_balance, options_.resume_credit_balance};
      if (balance_too_low(account_.balance, th)) {
        bool any_running = false;
        for (const auto& [id, c] : campaigns_) {
          any_running = any_running || c.row.state == CampaignState::running;
        }
        if (account_.credit_state == CreditState::ok || any_running) {
          credits_low_all("balance " + std::to_string(*account_.balance) + " below the minimum " +
                          std::to_string(options_.min_credit_balance));
        }
      } else if (*account_.balance >= th.resume_balance) {
        // Every exhausted campaign resumes, whatever was resumed by hand in between.
        bool any_exhausted = false;
        for (const auto& [id, c] : campaigns_) {
          any_exhausted = any_exhausted ||
                          (c.row.state == CampaignState::credit_exhausted && c.spec().auto_resume);
        }
        if (account_.credit_state == CreditState::exhausted || any_exhausted) credits_restored();
      }
    }
  } else {
    spdlog::warn("GET /config: {}", result.error().message);
    if (t >= account_.probe_at &&
        (account_.api_unreachable || account_.block != AccountBlock::none)) {
      // The probe failed: try again later, less often.
      Millis next = kAccountProbeMax;
      if (account_.block != AccountBlock::none) {
        account_.account_probe_interval =
            std::min<Millis>(account_.account_probe_interval * 2, kAccountProbeMax);
        next = account_.account_probe_interval;
      }
      if (account_.api_unreachable) {
        account_.unreachable_probe_interval =
            std::min<Millis>(account_.unreachable_probe_interval * 2, kUnreachableProbeMax);
        next = std::min(next, account_.unreachable_probe_interval);
      }
      arm_probe(next);
    }
  }
  if (!run_.stopping) {
    if (account_.config_timer != 0) ex_.cancel(account_.config_timer);
    // Until GET /config has answered once no provider is usable and nothing can start: retry
    // sooner than the regular interval.
    const Millis next = providers_.account_known()
                            ? options_.credit_poll_interval
                            : std::min(options_.credit_poll_interval, Millis{kPollRetry / 6});
    account_.config_timer = ex_.schedule_at(t + next, guard([this] {
                                              account_.config_timer = 0;
                                              poll_config();
                                            }));
  }
  update_gauges();
  request_dispatch();
}

}  // namespace dialer::scheduler
