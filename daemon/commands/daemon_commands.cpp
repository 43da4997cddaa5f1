#include "daemon/commands/daemon_commands.hpp"

#include "core/version.hpp"
#include "daemon/admin_args.hpp"
#include "daemon/scheduler_json.hpp"
#include "store/sql/schema.hpp"

#include <boost/json/array.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <unistd.h>
#include <utility>

namespace dialer::daemon {

namespace json = boost::json;
using admin::Request;
using admin::Response;

namespace {

Response version_get(CommandContext&, Request& r) {
  if (auto u = unknown_argument(r.arguments, {})) return Response::error(*u);
  json::object o;
  o["version"] = dialer::version();
  o["schema_version"] = store::current_schema_version();
  return Response::success(std::string("dialerd ") + dialer::version(), std::move(o));
}

Response status_get(CommandContext& c, Request& r) {
  if (auto u = unknown_argument(r.arguments, {})) return Response::error(*u);
  const auto s = c.d.scheduler.status();
  json::object o = to_json(s);
  o["version"] = dialer::version();
  o["uptime_s"] = std::chrono::duration_cast<std::chrono::seconds>(c.d.control.uptime()).count();
  o["webhook_listen"] = c.d.control.webhook_listen();
  o["metrics_listen"] = c.d.control.metrics_listen();
  const api::WebhookSnapshot hooks = c.d.control.webhook_stats();
  o["webhooks"] = api::to_json(hooks, c.d.clock.now());
  o["pid"] = static_cast<std::int64_t>(::getpid());
  o["config_path"] = c.d.control.config_path();
  json::array jobs;
  for (const auto& j : c.d.progress.all()) jobs.push_back(admin::to_json(j));
  o["jobs"] = std::move(jobs);
  const RoleView role = c.d.control.role();
  o["role"] = role.role;
  if (role.role != "standalone") {
    o["node"] = role.node;
    o["lease_epoch"] = role.epoch;
    o["takeovers"] = role.takeovers;
    if (role.leader) {
      o["leader"] =
          json::object{{"node", *role.leader},
                       {"since", format_iso8601(role.leader_since.value_or(TimePoint{}))}};
    } else {
      o["leader"] = nullptr;
    }
  }
  const auto running =
      s.campaigns.contains(CampaignState::running) ? s.campaigns.at(CampaignState::running) : 0;
  std::string text = "dialerd " + std::string(dialer::version()) + ": " + role_text(role);
  // A standby's scheduler has not recovered: its figures are not the pair's. It says who dials.
  if (!role.dials()) return Response::success(std::move(text), std::move(o));
  text += std::to_string(running) + " campaign(s) running, slots " + std::to_string(s.slots.used) +
          "/" + std::to_string(s.slots.limit);
  if (s.account_block != scheduler::AccountBlock::none) {
    text += "; dialling stopped (" + std::string(to_string(s.account_block)) +
            "): " + s.account_message;
    o["message"] = s.account_message;
  }
  if (hooks.refused_last_hour > 0 && hooks.last_refusal) {
    text += "; " + std::to_string(hooks.refused_last_hour) +
            " webhook deliveries refused in the last hour (" + hooks.last_refusal->reason + ")";
    if (s.outcomes_by_poll_last_hour > 0) {
      text += ", " + std::to_string(s.outcomes_by_poll_last_hour) + " outcomes had to be polled";
    }
  }
  return Response::success(std::move(text), std::move(o));
}

Response config_get(CommandContext& c, Request& r) {
  if (auto u = unknown_argument(r.arguments, {})) return Response::error(*u);
  json::object o = config::redacted_json(c.d.control.config());
  json::array pending;
  std::string keys;
  for (auto& p : config::pending_keys(c.d.control.config(), c.d.control.file_config())) {
    keys += (keys.empty() ? "" : ", ") + p.key;
    pending.push_back(json::object{
        {"key", p.key}, {"in_force", std::move(p.in_force)}, {"in_file", std::move(p.in_file)}});
  }
  std::string text = "config in force, from " + c.d.control.config_path();
  if (!keys.empty()) text += "; the file's " + keys + " wait(s) for a restart";
  return Response::success(std::move(text), json::object{{"path", c.d.control.config_path()},
                                                         {"config", std::move(o)},
                                                         {"pending_restart", std::move(pending)}});
}

Response config_reload(CommandContext& c, Request& r) {
  if (auto u = unknown_argument(r.arguments, {})) return Response::error(*u);
  auto diff = c.d.control.reload();
  if (!diff) {
    return Response::error(c.d.control.config_path() +
                           " is invalid; still running on the previous config:\n" +
                           config::format_diagnostics(diff.error()));
  }
  json::array changed;
  for (const auto& k : diff->changed) changed.emplace_back(k);
  json::array restart;
  for (const auto& k : diff->needs_restart) restart.emplace_back(k);
  std::string text = "config reloaded: " + std::to_string(diff->changed.size()) + " key(s) changed";
  if (!diff->needs_restart.empty()) {
    text += "; a restart is needed to apply:";
    for (const auto& k : diff->needs_restart) text += " " + k;
  }
  return Response::success(std::move(text), json::object{{"changed", std::move(changed)},
                                                         {"needs_restart", std::move(restart)}});
}

Response shutdown(CommandContext& c, Request& r) {
  if (auto u = unknown_argument(r.arguments, {})) return Response::error(*u);
  c.d.control.request_shutdown("shutdown command from " + CommandContext::actor(r));
  return Response::success("shutting down");
}

Response account_unblock(CommandContext& c, Request& r) {
  if (auto u = unknown_argument(r.arguments, {})) return Response::error(*u);
  const auto before = c.d.scheduler.status();
  if (before.account_block == scheduler::AccountBlock::none) {
    return Response::conflict("dialling is not stopped for the account");
  }
  c.d.scheduler.clear_account_block();
  return Response::success(
      "account block (" + std::string(to_string(before.account_block)) +
          ") lifted; if the API refuses again, dialling stops again",
      json::object{{"was", to_string(before.account_block)}, {"message", before.account_message}});
}

Response log_level_set(CommandContext&, Request& r) {
  if (auto u = unknown_argument(r.arguments, {"level"})) return Response::error(*u);
  auto level = req_string(r.arguments, "level");
  if (!level) return bad(level.error());
  // The names of logging.level (config), not spdlog's own ("err", "warning").
  static constexpr std::array<std::pair<std::string_view, spdlog::level::level_enum>, 7> kLevels{{
      {"trace", spdlog::level::trace},
      {"debug", spdlog::level::debug},
      {"info", spdlog::level::info},
      {"warn", spdlog::level::warn},
      {"error", spdlog::level::err},
      {"critical", spdlog::level::critical},
      {"off", spdlog::level::off},
  }};
  const auto it = std::find_if(kLevels.begin(), kLevels.end(),
                               [&](const auto& l) { return l.first == *level; });
  if (it == kLevels.end()) {
    return Response::error("argument 'level': unknown level \"" + std::string(*level) +
                           "\" (trace, debug, info, warn, error, critical or off)");
  }
  const auto before = spdlog::default_logger()->level();
  std::string_view was = "?";
  for (const auto& [name, l] : kLevels) {
    if (l == before) was = name;
  }
  // Said before the change, so the line is seen whichever way the level goes.
  spdlog::warn("log level {} → {} (admin; until the next reload or restart)", was, it->first);
  spdlog::default_logger()->set_level(it->second);
  return Response::success("log level " + std::string(it->first) + " (was " + std::string(was) +
                               ") until the next reload or restart",
                           json::object{{"level", it->first}, {"was", was}});
}

}  // namespace

Result<void> register_daemon_commands(CommandContext& c) {
  const auto ro = admin::Effect::read_only;
  const auto rw = admin::Effect::changes_state;
  return first_error({
      c.add("version-get", "the daemon's version and store schema", ro, &version_get),
      c.add("status-get", "slots, rate, credits, campaigns by state, uptime", ro, &status_get),
      c.add("config-get", "the config in force, secrets redacted", ro, &config_get),
      c.add("config-reload", "re-read the config file; keys that need a restart are listed", rw,
            &config_reload),
      c.add("shutdown", "stop gracefully (calls in flight settle first)", rw, &shutdown),
      c.add("account-unblock", "lift a stop for the account after a 401/403 (dial again)", rw,
            &account_unblock),
      c.add("log-level-set",
            "change the log level until the next reload or restart: {level: trace|debug|"
            "info|warn|error|critical|off}",
            rw, &log_level_set),
  });
}

}  // namespace dialer::daemon
