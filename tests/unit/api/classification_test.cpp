#include "api/vocobase/classification.hpp"

#include <gtest/gtest.h>

namespace dialer::api {
namespace {

using namespace std::chrono_literals;

ApiError classify(int status, std::string_view message, std::string_view code = "") {
  return classify_http_error(status, code, message, std::nullopt);
}

// 429 is concurrency when the message says so (any case), rate otherwise — both rejected.
TEST(Classification, TooManyRequestsRateVersusConcurrency) {
  EXPECT_EQ(classify(429, "Rate limit exceeded").reason, Reason::rate);
  EXPECT_EQ(classify(429, "Concurrency limit reached").reason, Reason::concurrency);
  EXPECT_EQ(classify(429, "too many CONCURRENT calls").reason, Reason::concurrency);
  EXPECT_EQ(classify(429, "").reason, Reason::rate);
  EXPECT_EQ(classify(429, "x").verdict, Verdict::rejected);
}

// 403 splits into credits, provider and account by message, in that order.
TEST(Classification, ForbiddenCreditsProviderAccount) {
  EXPECT_EQ(classify(403, "Insufficient credits").reason, Reason::credits);
  EXPECT_EQ(classify(403, "Balance too low").reason, Reason::credits);
  EXPECT_EQ(classify(403, "Provider plivo is not enabled").reason, Reason::provider);
  EXPECT_EQ(classify(403, "Telephony not enabled for this partner").reason, Reason::provider);
  EXPECT_EQ(classify(403, "Partner account suspended").reason, Reason::account);
  EXPECT_EQ(classify(403, "").reason, Reason::account);
  EXPECT_EQ(classify(403, "Insufficient credits").verdict, Verdict::rejected);
}

// 400 and 404 about to_number mean a bad number; otherwise validation / not found.
TEST(Classification, BadNumberValidationNotFound) {
  EXPECT_EQ(classify(400, "Invalid to_number: must be E.164").reason, Reason::bad_number);
  EXPECT_EQ(classify(404, "to_number not reachable").reason, Reason::bad_number);
  EXPECT_EQ(classify(400, "agent_id must be a UUID").reason, Reason::validation);
  EXPECT_EQ(classify(400, "from_number not configured").reason, Reason::validation);
  EXPECT_EQ(classify(404, "Agent not found").reason, Reason::not_found);
  EXPECT_EQ(classify(400, "x").verdict, Verdict::rejected);
}

// 401 is auth; 409 conflict; other 4xx still definitive rejections.
TEST(Classification, OtherClientErrors) {
  EXPECT_EQ(classify(401, "Invalid API key").reason, Reason::auth);
  EXPECT_EQ(classify(409, "x").reason, Reason::conflict);
  EXPECT_EQ(classify(422, "x").reason, Reason::client_error);
  EXPECT_EQ(classify(422, "x").verdict, Verdict::rejected);
}

// Every 5xx, and any status that is neither success nor error, is ambiguous.
TEST(Classification, ServerErrorsAndOddStatusesAreAmbiguous) {
  for (int s : {500, 502, 503, 504, 599}) {
    EXPECT_EQ(classify(s, "").verdict, Verdict::ambiguous) << s;
    EXPECT_EQ(classify(s, "").reason, Reason::server_error) << s;
  }
  for (int s : {100, 301, 302, 304, 600}) {
    EXPECT_EQ(classify(s, "").verdict, Verdict::ambiguous) << s;
    EXPECT_EQ(classify(s, "").reason, Reason::bad_response) << s;
  }
}

// The error envelope's code and message are read; anything else yields empty strings.
TEST(Classification, ParsesErrorEnvelopeLeniently) {
  std::string code, message;
  parse_error_envelope(R"({"success":false,"error":{"code":"LIMIT_REACHED","message":"m"}})", code,
                       message);
  EXPECT_EQ(code, "LIMIT_REACHED");
  EXPECT_EQ(message, "m");
  parse_error_envelope("<html>502 Bad Gateway</html>", code, message);
  EXPECT_EQ(code, "");
  EXPECT_EQ(message, "");
  parse_error_envelope(R"({"error":"plain text"})", code, message);
  EXPECT_EQ(message, "plain text");
  parse_error_envelope(R"({"error":{"code":5,"message":[]}})", code, message);
  EXPECT_EQ(code, "");
  EXPECT_EQ(message, "");
}

// Retry-After is read as seconds or as an HTTP date relative to now; junk is ignored.
TEST(Classification, ParsesRetryAfter) {
  const TimePoint now = from_unix_ms(784'111'777'000);  // Sun, 06 Nov 1994 08:49:37 GMT
  EXPECT_EQ(parse_retry_after("30", now), Millis{30'000});
  EXPECT_EQ(parse_retry_after(" 0 ", now), Millis{0});
  EXPECT_EQ(parse_retry_after("Sun, 06 Nov 1994 08:50:37 GMT", now), Millis{60'000});
  EXPECT_EQ(parse_retry_after("Sun, 06 Nov 1994 08:40:37 GMT", now), Millis{0});
  EXPECT_FALSE(parse_retry_after("", now));
  EXPECT_FALSE(parse_retry_after("-5", now));
  EXPECT_FALSE(parse_retry_after("soon", now));
  EXPECT_FALSE(parse_retry_after("Sun, 06 Foo 1994 08:50:37 GMT", now));
}

// Every reason belongs to exactly the verdict the table gives it.
TEST(Classification, ReasonsMapToVerdicts) {
  EXPECT_EQ(verdict_of(Reason::none), Verdict::ok);
  for (Reason r : {Reason::timeout_after_write, Reason::connection_lost, Reason::bad_response,
                   Reason::server_error}) {
    EXPECT_EQ(verdict_of(r), Verdict::ambiguous) << to_string(r);
  }
  for (Reason r : {Reason::connect_failed, Reason::timeout_before_write, Reason::write_failed,
                   Reason::queue_full, Reason::queue_timeout, Reason::cancelled}) {
    EXPECT_EQ(verdict_of(r), Verdict::not_sent) << to_string(r);
  }
  const ApiError e(Reason::credits, "Insufficient credits", 403);
  EXPECT_EQ(e.describe(), "rejected/credits (403): Insufficient credits");
}

}  // namespace
}  // namespace dialer::api
