// session.completed delivery over HTTP to test receivers: signatures checked with OpenSSL
// directly, payloads, the retry schedule, timeouts, and the four webhook faults.
#include "sim_test_support.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

namespace dialer::sim::test {
namespace {

/// HMAC-SHA256 in lower-case hex, computed here without any simulator code.
std::string hmac_hex(const std::string& key, const std::string& message) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(), mac, &len);
  std::string hex;
  char buf[3];
  for (unsigned int i = 0; i < len; ++i) {
    std::snprintf(buf, sizeof buf, "%02x", mac[i]);
    hex += buf;
  }
  return hex;
}

SimOptions manual_time(std::vector<WebhookTarget> hooks) {
  auto o = base_options();
  o.time_scale = 1e-6;  // simulated time moves only by /_sim/advance
  o.calls_per_minute = 1'000'000;
  o.concurrency_limit = 50;
  o.webhooks = std::move(hooks);
  return o;
}

void advance(TestClient& c, const char* by) {
  c.control("/_sim/advance", json::object{{"by", by}});
}

bool drained(TestClient& c) {
  return wait_until([&] { return u(c.stats(), "/webhooks/pending") == 0; });
}

// Each endpoint gets the event signed with its own secret — sha256=hex(HMAC-SHA256(secret,
// timestamp + "." + body)) verified here with OpenSSL HMAC() — and the other secret does not
// verify it. The payload carries the documented fields of an answered call.
TEST(SimWebhooks, SignatureVerifiesWithIndependentHmac) {
  WebhookReceiver a, b;
  auto o = manual_time({{a.url(), "whsec_alpha"}, {b.url("/other"), "whsec_beta"}});
  o.script["+919800000001"] = {{Disposition::completed, Millis{45'000}}};
  auto sim = start_sim(o);
  ASSERT_TRUE(sim);
  TestClient c(sim->port());
  auto start = c.post("/api/v2/calls/start",
                      json::serialize(json::object{{"agent_id", kAgent},
                                                   {"to_number", "+919800000001"},
                                                   {"variables", json::object{{"name", "Asha"}}}}));
  ASSERT_EQ(start.status, 200);
  advance(c, "1d");
  ASSERT_TRUE(a.wait_for(1));
  ASSERT_TRUE(b.wait_for(1));
  struct Check {
    WebhookReceiver& r;
    std::string secret, other, path;
  };
  for (Check chk : {Check{a, "whsec_alpha", "whsec_beta", "/hooks/vocobase"},
                    Check{b, "whsec_beta", "whsec_alpha", "/other"}}) {
    auto arr = chk.r.arrivals().at(0);
    EXPECT_EQ(arr.target, chk.path);
    ASSERT_EQ(arr.signature.rfind("sha256=", 0), 0u) << arr.signature;
    auto hex = arr.signature.substr(7);
    EXPECT_EQ(hex, hmac_hex(chk.secret, arr.timestamp + "." + arr.body));
    EXPECT_NE(hex, hmac_hex(chk.other, arr.timestamp + "." + arr.body));
    auto ts = parse_iso8601(arr.timestamp);
    ASSERT_TRUE(ts.has_value()) << arr.timestamp;
    EXPECT_LT(std::chrono::abs(*ts - SystemClock{}.now()), std::chrono::hours(1));

    auto ev = json::parse(arr.body);
    EXPECT_EQ(ev.at("event"), "session.completed");
    EXPECT_TRUE(parse_iso8601(s(ev, "/timestamp")).has_value());
    auto data = ev.at("data");
    for (const char* key : {"session_id", "agent_id", "agent_name", "duration_seconds",
                            "credits_used", "processing_complete", "pipeline_completed_at",
                            "transcript", "recording_url", "variables", "extraction", "call"}) {
      EXPECT_TRUE(data.as_object().contains(key)) << key;
    }
    EXPECT_EQ(s(data, "/session_id"), s(start.data(), "/session_id"));
    EXPECT_EQ(s(data, "/call/call_id"), s(start.data(), "/call_id"));
    EXPECT_EQ(s(data, "/call/to_number"), "+919800000001");
    EXPECT_EQ(s(data, "/call/direction"), "outbound");
    EXPECT_EQ(s(data, "/call/status"), "completed");
    EXPECT_EQ(s(data, "/call/disposition"), "completed");
    EXPECT_EQ(s(data, "/call/answered_by"), "human");
    EXPECT_EQ(data.at("duration_seconds"), 45);
    EXPECT_DOUBLE_EQ(d(data, "/credits_used"), 0.75);
    EXPECT_EQ(data.at("processing_complete"), true);
    EXPECT_EQ(s(data, "/variables/name"), "Asha");
    EXPECT_EQ(s(data, "/extraction/status"), "completed");
    EXPECT_FALSE(data.at_pointer("/extraction/values").as_object().empty());
    ASSERT_FALSE(data.at("transcript").as_array().empty());
    for (const auto& turn : data.at("transcript").as_array()) {
      EXPECT_FALSE(s(turn, "/role").empty());
      EXPECT_FALSE(s(turn, "/content").empty());
      EXPECT_TRUE(parse_iso8601(s(turn, "/timestamp")).has_value());
    }
    EXPECT_NE(s(data, "/transcript/0/content").find("Asha"), std::string::npos);
    EXPECT_TRUE(data.at("recording_url").is_string());
  }
}

// A call that never connected still yields session.completed: duration 0, credits 0, empty
// transcript, the call block; any 2xx (here 202 and 204) is accepted.
TEST(SimWebhooks, UnansweredCallStillReported) {
  std::atomic<int> next{0};
  WebhookReceiver r([&](const Arrival&, std::size_t) { return Answer{next++ == 0 ? 202 : 204}; });
  auto o = manual_time({{r.url(), "whsec_x"}});
  o.script["+919800000001"] = {{Disposition::no_answer, std::nullopt},
                               {Disposition::busy, std::nullopt}};
  auto sim = start_sim(o);
  ASSERT_TRUE(sim);
  TestClient c(sim->port());
  ASSERT_EQ(c.start("+919800000001").status, 200);
  ASSERT_EQ(c.start("+919800000001").status, 200);
  advance(c, "1d");
  ASSERT_TRUE(r.wait_for(2));
  ASSERT_TRUE(drained(c));
  std::set<std::string> statuses;
  for (const auto& arr : r.arrivals()) {
    auto data = json::parse(arr.body).at("data");
    EXPECT_EQ(data.at("duration_seconds"), 0);
    EXPECT_EQ(data.at("credits_used"), 0);
    EXPECT_TRUE(data.at("transcript").as_array().empty());
    EXPECT_TRUE(data.at("recording_url").is_null());
    EXPECT_EQ(s(data, "/call/answered_by"), "not_answered");
    EXPECT_EQ(s(data, "/call/disposition"), s(data, "/call/status"));
    statuses.insert(s(data, "/call/status"));
  }
  EXPECT_EQ(statuses, (std::set<std::string>{"no_answer", "busy"}));
  auto st = c.stats();
  EXPECT_EQ(u(st, "/webhooks/delivered"), 2u);
  EXPECT_EQ(u(st, "/webhooks/failed"), 0u);
  EXPECT_EQ(u(st, "/credits_spent"), 0u);
}

// The receiver fails the first three attempts: four attempts arrive in order, after simulated
// waits of 0, 1 s, 2 s and 4 s (each counted from the previous failure), and the fourth is
// accepted.
TEST(SimWebhooks, RetriesOnScheduleUntilSuccess) {
  WebhookReceiver r(
      [](const Arrival&, std::size_t earlier) { return Answer{earlier < 3 ? 500 : 200}; });
  auto o = base_options();
  o.time_scale = 100;
  o.calls_per_minute = 1000;
  o.webhooks = {{r.url(), "whsec_retry"}};
  o.script["+919800000001"] = {{Disposition::busy, std::nullopt}};
  auto sim = start_sim(o);
  ASSERT_TRUE(sim);
  TestClient c(sim->port());
  auto start = c.start("+919800000001");
  ASSERT_EQ(start.status, 200);
  ASSERT_TRUE(r.wait_for(4));
  ASSERT_TRUE(drained(c));
  auto arrivals = r.arrivals();
  ASSERT_EQ(arrivals.size(), 4u);
  for (std::size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(arrivals[i].index, i);
    EXPECT_EQ(arrivals[i].session_id, s(start.data(), "/session_id"));
    EXPECT_EQ(arrivals[i].answered, i < 3 ? 500 : 200);
  }
  auto log = c.get("/_sim/webhooks").json().at("attempts").as_array();
  ASSERT_EQ(log.size(), 4u);
  const std::int64_t waits[] = {0, 1000, 2000, 4000};
  for (std::size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(log[i].at("attempt"), static_cast<std::int64_t>(i + 1));
    EXPECT_EQ(log[i].at("delay_before_ms"), waits[i]);
    EXPECT_EQ(s(log[i], "/result"), i < 3 ? "status 500" : "ok");
    if (i > 0) {
      auto prev_done = log[i - 1].at("finished_sim_ms").to_number<std::int64_t>();
      EXPECT_EQ(log[i].at("due_sim_ms").to_number<std::int64_t>(), prev_done + waits[i]);
      EXPECT_GE(log[i].at("started_sim_ms").to_number<std::int64_t>(), prev_done + waits[i]);
    }
  }
  auto st = c.stats();
  EXPECT_EQ(u(st, "/webhooks/sent"), 4u);
  EXPECT_EQ(u(st, "/webhooks/retried"), 3u);
  EXPECT_EQ(u(st, "/webhooks/failed"), 3u);
  EXPECT_EQ(u(st, "/webhooks/delivered"), 1u);
  EXPECT_EQ(u(st, "/webhooks/dropped"), 0u);
}

// Four failed attempts and the delivery is dropped: there is no fifth.
TEST(SimWebhooks, DroppedAfterFourFailedAttempts) {
  WebhookReceiver r([](const Arrival&, std::size_t) { return Answer{503}; });
  auto o = base_options();
  o.time_scale = 100;
  o.calls_per_minute = 1000;
  o.webhooks = {{r.url(), "whsec_drop"}};
  o.script["+919800000001"] = {{Disposition::failed, std::nullopt}};
  auto sim = start_sim(o);
  ASSERT_TRUE(sim);
  TestClient c(sim->port());
  ASSERT_EQ(c.start("+919800000001").status, 200);
  ASSERT_TRUE(r.wait_for(4));
  ASSERT_TRUE(drained(c));  // nothing left that could make a fifth attempt
  EXPECT_EQ(r.count(), 4u);
  auto st = c.stats();
  EXPECT_EQ(u(st, "/webhooks/sent"), 4u);
  EXPECT_EQ(u(st, "/webhooks/failed"), 4u);
  EXPECT_EQ(u(st, "/webhooks/exhausted"), 1u);
  EXPECT_EQ(u(st, "/webhooks/dropped"), 1u);
  EXPECT_EQ(u(st, "/webhooks/delivered"), 0u);
}

// An attempt left unanswered past the (scaled) timeout fails and is retried.
TEST(SimWebhooks, UnansweredAttemptTimesOut) {
  WebhookReceiver r([](const Arrival&, std::size_t earlier) {
    return earlier == 0 ? Answer{0, true} : Answer{200};
  });
  auto o = base_options();
  o.time_scale = 100;  // 10 s → 100 ms, raised to the 250 ms floor
  o.calls_per_minute = 1000;
  o.webhooks = {{r.url(), "whsec_timeout"}};
  o.script["+919800000001"] = {{Disposition::busy, std::nullopt}};
  auto sim = start_sim(o);
  ASSERT_TRUE(sim);
  TestClient c(sim->port());
  ASSERT_EQ(c.start("+919800000001").status, 200);
  ASSERT_TRUE(r.wait_for(2));
  ASSERT_TRUE(drained(c));
  auto log = c.get("/_sim/webhooks").json().at("attempts").as_array();
  ASSERT_EQ(log.size(), 2u);
  EXPECT_EQ(s(log[0], "/result"), "timeout");
  EXPECT_EQ(s(log[1], "/result"), "ok");
  auto st = c.stats();
  EXPECT_EQ(u(st, "/webhooks/failed"), 1u);
  EXPECT_EQ(u(st, "/webhooks/delivered"), 1u);
}

// webhook_drop: the delivery is never attempted (and counted); with the fault off again the
// next event arrives.
TEST(SimWebhooks, DropFault) {
  WebhookReceiver r;
  auto o = manual_time({{r.url(), "whsec_f"}});
  o.faults.set(Fault::webhook_drop, 1);
  auto sim = start_sim(o);
  ASSERT_TRUE(sim);
  TestClient c(sim->port());
  for (int i = 0; i < 3; ++i) ASSERT_EQ(c.start("+91980000000" + std::to_string(i)).status, 200);
  advance(c, "1d");
  ASSERT_TRUE(drained(c));
  auto st = c.stats();
  EXPECT_EQ(u(st, "/calls_ended"), 3u);
  EXPECT_EQ(u(st, "/webhooks/dropped"), 3u);
  EXPECT_EQ(u(st, "/webhooks/dropped_by_fault"), 3u);
  EXPECT_EQ(u(st, "/faults/webhook_drop"), 3u);
  EXPECT_EQ(u(st, "/webhooks/sent"), 0u);
  c.control("/_sim/faults", json::object{{"webhook_drop", 0}});
  ASSERT_EQ(c.start("+919800000009").status, 200);
  advance(c, "1d");
  ASSERT_TRUE(r.wait_for(1));
  EXPECT_EQ(r.count(), 1u);  // only the event sent after the fault was turned off
}

// webhook_duplicate: each event arrives twice (same session_id).
TEST(SimWebhooks, DuplicateFault) {
  WebhookReceiver r;
  auto o = manual_time({{r.url(), "whsec_f"}});
  o.faults.set(Fault::webhook_duplicate, 1);
  auto sim = start_sim(o);
  ASSERT_TRUE(sim);
  TestClient c(sim->port());
  ASSERT_EQ(c.start("+919800000001").status, 200);
  ASSERT_EQ(c.start("+919800000002").status, 200);
  advance(c, "1d");
  ASSERT_TRUE(r.wait_for(4));
  ASSERT_TRUE(drained(c));
  std::map<std::string, int> per_session;
  for (const auto& a : r.arrivals()) ++per_session[a.session_id];
  EXPECT_EQ(per_session.size(), 2u);
  for (const auto& [sid, n] : per_session) EXPECT_EQ(n, 2) << sid;
  auto st = c.stats();
  EXPECT_EQ(u(st, "/webhooks/duplicated"), 2u);
  EXPECT_EQ(u(st, "/webhooks/sent"), 4u);
  EXPECT_EQ(u(st, "/webhooks/delivered"), 4u);
}

// webhook_delay: the first attempt waits --webhook-delay of simulated time after the end.
TEST(SimWebhooks, DelayFault) {
  WebhookReceiver r;
  auto o = manual_time({{r.url(), "whsec_f"}});
  o.faults.set(Fault::webhook_delay, 1);
  o.webhook_delay = Millis{30'000};
  o.script["+919800000001"] = {{Disposition::busy, std::nullopt}};  // over within 6.5 s
  auto sim = start_sim(o);
  ASSERT_TRUE(sim);
  TestClient c(sim->port());
  auto start = c.start("+919800000001");
  ASSERT_EQ(start.status, 200);
  advance(c, "7s");
  EXPECT_EQ(s(c.get("/api/v2/calls/" + s(start.data(), "/call_id")).data(), "/status"), "busy");
  auto st = c.stats();
  EXPECT_EQ(u(st, "/webhooks/delayed"), 1u);
  EXPECT_EQ(u(st, "/webhooks/pending"), 1u);
  EXPECT_EQ(u(st, "/webhooks/sent"), 0u);  // simulated time is frozen: not due yet
  advance(c, "30s");
  ASSERT_TRUE(r.wait_for(1));
  ASSERT_TRUE(drained(c));
  auto log = c.get("/_sim/webhooks").json().at("attempts").as_array();
  ASSERT_EQ(log.size(), 1u);
  auto history = c.get("/_sim/calls/" + s(start.data(), "/call_id")).json().at("history");
  auto ended = history.as_array().back().at("sim_ms").to_number<std::int64_t>();
  EXPECT_EQ(log[0].at("due_sim_ms").to_number<std::int64_t>(), ended + 30'000);
  EXPECT_EQ(log[0].at("delay_before_ms"), 30'000);
}

// webhook_reorder: the event of the call that ended first is held back and arrives after the
// event of the call that ended later.
TEST(SimWebhooks, ReorderFault) {
  WebhookReceiver r;
  auto o = manual_time({{r.url(), "whsec_f"}});
  o.faults.set(Fault::webhook_reorder, 1);
  o.script["+919800000001"] = {{Disposition::busy, std::nullopt}};       // ends by 6.5 s
  o.script["+919800000002"] = {{Disposition::no_answer, std::nullopt}};  // rings 25-35 s
  auto sim = start_sim(o);
  ASSERT_TRUE(sim);
  TestClient c(sim->port());
  auto first = c.start("+919800000001");
  auto second = c.start("+919800000002");
  ASSERT_EQ(first.status, 200);
  ASSERT_EQ(second.status, 200);
  advance(c, "1d");
  ASSERT_TRUE(r.wait_for(2));
  ASSERT_TRUE(drained(c));
  auto arrivals = r.arrivals();
  ASSERT_EQ(arrivals.size(), 2u);
  EXPECT_EQ(arrivals[0].session_id, s(second.data(), "/session_id"));
  EXPECT_EQ(arrivals[1].session_id, s(first.data(), "/session_id"));
  EXPECT_EQ(u(c.stats(), "/webhooks/reordered"), 1u);
}

}  // namespace
}  // namespace dialer::sim::test

namespace dialer::sim::test {
namespace {

// /config/webhooks: create shows the secret once, the list never; a delivery is signed with
// the endpoint's secret; after rotate-secret new deliveries use the new one, and GET /config
// lists the endpoint with its last delivery.
TEST(SimWebhooks, EndpointsAreCreatedListedRotatedAndDeleted) {
  WebhookReceiver a;
  auto sim = start_sim(manual_time({}));
  ASSERT_TRUE(sim);
  TestClient c(sim->port());
  auto created = c.post("/api/v2/config/webhooks",
                        json::serialize(json::object{{"label", "dialer"}, {"url", a.url()}}));
  ASSERT_EQ(created.status, 200) << created;
  const std::string id = s(created.data(), "/id");
  const std::string first = s(created.data(), "/secret");
  EXPECT_EQ(first.rfind("whsec_", 0), 0u);
  auto listed = c.get("/api/v2/config/webhooks");
  ASSERT_EQ(listed.status, 200);
  EXPECT_EQ(listed.body.find(first), std::string::npos);
  EXPECT_EQ(s(listed.data(), "/0/id"), id);
  EXPECT_TRUE(listed.data().at_pointer("/0/last_delivery_status").is_null());

  ASSERT_EQ(c.start("+919800000001").status, 200);
  advance(c, "1d");
  ASSERT_TRUE(a.wait_for(1));
  auto arr = a.arrivals().at(0);
  EXPECT_EQ(arr.signature.substr(7), hmac_hex(first, arr.timestamp + "." + arr.body));
  // The receiver sees the request before the sim has read the answer.
  EXPECT_TRUE(wait_until([&] {
    return s(c.get("/api/v2/config").data(), "/webhooks/0/last_delivery_status") == "success";
  }));

  auto rotated = c.post("/api/v2/config/webhooks/" + id + "/rotate-secret", "{}");
  ASSERT_EQ(rotated.status, 200) << rotated;
  const std::string second = s(rotated.data(), "/secret");
  EXPECT_NE(second, first);
  ASSERT_EQ(c.start("+919800000002").status, 200);
  advance(c, "1d");
  ASSERT_TRUE(a.wait_for(2));
  arr = a.arrivals().at(1);
  EXPECT_EQ(arr.signature.substr(7), hmac_hex(second, arr.timestamp + "." + arr.body));

  EXPECT_EQ(
      c.request(http::verb::delete_, "/api/v2/config/webhooks/" + id, "", std::nullopt).status,
      200);
  EXPECT_EQ(c.post("/api/v2/config/webhooks/" + id + "/rotate-secret", "{}").status, 404);
  EXPECT_TRUE(c.get("/api/v2/config/webhooks").data().as_array().empty());
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(c.post("/api/v2/config/webhooks",
                     json::serialize(json::object{{"url", a.url("/n" + std::to_string(i))}}))
                  .status,
              200);
  }
  EXPECT_EQ(
      c.post("/api/v2/config/webhooks", json::serialize(json::object{{"url", a.url()}})).status,
      400);
}

// GET /agents/{id}, POST /voicelink/sync (read-only only with import_dids: false) and the legacy
// connection list outside /api/v2.
TEST(SimApi, AgentsVoicelinkAndLegacyConnections) {
  auto o = base_options();
  o.agents = {kAgent};
  auto sim = start_sim(o);
  ASSERT_TRUE(sim);
  TestClient c(sim->port());
  EXPECT_EQ(c.get(std::string("/api/v2/agents/") + kAgent).status, 200);
  auto missing = c.get("/api/v2/agents/00000000-0000-0000-0000-000000000000");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(missing.error_code(), "NOT_FOUND");

  auto sync = c.post("/api/v2/voicelink/sync", R"({"import_dids": false})");
  ASSERT_EQ(sync.status, 200) << sync;
  EXPECT_EQ(s(sync.data(), "/readiness/0/state"), "READY");
  c.control(
      "/_sim/voicelink",
      json::object{{"readiness",
                    json::array{json::object{
                        {"key", "918047100009"},
                        {"state", "NO_BOT"},
                        {"action_items", json::array{json::object{{"code", "ATTACH_BOT"},
                                                                  {"label", "Attach a bot"}}}}}}}});
  sync = c.post("/api/v2/voicelink/sync", R"({"import_dids": false})");
  EXPECT_EQ(s(sync.data(), "/readiness/0/action_items/0/label"), "Attach a bot");
  EXPECT_EQ(u(c.stats(), "/voicelink_imports"), 0u);
  (void)c.post("/api/v2/voicelink/sync", "{}");  // import_dids left out: imports
  EXPECT_EQ(u(c.stats(), "/voicelink_imports"), 1u);
  c.control("/_sim/voicelink",
            json::object{{"connections", 2}, {"warnings", json::array{"TRUNCATED"}}});
  EXPECT_EQ(c.post("/api/v2/voicelink/sync", R"({"import_dids": false})").status, 400);
  sync = c.post("/api/v2/voicelink/sync", R"({"import_dids": false, "connection_id": "vl_1"})");
  EXPECT_TRUE(sync.data().at("readiness").as_array().empty());

  c.control("/_sim/legacy",
            json::object{{"connections",
                          json::array{json::object{{"id", "conn_1"}, {"provider", "twilio"}}}}});
  auto legacy = c.get("/api/telephony/connections");
  ASSERT_EQ(legacy.status, 200) << legacy;
  EXPECT_EQ(s(legacy.data(), "/connections/0/id"), "conn_1");
  EXPECT_EQ(c.get("/api/telephony/connections", "").status, 401);
}

}  // namespace
}  // namespace dialer::sim::test
