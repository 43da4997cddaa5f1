#include "api/webhook/server.hpp"
#include "store/sql/database.hpp"
#include "store/sql/inbox.hpp"
#include "tests/unit/api/fake_http_server.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/write.hpp>
#include <gtest/gtest.h>
#include <prometheus/registry.h>
#include <spdlog/sinks/ringbuffer_sink.h>
#include <spdlog/spdlog.h>

#include <cstdlib>
#include <filesystem>
#include <sstream>

namespace dialer::api {
namespace {

using namespace std::chrono_literals;
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using test::tcp;

constexpr const char* kPath = "/webhooks/vocobase";
const TimePoint kNow = *parse_iso8601("2026-03-15T14:33:00.000Z");

/// Records what the scheduler would be handed.
class RecordingSink : public OutcomeSink {
 public:
  void on_session_completed(const SessionEvent& event) override { events.push_back(event); }
  std::vector<SessionEvent> events;
};

/// An inbox whose store is down: every batch fails.
class BrokenInbox : public EventInbox {
 public:
  Result<std::vector<bool>> insert_batch(std::span<const store::InboxEvent>) override {
    return Error(errc::db_error, "disk I/O error");
  }
  Result<std::optional<TimePoint>> oldest_unapplied() override {
    return std::optional<TimePoint>{};
  }
  Result<std::int64_t> count_unapplied() override { return 0; }
};

std::string body_for(const std::string& session_id, const std::string& padding = "") {
  std::string b = R"({"event":"session.completed","timestamp":"2026-03-15T14:32:08.000Z","data":{)"
                  R"("session_id":")" +
                  session_id +
                  R"(","duration_seconds":12,"credits_used":0.2,"transcript":[],)"
                  R"("call":{"call_id":"call-)" +
                  session_id + R"(","status":"completed","disposition":"completed"})";
  if (!padding.empty()) b += R"(,"padding":")" + padding + "\"";
  return b + "}}";
}

test::Request signed_post(const std::string& body, const std::string& secret,
                          const std::string& ts = "2026-03-15T14:32:08.000Z",
                          const std::string& target = kPath) {
  test::Request req{http::verb::post, target, 11};
  req.set(http::field::host, "127.0.0.1");
  req.set(http::field::content_type, "application/json");
  req.set("X-Webhook-Timestamp", ts);
  req.set("X-Webhook-Signature", sign_webhook(secret, ts, body));
  req.body() = body;
  req.prepare_payload();
  return req;
}

test::Request get(const std::string& target) {
  test::Request req{http::verb::get, target, 11};
  req.set(http::field::host, "127.0.0.1");
  return req;
}

struct Answer {
  beast::error_code ec;
  http::response<http::string_body> res;
};

/// One request on a fresh connection.
asio::awaitable<Answer> send(unsigned short port, test::Request req) {
  constexpr auto nothrow = asio::as_tuple(asio::use_awaitable);
  Answer out;
  beast::tcp_stream stream(co_await asio::this_coro::executor);
  stream.expires_after(20s);
  auto [cec] = co_await stream.async_connect(
      tcp::endpoint(asio::ip::make_address("127.0.0.1"), port), nothrow);
  if (cec) {
    out.ec = cec;
    co_return out;
  }
  auto [wec, wn] = co_await http::async_write(stream, req, nothrow);
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.skip(req.method() == http::verb::head);  // the answer to a HEAD has no body
  auto [rec, rn] = co_await http::async_read(stream, buffer, parser, nothrow);
  out.res = parser.release();
  out.ec = rec ? rec : wec;
  co_return out;
}

/// Raw bytes on a fresh connection; the answer as text (empty when none came).
asio::awaitable<std::string> send_raw(unsigned short port, std::string bytes) {
  constexpr auto nothrow = asio::as_tuple(asio::use_awaitable);
  beast::tcp_stream stream(co_await asio::this_coro::executor);
  stream.expires_after(20s);
  co_await stream.async_connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port), nothrow);
  co_await asio::async_write(stream, asio::buffer(bytes), nothrow);
  // Nothing more will come: a server waiting for the rest of a half request sees EOF at once.
  beast::error_code sec;
  stream.socket().shutdown(tcp::socket::shutdown_send, sec);
  std::string out;
  std::array<char, 4096> buf{};
  for (;;) {
    auto [ec, n] = co_await stream.async_read_some(asio::buffer(buf), nothrow);
    if (ec) break;
    out.append(buf.data(), n);
  }
  co_return out;
}

class WebhookServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/dialer-webhook-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    auto db = store::Database::open(dir_ + "/dialerd.db");
    ASSERT_TRUE(db) << db.error().what();
    db_.emplace(std::move(*db));
    repo_.emplace(*db_);
    inbox_.emplace(*repo_);
  }
  void TearDown() override {
    server_.reset();
    inbox_.reset();
    repo_.reset();
    db_.reset();
    std::filesystem::remove_all(dir_);
  }

  WebhookServer& start(std::vector<std::string> secrets = {"whsec_primary"},
                       EventInbox* inbox = nullptr, WebhookServerOptions o = {}) {
    o.listen = "127.0.0.1:0";
    o.webhook.path = kPath;
    o.webhook.secrets = std::move(secrets);
    o.webhook.tolerance = 5min;
    auto s = WebhookServer::create(ioc.get_executor(), o, inbox ? *inbox : *inbox_, sink, clock,
                                   registry);
    EXPECT_TRUE(s) << (s ? "" : s.error().what());
    server_ = std::move(*s);
    server_->start();
    server_->set_ready(true);
    return *server_;
  }

  unsigned short port() const { return server_->local_endpoint().port(); }

  /// Runs one request through the server and returns the answer.
  Answer call(test::Request req) {
    Answer out;
    test::run_on(ioc, [&]() -> asio::awaitable<void> { out = co_await send(port(), req); });
    return out;
  }

  std::int64_t stored() { return *db_->query_int64("SELECT count(*) FROM webhook_inbox"); }

  asio::io_context ioc;
  ManualClock clock{kNow};
  RecordingSink sink;
  std::shared_ptr<prometheus::Registry> registry = std::make_shared<prometheus::Registry>();
  std::string dir_;
  std::optional<store::Database> db_;
  std::optional<store::SqlInbox> repo_;
  std::optional<StoreInbox> inbox_;
  std::unique_ptr<WebhookServer> server_;
};

// A valid signed delivery is answered 200 after it is in the inbox, raw body and ids intact,
// and handed to the scheduler.
TEST_F(WebhookServerTest, ValidDeliveryIsStoredThenAcknowledged) {
  start();
  const std::string body = body_for("sess-1");
  auto a = call(signed_post(body, "whsec_primary"));
  ASSERT_FALSE(a.ec) << a.ec.message();
  EXPECT_EQ(a.res.result_int(), 200u);
  auto row = repo_->find_by_session("sess-1");
  ASSERT_TRUE(row && *row);
  EXPECT_EQ((*row)->event.body, body);
  EXPECT_EQ((*row)->event.call_id, "call-sess-1");
  EXPECT_EQ((*row)->event.received_at, kNow);
  ASSERT_EQ(sink.events.size(), 1u);
  EXPECT_EQ(sink.events[0].data.session_id, "sess-1");
  EXPECT_EQ(sink.events[0].data.call->outcome(), Outcome::completed);
}

// Wrong secret, tampered body, stale timestamp, missing headers: 401 and nothing stored.
TEST_F(WebhookServerTest, BadSignaturesAreRefusedAndNotStored) {
  start();
  const std::string body = body_for("sess-x");
  std::vector<test::Request> bad;
  bad.push_back(signed_post(body, "whsec_wrong"));
  auto tampered = signed_post(body, "whsec_primary");
  tampered.body() = body_for("sess-y");
  tampered.prepare_payload();
  bad.push_back(tampered);
  bad.push_back(signed_post(body, "whsec_primary", "2026-03-15T14:20:00.000Z"));  // 13 min old
  auto no_sig = signed_post(body, "whsec_primary");
  no_sig.erase("X-Webhook-Signature");
  bad.push_back(no_sig);
  auto no_ts = signed_post(body, "whsec_primary");
  no_ts.erase("X-Webhook-Timestamp");
  bad.push_back(no_ts);
  for (std::size_t i = 0; i < bad.size(); ++i) {
    auto a = call(bad[i]);
    ASSERT_FALSE(a.ec) << i;
    EXPECT_EQ(a.res.result_int(), 401u) << "case " << i;
  }
  EXPECT_EQ(stored(), 0);
  EXPECT_TRUE(sink.events.empty());
}

