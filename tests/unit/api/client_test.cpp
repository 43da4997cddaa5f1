#include "api/vocobase/client.hpp"

#include "tests/unit/api/fake_http_server.hpp"

#include <boost/asio/post.hpp>
#include <boost/json/parse.hpp>
#include <gtest/gtest.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

namespace dialer::api {
namespace {

using namespace std::chrono_literals;
using test::Reply;
using test::Request;
namespace asio = boost::asio;

constexpr const char* kKey = "rg_live_0123456789abcdef";
constexpr const char* kStarted =
    R"({"success":true,"data":{"call_id":"call-1","session_id":"sess-1","status":"pending",
        "provider":"twilio","from_number":"+15550000000","to_number":"+919876543210",
        "agent_id":"0b7c7f5e-1a2b-4c3d-8e9f-001122334455"}})";

StartCallRequest start_request() {
  StartCallRequest r;
  r.agent_id = "0b7c7f5e-1a2b-4c3d-8e9f-001122334455";
  r.to_number = "+919876543210";
  r.provider = Provider::twilio;
  r.variables["name"] = "Asha";
  return r;
}

class ClientTest : public ::testing::Test {
 protected:
  ClientOptions options() {
    ClientOptions o;
    o.base_url = server.url();
    o.api_key = kKey;
    o.connect_timeout = 5s;
    o.request_timeout = 5s;
    o.rate.calls_per_minute = 1000;
    o.rate.general_per_minute = 1000;
    return o;
  }

  std::unique_ptr<VocobaseClient> make(ClientOptions o, const Clock* clock = nullptr) {
    auto c = VocobaseClient::create(ioc.get_executor(), std::move(o), clock ? *clock : system_clock,
                                    registry.get());
    EXPECT_TRUE(c) << (c ? "" : c.error().what());
    return c ? std::move(*c) : nullptr;
  }
  std::unique_ptr<VocobaseClient> make() { return make(options()); }

  /// Start-call answered by `reply`; returns the client's verdict.
  ApiResult<StartedCall> start_with(Reply reply, ClientOptions o) {
    server.handler = [reply](const Request&) { return reply; };
    auto client = make(std::move(o));
    ApiResult<StartedCall> out = ApiError{};
    test::run_on(ioc, [&]() -> asio::awaitable<void> {
      out = co_await client->start_call(start_request());
    });
    return out;
  }
  ApiResult<StartedCall> start_with(Reply reply) { return start_with(std::move(reply), options()); }

  std::string metrics_text() { return prometheus::TextSerializer().Serialize(registry->Collect()); }

  asio::io_context ioc;
  SystemClock system_clock;
  std::shared_ptr<prometheus::Registry> registry = std::make_shared<prometheus::Registry>();
  test::FakeHttpServer server{ioc};
};

// 200 → started, with call and session ids; the request carries the key only in the
// Authorization header and the four documented body keys.
TEST_F(ClientTest, StartAnsweredOkIsStarted) {
  auto r = start_with(Reply::json(200, kStarted));
  ASSERT_TRUE(r) << r.error().describe();
  EXPECT_EQ(r->call_id, "call-1");
  EXPECT_EQ(r->session_id, "sess-1");
  ASSERT_EQ(server.requests.size(), 1u);
  const Request& req = server.requests[0];
  EXPECT_EQ(req.method(), test::http::verb::post);
  EXPECT_EQ(req.target(), "/api/v2/calls/start");
  EXPECT_EQ(req[test::http::field::authorization], std::string("Bearer ") + kKey);
  EXPECT_EQ(req[test::http::field::content_type], "application/json");
  const auto body = boost::json::parse(req.body()).as_object();
  EXPECT_EQ(body.at("to_number").as_string(), "+919876543210");
  EXPECT_EQ(body.at("provider").as_string(), "twilio");
  EXPECT_EQ(body.at("variables").at("name").as_string(), "Asha");
}

