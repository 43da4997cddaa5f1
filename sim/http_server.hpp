#pragma once
/// The simulator's HTTP/1.1 server (Beast, coroutines, one io_context): keep-alive, header and
/// body limits, idle timeouts, a connection cap, and the connection-level faults the Router asks
/// for (reset, close without answer, hold, slow answer).

#include "core/errc.hpp"
#include "core/time.hpp"
#include "sim/router.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <cstdint>
#include <set>
#include <string>

namespace dialer::sim {

class HttpServer {
 public:
  struct Settings {
    std::size_t max_connections = 4'096;
    Millis idle_timeout{30'000};  ///< to read one whole request (and between requests)
    Millis write_timeout{30'000};
    Millis slow_delay{3'000};
    Millis hold_time{60'000};
    std::uint32_t header_limit = 8 * 1024;
    std::uint64_t body_limit = 64 * 1024;
  };

  HttpServer(boost::asio::any_io_executor ex, Router& router, Settings settings);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  /// Binds, listens and starts accepting; returns the bound address (port 0 → the real one).
  Result<boost::asio::ip::tcp::endpoint> listen(const std::string& host, std::uint16_t port);
  /// Stops accepting and closes every connection (held ones included).
  void stop();
  [[nodiscard]] std::size_t connections() const { return conns_.size(); }

 private:
  struct Conn;
  boost::asio::awaitable<void> accept_loop();
  boost::asio::awaitable<void> serve(boost::asio::ip::tcp::socket socket);

  boost::asio::any_io_executor ex_;
  Router& router_;
  Settings settings_;
  boost::asio::ip::tcp::acceptor acceptor_;
  std::set<Conn*> conns_;
  bool stopping_ = false;
};

}  // namespace dialer::sim
