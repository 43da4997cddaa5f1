// The engine's Prometheus series: registered once, updated after every change of state.

#include "core/campaign_json.hpp"
#include "scheduler/scheduler_impl.hpp"

#include <boost/json/serialize.hpp>
#include <prometheus/family.h>
#include <prometheus/registry.h>
#include <spdlog/spdlog.h>

#include <random>

namespace dialer::scheduler {

void Scheduler::Impl::init_metrics(prometheus::Registry& registry) {
  metrics_ = std::make_unique<Metrics>();
  auto& m = *metrics_;
  m.passes = &prometheus::BuildCounter()
                  .Name("dialer_dispatch_passes_total")
                  .Help("Dispatch passes run (event-driven; no fixed tick)")
                  .Register(registry)
                  .Add({});
  auto& starts = prometheus::BuildCounter()
                     .Name("dialer_starts_total")
                     .Help("POST /calls/start answers by result")
                     .Register(registry);
  for (auto k : all_values<StartKind>()) {
    m.starts[static_cast<std::size_t>(k)] = &starts.Add({{"result", std::string(to_string(k))}});
  }
  auto& outcomes = prometheus::BuildCounter()
                       .Name("dialer_outcomes_total")
                       .Help("Attempt outcomes applied, by outcome")
                       .Register(registry);
  for (auto o : all_values<Outcome>()) {
    m.outcomes[static_cast<std::size_t>(o)] =
        &outcomes.Add({{"outcome", std::string(to_string(o))}});
  }
  auto& reconciled = prometheus::BuildCounter()
                         .Name("dialer_reconciled_total")
                         .Help("Ambiguous starts settled by GET /calls, by result")
                         .Register(registry);
  m.polled = &prometheus::BuildCounter()
                  .Name("dialer_outcomes_polled_total")
                  .Help("Outcomes fetched by a poll because no webhook came (webhooks failing?)")
                  .Register(registry)
                  .Add({});
  m.credits_spent = &prometheus::BuildCounter()
                         .Name("dialer_credits_spent_total")
                         .Help("Credits the outcomes of this daemon's calls reported")
                         .Register(registry)
                         .Add({});
  auto& blocked = prometheus::BuildGauge()
                      .Name("dialer_account_blocked")
                      .Help("1 while dialling is stopped for the whole account, by reason")
                      .Register(registry);
  m.account_blocked = {&blocked.Add({{"reason", "auth"}}), &blocked.Add({{"reason", "account"}})};
  m.campaign_outcomes = &prometheus::BuildCounter()
                             .Name("dialer_campaign_outcomes_total")
                             .Help("Attempt outcomes applied, by campaign and outcome")
                             .Register(registry);
  m.campaign_credits = &prometheus::BuildCounter()
                            .Name("dialer_campaign_credits_spent_total")
                            .Help("Credits spent by a campaign's calls")
                            .Register(registry);
  m.campaign_in_flight = &prometheus::BuildGauge()
                              .Name("dialer_campaign_in_flight")
                              .Help("A campaign's attempts holding a slot")
                              .Register(registry);
  m.found = &reconciled.Add({{"result", "found"}});
  m.voided = &reconciled.Add({{"result", "void"}});
  auto gauge = [&](const char* name, const char* help) {
    return &prometheus::BuildGauge().Name(name).Help(help).Register(registry).Add({});
  };
  m.in_flight = gauge("dialer_slots_in_flight", "Our attempts holding a slot");
  m.capacity = gauge("dialer_slots_capacity", "Slots this daemon may fill (limit - foreign)");
  m.limit = gauge("dialer_slots_limit", "The account's concurrency limit");
  m.foreign = gauge("dialer_foreign_calls", "Active calls of the account not started here");
  m.ambiguous = gauge("dialer_ambiguous_attempts", "Attempts waiting for reconciliation");
  m.ambiguous_overdue =
      gauge("dialer_ambiguous_overdue_attempts",
            "Attempts ambiguous longer than stale_call_timeout (settle with attempt-resolve)");
  m.balance = gauge("dialer_credit_balance", "Last known credit balance");
  m.paused_by_errors =
      gauge("dialer_campaigns_paused_by_errors",
            "Campaigns the circuit breaker paused (consecutive failed starts; see blocked_by)");
  auto& campaigns = prometheus::BuildGauge()
                        .Name("dialer_campaigns")
                        .Help("Campaigns by state")
                        .Register(registry);
  for (auto s : all_values<CampaignState>()) {
    m.campaigns[static_cast<std::size_t>(s)] =
        &campaigns.Add({{"state", std::string(to_string(s))}});
  }
  const prometheus::Histogram::BucketBoundaries latency{0.0001, 0.00025, 0.0005, 0.001, 0.002,
                                                        0.005,  0.01,    0.025,  0.05,  0.1};
  m.handoff = &prometheus::BuildHistogram()
                   .Name("dialer_dispatch_handoff_seconds")
                   .Help("From an outcome freeing a slot to the next start handed to the API")
                   .Register(registry)
                   .Add({}, latency);
  m.claim = &prometheus::BuildHistogram()
                 .Name("dialer_claim_seconds")
                 .Help("Claim + reserve transaction of one contact")
                 .Register(registry)
                 .Add({}, latency);
}

void Scheduler::Impl::update_gauges() {
  if (!metrics_) return;
  const auto acc = slot_account();
  metrics_->in_flight->Set(open_.in_flight);
  metrics_->capacity->Set(acc.capacity);
  metrics_->limit->Set(acc.limit);
  metrics_->foreign->Set(acc.foreign);
  metrics_->ambiguous->Set(static_cast<double>(open_.ambiguous.size()));
  metrics_->ambiguous_overdue->Set(static_cast<double>(open_.overdue_reported.size()));
  if (account_.balance) metrics_->balance->Set(*account_.balance);
  std::array<int, EnumNames<CampaignState>::names.size()> counts{};
  for (const auto& [id, c] : campaigns_) ++counts[static_cast<std::size_t>(c.row.state)];
  for (std::size_t i = 0; i < counts.size(); ++i) metrics_->campaigns[i]->Set(counts[i]);
  int by_errors = 0;
  for (const auto& [id, c] : campaigns_) {
    if (c.row.state == CampaignState::paused && c.row.pause_reason == PauseReason::errors) {
      ++by_errors;
    }
  }
  metrics_->paused_by_errors->Set(by_errors);
  metrics_->account_blocked[0]->Set(account_.block == AccountBlock::auth ? 1 : 0);
  metrics_->account_blocked[1]->Set(account_.block == AccountBlock::account ? 1 : 0);
  for (auto& [id, c] : campaigns_) {
    if (c.m_in_flight == nullptr) {
      // Every series of the campaign exists from the start at 0, so rate() and alerts see the
      // first outcome and the first credit.
      c.m_in_flight = &metrics_->campaign_in_flight->Add({{"campaign", c.name()}});
      c.m_credits = &metrics_->campaign_credits->Add({{"campaign", c.name()}});
      for (auto o : all_values<Outcome>()) {
        c.m_outcomes[static_cast<std::size_t>(o)] = &metrics_->campaign_outcomes->Add(
            {{"campaign", c.name()}, {"outcome", std::string(to_string(o))}});
      }
    }
    c.m_in_flight->Set(c.in_flight);
  }
}

}  // namespace dialer::scheduler
