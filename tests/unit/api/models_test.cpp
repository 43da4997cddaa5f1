#include "api/vocobase/models.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <gtest/gtest.h>

namespace dialer::api {
namespace {

constexpr std::string_view kWebhook = R"({
  "event": "session.completed",
  "timestamp": "2026-03-15T14:32:08.000Z",
  "data": {
    "session_id": "5f0c2a4e-9a43-4c1e-8f43-2b1c1d7e0a01",
    "agent_id": "0b7c7f5e-1a2b-4c3d-8e9f-001122334455",
    "agent_name": "Reminder",
    "duration_seconds": 42.5,
    "credits_used": 0.71,
    "processing_complete": true,
    "pipeline_completed_at": "2026-03-15T14:32:10.000Z",
    "transcript": [{"role": "assistant", "content": "Hello", "timestamp": 0.4},
                   {"role": "user", "content": "Hi", "timestamp": "2026-03-15T14:31:30.000Z"}],
    "recording_url": "https://example.invalid/r.mp3",
    "variables": {"name": "Asha"},
    "extraction": {"status": "done", "values": {"interested": true}},
    "call": {"call_id": "c-1", "from_number": "+918000000000", "to_number": "+919876543210",
             "direction": "outbound", "status": "completed", "disposition": "voicemail",
             "answered_by": "machine"},
    "some_future_key": {"ignored": [1, 2, 3]}
  }
})";

// A full session.completed body parses into every documented field; extra keys are ignored.
TEST(Models, ParsesWebhookBody) {
  auto ev = parse_session_event(kWebhook);
  ASSERT_TRUE(ev) << ev.error().what();
  EXPECT_EQ(ev->event, "session.completed");
  EXPECT_EQ(ev->timestamp, "2026-03-15T14:32:08.000Z");
  const SessionData& d = ev->data;
  EXPECT_EQ(d.session_id, "5f0c2a4e-9a43-4c1e-8f43-2b1c1d7e0a01");
  EXPECT_EQ(d.agent_name, "Reminder");
  EXPECT_DOUBLE_EQ(d.duration_seconds, 42.5);
  EXPECT_DOUBLE_EQ(d.credits_used, 0.71);
  EXPECT_TRUE(d.processing_complete);
  ASSERT_EQ(d.transcript.size(), 2u);
  EXPECT_EQ(d.transcript[0].content, "Hello");
  EXPECT_EQ(d.transcript[0].timestamp, "0.4");
  EXPECT_EQ(d.variables.at("name").as_string(), "Asha");
  EXPECT_EQ(d.extraction_status, "done");
  EXPECT_TRUE(d.extraction_values.at("interested").as_bool());
  ASSERT_TRUE(d.call);
  EXPECT_EQ(d.call->call_id, "c-1");
  EXPECT_EQ(d.call->status, CallStatus::completed);
  EXPECT_EQ(d.call->disposition, Disposition::voicemail);
  EXPECT_EQ(d.call->answered_by, AnsweredBy::machine);
  EXPECT_EQ(d.call->outcome(), Outcome::voicemail);
}

// The webhook body and GET /sessions/{id} go through one parser and give the same data.
TEST(Models, SessionEndpointSharesTheWebhookParser) {
  const auto doc = boost::json::parse(kWebhook);
  const std::string envelope =
      R"({"success":true,"data":)" + boost::json::serialize(doc.at("data")) + "}";
  auto polled = parse_session(envelope);
  auto pushed = parse_session_event(kWebhook);
  ASSERT_TRUE(polled && pushed);
  EXPECT_EQ(polled->session_id, pushed->data.session_id);
  EXPECT_EQ(polled->call->disposition, pushed->data.call->disposition);
  EXPECT_EQ(polled->transcript.size(), pushed->data.transcript.size());
}

// A never-connected call (null disposition, no transcript, no call block for browser sessions)
// is valid; the outcome falls back to the status.
TEST(Models, MinimalSessionsParse) {
  auto busy = parse_session_event(
      R"({"event":"session.completed","data":{"session_id":"s","duration_seconds":0,
          "transcript":[],"call":{"call_id":"c","status":"busy","disposition":null}}})");
  ASSERT_TRUE(busy) << busy.error().what();
  EXPECT_EQ(busy->data.call->outcome(), Outcome::busy);
  auto browser = parse_session_event(R"({"data":{"session_id":"s2"}})");
  ASSERT_TRUE(browser);
  EXPECT_FALSE(browser->data.call);
}

