// The /api/v2 surface over HTTP: envelopes, keys and status codes of every documented rule
// (auth, validation, agents, providers, credits, concurrency, both rate buckets, listing), and
// the /_sim/ controls.
#include "sim_test_support.hpp"

namespace dialer::sim::test {
namespace {

std::string body_of(json::object o) {
  return json::serialize(o);
}

// Every /api/v2 request needs `Authorization: Bearer <known key>`; anything else is 401.
TEST(SimApi, BearerKeyIsChecked) {
  auto sim = start_sim(base_options());
  ASSERT_TRUE(sim);
  TestClient c(sim->port());
  for (const char* auth : {"", "Bearer rg_live_wrong", "Basic cmc6bGl2ZQ==", "Bearer"}) {
    auto r = c.get("/api/v2/config", std::string(auth));
    EXPECT_EQ(r.status, 401) << auth;
    EXPECT_EQ(r.error_code(), "UNAUTHORIZED");
    EXPECT_EQ(r.json().at("success"), false);
  }
  EXPECT_EQ(c.get("/api/v2/config", std::string("bearer ") + kKey).status, 200);
  EXPECT_EQ(c.get("/api/v2/calls").status, 200);
  auto st = c.stats();
  EXPECT_EQ(u(st, "/refused/auth"), 4u);
  EXPECT_EQ(u(st, "/requests/general"), 5u);
  EXPECT_EQ(u(st, "/requests/calls"), 1u);
}

// GET /config carries the documented keys, the configured providers and the balance at
// /data/credit_balance; webhook secrets never appear.
TEST(SimApi, ConfigShape) {
  auto o = base_options();
  o.allowed_providers = {Provider::twilio, Provider::plivo};
  o.configured_providers = {Provider::twilio};
  o.credits = 12.5;
  o.webhooks = {{"http://127.0.0.1:9/hook", "whsec_topsecret"}};
  auto sim = start_sim(o);
  ASSERT_TRUE(sim);
  TestClient c(sim->port());
  auto r = c.get("/api/v2/config");
  ASSERT_EQ(r.status, 200) << r;
  EXPECT_EQ(r.json().at("success"), true);
  auto data = r.data();
  for (const char* key : {"name", "display_name", "status", "allowed_telephony_providers",
                          "telephony", "webhook", "webhooks", "agent_limit", "credit_balance"}) {
    EXPECT_TRUE(data.as_object().contains(key)) << key;
  }
  EXPECT_EQ(data.at("allowed_telephony_providers"), (json::array{"twilio", "plivo"}));
  EXPECT_EQ(data.at_pointer("/telephony/twilio/configured"), true);
  EXPECT_EQ(data.at_pointer("/telephony/plivo/configured"), false);
  EXPECT_DOUBLE_EQ(d(r.json(), "/data/credit_balance"), 12.5);
  EXPECT_EQ(s(data, "/webhooks/0/url"), "http://127.0.0.1:9/hook");
  EXPECT_EQ(r.body.find("whsec_topsecret"), std::string::npos);
  EXPECT_EQ(c.get("/_sim/config").body.find("whsec_topsecret"), std::string::npos);
}

// POST /calls/start answers the documented fields; GET /calls/{id}, GET /sessions/{id} and
// GET /calls/concurrency show the call with their documented keys.
TEST(SimApi, StartAndReadBack) {
  auto o = base_options();
  o.time_scale = 0.001;  // the call stays pending while we look
  auto sim = start_sim(o);
  ASSERT_TRUE(sim);
  TestClient c(sim->port());
  auto r = c.post("/api/v2/calls/start", body_of({{"agent_id", kAgent},
                                                  {"to_number", "+919876543210"},
                                                  {"provider", "twilio"},
                                                  {"variables", json::object{{"name", "Ravi"}}}}));
  ASSERT_EQ(r.status, 200) << r;
  auto data = r.data();
  for (const char* key :
       {"call_id", "session_id", "status", "provider", "from_number", "to_number", "agent_id"}) {
    EXPECT_TRUE(data.as_object().contains(key)) << key;
  }
  EXPECT_EQ(data.at("status"), "pending");
  EXPECT_EQ(data.at("provider"), "twilio");
  EXPECT_EQ(data.at("to_number"), "+919876543210");
  EXPECT_TRUE(is_uuid(s(data, "/call_id")));
  EXPECT_TRUE(is_uuid(s(data, "/session_id")));

  auto call = c.get("/api/v2/calls/" + s(data, "/call_id"));
  ASSERT_EQ(call.status, 200) << call;
  for (const char* key : {"call_id", "agent_id", "session_id", "direction", "from_number",
                          "to_number", "status", "provider", "duration_seconds", "error_message",
                          "started_at", "ended_at", "created_at", "session"}) {
    EXPECT_TRUE(call.data().as_object().contains(key)) << key;
  }
  for (const char* key : {"session_id", "duration_seconds", "credits_used", "transcript",
                          "recording_url", "status", "started_at", "ended_at"}) {
    EXPECT_TRUE(call.data().at("session").as_object().contains(key)) << key;
  }
  EXPECT_EQ(call.data().at("direction"), "outbound");
  EXPECT_TRUE(parse_iso8601(s(call.data(), "/created_at")).has_value());

  auto session = c.get("/api/v2/sessions/" + s(data, "/session_id"));
  ASSERT_EQ(session.status, 200) << session;
  for (const char* key : {"session_id", "agent_id", "agent_name", "duration_seconds",
                          "credits_used", "processing_complete", "pipeline_completed_at",
                          "transcript", "recording_url", "variables", "extraction", "call"}) {
    EXPECT_TRUE(session.data().as_object().contains(key)) << key;
  }
  EXPECT_EQ(session.data().at_pointer("/variables/name"), "Ravi");
  EXPECT_EQ(session.data().at_pointer("/call/status"), "pending");

  auto conc = c.get("/api/v2/calls/concurrency");
  ASSERT_EQ(conc.status, 200);
  EXPECT_EQ(conc.data().at("limit"), 5);
  EXPECT_EQ(conc.data().at("limit_source"), "partner");
  EXPECT_EQ(conc.data().at("active"), 1);
  EXPECT_EQ(conc.data().at("remaining"), 4);
  EXPECT_EQ(conc.data().at("statuses_counted"), (json::array{"PENDING", "RINGING", "IN_PROGRESS"}));

  EXPECT_EQ(c.get("/api/v2/calls/00000000-0000-4000-8000-000000000000").status, 404);
  EXPECT_EQ(c.get("/api/v2/calls/00000000-0000-4000-8000-000000000000").error_code(), "NOT_FOUND");
  EXPECT_EQ(c.get("/api/v2/sessions/nope").status, 404);
}

// Malformed starts are 400 VALIDATION_ERROR naming the field; an unknown agent is 404.
TEST(SimApi, ValidationAndUnknownAgent) {
  auto o = base_options();
  o.agents = {kAgent};
  o.calls_per_minute = 1000;
  auto sim = start_sim(o);
  ASSERT_TRUE(sim);
  TestClient c(sim->port());
  struct Case {
    std::string body;
    std::string field;
  };
  std::vector<Case> cases = {
      {"not json", "body"},
      {"[1,2]", "body"},
      {body_of({{"to_number", "+919876543210"}}), "agent_id"},
      {body_of({{"agent_id", "abc"}, {"to_number", "+919876543210"}}), "agent_id"},
      {body_of({{"agent_id", kAgent}}), "to_number"},
      {body_of({{"agent_id", kAgent}, {"to_number", "9876543210"}}), "to_number"},
      {body_of({{"agent_id", kAgent}, {"to_number", "+0123456789"}}), "to_number"},
      {body_of({{"agent_id", kAgent}, {"to_number", 919876543210}}), "to_number"},
      {body_of({{"agent_id", kAgent}, {"to_number", "+919876543210"}, {"provider", "skype"}}),
       "provider"},
      {body_of({{"agent_id", kAgent}, {"to_number", "+919876543210"}, {"variables", "x"}}),
       "variables"},
  };
  for (const auto& tc : cases) {
    auto r = c.post("/api/v2/calls/start", tc.body);
    EXPECT_EQ(r.status, 400) << tc.body;
    EXPECT_EQ(r.error_code(), "VALIDATION_ERROR") << tc.body;
    EXPECT_NE(r.error_message().find(tc.field == "body" ? "JSON" : tc.field), std::string::npos)
        << r.error_message();
  }
  auto unknown = c.start("+919876543210", "", "11111111-2222-4333-8444-555555555555");
  EXPECT_EQ(unknown.status, 404);
  EXPECT_EQ(unknown.error_code(), "NOT_FOUND");
  EXPECT_EQ(c.start("+919876543210").status, 200);
  auto st = c.stats();
  EXPECT_EQ(u(st, "/refused/validation"), cases.size());
  EXPECT_EQ(u(st, "/refused/not_found"), 1u);
  EXPECT_EQ(u(st, "/calls_started"), 1u);
}

// A provider that is not allowed is 403 FORBIDDEN ("not enabled"); allowed but not configured
// is 400 ("not configured"); an absent provider means mcube.
TEST(SimApi, ProvidersAllowedAndConfigured) {
  auto o = base_options();
  o.allowed_providers = {Provider::twilio, Provider::plivo};
  o.configured_providers = {Provider::twilio, Provider::plivo};
  o.calls_per_minute = 1000;
  auto sim = start_sim(o);
  ASSERT_TRUE(sim);
  TestClient c(sim->port());
  auto mcube = c.start("+919876543210");
  EXPECT_EQ(mcube.status, 403);
  EXPECT_EQ(mcube.error_code(), "FORBIDDEN");
  EXPECT_NE(mcube.error_message().find("not enabled"), std::string::npos);
  EXPECT_EQ(c.start("+919876543210", "exotel").status, 403);
  EXPECT_EQ(c.start("+919876543210", "Twilio").status, 200);

  c.control("/_sim/providers", json::object{{"allowed", json::array{"twilio", "plivo"}},
                                            {"configured", json::array{"twilio"}}});
  auto plivo = c.start("+919876543211", "plivo");
  EXPECT_EQ(plivo.status, 400);
  EXPECT_EQ(plivo.error_code(), "VALIDATION_ERROR");
  EXPECT_NE(plivo.error_message().find("not configured"), std::string::npos);
  EXPECT_EQ(c.get("/api/v2/config").data().at_pointer("/telephony/plivo/configured"), false);
  auto st = c.stats();
  EXPECT_EQ(u(st, "/refused/provider"), 3u);
  EXPECT_EQ(u(st, "/calls_started"), 1u);
}

// The 11th /calls/* request (start, list, get, concurrency alike) in a minute gets 429
// "Rate limit exceeded"; the general bucket and other keys are unaffected.
TEST(SimApi, CallsBucketRefusesEleventhRequest) {
  auto o = base_options();
  o.api_keys = {kKey, "rg_live_other"};
  o.time_scale = 0.001;
  o.concurrency_limit = 100;
  auto sim = start_sim(o);
  ASSERT_TRUE(sim);
  TestClient c(sim->port());
  std::string id;
  for (int i = 0; i < 10; ++i) {
    HttpResult r;
    switch (i % 4) {
      case 0:
        r = c.start("+91987654321" + std::to_string(i % 10));
        if (r.status == 200) id = s(r.data(), "/call_id");
        break;
      case 1:
        r = c.get("/api/v2/calls?limit=5");
        break;
      case 2:
        r = c.get("/api/v2/calls/concurrency");
        break;
      default:
        r = c.get("/api/v2/calls/" + id);
        break;
    }
    EXPECT_EQ(r.status, 200) << i << " " << r;
  }
  auto eleventh = c.get("/api/v2/calls/concurrency");
  EXPECT_EQ(eleventh.status, 429);
  EXPECT_EQ(eleventh.error_code(), "LIMIT_REACHED");
  EXPECT_EQ(eleventh.error_message(), "Rate limit exceeded");
  EXPECT_EQ(c.start("+919876543219").status, 429);
  EXPECT_EQ(c.get("/api/v2/config").status, 200);
  EXPECT_EQ(c.get("/api/v2/sessions/whatever").status, 404);  // general bucket, not refused
  TestClient other(sim->port(), "rg_live_other");
  EXPECT_EQ(other.get("/api/v2/calls/concurrency").status, 200);
  auto st = c.stats();
  EXPECT_EQ(u(st, "/refused/rate_calls"), 2u);
  EXPECT_EQ(u(st, "/refused/rate_general"), 0u);
  EXPECT_EQ(u(st, "/requests/calls"), 13u);
  EXPECT_EQ(u(st, "/requests/general"), 2u);
}

// The 61st non-/calls request in a minute gets 429; /calls/* has its own budget.
TEST(SimApi, GeneralBucketRefusesSixtyFirstRequest) {
  auto sim = start_sim(base_options());
  ASSERT_TRUE(sim);
  TestClient c(sim->port(), kKey, true);
  for (int i = 0; i < 60; ++i) ASSERT_EQ(c.get("/api/v2/config").status, 200) << i;
  auto r = c.get("/api/v2/config");
  EXPECT_EQ(r.status, 429);
  EXPECT_EQ(r.error_message(), "Rate limit exceeded");
  EXPECT_EQ(c.get("/api/v2/calls/concurrency").status, 200);
  EXPECT_EQ(u(c.stats(), "/refused/rate_general"), 1u);
}

// The rate window is 60 s of real time unless --scale-rate-window makes it 60 s of simulated
// time; a refused client is admitted again once the window slid past its requests.
TEST(SimApi, RateWindowScalesOnlyWhenAsked) {
  for (bool scaled : {false, true}) {
    auto o = base_options();
    o.time_scale = 0.001;  // simulated time only moves by /_sim/advance here
    o.scale_rate_window = scaled;
    auto sim = start_sim(o);
    ASSERT_TRUE(sim);
    TestClient c(sim->port(), kKey, true);
    for (int i = 0; i < 10; ++i) ASSERT_EQ(c.get("/api/v2/calls").status, 200);
    ASSERT_EQ(c.get("/api/v2/calls").status, 429);
    c.control("/_sim/advance", json::object{{"by", "61s"}});
    EXPECT_EQ(c.get("/api/v2/calls").status, scaled ? 200 : 429) << "scaled=" << scaled;
  }
}

// Another integration's calls on the account (POST /_sim/foreign): listed in GET /calls,
// counted in concurrency, never in the referee's per-number statistics; they take free slots
// only (the service refuses them too), are topped up as slots free, and the oldest end when
// the count is lowered.
TEST(SimApi, ForeignCallsShareTheAccount) {
  auto o = base_options();
  o.time_scale = 0.001;
  o.concurrency_limit = 5;
  o.calls_per_minute = 1000;
  auto sim = start_sim(o);
  ASSERT_TRUE(sim);
  TestClient c(sim->port());
  auto set = c.control("/_sim/foreign", json::object{{"active", 2}});
  EXPECT_EQ(set.at("active"), 2);
  auto conc = c.get("/api/v2/calls/concurrency").data();
  EXPECT_EQ(conc.at("active"), 2);
  EXPECT_EQ(conc.at("remaining"), 3);
  auto list = c.get("/api/v2/calls").data();
  ASSERT_EQ(list.at("total"), 2);
  EXPECT_EQ(s(list, "/calls/0/status"), "in_progress");
  EXPECT_NE(s(list, "/calls/0/agent_id"), kAgent);
  auto foreign_id = s(list, "/calls/1/call_id");
  EXPECT_EQ(c.get("/api/v2/calls/" + foreign_id).status, 200);

  for (int i = 1; i <= 3; ++i) EXPECT_EQ(c.start("+91980000000" + std::to_string(i)).status, 200);
  auto refused = c.start("+919800000004");
  EXPECT_EQ(refused.status, 429);
  EXPECT_EQ(refused.error_message(), "Concurrency limit reached");

  // Raising the count with no free slot: the extra one waits for a slot.
  set = c.control("/_sim/foreign", json::object{{"active", 3}});
  EXPECT_EQ(set.at("active"), 2);
  c.control("/_sim/advance", json::object{{"by", "1d"}});  // our calls end, foreign ones do not
  conc = c.get("/api/v2/calls/concurrency").data();
  EXPECT_EQ(conc.at("active"), 3) << "the freed slots were taken by the third foreign call";

  // Lowering ends the oldest first.
  set = c.control("/_sim/foreign", json::object{{"active", 0}});
  EXPECT_EQ(set.at("active"), 0);
  EXPECT_EQ(c.get("/api/v2/calls/concurrency").data().at("active"), 0);
  EXPECT_EQ(s(c.get("/api/v2/calls/" + foreign_id).data(), "/status"), "completed");

  auto st = c.stats();
  EXPECT_EQ(u(st, "/calls_started"), 3u);
  EXPECT_EQ(st.at("numbers").as_object().size(), 3u);
  EXPECT_EQ(u(st, "/foreign/started"), 3u);
  EXPECT_GE(u(st, "/foreign/waited_for_a_slot"), 1u);
  EXPECT_EQ(u(st, "/max_concurrent"), 5u);
  EXPECT_EQ(u(st, "/limit_violations"), 0u);
  EXPECT_EQ(c.post("/_sim/foreign", R"({"active": -1})").status, 400);
}

// Starts beyond the concurrency limit get 429 "Concurrency limit reached"; freed slots admit
// again; lowering the limit under the active calls counts a limit violation.
TEST(SimApi, ConcurrencyLimit) {
  auto o = base_options();
  o.time_scale = 0.001;
  o.concurrency_limit = 2;
  o.calls_per_minute = 1000;
  auto sim = start_sim(o);
  ASSERT_TRUE(sim);
  TestClient c(sim->port());
  EXPECT_EQ(c.start("+919800000001").status, 200);
  EXPECT_EQ(c.start("+919800000002").status, 200);
  auto third = c.start("+919800000003");
  EXPECT_EQ(third.status, 429);
  EXPECT_EQ(third.error_code(), "LIMIT_REACHED");
  EXPECT_EQ(third.error_message(), "Concurrency limit reached");
  auto conc = c.get("/api/v2/calls/concurrency").data();
  EXPECT_EQ(conc.at("active"), 2);
  EXPECT_EQ(conc.at("remaining"), 0);

  c.control("/_sim/concurrency", json::object{{"limit", 1}});
  EXPECT_EQ(u(c.stats(), "/limit_violations"), 1u);
  c.control("/_sim/advance", json::object{{"by", "1d"}});  // every call ends
  EXPECT_EQ(c.get("/api/v2/calls/concurrency").data().at("active"), 0);
  EXPECT_EQ(c.start("+919800000003").status, 200);
  EXPECT_EQ(c.start("+919800000004").status, 429);
  auto st = c.stats();
  EXPECT_EQ(u(st, "/refused/concurrency"), 2u);
  EXPECT_EQ(u(st, "/max_concurrent"), 2u);
  EXPECT_EQ(u(st, "/calls_started"), 3u);
  EXPECT_EQ(u(st, "/numbers/+919800000001/calls"), 1u);
}

// Billing: 1 credit per minute, per second of talk, at session end; unanswered calls are free;
// at a balance <= 0 starts are refused with 403 "Insufficient credits" until topped up.
TEST(SimApi, CreditsAndBilling) {
  auto o = base_options();
  o.time_scale = 0.001;
  o.credits = 2;
  o.calls_per_minute = 1000;
  o.script["+919800000001"] = {{Disposition::completed, Millis{90'000}}};
  o.script["+919800000002"] = {{Disposition::busy, std::nullopt},
                               {Disposition::voicemail, Millis{61'000}}};
  auto sim = start_sim(o);
  ASSERT_TRUE(sim);
  TestClient c(sim->port());
  auto first = c.start("+919800000001");
  ASSERT_EQ(first.status, 200);
  EXPECT_EQ(c.start("+919800000002").status, 200);
  c.control("/_sim/advance", json::object{{"by", "1d"}});
  auto st = c.stats();
  EXPECT_DOUBLE_EQ(d(json::value(st), "/credits_spent"), 1.5);
  EXPECT_DOUBLE_EQ(d(json::value(st), "/credit_balance"), 0.5);
  EXPECT_DOUBLE_EQ(d(c.get("/api/v2/config").json(), "/data/credit_balance"), 0.5);
  auto call = c.get("/api/v2/calls/" + s(first.data(), "/call_id")).data();
  EXPECT_EQ(call.at("duration_seconds"), 90);
  EXPECT_DOUBLE_EQ(d(call, "/session/credits_used"), 1.5);

  EXPECT_EQ(c.start("+919800000002").status, 200);  // voicemail, 61 s: balance goes negative
  c.control("/_sim/advance", json::object{{"by", "1d"}});
  st = c.stats();
  EXPECT_DOUBLE_EQ(d(json::value(st), "/credit_balance"), 0.5 - 61.0 / 60.0);
  auto refused = c.start("+919800000003");
  EXPECT_EQ(refused.status, 403);
  EXPECT_EQ(refused.error_code(), "FORBIDDEN");
  EXPECT_EQ(refused.error_message(), "Insufficient credits");
  EXPECT_EQ(u(c.stats(), "/refused/credits"), 1u);

  c.control("/_sim/credits", json::object{{"balance", 3}});
  EXPECT_EQ(c.start("+919800000003").status, 200);
}

// GET /calls lists newest first with limit/offset/status and a total; bad values are 400.
TEST(SimApi, ListingNewestFirst) {
  auto o = base_options();
  o.time_scale = 0.001;
  o.calls_per_minute = 1000;
  o.concurrency_limit = 100;
  for (int i = 1; i <= 5; ++i) {
    o.script["+91980000000" + std::to_string(i)] = {{Disposition::completed, Millis{600'000}}};
  }
  o.script["+919800000002"] = {{Disposition::busy, std::nullopt}};
  auto sim = start_sim(o);
  ASSERT_TRUE(sim);
  TestClient c(sim->port());
  std::vector<std::string> ids;
  for (int i = 1; i <= 5; ++i) {
    auto r = c.start("+91980000000" + std::to_string(i));
    ASSERT_EQ(r.status, 200);
    ids.push_back(s(r.data(), "/call_id"));
  }
  auto all = c.get("/api/v2/calls").data();
  EXPECT_EQ(all.at("total"), 5);
  ASSERT_EQ(all.at("calls").as_array().size(), 5u);
  EXPECT_EQ(s(all, "/calls/0/call_id"), ids[4]);
  EXPECT_EQ(s(all, "/calls/4/call_id"), ids[0]);
  auto page = c.get("/api/v2/calls?limit=2&offset=1").data();
  EXPECT_EQ(page.at("limit"), 2);
  EXPECT_EQ(page.at("offset"), 1);
  ASSERT_EQ(page.at("calls").as_array().size(), 2u);
  EXPECT_EQ(s(page, "/calls/0/call_id"), ids[3]);
  EXPECT_EQ(s(page, "/calls/1/call_id"), ids[2]);

  // Let only the busy call finish: it rings 1-4 s after at most 2.5 s pending.
  c.control("/_sim/advance", json::object{{"by", "7s"}});
  auto busy = c.get("/api/v2/calls?status=busy").data();
  EXPECT_EQ(busy.at("total"), 1);
  EXPECT_EQ(s(busy, "/calls/0/call_id"), ids[1]);
  for (const char* bad : {"limit=0", "limit=101", "limit=x", "offset=-1", "status=done"}) {
    auto r = c.get(std::string("/api/v2/calls?") + bad);
    EXPECT_EQ(r.status, 400) << bad;
    EXPECT_EQ(r.error_code(), "VALIDATION_ERROR");
  }
}

// The /_sim/ controls: faults can be read and set (unknown names refused), and reset returns
// everything to the startup settings.
TEST(SimApi, ControlEndpoints) {
  auto o = base_options();
  o.credits = 10;
  auto sim = start_sim(o);
  ASSERT_TRUE(sim);
  TestClient c(sim->port());
  auto f = c.control("/_sim/faults", json::object{{"slow", 0.5}, {"webhook_drop", 1}});
  EXPECT_EQ(f.at("slow"), json::value(0.5));
  EXPECT_EQ(f.at("webhook_drop"), 1);
  EXPECT_EQ(c.post("/_sim/faults", R"({"explode": 1})").status, 400);
  EXPECT_EQ(c.post("/_sim/faults", R"({"slow": 2})").status, 400);
  EXPECT_EQ(c.post("/_sim/credits", R"({"balance": "lots"})").status, 400);
  EXPECT_EQ(c.post("/_sim/concurrency", R"({"limit": -1})").status, 400);
  EXPECT_EQ(c.post("/_sim/providers", R"({"allowed": ["fax"]})").status, 400);
  EXPECT_EQ(c.get("/_sim/nothing").status, 404);
  c.control("/_sim/credits", json::object{{"balance", 77}});
  EXPECT_EQ(c.start("+919800000001").status, 200);
  c.control("/_sim/reset", json::object{});
  auto st = c.stats();
  EXPECT_EQ(u(st, "/calls_started"), 0u);
  EXPECT_EQ(u(st, "/requests/calls"), 0u);
  EXPECT_DOUBLE_EQ(d(json::value(st), "/credit_balance"), 10);
  EXPECT_EQ(c.get("/_sim/faults").json().at("slow"), 0);
  EXPECT_EQ(c.get("/api/v2/calls").data().at("total"), 0);
}

}  // namespace
}  // namespace dialer::sim::test
