#pragma once
/// The scheduler's CallPlatform over the real Partner API client (api/vocobase): each request is
/// a coroutine on the event loop whose answer is converted into the scheduler's own types and
/// handed to the callback. The conversions are free functions so tests can check them without
/// a socket.

#include "api/vocobase/client.hpp"
#include "api/vocobase/models.hpp"
#include "core/errc.hpp"
#include "core/time.hpp"
#include "scheduler/call_platform.hpp"

#include <boost/asio/any_io_executor.hpp>

#include <array>
#include <memory>
#include <string>
#include <string_view>

namespace dialer::daemon {

/// The API client's bucket for a scheduler bucket.
api::Bucket to_api_bucket(scheduler::RateBucket b) noexcept;

/// The scheduler's reason for a classified API failure (VOCOBASE-API.md classification table).
scheduler::StartReason to_start_reason(api::Reason r) noexcept;
/// The scheduler's kind for an API verdict (`ok` is `started`).
scheduler::StartKind to_start_kind(api::Verdict v) noexcept;

/// POST /calls/start's answer as the scheduler reads it.
scheduler::StartResult to_start_result(const api::ApiResult<api::StartedCall>& r);
/// Any other request's failure: rate_limited for a rate 429 or a missing token, not_found for a
/// 404, failed for everything else.
scheduler::PlatformError to_platform_error(const api::ApiError& e);

scheduler::AccountInfo to_account_info(const api::AccountConfig& c);
scheduler::ConcurrencyReading to_concurrency_reading(const api::ConcurrencyInfo& c);
scheduler::CallListing to_call_listing(const api::CallPage& page);

/// The session fields the scheduler needs. `raw_json` is stored with the attempt as the export's
/// source of transcript and extraction values: the `data` object as Vocobase sent it.
scheduler::SessionOutcome to_session_outcome(const api::SessionData& data, std::string raw_json);
/// A parsed session rebuilt as JSON in the webhook's `data` shape (for GET /sessions/{id},
/// whose raw body the client does not keep).
boost::json::object session_data_to_json(const api::SessionData& data);

/// A stored webhook body (`{"event": …, "data": {…}}`) turned into an outcome, through the API's
/// shared session parser. This is the scheduler's SessionParser.
Result<scheduler::SessionOutcome> parse_session_outcome(std::string_view webhook_body);

/// CallPlatform over a VocobaseClient. Use on the event-loop thread only; the client and the
/// clock must outlive it. Requests still running when it is destroyed complete without calling
/// their callbacks.
class VocobasePlatform final : public scheduler::CallPlatform {
 public:
  VocobasePlatform(boost::asio::any_io_executor executor, api::VocobaseClient& client);
  ~VocobasePlatform() override;
  VocobasePlatform(const VocobasePlatform&) = delete;
  VocobasePlatform& operator=(const VocobasePlatform&) = delete;

  void start_call(scheduler::StartRequest request, StartCallback done) override;
  void get_concurrency(ConcurrencyCallback done) override;
  void get_config(ConfigCallback done) override;
  void list_calls(int limit, int offset, ListCallback done) override;
  void get_session(std::string session_id, SessionCallback done) override;
  void get_call(std::string call_id, CallCallback done) override;

  [[nodiscard]] int tokens(scheduler::RateBucket b) const override;
  [[nodiscard]] TimePoint next_token_at(scheduler::RateBucket b) const override;
  [[nodiscard]] std::vector<TimePoint> token_returns(scheduler::RateBucket b) const override;
  [[nodiscard]] Millis token_span(scheduler::RateBucket b) const override;
  [[nodiscard]] int used_last_window(scheduler::RateBucket b) const override;
  [[nodiscard]] int limit(scheduler::RateBucket b) const override;

  /// Requests handed to the client and not yet answered.
  [[nodiscard]] int outstanding() const noexcept { return outstanding_; }

 private:
  /// Runs `op` (a coroutine returning an ApiResult) and passes `convert(result)` to `done`.
  template <class Op, class Convert, class Done>
  void launch(scheduler::RateBucket bucket, Op op, Convert convert, Done done);

  boost::asio::any_io_executor executor_;
  api::VocobaseClient& client_;
  /// Requests spawned whose coroutine has not yet joined the client's rate queue: they will
  /// spend a token, so tokens() must not offer it again (call_platform.hpp contract).
  std::array<int, 2> launching_{};
  int outstanding_ = 0;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace dialer::daemon
