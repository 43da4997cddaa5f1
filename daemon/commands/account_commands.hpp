#pragma once
/// The admin commands that talk to the account rather than dial: `account-check`,
/// `webhook-register` and `webhook-rotate` (CONTRACT.md), and the check campaign-start runs
/// before it starts a draft. They cost general-bucket requests only.

#include "api/admin/registry.hpp"
#include "api/vocobase/client.hpp"
#include "config/config.hpp"
#include "core/errc.hpp"
#include "core/time.hpp"
#include "daemon/admin_handlers.hpp"
#include "daemon/webhook_registration.hpp"
#include "scheduler/scheduler.hpp"
#include "store/sql/database.hpp"

#include <filesystem>
#include <optional>

namespace dialer::daemon {

/// The daemon's registered webhook endpoint and the secrets in force. Implemented by Daemon.
class WebhookSecretsHolder {
 public:
  virtual ~WebhookSecretsHolder() = default;
  [[nodiscard]] virtual std::optional<WebhookRegistration> registration() const = 0;
  /// Writes `r` to the state directory, then puts its secrets in force at once.
  virtual Result<void> store_registration(WebhookRegistration r) = 0;
  /// Whether any secret (configured or registered) is in force.
  [[nodiscard]] virtual bool have_secret() const = 0;
  [[nodiscard]] virtual std::filesystem::path registration_file() const = 0;
};

struct AccountCommandDeps {
  admin::Registry& registry;
  api::VocobaseClient& client;
  scheduler::Scheduler& scheduler;
  store::Store& store;  ///< the event loop's store session: a short campaign list
  DaemonControl& control;
  WebhookSecretsHolder& secrets;
  const Clock& clock;
};

class AccountCommands {
 public:
  explicit AccountCommands(AccountCommandDeps deps) : d_(deps) {}
  /// Adds account-check, webhook-register, webhook-rotate.
  Result<void> register_all();
  /// campaign-start's check (AdminDeps::start_check).
  [[nodiscard]] StartCheck start_check();

 private:
  boost::asio::awaitable<admin::Response> account_check(admin::Request r);
  boost::asio::awaitable<admin::Response> webhook_register(admin::Request r);
  boost::asio::awaitable<admin::Response> webhook_rotate(admin::Request r);

  AccountCommandDeps d_;
};

}  // namespace dialer::daemon
