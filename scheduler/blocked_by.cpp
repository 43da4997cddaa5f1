#include "scheduler/blocked_by.hpp"

#include "scheduler/calling_window.hpp"

#include <boost/json/object.hpp>

namespace dialer::scheduler {
namespace {

boost::json::value iso_or_null(const std::optional<TimePoint>& t) {
  if (!t) return nullptr;
  return boost::json::value(format_iso8601(*t));
}

}  // namespace

BlockedBy BlockedBy::no_free_slot(int used, int limit) {
  auto b = of(BlockReason::no_free_slot);
  b.used = used;
  b.limit = limit;
  return b;
}

BlockedBy BlockedBy::rate_limited(TimePoint next_token) {
  auto b = of(BlockReason::rate_limited);
  b.at = next_token;
  return b;
}

BlockedBy BlockedBy::outside_calling_window(std::optional<TimePoint> opens_at,
                                            const date::time_zone* campaign_zone) {
  auto b = of(BlockReason::outside_calling_window);
  b.at = opens_at;
  if (campaign_zone != nullptr) {
    b.timezone = std::string{campaign_zone->name()};
    if (opens_at) b.at_local = format_local(*opens_at, campaign_zone);
  }
  return b;
}

BlockedBy BlockedBy::no_due_contacts(std::optional<TimePoint> next_due) {
  auto b = of(BlockReason::no_due_contacts);
  b.at = next_due;
  return b;
}

BlockedBy BlockedBy::provider_unavailable(std::optional<TimePoint> back_at) {
  auto b = of(BlockReason::provider_unavailable);
  b.at = back_at;
  return b;
}

BlockedBy BlockedBy::number_in_call_elsewhere(std::optional<TimePoint> retry_at) {
  auto b = of(BlockReason::number_in_call_elsewhere);
  b.at = retry_at;
  return b;
}

BlockedBy BlockedBy::unknown_timezone(std::string zone) {
  auto b = of(BlockReason::unknown_timezone);
  b.timezone = std::move(zone);
  return b;
}

boost::json::value to_json(const BlockedBy& b) {
  if (b.reason == BlockReason::none) return nullptr;
  boost::json::object o;
  o["reason"] = to_string(b.reason);
  switch (b.reason) {
    case BlockReason::no_free_slot:
      o["used"] = b.used;
      o["limit"] = b.limit;
      break;
    case BlockReason::rate_limited:
      o["next_token_at"] = iso_or_null(b.at);
      break;
    case BlockReason::outside_calling_window:
      o["opens_at"] = iso_or_null(b.at);
      if (b.at_local.empty()) {
        o["opens_at_local"] = nullptr;
      } else {
        o["opens_at_local"] = b.at_local;
      }
      o["timezone"] = b.timezone;
      break;
    case BlockReason::no_due_contacts:
      o["next_due_at"] = iso_or_null(b.at);
      break;
    case BlockReason::provider_unavailable:
      o["until"] = iso_or_null(b.at);
      break;
    case BlockReason::number_in_call_elsewhere:
      o["next_try_at"] = iso_or_null(b.at);
      break;
    case BlockReason::unknown_timezone:
      o["timezone"] = b.timezone;
      break;
    case BlockReason::api_unreachable:
      o["next_try_at"] = iso_or_null(b.at);
      break;
    case BlockReason::none:
    case BlockReason::not_running:
    case BlockReason::credit_exhausted:
    case BlockReason::account_blocked:
      break;
  }
  return o;
}

std::string to_text(const BlockedBy& b) {
  switch (b.reason) {
    case BlockReason::none:
      return {};
    case BlockReason::not_running:
      return "not running";
    case BlockReason::no_free_slot:
      return "no free slot (" + std::to_string(b.used) + "/" + std::to_string(b.limit) + " in use)";
    case BlockReason::rate_limited:
      return b.at ? "rate limited until " + format_iso8601(*b.at) : "rate limited";
    case BlockReason::outside_calling_window: {
      if (!b.at) return "outside calling window; it never opens";
      std::string s = "outside calling window; opens ";
      if (b.at_local.empty()) {
        s += format_iso8601(*b.at);
      } else {
        s += b.at_local + " (" + b.timezone + ")";
      }
      return s;
    }
    case BlockReason::no_due_contacts:
      return b.at ? "no due contacts; next due " + format_iso8601(*b.at) : "no due contacts";
    case BlockReason::credit_exhausted:
      return "credit exhausted";
    case BlockReason::provider_unavailable:
      return b.at ? "no usable provider until " + format_iso8601(*b.at) : "no usable provider";
    case BlockReason::account_blocked:
      return "account blocked by the API (see status)";
    case BlockReason::number_in_call_elsewhere:
      return b.at ? "due numbers are in a call of another campaign; next try " +
                        format_iso8601(*b.at)
                  : "due numbers are in a call of another campaign";
    case BlockReason::unknown_timezone:
      return "unknown time zone \"" + b.timezone +
             "\" (not in this machine's tzdata): nobody in it is called";
    case BlockReason::api_unreachable:
      return b.at ? "the API cannot be reached; next try " + format_iso8601(*b.at)
                  : "the API cannot be reached";
  }
  return {};
}

}  // namespace dialer::scheduler
