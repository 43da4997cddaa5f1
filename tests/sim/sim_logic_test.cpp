// The simulator's socket-free core: deterministic draws, rate windows, the timeline, the call
// lifecycle and billing on a hand-moved clock, and the parsing of flags, scripts and config.
#include "sim/call_plan.hpp"
#include "sim/det_rng.hpp"
#include "sim/engine.hpp"
#include "sim/options.hpp"
#include "sim/rate_window.hpp"
#include "sim/router.hpp"
#include "sim/sim_clock.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace dialer::sim {
namespace {

namespace json = boost::json;

constexpr const char* kAgentId = "3fa85f64-5717-4562-b3fc-2c963f66afa6";

std::string start_body(const std::string& number) {
  return json::serialize(json::object{{"agent_id", kAgentId}, {"to_number", number}});
}

std::string temp_file(const std::string& name, const std::string& text) {
  char tmpl[] = "/tmp/sim_test_XXXXXX";
  const char* dir = mkdtemp(tmpl);
  EXPECT_NE(dir, nullptr);
  auto path = std::string(dir) + "/" + name;
  std::ofstream(path) << text;
  return path;
}

// The same (seed, stream, index) always yields the same numbers; another index does not.
TEST(DetRng, DependsOnlyOnSeedStreamAndIndex) {
  DetRng a(42, RngStream::outcome, 7), b(42, RngStream::outcome, 7), c(42, RngStream::outcome, 8);
  auto x = a.next();
  EXPECT_EQ(x, b.next());
  EXPECT_NE(x, c.next());
  DetRng d(42, RngStream::ids, 7);
  EXPECT_NE(x, d.next());
  for (int i = 0; i < 1000; ++i) {
    double u = a.uniform();
    EXPECT_GE(u, 0.0);
    EXPECT_LT(u, 1.0);
  }
}

// A call's plan depends only on the seed and its sequence number, and honours the weights.
TEST(CallPlan, DrawIsReproducibleAndFollowsWeights) {
  auto w = default_outcome_weights();
  for (std::uint64_t seq = 1; seq < 50; ++seq) {
    EXPECT_EQ(draw_call_plan(9, seq, w, Millis{120'000}, nullptr),
              draw_call_plan(9, seq, w, Millis{120'000}, nullptr));
  }
  std::map<Disposition, int> counts;
  const int n = 20'000;
  for (int seq = 1; seq <= n; ++seq) {
    ++counts[draw_call_plan(3, static_cast<std::uint64_t>(seq), w, Millis{120'000}, nullptr)
                 .outcome];
  }
  EXPECT_NEAR(counts[Disposition::completed] / double(n), 0.5, 0.02);
  EXPECT_NEAR(counts[Disposition::no_answer] / double(n), 0.2, 0.02);
  EXPECT_NEAR(counts[Disposition::busy] / double(n), 0.1, 0.02);
  EXPECT_EQ(counts[Disposition::blocked], 0);

  OutcomeWeights only_busy;
  only_busy.set(Disposition::busy, 1);
  auto p = draw_call_plan(1, 1, only_busy, Millis{120'000}, nullptr);
  EXPECT_EQ(p.outcome, Disposition::busy);
  EXPECT_EQ(p.final_status, CallStatus::busy);
  EXPECT_EQ(p.answered_by, AnsweredBy::not_answered);
  EXPECT_EQ(p.talk_ms, 0);
  EXPECT_GT(p.ring_ms, 0);
}

// A script entry fixes the outcome and the talk time; the mapping of outcomes to wire fields
// follows VOCOBASE-API.md (blocked ends `failed`, voicemail is answered by a machine).
TEST(CallPlan, ScriptEntryAndOutcomeMapping) {
  ScriptEntry e{Disposition::completed, Millis{90'000}};
  auto p = draw_call_plan(1, 1, default_outcome_weights(), Millis{120'000}, &e);
  EXPECT_TRUE(p.scripted);
  EXPECT_EQ(p.talk_ms, 90'000);
  EXPECT_EQ(billed_seconds(p), 90);
  EXPECT_EQ(final_status_of(Disposition::blocked), CallStatus::failed);
  EXPECT_EQ(final_status_of(Disposition::voicemail), CallStatus::completed);
  ScriptEntry vm{Disposition::voicemail, std::nullopt};
  EXPECT_EQ(draw_call_plan(1, 2, default_outcome_weights(), Millis{1000}, &vm).answered_by,
            AnsweredBy::machine);
  ScriptEntry blocked{Disposition::blocked, std::nullopt};
  auto b = draw_call_plan(1, 3, default_outcome_weights(), Millis{1000}, &blocked);
  EXPECT_EQ(b.ring_ms, 0);
  EXPECT_EQ(billed_seconds(b), 0);
}

// The window admits `limit` requests, refuses the next, and admits again once it slides;
// refused requests do not extend the window.
TEST(SlidingWindow, AdmitsLimitThenSlides) {
  SlidingWindowLimiter w(10, 60'000);
  for (int i = 0; i < 10; ++i) EXPECT_TRUE(w.try_acquire("k", 1'000 + i));
  EXPECT_FALSE(w.try_acquire("k", 2'000));
  EXPECT_TRUE(w.try_acquire("other", 2'000));
  EXPECT_FALSE(w.try_acquire("k", 60'999));
  EXPECT_TRUE(w.try_acquire("k", 61'000));  // the first request left the window
  EXPECT_FALSE(w.try_acquire("k", 61'000));
  EXPECT_EQ(w.used("k", 61'000), 10);
}

// Events run in time order, ties in insertion order, including ones added while running.
TEST(Timeline, RunsInTimeThenInsertionOrder) {
  Timeline t;
  std::vector<int> order;
  t.schedule(20, [&] { order.push_back(3); });
  t.schedule(10, [&] { order.push_back(1); });
  t.schedule(10, [&] {
    order.push_back(2);
    t.schedule(15, [&] { order.push_back(4); });
  });
  t.schedule(99, [&] { order.push_back(9); });
  EXPECT_EQ(t.run_due(50), 4u);
  EXPECT_EQ(order, (std::vector<int>{1, 2, 4, 3}));
  EXPECT_EQ(t.next_due(), 99);
}

struct EngineFixture : ::testing::Test {
  SimOptions opts = [] {
    SimOptions o;
    o.api_keys = {"k"};
    o.concurrency_limit = 2;
    o.credits = 2;
    return o;
  }();
  ManualSimClock clock;
  Timeline timeline;
  std::vector<std::string> events;

  std::unique_ptr<Engine> make() {
    auto e = std::make_unique<Engine>(opts, clock, timeline);
    e->set_session_sink([this](const Call&, std::string body) { events.push_back(body); });
    return e;
  }
  void run_for(SimMillis ms) {
    clock.advance(ms);
    timeline.run_due(clock.now());
  }
};

// A scripted completed call walks pending → ringing → in_progress → completed at the planned
// simulated times, bills 1 credit per minute per second, and emits one session.completed.
TEST_F(EngineFixture, LifecycleAndBilling) {
  opts.script["+15550000001"] = {{Disposition::completed, Millis{90'000}}};
  opts.script["+15550000002"] = {{Disposition::busy, std::nullopt}};
  auto e = make();
  auto r = e->start_call(start_body("+15550000001"));
  ASSERT_TRUE(std::holds_alternative<const Call*>(r));
  const Call* c = std::get<const Call*>(r);
  auto plan = c->plan;
  run_for(10LL * 60 * 1000);
  ASSERT_EQ(c->status, CallStatus::completed);
  ASSERT_EQ(c->history.size(), 4u);
  EXPECT_EQ(c->history[1].first, CallStatus::ringing);
  EXPECT_EQ(c->history[1].second, plan.pending_ms);
  EXPECT_EQ(c->history[2].first, CallStatus::in_progress);
  EXPECT_EQ(c->history[2].second, plan.pending_ms + plan.ring_ms);
  EXPECT_EQ(c->history[3].second, plan.pending_ms + plan.ring_ms + 90'000);
  EXPECT_DOUBLE_EQ(e->credit_balance(), 2.0 - 90.0 / 60.0);
  ASSERT_EQ(events.size(), 1u);
  auto ev = json::parse(events[0]);
  EXPECT_EQ(ev.at("event"), "session.completed");
  EXPECT_EQ(ev.at_pointer("/data/duration_seconds"), 90);
  EXPECT_DOUBLE_EQ(ev.at_pointer("/data/credits_used").to_number<double>(), 1.5);

  // Unanswered calls cost nothing.
  ASSERT_TRUE(std::holds_alternative<const Call*>(e->start_call(start_body("+15550000002"))));
  run_for(10LL * 60 * 1000);
  EXPECT_DOUBLE_EQ(e->credit_balance(), 0.5);
  auto stats = e->stats_json({});
  EXPECT_EQ(stats.at("credits_spent").to_number<double>(), 1.5);
  EXPECT_EQ(stats.at("calls_started"), 2);
}

// Concurrency counts pending+ringing+in_progress; a start over the limit is refused with 429,
// and lowering the limit under the active calls is recorded as a violation.
TEST_F(EngineFixture, ConcurrencyAndViolations) {
  opts.credits = 100;
  auto e = make();
  EXPECT_TRUE(std::holds_alternative<const Call*>(e->start_call(start_body("+15550000001"))));
  EXPECT_TRUE(std::holds_alternative<const Call*>(e->start_call(start_body("+15550000002"))));
  auto refused = e->start_call(start_body("+15550000003"));
  ASSERT_TRUE(std::holds_alternative<ApiError>(refused));
  EXPECT_EQ(std::get<ApiError>(refused).status, 429u);
  EXPECT_EQ(std::get<ApiError>(refused).message, "Concurrency limit reached");
  e->set_concurrency_limit(1);
  auto stats = e->stats_json({});
  EXPECT_EQ(stats.at("limit_violations"), 1);
  EXPECT_EQ(stats.at("max_concurrent"), 2);
  EXPECT_EQ(json::value(stats).at_pointer("/refused/concurrency"), 1);
}

// Credits at or below zero refuse new calls with 403 "Insufficient credits".
TEST_F(EngineFixture, NoCreditsNoCalls) {
  opts.credits = 0;
  auto e = make();
  auto r = e->start_call(start_body("+15550000001"));
  ASSERT_TRUE(std::holds_alternative<ApiError>(r));
  EXPECT_EQ(std::get<ApiError>(r).status, 403u);
  EXPECT_EQ(std::get<ApiError>(r).message, "Insufficient credits");
  e->set_credit_balance(0.01);
  EXPECT_TRUE(std::holds_alternative<const Call*>(e->start_call(start_body("+15550000001"))));
}

// /_sim/ answers loopback peers only; anyone else gets 403.
TEST_F(EngineFixture, ControlEndpointsAreLoopbackOnly) {
  auto e = make();
  boost::asio::io_context io;
  WebhookDispatcher hooks(io.get_executor(), timeline, clock, e->faults(), {});
  Router router(*e, hooks, Router::Hooks{[](SimMillis) {}, [] {}});
  RequestView req;
  req.target = "/_sim/stats";
  req.loopback = false;
  EXPECT_EQ(router.handle(req).status, 403u);
  req.method = boost::beast::http::verb::post;
  req.target = "/_sim/credits";
  req.body = R"({"balance": 99})";
  EXPECT_EQ(router.handle(req).status, 403u);
  EXPECT_DOUBLE_EQ(e->credit_balance(), 2.0);
  req.loopback = true;
  EXPECT_EQ(router.handle(req).status, 200u);
  EXPECT_DOUBLE_EQ(e->credit_balance(), 99.0);
}

// Flag lists parse, and every mistake is refused with a message naming it.
TEST(Options, ParsesListsAndRefusesMistakes) {
  auto f = parse_fault_list("error_5xx=0.05, lost_response=0.02,webhook_drop=1");
  ASSERT_TRUE(f);
  EXPECT_DOUBLE_EQ(f->get(Fault::error_5xx), 0.05);
  EXPECT_DOUBLE_EQ(f->get(Fault::webhook_drop), 1.0);
  EXPECT_FALSE(parse_fault_list("bogus=0.1"));
  EXPECT_FALSE(parse_fault_list("slow=1.5"));
  EXPECT_FALSE(parse_fault_list("slow"));
  auto w = parse_outcome_weights("completed=0.5,no_answer=0.2,busy=0.1,voicemail=0.1,failed=0.1");
  ASSERT_TRUE(w);
  EXPECT_EQ(*w, default_outcome_weights());
  EXPECT_FALSE(parse_outcome_weights("answered=1"));
  EXPECT_FALSE(parse_outcome_weights("busy=0"));
  auto wh = parse_webhook_flag("http://127.0.0.1:9/h=whsec_abc==");
  ASSERT_TRUE(wh);
  EXPECT_EQ(wh->url, "http://127.0.0.1:9/h");
  EXPECT_EQ(wh->secret, "whsec_abc==");
  auto l = parse_listen("[::1]:0");
  ASSERT_TRUE(l);
  EXPECT_EQ(l->first, "::1");
  EXPECT_FALSE(parse_listen("localhost"));
}

// A script file maps numbers to outcome lists (names or {outcome, duration}).
TEST(Options, ScriptFile) {
  auto path = temp_file("script.yaml",
                        "\"+919800000001\": [busy, no_answer, completed]\n"
                        "\"+919800000002\":\n  - {outcome: completed, duration: 45s}\n");
  auto s = load_script_file(path);
  ASSERT_TRUE(s) << s.error().message;
  ASSERT_EQ(s->at("+919800000001").size(), 3u);
  EXPECT_EQ(s->at("+919800000001")[0].outcome, Disposition::busy);
  EXPECT_EQ(s->at("+919800000002")[0].duration, Millis{45'000});
  auto bad = load_script_file(temp_file("bad.yaml", "\"+919800000001\": [busy, picked_up]\n"));
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find(":1:"), std::string::npos) << bad.error().message;
}

// The YAML config mirrors the flags; an unknown key is an error with file:line:col.
TEST(Options, ConfigFile) {
  auto path = temp_file("sim.yaml",
                        "listen: 127.0.0.1:0\n"
                        "api_keys: [a, b]\n"
                        "concurrency_limit: 7\n"
                        "providers: [twilio, plivo]\n"
                        "webhooks:\n  - {url: \"http://127.0.0.1:9/h\", secret: whsec_x}\n"
                        "time_scale: 50\n"
                        "scale_rate_window: true\n"
                        "outcomes: {completed: 1}\n"
                        "faults: {slow: 0.25}\n"
                        "duration_mean: 30s\n");
  auto o = load_config_file(path);
  ASSERT_TRUE(o) << o.error().message;
  EXPECT_EQ(o->api_keys, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(o->concurrency_limit, 7);
  EXPECT_EQ(o->allowed_providers, (std::vector<Provider>{Provider::twilio, Provider::plivo}));
  EXPECT_EQ(o->webhooks.size(), 1u);
  EXPECT_DOUBLE_EQ(o->time_scale, 50);
  EXPECT_TRUE(o->scale_rate_window);
  EXPECT_DOUBLE_EQ(o->faults.get(Fault::slow), 0.25);
  EXPECT_EQ(o->duration_mean, Millis{30'000});

  auto bad = load_config_file(temp_file("bad.yaml", "listen: 127.0.0.1:0\n  \nlistne: x\n"));
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("bad.yaml:3:1: unknown key 'listne'"), std::string::npos)
      << bad.error().message;
}

}  // namespace
}  // namespace dialer::sim
