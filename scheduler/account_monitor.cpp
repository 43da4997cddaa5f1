// The account monitor: concurrency limit, credits, GET /config, account blocks and the API
// being unreachable, with their polls and probes.

#include "core/campaign_json.hpp"
#include "scheduler/scheduler_impl.hpp"
#include "store/scheduler_queries.hpp"

#include <boost/json/serialize.hpp>
#include <prometheus/family.h>
#include <prometheus/registry.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <random>

namespace dialer::scheduler {

void Scheduler::Impl::clear_account_block() {
  if (account_block_ == AccountBlock::none) return;
  spdlog::info("account block ({}) lifted", to_string(account_block_));
  account_block_ = AccountBlock::none;
  account_message_.clear();
  if (!api_unreachable_ && probe_timer_ != 0) {
    ex_.cancel(probe_timer_);
    probe_timer_ = 0;
  }
  request_dispatch();
}

void Scheduler::Impl::block_account(AccountBlock why, std::string message) {
  const bool was_blocked = account_block_ != AccountBlock::none;
  account_block_ = why;
  account_message_ = std::move(message);
  if (!was_blocked) {
    spdlog::critical(
        "dispatch stopped for the whole account: {} ({}); GET /config is tried again "
        "in {}, or lift it with account-unblock",
        why == AccountBlock::auth ? "the API key was refused" : "the account was refused",
        account_message_, format_duration(account_probe_interval_));
    arm_probe(account_probe_interval_);
  }
}

void Scheduler::Impl::enter_unreachable(std::string message) {
  unreachable_message_ = std::move(message);
  if (api_unreachable_) return;
  api_unreachable_ = true;
  unreachable_probe_interval_ = kUnreachableProbeFirst;
  spdlog::warn("the API cannot be reached ({}): dispatch holds, GET /config is tried again in {}",
               unreachable_message_, format_duration(unreachable_probe_interval_));
  if (probe_timer_ == 0 || probe_at_ > now() + unreachable_probe_interval_) {
    arm_probe(unreachable_probe_interval_);
  }
}

void Scheduler::Impl::leave_unreachable() {
  if (!api_unreachable_) return;
  api_unreachable_ = false;
  spdlog::info("the API answers again: dispatch resumes");
  if (account_block_ == AccountBlock::none && probe_timer_ != 0) {
    ex_.cancel(probe_timer_);
    probe_timer_ = 0;
  }
  request_dispatch();
}

void Scheduler::Impl::arm_probe(Millis after) {
  if (stopping_) return;
  if (probe_timer_ != 0) ex_.cancel(probe_timer_);
  probe_at_ = now() + after;
  probe_timer_ = ex_.schedule_at(probe_at_, guard([this] {
                                   probe_timer_ = 0;
                                   poll_config();
                                 }));
}

void Scheduler::Impl::maybe_probe_credits(TimePoint t) {
  if (credit_probe_ || t < credit_probe_at_) return;
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
  credit_state_ = CreditState::ok;
  credit_probe_ = probe->id();
  spdlog::info("credits: the balance cannot be read; campaign {} resumes as a probe",
               probe->name());
  request_dispatch();
}

void Scheduler::Impl::start_accepted_account_checks() {
  account_probe_interval_ = kAccountProbeFirst;
  leave_unreachable();
  if (credit_probe_) {
    spdlog::info("credits: the probe's start was accepted; every exhausted campaign resumes");
    credits_restored();
  }
}

void Scheduler::Impl::credits_low_all(std::string_view why) {
  const bool was_ok = credit_state_ == CreditState::ok;
  credit_state_ = CreditState::exhausted;
  if (was_ok) spdlog::warn("credits: {}; every running campaign pauses until they are back", why);
  // With no balance key only a probe can tell when credits are back: a refused probe doubles the
  // interval (up to an hour), a first exhaustion waits credit_poll_interval.
  if (credit_probe_) {
    credit_probe_interval_ = std::min<Millis>(
        std::max<Millis>(credit_probe_interval_, options_.credit_poll_interval) * 2,
        kCreditProbeMax);
    credit_probe_.reset();
    credit_probe_at_ = now() + credit_probe_interval_;
    spdlog::info("credits: the probe was refused; next probe in {}",
                 format_duration(credit_probe_interval_));
  } else if (was_ok) {
    if (credit_probe_interval_ == Millis{0}) credit_probe_interval_ = options_.credit_poll_interval;
    credit_probe_at_ = now() + credit_probe_interval_;
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
  credit_state_ = CreditState::ok;
  credit_probe_.reset();
  credit_probe_interval_ = Millis{0};
  spdlog::info("credits: balance {} is back at the resume level", balance_.value_or(0));
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
  if (stopping_) return;
  arm_periodic_poll(options_.concurrency_poll_interval);
  if (config_timer_ != 0) ex_.cancel(config_timer_);
  config_timer_ = ex_.schedule_at(now() + options_.credit_poll_interval, guard([this] {
                                    config_timer_ = 0;
                                    poll_config();
                                  }));
}

void Scheduler::Impl::arm_periodic_poll(Millis after) {
  // While a concurrency 429 holds dispatch, its own (required) polls run the timer; the
  // periodic one is armed again once a fresh reading lifts the hold.
  if (full_until_fresh_poll_) return;
  if (concurrency_timer_ != 0) ex_.cancel(concurrency_timer_);
  concurrency_timer_ = ex_.schedule_at(now() + after, guard([this] {
                                         concurrency_timer_ = 0;
                                         concurrency_poll_due_ = true;
                                         request_dispatch();
                                       }));
}

std::optional<TimePoint> Scheduler::Impl::maybe_periodic_poll(TimePoint t) {
  if (!concurrency_poll_due_ || concurrency_poll_outstanding_ || stopping_) return std::nullopt;
  // A 429 hold polls on its own; a limit never read yet (the startup poll failed) is no
  // optional reading.
  if (full_until_fresh_poll_) return std::nullopt;
  if (!concurrency_) {
    poll_concurrency();
    return std::nullopt;
  }
  const bool due_work =
      plan_due_from_ && *plan_due_from_ < t + platform_.token_span(RateBucket::calls);
  const Millis longest = longest_hold();
  const bool overdue = std::any_of(open_.begin(), open_.end(), [&](const auto& entry) {
    return outcome_overdue(entry.second, t, longest);
  });
  if (!due_work && !overdue) {
    // Webhooks account for every slot and nothing is due: a reading would change nothing.
    concurrency_poll_due_ = false;
    poll_waiting_since_.reset();
    ++stats_.concurrency_polls_skipped;
    arm_periodic_poll(options_.concurrency_poll_interval);
    return std::nullopt;
  }
  if (!poll_waiting_since_) poll_waiting_since_ = t;
  if (optional_tokens(t, poll_waiting_since_) <= 0) {
    ++stats_.concurrency_polls_deferred;
    const TimePoint at = slack_check_at(t);
    return at == TimePoint::max() ? std::nullopt : std::optional(at);
  }
  poll_concurrency();
  return std::nullopt;
}

void Scheduler::Impl::poll_concurrency() {
  if (stopping_ || concurrency_poll_outstanding_) return;
  if (concurrency_timer_ != 0) {
    ex_.cancel(concurrency_timer_);
    concurrency_timer_ = 0;
  }
  if (calls_tokens() <= 0) {
    // Starts have first claim on the /calls/* bucket: poll when a token returns.
    concurrency_timer_ = ex_.schedule_at(platform_.next_token_at(RateBucket::calls), guard([this] {
                                           concurrency_timer_ = 0;
                                           poll_concurrency();
                                         }));
    return;
  }
  concurrency_poll_outstanding_ = true;
  concurrency_poll_due_ = false;
  poll_waiting_since_.reset();
  concurrency_429s_at_poll_ = concurrency_429s_;
  started_at_concurrency_poll_.clear();
  for (const auto& [id, a] : open_) {
    if (a.state == AttemptState::started && !a.start_outstanding) {
      started_at_concurrency_poll_.push_back(id);
    }
  }
  platform_.get_concurrency(
      guard([this](PlatformResult<ConcurrencyReading> r) { on_concurrency(std::move(r)); }));
}

void Scheduler::Impl::on_concurrency(PlatformResult<ConcurrencyReading> result) {
  concurrency_poll_outstanding_ = false;
  if (result) {
    leave_unreachable();
    const bool changed = !concurrency_ || concurrency_->limit != result->limit;
    concurrency_ = ConcurrencySnapshot{result->limit, result->active};
    // Every open attempt counts as ours on the server, including starts still unanswered
    // (the server has usually created them) and ambiguous ones: overcounting ours can at worst
    // cost one 429 and an early poll, while undercounting would read our own calls as foreign
    // and leave slots idle until the next poll.
    ours_at_concurrency_poll_ = in_flight_;
    limit_source_ = result->limit_source.empty() ? "api" : result->limit_source;
    // A reading taken before the latest 429 does not lift the hold; one taken after it does.
    if (concurrency_429s_at_poll_ == concurrency_429s_) full_until_fresh_poll_ = false;
    // Webhooks of calls that ended just before the reading may still be on their way: look
    // again once they had time to arrive, so only calls whose outcome is really missing remain.
    if (!started_at_concurrency_poll_.empty()) {
      ex_.schedule_at(now() + kLateWebhookGrace,
                      guard([this, ids = std::move(started_at_concurrency_poll_),
                             active = result->active] { settle_ended_early(ids, active); }));
    }
    started_at_concurrency_poll_.clear();
    const auto acc = slot_account();
    if (changed) {
      spdlog::info("concurrency: limit {} (source {}), {} active, {} of them not ours",
                   result->limit, limit_source_, result->active, acc.foreign);
    } else {
      spdlog::debug("concurrency: limit {}, {} active, {} foreign", result->limit, result->active,
                    acc.foreign);
    }
  } else {
    spdlog::warn("GET /calls/concurrency: {}", result.error().message);
    // A 429 hold stays until a reading answers: the next poll comes sooner while it lasts.
  }
  if (!stopping_) {
    if (concurrency_timer_ != 0) ex_.cancel(concurrency_timer_);
    // Held by a 429: a reading older than it is followed by a fresh one at once; a failed
    // poll is retried sooner than the interval. Otherwise the next reading is optional: it
    // waits for a slack token (maybe_periodic_poll).
    if (!full_until_fresh_poll_) {
      arm_periodic_poll(options_.concurrency_poll_interval);
    } else {
      const Millis next =
          result ? Millis{0}
                 : std::min<Millis>(options_.concurrency_poll_interval, kConcurrencyHoldRepoll);
      concurrency_timer_ = ex_.schedule_at(now() + next, guard([this] {
                                             concurrency_timer_ = 0;
                                             poll_concurrency();
                                           }));
    }
  }
  request_dispatch();
}

void Scheduler::Impl::poll_config() {
  if (stopping_ || config_poll_outstanding_) return;
  if (config_timer_ != 0) {
    ex_.cancel(config_timer_);
    config_timer_ = 0;
  }
  config_poll_outstanding_ = true;
  platform_.get_config(guard([this](PlatformResult<AccountInfo> r) { on_config(std::move(r)); }));
}

void Scheduler::Impl::on_config(PlatformResult<AccountInfo> result) {
  config_poll_outstanding_ = false;
  const TimePoint t = now();
  if (result) {
    leave_unreachable();
    if (account_block_ != AccountBlock::none && t >= probe_at_) {
      spdlog::info("GET /config answered: lifting the account block");
      // A block that comes back at once is probed less often next time (reset by an accepted
      // start).
      account_probe_interval_ = std::min<Millis>(account_probe_interval_ * 2, kAccountProbeMax);
      clear_account_block();
    }
    providers_.set_account(result->providers);
    balance_polled_at_ = t;
    if (!result->credit_balance) {
      if (!balance_key_missing_logged_) {
        spdlog::warn(
            "GET /config has no credit balance at the configured pointer "
            "(vocobase.credit_balance_pointer); credits are noticed by 403 answers, and while "
            "they are exhausted one campaign is resumed as a probe now and then");
        balance_key_missing_logged_ = true;
      }
      maybe_probe_credits(t);
    } else {
      balance_ = result->credit_balance;
      if (auto r = kv_.set("credit_balance", std::to_string(*balance_)); !r) {
        spdlog::warn("kv: {}", r.error().what());
      }
      const CreditThresholds th{options_.min_credit_balance, options_.resume_credit_balance};
      if (balance_too_low(balance_, th)) {
        bool any_running = false;
        for (const auto& [id, c] : campaigns_) {
          any_running = any_running || c.row.state == CampaignState::running;
        }
        if (credit_state_ == CreditState::ok || any_running) {
          credits_low_all("balance " + std::to_string(*balance_) + " below the minimum " +
                          std::to_string(options_.min_credit_balance));
        }
      } else if (*balance_ >= th.resume_balance) {
        // Every exhausted campaign resumes, whatever was resumed by hand in between.
        bool any_exhausted = false;
        for (const auto& [id, c] : campaigns_) {
          any_exhausted = any_exhausted ||
                          (c.row.state == CampaignState::credit_exhausted && c.spec().auto_resume);
        }
        if (credit_state_ == CreditState::exhausted || any_exhausted) credits_restored();
      }
    }
  } else {
    spdlog::warn("GET /config: {}", result.error().message);
    if (t >= probe_at_ && (api_unreachable_ || account_block_ != AccountBlock::none)) {
      // The probe failed: try again later, less often.
      Millis next = kAccountProbeMax;
      if (account_block_ != AccountBlock::none) {
        account_probe_interval_ = std::min<Millis>(account_probe_interval_ * 2, kAccountProbeMax);
        next = account_probe_interval_;
      }
      if (api_unreachable_) {
        unreachable_probe_interval_ =
            std::min<Millis>(unreachable_probe_interval_ * 2, kUnreachableProbeMax);
        next = std::min(next, unreachable_probe_interval_);
      }
      arm_probe(next);
    }
  }
  if (!stopping_) {
    if (config_timer_ != 0) ex_.cancel(config_timer_);
    // Until GET /config has answered once no provider is usable and nothing can start: retry
    // sooner than the regular interval.
    const Millis next = providers_.account_known()
                            ? options_.credit_poll_interval
                            : std::min(options_.credit_poll_interval, Millis{kPollRetry / 6});
    config_timer_ = ex_.schedule_at(t + next, guard([this] {
                                      config_timer_ = 0;
                                      poll_config();
                                    }));
  }
  update_gauges();
  request_dispatch();
}

}  // namespace dialer::scheduler
