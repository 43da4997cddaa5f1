#pragma once
/// `account-check` (CONTRACT.md): whether this daemon can dial, one row per check
/// `{check, ok, detail, fix}` — the key and the account, each campaign's agent, each provider a
/// campaign uses (allowed, configured, from_number), the webhook endpoint for
/// webhook.public_url, the concurrency limit, the credit balance, VoiceLink DID readiness and
/// legacy BYOP connections. Only general-bucket requests: the /calls/* budget stays for calls.
///
/// The evaluators are pure (rows from API answers) so each rule is tested without a network;
/// run_account_check fetches and evaluates; start_preflight is the part campaign-start runs.

#include "api/vocobase/account_setup.hpp"
#include "api/vocobase/client.hpp"
#include "api/vocobase/models.hpp"
#include "core/enums.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/json/object.hpp>

#include <optional>
#include <string>
#include <vector>

namespace dialer::daemon {

struct CheckRow {
  std::string check;
  bool ok = false;
  std::string detail;
  std::string fix;  ///< what to do; empty when nothing is needed
};
boost::json::object to_json(const CheckRow& row);

/// What one campaign needs from the account.
struct CampaignNeeds {
  std::string name;
  std::string agent_id;
  std::vector<Provider> providers;  ///< empty = the API's default (mcube)
};

struct CheckInputs {
  std::vector<CampaignNeeds> campaigns;  ///< those that may still dial
  std::string api_url;                   ///< for messages (no key)
  std::string public_url;                ///< webhook.public_url ("" = not set)
  std::string credit_pointer;            ///< vocobase.credit_balance_pointer
  double min_credit_balance = 0;
  int concurrency_limit = 0;  ///< the scheduler's view
  std::string concurrency_source;
  bool unlimited = false;           ///< the API said limit null (unlimited)
  bool have_secret = false;         ///< any webhook secret configured or registered
  std::string registered_endpoint;  ///< id dialerd registered itself ("" = none)
};

/// The providers campaigns use (their lists, or the API default), each once, in first-use order.
std::vector<Provider> providers_used(const std::vector<CampaignNeeds>& campaigns);

// --- evaluators (pure) ---------------------------------------------------------------------
/// "api key" and "account" rows; the "api key" row alone when GET /config failed.
std::vector<CheckRow> account_rows(const api::ApiResult<api::AccountConfig>& config,
                                   const CheckInputs& in);
/// One row per provider used. `legacy` (when fetched) explains unconfigured providers.
std::vector<CheckRow> provider_rows(const api::AccountConfig& config, const CheckInputs& in,
                                    const std::vector<api::LegacyConnection>* legacy);
CheckRow credit_row(const api::AccountConfig& config, const CheckInputs& in);
CheckRow concurrency_row(const CheckInputs& in);
CheckRow agent_row(const std::string& agent_id, const std::vector<std::string>& campaigns,
                   const api::ApiResult<std::string>& answer);
/// "webhook endpoint" (and "webhook secret" when the daemon holds none).
std::vector<CheckRow> webhook_rows(
    const api::ApiResult<std::vector<api::WebhookEndpointInfo>>& list, const CheckInputs& in);
/// One row per DID, or one row saying why there is no readiness.
std::vector<CheckRow> voicelink_rows(const api::ApiResult<api::VoicelinkReadiness>& answer);

// --- running them --------------------------------------------------------------------------
/// Every check, in the order above. Run on the client's executor.
boost::asio::awaitable<std::vector<CheckRow>> run_account_check(api::VocobaseClient& client,
                                                                CheckInputs in);

/// What campaign-start checks before it starts `c`: its agent exists and at least one of its
/// providers is usable (VoiceLink: a DID is READY). The failing row when the start must be
/// refused; nullopt when it may start — also when the API could not be asked (an outage does not
/// block a start; the scheduler copes with refused starts). Rows about providers that are not
/// usable while another is are `warnings`.
struct PreflightResult {
  std::optional<CheckRow> refusal;
  std::vector<CheckRow> warnings;
  std::optional<api::AccountConfig> config;  ///< GET /config as read, for the scheduler
};
boost::asio::awaitable<PreflightResult> start_preflight(api::VocobaseClient& client,
                                                        CampaignNeeds c);

}  // namespace dialer::daemon