// Request written, the response never sent: ambiguous (a call may exist).
TEST_F(ClientTest, ResponseNeverSentIsAmbiguous) {
  auto o = options();
  o.request_timeout = 300ms;
  auto r = start_with(Reply::of(Reply::Action::never_respond), o);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().verdict, Verdict::ambiguous);
  EXPECT_EQ(r.error().reason, Reason::timeout_after_write);
  EXPECT_EQ(server.requests.size(), 1u);
}

// The server resets the connection after reading the request: ambiguous.
TEST_F(ClientTest, ResetAfterWriteIsAmbiguous) {
  auto r = start_with(Reply::of(Reply::Action::reset));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().verdict, Verdict::ambiguous);
  EXPECT_EQ(r.error().reason, Reason::connection_lost);
}

// The server closes the connection after reading the request without answering: ambiguous.
TEST_F(ClientTest, CloseWithoutAnswerIsAmbiguous) {
  auto r = start_with(Reply::of(Reply::Action::close));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().verdict, Verdict::ambiguous);
  EXPECT_EQ(r.error().reason, Reason::connection_lost);
}

// Every 5xx is ambiguous.
TEST_F(ClientTest, ServerErrorIsAmbiguous) {
  for (int status : {500, 502, 503}) {
    auto r = start_with(Reply::error(status, "INTERNAL_ERROR", "boom"));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().verdict, Verdict::ambiguous) << status;
    EXPECT_EQ(r.error().reason, Reason::server_error) << status;
    EXPECT_EQ(r.error().http_status, status);
  }
}

// A 200 whose body is not the documented shape is ambiguous: the call may exist, its id is
// unknown.
TEST_F(ClientTest, OkWithBrokenBodyIsAmbiguous) {
  auto r = start_with(Reply::json(200, R"({"success":true,"data":{"status":"pending"}})"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().verdict, Verdict::ambiguous);
  EXPECT_EQ(r.error().reason, Reason::bad_response);
}

// A refused connect is not sent.
TEST_F(ClientTest, RefusedConnectIsNotSent) {
  auto o = options();
  o.base_url = "http://127.0.0.1:" + std::to_string(test::closed_port(ioc)) + "/api/v2";
  auto r = start_with(Reply::json(200, kStarted), o);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().verdict, Verdict::not_sent);
  EXPECT_EQ(r.error().reason, Reason::connect_failed);
  EXPECT_EQ(server.requests.size(), 0u);
}

// A deadline that expires before a byte of the request is written (here: during a TLS
// handshake the peer never answers) is not sent.
TEST_F(ClientTest, TimeoutBeforeWriteIsNotSent) {
  // A listener nobody accepts on: TCP connects (backlog), the TLS handshake never progresses.
  test::tcp::acceptor silent(ioc, test::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  auto o = options();
  o.base_url = "https://127.0.0.1:" + std::to_string(silent.local_endpoint().port()) + "/api/v2";
  o.use_system_ca = false;
  o.request_timeout = 300ms;
  auto r = start_with(Reply::json(200, kStarted), o);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().verdict, Verdict::not_sent);
  EXPECT_EQ(r.error().reason, Reason::timeout_before_write);

  o.connect_timeout = 300ms;
  o.request_timeout = 5s;
  r = start_with(Reply::json(200, kStarted), o);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().verdict, Verdict::not_sent);
  EXPECT_EQ(r.error().reason, Reason::connect_failed);
}

