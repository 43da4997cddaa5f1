#include "daemon/commands/forecast_command.hpp"

#include "daemon/admin_args.hpp"
#include "daemon/forecast.hpp"
#include "daemon/scheduler_json.hpp"

#include <spdlog/spdlog.h>

namespace dialer::daemon {
namespace json = boost::json;
namespace asio = boost::asio;
using admin::Request;
using admin::Response;

Result<void> ForecastCommand::register_all() {
  return d_.registry.add(
      "campaign-forecast",
      "when a campaign finishes and what it costs from here, by day: the scheduler run in "
      "simulated time on a copy of the store {campaign, progress_id?, max_seconds?, horizon_days?}",
      admin::Effect::read_only, [this](Request q) { return forecast(std::move(q)); });
}

std::optional<json::object> ForecastCommand::last_of(const std::string& campaign) const {
  std::lock_guard lock(mutex_);
  auto it = last_.find(campaign);
  if (it == last_.end()) return std::nullopt;
  return it->second;
}

asio::awaitable<Response> ForecastCommand::forecast(Request r) {
  if (auto u =
          unknown_argument(r.arguments, {"campaign", "progress_id", "max_seconds", "horizon_days"},
                           ListAllowed::yes)) {
    co_return Response::error(*u);
  }
  auto campaign = req_string(r.arguments, "campaign");
  if (!campaign) co_return Response::error("argument 'campaign': required, a campaign name or id");
  auto max_seconds = opt_strict_int(r.arguments, "max_seconds", 60, 1, 600);
  if (!max_seconds) co_return bad(max_seconds.error());
  auto horizon_days = opt_strict_int(r.arguments, "horizon_days", 60, 1, 366);
  if (!horizon_days) co_return bad(horizon_days.error());
  if (d_.db_path.empty()) {
    co_return Response::error(
        "campaign-forecast simulates on a copy of the SQLite store; it is not available with "
        "store.backend: postgresql");
  }
  // One at a time: each holds a copy of the store and a worker thread.
  if (running_->exchange(true)) co_return Response::conflict("a forecast is running already");
  struct Release {
    std::shared_ptr<std::atomic<bool>> flag;
    ~Release() { flag->store(false); }
  } release{running_};

  ForecastRequest rq;
  rq.store_path = d_.db_path;
  rq.scratch = d_.scratch_dir;
  rq.campaign = std::move(*campaign);
  rq.now = d_.clock.now();
  rq.options = d_.scheduler.options();
  rq.parse_session = d_.parse_session;
  const auto status = d_.scheduler.status();
  rq.concurrency_limit = std::max(1, status.slots.limit - status.slots.foreign);
  const auto& cfg = d_.control.config();
  rq.calls_per_minute = cfg.vocobase.calls_per_minute;
  rq.general_per_minute = cfg.vocobase.general_per_minute;
  rq.credit_balance = status.credits.balance;
  rq.horizon = std::chrono::hours{24 * *horizon_days};
  rq.wall_budget = std::chrono::seconds{*max_seconds};

  std::shared_ptr<admin::ProgressTicket> ticket;
  if (const auto* id = r.arguments.if_contains("progress_id"); id && id->is_string()) {
    auto t = d_.progress.begin(std::string(id->get_string()), "forecast " + rq.campaign,
                               static_cast<std::uint64_t>(rq.horizon.count() / 1000));
    if (!t) co_return Response::error("argument 'progress_id': " + t.error().message);
    ticket = std::make_shared<admin::ProgressTicket>(std::move(*t));
  }
  auto job = [rq, ticket, token = stop_.get_token()]() {
    auto progress = [&ticket](Millis simulated, std::int64_t calls) {
      if (ticket)
        ticket->update(static_cast<std::uint64_t>(simulated.count() / 1000),
                       static_cast<std::uint64_t>(calls));
    };
    return run_forecast(rq, progress, token);
  };
  auto result = co_await admin::run_on(d_.worker, std::move(job));
  if (!result) {
    if (result.error().code == make_error_code(errc::not_found)) {
      co_return Response::empty("no campaign " + rq.campaign);
    }
    co_return Response::error("forecast of " + rq.campaign + " failed: " + result.error().message);
  }
  const auto& f = *result;
  auto args = to_json(f);
  std::string text;
  if (f.finish_at) {
    text = "campaign " + f.campaign + " finishes " + f.finish_at_local + ": " +
           std::to_string(f.calls) + " calls";
    char buf[64];
    std::snprintf(buf, sizeof buf, ", %.2f credits from here", f.credits);
    text += buf;
  } else {
    text = "campaign " + f.campaign + " does not finish within the forecast (" +
           (f.assumptions.empty() ? std::string() : f.assumptions.back()) + ")";
  }
  {
    std::lock_guard lock(mutex_);
    last_[f.campaign] =
        json::object{{"finish_at", args.at("finish_at")}, {"made_at", format_iso8601(rq.now)}};
  }
  spdlog::info("forecast of campaign {}: {} (simulated {} s in {} ms)", f.campaign, text,
               f.simulated.count() / 1000, f.wall.count());
  co_return Response::success(std::move(text), std::move(args));
}

}  // namespace dialer::daemon
