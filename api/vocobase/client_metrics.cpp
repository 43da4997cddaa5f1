// VocobaseClient's metrics: dialer_api_requests_total, _request_failures_total,
// _request_duration_seconds and the dialer_api_bucket_* gauges.

#include "api/vocobase/client_impl.hpp"

#include <prometheus/registry.h>

namespace dialer::api {

namespace {

constexpr std::array kEndpoints{
    Endpoint::config,    Endpoint::concurrency,  Endpoint::calls_start,  Endpoint::calls_list,
    Endpoint::calls_get, Endpoint::sessions_get, Endpoint::account_setup};
constexpr std::array kVerdicts{Verdict::ok, Verdict::rejected, Verdict::ambiguous,
                               Verdict::not_sent};

}  // namespace

void VocobaseClient::Impl::init_metrics(prometheus::Registry& registry) {
  auto& requests = prometheus::BuildCounter()
                       .Name("dialer_api_requests_total")
                       .Help("Partner API requests by endpoint and result class")
                       .Register(registry);
  for (Endpoint ep : kEndpoints) {
    for (Verdict v : kVerdicts) {
      requests_[{ep, v}] = &requests.Add(
          {{"endpoint", std::string(to_string(ep))}, {"result", std::string(to_string(v))}});
    }
  }
  errors_ = &prometheus::BuildCounter()
                 .Name("dialer_api_request_failures_total")
                 .Help("Partner API requests that did not succeed, by endpoint and reason")
                 .Register(registry);
  auto& duration = prometheus::BuildHistogram()
                       .Name("dialer_api_request_duration_seconds")
                       .Help("Partner API request time including the wait for a rate token")
                       .Register(registry);
  for (Endpoint ep : kEndpoints) {
    durations_[ep] = &duration.Add({{"endpoint", std::string(to_string(ep))}},
                                   prometheus::Histogram::BucketBoundaries{
                                       0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300});
  }
  auto& tokens = prometheus::BuildGauge()
                     .Name("dialer_api_bucket_tokens")
                     .Help("Rate tokens spendable now, per bucket")
                     .Register(registry);
  auto& used = prometheus::BuildGauge()
                   .Name("dialer_api_bucket_used")
                   .Help("Requests sent in the last sliding window, per bucket")
                   .Register(registry);
  auto& limit = prometheus::BuildGauge()
                    .Name("dialer_api_bucket_limit")
                    .Help("Requests allowed per sliding window, per bucket")
                    .Register(registry);
  auto& waiting = prometheus::BuildGauge()
                      .Name("dialer_api_bucket_waiting")
                      .Help("Requests waiting for a rate token, per bucket")
                      .Register(registry);
  for (Bucket b : {Bucket::calls, Bucket::general}) {
    const prometheus::Labels labels{{"bucket", std::string(to_string(b))}};
    const auto i = static_cast<std::size_t>(b);
    gauges_[i] = {&tokens.Add(labels), &used.Add(labels), &limit.Add(labels), &waiting.Add(labels)};
  }
  metrics_ = true;
  update_metrics();
}

void VocobaseClient::Impl::update_metrics() {
  if (!metrics_) return;
  for (Bucket b : {Bucket::calls, Bucket::general}) {
    auto& g = gauges_[static_cast<std::size_t>(b)];
    g.tokens->Set(budget_.available(b));
    g.used->Set(budget_.used_last_window(b));
    g.limit->Set(budget_.limit(b));
    g.waiting->Set(static_cast<double>(budget_.waiting(b)));
  }
}

}  // namespace dialer::api