// 429 is rate unless the message is about concurrency; only the rate 429 freezes the bucket.
TEST_F(ClientTest, TooManyRequestsRateVersusConcurrency) {
  auto r = start_with(Reply::error(429, "LIMIT_REACHED", "Concurrency limit reached"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().verdict, Verdict::rejected);
  EXPECT_EQ(r.error().reason, Reason::concurrency);
  EXPECT_EQ(r.error().api_code, "LIMIT_REACHED");

  server.handler = [](const Request&) {
    return Reply::error(429, "LIMIT_REACHED", "Rate limit exceeded");
  };
  auto client = make();
  test::run_on(ioc, [&]() -> asio::awaitable<void> {
    auto rr = co_await client->start_call(start_request());
    EXPECT_FALSE(rr);
    if (!rr) {
      EXPECT_EQ(rr.error().reason, Reason::rate);
    }
  });
  EXPECT_TRUE(client->budget().frozen_until(Bucket::calls));
  EXPECT_EQ(client->budget().available(Bucket::calls), 0);
  EXPECT_FALSE(client->budget().frozen_until(Bucket::general));
}

// Retry-After on a rate 429 sets the freeze.
TEST_F(ClientTest, RetryAfterSetsTheFreeze) {
  ManualClock clock(from_unix_ms(1'770'000'000'000));
  server.handler = [](const Request&) {
    auto r = Reply::error(429, "LIMIT_REACHED", "Rate limit exceeded");
    r.headers.emplace_back("Retry-After", "7");
    return r;
  };
  auto client = make(options(), &clock);
  test::run_on(ioc, [&]() -> asio::awaitable<void> {
    auto r = co_await client->get_session("s-1");
    EXPECT_FALSE(r);
    if (!r) {
      EXPECT_EQ(r.error().retry_after, Millis{7'000});
    }
  });
  EXPECT_EQ(client->budget().frozen_until(Bucket::general), clock.now() + 7s);
  EXPECT_FALSE(client->budget().frozen_until(Bucket::calls));
}

// 403 is credits, provider or account by message.
TEST_F(ClientTest, ForbiddenCreditsProviderAccount) {
  const std::pair<const char*, Reason> cases[] = {
      {"Insufficient credits", Reason::credits},
      {"Provider vobiz is not enabled for this partner", Reason::provider},
      {"Partner account suspended", Reason::account}};
  for (const auto& [message, reason] : cases) {
    auto r = start_with(Reply::error(403, "FORBIDDEN", message));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().verdict, Verdict::rejected) << message;
    EXPECT_EQ(r.error().reason, reason) << message;
  }
}

// 400/404 about to_number → bad number; other 400 validation; 404 not found; 401 auth.
TEST_F(ClientTest, OtherRejections) {
  const std::tuple<int, const char*, Reason> cases[] = {
      {400, "to_number must be E.164", Reason::bad_number},
      {404, "to_number not found", Reason::bad_number},
      {400, "agent_id must be a UUID", Reason::validation},
      {404, "Agent not found", Reason::not_found},
      {401, "Invalid API key", Reason::auth}};
  for (const auto& [status, message, reason] : cases) {
    auto r = start_with(Reply::error(status, "E", message));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().verdict, Verdict::rejected) << message;
    EXPECT_EQ(r.error().reason, reason) << message;
  }
}

// The API key never appears in an error text, even when the server echoes it, nor in metrics.
TEST_F(ClientTest, KeyNeverInErrorsOrMetrics) {
  auto r = start_with(Reply::error(401, "UNAUTHORIZED", std::string("Invalid key ") + kKey));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().describe().find(kKey), std::string::npos);
  EXPECT_NE(r.error().message.find("[redacted]"), std::string::npos);
  const std::string text = metrics_text();
  EXPECT_EQ(text.find(kKey), std::string::npos);
  EXPECT_NE(text.find(R"(dialer_api_requests_total{endpoint="calls_start",result="rejected"} 1)"),
            std::string::npos)
      << text;
}

// Two requests in a row travel over one kept-alive connection.
TEST_F(ClientTest, ReusesKeepAliveConnection) {
  server.handler = [](const Request&) { return Reply::json(200, kStarted); };
  auto client = make();
  test::run_on(ioc, [&]() -> asio::awaitable<void> {
    EXPECT_TRUE(co_await client->start_call(start_request()));
    EXPECT_TRUE(co_await client->start_call(start_request()));
  });
  EXPECT_EQ(server.requests.size(), 2u);
  EXPECT_EQ(server.connections, 1);
}

