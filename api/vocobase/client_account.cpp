// VocobaseClient's account set-up endpoints (account-check, webhook register|rotate): webhooks,
// agents, VoiceLink readiness and the legacy telephony connections.

#include "api/vocobase/client.hpp"
#include "api/vocobase/client_impl.hpp"

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

namespace dialer::api {

using vocobase_detail::encode_segment;

asio::awaitable<ApiResult<std::vector<WebhookEndpointInfo>>> VocobaseClient::list_webhooks() {
  co_return co_await impl_->call<std::vector<WebhookEndpointInfo>>(
      Endpoint::account_setup, http::verb::get, "/config/webhooks", {}, Priority::poll,
      [](std::string_view b) { return parse_webhook_list(b); });
}

asio::awaitable<ApiResult<WebhookSecretGrant>> VocobaseClient::create_webhook(std::string label,
                                                                              std::string url) {
  std::string body = boost::json::serialize(boost::json::object{{"label", label}, {"url", url}});
  co_return co_await impl_->call<WebhookSecretGrant>(
      Endpoint::account_setup, http::verb::post, "/config/webhooks", std::move(body),
      Priority::poll, [](std::string_view b) { return parse_webhook_grant(b); });
}

asio::awaitable<ApiResult<WebhookSecretGrant>> VocobaseClient::rotate_webhook_secret(
    std::string id) {
  if (id.empty()) co_return ApiError(Reason::validation, "empty webhook endpoint id");
  co_return co_await impl_->call<WebhookSecretGrant>(
      Endpoint::account_setup, http::verb::post,
      "/config/webhooks/" + encode_segment(id) + "/rotate-secret", "{}", Priority::poll,
      [](std::string_view b) { return parse_webhook_grant(b); });
}

asio::awaitable<ApiResult<std::string>> VocobaseClient::get_agent(std::string agent_id) {
  if (agent_id.empty()) co_return ApiError(Reason::validation, "empty agent id");
  co_return co_await impl_->call<std::string>(
      Endpoint::account_setup, http::verb::get, "/agents/" + encode_segment(agent_id), {},
      Priority::poll, [](std::string_view b) { return parse_agent(b); });
}

asio::awaitable<ApiResult<VoicelinkReadiness>> VocobaseClient::voicelink_readiness(
    std::optional<std::string> connection_id) {
  boost::json::object body{{"import_dids", false}};
  if (connection_id) body["connection_id"] = *connection_id;
  co_return co_await impl_->call<VoicelinkReadiness>(
      Endpoint::account_setup, http::verb::post, "/voicelink/sync", boost::json::serialize(body),
      Priority::poll, [](std::string_view b) { return parse_voicelink_readiness(b); });
}

asio::awaitable<ApiResult<std::vector<LegacyConnection>>> VocobaseClient::legacy_connections() {
  co_return co_await impl_->call<std::vector<LegacyConnection>>(
      Endpoint::account_setup, http::verb::get, "^/telephony/connections", {}, Priority::poll,
      [](std::string_view b) { return parse_legacy_connections(b); });
}

}  // namespace dialer::api
