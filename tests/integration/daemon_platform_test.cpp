// The daemon's CallPlatform over the real Vocobase client: the classification it hands the
// scheduler, the session parser for stored webhooks, and requests on a real io_context against
// vocobase-sim on 127.0.0.1:0 (in process).

#include "api/vocobase/client.hpp"
#include "daemon/vocobase_platform.hpp"
#include "sim/simulator.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <optional>

namespace dialer::daemon {
namespace {

namespace asio = boost::asio;
namespace json = boost::json;
using scheduler::PlatformError;
using scheduler::RateBucket;
using scheduler::StartKind;
using scheduler::StartReason;

constexpr const char* kAgent = "3fa85f64-5717-4562-b3fc-2c963f66afa6";

// Each classified failure reaches the scheduler as the kind and reason its policy branches on.
TEST(DaemonPlatformConversions, StartFailuresKeepKindAndReason) {
  struct Case {
    api::Reason in;
    StartKind kind;
    StartReason reason;
  };
  for (const Case& c : {
           Case{api::Reason::rate, StartKind::rejected, StartReason::rate},
           Case{api::Reason::concurrency, StartKind::rejected, StartReason::concurrency},
           Case{api::Reason::credits, StartKind::rejected, StartReason::credits},
           Case{api::Reason::provider, StartKind::rejected, StartReason::provider},
           Case{api::Reason::account, StartKind::rejected, StartReason::account},
           Case{api::Reason::auth, StartKind::rejected, StartReason::auth},
           Case{api::Reason::bad_number, StartKind::rejected, StartReason::bad_number},
           Case{api::Reason::not_found, StartKind::rejected, StartReason::not_found},
           Case{api::Reason::conflict, StartKind::rejected, StartReason::validation},
           Case{api::Reason::server_error, StartKind::ambiguous, StartReason::server},
           Case{api::Reason::timeout_after_write, StartKind::ambiguous, StartReason::network},
           Case{api::Reason::connection_lost, StartKind::ambiguous, StartReason::network},
           Case{api::Reason::connect_failed, StartKind::not_sent, StartReason::network},
           Case{api::Reason::queue_timeout, StartKind::not_sent, StartReason::rate},
       }) {
    api::ApiError e(c.in, "message", 400);
    e.retry_after = Millis{1500};
    const auto r = to_start_result(api::ApiResult<api::StartedCall>(e));
    EXPECT_EQ(r.kind, c.kind) << api::to_string(c.in);
    EXPECT_EQ(r.reason, c.reason) << api::to_string(c.in);
    EXPECT_EQ(r.retry_after, Millis{1500});
    EXPECT_THAT(r.message, ::testing::HasSubstr("message"));
  }
  api::StartedCall ok;
  ok.call_id = "c1";
  ok.session_id = "s1";
  const auto started = to_start_result(api::ApiResult<api::StartedCall>(ok));
  EXPECT_EQ(started.kind, StartKind::started);
  EXPECT_EQ(started.call_id, "c1");
  EXPECT_EQ(started.session_id, "s1");
}

// Other requests: a rate refusal or a missing token is rate_limited, a 404 not_found.
TEST(DaemonPlatformConversions, OtherFailures) {
  EXPECT_EQ(to_platform_error(api::ApiError(api::Reason::rate, "")).kind,
            PlatformError::Kind::rate_limited);
  EXPECT_EQ(to_platform_error(api::ApiError(api::Reason::queue_full, "")).kind,
            PlatformError::Kind::rate_limited);
  EXPECT_EQ(to_platform_error(api::ApiError(api::Reason::not_found, "", 404)).kind,
            PlatformError::Kind::not_found);
  EXPECT_EQ(to_platform_error(api::ApiError(api::Reason::server_error, "", 500)).kind,
            PlatformError::Kind::failed);
}

// A stored webhook body becomes the outcome the scheduler applies, with the session data kept
// for the export.
TEST(DaemonPlatformConversions, SessionOutcomeFromWebhookBody) {
  const std::string body = R"({"event":"session.completed","timestamp":"2026-01-01T00:00:00Z",
    "data":{"session_id":"s-1","agent_id":"a-1","duration_seconds":42.5,"credits_used":0.71,
            "transcript":[{"role":"agent","content":"hi","timestamp":"t"}],
            "extraction":{"status":"done","values":{"interested":true}},
            "call":{"call_id":"c-1","to_number":"+919876543210","status":"completed",
                    "disposition":"voicemail","answered_by":"machine"}}})";
  auto o = parse_session_outcome(body);
  ASSERT_TRUE(o) << o.error().what();
  EXPECT_EQ(o->session_id, "s-1");
  EXPECT_EQ(o->call_id, "c-1");
  EXPECT_EQ(o->to_number, "+919876543210");
  EXPECT_EQ(o->agent_id, "a-1");
  EXPECT_EQ(o->status, CallStatus::completed);
  EXPECT_EQ(o->disposition, Disposition::voicemail);
  EXPECT_EQ(o->answered_by, AnsweredBy::machine);
  EXPECT_EQ(o->outcome(), Outcome::voicemail);
  EXPECT_EQ(o->duration_seconds, 42.5);
  EXPECT_EQ(o->credits_used, 0.71);
  auto raw = json::parse(o->raw_json).as_object();
  EXPECT_TRUE(raw.at("extraction").at("values").at("interested").as_bool());