// A pooled connection the server closed is not written into: the next request goes out on a
// fresh connection and succeeds instead of coming back ambiguous.
TEST_F(ClientTest, ReconnectsWhenPooledConnectionWasClosed) {
  server.handler = [](const Request&) {
    auto r = Reply::json(200, kStarted);
    r.close_after = true;
    return r;
  };
  auto client = make();
  test::run_on(ioc, [&]() -> asio::awaitable<void> {
    auto a = co_await client->start_call(start_request());
    EXPECT_TRUE(a);
    // Let the server's close happen before the next request looks at the pool.
    EXPECT_TRUE(co_await test::until([&] { return server.closed == 1; }));
    auto b = co_await client->start_call(start_request());
    EXPECT_TRUE(b) << (b ? "" : b.error().describe());
  });
  EXPECT_EQ(server.requests.size(), 2u);
  EXPECT_EQ(server.connections, 2);
}

// A response body over the limit is refused (ambiguous: the request was written).
TEST_F(ClientTest, ResponseBodyLimit) {
  auto o = options();
  o.max_response_body = 1024;
  auto r = start_with(Reply::json(200, std::string(4096, ' ') + kStarted), o);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().verdict, Verdict::ambiguous);
  EXPECT_EQ(r.error().reason, Reason::bad_response);
}

// Each typed call hits its documented path, parses its answer, and counts against the right
// bucket: every /calls/* request against calls, the rest against general.
TEST_F(ClientTest, TypedCallsPathsAndBuckets) {
  server.handler = [](const Request& req) {
    const std::string t(req.target());
    if (t == "/api/v2/config") {
      return Reply::json(200, R"({"success":true,"data":{"allowed_telephony_providers":["twilio"],
          "telephony":{"twilio":{"configured":true}},"credit_balance":4.5}})");
    }
    if (t == "/api/v2/calls/concurrency") {
      return Reply::json(200, R"({"success":true,"data":{"limit":5,"active":1,"remaining":4,
          "limit_source":"partner"}})");
    }
    if (t == "/api/v2/calls?limit=100&offset=200&status=no_answer") {
      return Reply::json(200, R"({"success":true,"data":{"calls":[],"total":0,"limit":100,
          "offset":200}})");
    }
    if (t == "/api/v2/calls/call%2F1") {
      return Reply::json(200, R"({"success":true,"data":{"call_id":"call/1","agent_id":"a",
          "to_number":"+2","status":"ringing","created_at":"2026-03-15T14:00:00.000Z"}})");
    }
    if (t == "/api/v2/sessions/sess-1") {
      return Reply::json(200, R"({"success":true,"data":{"session_id":"sess-1",
          "call":{"call_id":"call-1","status":"busy"}}})");
    }
    return Reply::error(404, "NOT_FOUND", "no route " + t);
  };
  auto client = make();
  test::run_on(ioc, [&]() -> asio::awaitable<void> {
    auto config = co_await client->get_config();
    EXPECT_TRUE(config && config->credit_balance == 4.5 &&
                config->provider_usable(Provider::twilio));
    auto conc = co_await client->get_concurrency();
    EXPECT_TRUE(conc && conc->limit == 5 && conc->active == 1);
    auto page =
        co_await client->list_calls({.limit = 500, .offset = 200, .status = CallStatus::no_answer});
    EXPECT_TRUE(page && page->offset == 200) << (page ? "" : page.error().describe());
    auto call = co_await client->get_call("call/1");
    EXPECT_TRUE(call && call->status == CallStatus::ringing);
    auto session = co_await client->get_session("sess-1");
    EXPECT_TRUE(session && session->call && session->call->outcome() == Outcome::busy);
    auto not_found = co_await client->get_session("missing");
    EXPECT_FALSE(not_found);
    if (!not_found) {
      EXPECT_EQ(not_found.error().reason, Reason::not_found);
    }
  });
  EXPECT_EQ(client->budget().used_last_window(Bucket::calls), 3);
  EXPECT_EQ(client->budget().used_last_window(Bucket::general), 3);
}

