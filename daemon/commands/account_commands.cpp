#include "daemon/commands/account_commands.hpp"

#include "daemon/account_check.hpp"
#include "daemon/admin_args.hpp"
#include "daemon/vocobase_platform.hpp"
#include "store/campaign_repo.hpp"

#include <boost/json/array.hpp>
#include <spdlog/spdlog.h>

namespace dialer::daemon {
namespace json = boost::json;
namespace asio = boost::asio;
using admin::Request;
using admin::Response;
using admin::ResultCode;

namespace {

std::string without_slash(std::string u) {
  while (!u.empty() && u.back() == '/') u.pop_back();
  return u;
}

CampaignNeeds needs_of(const store::CampaignRow& row) {
  return {row.spec.name, row.spec.agent_id, row.spec.providers};
}

bool may_dial(CampaignState s) {
  return s != CampaignState::completed && s != CampaignState::cancelled;
}

Response with(ResultCode code, std::string text, json::object args = {}) {
  Response r;
  r.result = code;
  r.text = std::move(text);
  r.arguments = std::move(args);
  return r;
}

}  // namespace

Result<void> AccountCommands::register_all() {
  using admin::Effect;
  if (auto r = d_.registry.add(
          "account-check",
          "whether this daemon can dial: key, account, agents, providers, webhook endpoint, "
          "concurrency, credits, VoiceLink DIDs — rows {check, ok, detail, fix}",
          Effect::read_only, [this](Request q) { return account_check(std::move(q)); });
      !r) {
    return r;
  }
  if (auto r = d_.registry.add(
          "webhook-register",
          "create the webhook endpoint for webhook.public_url and keep its secret (state dir)",
          Effect::changes_state, [this](Request q) { return webhook_register(std::move(q)); });
      !r) {
    return r;
  }
  return d_.registry.add(
      "webhook-rotate",
      "rotate the endpoint's secret; the old one is accepted until a delivery signed with the new "
      "one arrives (or webhook.rotation_overlap ends)",
      Effect::changes_state, [this](Request q) { return webhook_rotate(std::move(q)); });
}

asio::awaitable<Response> AccountCommands::account_check(Request r) {
  if (auto u = no_arguments(r.arguments, "account-check")) co_return Response::error(*u);
  const auto& cfg = d_.control.config();
  CheckInputs in;
  auto& repo = d_.store.campaigns();
  auto campaigns = repo.list();
  if (!campaigns) co_return Response::error("cannot list campaigns: " + campaigns.error().message);
  for (const auto& c : *campaigns) {
    if (may_dial(c.state)) in.campaigns.push_back(needs_of(c));
  }
  in.api_url = d_.client.base_url();
  in.public_url = cfg.webhook.public_url;
  in.credit_pointer = cfg.vocobase.credit_balance_pointer;
  in.min_credit_balance = cfg.vocobase.min_credit_balance;
  const auto status = d_.scheduler.status();
  in.concurrency_limit = status.slots.limit;
  in.concurrency_source = status.slots.source;
  in.have_secret = d_.secrets.have_secret();
  if (auto reg = d_.secrets.registration()) in.registered_endpoint = reg->endpoint_id;

  auto rows = co_await run_account_check(d_.client, std::move(in));
  json::array out;
  std::vector<std::string> failing;
  for (const auto& row : rows) {
    out.push_back(to_json(row));
    if (!row.ok) failing.push_back(row.check);
  }
  json::object args{{"ok", failing.empty()}, {"rows", std::move(out)}};
  if (failing.empty()) {
    co_return Response::success("every check passed: this daemon can dial", std::move(args));
  }
  std::string names;
  for (const auto& f : failing) names += (names.empty() ? "" : ", ") + f;
  co_return with(ResultCode::conflict,
                 std::to_string(failing.size()) + " of " + std::to_string(rows.size()) +
                     " checks failed: " + names,
                 std::move(args));
}

asio::awaitable<Response> AccountCommands::webhook_register(Request r) {
  if (auto u = no_arguments(r.arguments, "webhook-register")) co_return Response::error(*u);
  const auto& cfg = d_.control.config();
  const std::string url = cfg.webhook.public_url;
  if (url.empty()) {
    co_return Response::error(
        "webhook.public_url is not set: set it to the URL Vocobase posts deliveries to (ending "
        "in " +
        cfg.webhook.path + "), `dialerctl config reload`, then register");
  }
  auto list = co_await d_.client.list_webhooks();
  if (!list) co_return Response::error("cannot list webhook endpoints: " + list.error().describe());
  const auto reg = d_.secrets.registration();
  for (const auto& e : *list) {
    if (without_slash(e.url) != without_slash(url)) continue;
    if (reg && reg->endpoint_id == e.id) {
      co_return Response::conflict("endpoint " + e.id + " for " + url +
                                   " is registered already and its secret is in " +
                                   d_.secrets.registration_file().string() +
                                   "; `dialerctl webhook rotate` mints a new secret");
    }
    co_return Response::conflict(
        "an endpoint for " + url + " exists already (" + e.id +
        ", not made by this daemon): its secret was shown once; `dialerctl webhook rotate` gives "
        "it a new secret this daemon keeps");
  }
  auto label = "dialerd " + without_slash(url);
  if (label.size() > 100) label.resize(100);
  auto grant = co_await d_.client.create_webhook(label, url);
  if (!grant) {
    co_return Response::error("POST /config/webhooks failed: " + grant.error().describe());
  }
  WebhookRegistration next;
  next.endpoint_id = grant->endpoint.id;
  next.url = grant->endpoint.url.empty() ? url : grant->endpoint.url;
  const TimePoint now = d_.clock.now();
  // A registration for an older URL keeps its secrets for the overlap: deliveries to it may
  // still be under way.
  if (reg) next.secrets = reg->secrets;
  next.add(std::move(grant->secret), now, cfg.webhook.rotation_overlap);
  if (auto s = d_.secrets.store_registration(std::move(next)); !s) {
    co_return Response::error("endpoint " + grant->endpoint.id +
                              " was created but its secret could not be kept: " +
                              s.error().message + "; `dialerctl webhook rotate` once fixed");
  }
  spdlog::info("webhook endpoint {} registered for {}; its secret is kept in {}",
               grant->endpoint.id, url, d_.secrets.registration_file().string());
  co_return Response::success(
      "registered endpoint " + grant->endpoint.id + " for " + url + "; its secret is in " +
          d_.secrets.registration_file().string() + " (0600) and in force",
      json::object{{"endpoint_id", grant->endpoint.id},
                   {"url", url},
                   {"secret_file", d_.secrets.registration_file().string()}});
}

asio::awaitable<Response> AccountCommands::webhook_rotate(Request r) {
  if (auto u = no_arguments(r.arguments, "webhook-rotate")) co_return Response::error(*u);
  const auto& cfg = d_.control.config();
  const std::string url = cfg.webhook.public_url;
  const auto reg = d_.secrets.registration();
  if (url.empty() && !reg) {
    co_return Response::error("webhook.public_url is not set and no endpoint is registered");
  }
  auto list = co_await d_.client.list_webhooks();
  if (!list) co_return Response::error("cannot list webhook endpoints: " + list.error().describe());
  const api::WebhookEndpointInfo* target = nullptr;
  for (const auto& e : *list) {
    if ((reg && e.id == reg->endpoint_id) ||
        (!url.empty() && without_slash(e.url) == without_slash(url))) {
      target = &e;
      if (reg && e.id == reg->endpoint_id) break;
    }
  }
  if (target == nullptr) {
    co_return Response::empty("no webhook endpoint for " + (url.empty() ? reg->url : url) +
                              ": `dialerctl webhook register` creates one");
  }
  const std::string id = target->id;
  const std::string ep_url = target->url;
  auto grant = co_await d_.client.rotate_webhook_secret(id);
  if (!grant) {
    co_return Response::error("rotate-secret of endpoint " + id +
                              " failed: " + grant.error().describe());
  }
  WebhookRegistration next;
  if (reg && reg->endpoint_id == id) next = *reg;
  next.endpoint_id = id;
  next.url = ep_url;
  const TimePoint now = d_.clock.now();
  next.add(std::move(grant->secret), now, cfg.webhook.rotation_overlap);
  const auto until = next.next_retirement();
  if (auto s = d_.secrets.store_registration(std::move(next)); !s) {
    co_return Response::error("the secret of endpoint " + id +
                              " was rotated but could not be kept: " + s.error().message +
                              "; run `dialerctl webhook rotate` again once fixed");
  }
  std::string text = "rotated the secret of endpoint " + id + " (" + ep_url + ")";
  json::object args{{"endpoint_id", id},
                    {"url", ep_url},
                    {"secret_file", d_.secrets.registration_file().string()}};
  if (until) {
    text +=
        "; the previous secret is accepted until the first delivery signed with the new one, "
        "at most until " +
        format_iso8601(*until);
    args["previous_accepted_until"] = format_iso8601(*until);
  }
  spdlog::info("webhook endpoint {}: secret rotated{}", id,
               until ? "; the previous one is accepted until a delivery signed with the new one "
                       "arrives, at most until " +
                           format_iso8601(*until)
                     : std::string());
  co_return Response::success(std::move(text), std::move(args));
}

StartCheck AccountCommands::start_check() {
  return [this](store::CampaignRow row) -> asio::awaitable<std::optional<Response>> {
    auto result = co_await start_preflight(d_.client, needs_of(row));
    if (result.config) d_.scheduler.account_seen(to_account_info(*result.config));
    for (const auto& w : result.warnings) {
      spdlog::warn("campaign {}: {}: {}", row.spec.name, w.check, w.detail);
    }
    if (!result.refusal) co_return std::nullopt;
    const auto& f = *result.refusal;
    co_return with(ResultCode::conflict,
                   "campaign " + row.spec.name + " cannot start: " + f.check + ": " + f.detail +
                       (f.fix.empty() ? std::string() : " — " + f.fix),
                   json::object{{"check", to_json(f)}});
  };
}

}  // namespace dialer::daemon
