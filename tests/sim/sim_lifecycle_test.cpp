// Calls over HTTP: the lifecycle under --time-scale, scripted outcomes, reproducibility from
// the seed, and 1,000 calls active at once then ending together.
#include "sim_test_support.hpp"

#include <fstream>

namespace dialer::sim::test {
namespace {

json::value sim_call(TestClient& c, const std::string& id) {
  auto r = c.get("/_sim/calls/" + id);
  EXPECT_EQ(r.status, 200) << r;
  return r.json();
}

// Under --time-scale 1000 a scripted 10-minute call passes pending → ringing → in_progress →
// completed at exactly the planned simulated times and is over within the test's wait (it could
// not be at real speed); a client polling sees the statuses only in that order.
TEST(SimLifecycle, RunsThroughEveryStatusUnderTimeScale) {
  auto o = base_options();
  o.time_scale = 1000;
  o.calls_per_minute = 1'000'000;
  o.script["+919800000001"] = {{Disposition::completed, Millis{600'000}}};
  auto sim = start_sim(o);
  ASSERT_TRUE(sim);
  TestClient c(sim->port(), kKey, true);
  auto start = c.start("+919800000001");
  ASSERT_EQ(start.status, 200);
  auto id = s(start.data(), "/call_id");
  const std::vector<std::string> order = {"pending", "ringing", "in_progress", "completed"};
  std::vector<std::string> seen;
  ASSERT_TRUE(wait_until([&] {
    auto st = s(c.get("/api/v2/calls/" + id).data(), "/status");
    if (seen.empty() || seen.back() != st) seen.push_back(st);
    return st == "completed";
  }));
  // What the poller saw is a subsequence of the lifecycle, in order.
  std::size_t pos = 0;
  for (const auto& st : seen) {
    while (pos < order.size() && order[pos] != st) ++pos;
    ASSERT_LT(pos, order.size()) << "status " << st << " out of order";
  }
  auto v = sim_call(c, id);
  auto history = v.at("history").as_array();
  ASSERT_EQ(history.size(), 4u);
  for (std::size_t i = 0; i < 4; ++i) EXPECT_EQ(s(history[i], "/status"), order[i]);
  auto at = [&](std::size_t i) { return history[i].at("sim_ms").to_number<std::int64_t>(); };
  EXPECT_EQ(at(1) - at(0), v.at_pointer("/plan/pending_ms").to_number<std::int64_t>());
  EXPECT_EQ(at(2) - at(1), v.at_pointer("/plan/ring_ms").to_number<std::int64_t>());
  EXPECT_EQ(at(3) - at(2), 600'000);
  auto call = c.get("/api/v2/calls/" + id).data();
  EXPECT_EQ(call.at("duration_seconds"), 600);
  EXPECT_FALSE(call.at("started_at").is_null());
  EXPECT_FALSE(call.at("ended_at").is_null());
  EXPECT_EQ(s(call, "/session/status"), "completed");
  EXPECT_DOUBLE_EQ(d(call, "/session/credits_used"), 10.0);
}

// Scripted outcomes (from a script file and from POST /_sim/script) are consumed one per call
// to that number, in order; then the seeded distribution takes over. Each outcome maps to the
// documented status, disposition and answered_by.
TEST(SimLifecycle, ScriptedOutcomesConsumedInOrder) {
  char tmpl[] = "/tmp/sim_script_XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  std::string path = std::string(tmpl) + "/script.yaml";
  std::ofstream(path) << "\"+919800000001\": [busy, no_answer, {outcome: completed, duration: "
                         "30s}]\n";
  auto script = load_script_file(path);
  ASSERT_TRUE(script) << script.error().message;
  auto o = base_options();
  o.time_scale = 1e-6;  // simulated time moves only by /_sim/advance
  o.calls_per_minute = 1'000'000;
  o.concurrency_limit = 10;
  o.script = *script;
  auto sim = start_sim(o);
  ASSERT_TRUE(sim);
  TestClient c(sim->port(), kKey, true);
  c.control("/_sim/script", json::parse(R"({"+919800000002": ["blocked", "voicemail"]})"));
  std::vector<std::string> ids;
  for (const char* n : {"+919800000001", "+919800000001", "+919800000001", "+919800000001",
                        "+919800000002", "+919800000002"}) {
    auto r = c.start(n);
    ASSERT_EQ(r.status, 200) << r;
    ids.push_back(s(r.data(), "/call_id"));
  }
  c.control("/_sim/advance", json::object{{"by", "1d"}});
  struct Expect {
    const char* status;
    const char* disposition;
    const char* answered_by;
  };
  std::vector<Expect> expect = {
      {"busy", "busy", "not_answered"},      {"no_answer", "no_answer", "not_answered"},
      {"completed", "completed", "human"},   {nullptr, nullptr, nullptr},
      {"failed", "blocked", "not_answered"}, {"completed", "voicemail", "machine"}};
  for (std::size_t i = 0; i < ids.size(); ++i) {
    auto v = sim_call(c, ids[i]);
    if (!expect[i].status) {
      EXPECT_EQ(v.at_pointer("/plan/scripted"), false) << "4th call falls back to the seed";
      continue;
    }
    EXPECT_EQ(v.at_pointer("/plan/scripted"), true);
    EXPECT_EQ(s(v, "/status"), expect[i].status) << i;
    EXPECT_EQ(s(v, "/disposition"), expect[i].disposition) << i;
    EXPECT_EQ(s(v, "/answered_by"), expect[i].answered_by) << i;
  }
  EXPECT_EQ(sim_call(c, ids[2]).at("duration_seconds"), 30);
  EXPECT_FALSE(sim_call(c, ids[4]).at("error_message").is_null());
  auto session = c.get("/api/v2/sessions/" + s(sim_call(c, ids[4]), "/session_id")).data();
  EXPECT_EQ(s(session, "/call/disposition"), "blocked");
  EXPECT_EQ(u(c.stats(), "/numbers/+919800000001/calls"), 4u);
  EXPECT_EQ(u(c.stats(), "/numbers/+919800000001/max_concurrent"), 4u);
}

/// One scripted-free scenario: 40 calls (with request faults), all ended, all webhooks
/// delivered. Returns the outcomes without wall-clock fields, and the stats body.
std::pair<std::string, std::string> run_scenario(std::uint64_t seed) {
  WebhookReceiver receiver;
  auto o = base_options();
  o.seed = seed;
  o.time_scale = 1e-6;
  o.calls_per_minute = 1'000'000;
  o.concurrency_limit = 100;
  o.webhooks = {{receiver.url(), "whsec_determinism"}};
  o.faults.set(Fault::error_5xx, 0.2);
  o.faults.set(Fault::webhook_duplicate, 0.3);
  o.faults.set(Fault::webhook_drop, 0.1);
  auto sim = start_sim(o);
  if (!sim) return {};
  TestClient c(sim->port(), kKey, true);
  for (int i = 0; i < 40; ++i) c.start("+9198000000" + std::to_string(10 + i % 10));
  c.control("/_sim/advance", json::object{{"by", "1d"}});
  EXPECT_TRUE(wait_until([&] { return u(c.stats(), "/webhooks/pending") == 0; }));
  json::object off;  // error_5xx would hit the reads below too
  for (auto f : all_faults()) off[fault_name(f)] = 0;
  c.control("/_sim/faults", off);
  json::array outcomes;
  auto list = c.get("/api/v2/calls?limit=100").data();
  for (const auto& call : list.at("calls").as_array()) {
    auto v = sim_call(c, s(call, "/call_id")).as_object();
    for (const char* wall : {"created_at", "started_at", "ended_at"}) v.erase(wall);
    auto session = c.get("/api/v2/sessions/" + s(call, "/session_id")).data().as_object();
    for (auto& turn : session["transcript"].as_array()) turn.as_object().erase("timestamp");
    v["transcript"] = session["transcript"];
    v["extraction"] = session["extraction"];
    v["credits_used"] = session["credits_used"];
    outcomes.push_back(v);
  }
  return {json::serialize(outcomes), c.get("/_sim/stats").body};
}

// The same seed and scenario give byte-identical outcomes (status, disposition, durations,
// credits, transcript, extraction, ids) and stats; another seed gives different ones.
TEST(SimLifecycle, SameSeedSameOutcomesAndStats) {
  auto a = run_scenario(7);
  auto b = run_scenario(7);
  auto other = run_scenario(8);
  ASSERT_FALSE(a.first.empty());
  EXPECT_EQ(a.first, b.first);
  EXPECT_EQ(a.second, b.second);
  EXPECT_NE(a.first, other.first);
  EXPECT_NE(a.second, other.second);
}

// 1,000 calls are active at once (the next start is refused), then end together: every
// session.completed is delivered through the bounded queue and the connection cap.
TEST(SimLifecycle, ThousandActiveCallsEndingTogether) {
  WebhookReceiver receiver;
  auto o = base_options();
  o.time_scale = 1e-6;
  o.calls_per_minute = 1'000'000;
  o.concurrency_limit = 1000;
  o.webhook_connections = 16;
  o.webhooks = {{receiver.url(), "whsec_load"}};
  auto sim = start_sim(o);
  ASSERT_TRUE(sim);
  TestClient c(sim->port(), kKey, true);
  for (int i = 0; i < 1000; ++i) {
    ASSERT_EQ(c.start("+91981" + std::to_string(1'000'000 + i)).status, 200) << i;
  }
  EXPECT_EQ(c.start("+919820000000").error_message(), "Concurrency limit reached");
  auto st = c.stats();
  EXPECT_EQ(u(st, "/active"), 1000u);
  EXPECT_EQ(u(st, "/max_concurrent"), 1000u);
  c.control("/_sim/advance", json::object{{"by", "1d"}});
  ASSERT_TRUE(receiver.wait_for(1000));
  ASSERT_TRUE(wait_until([&] { return u(c.stats(), "/webhooks/pending") == 0; }));
  st = c.stats();
  EXPECT_EQ(u(st, "/calls_ended"), 1000u);
  EXPECT_EQ(u(st, "/webhooks/sent"), 1000u);
  EXPECT_EQ(u(st, "/webhooks/delivered"), 1000u);
  EXPECT_EQ(u(st, "/webhooks/failed"), 0u);
  std::set<std::string> sessions;
  for (const auto& a : receiver.arrivals()) sessions.insert(a.session_id);
  EXPECT_EQ(sessions.size(), 1000u);
  EXPECT_EQ(u(st, "/limit_violations"), 0u);
}

}  // namespace
}  // namespace dialer::sim::test