// With the /calls/* bucket spent, the next request is not written until a token returns; then
// it goes out. A request that waits past the queue deadline is not sent.
TEST_F(ClientTest, WaitsForTokenBeforeSending) {
  ManualClock clock(from_unix_ms(1'770'000'000'000));
  server.handler = [](const Request&) { return Reply::json(200, kStarted); };
  auto o = options();
  o.rate.calls_per_minute = 1;
  auto client = make(o, &clock);
  test::run_on(ioc, [&]() -> asio::awaitable<void> {
    EXPECT_TRUE(co_await client->start_call(start_request()));
    bool second_done = false;
    asio::co_spawn(
        ioc,
        [&]() -> asio::awaitable<void> {
          auto r = co_await client->start_call(start_request());
          EXPECT_TRUE(r);
          second_done = true;
        },
        asio::detached);
    for (int i = 0; i < 100 && client->budget().waiting(Bucket::calls) == 0; ++i) {
      co_await asio::post(ioc, asio::use_awaitable);
    }
    EXPECT_EQ(client->budget().waiting(Bucket::calls), 1u);
    EXPECT_EQ(server.requests.size(), 1u);  // the bucket had no token: nothing written
    // The token returns a window (plus the guard for the server's later count) after the send.
    const Millis step = o.rate.window + o.rate.guard;
    EXPECT_EQ(client->budget().next_token_at(Bucket::calls), clock.now() + step);
    clock.advance(step);
    client->pump();
    EXPECT_TRUE(co_await test::until([&] { return second_done; }));
    EXPECT_EQ(server.requests.size(), 2u);
  });

  auto o2 = options();
  o2.rate.calls_per_minute = 1;
  o2.queue_timeout = 50ms;
  auto strict = make(o2, &clock);
  test::run_on(ioc, [&]() -> asio::awaitable<void> {
    EXPECT_TRUE(co_await strict->start_call(start_request()));
    auto r = co_await strict->start_call(start_request());
    EXPECT_FALSE(r);
    if (!r) {
      EXPECT_EQ(r.error().reason, Reason::queue_timeout);
    }
    if (!r) {
      EXPECT_EQ(r.error().verdict, Verdict::not_sent);
    }
  });
}

// shutdown() fails a waiting request with `cancelled` and refuses later ones.
TEST_F(ClientTest, ShutdownCancelsWaiters) {
  ManualClock clock(from_unix_ms(1'770'000'000'000));
  server.handler = [](const Request&) { return Reply::json(200, kStarted); };
  auto o = options();
  o.rate.calls_per_minute = 1;
  auto client = make(o, &clock);
  test::run_on(ioc, [&]() -> asio::awaitable<void> {
    EXPECT_TRUE(co_await client->start_call(start_request()));
    std::optional<ApiResult<StartedCall>> waiting;
    asio::co_spawn(
        ioc,
        [&]() -> asio::awaitable<void> { waiting = co_await client->start_call(start_request()); },
        asio::detached);
    for (int i = 0; i < 100 && client->budget().waiting(Bucket::calls) == 0; ++i) {
      co_await asio::post(ioc, asio::use_awaitable);
    }
    client->shutdown();
    EXPECT_TRUE(co_await test::until([&] { return waiting.has_value(); }));
    EXPECT_TRUE(waiting && !*waiting && waiting->error().reason == Reason::cancelled);
    auto later = co_await client->get_config();
    EXPECT_TRUE(!later && later.error().reason == Reason::cancelled);
  });
  EXPECT_EQ(server.requests.size(), 1u);
}

// Options are validated: bad scheme, user info and unreadable CA files are refused.
TEST_F(ClientTest, RejectsBadOptions) {
  for (const char* url :
       {"ftp://x/api", "not a url", "https://user:pw@host/api", "http://host/api?x=1"}) {
    auto o = options();
    o.base_url = url;
    EXPECT_FALSE(VocobaseClient::create(ioc.get_executor(), o, system_clock)) << url;
  }
  auto o = options();
  o.base_url = "https://api.dialer.test/api/v2";
  o.extra_ca_file = "/nonexistent/ca.pem";
  EXPECT_FALSE(VocobaseClient::create(ioc.get_executor(), o, system_clock));
}

}  // namespace
}  // namespace dialer::api
