#include "daemon/admin_handlers.hpp"

#include "api/admin/unique_fd.hpp"
#include "config/campaign.hpp"
#include "core/campaign_json.hpp"
#include "core/enums.hpp"
#include "core/errno_text.hpp"
#include "core/time_json.hpp"
#include "core/version.hpp"
#include "daemon/admin_args.hpp"
#include "daemon/admin_files.hpp"
#include "daemon/admin_views.hpp"
#include "store/attempt_repo.hpp"
#include "store/audit_repo.hpp"
#include "store/campaign_repo.hpp"
#include "store/contact_repo.hpp"
#include "store/dnc_file.hpp"
#include "store/dnc_repo.hpp"
#include "store/export_writer.hpp"
#include "store/fd_writer.hpp"
#include "store/phone.hpp"
#include "store/schema.hpp"

#include <boost/json/array.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <climits>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstring>
#include <fcntl.h>
#include <map>
#include <optional>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>
#include <unordered_map>
#include <utility>
#include <variant>
#include <vector>

// GCC 12 at -O2 pairs Asio's recycling coroutine-frame allocator (aligned_alloc) with the
// frame's sized operator delete and warns about a mismatch that is not there: Asio frees those
// frames with the matching aligned free.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

namespace dialer::daemon {

namespace asio = boost::asio;
namespace json = boost::json;
using admin::Request;
using admin::Response;
using admin::ResultCode;

namespace {

constexpr std::array<std::string_view, 27> kCommands{
    "version-get",     "status-get",      "config-get",    "config-reload",   "shutdown",
    "campaign-create", "campaign-update", "campaign-list", "campaign-get",    "campaign-start",
    "campaign-pause",  "campaign-resume", "campaign-stop", "campaign-delete", "campaign-stats",
    "campaign-export", "contacts-import", "contacts-list", "calls-list",      "dnc-add",
    "dnc-remove",      "dnc-list",        "dnc-import",    "attempt-resolve", "account-unblock",
    "log-level-set",   "list-commands"};

/// Numbers one dnc-add / dnc-remove request may carry.
constexpr std::size_t kMaxDncNumbers = 10'000;
/// Numbers a DNC import commits per transaction.
constexpr std::size_t kDncImportChunk = 5'000;
/// Largest audit detail stored (the spec text of a campaign file can be long).
constexpr std::size_t kMaxAuditDetail = 16 * 1024;

/// True when `v` could be a phone number as a person writes one: digits with the usual
/// punctuation (+ - . ( ) space /), at least three digits and nothing else.
bool looks_like_phone_number(std::string_view v) {
  int digits = 0;
  for (char ch : v) {
    if (ch >= '0' && ch <= '9') {
      ++digits;
    } else if (std::string_view("+-.() /'").find(ch) == std::string_view::npos) {
      return false;
    }
  }
  return digits >= 3 && v.size() <= 40;
}

}  // namespace

std::span<const std::string_view> contract_commands() {
  return {kCommands.data(), kCommands.size() - 1};  // list-commands is the registry's own
}

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

// --- the handlers --------------------------------------------------------------------------

class AdminHandlers::Impl {
 public:
  Impl(AdminDeps deps, std::shared_ptr<std::atomic<int>> jobs)
      : d_(std::move(deps)), jobs_(std::move(jobs)), importer_(d_.zones, d_.clock) {}

  Result<void> register_all();
  void audit(const admin::AuditEvent& e);

  std::stop_source stop_;

 private:
  using Sync = Response (Impl::*)(Request&);
  using Async = asio::awaitable<Response> (Impl::*)(Request);

  Result<void> add(std::string name, std::string help, admin::Effect effect, Sync fn) {
    return d_.registry.add_sync(std::move(name), std::move(help), effect,
                                [this, fn](Request& r) { return (this->*fn)(r); });
  }
  Result<void> add_async(std::string name, std::string help, admin::Effect effect, Async fn) {
    return d_.registry.add(std::move(name), std::move(help), effect,
                           [this, fn](Request r) { return (this->*fn)(std::move(r)); });
  }

  static std::string actor(const Request& r) { return "uid:" + std::to_string(r.peer.uid); }

  /// `forecast` {finish_at, made_at}: the last campaign-forecast of this campaign, if any.
  void add_forecast(json::object& o, const std::string& campaign) const {
    if (!d_.forecast_of) return;
    if (auto f = d_.forecast_of(campaign)) o["forecast"] = std::move(*f);
  }

  /// admin.files_dir as in force now (a reload changes it).
  std::string files_dir() const { return d_.control.config().admin.files_dir; }

  /// The campaign named by the `campaign` argument; a Response when there is none.
  std::variant<store::CampaignRow, Response> find_campaign(const json::object& args, bool lookup) {
    auto name = req_string(args, "campaign");
    if (!name) return bad(name.error());
    store::CampaignRepo repo(d_.db);
    auto row = repo.find(*name);
    if (!row) return Response::error(row.error().message);
    if (!*row) return no_campaign(*name, lookup);
    return std::move(**row);
  }

