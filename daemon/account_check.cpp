#include "daemon/account_check.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <map>

namespace dialer::daemon {
namespace json = boost::json;

namespace {

constexpr Provider kApiDefault = Provider::mcube;
/// Agents asked about per check: the general bucket allows 60 requests a minute.
constexpr std::size_t kMaxAgents = 20;

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string join(const std::vector<std::string>& v, std::string_view sep = ", ") {
  std::string out;
  for (const auto& s : v) {
    if (!out.empty()) out += sep;
    out += s;
  }
  return out;
}

std::string credits_text(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.2f", v);
  return buf;
}

/// "the API could not be asked: …" for a failed request.
std::string failure_text(const api::ApiError& e) {
  return e.describe();
}

std::vector<std::string> campaigns_using(const std::vector<CampaignNeeds>& cs, Provider p) {
  std::vector<std::string> out;
  for (const auto& c : cs) {
    const bool uses = c.providers.empty() ? p == kApiDefault
                                          : std::find(c.providers.begin(), c.providers.end(), p) !=
                                                c.providers.end();
    if (uses) out.push_back(c.name);
  }
  return out;
}

bool account_active(std::string_view status) {
  const auto s = lower(status);
  return s == "approved" || s == "active";
}

}  // namespace

json::object to_json(const CheckRow& row) {
  return {{"check", row.check}, {"ok", row.ok}, {"detail", row.detail}, {"fix", row.fix}};
}

std::vector<Provider> providers_used(const std::vector<CampaignNeeds>& campaigns) {
  std::vector<Provider> out;
  auto add = [&](Provider p) {
    if (std::find(out.begin(), out.end(), p) == out.end()) out.push_back(p);
  };
  for (const auto& c : campaigns) {
    if (c.providers.empty()) add(kApiDefault);
    for (Provider p : c.providers) add(p);
  }
  return out;
}

std::vector<CheckRow> account_rows(const api::ApiResult<api::AccountConfig>& config,
                                   const CheckInputs& in) {
  std::vector<CheckRow> rows;
  if (!config) {
    const auto& e = config.error();
    if (e.reason == api::Reason::auth) {
      rows.push_back(
          {"api key", false, "refused by " + in.api_url + ": " + failure_text(e),
           "put a valid key in vocobase.api_key_file (or $CREDENTIALS_DIRECTORY/api-key), "
           "then `dialerctl config reload`"});
    } else if (e.reason == api::Reason::account) {
      rows.push_back({"api key", true, "accepted by " + in.api_url, ""});
      rows.push_back({"account", false, "refused: " + failure_text(e),
                      "ask Vocobase why the account is refused (suspended, not approved)"});
    } else {
      rows.push_back({"api key", false,
                      "cannot ask " + in.api_url + ": " + failure_text(e) + " (key not checked)",
                      "check vocobase.base_url, the network and the API's status; run the check "
                      "again"});
    }
    return rows;
  }
  rows.push_back({"api key", true, "accepted by " + in.api_url, ""});
  const auto& c = *config;
  const std::string who = c.name.empty() ? std::string("the account") : "account " + c.name;
  if (account_active(c.status)) {
    rows.push_back({"account", true, who + " is " + c.status, ""});
  } else {
    rows.push_back(
        {"account", false,
         who + " status is '" + (c.status.empty() ? "(none)" : c.status) + "', not approved/active",
         "ask Vocobase to activate the account"});
  }
  return rows;
}

std::vector<CheckRow> provider_rows(const api::AccountConfig& config, const CheckInputs& in,
                                    const std::vector<api::LegacyConnection>* legacy) {
  std::vector<CheckRow> rows;
  for (Provider p : providers_used(in.campaigns)) {
    const std::string name(to_string(p));
    const auto users = campaigns_using(in.campaigns, p);
    const std::string used_by = users.empty() ? std::string() : " (used by " + join(users) + ")";
    CheckRow row{"provider " + name, false, "", ""};
    const bool allowed = std::find(config.allowed_providers.begin(), config.allowed_providers.end(),
                                   name) != config.allowed_providers.end();
    const auto t = config.telephony.find(name);
    const bool configured = t != config.telephony.end() && t->second.configured;
    if (!allowed) {
      row.detail = "not in the account's allowed_telephony_providers (" +
                   (config.allowed_providers.empty() ? std::string("none")
                                                     : join(config.allowed_providers)) +
                   ")" + used_by;
      row.fix = "ask Vocobase to allow " + name + " for this account, or take it out of " +
                (users.empty() ? std::string("the campaign") : join(users)) +
                " (dialerctl campaign update NAME --provider …)";
    } else if (!configured) {
      row.detail = "allowed but not configured" + used_by;
      row.fix = "configure " + name + " (credentials and from number) in the Vocobase dashboard";
      if (legacy != nullptr) {
        std::vector<std::string> same;
        for (const auto& l : *legacy) {
          if (lower(l.provider) == name) same.push_back(l.id.empty() ? l.provider : l.id);
        }
        if (!same.empty()) {
          row.detail += "; a legacy BYOP connection exists (" + join(same) +
                        ", /api/telephony/connections), which /calls/start does not use";
          row.fix = "set " + name + " up again under the v2 telephony settings";
        }
      }
    } else {
      row.ok = true;
      row.detail = t->second.from_number.empty()
                       ? "allowed and configured (no from_number shown)"
                       : "allowed and configured, from " + t->second.from_number;
      row.detail += used_by;
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

CheckRow credit_row(const api::AccountConfig& config, const CheckInputs& in) {
  if (!config.credit_balance) {
    return {"credits", true,
            "balance not found at " + in.credit_pointer +
                " in GET /config (dialerd learns of "
                "exhaustion from refused starts)",
            "set vocobase.credit_balance_pointer to where GET /config holds the balance"};
  }
  const double b = *config.credit_balance;
  if (b < in.min_credit_balance || b <= 0) {
    return {"credits", false,
            credits_text(b) + " credits, below vocobase.min_credit_balance " +
                credits_text(in.min_credit_balance),
            "top up the account"};
  }
  return {"credits", true, credits_text(b) + " credits (read at " + in.credit_pointer + ")", ""};
}

CheckRow concurrency_row(const CheckInputs& in) {
  if (in.unlimited) {
    return {
        "concurrency", true,
        "unlimited (limit null): campaigns' max_concurrency apply, source " + in.concurrency_source,
        ""};
  }
  std::string detail = std::to_string(in.concurrency_limit) + " calls at once";
  if (in.concurrency_source == "default") {
    detail += " (the documented default; GET /calls/concurrency is read once dialling starts)";
  } else if (!in.concurrency_source.empty()) {
    detail += ", source " + in.concurrency_source;
  }
  return {"concurrency", in.concurrency_limit > 0, detail,
          in.concurrency_limit > 0 ? "" : "ask Vocobase to raise the concurrency limit"};
}

CheckRow agent_row(const std::string& agent_id, const std::vector<std::string>& campaigns,
                   const api::ApiResult<std::string>& answer) {
  CheckRow row{"agent " + agent_id, false, "", ""};
  const std::string used = " (used by " + join(campaigns) + ")";
  if (answer) {
    row.ok = true;
    row.detail = (answer->empty() ? std::string("exists") : "exists: " + *answer) + used;
  } else if (answer.error().http_status == 404) {
    row.detail = "not found (deleted agents are not listed)" + used;
    row.fix = "dialerctl campaign update " +
              (campaigns.empty() ? std::string("NAME") : campaigns.front()) +
              " --agent UUID (an existing agent)";
  } else {
    row.detail = "could not be asked: " + failure_text(answer.error()) + used;
    row.fix = "run the check again";
  }
  return row;
}

std::vector<CheckRow> webhook_rows(
    const api::ApiResult<std::vector<api::WebhookEndpointInfo>>& list, const CheckInputs& in) {
  std::vector<CheckRow> rows;
  CheckRow row{"webhook endpoint", false, "", ""};
  if (in.public_url.empty()) {
    row.detail = "webhook.public_url is not set: cannot tell which endpoint is this daemon's";
    row.fix =
        "set webhook.public_url to the URL Vocobase reaches this daemon at, then "
        "`dialerctl webhook register`";
  } else if (!list) {
    row.detail = "cannot list endpoints: " + failure_text(list.error());
    row.fix = "run the check again";
  } else {
    auto norm = [](std::string u) {
      while (!u.empty() && u.back() == '/') u.pop_back();
      return u;
    };
    const api::WebhookEndpointInfo* found = nullptr;
    for (const auto& e : *list) {
      if (norm(e.url) == norm(in.public_url)) {
        found = &e;
        break;
      }
    }
    if (found == nullptr) {
      row.detail = "no endpoint for " + in.public_url + " (" + std::to_string(list->size()) +
                   " other" + (list->size() == 1 ? "" : "s") + " registered)";
      row.fix = "dialerctl webhook register";
    } else {
      const std::string id = "endpoint " + found->id + " for " + found->url;
      if (!found->enabled) {
        row.detail = id + " is disabled";
        row.fix = "enable it in the Vocobase dashboard";
      } else if (!found->last_delivery_status) {
        row.ok = true;
        row.detail = id + ", enabled, no delivery yet";
      } else if (lower(*found->last_delivery_status) == "success" ||
                 lower(*found->last_delivery_status) == "succeeded" ||
                 lower(*found->last_delivery_status) == "delivered") {
        row.ok = true;
        row.detail =
            id + ", enabled, last delivery " + found->last_delivery_at.value_or("") + " succeeded";
      } else {
        row.detail = id + ", enabled, but the last delivery" +
                     (found->last_delivery_at ? " at " + *found->last_delivery_at : std::string()) +
                     " was '" + *found->last_delivery_status + "'";
        row.fix =
            "check that the URL reaches this daemon and that its secret is the one dialerd "
            "holds (`dialerctl status`: refused deliveries and why); `dialerctl webhook "
            "rotate` mints a secret dialerd keeps";
      }
    }
  }
  rows.push_back(std::move(row));
  if (!in.have_secret) {
    rows.push_back({"webhook secret", false,
                    "no signing secret: every delivery is refused and outcomes are polled",
                    "`dialerctl webhook register` (or `webhook rotate` for an endpoint made in the "
                    "dashboard), or set webhook.secrets_file"});
  }
  return rows;
}

std::vector<CheckRow> voicelink_rows(const api::ApiResult<api::VoicelinkReadiness>& answer) {
  std::vector<CheckRow> rows;
  if (!answer) {
    rows.push_back({"voicelink", false,
                    "readiness could not be read: " + failure_text(answer.error()),
                    "fix what the message says (with several VoiceLink connections the sync "
                    "needs a connection_id), then run the check again"});
    return rows;
  }
  for (const auto& w : answer->warnings) {
    if (w == "FETCH_FAILED" || w == "TRUNCATED") {
      rows.push_back({"voicelink", false,
                      "readiness suppressed by the API (" + w + "): not guessed",
                      "run the check again later; VoiceLink could not list every DID"});
      return rows;
    }
  }
  if (answer->readiness.empty()) {
    rows.push_back({"voicelink", false, "no DID on the VoiceLink connection",
                    "add a DID to the VoiceLink connection"});
    return rows;
  }
  for (const auto& d : answer->readiness) {
    CheckRow row{"voicelink DID +" + d.key, d.state == "READY", d.state, ""};
    std::vector<std::string> labels;
    for (const auto& a : d.action_items) labels.push_back(a.label.empty() ? a.code : a.label);
    if (!labels.empty()) row.fix = join(labels, "; ");
    if (!row.ok && row.fix.empty())
      row.fix = "see the DID in the VoiceLink settings (" + d.state + ")";
    rows.push_back(std::move(row));
  }
  return rows;
}

boost::asio::awaitable<std::vector<CheckRow>> run_account_check(api::VocobaseClient& client,
                                                                CheckInputs in) {
  std::vector<CheckRow> rows;
  auto config = co_await client.get_config();
  auto first = account_rows(config, in);
  rows.insert(rows.end(), first.begin(), first.end());
  if (!config) {
    rows.push_back(concurrency_row(in));
    co_return rows;
  }

  // Agents, each once, with the campaigns that use it.
  std::map<std::string, std::vector<std::string>> agents;
  for (const auto& c : in.campaigns) agents[lower(c.agent_id)].push_back(c.name);
  std::size_t asked = 0;
  for (const auto& [agent, users] : agents) {
    if (asked++ == kMaxAgents) {
      rows.push_back({"agents", true,
                      std::to_string(agents.size() - kMaxAgents) + " more agents not asked about",
                      ""});
      break;
    }
    auto answer = co_await client.get_agent(agent);
    rows.push_back(agent_row(agent, users, answer));
  }
  if (in.campaigns.empty()) {
    rows.push_back({"campaigns", true,
                    "no campaign that may dial: providers and agents of "
                    "campaigns are checked once one exists",
                    ""});
  }

  // Providers; the legacy list only to explain a provider that is allowed but not configured.
  const auto used = providers_used(in.campaigns);
  bool unconfigured = false;
  for (Provider p : used) {
    const std::string name(to_string(p));
    const auto t = config->telephony.find(name);
    if (t == config->telephony.end() || !t->second.configured) unconfigured = true;
  }
  std::optional<std::vector<api::LegacyConnection>> legacy;
  if (unconfigured) {
    if (auto l = co_await client.legacy_connections()) legacy = std::move(*l);
  }
  auto prov = provider_rows(*config, in, legacy ? &*legacy : nullptr);
  rows.insert(rows.end(), prov.begin(), prov.end());

  const bool voicelink_used =
      std::find(used.begin(), used.end(), Provider::voicelink) != used.end();
  const auto vl = config->telephony.find("voicelink");
  if (voicelink_used || (vl != config->telephony.end() && vl->second.configured)) {
    auto readiness = co_await client.voicelink_readiness();
    auto v = voicelink_rows(readiness);
    rows.insert(rows.end(), v.begin(), v.end());
  }

  auto hooks = co_await client.list_webhooks();
  auto w = webhook_rows(hooks, in);
  rows.insert(rows.end(), w.begin(), w.end());
  rows.push_back(concurrency_row(in));
  rows.push_back(credit_row(*config, in));
  co_return rows;
}

boost::asio::awaitable<PreflightResult> start_preflight(api::VocobaseClient& client,
                                                        CampaignNeeds c) {
  PreflightResult out;
  auto agent = co_await client.get_agent(c.agent_id);
  if (!agent && agent.error().http_status == 404) {
    out.refusal = agent_row(c.agent_id, {c.name}, agent);
    co_return out;
  }
  auto config = co_await client.get_config();
  if (!config) co_return out;  // not asked: the scheduler copes with what starts answer
  out.config = *config;
  CheckInputs in;
  in.campaigns.push_back(c);
  auto rows = provider_rows(*config, in, nullptr);
  std::vector<CheckRow> failing;
  bool any_usable = false;
  for (auto& r : rows) {
    if (r.check == "provider voicelink" && r.ok) {
      // Usable only with a DID that is READY.
      auto readiness = co_await client.voicelink_readiness();
      auto dids = voicelink_rows(readiness);
      const bool ready =
          std::any_of(dids.begin(), dids.end(), [](const CheckRow& d) { return d.ok; });
      if (readiness && !ready) {
        r.ok = false;
        r.detail = "configured, but no VoiceLink DID is READY (" + dids.front().detail + ")";
        r.fix = dids.front().fix;
      }
    }
    if (r.ok) {
      any_usable = true;
    } else {
      failing.push_back(r);
    }
  }
  if (!any_usable && !failing.empty()) {
    out.refusal = failing.front();
  } else {
    out.warnings = std::move(failing);
  }
  co_return out;
}

}  // namespace dialer::daemon
