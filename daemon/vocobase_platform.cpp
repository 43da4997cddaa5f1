#include "daemon/vocobase_platform.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/json/array.hpp>
#include <boost/json/serialize.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <exception>
#include <utility>

namespace dialer::daemon {

namespace asio = boost::asio;
namespace json = boost::json;
using scheduler::PlatformError;
using scheduler::RateBucket;
using scheduler::StartKind;
using scheduler::StartReason;

api::Bucket to_api_bucket(RateBucket b) noexcept {
  return b == RateBucket::calls ? api::Bucket::calls : api::Bucket::general;
}

StartReason to_start_reason(api::Reason r) noexcept {
  using R = api::Reason;
  switch (r) {
    case R::none:
      return StartReason::none;
    case R::rate:
    case R::queue_full:
    case R::queue_timeout:
      // No token came: to the scheduler that is the rate limit, whoever enforced it.
      return StartReason::rate;
    case R::concurrency:
      return StartReason::concurrency;
    case R::credits:
      return StartReason::credits;
    case R::provider:
      return StartReason::provider;
    case R::account:
      return StartReason::account;
    case R::auth:
      return StartReason::auth;
    case R::bad_number:
      return StartReason::bad_number;
    case R::not_found:
      return StartReason::not_found;
    case R::validation:
    case R::conflict:
    case R::client_error:
      return StartReason::validation;
    case R::server_error:
    case R::bad_response:
      return StartReason::server;
    case R::timeout_after_write:
    case R::connection_lost:
    case R::connect_failed:
    case R::timeout_before_write:
    case R::write_failed:
    case R::cancelled:
      return StartReason::network;
  }
  return StartReason::network;
}

StartKind to_start_kind(api::Verdict v) noexcept {
  switch (v) {
    case api::Verdict::ok:
      return StartKind::started;
    case api::Verdict::rejected:
      return StartKind::rejected;
    case api::Verdict::ambiguous:
      return StartKind::ambiguous;
    case api::Verdict::not_sent:
      return StartKind::not_sent;
  }
  return StartKind::not_sent;
}

scheduler::StartResult to_start_result(const api::ApiResult<api::StartedCall>& r) {
  if (r) return scheduler::StartResult::started(r->call_id, r->session_id);
  const api::ApiError& e = r.error();
  auto out = scheduler::StartResult::failed(to_start_kind(e.verdict), to_start_reason(e.reason),
                                            e.describe());
  out.retry_after = e.retry_after;
  return out;
}

PlatformError to_platform_error(const api::ApiError& e) {
  PlatformError out;
  switch (e.reason) {
    case api::Reason::rate:
    case api::Reason::queue_full:
    case api::Reason::queue_timeout:
      out.kind = PlatformError::Kind::rate_limited;
      break;
    case api::Reason::not_found:
    case api::Reason::bad_number:
      out.kind = PlatformError::Kind::not_found;
      break;
    default:
      out.kind = PlatformError::Kind::failed;
      break;
  }
  out.message = e.describe();
  out.retry_after = e.retry_after;
  return out;
}

scheduler::AccountInfo to_account_info(const api::AccountConfig& c) {
  scheduler::AccountInfo out;
  out.providers.allowed = c.allowed_providers;
  for (const auto& [name, entry] : c.telephony) {
    if (entry.configured) out.providers.configured.push_back(name);
  }
  out.credit_balance = c.credit_balance;
  return out;
}

scheduler::ConcurrencyReading to_concurrency_reading(const api::ConcurrencyInfo& c) {
  scheduler::ConcurrencyReading out;
  out.limit = c.limit;
  out.active = c.active;
  out.limit_source = c.limit_source;
  return out;
}

scheduler::CallListing to_call_listing(const api::CallPage& page) {
  scheduler::CallListing out;
  out.total = page.total;
  out.malformed_numbers = page.malformed_numbers;
  out.calls.reserve(page.calls.size());
  for (const auto& c : page.calls) {
    out.calls.push_back(scheduler::ListedCall{c.call_id, c.session_id, c.agent_id, c.to_number,
                                              c.status, c.created_at});
  }
  return out;
}

scheduler::SessionOutcome to_session_outcome(const api::SessionData& data, std::string raw_json) {
  scheduler::SessionOutcome out;
  out.session_id = data.session_id;
  out.agent_id = data.agent_id;
  if (data.call) {
    out.call_id = data.call->call_id;
    out.to_number = data.call->to_number;
    out.status = data.call->status;
    out.disposition = data.call->disposition;
    out.answered_by = data.call->answered_by;
  }
  out.duration_seconds = data.duration_seconds;
  out.credits_used = data.credits_used;
  out.raw_json = std::move(raw_json);
  return out;
}

json::object session_data_to_json(const api::SessionData& d) {
  json::object o;
  o["session_id"] = d.session_id;
  o["agent_id"] = d.agent_id;
  o["agent_name"] = d.agent_name;
  o["duration_seconds"] = d.duration_seconds;
  o["credits_used"] = d.credits_used;
  o["processing_complete"] = d.processing_complete;
  o["pipeline_completed_at"] =
      d.pipeline_completed_at ? json::value(format_iso8601(*d.pipeline_completed_at)) : nullptr;
  json::array transcript;
  for (const auto& t : d.transcript) {
    transcript.push_back(
        json::object{{"role", t.role}, {"content", t.content}, {"timestamp", t.timestamp}});
  }
  o["transcript"] = std::move(transcript);
  o["recording_url"] = d.recording_url;
  o["variables"] = d.variables;
  o["extraction"] = json::object{{"status", d.extraction_status}, {"values", d.extraction_values}};
  if (d.call) {
    const auto& c = *d.call;
    o["call"] = json::object{{"call_id", c.call_id},
                             {"from_number", c.from_number},
                             {"to_number", c.to_number},
                             {"direction", c.direction},
                             {"status", c.status_text},
                             {"disposition", c.disposition_text},
                             {"answered_by", c.answered_by_text}};
  }
  return o;
}

Result<scheduler::SessionOutcome> parse_session_outcome(std::string_view webhook_body) {
  auto doc = api::parse_json(webhook_body);
  if (!doc) return doc.error();
  const auto* root = doc->if_object();
  if (root == nullptr) return Error{errc::parse_error, "webhook body is not a JSON object"};
  const auto* data = root->if_contains("data");
  if (data == nullptr) return Error{errc::parse_error, "webhook body has no data"};
  auto parsed = api::parse_session_data(*data);
  if (!parsed) return parsed.error();
  return to_session_outcome(*parsed, json::serialize(*data));
}

// --- the platform ------------------------------------------------------------------------------

VocobasePlatform::VocobasePlatform(asio::any_io_executor executor, api::VocobaseClient& client)
    : executor_(std::move(executor)), client_(client) {}

VocobasePlatform::~VocobasePlatform() {
  *alive_ = false;
}

template <class Op, class Convert, class Done>
void VocobasePlatform::launch(RateBucket bucket, Op op, Convert convert, Done done) {
  auto& launching = launching_[static_cast<std::size_t>(bucket)];
  ++launching;
  ++outstanding_;
  // The coroutine frame owns everything it uses; `this` is only touched while alive_ says the
  // platform still exists.
  auto body = [this, alive = alive_, &launching, op = std::move(op), convert = std::move(convert),
               done = std::move(done)]() mutable -> asio::awaitable<void> {
    if (!*alive) co_return;
    // From here on the request waits in the client's queue, which tokens() counts itself.
    --launching;
    auto result = co_await op();
    if (!*alive) co_return;
    --outstanding_;
    done(convert(std::move(result)));
  };
  asio::co_spawn(executor_, std::move(body), [](const std::exception_ptr& ep) {
    if (!ep) return;
    try {
      std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      spdlog::error("vocobase request failed unexpectedly: {}", e.what());
    }
  });
}

void VocobasePlatform::start_call(scheduler::StartRequest request, StartCallback done) {
  api::StartCallRequest req;
  req.agent_id = std::move(request.agent_id);
  req.to_number = std::move(request.to_number);
  req.provider = request.provider;
  req.variables = std::move(request.variables);
  launch(
      RateBucket::calls,
      [this, req = std::move(req)]() mutable { return client_.start_call(std::move(req)); },
      [](api::ApiResult<api::StartedCall> r) { return to_start_result(r); }, std::move(done));
}

void VocobasePlatform::get_concurrency(ConcurrencyCallback done) {
  launch(
      RateBucket::calls, [this] { return client_.get_concurrency(api::Priority::poll); },
      [](api::ApiResult<api::ConcurrencyInfo> r)
          -> scheduler::PlatformResult<scheduler::ConcurrencyReading> {
        if (!r) return to_platform_error(r.error());
        return to_concurrency_reading(*r);
      },
      std::move(done));
}

void VocobasePlatform::get_config(ConfigCallback done) {
  launch(
      RateBucket::general, [this] { return client_.get_config(api::Priority::poll); },
      [](api::ApiResult<api::AccountConfig> r)
          -> scheduler::PlatformResult<scheduler::AccountInfo> {
        if (!r) return to_platform_error(r.error());
        return to_account_info(*r);
      },
      std::move(done));
}

void VocobasePlatform::list_calls(int limit, int offset, ListCallback done) {
  api::ListCallsQuery q;
  q.limit = std::clamp(limit, 1, 100);
  q.offset = std::max(offset, 0);
  launch(
      RateBucket::calls, [this, q] { return client_.list_calls(q, api::Priority::reconcile); },
      [](api::ApiResult<api::CallPage> r) -> scheduler::PlatformResult<scheduler::CallListing> {
        if (!r) return to_platform_error(r.error());
        return to_call_listing(*r);
      },
      std::move(done));
}

void VocobasePlatform::get_session(std::string session_id, SessionCallback done) {
  launch(
      RateBucket::general,
      [this, id = std::move(session_id)]() mutable {
        return client_.get_session(std::move(id), api::Priority::poll);
      },
      [](api::ApiResult<api::SessionData> r)
          -> scheduler::PlatformResult<scheduler::SessionOutcome> {
        if (!r) return to_platform_error(r.error());
        return to_session_outcome(*r, json::serialize(session_data_to_json(*r)));
      },
      std::move(done));
}

void VocobasePlatform::get_call(std::string call_id, CallCallback done) {
  launch(
      RateBucket::calls,
      [this, id = std::move(call_id)]() mutable {
        return client_.get_call(std::move(id), api::Priority::poll);
      },
      [](api::ApiResult<api::CallRecord> r) -> scheduler::PlatformResult<scheduler::ListedCall> {
        if (!r) return to_platform_error(r.error());
        std::string session_id = r->session_id;
        if (session_id.empty() && r->session) session_id = r->session->session_id;
        return scheduler::ListedCall{r->call_id, std::move(session_id), r->agent_id, r->to_number,
                                     r->status,  r->created_at};
      },
      std::move(done));
}

int VocobasePlatform::tokens(RateBucket b) const {
  const auto& budget = client_.budget();
  const auto ab = to_api_bucket(b);
  const int left = budget.available(ab) - static_cast<int>(budget.waiting(ab)) -
                   launching_[static_cast<std::size_t>(b)];
  return std::max(left, 0);
}

TimePoint VocobasePlatform::next_token_at(RateBucket b) const {
  return client_.budget().next_token_at(to_api_bucket(b));
}

std::vector<TimePoint> VocobasePlatform::token_returns(RateBucket b) const {
  const auto& budget = client_.budget();
  const auto ab = to_api_bucket(b);
  auto out = budget.returns(ab);
  // Requests waiting for a token (or being launched) take the first ones that come back.
  const int claimed = static_cast<int>(budget.waiting(ab)) +
                      launching_[static_cast<std::size_t>(b)] - budget.available(ab);
  if (claimed > 0)
    out.erase(out.begin(), out.begin() + std::min<std::ptrdiff_t>(claimed, std::ssize(out)));
  return out;
}

Millis VocobasePlatform::token_span(RateBucket) const {
  return client_.budget().spent_for();
}

int VocobasePlatform::used_last_window(RateBucket b) const {
  return client_.budget().used_last_window(to_api_bucket(b));
}

int VocobasePlatform::limit(RateBucket b) const {
  return client_.budget().limit(to_api_bucket(b));
}

}  // namespace dialer::daemon