  EXPECT_FALSE(parse_session_outcome("{\"event\":\"session.completed\"}"));
  EXPECT_FALSE(parse_session_outcome("not json"));
  EXPECT_FALSE(parse_session_outcome(R"({"data":{"session_id":""}})"));
}

/// The platform over a client, both on one io_context, against an in-process simulator.
class DaemonPlatformSim : public ::testing::Test {
 protected:
  void SetUp() override {
    sim::SimOptions so;
    so.listen_port = 0;
    so.api_keys = {"rg_test"};
    so.time_scale = 1;
    so.duration_mean = std::chrono::minutes{10};
    so.allowed_providers = {Provider::twilio, Provider::plivo};
    so.configured_providers = {Provider::twilio};
    auto s = sim::SimThread::start(so);
    ASSERT_TRUE(s) << s.error().what();
    sim_ = std::move(*s);
    api::ClientOptions co;
    co.base_url = sim_->base_url();
    co.api_key = "rg_test";
    co.rate.calls_per_minute = 3;
    auto c = api::VocobaseClient::create(ioc_.get_executor(), co, clock_);
    ASSERT_TRUE(c) << c.error().what();
    client_ = std::move(*c);
    platform_ = std::make_unique<VocobasePlatform>(ioc_.get_executor(), *client_);
  }
  void TearDown() override {
    platform_.reset();
    if (client_) client_->shutdown();
    ioc_.run_for(std::chrono::seconds(5));
  }

  /// Runs the loop until `done` holds (bounded).
  void run_until(const std::function<bool()>& done) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (!done() && std::chrono::steady_clock::now() < deadline) {
      ioc_.restart();
      ioc_.run_one_for(std::chrono::milliseconds(100));
    }
  }

  SystemClock clock_;
  asio::io_context ioc_{1};
  std::unique_ptr<sim::SimThread> sim_;
  std::unique_ptr<api::VocobaseClient> client_;
  std::unique_ptr<VocobasePlatform> platform_;
};

// Starts are counted against the /calls/* budget the moment they are asked for, so one dispatch
// pass cannot overspend it; the calls are created and listed; GET /config gives the providers.
TEST_F(DaemonPlatformSim, StartsSpendTokensAtOnceAndReachTheApi) {
  EXPECT_EQ(platform_->tokens(RateBucket::calls), 3);
  EXPECT_EQ(platform_->limit(RateBucket::calls), 3);
  std::vector<scheduler::StartResult> results;
  for (const char* number : {"+919876500001", "+919876500002"}) {
    scheduler::StartRequest req;
    req.agent_id = kAgent;
    req.to_number = number;
    req.provider = Provider::twilio;
    req.variables = json::object{{"name", "x"}};
    platform_->start_call(req, [&](scheduler::StartResult r) { results.push_back(std::move(r)); });
  }
  // Not yet sent (nothing has run), yet already counted.
  EXPECT_EQ(platform_->tokens(RateBucket::calls), 1);
  EXPECT_TRUE(results.empty());  // never called back from inside start_call
  run_until([&] { return results.size() == 2; });
  ASSERT_EQ(results.size(), 2u);
  for (const auto& r : results) {
    EXPECT_EQ(r.kind, StartKind::started) << r.message;
    EXPECT_FALSE(r.call_id.empty());
  }
  EXPECT_EQ(platform_->used_last_window(RateBucket::calls), 2);

  std::optional<scheduler::PlatformResult<scheduler::AccountInfo>> account;
  platform_->get_config([&](auto r) { account = std::move(r); });
  std::optional<scheduler::PlatformResult<scheduler::CallListing>> listing;
  platform_->list_calls(100, 0, [&](auto r) { listing = std::move(r); });
  run_until([&] { return account && listing; });
  ASSERT_TRUE(account && *account);
  EXPECT_THAT((*account)->providers.configured, ::testing::ElementsAre("twilio"));
  EXPECT_TRUE((*account)->credit_balance.has_value());
  ASSERT_TRUE(listing && *listing);
  ASSERT_EQ((*listing)->calls.size(), 2u);
  EXPECT_EQ((*listing)->calls[0].agent_id, kAgent);
  // The budget is spent: the next start would have to wait.
  EXPECT_EQ(platform_->tokens(RateBucket::calls), 0);
}

// A number the API refuses is a rejected start about the number; an unknown session is
// not_found.
TEST_F(DaemonPlatformSim, RefusalsAreClassified) {
  std::optional<scheduler::StartResult> start;
  scheduler::StartRequest req;
  req.agent_id = kAgent;
  req.to_number = "+91";
  req.provider = Provider::twilio;
  platform_->start_call(req, [&](scheduler::StartResult r) { start = std::move(r); });
  std::optional<scheduler::PlatformResult<scheduler::SessionOutcome>> session;
  platform_->get_session("00000000-0000-4000-8000-000000000000",
                         [&](auto r) { session = std::move(r); });
  run_until([&] { return start && session; });
  ASSERT_TRUE(start);
  EXPECT_EQ(start->kind, StartKind::rejected);
  EXPECT_EQ(start->reason, StartReason::bad_number) << start->message;
  ASSERT_TRUE(session);
  ASSERT_FALSE(*session);
  EXPECT_EQ(session->error().kind, PlatformError::Kind::not_found);
}

}  // namespace
}  // namespace dialer::daemon
