#include "daemon/commands/jobs.hpp"

namespace dialer::daemon {

Jobs::Jobs(std::shared_ptr<std::atomic<int>> running, boost::asio::any_io_executor worker,
           std::string db_path, store::OpenOptions open_options)
    : running_(std::move(running)),
      worker_(std::move(worker)),
      db_path_(std::move(db_path)),
      open_options_(std::move(open_options)) {}

Result<std::unique_ptr<store::SqlStore>> Jobs::open_store() const {
  return store::SqlStore::open(db_path_, open_options_);
}

std::string Jobs::next_id(std::string_view prefix) {
  return std::string(prefix) + "-" + std::to_string(next_++);
}

}  // namespace dialer::daemon