  Response version_get(Request& r);
  Response status_get(Request& r);
  Response config_get(Request& r);
  Response config_reload(Request& r);
  Response shutdown(Request& r);
  Response campaign_create(Request& r);
  Response campaign_update(Request& r);
  Response campaign_list(Request& r);
  Response campaign_get(Request& r);
  Response campaign_stats(Request& r);
  asio::awaitable<Response> campaign_start(Request r);
  Response campaign_pause(Request& r) {
    return lifecycle(r, &scheduler::Scheduler::pause, "paused");
  }
  Response campaign_resume(Request& r) {
    return lifecycle(r, &scheduler::Scheduler::resume, "resumed");
  }
  Response campaign_stop(Request& r) {
    return lifecycle(r, &scheduler::Scheduler::stop, "stopped");
  }
  Response campaign_delete(Request& r) {
    if (auto u = unknown_argument(r.arguments, {"campaign"})) return Response::error(*u);
    auto name = req_string(r.arguments, "campaign");
    if (!name) return bad(name.error());
    if (auto res = d_.scheduler.remove(*name, actor(r)); !res) {
      return from_scheduler_error(res.error(), *name, false);
    }
    return Response::success("campaign " + *name + " deleted", json::object{});
  }
  Response contacts_list(Request& r);
  Response calls_list(Request& r);
  Response dnc_add(Request& r);
  Response dnc_remove(Request& r);
  Response dnc_list(Request& r);
  Response attempt_resolve(Request& r);
  Response account_unblock(Request& r);
  Response log_level_set(Request& r);
  asio::awaitable<Response> campaign_export(Request r);
  asio::awaitable<Response> contacts_import(Request r);
  asio::awaitable<Response> dnc_import(Request r);

  Response lifecycle(Request& r,
                     Result<void> (scheduler::Scheduler::*op)(std::string_view, std::string_view),
                     std::string_view done);
  Result<std::vector<std::string>> normalize_numbers(const json::object& args);

  AdminDeps d_;
  std::shared_ptr<std::atomic<int>> jobs_;
  store::ContactImporter importer_;
  std::uint64_t next_job_ = 1;
};

/// Counts a running job for jobs_running(); released on every path out of a handler.
class JobGuard {
 public:
  explicit JobGuard(std::shared_ptr<std::atomic<int>> jobs) : jobs_(std::move(jobs)) { ++*jobs_; }
  ~JobGuard() { --*jobs_; }
  JobGuard(const JobGuard&) = delete;
  JobGuard& operator=(const JobGuard&) = delete;