// A duplicate delivery is answered 200 and changes nothing: one row, one hand-off.
TEST_F(WebhookServerTest, DuplicateIsAcknowledgedAndStoredOnce) {
  start();
  const auto req = signed_post(body_for("sess-dup"), "whsec_primary");
  EXPECT_EQ(call(req).res.result_int(), 200u);
  auto again = call(req);
  EXPECT_EQ(again.res.result_int(), 200u);
  EXPECT_NE(again.res.body().find("duplicate"), std::string::npos);
  EXPECT_EQ(stored(), 1);
  EXPECT_EQ(sink.events.size(), 1u);
}

// A body of exactly 1 MiB is accepted; 1 MiB + 1 byte is refused with 413 and not stored.
TEST_F(WebhookServerTest, BodyLimitIsOneMebibyte) {
  start();
  const std::size_t limit = 1024 * 1024;
  // body_for(id, padding) adds `,"padding":"…"` (13 bytes plus the padding).
  const auto sized = [](const std::string& id, std::size_t size) {
    return body_for(id, std::string(size - body_for(id).size() - 13, 'x'));
  };
  const std::string exact = sized("sess-big1", limit);
  ASSERT_EQ(exact.size(), limit);
  EXPECT_EQ(call(signed_post(exact, "whsec_primary")).res.result_int(), 200u);
  const std::string over = sized("sess-big2", limit + 1);
  ASSERT_EQ(over.size(), limit + 1);
  auto a = call(signed_post(over, "whsec_primary"));
  ASSERT_FALSE(a.ec) << a.ec.message();
  EXPECT_EQ(a.res.result_int(), 413u);
  EXPECT_EQ(stored(), 1);
}

// A chunked body that grows past the limit is refused with 413 too.
TEST_F(WebhookServerTest, ChunkedBodyOverLimitIs413) {
  start();
  std::string raw =
      std::string("POST ") + kPath + " HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
  const std::string chunk(64 * 1024, 'a');
  for (int i = 0; i < 17; ++i) raw += "10000\r\n" + chunk + "\r\n";
  raw += "0\r\n\r\n";
  std::string answer;
  test::run_on(ioc, [&]() -> asio::awaitable<void> { answer = co_await send_raw(port(), raw); });
  EXPECT_EQ(answer.rfind("HTTP/1.1 413", 0), 0u) << answer.substr(0, 100);
}

// GET on the webhook path is 405 with Allow: POST; POST on /healthz is 405; other paths 404.
TEST_F(WebhookServerTest, MethodsAndPaths) {
  start();
  auto a = call(get(kPath));
  EXPECT_EQ(a.res.result_int(), 405u);
  EXPECT_EQ(a.res[http::field::allow], "POST");
  auto b = call(signed_post("{}", "whsec_primary", "2026-03-15T14:32:08.000Z", "/healthz"));
  EXPECT_EQ(b.res.result_int(), 405u);
  EXPECT_EQ(call(get("/nope")).res.result_int(), 404u);
  EXPECT_EQ(call(signed_post(body_for("s"), "whsec_primary", "2026-03-15T14:32:08.000Z",
                             "/webhooks/other"))
                .res.result_int(),
            404u);
  EXPECT_EQ(stored(), 0);
}

// A second configured secret verifies (rotation).
TEST_F(WebhookServerTest, SecondSecretVerifies) {
  start({"whsec_old", "whsec_new"});
  EXPECT_EQ(call(signed_post(body_for("a"), "whsec_old")).res.result_int(), 200u);
  EXPECT_EQ(call(signed_post(body_for("b"), "whsec_new")).res.result_int(), 200u);
  server_->set_secrets({"whsec_new"});
  EXPECT_EQ(call(signed_post(body_for("c"), "whsec_old")).res.result_int(), 401u);
  EXPECT_EQ(stored(), 2);
}

// Signed but malformed JSON, or no data.session_id: 400, nothing stored.
TEST_F(WebhookServerTest, MalformedPayloadsAre400) {
  start();
  for (const std::string& body : {std::string("{not json"), std::string(R"({"data":{}})"),
                                  std::string(R"({"event":"session.completed"})"),
                                  std::string(R"({"data":{"session_id":""}})")}) {
    EXPECT_EQ(call(signed_post(body, "whsec_primary")).res.result_int(), 400u) << body;
  }
  EXPECT_EQ(stored(), 0);
}

