#include "api/webhook/stats.hpp"

#include <algorithm>

namespace dialer::api {
namespace {

constexpr std::string_view kSecretsHint =
    "check webhook.secrets / webhook.secrets_file against the endpoint's signing secret";

/// Printable ASCII only, at most 64 characters: a request target is attacker-controlled.
std::string printable(std::string_view s) {
  std::string out;
  for (char ch : s.substr(0, 64)) out += (ch >= 0x20 && ch < 0x7f) ? ch : '?';
  if (s.size() > 64) out += "…";
  return out;
}

}  // namespace

WebhookRefusal refusal_for(SignatureCheck check, TimePoint at) {
  switch (check) {
    case SignatureCheck::mismatch:
      return {at, "signature mismatch",
              "no configured secret produced X-Webhook-Signature: " + std::string(kSecretsHint)};
    case SignatureCheck::stale_timestamp:
      return {at, "stale timestamp",
              "X-Webhook-Timestamp is outside webhook.tolerance of this machine's clock: check "
              "the clock (timedatectl) or raise webhook.tolerance"};
    case SignatureCheck::bad_timestamp:
      return {at, "unreadable timestamp", "X-Webhook-Timestamp is not ISO-8601"};
    case SignatureCheck::missing_signature:
      return {at, "missing signature",
              "the request had no X-Webhook-Signature: is something other than Vocobase posting "
              "to webhook.path, or a proxy dropping headers?"};
    case SignatureCheck::missing_timestamp:
      return {at, "missing timestamp",
              "the request had no X-Webhook-Timestamp: a proxy may be dropping headers"};
    case SignatureCheck::malformed_signature:
      return {at, "malformed signature", "X-Webhook-Signature is not sha256=<64 hex digits>"};
    case SignatureCheck::ok:
      break;
  }
  return {at, "refused", ""};
}

WebhookRefusal refusal_for_path(std::string_view target, std::string_view expected, TimePoint at) {
  const auto q = target.find('?');
  return {at, "unknown path " + printable(target.substr(0, q)),
          "deliveries are accepted on webhook.path (" + std::string(expected) +
              "): check it against the endpoint's URL"};
}

WebhookRefusal refusal_for_body(std::string_view what, TimePoint at) {
  return {at, std::string(what), "the body is not a session.completed event dialerd can read"};
}

boost::json::object to_json(const WebhookSnapshot& s, TimePoint now) {
  auto age_s = [&](TimePoint t) {
    return std::max<std::int64_t>(
        0, std::chrono::duration_cast<std::chrono::seconds>(now - t).count());
  };
  boost::json::object o;
  if (s.last_stored_at) {
    o["last_stored_at"] = format_iso8601(*s.last_stored_at);
    o["last_stored_age_s"] = age_s(*s.last_stored_at);
  } else {
    o["last_stored_at"] = nullptr;
    o["last_stored_age_s"] = nullptr;
  }
  o["stored_last_hour"] = s.stored_last_hour;
  o["refused_last_hour"] = s.refused_last_hour;
  if (s.last_refusal) {
    o["last_refusal"] = boost::json::object{{"at", format_iso8601(s.last_refusal->at)},
                                            {"age_s", age_s(s.last_refusal->at)},
                                            {"reason", s.last_refusal->reason},
                                            {"hint", s.last_refusal->hint}};
  } else {
    o["last_refusal"] = nullptr;
  }
  return o;
}

void WebhookStats::stored(TimePoint at, std::uint64_t n) noexcept {
  stored_.add(at, n);
  if (!last_stored_at_ || *last_stored_at_ < at) last_stored_at_ = at;
}

std::optional<std::string> WebhookStats::refused(WebhookRefusal refusal) {
  const TimePoint at = refusal.at;
  refused_.add(at);
  ++since_warning_;
  last_refusal_ = std::move(refusal);
  if (last_warning_at_ && at - *last_warning_at_ < kWarnEvery) return std::nullopt;
  std::string line = "webhook: ";
  if (!last_warning_at_ || since_warning_ == 1) {
    line += "delivery refused";
  } else {
    line += std::to_string(since_warning_) + " deliveries refused since " +
            format_iso8601(*last_warning_at_);
  }
  line += " (" + last_refusal_->reason + ")";
  if (!last_refusal_->hint.empty()) line += ": " + last_refusal_->hint;
  line += ". Until deliveries are accepted, outcomes come only from polling (reconcile_after).";
  last_warning_at_ = at;
  since_warning_ = 0;
  return line;
}

WebhookSnapshot WebhookStats::snapshot(TimePoint now) const {
  return {last_stored_at_, stored_.last_hour(now), refused_.last_hour(now), last_refusal_};
}

}  // namespace dialer::api
