#pragma once
/// What the webhook listener tells an operator (status-get `webhooks`, the refusal warning):
/// when an event was last stored, how many were stored and refused in the last hour, and the
/// last refusal's reason. A wrong secret or path makes every delivery fail while dialling looks
/// busy; this is where that becomes visible.
///
/// Not thread-safe: the listener's executor owns it.

#include "api/webhook/signature.hpp"
#include "core/hour_counter.hpp"
#include "core/time.hpp"

#include <boost/json/object.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace dialer::api {

/// One refused delivery: when, and why in words ("signature mismatch", "unknown path /x").
struct WebhookRefusal {
  TimePoint at{};
  std::string reason;
  /// What to check, for the warning ("check webhook.secrets …").
  std::string hint;
};

/// status-get `webhooks`.
struct WebhookSnapshot {
  std::optional<TimePoint> last_stored_at;
  std::uint64_t stored_last_hour = 0;
  std::uint64_t refused_last_hour = 0;
  std::optional<WebhookRefusal> last_refusal;
};

/// The refusal for a delivery that failed its signature or replay check.
WebhookRefusal refusal_for(SignatureCheck check, TimePoint at);
/// The refusal for a POST to a path that is not webhook.path (the path shortened, printable
/// characters only: it comes from the network).
WebhookRefusal refusal_for_path(std::string_view target, std::string_view expected, TimePoint at);
/// The refusal for a delivery whose body could not be read (malformed JSON, no session_id, too
/// large).
WebhookRefusal refusal_for_body(std::string_view what, TimePoint at);

/// status-get `webhooks`: {last_stored_at, last_stored_age_s, stored_last_hour,
/// refused_last_hour, last_refusal: {at, age_s, reason, hint} | null}; ages against `now`.
boost::json::object to_json(const WebhookSnapshot& s, TimePoint now);

class WebhookStats {
 public:
  /// A warning is logged for the first refusal, then at most once per this interval while
  /// refusals go on (with the count since the last warning).
  static constexpr Millis kWarnEvery = std::chrono::minutes{5};

  void stored(TimePoint at, std::uint64_t n = 1) noexcept;
  /// Counts a refusal; returns the warning line when one is due.
  [[nodiscard]] std::optional<std::string> refused(WebhookRefusal refusal);
  [[nodiscard]] WebhookSnapshot snapshot(TimePoint now) const;

 private:
  HourCounter stored_;
  HourCounter refused_;
  std::optional<TimePoint> last_stored_at_;
  std::optional<WebhookRefusal> last_refusal_;
  std::optional<TimePoint> last_warning_at_;
  std::uint64_t since_warning_ = 0;
};

}  // namespace dialer::api
