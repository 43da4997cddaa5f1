#include "daemon/commands/campaign_commands.hpp"

#include "api/admin/unique_fd.hpp"
#include "config/campaign.hpp"
#include "core/enums.hpp"
#include "daemon/admin_args.hpp"
#include "daemon/admin_files.hpp"
#include "daemon/admin_views.hpp"
#include "daemon/scheduler_json.hpp"
#include "store/sqlite/export_writer.hpp"

#include <boost/json/array.hpp>
#include <boost/json/serialize.hpp>
#include <spdlog/spdlog.h>

#include <optional>
#include <utility>
#include <variant>

namespace dialer::daemon {

// --- campaign fields from arguments --------------------------------------------------------

Result<json::object> expand_compact_fields(const json::object& arguments) {
  json::object out = arguments;
  if (auto* w = out.if_contains("window"); w != nullptr && w->is_string()) {
    auto compact = config::parse_window_compact(w->get_string());
    if (!compact)
      return Error{errc::invalid_argument, "argument 'window': " + compact.error().message};
    *w = compact->to_json();
  }
  if (auto* r = out.if_contains("retry"); r != nullptr && r->is_object()) {
    for (auto& rule : r->get_object()) {
      if (!rule.value().is_string()) continue;
      const std::string text =
          std::string(rule.key()) + "=" + std::string(rule.value().get_string());
      auto parsed = config::parse_retry_compact(text);
      if (!parsed)
        return Error{errc::invalid_argument,
                     "argument 'retry." + std::string(rule.key()) + "': " + parsed.error().message};
      rule.value() = json::object{{"delay", format_duration(parsed->second.delay)},
                                  {"max", parsed->second.max}};
    }
  }
  return out;
}

namespace {

/// Problems in an admin request's campaign fields: "argument 'window.start': …" per line. A
/// position inside JSON that dialerctl (or a script) built means nothing to whoever reads it.
std::string request_diagnostics(const config::Diagnostics& diagnostics) {
  std::string out;
  for (const auto& d : diagnostics) {
    if (!out.empty()) out += "\n";
    out += d.key.empty() ? d.message : "argument '" + d.key + "': " + d.message;
  }
  return out;
}

}  // namespace

Result<CampaignSpec> campaign_spec_from_arguments(const json::object& arguments,
                                                  const CampaignSpec& base, bool create) {
  auto expanded = expand_compact_fields(arguments);
  if (!expanded) return expanded.error();
  CampaignSpec spec = base;
  // A campaign file first (its positions intact), then the other arguments over it.
  if (const auto* yaml = expanded->if_contains("spec_yaml")) {
    if (!yaml->is_string())
      return Error{errc::invalid_argument, "argument 'spec_yaml' must be a string"};
    std::string label = "campaign.yaml";
    if (const auto* f = expanded->if_contains("spec_file"); f != nullptr && f->is_string()) {
      label = std::string(f->get_string());
    }
    auto from_file = config::parse_campaign_text(
        yaml->get_string(), spec, config::CampaignParseOptions::for_update(label, {}));
    if (!from_file) {
      return Error{errc::invalid_argument, config::format_diagnostics(from_file.error())};
    }
    spec = std::move(*from_file);
  }
  json::object rest = std::move(*expanded);
  rest.erase("spec_yaml");
  rest.erase("spec_file");
  if (!rest.empty()) {
    auto from_args = config::parse_campaign_text(
        json::serialize(rest), spec, config::CampaignParseOptions::for_update("request"));
    if (!from_args) return Error{errc::invalid_argument, request_diagnostics(from_args.error())};
    spec = std::move(*from_args);
  }
  if (create) {
    if (spec.name.empty()) return Error{errc::invalid_argument, "argument 'name': required"};
    if (spec.agent_id.empty()) {
      return Error{errc::invalid_argument, "argument 'agent_id': required"};
    }
  }
  return spec;
}

// --- the commands --------------------------------------------------------------------------

namespace {

using Lifecycle = Result<void> (scheduler::Scheduler::*)(std::string_view, std::string_view);

/// `forecast` {finish_at, made_at}: the last campaign-forecast of this campaign, if any.
void add_forecast(const CommandContext& c, json::object& o, const std::string& campaign) {
  if (!c.d.forecast_of) return;
  if (auto f = c.d.forecast_of(campaign)) o["forecast"] = std::move(*f);
}

Response campaign_create(CommandContext& c, Request& r) {
  const CampaignSpec base = c.d.control.config().defaults.to_spec();
  auto spec = campaign_spec_from_arguments(r.arguments, base, true);
  if (!spec) return Response::error("campaign-create: " + spec.error().message);
  auto id = c.d.scheduler.create(*spec, CommandContext::actor(r));
  if (!id) {
    if (id.error().code == make_error_code(errc::duplicate)) {
      return Response::conflict("a campaign named '" + spec->name + "' already exists");
    }
    return from_scheduler_error(id.error(), spec->name, false);
  }
  auto view = c.d.scheduler.campaign_view(spec->name);
  json::object o = view ? to_json(*view) : json::object{{"id", *id}, {"name", spec->name}};
  return Response::success("campaign " + spec->name + " created (id " + std::to_string(*id) + ")",
                           std::move(o));
}

Response campaign_update(CommandContext& c, Request& r) {
  auto found = c.find_campaign(r.arguments, false);
  if (auto* resp = std::get_if<Response>(&found)) return std::move(*resp);
  auto& row = std::get<store::CampaignRow>(found);
  json::object fields = r.arguments;
  fields.erase("campaign");
  if (fields.empty()) return Response::error("campaign-update: no field to change");
  auto spec = campaign_spec_from_arguments(fields, row.spec, false);
  if (!spec) return Response::error("campaign-update: " + spec.error().message);
  if (auto u = c.d.scheduler.update(row.spec.name, *spec, CommandContext::actor(r)); !u) {
    if (u.error().code == make_error_code(errc::duplicate)) {
      return Response::conflict("a campaign named '" + spec->name + "' already exists");
    }
    return from_scheduler_error(u.error(), row.spec.name, false);
  }
  auto view = c.d.scheduler.campaign_view(spec->name);
  json::object o = view ? to_json(*view) : json::object{};
  return Response::success("campaign " + spec->name + " updated", std::move(o));
}

Response campaign_list(CommandContext& c, Request& r) {
  if (auto u = unknown_argument(r.arguments, {"state"})) return Response::error(*u);
  auto state_arg = opt_string(r.arguments, "state");
  if (!state_arg) return bad(state_arg.error());
  std::optional<CampaignState> only;
  if (*state_arg) {
    only = from_string<CampaignState>(**state_arg);
    if (!only) return Response::error("argument 'state': no campaign state '" + **state_arg + "'");
  }
  auto& repo = c.d.store.campaigns();
  auto rows = repo.list();
  if (!rows) return Response::error(rows.error().message);
  json::array list;
  for (const auto& row : *rows) {
    if (only && row.state != *only) continue;
    auto v = c.d.scheduler.campaign_view(row.spec.name);
    if (!v) return Response::error(v.error().message);
    json::object o;
    o["id"] = row.id;
    o["name"] = row.spec.name;
    o["state"] = to_string(row.state);
    o["pause_reason"] = to_string(row.pause_reason);
    o["blocked_by"] = scheduler::to_text(v->blocked_by, v->now);
    o["priority"] = row.spec.priority;
    o["weight"] = row.spec.weight;
    o["in_flight"] = v->in_flight;
    o["max_concurrency"] = row.spec.max_concurrency;
    o["credits_used"] = row.credits_used;
    o["contacts"] = counts_nonzero(v->contacts);
    add_pace(o, *v);
    add_forecast(c, o, row.spec.name);
    o["outcomes"] = outcome_counts(v->outcomes);
    o["created_at"] = format_iso8601(row.created_at);
    list.push_back(std::move(o));
  }
  if (list.empty())
    return Response::empty("no campaigns", json::object{{"campaigns", json::array{}}});
  const auto n = list.size();
  return Response::success(std::to_string(n) + " campaign(s)",
                           json::object{{"campaigns", std::move(list)}});
}

Response campaign_get(CommandContext& c, Request& r) {
  if (auto u = unknown_argument(r.arguments, {"campaign"})) return Response::error(*u);
  auto name = req_string(r.arguments, "campaign");
  if (!name) return bad(name.error());
  auto v = c.d.scheduler.campaign_view(*name);
  if (!v) return from_scheduler_error(v.error(), *name, true);
  return Response::success(
      "campaign " + v->campaign.spec.name + " is " + std::string(to_string(v->campaign.state)),
      to_json(*v));
}

Response campaign_stats(CommandContext& c, Request& r) {
  if (auto u = unknown_argument(r.arguments, {"campaign"})) return Response::error(*u);
  auto name = req_string(r.arguments, "campaign");
  if (!name) return bad(name.error());
  auto v = c.d.scheduler.campaign_view(*name);
  if (!v) return from_scheduler_error(v.error(), *name, true);
  json::object o = stats_json(*v);
  add_forecast(c, o, v->campaign.spec.name);
  const auto total = o["contacts_total"].as_int64();
  const auto finished = o["contacts_finished"].as_int64();
  return Response::success("campaign " + v->campaign.spec.name + ": " +
                               std::string(to_string(v->campaign.state)) + ", " +
                               std::to_string(finished) + "/" + std::to_string(total) +
                               " contacts finished, " + std::to_string(v->in_flight) + " in flight",
                           std::move(o));
}

Response lifecycle(CommandContext& c, Request& r, Lifecycle op, std::string_view done) {
  if (auto u = unknown_argument(r.arguments, {"campaign"})) return Response::error(*u);
  auto name = req_string(r.arguments, "campaign");
  if (!name) return bad(name.error());
  if (auto res = (c.d.scheduler.*op)(*name, CommandContext::actor(r)); !res) {
    return from_scheduler_error(res.error(), *name, false);
  }
  auto v = c.d.scheduler.campaign_view(*name);
  const std::string shown = v ? v->campaign.spec.name : *name;
  json::object o = v ? stats_json(*v) : json::object{};
  return Response::success("campaign " + shown + " " + std::string(done), std::move(o));
}

asio::awaitable<Response> campaign_start(CommandContext& c, Request r) {
  if (auto u = unknown_argument(r.arguments, {"campaign"})) co_return Response::error(*u);
  if (c.d.start_check) {
    auto found = c.find_campaign(r.arguments, true);
    if (auto* resp = std::get_if<Response>(&found)) co_return std::move(*resp);
    auto& row = std::get<store::CampaignRow>(found);
    // Only a draft is started by this command; other states get the scheduler's own answer.
    if (row.state == CampaignState::draft) {
      const std::string name = row.spec.name;
      auto refusal = co_await c.d.start_check(std::move(row));
      if (refusal) {
        spdlog::warn("campaign {} not started: {}", name, refusal->text);
        co_return std::move(*refusal);
      }
    }
  }
  co_return lifecycle(c, r, &scheduler::Scheduler::start, "started");
}

Response campaign_pause(CommandContext& c, Request& r) {
  return lifecycle(c, r, &scheduler::Scheduler::pause, "paused");
}

Response campaign_resume(CommandContext& c, Request& r) {
  return lifecycle(c, r, &scheduler::Scheduler::resume, "resumed");
}

Response campaign_stop(CommandContext& c, Request& r) {
  return lifecycle(c, r, &scheduler::Scheduler::stop, "stopped");
}

Response campaign_delete(CommandContext& c, Request& r) {
  if (auto u = unknown_argument(r.arguments, {"campaign"})) return Response::error(*u);
  auto name = req_string(r.arguments, "campaign");
  if (!name) return bad(name.error());
  if (auto res = c.d.scheduler.remove(*name, CommandContext::actor(r)); !res) {
    return from_scheduler_error(res.error(), *name, false);
  }
  return Response::success("campaign " + *name + " deleted", json::object{});
}

asio::awaitable<Response> campaign_export(CommandContext& c, Request r) {
  if (auto u = unknown_argument(r.arguments, {"campaign", "output", "with_transcript"})) {
    co_return Response::error(*u);
  }
  auto found = c.find_campaign(r.arguments, false);
  if (auto* resp = std::get_if<Response>(&found)) co_return std::move(*resp);
  const auto row = std::get<store::CampaignRow>(found);
  auto with_transcript = opt_bool(r.arguments, "with_transcript", false);
  if (!with_transcript) co_return bad(with_transcript.error());
  auto output = opt_string(r.arguments, "output");
  if (!output) co_return bad(output.error());
  admin::UniqueFd fd;
  std::optional<ConfinedFile> created;
  if (!r.fds.empty()) {
    fd = std::move(r.fds[0]);
  } else if (*output && !(*output)->empty()) {
    auto opened = create_confined(c.files_dir(), "output", **output);
    if (!opened) co_return Response::error(opened.error().message);
    fd = std::move(opened->fd);
    created = std::move(*opened);
  } else {
    co_return Response::error("campaign-export needs an output: a passed descriptor or 'output'");
  }
  const std::string where =
      *output && !(*output)->empty() ? **output : std::string("the passed descriptor");

  auto guard = c.jobs.guard();
  auto job = [&c, id = row.id, fd = fd.get(),
              transcript = *with_transcript]() -> std::optional<Result<store::ExportSummary>> {
    auto db = c.jobs.connect();
    if (!db) return Result<store::ExportSummary>(db.error());
    return store::write_export(*db, id, fd, transcript);
  };
  auto result = co_await c.jobs.run(std::move(job));
  if (!result || !*result) {
    if (created) remove_confined(*created);
    co_return Response::error("campaign-export " + row.spec.name + ": " +
                              (result ? result->error().message : std::string("failed")));
  }
  const auto& summary = result->value();
  json::array columns;
  for (const auto& col : summary.columns) columns.emplace_back(col);
  co_return Response::success("exported " + std::to_string(summary.rows) +
                                  " contact(s) of campaign " + row.spec.name + " to " + where,
                              json::object{{"campaign", row.spec.name},
                                           {"rows", summary.rows},
                                           {"output", where},
                                           {"columns", std::move(columns)}});
}

}  // namespace

Result<void> register_campaign_commands(CommandContext& c) {
  const auto ro = admin::Effect::read_only;
  const auto rw = admin::Effect::changes_state;
  return first_error({
      c.add("campaign-create", "create a draft campaign (fields, or spec_yaml)", rw,
            &campaign_create),
      c.add("campaign-update", "change a campaign's fields", rw, &campaign_update),
      c.add("campaign-list", "every campaign with its state and counts", ro, &campaign_list),
      c.add("campaign-get", "one campaign: fields, state, blocked_by, counts", ro, &campaign_get),
      c.add("campaign-start",
            "start dialling a draft campaign (its agent and providers are checked first)", rw,
            &campaign_start),
      c.add("campaign-pause", "pause dialling (calls in flight finish)", rw, &campaign_pause),
      c.add("campaign-resume", "resume a paused or credit-exhausted campaign", rw,
            &campaign_resume),
      c.add("campaign-stop", "cancel: queued contacts are skipped", rw, &campaign_stop),
      c.add("campaign-delete", "delete a draft campaign and its contacts", rw, &campaign_delete),
      c.add("campaign-stats", "counts by contact state and outcome", ro, &campaign_stats),
      c.add("campaign-export", "results as CSV to a passed descriptor or `output` path", rw,
            &campaign_export),
  });
}

}  // namespace dialer::daemon
