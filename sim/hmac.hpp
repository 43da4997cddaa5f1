#pragma once
/// Webhook signing as the service documents it.

#include <string>
#include <string_view>

namespace dialer::sim {

/// Lower-case hex of HMAC-SHA256(secret, timestamp + "." + body) — the part after "sha256=" in
/// X-Webhook-Signature.
std::string webhook_signature(std::string_view secret, std::string_view timestamp,
                              std::string_view body);

}  // namespace dialer::sim
