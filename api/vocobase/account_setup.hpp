#pragma once
/// The account set-up endpoints of the Partner API (VOCOBASE-API.md "Account set-up
/// endpoints"), as plain structs and their parsers: webhook endpoints (list, create, rotate),
/// agents, VoiceLink readiness and legacy BYOP connections. All are general-bucket requests;
/// `account-check` and `webhook register|rotate` use them, the scheduler never does.

#include "core/errc.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dialer::api {

/// One entry of GET /config/webhooks (secrets are never returned there).
struct WebhookEndpointInfo {
  std::string id;
  std::string label;
  std::string url;
  bool enabled = true;
  std::optional<std::string> last_delivery_at;      ///< ISO 8601 as sent
  std::optional<std::string> last_delivery_status;  ///< "success", "failed", … as sent
};

/// POST /config/webhooks and …/rotate-secret: the endpoint and its secret, shown once.
struct WebhookSecretGrant {
  WebhookEndpointInfo endpoint;
  std::string secret;  ///< never logged
};

/// One DID row of POST /voicelink/sync `readiness`.
struct DidReadiness {
  std::string key;    ///< the DID, digits only
  std::string state;  ///< READY, NOT_IMPORTED, NO_CLIENT_MAPPING, …
  struct Action {
    std::string code;
    std::string label;
  };
  std::vector<Action> action_items;
};

/// POST /voicelink/sync {import_dids: false}: read-only readiness.
struct VoicelinkReadiness {
  std::vector<DidReadiness> readiness;
  std::vector<std::string> warnings;  ///< codes: FETCH_FAILED, TRUNCATED (readiness suppressed)
  std::size_t drift = 0;              ///< entries of data.drift
};

/// One legacy BYOP connection (GET /api/telephony/connections, outside /api/v2).
struct LegacyConnection {
  std::string id;
  std::string provider;
  std::string status;
};

/// A whole body `{success, data}` whose `data` is a list of endpoints (or `{webhooks: [...]}`).
Result<std::vector<WebhookEndpointInfo>> parse_webhook_list(std::string_view body);
/// A body whose `data` is an endpoint with `secret` (create, rotate-secret).
Result<WebhookSecretGrant> parse_webhook_grant(std::string_view body);
/// A body whose `data` is the agent: only that it is one is checked.
Result<std::string> parse_agent(std::string_view body);
Result<VoicelinkReadiness> parse_voicelink_readiness(std::string_view body);
/// `data` a list of connections, or `{connections: [...]}`.
Result<std::vector<LegacyConnection>> parse_legacy_connections(std::string_view body);

}  // namespace dialer::api
