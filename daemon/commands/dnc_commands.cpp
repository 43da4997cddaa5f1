#include "daemon/commands/dnc_commands.hpp"

#include "api/admin/unique_fd.hpp"
#include "daemon/admin_args.hpp"
#include "daemon/admin_files.hpp"
#include "scheduler/lifecycle.hpp"
#include "store/dnc_file.hpp"
#include "store/dnc_repo.hpp"
#include "store/phone.hpp"

#include <boost/json/array.hpp>
#include <boost/json/serialize.hpp>
#include <climits>

#include <algorithm>
#include <span>
#include <string>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

namespace dialer::daemon {

Result<std::int64_t> skip_queued_for_dnc(store::Store& store, std::string_view phone, TimePoint now,
                                         std::string actor) {
  return scheduler::Lifecycle(store, std::move(actor)).skip_queued_number(phone, "dnc", now);
}

namespace {

/// Numbers one dnc-add / dnc-remove request may carry.
constexpr std::size_t kMaxDncNumbers = 10'000;
/// Numbers a DNC import commits per transaction.
constexpr std::size_t kDncImportChunk = 5'000;

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

/// The `numbers` argument in E.164, each once; every number that is not one, in one error.
Result<std::vector<std::string>> normalize_numbers(const json::object& args) {
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

Response dnc_add(CommandContext& c, Request& r) {
  if (auto u = unknown_argument(r.arguments, {"numbers", "reason", "default_region"})) {
    return Response::error(*u);
  }
  auto numbers = normalize_numbers(r.arguments);
  if (!numbers) return bad(numbers.error());
  auto reason = opt_string(r.arguments, "reason");
  if (!reason) return bad(reason.error());
  const TimePoint now = c.d.clock.now();
  auto tx = c.d.store.begin();
  if (!tx) return Response::error(tx.error().message);
  auto& dnc = c.d.store.dnc();
  auto added = dnc.add(*numbers, reason->value_or("admin"), "admin", now);
  if (!added) return Response::error(added.error().message);
  std::int64_t skipped = 0;
  for (const auto& n : *numbers) {
    auto s = skip_queued_for_dnc(c.d.store, n, now, CommandContext::actor(r));
    if (!s) return Response::error(s.error().message);
    skipped += *s;
  }
  if (auto done = tx->commit(); !done) return Response::error(done.error().message);
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

Response dnc_remove(CommandContext& c, Request& r) {
  if (auto u = unknown_argument(r.arguments, {"numbers", "default_region"})) {
    return Response::error(*u);
  }
  auto numbers = normalize_numbers(r.arguments);
  if (!numbers) return bad(numbers.error());
  auto& dnc = c.d.store.dnc();
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

Response dnc_list(CommandContext& c, Request& r) {
  if (auto u = unknown_argument(r.arguments, {"limit", "offset"})) return Response::error(*u);
  auto limit = opt_int(r.arguments, "limit", 1000, 1, kMaxListLimit);
  if (!limit) return bad(limit.error());
  auto offset = opt_int(r.arguments, "offset", 0, 0, INT64_MAX);
  if (!offset) return bad(offset.error());
  auto& dnc = c.d.store.dnc();
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

asio::awaitable<Response> dnc_import(CommandContext& c, Request r) {
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
    auto opened = open_confined_for_reading(c.files_dir(), "path", **path);
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
  auto guard = c.jobs.guard();
  auto job = [&c, fd = input.get(), region = region->value_or(""),
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
    auto db = c.jobs.open_store();
    if (!db) return Result<Outcome>(db.error());
    auto& dnc = (*db)->dnc();
    // One short transaction per chunk, as contacts-import does: the event loop's writes wait
    // for one chunk at most, never for the whole file. Numbers added stay added if a later
    // chunk fails (adding to the DNC list only ever prevents calls); the answer says how many.
    auto chunk = [&](std::span<const std::string> numbers) -> Result<void> {
      auto tx = (*db)->begin();
      if (!tx) return tx.error();
      const TimePoint now = c.d.clock.now();
      auto added = dnc.add(numbers, why, "import", now);
      if (!added) return added.error();
      std::int64_t skipped = 0;
      for (const auto& n : numbers) {
        auto s = skip_queued_for_dnc(**db, n, now, "import");
        if (!s) return s.error();
        skipped += *s;
      }
      if (auto done = tx->commit(); !done) return done.error();
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
  auto result = co_await c.jobs.run(std::move(job));
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

}  // namespace

Result<void> register_dnc_commands(CommandContext& c) {
  const auto ro = admin::Effect::read_only;
  const auto rw = admin::Effect::changes_state;
  return first_error({
      c.add("dnc-add", "put numbers on the do-not-call list", rw, &dnc_add),
      c.add("dnc-remove", "take numbers off the do-not-call list", rw, &dnc_remove),
      c.add("dnc-list", "the do-not-call list", ro, &dnc_list),
      c.add("dnc-import", "add every number of a file (descriptor or `path`)", rw, &dnc_import),
  });
}

}  // namespace dialer::daemon
