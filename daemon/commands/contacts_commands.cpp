#include "daemon/commands/contacts_commands.hpp"

#include "api/admin/unique_fd.hpp"
#include "core/enums.hpp"
#include "daemon/admin_args.hpp"
#include "daemon/admin_files.hpp"
#include "daemon/admin_views.hpp"
#include "store/attempt_repo.hpp"
#include "store/contact_repo.hpp"
#include "store/csv_reader.hpp"
#include "store/phone.hpp"
#include "store/sqlite/contact_import.hpp"

#include <boost/json/array.hpp>
#include <climits>
#include <spdlog/spdlog.h>

#include <filesystem>
#include <memory>
#include <optional>
#include <sys/stat.h>
#include <unordered_map>
#include <utility>
#include <variant>

namespace dialer::daemon {

namespace {

Response contacts_list(CommandContext& c, Request& r) {
  if (auto u = unknown_argument(r.arguments, {"campaign", "state", "limit", "offset"})) {
    return Response::error(*u);
  }
  auto found = c.find_campaign(r.arguments, true);
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
  auto& repo = c.d.store.contacts();
  auto rows = repo.list(row.id, state, *limit, *offset);
  if (!rows) return Response::error(rows.error().message);
  json::array list;
  for (const auto& contact : *rows) list.push_back(contact_json(contact));
  const auto n = list.size();
  json::object o{{"campaign", row.spec.name}, {"contacts", std::move(list)}};
  if (n == 0) return Response::empty("no contacts", std::move(o));
  return Response::success(std::to_string(n) + " contact(s) of campaign " + row.spec.name,
                           std::move(o));
}

Response calls_list(CommandContext& c, Request& r) {
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
    auto found = c.find_campaign(r.arguments, true);
    if (auto* resp = std::get_if<Response>(&found)) return std::move(*resp);
    campaign_id = std::get<store::CampaignRow>(found).id;
  }
  auto& attempts = c.d.store.attempts();
  auto rows = attempts.list(campaign_id, *in_flight, *limit, *offset);
  if (!rows) return Response::error(rows.error().message);
  auto& campaigns = c.d.store.campaigns();
  std::unordered_map<std::int64_t, std::string> names;
  json::array list;
  for (const auto& a : *rows) {
    auto it = names.find(a.campaign_id);
    if (it == names.end()) {
      auto row = campaigns.get(a.campaign_id);
      it = names
               .emplace(a.campaign_id,
                        row && *row ? (*row)->spec.name : std::to_string(a.campaign_id))
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

Response attempt_resolve(CommandContext& c, Request& r) {
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
  if (auto res = c.d.scheduler.resolve_attempt(*id, how, CommandContext::actor(r)); !res) {
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

asio::awaitable<Response> contacts_import(CommandContext& c, Request r) {
  if (auto u =
          unknown_argument(r.arguments, {"campaign", "default_region", "phone_column",
                                         "reject_file", "mobile_only", "path", "progress_id"})) {
    co_return Response::error(*u);
  }
  auto found = c.find_campaign(r.arguments, false);
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
    auto opened = open_confined_for_reading(c.files_dir(), "path", **path);
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
      auto made = create_confined(c.files_dir(), "reject_file", **reject);
      if (!made) co_return Response::error(made.error().message);
      reject_fd = std::move(made->fd);
      created_reject = std::move(*made);
    }
    auto scratch = scratch_file(c.d.scratch_dir, "reject");
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
  const std::string job_id =
      *progress_id && !(*progress_id)->empty() ? **progress_id : c.jobs.next_id("import");
  auto ticket = c.d.progress.begin(job_id, "contacts-import " + row.spec.name, total);
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
  opts.stop = c.jobs.stop_token();

  spdlog::info("contacts-import into {} from {} started by {}", row.spec.name, source,
               CommandContext::actor(r));
  auto guard = c.jobs.guard();
  auto job = [&c, opts = std::move(opts), id = row.id, fd = input.get(),
              reject_fd = reject_fd.get(),
              private_reject]() -> std::optional<Result<store::ImportReport>> {
    // The importer holds only references to read-only state: one per import is as good as one.
    const store::ContactImporter importer(c.d.zones, c.d.clock);
    auto db = c.jobs.connect();
    auto report = db ? importer.run(*db, id, fd, opts) : Result<store::ImportReport>(db.error());
    if (report && private_reject) {
      if (auto copied = copy_file_to_fd(*private_reject, reject_fd); !copied) {
        spdlog::warn("contacts-import: the reject file could not be written: {}",
                     copied.error().what());
      }
    }
    if (private_reject) {
      std::error_code ec;
      std::filesystem::remove(*private_reject, ec);
    }
    return report;
  };
  auto report = co_await c.jobs.run(std::move(job));
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
    if (auto added = c.d.scheduler.contacts_added(row.spec.name); !added) {
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

}  // namespace

Result<void> register_contacts_commands(CommandContext& c) {
  const auto ro = admin::Effect::read_only;
  const auto rw = admin::Effect::changes_state;
  return first_error({
      c.add("contacts-import", "import a CSV list (passed descriptor or `path`)", rw,
            &contacts_import),
      c.add("contacts-list", "a campaign's contacts, optionally of one state", ro, &contacts_list),
      c.add("calls-list", "attempts, newest first (`in_flight` for open ones)", ro, &calls_list),
      c.add("attempt-resolve", "settle an ambiguous attempt by hand: {id, as: void|lost}", rw,
            &attempt_resolve),
  });
}

}  // namespace dialer::daemon
