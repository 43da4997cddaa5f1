#pragma once
/// The long admin jobs — a contacts import, an export, a DNC import — and their bookkeeping: each
/// runs on the worker executor with a database connection of its own, so the event loop keeps
/// dialling meanwhile; Jobs counts the running ones (AdminHandlers::jobs_running), names imports
/// for their progress, and asks them to stop at shutdown.

#include "api/admin/registry.hpp"
#include "core/errc.hpp"
#include "store/sql/sql_store.hpp"

#include <boost/asio/any_io_executor.hpp>

#include <atomic>
#include <cstdint>
#include <memory>
#include <stop_token>
#include <string>
#include <string_view>
#include <utility>

namespace dialer::daemon {

class Jobs {
 public:
  /// `running` is the counter AdminHandlers::jobs_running() reads.
  Jobs(std::shared_ptr<std::atomic<int>> running, boost::asio::any_io_executor worker,
       store::Connector connect);

  /// Counts a running job; released on every path out of a handler.
  class Guard {
   public:
    explicit Guard(std::shared_ptr<std::atomic<int>> running) : running_(std::move(running)) {
      ++*running_;
    }
    ~Guard() { --*running_; }
    Guard(const Guard&) = delete;
    Guard& operator=(const Guard&) = delete;

   private:
    std::shared_ptr<std::atomic<int>> running_;
  };
  [[nodiscard]] Guard guard() const { return Guard(running_); }

  /// Runs `fn` on the worker executor and resumes the caller on its own with fn's result
  /// (admin::run_on; pass a named lambda with std::move, see its GCC 12 caveat).
  template <class F>
  auto run(F&& fn) const {
    return admin::run_on(worker_, std::forward<F>(fn));
  }

  /// A connection of the calling worker's own (SQLite or PostgreSQL).
  [[nodiscard]] Result<store::Database> connect() const { return connect_(); }
  /// A store session on a connection of the calling worker's own.
  [[nodiscard]] Result<std::unique_ptr<store::SqlStore>> open_store() const;

  /// "<prefix>-N", N counting up: the progress id of an import whose client named none.
  std::string next_id(std::string_view prefix);

  /// What a running import watches; cancel() trips it (the import fails, writing nothing).
  [[nodiscard]] std::stop_token stop_token() const { return stop_.get_token(); }
  void cancel() { stop_.request_stop(); }

 private:
  std::shared_ptr<std::atomic<int>> running_;
  boost::asio::any_io_executor worker_;
  store::Connector connect_;
  std::stop_source stop_;
  std::uint64_t next_ = 1;
};

}  // namespace dialer::daemon