// A wrong secret is not silent: the refusal is counted with its reason for status-get and
// warned about once, then at most once per 5 minutes with the count since (not once per
// delivery); stored deliveries are counted too.
TEST_F(WebhookServerTest, RefusedDeliveriesAreCountedAndWarnedAboutRateLimited) {
  start();
  auto sink = std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(100);
  spdlog::default_logger()->sinks().push_back(sink);
  EXPECT_EQ(call(signed_post(body_for("r1"), "whsec_primary")).res.result_int(), 200u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(
        call(signed_post(body_for("r" + std::to_string(i + 2)), "whsec_wrong")).res.result_int(),
        401u);
  }
  clock.advance(6min);
  EXPECT_EQ(
      call(signed_post(body_for("r9"), "whsec_wrong", "2026-03-15T14:39:00.000Z")).res.result_int(),
      401u);
  // A POST to another path is a refused delivery; a scanner's GET is not.
  EXPECT_EQ(call(signed_post(body_for("r10"), "whsec_primary", "2026-03-15T14:39:00.000Z",
                             "/hooks/vocobase"))
                .res.result_int(),
            404u);
  EXPECT_EQ(call(get("/wp-login.php")).res.result_int(), 404u);
  spdlog::default_logger()->sinks().pop_back();

  const WebhookSnapshot s = server_->stats();
  EXPECT_EQ(s.stored_last_hour, 1u);
  EXPECT_EQ(s.refused_last_hour, 5u);
  ASSERT_TRUE(s.last_stored_at.has_value());
  EXPECT_EQ(*s.last_stored_at, kNow);
  ASSERT_TRUE(s.last_refusal.has_value());
  EXPECT_EQ(s.last_refusal->reason, "unknown path /hooks/vocobase");

  std::vector<std::string> warnings;
  for (const auto& line : sink->last_formatted()) {
    if (line.find("[warning]") != std::string::npos) warnings.push_back(line);
  }
  ASSERT_EQ(warnings.size(), 2u) << ::testing::PrintToString(warnings);
  EXPECT_NE(warnings[0].find("delivery refused (signature mismatch)"), std::string::npos)
      << warnings[0];
  EXPECT_NE(warnings[0].find("webhook.secrets"), std::string::npos) << warnings[0];
  EXPECT_NE(warnings[1].find("3 deliveries refused since"), std::string::npos) << warnings[1];
  for (const auto& w : warnings) EXPECT_EQ(w.find("whsec_"), std::string::npos) << w;
}

// /healthz is 503 until the daemon says ready, then 200 {"status":"ok"}.
TEST_F(WebhookServerTest, Healthz) {
  start();
  server_->set_ready(false);
  EXPECT_EQ(call(get("/healthz")).res.result_int(), 503u);
  server_->set_ready(true);
  auto a = call(get("/healthz"));
  EXPECT_EQ(a.res.result_int(), 200u);
  EXPECT_EQ(a.res.body(), R"({"status":"ok"})");
}

