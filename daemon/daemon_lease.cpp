// Leader or standby (store.backend: postgresql). Two dialerd share one database; the one that
// holds the lease (store/postgresql/lease.hpp) dials, the other answers read-only admin commands,
// stores the webhooks that reach it in the shared inbox, and tries the lease every kLeaseEvery.
// Taking over is the startup recovery after a crash: reserved attempts become ambiguous and are
// reconciled with the API, started calls re-armed, every unapplied inbox row applied.
//
// Every reservation checks the lease epoch in its own transaction (Store::check_fence), so a
// node that lost the lease cannot send even before it notices. It notices within kLeaseEvery
// and exits (code 1: systemd starts it again, as the standby): a crash-only leader has no
// "demoted" state to get wrong.

#include "daemon/daemon_impl.hpp"
#include "store/sqlite/import_recovery.hpp"

#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdlib>
#include <unistd.h>

namespace dialer::daemon {

namespace {

/// How often the leader checks that it still holds the lease (and drains inbox rows the
/// standby stored), and how often the standby tries to take it.
constexpr auto kLeaseEvery = std::chrono::seconds{2};
/// A new leader that took the lease from another node waits this long before it recovers: the
/// old holder, if still running, notices its loss within kLeaseEvery and stops its unfenced
/// work (outcome writes, an import) first. Reservations are fenced from the first moment.
constexpr auto kTakeoverSettle = kLeaseEvery + std::chrono::seconds{1};

std::string host_name() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0 || buf[0] == '\0') return "dialerd";
  return buf;
}

/// Exit 1 (systemd starts the node again) when PostgreSQL could not be reached or the session
/// was lost; 4 (not retried) when the server refused.
int exit_for(const Error& e) {
  return e.code == make_error_code(errc::io_error) ? exit_runtime_failure : exit_store_failure;
}

}  // namespace

std::optional<Failure> Daemon::Impl::start_lease(const config::Config& cfg) {
  node_ = cfg.store.pg_node_name.empty() ? host_name() : cfg.store.pg_node_name;
  auto lease = store::PgLease::connect(lease_options_, node_);
  if (!lease) {
    return Failure{exit_for(lease.error()),
                   "cannot open the leader lease: " + lease.error().message};
  }
  lease_.emplace(std::move(*lease));
  auto before = lease_->current();
  if (!before) return Failure{exit_for(before.error()), "leader lease: " + before.error().message};
  auto got = lease_->try_acquire(clock_.now());
  if (!got) return Failure{exit_for(got.error()), "leader lease: " + got.error().message};
  role_ = Role::standby;
  if (*got) {
    on_acquired(**got, before->holder);
  } else {
    leader_ = *before;
    spdlog::info("node {}: standby; {} leads (since {}, epoch {})", node_, leader_->holder,
                 format_iso8601(leader_->since), leader_->epoch);
  }
  return std::nullopt;
}

void Daemon::Impl::on_acquired(const store::LeaseHolder& mine, const std::string& previous) {
  store_->set_fence(mine.epoch);
  leader_ = mine;
  role_ = Role::taking_over;
  if (!previous.empty() && previous != node_) ++takeovers_;
  if (previous.empty()) {
    lead_at_.reset();  // the lease was never held: nobody can still be working
    spdlog::info("node {}: leader (epoch {})", node_, mine.epoch);
  } else {
    // Whoever held it before — another node, or this one before a restart, or a node that
    // shares this one's name — may still be running for up to kLeaseEvery: let it stop first.
    lead_at_ = std::chrono::steady_clock::now() + kTakeoverSettle;
    spdlog::warn("node {}: took the leader lease over from {} (epoch {}); recovering in {}", node_,
                 previous, mine.epoch, format_duration(kTakeoverSettle));
  }
  publish_role();
}

std::optional<Failure> Daemon::Impl::lead() {
  // Imports interrupted by a crash are rolled back (still staging) or finished (past their
  // commit point) before the scheduler looks at contacts.
  if (auto r = store::recover_imports(store_->database()); !r) {
    return Failure{exit_for(r.error()), "import recovery failed: " + r.error().message};
  } else if (r->rolled_back + r->completed > 0) {
    spdlog::info("imports recovered: {} rolled back, {} completed", r->rolled_back, r->completed);
  }
  if (auto r = scheduler_->recover(); !r) {
    const int code = r.error().code == make_error_code(errc::io_error)   ? exit_runtime_failure
                     : r.error().code == make_error_code(errc::db_error) ? exit_store_failure
                                                                         : exit_runtime_failure;
    return Failure{code, "recovery failed: " + r.error().message};
  }
  if (role_ == Role::taking_over) {
    role_ = Role::leader;
    lead_at_.reset();
    spdlog::info("node {}: leader, dialling (epoch {})", node_, leader_ ? leader_->epoch : 0);
    publish_role();
  }
  return std::nullopt;
}

void Daemon::Impl::arm_lease() {
  if (role_ == Role::standalone) return;
  lease_timer_.expires_after(kLeaseEvery);
  lease_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec || finished_) return;
    lease_round();
    if (!finished_) arm_lease();
  });
}

