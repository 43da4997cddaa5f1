#include "api/webhook/signature.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace dialer::api {
namespace {

using namespace std::chrono_literals;

const std::string kTs = "2026-03-15T14:32:08.000Z";
const TimePoint kNow = *parse_iso8601("2026-03-15T14:33:00.000Z");
const std::vector<std::string> kSecrets{"whsec_primary"};

// The signature is HMAC-SHA256 over "<timestamp>.<body>" keyed with the whole secret string
// (checked against an independently computed vector: openssl dgst -sha256 -hmac).
TEST(WebhookSignature, MatchesKnownVector) {
  // printf '%s' '2026-03-15T14:32:08.000Z.{"a":1}' | openssl dgst -sha256 -hmac whsec_test
  EXPECT_EQ(sign_webhook("whsec_test", kTs, R"({"a":1})"),
            "sha256=e05fc1804a3d9d11d7f0d1edb91b6a7eb607128fba8dd8673d08033ad3faff27");
}

// A delivery signed with a configured secret within the window verifies, in either hex case.
TEST(WebhookSignature, VerifiesValidDelivery) {
  const std::string body = R"({"data":{"session_id":"s"}})";
  const std::string sig = sign_webhook("whsec_primary", kTs, body);
  EXPECT_EQ(verify_webhook(kSecrets, sig, kTs, body, kNow, 5min), SignatureCheck::ok);
  std::string upper = sig;
  for (std::size_t i = 7; i < upper.size(); ++i)
    upper[i] = static_cast<char>(std::toupper(upper[i]));
  EXPECT_EQ(verify_webhook(kSecrets, upper, kTs, body, kNow, 5min), SignatureCheck::ok);
}

// Any secret of the list verifies (rotation, several endpoints).
TEST(WebhookSignature, EverySecretIsTried) {
  const std::vector<std::string> secrets{"whsec_old", "whsec_new"};
  const std::string body = "{}";
  EXPECT_EQ(verify_webhook(secrets, sign_webhook("whsec_new", kTs, body), kTs, body, kNow, 5min),
            SignatureCheck::ok);
  EXPECT_EQ(verify_webhook(secrets, sign_webhook("whsec_old", kTs, body), kTs, body, kNow, 5min),
            SignatureCheck::ok);
  EXPECT_EQ(verify_webhook(secrets, sign_webhook("whsec_other", kTs, body), kTs, body, kNow, 5min),
            SignatureCheck::mismatch);
  EXPECT_EQ(verify_webhook({}, sign_webhook("whsec_old", kTs, body), kTs, body, kNow, 5min),
            SignatureCheck::mismatch);
}

// Tampering with body or timestamp breaks the signature.
TEST(WebhookSignature, TamperingIsDetected) {
  const std::string body = R"({"data":{"session_id":"s"}})";
  const std::string sig = sign_webhook("whsec_primary", kTs, body);
  EXPECT_EQ(verify_webhook(kSecrets, sig, kTs, R"({"data":{"session_id":"t"}})", kNow, 5min),
            SignatureCheck::mismatch);
  EXPECT_EQ(verify_webhook(kSecrets, sig, "2026-03-15T14:32:09.000Z", body, kNow, 5min),
            SignatureCheck::mismatch);
}

// The replay window applies both ways; zero turns it off.
TEST(WebhookSignature, ReplayWindow) {
  const std::string body = "{}";
  const std::string sig = sign_webhook("whsec_primary", kTs, body);
  EXPECT_EQ(verify_webhook(kSecrets, sig, kTs, body, kNow + 10min, 5min),
            SignatureCheck::stale_timestamp);
  EXPECT_EQ(verify_webhook(kSecrets, sig, kTs, body, kNow - 10min, 5min),
            SignatureCheck::stale_timestamp);
  EXPECT_EQ(verify_webhook(kSecrets, sig, kTs, body, kNow + 10min, Millis{0}), SignatureCheck::ok);
  const std::string junk_ts = "yesterday";
  EXPECT_EQ(verify_webhook(kSecrets, sign_webhook("whsec_primary", junk_ts, body), junk_ts, body,
                           kNow, 5min),
            SignatureCheck::bad_timestamp);
}

// Missing or malformed headers are told apart (all answered 401).
TEST(WebhookSignature, MissingAndMalformedHeaders) {
  const std::string body = "{}";
  const std::string sig = sign_webhook("whsec_primary", kTs, body);
  EXPECT_EQ(verify_webhook(kSecrets, "", kTs, body, kNow, 5min), SignatureCheck::missing_signature);
  EXPECT_EQ(verify_webhook(kSecrets, sig, "", body, kNow, 5min), SignatureCheck::missing_timestamp);
  for (const std::string& bad :
       {sig.substr(7), "sha1=" + sig.substr(7), sig + "0", sig.substr(0, sig.size() - 1) + "g"}) {
    EXPECT_EQ(verify_webhook(kSecrets, bad, kTs, body, kNow, 5min),
              SignatureCheck::malformed_signature)
        << bad;
  }
}

}  // namespace
}  // namespace dialer::api
