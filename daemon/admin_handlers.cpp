#include "daemon/admin_handlers.hpp"

#include "daemon/commands/campaign_commands.hpp"
#include "daemon/commands/command_context.hpp"
#include "daemon/commands/contacts_commands.hpp"
#include "daemon/commands/daemon_commands.hpp"
#include "daemon/commands/dnc_commands.hpp"
#include "store/audit_repo.hpp"

#include <boost/json/serialize.hpp>
#include <spdlog/spdlog.h>

#include <array>

namespace dialer::daemon {

namespace json = boost::json;

namespace {

constexpr std::array<std::string_view, 27> kCommands{
    "version-get",     "status-get",      "config-get",    "config-reload",   "shutdown",
    "campaign-create", "campaign-update", "campaign-list", "campaign-get",    "campaign-start",
    "campaign-pause",  "campaign-resume", "campaign-stop", "campaign-delete", "campaign-stats",
    "campaign-export", "contacts-import", "contacts-list", "calls-list",      "dnc-add",
    "dnc-remove",      "dnc-list",        "dnc-import",    "attempt-resolve", "account-unblock",
    "log-level-set",   "list-commands"};

/// Largest audit detail stored (the spec text of a campaign file can be long).
constexpr std::size_t kMaxAuditDetail = 16 * 1024;

}  // namespace

std::span<const std::string_view> contract_commands() {
  return {kCommands.data(), kCommands.size() - 1};  // list-commands is the registry's own
}

/// The state the command modules share (daemon/commands/command_context.hpp).
class AdminHandlers::Impl {
 public:
  Impl(AdminDeps deps, std::shared_ptr<std::atomic<int>> jobs) : ctx(std::move(deps), jobs) {}

  void audit(const admin::AuditEvent& e);

  CommandContext ctx;
};

void AdminHandlers::Impl::audit(const admin::AuditEvent& e) {
  json::object detail = e.arguments;
  std::string subject;
  if (const auto* c = detail.if_contains("campaign"); c != nullptr && c->is_string()) {
    subject = "campaign:" + std::string(c->get_string());
  } else if (const auto* n = detail.if_contains("name"); n != nullptr && n->is_string()) {
    subject = "campaign:" + std::string(n->get_string());
  }
  std::string text = json::serialize(detail);
  if (text.size() > kMaxAuditDetail) {
    // The spec text is what makes a detail long; keep the rest whole.
    if (auto* y = detail.if_contains("spec_yaml"); y != nullptr && y->is_string()) {
      *y = "<" + std::to_string(y->get_string().size()) + " bytes>";
    }
    text = json::serialize(detail);
    if (text.size() > kMaxAuditDetail) text = json::serialize(json::object{{"truncated", true}});
  }
  store::AuditEntry entry;
  entry.at = ctx.d.clock.now();
  entry.actor = "uid:" + std::to_string(e.peer.uid);
  entry.action = e.command.empty() ? "refused" : e.command;
  entry.subject = std::move(subject);
  entry.detail_json = std::move(text);
  entry.result = std::to_string(admin::to_int(e.result));
  if (!e.text.empty()) entry.result += " " + e.text;
  auto& repo = ctx.d.store.audit();
  if (auto r = repo.append(entry); !r) {
    spdlog::error("audit log: cannot record {}: {}", entry.action, r.error().what());
  }
}

AdminHandlers::AdminHandlers(AdminDeps deps) : jobs_(std::make_shared<std::atomic<int>>(0)) {
  impl_ = std::make_unique<Impl>(std::move(deps), jobs_);
}

AdminHandlers::~AdminHandlers() = default;

Result<void> AdminHandlers::register_all() {
  auto& ctx = impl_->ctx;
  for (auto* add : {&register_daemon_commands, &register_campaign_commands,
                    &register_contacts_commands, &register_dnc_commands}) {
    if (auto r = add(ctx); !r) return r;
  }
  return ctx.d.progress.register_commands(ctx.d.registry);
}

admin::AuditHook AdminHandlers::audit_hook() {
  return [impl = impl_.get()](const admin::AuditEvent& e) { impl->audit(e); };
}

void AdminHandlers::cancel_jobs() {
  impl_->ctx.jobs.cancel();
}

}  // namespace dialer::daemon