// Missing data, missing or empty session_id, wrong types and malformed JSON are errors.
TEST(Models, RejectsBrokenWebhookBodies) {
  for (const char* body :
       {"", "{", "[]", "null", R"({"event":"session.completed"})", R"({"data":{}})",
        R"({"data":{"session_id":""}})", R"({"data":{"session_id":7}})", R"({"data":"s"})",
        R"({"data":{"session_id":"s","transcript":{}}})",
        R"({"data":{"session_id":"s","call":[]}})",
        R"({"data":{"session_id":"s","duration_seconds":"long"}})"}) {
    EXPECT_FALSE(parse_session_event(body)) << body;
  }
}

// Unknown enum spellings keep their text and leave the enum empty instead of failing.
TEST(Models, UnknownEnumSpellingsAreKept) {
  auto ev = parse_session_event(
      R"({"data":{"session_id":"s","call":{"status":"QUEUED_V3","answered_by":"robot"}}})");
  ASSERT_TRUE(ev);
  EXPECT_EQ(ev->data.call->status_text, "QUEUED_V3");
  EXPECT_FALSE(ev->data.call->status);
  EXPECT_FALSE(ev->data.call->answered_by);
  EXPECT_FALSE(ev->data.call->outcome());
}

// GET /config: providers lower-cased, telephony map, balance at the default pointer.
TEST(Models, ParsesConfig) {
  auto c = parse_account_config(
      R"({"success":true,"data":{"name":"acme","allowed_telephony_providers":["Twilio","plivo"],
          "telephony":{"twilio":{"configured":true,"from_number":"+1555"},
                       "plivo":{"configured":false}},
          "credit_balance":12.5,"webhooks":[]}})",
      "/data/credit_balance");
  ASSERT_TRUE(c) << c.error().what();
  EXPECT_EQ(c->allowed_providers, (std::vector<std::string>{"twilio", "plivo"}));
  EXPECT_TRUE(c->provider_usable(Provider::twilio));
  EXPECT_FALSE(c->provider_usable(Provider::plivo));   // allowed, not configured
  EXPECT_FALSE(c->provider_usable(Provider::exotel));  // not allowed
  EXPECT_EQ(c->credit_balance, 12.5);
}

// An absent balance is a value (nullopt), not an error; another pointer finds another key.
TEST(Models, CreditBalanceAbsentIsAValue) {
  const std::string body =
      R"({"success":true,"data":{"allowed_telephony_providers":[],"billing":{"credits":"3.25"}}})";
  auto absent = parse_account_config(body, "/data/credit_balance");
  ASSERT_TRUE(absent);
  EXPECT_FALSE(absent->credit_balance);
  auto other = parse_account_config(body, "/data/billing/credits");
  ASSERT_TRUE(other);
  EXPECT_EQ(other->credit_balance, 3.25);
  EXPECT_FALSE(parse_account_config(R"({"success":true,"data":{}})", "/data/credit_balance"));
}

// GET /calls/concurrency: required limit and active; remaining computed when missing.
TEST(Models, ParsesConcurrency) {
  auto c = parse_concurrency(
      R"({"success":true,"data":{"limit":5,"limit_source":"partner","active":2,"remaining":3,
          "statuses_counted":["PENDING","RINGING","IN_PROGRESS"]}})");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->limit, 5);
  EXPECT_EQ(c->remaining, 3);
  EXPECT_EQ(c->statuses_counted.size(), 3u);
  auto no_remaining = parse_concurrency(R"({"success":true,"data":{"limit":5,"active":7}})");
  ASSERT_TRUE(no_remaining);
  EXPECT_EQ(no_remaining->remaining, 0);
  EXPECT_FALSE(parse_concurrency(R"({"success":true,"data":{"limit":5}})"));
  EXPECT_FALSE(parse_concurrency(R"({"success":true,"data":{"limit":"5","active":1}})"));
}