void Daemon::Impl::lease_round() {
  // The loop's own session, whatever the role: a standby whose session died could neither store
  // a webhook nor lead; a leader's could not dial. Crash-only: exit, systemd starts it afresh.
  if (auto alive = store_->database().query_int64("SELECT 1"); !alive) {
    if (alive.error().code == make_error_code(errc::io_error)) {
      lose_lease("the store's connection is lost: " + alive.error().message);
    }
    spdlog::warn("node {}: the store does not answer: {}", node_, alive.error().message);
  }
  if (!lease_) {
    if (stopping_) return;
    auto lease = store::PgLease::connect(lease_options_, node_);
    if (!lease) {
      if (!lease_trouble_logged_) {
        spdlog::warn("node {}: cannot reach the lease ({}); trying every {}", node_,
                     lease.error().message, format_duration(kLeaseEvery));
      }
      lease_trouble_logged_ = true;
      return;
    }
    lease_.emplace(std::move(*lease));
  }
  if (role_ == Role::standby) {
    if (stopping_) return;  // a node on its way out takes nothing over
    auto before = lease_->current();
    auto got = before ? lease_->try_acquire(clock_.now())
                      : Result<std::optional<store::LeaseHolder>>(before.error());
    if (!got) {
      if (!lease_trouble_logged_) {
        spdlog::warn("node {}: the lease cannot be read ({}); trying every {}", node_,
                     got.error().message, format_duration(kLeaseEvery));
      }
      lease_trouble_logged_ = true;
      lease_.reset();  // a new session next round
      return;
    }
    if (lease_trouble_logged_) spdlog::info("node {}: the lease can be read again", node_);
    lease_trouble_logged_ = false;
    if (!*got) {
      if (before->holder == node_ && (!leader_ || leader_->epoch != before->epoch)) {
        spdlog::warn(
            "node {}: the leader has this node's name: give each node its own "
            "store.postgresql.node_name",
            node_);
      }
      leader_ = *before;
      return;
    }
    on_acquired(**got, before->holder);
  }
  // Leader or taking over: the lock must still be this session's — also while stopping, until
  // the loop ends.
  auto held = lease_->still_held();
  if (!held || !*held) {
    lose_lease(held ? "the lock is no longer this node's" : held.error().message);
  }
  if (role_ == Role::taking_over) {
    if (lead_at_ && std::chrono::steady_clock::now() < *lead_at_) return;
    // Recovery runs on the loop: a long one must not look like a hung daemon to the watchdog.
    if (notifier_->watchdog_interval().count() > 0) notifier_->notify("WATCHDOG=1");
    if (auto failure = lead()) lose_lease("taking over failed: " + failure->message);
  }
  // Deliveries the standby received sit in the shared inbox: apply them.
  scheduler_->inbox_updated();
}

void Daemon::Impl::lose_lease(const std::string& why) {
  spdlog::critical(
      "node {} ({}): {}: stopping now (exit 1: systemd starts it again, as the "
      "standby unless the lease is free)",
      node_, role_view().role, why);
  notifier_->notify("STATUS=stopped: " + why);
  // Crash-only: no graceful part (nothing more of this node's may reach the store or the API),
  // the same path as SIGKILL, which startup recovery is built for. The lock file and sockets go
  // with the process.
  spdlog::shutdown();
  std::_Exit(exit_runtime_failure);
}

std::optional<admin::Response> Daemon::Impl::gate(std::string_view command,
                                                  admin::Effect effect) const {
  if (role_ == Role::standalone || role_ == Role::leader) return std::nullopt;
  if (effect != admin::Effect::changes_state) return std::nullopt;
  // This node's own business: its config, its log level, stopping it.
  if (command == "config-reload" || command == "shutdown" || command == "log-level-set") {
    return std::nullopt;
  }
  if (role_ == Role::taking_over) {
    return admin::Response::conflict("node " + node_ + " is taking over as the leader (recovery " +
                                     "under way): " + std::string(command) +
                                     " is refused until it dials; try again in a few seconds");
  }
  std::string leader = leader_ && !leader_->holder.empty() ? leader_->holder : "the other node";
  std::string since = leader_ ? ", leader since " + format_iso8601(leader_->since) : "";
  return admin::Response::conflict("node " + node_ + " is the standby: " + std::string(command) +
                                   " changes shared state and goes to the leader, " + leader +
                                   since);
}

RoleView Daemon::Impl::role_view() const {
  RoleView v;
  switch (role_) {
    case Role::standalone:
      return v;
    case Role::standby:
      v.role = "standby";
      break;
    case Role::taking_over:
      v.role = "taking_over";
      break;
    case Role::leader:
      v.role = "leader";
      break;
  }
  v.node = node_;
  if (leader_ && !leader_->holder.empty()) {
    v.leader = leader_->holder;
    v.leader_since = leader_->since;
  }
  v.epoch = leader_ ? leader_->epoch : 0;
  v.takeovers = takeovers_;
  return v;
}

void Daemon::Impl::publish_role() {
  if (daemon_metrics_) daemon_metrics_->set_role(role_view().dials(), takeovers_);
  if (!scheduler_) return;  // at start: READY=1 carries the first status
  last_status_ = status_line();
  notifier_->notify("STATUS=" + last_status_);
}

}  // namespace dialer::daemon