// /metrics is served by a listener of its own, never the internet-facing webhook one: Prometheus
// text with the webhook results, inbox gauges (refreshed through the webhook server) and
// families others add to the shared registry; scrape hooks run first; HEAD answers the GET's
// headers without a body. The metrics listener has no webhook path and no /healthz.
TEST_F(WebhookServerTest, MetricsText) {
  start();
  WebhookServerOptions mo;
  mo.listen = "127.0.0.1:0";
  mo.webhook.serve_webhook = false;
  mo.webhook.serve_metrics = true;
  auto created = WebhookServer::create(ioc.get_executor(), mo, *inbox_, sink, clock, registry);
  ASSERT_TRUE(created);
  auto metrics_server = std::move(*created);
  metrics_server->start();
  const unsigned short mport = metrics_server->local_endpoint().port();
  auto call_metrics = [&](test::Request req) {
    Answer out;
    test::run_on(ioc, [&]() -> asio::awaitable<void> { out = co_await send(mport, req); });
    return out;
  };
  int hooks = 0;
  metrics_server->on_scrape([&] {
    ++hooks;
    server_->refresh_metrics();
  });
  EXPECT_EQ(call(signed_post(body_for("m1"), "whsec_primary")).res.result_int(), 200u);
  EXPECT_EQ(call(signed_post(body_for("m2"), "whsec_bad")).res.result_int(), 401u);
  clock.advance(90s);
  EXPECT_EQ(call(get("/metrics")).res.result_int(), 404u);
  EXPECT_EQ(call_metrics(get("/healthz")).res.result_int(), 404u);
  EXPECT_EQ(call_metrics(signed_post(body_for("m3"), "whsec_primary")).res.result_int(), 404u);
  auto a = call_metrics(get("/metrics"));
  ASSERT_EQ(a.res.result_int(), 200u);
  EXPECT_EQ(a.res[http::field::content_type], "text/plain; version=0.0.4; charset=utf-8");
  const std::string& text = a.res.body();
  EXPECT_NE(text.find(R"(dialer_webhook_requests_total{result="stored"} 1)"), std::string::npos)
      << text;
  EXPECT_NE(text.find(R"(dialer_webhook_requests_total{result="unauthorized"} 1)"),
            std::string::npos);
  EXPECT_NE(text.find("dialer_webhook_inbox_unapplied 1"), std::string::npos);
  EXPECT_NE(text.find("dialer_webhook_inbox_lag_seconds 90"), std::string::npos);
  EXPECT_NE(text.find("dialer_webhook_last_stored_timestamp_seconds 1773585180"),
            std::string::npos);
  EXPECT_EQ(hooks, 1);
  test::Request head{http::verb::head, "/metrics", 11};
  head.set(http::field::host, "127.0.0.1");
  auto h = call_metrics(head);
  EXPECT_EQ(h.res.result_int(), 200u);
  EXPECT_TRUE(h.res.body().empty());
  EXPECT_GT(std::stoul(std::string(h.res[http::field::content_length])), 100u);
  EXPECT_EQ(text.find("whsec_"), std::string::npos);
  for (const auto& line : {std::string("# TYPE ")}) {
    std::size_t pos = 0;
    while ((pos = text.find(line, pos)) != std::string::npos) {
      EXPECT_EQ(text.compare(pos + line.size(), 7, "dialer_"), 0) << text.substr(pos, 60);
      pos += line.size();
    }
  }
}

// When the inbox cannot store, the delivery is answered 503 (Vocobase retries) and the
// scheduler is told nothing.
TEST_F(WebhookServerTest, StoreFailureIsNotAcknowledged) {
  BrokenInbox broken;
  start({"whsec_primary"}, &broken);
  EXPECT_EQ(call(signed_post(body_for("s"), "whsec_primary")).res.result_int(), 503u);
  EXPECT_TRUE(sink.events.empty());
}

// Many deliveries in flight at once are all stored and acknowledged, each exactly once.
TEST_F(WebhookServerTest, ConcurrentDeliveriesAllStored) {
  start();
  constexpr int kN = 64;
  int ok = 0;
  test::run_on(ioc, [&]() -> asio::awaitable<void> {
    int done = 0;
    for (int i = 0; i < kN; ++i) {
      asio::co_spawn(
          ioc,
          [&, i]() -> asio::awaitable<void> {
            auto a = co_await send(port(),
                                   signed_post(body_for("c" + std::to_string(i)), "whsec_primary"));
            if (!a.ec && a.res.result_int() == 200) ++ok;
            ++done;
          },
          asio::detached);
    }
    co_await test::until([&] { return done == kN; });
  });
  EXPECT_EQ(ok, kN);
  EXPECT_EQ(stored(), kN);
  EXPECT_EQ(sink.events.size(), static_cast<std::size_t>(kN));
}

// Garbage, oversized headers and half requests never crash or wedge the listener: each gets a
// 4xx or a close, and a valid delivery still works afterwards.
TEST_F(WebhookServerTest, MalformedHttpNeverWedges) {
  start();
  std::vector<std::string> answers;
  test::run_on(ioc, [&]() -> asio::awaitable<void> {
    answers.push_back(co_await send_raw(port(), "GARBAGE\r\n\r\n"));
    answers.push_back(co_await send_raw(
        port(), "GET /healthz HTTP/1.1\r\nX-Big: " + std::string(64 * 1024, 'a') + "\r\n\r\n"));
    answers.push_back(co_await send_raw(port(), std::string("\0\1\2\3", 4)));
    answers.push_back(co_await send_raw(
        port(), std::string("POST ") + kPath + " HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc"));
  });
  EXPECT_EQ(answers[0].rfind("HTTP/1.1 400", 0), 0u) << answers[0];
  EXPECT_EQ(answers[1].rfind("HTTP/1.1 431", 0), 0u) << answers[1].substr(0, 40);
  EXPECT_EQ(answers[2].rfind("HTTP/1.1 400", 0), 0u) << answers[2];
  EXPECT_EQ(call(signed_post(body_for("after"), "whsec_primary")).res.result_int(), 200u);
}