 private:
  std::shared_ptr<std::atomic<int>> jobs_;
};

Result<void> AdminHandlers::Impl::register_all() {
  using admin::Effect;
  const auto ro = Effect::read_only;
  const auto rw = Effect::changes_state;
  const std::array<Result<void>, 26> results{
      add("version-get", "the daemon's version and store schema", ro, &Impl::version_get),
      add("status-get", "slots, rate, credits, campaigns by state, uptime", ro, &Impl::status_get),
      add("config-get", "the config in force, secrets redacted", ro, &Impl::config_get),
      add("config-reload", "re-read the config file; keys that need a restart are listed", rw,
          &Impl::config_reload),
      add("shutdown", "stop gracefully (calls in flight settle first)", rw, &Impl::shutdown),
      add("campaign-create", "create a draft campaign (fields, or spec_yaml)", rw,
          &Impl::campaign_create),
      add("campaign-update", "change a campaign's fields", rw, &Impl::campaign_update),
      add("campaign-list", "every campaign with its state and counts", ro, &Impl::campaign_list),
      add("campaign-get", "one campaign: fields, state, blocked_by, counts", ro,
          &Impl::campaign_get),
      add_async("campaign-start",
                "start dialling a draft campaign (its agent and providers are checked first)", rw,
                &Impl::campaign_start),
      add("campaign-pause", "pause dialling (calls in flight finish)", rw, &Impl::campaign_pause),
      add("campaign-resume", "resume a paused or credit-exhausted campaign", rw,
          &Impl::campaign_resume),
      add("campaign-stop", "cancel: queued contacts are skipped", rw, &Impl::campaign_stop),
      add("campaign-delete", "delete a draft campaign and its contacts", rw,
          &Impl::campaign_delete),
      add("campaign-stats", "counts by contact state and outcome", ro, &Impl::campaign_stats),
      add_async("campaign-export", "results as CSV to a passed descriptor or `output` path", rw,
                &Impl::campaign_export),
      add_async("contacts-import", "import a CSV list (passed descriptor or `path`)", rw,
                &Impl::contacts_import),
      add("contacts-list", "a campaign's contacts, optionally of one state", ro,
          &Impl::contacts_list),
      add("calls-list", "attempts, newest first (`in_flight` for open ones)", ro,
          &Impl::calls_list),
      add("dnc-add", "put numbers on the do-not-call list", rw, &Impl::dnc_add),
      add("dnc-remove", "take numbers off the do-not-call list", rw, &Impl::dnc_remove),
      add("dnc-list", "the do-not-call list", ro, &Impl::dnc_list),
      add_async("dnc-import", "add every number of a file (descriptor or `path`)", rw,
                &Impl::dnc_import),
      add("attempt-resolve", "settle an ambiguous attempt by hand: {id, as: void|lost}", rw,
          &Impl::attempt_resolve),
      add("account-unblock", "lift a stop for the account after a 401/403 (dial again)", rw,
          &Impl::account_unblock),
      add("log-level-set",
          "change the log level until the next reload or restart: {level: trace|debug|info|"
          "warn|error|critical|off}",
          rw, &Impl::log_level_set),
  };
  for (const auto& r : results) {
    if (!r) return r.error();
  }
  return d_.progress.register_commands(d_.registry);
}

void AdminHandlers::Impl::audit(const admin::AuditEvent& e) {
  json::object detail = e.arguments;
  std::string subject;
  if (const auto* c = detail.if_contains("campaign"); c != nullptr && c->is_string()) {
    subject = "campaign:" + std::string(c->get_string());
  } else if (const auto* n = detail.if_contains("name"); n != nullptr && n->is_string()) {
    subject = "campaign:" + std::string(n->get_string());
  }
  std::string text = json::serialize(detail);
  if (text.size() > kMaxAuditDetail) {
    // The spec text is what makes a detail long; keep the rest whole.
    if (auto* y = detail.if_contains("spec_yaml"); y != nullptr && y->is_string()) {
      *y = "<" + std::to_string(y->get_string().size()) + " bytes>";
    }
    text = json::serialize(detail);
    if (text.size() > kMaxAuditDetail) text = json::serialize(json::object{{"truncated", true}});
  }
  store::AuditEntry entry;
  entry.at = d_.clock.now();
  entry.actor = "uid:" + std::to_string(e.peer.uid);
  entry.action = e.command.empty() ? "refused" : e.command;
  entry.subject = std::move(subject);
  entry.detail_json = std::move(text);
  entry.result = std::to_string(admin::to_int(e.result));
  if (!e.text.empty()) entry.result += " " + e.text;
  store::AuditRepo repo(d_.db);
  if (auto r = repo.append(entry); !r) {
    spdlog::error("audit log: cannot record {}: {}", entry.action, r.error().what());
  }
}

Response AdminHandlers::Impl::version_get(Request& r) {
  if (auto u = unknown_argument(r.arguments, {})) return Response::error(*u);
  json::object o;
  o["version"] = dialer::version();
  o["schema_version"] = store::current_schema_version();
  return Response::success(std::string("dialerd ") + dialer::version(), std::move(o));
}

Response AdminHandlers::Impl::status_get(Request& r) {
  if (auto u = unknown_argument(r.arguments, {})) return Response::error(*u);
  const auto s = d_.scheduler.status();
  json::object o = scheduler::to_json(s);
  o["version"] = dialer::version();
  o["uptime_s"] = std::chrono::duration_cast<std::chrono::seconds>(d_.control.uptime()).count();
  o["webhook_listen"] = d_.control.webhook_listen();
  o["metrics_listen"] = d_.control.metrics_listen();
  const api::WebhookSnapshot hooks = d_.control.webhook_stats();
  o["webhooks"] = api::to_json(hooks, d_.clock.now());
  o["pid"] = static_cast<std::int64_t>(::getpid());
  o["config_path"] = d_.control.config_path();
  json::array jobs;
  for (const auto& j : d_.progress.all()) jobs.push_back(admin::to_json(j));
  o["jobs"] = std::move(jobs);
  const auto running =
      s.campaigns.contains(CampaignState::running) ? s.campaigns.at(CampaignState::running) : 0;
  std::string text = "dialerd " + std::string(dialer::version()) + ": " + std::to_string(running) +
                     " campaign(s) running, slots " + std::to_string(s.slots.used) + "/" +
                     std::to_string(s.slots.limit);
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

Response AdminHandlers::Impl::config_get(Request& r) {
  if (auto u = unknown_argument(r.arguments, {})) return Response::error(*u);
  json::object o = config::redacted_json(d_.control.config());
  json::array pending;
  std::string keys;
  for (auto& p : config::pending_keys(d_.control.config(), d_.control.file_config())) {
    keys += (keys.empty() ? "" : ", ") + p.key;
    pending.push_back(json::object{
        {"key", p.key}, {"in_force", std::move(p.in_force)}, {"in_file", std::move(p.in_file)}});
  }
  std::string text = "config in force, from " + d_.control.config_path();
  if (!keys.empty()) text += "; the file's " + keys + " wait(s) for a restart";
  return Response::success(std::move(text), json::object{{"path", d_.control.config_path()},
                                                         {"config", std::move(o)},
                                                         {"pending_restart", std::move(pending)}});
}

Response AdminHandlers::Impl::config_reload(Request& r) {
  if (auto u = unknown_argument(r.arguments, {})) return Response::error(*u);
  auto diff = d_.control.reload();
  if (!diff) {
    return Response::error(d_.control.config_path() +
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

Response AdminHandlers::Impl::shutdown(Request& r) {
  if (auto u = unknown_argument(r.arguments, {})) return Response::error(*u);
  d_.control.request_shutdown("shutdown command from " + actor(r));
  return Response::success("shutting down");
}

Response AdminHandlers::Impl::campaign_create(Request& r) {
  const CampaignSpec base = d_.control.config().defaults.to_spec();
  auto spec = campaign_spec_from_arguments(r.arguments, base, true);
  if (!spec) return Response::error("campaign-create: " + spec.error().message);
  auto id = d_.scheduler.create(*spec, actor(r));
  if (!id) {
    if (id.error().code == make_error_code(errc::duplicate)) {
      return Response::conflict("a campaign named '" + spec->name + "' already exists");
    }
    return from_scheduler_error(id.error(), spec->name, false);
  }
  auto view = d_.scheduler.campaign_view(spec->name);
  json::object o =
      view ? scheduler::to_json(*view) : json::object{{"id", *id}, {"name", spec->name}};
  return Response::success("campaign " + spec->name + " created (id " + std::to_string(*id) + ")",
                           std::move(o));
}

Response AdminHandlers::Impl::campaign_update(Request& r) {
  auto found = find_campaign(r.arguments, false);
  if (auto* resp = std::get_if<Response>(&found)) return std::move(*resp);
  auto& row = std::get<store::CampaignRow>(found);
  json::object fields = r.arguments;
  fields.erase("campaign");
  if (fields.empty()) return Response::error("campaign-update: no field to change");
  auto spec = campaign_spec_from_arguments(fields, row.spec, false);
  if (!spec) return Response::error("campaign-update: " + spec.error().message);
  if (auto u = d_.scheduler.update(row.spec.name, *spec, actor(r)); !u) {
    if (u.error().code == make_error_code(errc::duplicate)) {
      return Response::conflict("a campaign named '" + spec->name + "' already exists");
    }
    return from_scheduler_error(u.error(), row.spec.name, false);
  }
  auto view = d_.scheduler.campaign_view(spec->name);
  json::object o = view ? scheduler::to_json(*view) : json::object{};
  return Response::success("campaign " + spec->name + " updated", std::move(o));
}

Response AdminHandlers::Impl::campaign_list(Request& r) {
  if (auto u = unknown_argument(r.arguments, {"state"})) return Response::error(*u);
  auto state_arg = opt_string(r.arguments, "state");
  if (!state_arg) return bad(state_arg.error());
  std::optional<CampaignState> only;
  if (*state_arg) {
    only = from_string<CampaignState>(**state_arg);
    if (!only) return Response::error("argument 'state': no campaign state '" + **state_arg + "'");
  }
  store::CampaignRepo repo(d_.db);
  auto rows = repo.list();
  if (!rows) return Response::error(rows.error().message);
  json::array list;
  for (const auto& row : *rows) {
    if (only && row.state != *only) continue;
    auto v = d_.scheduler.campaign_view(row.spec.name);
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
    add_forecast(o, row.spec.name);
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

Response AdminHandlers::Impl::campaign_get(Request& r) {
  if (auto u = unknown_argument(r.arguments, {"campaign"})) return Response::error(*u);
  auto name = req_string(r.arguments, "campaign");
  if (!name) return bad(name.error());
  auto v = d_.scheduler.campaign_view(*name);
  if (!v) return from_scheduler_error(v.error(), *name, true);
  return Response::success(
      "campaign " + v->campaign.spec.name + " is " + std::string(to_string(v->campaign.state)),
      scheduler::to_json(*v));
}

Response AdminHandlers::Impl::campaign_stats(Request& r) {
  if (auto u = unknown_argument(r.arguments, {"campaign"})) return Response::error(*u);
  auto name = req_string(r.arguments, "campaign");
  if (!name) return bad(name.error());
  auto v = d_.scheduler.campaign_view(*name);
  if (!v) return from_scheduler_error(v.error(), *name, true);
  json::object o = stats_json(*v);
  add_forecast(o, v->campaign.spec.name);
  const auto total = o["contacts_total"].as_int64();
  const auto finished = o["contacts_finished"].as_int64();
  return Response::success("campaign " + v->campaign.spec.name + ": " +
                               std::string(to_string(v->campaign.state)) + ", " +
                               std::to_string(finished) + "/" + std::to_string(total) +
                               " contacts finished, " + std::to_string(v->in_flight) + " in flight",
                           std::move(o));
}

Response AdminHandlers::Impl::lifecycle(Request& r,
                                        Result<void> (scheduler::Scheduler::*op)(std::string_view,
                                                                                 std::string_view),
                                        std::string_view done) {
  if (auto u = unknown_argument(r.arguments, {"campaign"})) return Response::error(*u);
  auto name = req_string(r.arguments, "campaign");
  if (!name) return bad(name.error());
  if (auto res = (d_.scheduler.*op)(*name, actor(r)); !res) {
    return from_scheduler_error(res.error(), *name, false);
  }
  auto v = d_.scheduler.campaign_view(*name);
  const std::string shown = v ? v->campaign.spec.name : *name;
  json::object o = v ? stats_json(*v) : json::object{};
  return Response::success("campaign " + shown + " " + std::string(done), std::move(o));
}

asio::awaitable<Response> AdminHandlers::Impl::campaign_start(Request r) {
  if (auto u = unknown_argument(r.arguments, {"campaign"})) co_return Response::error(*u);
  if (d_.start_check) {
    auto found = find_campaign(r.arguments, true);
    if (auto* resp = std::get_if<Response>(&found)) co_return std::move(*resp);
    auto& row = std::get<store::CampaignRow>(found);
    // Only a draft is started by this command; other states get the scheduler's own answer.
    if (row.state == CampaignState::draft) {
      const std::string name = row.spec.name;
      auto refusal = co_await d_.start_check(std::move(row));
      if (refusal) {
        spdlog::warn("campaign {} not started: {}", name, refusal->text);
        co_return std::move(*refusal);
      }
    }
  }
  co_return lifecycle(r, &scheduler::Scheduler::start, "started");
}

Response AdminHandlers::Impl::contacts_list(Request& r) {
  if (auto u = unknown_argument(r.arguments, {"campaign", "state", "limit", "offset"})) {
    return Response::error(*u);
  }
  auto found = find_campaign(r.arguments, true);
  if (auto* resp = std::get_if<Response>(&found)) return std::move(*resp);
  const auto& row = std::get<store::CampaignRow>(found);
  auto state_arg = opt_string(r.arguments, "state");
  if (!state_arg) return bad(state_arg.error());
  std::optional<ContactState> state;
  if (*state_arg) {
    state = from_string<ContactState>(**state_arg);
    if (!state) return Response::error("argument 'state': no contact state '" + **state_arg + "'");
  }
  auto limit = opt_int(r.arguments, "limit", kDefaultListLimit, 1, kMaxListLimit);
  if (!limit) return bad(limit.error());
  auto offset = opt_int(r.arguments, "offset", 0, 0, INT64_MAX);
  if (!offset) return bad(offset.error());
  store::ContactRepo repo(d_.db);
  auto rows = repo.list(row.id, state, *limit, *offset);
  if (!rows) return Response::error(rows.error().message);
  json::array list;
  for (const auto& c : *rows) list.push_back(contact_json(c));
  const auto n = list.size();
  json::object o{{"campaign", row.spec.name}, {"contacts", std::move(list)}};
  if (n == 0) return Response::empty("no contacts", std::move(o));
  return Response::success(std::to_string(n) + " contact(s) of campaign " + row.spec.name,
                           std::move(o));
}

Response AdminHandlers::Impl::calls_list(Request& r) {
  if (auto u = unknown_argument(r.arguments, {"in_flight", "campaign", "limit", "offset"})) {
    return Response::error(*u);
  }
  auto in_flight = opt_bool(r.arguments, "in_flight", false);
  if (!in_flight) return bad(in_flight.error());
  auto limit = opt_int(r.arguments, "limit", kDefaultListLimit, 1, kMaxListLimit);
  if (!limit) return bad(limit.error());
  auto offset = opt_int(r.arguments, "offset", 0, 0, INT64_MAX);
  if (!offset) return bad(offset.error());
  std::optional<std::int64_t> campaign_id;
  if (r.arguments.contains("campaign")) {
    auto found = find_campaign(r.arguments, true);
    if (auto* resp = std::get_if<Response>(&found)) return std::move(*resp);
    campaign_id = std::get<store::CampaignRow>(found).id;
  }
  store::AttemptRepo attempts(d_.db);
  auto rows = attempts.list(campaign_id, *in_flight, *limit, *offset);
  if (!rows) return Response::error(rows.error().message);
  store::CampaignRepo campaigns(d_.db);
  std::unordered_map<std::int64_t, std::string> names;
  json::array list;
  for (const auto& a : *rows) {
    auto it = names.find(a.campaign_id);
    if (it == names.end()) {
      auto c = campaigns.get(a.campaign_id);
      it = names.emplace(a.campaign_id, c && *c ? (*c)->spec.name : std::to_string(a.campaign_id))
               .first;
    }
    list.push_back(attempt_json(a, it->second));
  }
  const auto n = list.size();
  json::object o{{"calls", std::move(list)}};
  if (n == 0) return Response::empty(*in_flight ? "no calls in flight" : "no calls", std::move(o));
  return Response::success(std::to_string(n) + (*in_flight ? " call(s) in flight" : " call(s)"),
                           std::move(o));
}

Result<std::vector<std::string>> AdminHandlers::Impl::normalize_numbers(const json::object& args) {
  const auto* v = args.if_contains("numbers");
  if (v == nullptr || !v->is_array() || v->get_array().empty()) {
    return Error{errc::invalid_argument,
                 "argument 'numbers' must be a non-empty list of phone numbers"};
  }
  if (v->get_array().size() > kMaxDncNumbers) {
    return Error{errc::invalid_argument,
                 "at most " + std::to_string(kMaxDncNumbers) + " numbers per request"};
  }
  auto region = opt_string(args, "default_region");
  if (!region) return region.error();
  auto normalizer = store::PhoneNormalizer::make(region->value_or(""));
  if (!normalizer) {
    return Error{errc::invalid_argument,
                 "default_region: unknown region '" + region->value_or("") + "'"};
  }
  std::vector<std::string> out;
  std::string problems;
  for (const auto& n : v->get_array()) {
    if (!n.is_string()) {
      problems +=
          (problems.empty() ? "" : "; ") + std::string("not a string: ") + json::serialize(n);
      continue;
    }
    auto phone = normalizer->normalize(n.get_string());
    if (!phone) {
      problems += (problems.empty() ? "" : "; ") + std::string("'") + std::string(n.get_string()) +
                  "': " +
                  (phone.error() == store::PhoneReject::needs_region
                       ? std::string("a national number: give its region with --default-region "
                                     "(argument default_region), e.g. IN")
                       : std::string(store::to_string(phone.error())));
      continue;
    }
    if (std::find(out.begin(), out.end(), phone->e164) == out.end()) out.push_back(phone->e164);
  }
  if (!problems.empty()) return Error{errc::invalid_argument, "not a phone number: " + problems};
  return out;
}

Response AdminHandlers::Impl::dnc_add(Request& r) {
  if (auto u = unknown_argument(r.arguments, {"numbers", "reason", "default_region"})) {
    return Response::error(*u);
  }
  auto numbers = normalize_numbers(r.arguments);
  if (!numbers) return bad(numbers.error());
  auto reason = opt_string(r.arguments, "reason");
  if (!reason) return bad(reason.error());
  const TimePoint now = d_.clock.now();
  auto tx = store::Transaction::begin(d_.db);
  if (!tx) return Response::error(tx.error().message);
  store::DncRepo dnc(d_.db);
  auto added = dnc.add(*numbers, reason->value_or("admin"), "admin", now);
  if (!added) return Response::error(added.error().message);
  store::ContactRepo contacts(d_.db);
  std::int64_t skipped = 0;
  for (const auto& n : *numbers) {
    auto s = contacts.skip_queued_by_phone(n, "dnc", now);
    if (!s) return Response::error(s.error().message);
    skipped += *s;
  }
  if (auto c = tx->commit(); !c) return Response::error(c.error().message);
  json::array list;
  for (const auto& n : *numbers) list.emplace_back(n);
  const auto already = static_cast<std::int64_t>(numbers->size()) - *added;
  return Response::success(
      std::to_string(*added) + " number(s) added to the DNC list" +
          (skipped > 0 ? ", " + std::to_string(skipped) + " queued contact(s) skipped" : ""),
      json::object{{"added", *added},
                   {"already_listed", already},
                   {"contacts_skipped", skipped},
                   {"numbers", std::move(list)}});
}

Response AdminHandlers::Impl::dnc_remove(Request& r) {
  if (auto u = unknown_argument(r.arguments, {"numbers", "default_region"})) {
    return Response::error(*u);
  }
  auto numbers = normalize_numbers(r.arguments);
  if (!numbers) return bad(numbers.error());
  store::DncRepo dnc(d_.db);
  auto removed = dnc.remove(*numbers);
  if (!removed) return Response::error(removed.error().message);
  json::array list;
  for (const auto& n : *numbers) list.emplace_back(n);
  json::object o{{"removed", *removed}, {"numbers", std::move(list)}};
  if (*removed == 0)
    return Response::empty("none of the numbers was on the DNC list", std::move(o));
  return Response::success(std::to_string(*removed) + " number(s) removed from the DNC list",
                           std::move(o));
}

Response AdminHandlers::Impl::dnc_list(Request& r) {
  if (auto u = unknown_argument(r.arguments, {"limit", "offset"})) return Response::error(*u);
  auto limit = opt_int(r.arguments, "limit", 1000, 1, kMaxListLimit);
  if (!limit) return bad(limit.error());
  auto offset = opt_int(r.arguments, "offset", 0, 0, INT64_MAX);
  if (!offset) return bad(offset.error());
  store::DncRepo dnc(d_.db);
  auto total = dnc.count();
  if (!total) return Response::error(total.error().message);
  auto rows = dnc.list(*limit, *offset);
  if (!rows) return Response::error(rows.error().message);
  json::array list;
  for (const auto& e : *rows) {
    list.push_back(json::object{{"phone", e.phone},
                                {"reason", e.reason},
                                {"source", e.source},
                                {"added_at", format_iso8601(e.added_at)}});
  }
  json::object o{{"total", *total}, {"numbers", std::move(list)}};
  if (*total == 0) return Response::empty("the DNC list is empty", std::move(o));
  return Response::success(std::to_string(*total) + " number(s) on the DNC list", std::move(o));
}

asio::awaitable<Response> AdminHandlers::Impl::campaign_export(Request r) {
  if (auto u = unknown_argument(r.arguments, {"campaign", "output", "with_transcript"})) {
    co_return Response::error(*u);
  }
  auto found = find_campaign(r.arguments, false);
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
    auto opened = create_confined(files_dir(), "output", **output);
    if (!opened) co_return Response::error(opened.error().message);
    fd = std::move(opened->fd);
    created = std::move(*opened);
  } else {
    co_return Response::error("campaign-export needs an output: a passed descriptor or 'output'");
  }
  const std::string where =
      *output && !(*output)->empty() ? **output : std::string("the passed descriptor");

  JobGuard guard(jobs_);
  auto job = [path = d_.db_path, opts = d_.worker_open_options, id = row.id, fd = fd.get(),
              transcript = *with_transcript]() -> std::optional<Result<store::ExportSummary>> {
    auto db = store::Database::open(path, opts);
    if (!db) return Result<store::ExportSummary>(db.error());
    return store::write_export(*db, id, fd, transcript);
  };
  auto result = co_await admin::run_on(d_.worker, std::move(job));
  if (!result || !*result) {
    if (created) remove_confined(*created);
    co_return Response::error("campaign-export " + row.spec.name + ": " +
                              (result ? result->error().message : std::string("failed")));
  }
  const auto& summary = result->value();
  json::array columns;
  for (const auto& c : summary.columns) columns.emplace_back(c);
  co_return Response::success("exported " + std::to_string(summary.rows) +
                                  " contact(s) of campaign " + row.spec.name + " to " + where,
                              json::object{{"campaign", row.spec.name},
                                           {"rows", summary.rows},
                                           {"output", where},
                                           {"columns", std::move(columns)}});
}

asio::awaitable<Response> AdminHandlers::Impl::contacts_import(Request r) {
  if (auto u =
          unknown_argument(r.arguments, {"campaign", "default_region", "phone_column",
                                         "reject_file", "mobile_only", "path", "progress_id"})) {
    co_return Response::error(*u);
  }
  auto found = find_campaign(r.arguments, false);
  if (auto* resp = std::get_if<Response>(&found)) co_return std::move(*resp);
  const auto row = std::get<store::CampaignRow>(found);
  if (is_terminal(row.state)) {
    co_return Response::conflict("campaign " + row.spec.name + " is " +
                                 std::string(to_string(row.state)) + "; it takes no more contacts");
  }
  store::ImportOptions opts;
  auto region = opt_string(r.arguments, "default_region");
  auto column = opt_string(r.arguments, "phone_column");
  auto reject = opt_string(r.arguments, "reject_file");
  auto mobile = opt_bool(r.arguments, "mobile_only", false);
  auto path = opt_string(r.arguments, "path");
  auto progress_id = opt_string(r.arguments, "progress_id");
  if (!region) co_return bad(region.error());
  if (!column) co_return bad(column.error());
  if (!reject) co_return bad(reject.error());
  if (!mobile) co_return bad(mobile.error());
  if (!path) co_return bad(path.error());
  if (!progress_id) co_return bad(progress_id.error());
  opts.default_region = region->value_or("");
  if (!store::PhoneNormalizer::make(opts.default_region)) {
    co_return Response::error("default_region: unknown region '" + opts.default_region + "'");
  }
  opts.phone_column = column->value_or("");
  opts.mobile_only = *mobile;

  // The list: the descriptor dialerctl opened with the operator's permissions, else a path the
  // daemon opens with its own.
  admin::UniqueFd input;
  std::size_t next_fd = 0;
  std::string source;
  if (!r.fds.empty()) {
    input = std::move(r.fds[next_fd++]);
    source = "the passed descriptor";
  } else if (*path && !(*path)->empty()) {
    auto opened = open_confined_for_reading(files_dir(), "path", **path);
    if (!opened) co_return Response::error(opened.error().message);
    input = std::move(opened->fd);
    source = **path;
  } else {
    co_return Response::error("contacts-import needs a file: a passed descriptor or 'path'");
  }

  // The reject file: written by the importer to a private file and copied into the passed
  // descriptor on success (the importer writes beside a path and renames into place, which a
  // descriptor does not allow); without a descriptor the importer writes the path itself.
  // A reject file by path is created new inside files_dir (never renamed over an existing
  // file) and then filled like a descriptor; it is removed again if the import fails.
  admin::UniqueFd reject_fd;
  std::optional<std::filesystem::path> private_reject;
  std::optional<ConfinedFile> created_reject;
  if (*reject && !(*reject)->empty()) {
    if (next_fd < r.fds.size()) {
      reject_fd = std::move(r.fds[next_fd++]);
    } else {
      auto made = create_confined(files_dir(), "reject_file", **reject);
      if (!made) co_return Response::error(made.error().message);
      reject_fd = std::move(made->fd);
      created_reject = std::move(*made);
    }
    auto scratch = scratch_file(d_.scratch_dir, "reject");
    if (!scratch) {
      if (created_reject) remove_confined(*created_reject);
      co_return Response::error(scratch.error().message);
    }
    private_reject = *scratch;
    opts.reject_file = *scratch;
  }

  struct stat st {};
  const std::uint64_t total = ::fstat(input.get(), &st) == 0 && S_ISREG(st.st_mode)
                                  ? static_cast<std::uint64_t>(st.st_size)
                                  : 0;
  const std::string job_id = *progress_id && !(*progress_id)->empty()
                                 ? **progress_id
                                 : "import-" + std::to_string(next_job_++);
  auto ticket = d_.progress.begin(job_id, "contacts-import " + row.spec.name, total);
  if (!ticket) {
    if (private_reject) std::filesystem::remove(*private_reject);
    if (created_reject) remove_confined(*created_reject);
    if (ticket.error().code == make_error_code(errc::duplicate))
      co_return Response::conflict(ticket.error().message);
    co_return Response::error(ticket.error().message);
  }
  auto shared_ticket = std::make_shared<admin::ProgressTicket>(std::move(*ticket));
  opts.on_progress = [shared_ticket](const store::ImportProgress& p) {
    if (p.bytes_total != 0) shared_ticket->set_total(p.bytes_total);
    shared_ticket->update(p.bytes_read, p.rows);
  };
  opts.stop = stop_.get_token();

  spdlog::info("contacts-import into {} from {} started by {}", row.spec.name, source, actor(r));
  JobGuard guard(jobs_);
  auto job = [this, opts = std::move(opts), id = row.id, fd = input.get(),
              reject_fd = reject_fd.get(),
              private_reject]() -> std::optional<Result<store::ImportReport>> {
    auto report = importer_.run_on_own_connection(d_.db_path, d_.worker_open_options, id, fd, opts);
    if (report && private_reject) {
      if (auto c = copy_file_to_fd(*private_reject, reject_fd); !c) {
        spdlog::warn("contacts-import: the reject file could not be written: {}", c.error().what());
      }
    }
    if (private_reject) {
      std::error_code ec;
      std::filesystem::remove(*private_reject, ec);
    }
    return report;
  };
  auto report = co_await admin::run_on(d_.worker, std::move(job));
  shared_ticket.reset();
  if (!report || !*report) {
    if (created_reject) remove_confined(*created_reject);
    const Error e = report ? report->error() : Error{errc::io_error, "import failed"};
    spdlog::warn("contacts-import into {} failed: {}", row.spec.name, e.what());
    if (e.code == make_error_code(errc::cancelled))
      co_return Response::error("contacts-import cancelled: the daemon is shutting down");
    co_return Response::error("contacts-import into " + row.spec.name +
                              " failed, nothing imported: " + e.message);
  }
  const auto& rep = report->value();
  if (!rep.warning.empty()) spdlog::warn("contacts-import into {}: {}", row.spec.name, rep.warning);
  if (rep.imported + rep.dnc > 0) {
    if (auto added = d_.scheduler.contacts_added(row.spec.name); !added) {
      spdlog::info("contacts-import: {}", added.error().what());
    }
  }
  json::object o = store::to_json(rep);
  o["campaign"] = row.spec.name;
  if (*reject && !(*reject)->empty()) o["reject_file"] = **reject;
  spdlog::info("contacts-import into {}: {} rows, {} imported, {} invalid, {} duplicates, {} dnc",
               row.spec.name, rep.rows, rep.imported, rep.invalid, rep.duplicates, rep.dnc);
  co_return Response::success("imported " + std::to_string(rep.imported) + " of " +
                                  std::to_string(rep.rows) + " row(s) into campaign " +
                                  row.spec.name,
                              std::move(o));
}

asio::awaitable<Response> AdminHandlers::Impl::dnc_import(Request r) {
  if (auto u = unknown_argument(r.arguments, {"path", "default_region", "reason"})) {
    co_return Response::error(*u);
  }
  auto region = opt_string(r.arguments, "default_region");
  if (!region) co_return bad(region.error());
  auto reason = opt_string(r.arguments, "reason");
  if (!reason) co_return bad(reason.error());
  auto path = opt_string(r.arguments, "path");
  if (!path) co_return bad(path.error());
  admin::UniqueFd input;
  if (!r.fds.empty()) {
    input = std::move(r.fds[0]);
  } else if (*path && !(*path)->empty()) {
    auto opened = open_confined_for_reading(files_dir(), "path", **path);
    if (!opened) co_return Response::error(opened.error().message);
    input = std::move(opened->fd);
  } else {
    co_return Response::error("dnc-import needs a file: a passed descriptor or 'path'");
  }
  struct Outcome {
    store::DncFileReport file;
    std::int64_t added = 0;
    std::int64_t skipped = 0;
    std::string error;  ///< the read or a chunk failed after `added` numbers were committed
  };
  JobGuard guard(jobs_);
  auto job = [this, fd = input.get(), region = region->value_or(""),
              why = reason->value_or("import")]() -> std::optional<Result<Outcome>> {
    Outcome out;
    // Bad input changes nothing: a file (not a pipe) is read through once first, so a row past
    // the limit or a broken CSV quote is refused before any number is added.
    struct stat st {};
    if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
      auto check = store::read_dnc_file(
          fd, region, kDncImportChunk, [](std::span<const std::string>) { return Result<void>{}; });
      if (!check) return Result<Outcome>(check.error());
      if (::lseek(fd, 0, SEEK_SET) != 0) {
        return Result<Outcome>(Error{errc::io_error, "cannot read the file again from its start"});
      }
    }
    auto db = store::Database::open(d_.db_path, d_.worker_open_options);
    if (!db) return Result<Outcome>(db.error());
    store::DncRepo dnc(*db);
    store::ContactRepo contacts(*db);
    // One short transaction per chunk, as contacts-import does: the event loop's writes wait
    // for one chunk at most, never for the whole file. Numbers added stay added if a later
    // chunk fails (adding to the DNC list only ever prevents calls); the answer says how many.
    auto chunk = [&](std::span<const std::string> numbers) -> Result<void> {
      auto tx = store::Transaction::begin(*db);
      if (!tx) return tx.error();
      const TimePoint now = d_.clock.now();
      auto added = dnc.add(numbers, why, "import", now);
      if (!added) return added.error();
      std::int64_t skipped = 0;
      for (const auto& n : numbers) {
        auto s = contacts.skip_queued_by_phone(n, "dnc", now);
        if (!s) return s.error();
        skipped += *s;
      }
      if (auto c = tx->commit(); !c) return c.error();
      out.added += *added;
      out.skipped += skipped;
      return {};
    };
    auto file = store::read_dnc_file(fd, region, kDncImportChunk, chunk);
    if (!file) {
      if (out.added == 0 && out.skipped == 0) return Result<Outcome>(file.error());
      out.error = file.error().message;
      return Result<Outcome>(std::move(out));
    }
    out.file = std::move(*file);
    return Result<Outcome>(std::move(out));
  };
  auto result = co_await admin::run_on(d_.worker, std::move(job));
  if (!result || !*result) {
    co_return Response::error("dnc-import failed, nothing added: " +
                              (result ? result->error().message : std::string("failed")));
  }
  if (!result->value().error.empty()) {
    const auto& part = result->value();
    co_return Response::error("dnc-import stopped: " + part.error + "; " +
                              std::to_string(part.added) +
                              " number(s) were added before it and stay on the list (" +
                              std::to_string(part.skipped) + " queued contact(s) skipped)");
  }
  const auto& out = result->value();
  json::array errors;
  for (const auto& e : out.file.errors) {
    // A row that does not look like a phone number may be anything the file held (a secret,
    // if the wrong file was named): reported by line only, never echoed.
    json::object err{{"line", e.line}, {"column", e.column}, {"reason", e.reason}};
    if (looks_like_phone_number(e.value)) err["value"] = e.value;
    errors.push_back(std::move(err));
  }
  co_return Response::success(
      std::to_string(out.added) + " number(s) added to the DNC list",
      json::object{{"rows", out.file.rows},
                   {"numbers", out.file.numbers},
                   {"added", out.added},
                   {"already_listed", static_cast<std::int64_t>(out.file.numbers) - out.added},
                   {"invalid", out.file.invalid},
                   {"contacts_skipped", out.skipped},
                   {"errors", std::move(errors)}});
}

// --- public face ---------------------------------------------------------------------------

AdminHandlers::AdminHandlers(AdminDeps deps) : jobs_(std::make_shared<std::atomic<int>>(0)) {
  impl_ = std::make_unique<Impl>(std::move(deps), jobs_);
}

AdminHandlers::~AdminHandlers() = default;

Response AdminHandlers::Impl::account_unblock(Request& r) {
  if (auto u = unknown_argument(r.arguments, {})) return Response::error(*u);
  const auto before = d_.scheduler.status();
  if (before.account_block == scheduler::AccountBlock::none) {
    return Response::conflict("dialling is not stopped for the account");
  }
  d_.scheduler.clear_account_block();
  return Response::success(
      "account block (" + std::string(to_string(before.account_block)) +
          ") lifted; if the API refuses again, dialling stops again",
      json::object{{"was", to_string(before.account_block)}, {"message", before.account_message}});
}

Response AdminHandlers::Impl::log_level_set(Request& r) {
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

Response AdminHandlers::Impl::attempt_resolve(Request& r) {
  if (auto u = unknown_argument(r.arguments, {"id", "as"})) return Response::error(*u);
  auto id = opt_int(r.arguments, "id", 0, 1, INT64_MAX);
  if (!id) return bad(id.error());
  if (*id == 0)
    return Response::error("argument 'id' is required (the attempt's id, from calls-list)");
  auto as = req_string(r.arguments, "as");
  if (!as) return bad(as.error());
  scheduler::Resolution how{};
  if (*as == "void") {
    how = scheduler::Resolution::void_;
  } else if (*as == "lost") {
    how = scheduler::Resolution::lost;
  } else {
    return Response::error(
        "argument 'as' must be void (no call was made) or lost (a call may "
        "have been made)");
  }
  if (auto res = d_.scheduler.resolve_attempt(*id, how, actor(r)); !res) {
    if (res.error().code == make_error_code(errc::not_found)) {
      return Response::empty(res.error().message);
    }
    if (res.error().code == make_error_code(errc::conflict)) {
      return Response::conflict(res.error().message);
    }
    return Response::error(res.error().message);
  }
  return Response::success(
      "attempt " + std::to_string(*id) + " resolved as " + *as +
          (how == scheduler::Resolution::void_
               ? ": its contact is queued again, not counted"
               : ": counted, its contact goes through the retry rule for lost"),
      json::object{{"attempt_id", *id}, {"as", *as}});
}

Result<void> AdminHandlers::register_all() {
  return impl_->register_all();
}

admin::AuditHook AdminHandlers::audit_hook() {
  return [impl = impl_.get()](const admin::AuditEvent& e) { impl->audit(e); };
}

void AdminHandlers::cancel_jobs() {
  impl_->stop_.request_stop();
}

}  // namespace dialer::daemon
