#include "daemon/forecast_command.hpp"

#include "scheduler/forecast.hpp"

#include <spdlog/spdlog.h>

namespace dialer::daemon {
namespace json = boost::json;
namespace asio = boost::asio;
using admin::Request;
using admin::Response;

namespace {

/// An integer argument in [lo, hi], or `fallback` when absent; the error text otherwise.
std::optional<std::string> int_arg(const json::object& args, std::string_view key, std::int64_t lo,
                                   std::int64_t hi, std::int64_t& out) {
  const auto* v = args.if_contains(key);
  if (v == nullptr) return std::nullopt;
  if (!v->is_int64() || v->get_int64() < lo || v->get_int64() > hi) {
    return "argument '" + std::string(key) + "': an integer from " + std::to_string(lo) + " to " +
           std::to_string(hi);
  }
  out = v->get_int64();
  return std::nullopt;
}

}  // namespace

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
  for (const auto& [k, v] : r.arguments) {
    if (k != "campaign" && k != "progress_id" && k != "max_seconds" && k != "horizon_days") {
      co_return Response::error("unknown argument '" + std::string(k) +
                                "' (campaign, progress_id, max_seconds, horizon_days)");
    }
  }
  const auto* c = r.arguments.if_contains("campaign");
  if (c == nullptr || !c->is_string() || c->get_string().empty()) {
    co_return Response::error("argument 'campaign': required, a campaign name or id");
  }
  std::int64_t max_seconds = 60, horizon_days = 60;
  if (auto e = int_arg(r.arguments, "max_seconds", 1, 600, max_seconds))
    co_return Response::error(*e);
  if (auto e = int_arg(r.arguments, "horizon_days", 1, 366, horizon_days)) {
    co_return Response::error(*e);
  }
  // One at a time: each holds a copy of the store and a worker thread.
  if (running_->exchange(true)) co_return Response::conflict("a forecast is running already");
  struct Release {
    std::shared_ptr<std::atomic<bool>> flag;
    ~Release() { flag->store(false); }
  } release{running_};

  scheduler::ForecastRequest rq;
  rq.store_path = d_.db_path;
  rq.scratch = d_.scratch_dir;
  rq.campaign = std::string(c->get_string());
  rq.now = d_.clock.now();
  rq.options = d_.scheduler.options();
  rq.parse_session = d_.parse_session;
  const auto status = d_.scheduler.status();
  rq.concurrency_limit = std::max(1, status.slots.limit - status.slots.foreign);
  const auto& cfg = d_.control.config();
  rq.calls_per_minute = cfg.vocobase.calls_per_minute;
  rq.general_per_minute = cfg.vocobase.general_per_minute;
  rq.credit_balance = status.credits.balance;
  rq.horizon = std::chrono::hours{24 * horizon_days};
  rq.wall_budget = std::chrono::seconds{max_seconds};

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
    return scheduler::run_forecast(rq, progress, token);
  };
  auto result = co_await admin::run_on(d_.worker, std::move(job));
  if (!result) {
    if (result.error().code == make_error_code(errc::not_found)) {
      co_return Response::empty("no campaign " + rq.campaign);
    }
    co_return Response::error("forecast of " + rq.campaign + " failed: " + result.error().message);
  }
  const auto& f = *result;
  auto args = scheduler::to_json(f);
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
