#include "daemon/commands/jobs.hpp"

namespace dialer::daemon {

Jobs::Jobs(std::shared_ptr<std::atomic<int>> running, boost::asio::any_io_executor worker,
           store::Connector connect)
    : running_(std::move(running)), worker_(std::move(worker)), connect_(std::move(connect)) {}

Result<std::unique_ptr<store::SqlStore>> Jobs::open_store() const {
  auto db = connect_();
  if (!db) return db.error();
  return store::SqlStore::adopt(std::move(*db));
}

std::string Jobs::next_id(std::string_view prefix) {
  return std::string(prefix) + "-" + std::to_string(next_++);
}

}  // namespace dialer::daemon
