#pragma once
/// The webhook endpoint dialerd registered itself (`dialerctl webhook register|rotate`): its id,
/// URL and signing secrets, kept in the state directory (`webhook-endpoint.json`, mode 0600,
/// beside the store) because Vocobase shows a secret once. Secrets never reach a log, an error
/// text or an admin answer.
///
/// Rotation without losing a delivery: after `rotate` the new secret comes first and every
/// older one gets a `retire_at` (now + webhook.rotation_overlap); the older ones go as soon as a
/// delivery signed with the new secret arrives (deliveries created before the rotation may
/// still be signed with the old one), or at `retire_at`, whichever is first.

#include "core/errc.hpp"
#include "core/time.hpp"

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace dialer::daemon {

struct RegisteredSecret {
  std::string secret;
  TimePoint added_at{};
  std::optional<TimePoint> retire_at;  ///< set on the older secrets after a rotation

  bool operator==(const RegisteredSecret&) const = default;
};

struct WebhookRegistration {
  std::string endpoint_id;
  std::string url;
  std::vector<RegisteredSecret> secrets;  ///< newest first

  bool operator==(const WebhookRegistration&) const = default;

  /// The secrets to accept, newest first.
  [[nodiscard]] std::vector<std::string> accepted() const;
  /// A new secret (after create or rotate-secret) goes first; the others retire at
  /// now + overlap, or earlier when the new one verifies a delivery.
  void add(std::string secret, TimePoint now, Millis overlap);
  /// The newest secret verified a delivery: the older ones are dropped. True when any was.
  bool newest_used();
  /// Drops secrets whose retire_at has passed. True when any was.
  bool expire(TimePoint now);
  /// The earliest retire_at, if a rotation is under way.
  [[nodiscard]] std::optional<TimePoint> next_retirement() const;
};

/// `webhook-endpoint.json` in `state_dir`.
std::filesystem::path registration_path(const std::filesystem::path& state_dir);
/// Reads the file; nullopt when it does not exist. Errors name the file and what is wrong (never
/// a secret).
Result<std::optional<WebhookRegistration>> load_registration(const std::filesystem::path& path);
/// Writes the file whole (temporary file, fsync, rename; mode 0600).
Result<void> save_registration(const std::filesystem::path& path, const WebhookRegistration& r);

}  // namespace dialer::daemon