// POST /calls/start answer: call_id and session_id are required.
TEST(Models, ParsesStartedCall) {
  auto s = parse_started_call(
      R"({"success":true,"data":{"call_id":"c","session_id":"s","status":"pending",
          "provider":"twilio","from_number":"+1","to_number":"+2","agent_id":"a"}})");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->call_id, "c");
  EXPECT_EQ(s->session_id, "s");
  EXPECT_FALSE(parse_started_call(R"({"success":true,"data":{"session_id":"s"}})"));
  EXPECT_FALSE(parse_started_call(R"({"success":true})"));
  EXPECT_FALSE(parse_started_call(R"({"success":false,"data":{"call_id":"c","session_id":"s"}})"));
}

// GET /calls page and GET /calls/{id} with its session block.
TEST(Models, ParsesCallListingAndCall) {
  auto page = parse_call_page(
      R"({"success":true,"data":{"total":2,"limit":100,"offset":0,"calls":[
        {"call_id":"c1","agent_id":"a","session_id":"s1","to_number":"+2","status":"in_progress",
         "created_at":"2026-03-15T14:00:00.000Z","started_at":null,"duration_seconds":null},
        {"call_id":"c2","agent_id":"a","to_number":"+3","status":"no_answer",
         "created_at":"2026-03-15T13:00:00Z","ended_at":"2026-03-15T13:01:00Z"}]}})");
  ASSERT_TRUE(page) << page.error().what();
  ASSERT_EQ(page->calls.size(), 2u);
  EXPECT_EQ(page->total, 2);
  EXPECT_EQ(page->calls[0].status, CallStatus::in_progress);
  EXPECT_EQ(page->calls[0].created_at, parse_iso8601("2026-03-15T14:00:00.000Z"));
  EXPECT_FALSE(page->calls[0].duration_seconds);
  EXPECT_EQ(page->calls[1].status, CallStatus::no_answer);

  auto call = parse_call(
      R"({"success":true,"data":{"call_id":"c1","agent_id":"a","to_number":"+2",
          "status":"completed","created_at":"2026-03-15T14:00:00.000Z",
          "session":{"session_id":"s1","credits_used":1.5,"transcript":[]}}})");
  ASSERT_TRUE(call) << call.error().what();
  ASSERT_TRUE(call->session);
  EXPECT_EQ(call->session->credits_used, 1.5);

  // A call without created_at cannot be reconciled: that record is skipped (its number kept,
  // so no absence is proven for it), never the whole page; a page without total says so.
  auto partial = parse_call_page(
      R"({"success":true,"data":{"calls":[{"call_id":"c","agent_id":"a","to_number":"+2",
          "status":"pending"},{"call_id":"c9","agent_id":"a","to_number":"+9","status":null,
          "created_at":"2026-03-15T14:00:00Z"},
          {"call_id":"d","agent_id":"a","to_number":"+3","status":"pending",
          "created_at":"2026-03-15T14:00:00Z"}]}})");
  ASSERT_TRUE(partial) << partial.error().what();
  ASSERT_EQ(partial->calls.size(), 1u);
  EXPECT_EQ(partial->calls[0].call_id, "d");
  EXPECT_EQ(partial->malformed_numbers, (std::vector<std::string>{"+2", "+9"}));
  EXPECT_FALSE(partial->total.has_value());
  EXPECT_FALSE(parse_call_page(R"({"success":true,"data":{"total":0}})"));
}

// The start body carries exactly the four documented keys.
TEST(Models, SerializesStartRequest) {
  StartCallRequest req;
  req.agent_id = "a";
  req.to_number = "+919876543210";
  req.provider = Provider::plivo;
  req.variables["name"] = "Asha";
  const auto v = boost::json::parse(serialize(req)).as_object();
  EXPECT_EQ(v.size(), 4u);
  EXPECT_EQ(v.at("provider").as_string(), "plivo");
  EXPECT_EQ(v.at("variables").at("name").as_string(), "Asha");
}

// Deeply nested input is refused by the depth limit rather than recursing without bound.
TEST(Models, DepthLimit) {
  std::string deep(10'000, '[');
  EXPECT_FALSE(parse_json(deep));
  std::string body = R"({"data":{"session_id":"s","variables":{"x":)" + std::string(100, '[') +
                     std::string(100, ']') + "}}}";
  EXPECT_FALSE(parse_session_event(body));
}

}  // namespace
}  // namespace dialer::api
