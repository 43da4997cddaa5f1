#include "api/vocobase/client.hpp"

#include "api/vocobase/client_impl.hpp"

#include <boost/url/encode.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>

#include <algorithm>

namespace dialer::api {

using vocobase_detail::encode_segment;

std::string vocobase_detail::encode_segment(std::string_view s) {
  return boost::urls::encode(s, boost::urls::unreserved_chars);
}

std::string_view to_string(Endpoint e) noexcept {
  switch (e) {
    case Endpoint::config:
      return "config";
    case Endpoint::concurrency:
      return "calls_concurrency";
    case Endpoint::calls_start:
      return "calls_start";
    case Endpoint::calls_list:
      return "calls_list";
    case Endpoint::calls_get:
      return "calls_get";
    case Endpoint::sessions_get:
      return "sessions_get";
    case Endpoint::account_setup:
      return "account_setup";
  }
  return "unknown";
}

// --- public face ---------------------------------------------------------------------------

Result<std::unique_ptr<VocobaseClient>> VocobaseClient::create(asio::any_io_executor ex,
                                                               ClientOptions options,
                                                               const Clock& clock,
                                                               prometheus::Registry* registry) {
  auto impl = std::make_unique<Impl>(std::move(ex), std::move(options), clock, registry);
  if (auto r = impl->init(); !r) return r.error();
  return std::unique_ptr<VocobaseClient>(new VocobaseClient(std::move(impl)));
}

VocobaseClient::VocobaseClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
VocobaseClient::~VocobaseClient() = default;

asio::awaitable<ApiResult<AccountConfig>> VocobaseClient::get_config(Priority p) {
  Impl& impl = *impl_;
  co_return co_await impl.call<AccountConfig>(
      Endpoint::config, http::verb::get, "/config", {}, p, [&impl](std::string_view body) {
        return parse_account_config(body, impl.opts_.credit_balance_pointer);
      });
}

asio::awaitable<ApiResult<ConcurrencyInfo>> VocobaseClient::get_concurrency(Priority p) {
  co_return co_await impl_->call<ConcurrencyInfo>(
      Endpoint::concurrency, http::verb::get, "/calls/concurrency", {}, p,
      [](std::string_view b) { return parse_concurrency(b); });
}

asio::awaitable<ApiResult<StartedCall>> VocobaseClient::start_call(StartCallRequest request) {
  std::string body = serialize(request);
  co_return co_await impl_->call<StartedCall>(
      Endpoint::calls_start, http::verb::post, "/calls/start", std::move(body), Priority::start,
      [](std::string_view b) { return parse_started_call(b); });
}

asio::awaitable<ApiResult<CallPage>> VocobaseClient::list_calls(ListCallsQuery query, Priority p) {
  std::string target = "/calls?limit=" + std::to_string(std::clamp(query.limit, 1, 100)) +
                       "&offset=" + std::to_string(std::max(query.offset, 0));
  if (query.status) target += "&status=" + std::string(dialer::to_string(*query.status));
  co_return co_await impl_->call<CallPage>(Endpoint::calls_list, http::verb::get, std::move(target),
                                           {}, p,
                                           [](std::string_view b) { return parse_call_page(b); });
}

asio::awaitable<ApiResult<CallRecord>> VocobaseClient::get_call(std::string call_id, Priority p) {
  // An empty id would turn into GET /calls, a different request: refuse it here.
  if (call_id.empty()) co_return ApiError(Reason::validation, "empty call id");
  co_return co_await impl_->call<CallRecord>(Endpoint::calls_get, http::verb::get,
                                             "/calls/" + encode_segment(call_id), {}, p,
                                             [](std::string_view b) { return parse_call(b); });
}

asio::awaitable<ApiResult<SessionData>> VocobaseClient::get_session(std::string session_id,
                                                                    Priority p) {
  if (session_id.empty()) co_return ApiError(Reason::validation, "empty session id");
  co_return co_await impl_->call<SessionData>(Endpoint::sessions_get, http::verb::get,
                                              "/sessions/" + encode_segment(session_id), {}, p,
                                              [](std::string_view b) { return parse_session(b); });
}
const RateBudget& VocobaseClient::budget() const noexcept {
  return impl_->budget_;
}

void VocobaseClient::set_rate_limits(const RateLimits& limits) {
  impl_->budget_.set_limits(limits);
  impl_->pump();
}

void VocobaseClient::apply_reload(const ClientOptions& options) {
  auto& o = impl_->opts_;
  if (options.api_key != o.api_key) {
    if (!o.api_key.empty() && impl_->retired_keys_.size() < 8) {
      impl_->retired_keys_.push_back(o.api_key);
    }
    o.api_key = options.api_key;
  }
  o.request_timeout = options.request_timeout;
  o.connect_timeout = options.connect_timeout;
  o.credit_balance_pointer = options.credit_balance_pointer;
  set_rate_limits(options.rate);
}

void VocobaseClient::pump() {
  impl_->pump();
}
void VocobaseClient::update_metrics() {
  impl_->update_metrics();
}
void VocobaseClient::shutdown() {
  impl_->shutdown();
}
const std::string& VocobaseClient::base_url() const noexcept {
  return impl_->display_url_;
}

}  // namespace dialer::api
