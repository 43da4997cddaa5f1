// Store housekeeping on the event loop: applied webhook inbox rows and audit entries older than
// their retention are deleted.

#include "daemon/daemon_impl.hpp"

#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdint>

namespace dialer::daemon {

// Housekeeping: a pass at start and every hour, in rounds of bounded deletes so a large backlog
// never holds the loop (or the store's write lock) for long.
constexpr std::int64_t kPruneBatch = 2000;
constexpr auto kHousekeepingEvery = std::chrono::hours{1};
constexpr auto kBetweenPruneRounds = std::chrono::milliseconds{50};

void Daemon::Impl::arm_housekeeping(std::chrono::milliseconds after) {
  housekeeping_timer_.expires_after(after);
  housekeeping_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec || finished_ || stopping_) return;
    housekeeping_round();
  });
}

void Daemon::Impl::housekeeping_round() {
  if (!role_view().dials()) {  // a standby writes nothing: the leader prunes the shared store
    arm_housekeeping(kHousekeepingEvery);
    return;
  }
  const auto& sc = config_->store;  // read each round: a reload applies at once
  auto round = store::prune_round(store_->database(), clock_.now(), sc.inbox_retention,
                                  sc.audit_retention, kPruneBatch);
  if (!round) {
    spdlog::warn("housekeeping: {}; tried again in an hour", round.error().what());
    pruned_ = {};
    arm_housekeeping(kHousekeepingEvery);
    return;
  }
  pruned_.inbox += round->inbox;
  pruned_.audit += round->audit;
  if (round->more) {
    arm_housekeeping(kBetweenPruneRounds);
    return;
  }
  if (pruned_.inbox > 0 || pruned_.audit > 0) {
    spdlog::info(
        "housekeeping: deleted {} applied webhook inbox row(s) older than {}, {} audit "
        "entr{} older than {}",
        pruned_.inbox, format_duration(sc.inbox_retention), pruned_.audit,
        pruned_.audit == 1 ? "y" : "ies", format_duration(sc.audit_retention));
  }
  pruned_ = {};
  arm_housekeeping(kHousekeepingEvery);
}

}  // namespace dialer::daemon
