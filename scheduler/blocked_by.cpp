#include "scheduler/blocked_by.hpp"

#include "scheduler/calling_window.hpp"

#include <cstdio>

namespace dialer::scheduler {
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
                                            const date::time_zone* zone, std::string contact) {
  auto b = of(BlockReason::outside_calling_window);
  b.at = opens_at;
  b.contact = std::move(contact);
  if (zone != nullptr) {
    b.timezone = std::string{zone->name()};
    if (opens_at) b.at_local = format_local(*opens_at, zone);
  }
  return b;
}

BlockedBy BlockedBy::no_due_contacts(std::optional<TimePoint> next_due, std::string contact,
                                     std::optional<Outcome> retry_after) {
  auto b = of(BlockReason::no_due_contacts);
  b.at = next_due;
  b.contact = std::move(contact);
  b.retry_after = retry_after;
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

std::string format_in(Millis d) {
  const auto s = std::chrono::duration_cast<std::chrono::seconds>(d).count();
  if (s <= 0) return "now";
  char buf[48];
  if (s < 60) {
    std::snprintf(buf, sizeof buf, "in %lld s", static_cast<long long>(s));
  } else if (s < 3600) {
    std::snprintf(buf, sizeof buf, "in %lld min", static_cast<long long>(s / 60));
  } else if (s < 86400) {
    std::snprintf(buf, sizeof buf, "in %lld h %02lld min", static_cast<long long>(s / 3600),
                  static_cast<long long>((s % 3600) / 60));
  } else {
    std::snprintf(buf, sizeof buf, "in %lld d %lld h", static_cast<long long>(s / 86400),
                  static_cast<long long>((s % 86400) / 3600));
  }
  return buf;
}

std::string to_text(const BlockedBy& b, std::optional<TimePoint> now) {
  // "2026-…Z (in 7 s)": the instant, and how far off it is when `now` is known.
  const auto when = [&](TimePoint at, const std::string& shown) {
    return now ? shown + " (" + format_in(at - *now) + ")" : shown;
  };
  switch (b.reason) {
    case BlockReason::none:
      return {};
    case BlockReason::not_running:
      return "not running";
    case BlockReason::no_free_slot:
      return "no free slot (" + std::to_string(b.used) + "/" + std::to_string(b.limit) + " in use)";
    case BlockReason::rate_limited:
      return b.at ? "rate limited until " + when(*b.at, format_iso8601(*b.at)) : "rate limited";
    case BlockReason::outside_calling_window: {
      std::string s = "outside calling window";
      if (!b.contact.empty()) s += " of " + b.contact + " (" + b.timezone + ")";
      if (!b.at) return s + "; it never opens";
      s += "; opens ";
      if (b.at_local.empty()) {
        s += when(*b.at, format_iso8601(*b.at));
      } else if (b.contact.empty()) {
        s += when(*b.at, b.at_local + " (" + b.timezone + ")");
      } else {
        s += when(*b.at, b.at_local);
      }
      return s;
    }
    case BlockReason::no_due_contacts: {
      if (!b.at) return "no due contacts";
      std::string s = "no due contacts; next due " + when(*b.at, format_iso8601(*b.at));
      if (!b.contact.empty()) {
        s += ": " + b.contact;
        if (b.retry_after) s += ", retry after " + std::string(to_string(*b.retry_after));
      }
      return s;
    }
    case BlockReason::credit_exhausted:
      return "credit exhausted";
    case BlockReason::provider_unavailable:
      return b.at ? "no usable provider until " + when(*b.at, format_iso8601(*b.at))
                  : "no usable provider";
    case BlockReason::account_blocked:
      return b.message.empty() ? "account blocked by the API (see status)"
                               : "account blocked by the API: " + b.message;
    case BlockReason::number_in_call_elsewhere:
      return b.at ? "due numbers are in a call of another campaign; next try " +
                        when(*b.at, format_iso8601(*b.at))
                  : "due numbers are in a call of another campaign";
    case BlockReason::unknown_timezone:
      return "unknown time zone \"" + b.timezone +
             "\" (not in this machine's tzdata): nobody in it is called";
    case BlockReason::api_unreachable:
      return b.at ? "the API cannot be reached; next try " + when(*b.at, format_iso8601(*b.at))
                  : "the API cannot be reached";
    case BlockReason::paused_by_errors:
      return b.message.empty() ? "paused after consecutive failed starts"
                               : "paused after consecutive failed starts; last error: " + b.message;
    case BlockReason::standby:
      return "this node is the standby: the leader dials";
  }
  return {};
}

}  // namespace dialer::scheduler