// A client that sends Expect: 100-continue gets the go-ahead, then its answer.
TEST_F(WebhookServerTest, ExpectContinue) {
  start();
  auto req = signed_post(body_for("cont"), "whsec_primary");
  req.set(http::field::expect, "100-continue");
  std::ostringstream raw;
  raw << req;
  std::string answer;
  test::run_on(ioc,
               [&]() -> asio::awaitable<void> { answer = co_await send_raw(port(), raw.str()); });
  EXPECT_EQ(answer.rfind("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK", 0), 0u) << answer;
  EXPECT_EQ(stored(), 1);
}

// A connection that sends nothing is closed by the server after the idle timeout.
TEST_F(WebhookServerTest, IdleConnectionIsClosed) {
  WebhookServerOptions o;
  o.idle_timeout = 200ms;
  start({"whsec_primary"}, nullptr, o);
  beast::error_code read_error;
  test::run_on(ioc, [&]() -> asio::awaitable<void> {
    constexpr auto nothrow = asio::as_tuple(asio::use_awaitable);
    beast::tcp_stream idle(ioc);
    idle.expires_after(20s);  // the bound: the server must close well before this
    co_await idle.async_connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port()),
                                nothrow);
    std::array<char, 16> buf{};
    auto [ec, n] = co_await idle.async_read_some(asio::buffer(buf), nothrow);
    read_error = ec;
  });
  EXPECT_EQ(read_error, asio::error::eof) << read_error.message();
}

// Beyond max_connections a new connection waits in the backlog: its request is answered only
// once an open connection goes away.
TEST_F(WebhookServerTest, ConnectionCapHoldsExtraConnections) {
  WebhookServerOptions o;
  o.max_connections = 1;
  start({"whsec_primary"}, nullptr, o);
  test::run_on(ioc, [&]() -> asio::awaitable<void> {
    constexpr auto nothrow = asio::as_tuple(asio::use_awaitable);
    // The first connection holds the only slot (keep-alive after one answered request).
    beast::tcp_stream first(ioc);
    co_await first.async_connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port()),
                                 nothrow);
    co_await http::async_write(first, get("/healthz"), nothrow);
    http::response<http::string_body> res;
    beast::flat_buffer buffer;
    auto [rec, rn] = co_await http::async_read(first, buffer, res, nothrow);
    EXPECT_FALSE(rec);
    EXPECT_EQ(res.result_int(), 200u);

    bool second_done = false;
    unsigned second_status = 0;
    asio::co_spawn(
        ioc,
        [&]() -> asio::awaitable<void> {
          auto a = co_await send(port(), get("/healthz"));
          second_status = a.res.result_int();
          second_done = true;
        },
        asio::detached);
    // Give the server many loop turns; the second request must still be waiting.
    for (int i = 0; i < 200; ++i) co_await asio::post(ioc, asio::use_awaitable);
    EXPECT_FALSE(second_done);
    beast::error_code ignored;
    first.socket().close(ignored);
    EXPECT_TRUE(co_await test::until([&] { return second_done; }));
    EXPECT_EQ(second_status, 200u);
  });
}

// The listen address parser takes host:port forms and refuses names and junk.
TEST(WebhookListen, ParsesAddresses) {
  EXPECT_EQ(parse_listen_address("127.0.0.1:8080")->port(), 8080);
  EXPECT_TRUE(parse_listen_address("[::1]:0")->address().is_v6());
  EXPECT_EQ(parse_listen_address("localhost:9")->address().to_string(), "127.0.0.1");
  for (const char* bad : {"8080", "host.example:80", "127.0.0.1:", "127.0.0.1:70000", ":x"}) {
    EXPECT_FALSE(parse_listen_address(bad)) << bad;
  }
}

}  // namespace
}  // namespace dialer::api
