#pragma once
/// Vocobase webhook signatures (VOCOBASE-API.md "Webhooks", CONTRACT.md "Webhook endpoint"):
/// `X-Webhook-Signature: sha256=<hex>` = HMAC-SHA256(secret, `X-Webhook-Timestamp` + "." + raw
/// body), checked against every configured secret in constant time, with a replay window on the
/// timestamp.

#include "core/time.hpp"

#include <span>
#include <string>
#include <string_view>

namespace dialer::api {

/// Why a delivery did or did not verify. Everything but `ok` is answered 401.
enum class SignatureCheck {
  ok,
  missing_signature,    ///< no X-Webhook-Signature
  missing_timestamp,    ///< no X-Webhook-Timestamp
  malformed_signature,  ///< not "sha256=" + 64 hex digits
  bad_timestamp,        ///< the timestamp is not ISO-8601 (with a replay window in force)
  stale_timestamp,      ///< outside the replay window
  mismatch,             ///< no configured secret produces this signature
};

std::string_view to_string(SignatureCheck c) noexcept;

/// "sha256=<64 lower-case hex>" for a delivery: what Vocobase (and the simulator) send.
std::string sign_webhook(std::string_view secret, std::string_view timestamp,
                         std::string_view body);

/// Verifies a delivery. `tolerance` zero turns the replay window off. Every secret is tried
/// (rotation: up to five endpoints, each with its own secret); comparisons are constant-time.
SignatureCheck verify_webhook(std::span<const std::string> secrets,
                              std::string_view signature_header, std::string_view timestamp_header,
                              std::string_view body, TimePoint now, Millis tolerance);
/// The same, and on `ok` the index in `secrets` of the (first) secret that matched: rotation
/// retires the old secret once the new one verified a delivery.
SignatureCheck verify_webhook(std::span<const std::string> secrets,
                              std::string_view signature_header, std::string_view timestamp_header,
                              std::string_view body, TimePoint now, Millis tolerance,
                              std::size_t& matched_index);

}  // namespace dialer::api
