#pragma once
/// vocobase-sim assembled: clock, timeline, engine, webhook dispatcher, router and HTTP server
/// on one io_context. `Simulator` is what the binary runs; `SimThread` runs one on its own
/// thread for tests and benchmarks that want the simulator in-process.

#include "core/errc.hpp"
#include "sim/engine.hpp"
#include "sim/http_server.hpp"
#include "sim/options.hpp"
#include "sim/router.hpp"
#include "sim/sim_clock.hpp"
#include "sim/webhook_dispatcher.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <future>
#include <memory>
#include <optional>
#include <string>
#include <thread>

namespace dialer::sim {

class Simulator {
 public:
  /// Does no I/O; start() checks the options and binds.
  Simulator(boost::asio::io_context& io, SimOptions options);
  ~Simulator();
  Simulator(const Simulator&) = delete;
  Simulator& operator=(const Simulator&) = delete;

  /// Checks the options, resolves webhook endpoints, binds the listener and starts serving.
  Result<boost::asio::ip::tcp::endpoint> start();
  /// Stops accepting, closes connections, cancels timers and webhook attempts. The io_context
  /// then runs out of work once the cancelled operations have completed.
  void stop();

  [[nodiscard]] boost::asio::ip::tcp::endpoint endpoint() const { return endpoint_; }
  Engine& engine() { return engine_; }
  /// Simulated time now.
  [[nodiscard]] SimMillis now() const { return clock_.now(); }
  WebhookDispatcher& webhooks() { return webhooks_; }
  /// Jumps simulated time forward and runs everything that became due.
  void advance(SimMillis by);
  /// POST /_sim/reset.
  void reset();

 private:
  void arm();
  void fire();

  boost::asio::io_context& io_;
  SimOptions options_;
  ScaledClock clock_;
  Timeline timeline_;
  Engine engine_;
  WebhookDispatcher webhooks_;
  Router router_;
  HttpServer server_;
  boost::asio::steady_timer timer_;
  std::optional<SimMillis> armed_for_;
  std::uint64_t arm_token_ = 0;
  bool firing_ = false;
  bool stopped_ = false;
  boost::asio::ip::tcp::endpoint endpoint_;
};

/// A Simulator on its own io_context thread.
class SimThread {
 public:
  /// Starts the simulator; the listener is bound when this returns.
  static Result<std::unique_ptr<SimThread>> start(SimOptions options);
  /// Stops and joins.
  ~SimThread();
  SimThread(const SimThread&) = delete;
  SimThread& operator=(const SimThread&) = delete;

  /// Stops the simulator and waits for its thread (idempotent).
  void stop();
  [[nodiscard]] boost::asio::ip::tcp::endpoint endpoint() const { return endpoint_; }
  [[nodiscard]] std::uint16_t port() const { return endpoint_.port(); }
  /// "http://127.0.0.1:PORT/api/v2".
  [[nodiscard]] std::string base_url() const;

  /// Runs `fn(Simulator&)` on the simulator's thread and returns its result (before stop()).
  template <class F>
  auto call(F&& fn) -> decltype(fn(std::declval<Simulator&>())) {
    using R = decltype(fn(std::declval<Simulator&>()));
    std::packaged_task<R()> task([&] { return fn(*sim_); });
    auto fut = task.get_future();
    boost::asio::post(io_, [&task] { task(); });
    return fut.get();
  }

 private:
  SimThread() = default;

  boost::asio::io_context io_{1};
  std::unique_ptr<Simulator> sim_;
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work_;
  std::thread thread_;
  boost::asio::ip::tcp::endpoint endpoint_;
  bool stopped_ = false;
};

}  // namespace dialer::sim
