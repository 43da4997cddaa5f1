#include "sim/http_server.hpp"

#include "core/use_nothrow.hpp"
#include "sim/log.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>

namespace dialer::sim {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

bool is_loopback(const asio::ip::address& a) {
  if (a.is_v6() && a.to_v6().is_v4_mapped()) {
    return asio::ip::make_address_v4(asio::ip::v4_mapped, a.to_v6()).is_loopback();
  }
  return a.is_loopback();
}

void log_task_failure(const std::exception_ptr& e) {
  if (!e) return;
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    logger().error("connection task failed: {}", ex.what());
  }
}

}  // namespace

struct HttpServer::Conn {
  explicit Conn(tcp::socket s) : stream(std::move(s)), timer(stream.get_executor()) {}
  beast::tcp_stream stream;
  asio::steady_timer timer;  // slow and hold waits
};

HttpServer::HttpServer(asio::any_io_executor ex, Router& router, Settings settings)
    : ex_(ex), router_(router), settings_(settings), acceptor_(ex) {}

HttpServer::~HttpServer() = default;

Result<tcp::endpoint> HttpServer::listen(const std::string& host, std::uint16_t port) {
  boost::system::error_code ec;
  tcp::resolver resolver(ex_);
  auto results = resolver.resolve(host, std::to_string(port),
                                  tcp::resolver::passive | tcp::resolver::numeric_service, ec);
  if (ec || results.empty()) {
    return Error{errc::io_error, "cannot resolve listen address " + host + ": " + ec.message()};
  }
  auto endpoint = results.begin()->endpoint();
  acceptor_.open(endpoint.protocol(), ec);
  if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_.bind(endpoint, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return Error{errc::io_error,
                 "cannot listen on " + host + ":" + std::to_string(port) + ": " + ec.message()};
  }
  auto bound = acceptor_.local_endpoint(ec);
  asio::co_spawn(ex_, accept_loop(), log_task_failure);
  return bound;
}

void HttpServer::stop() {
  stopping_ = true;
  boost::system::error_code ignored;
  acceptor_.close(ignored);
  for (auto* c : conns_) {
    c->timer.cancel();
    c->stream.socket().cancel(ignored);
    c->stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
    c->stream.socket().close(ignored);
  }
}

asio::awaitable<void> HttpServer::accept_loop() {
  while (!stopping_) {
    auto [ec, socket] = co_await acceptor_.async_accept(use_nothrow);
    if (stopping_) break;
    if (ec) {
      if (ec == asio::error::operation_aborted) break;
      // Out of descriptors and the like: wait a little instead of spinning.
      logger().warn("accept failed: {}", ec.message());
      asio::steady_timer t(ex_, std::chrono::milliseconds(50));
      co_await t.async_wait(use_nothrow);
      continue;
    }
    if (conns_.size() >= settings_.max_connections) {
      boost::system::error_code ignored;
      socket.close(ignored);
      continue;
    }
    boost::system::error_code nd;
    socket.set_option(tcp::no_delay(true), nd);
    asio::co_spawn(ex_, serve(std::move(socket)), log_task_failure);
  }
}

asio::awaitable<void> HttpServer::serve(tcp::socket socket) {
  boost::system::error_code ec;
  auto peer = socket.remote_endpoint(ec);
  bool loopback = !ec && is_loopback(peer.address());
  Conn conn(std::move(socket));
  conns_.insert(&conn);
  struct Unregister {
    std::set<Conn*>& set;
    Conn* c;
    ~Unregister() { set.erase(c); }
  } unregister{conns_, &conn};

  beast::flat_buffer buffer(16 * 1024);
  while (!stopping_) {
    http::request_parser<http::string_body> parser;
    parser.header_limit(settings_.header_limit);
    parser.body_limit(settings_.body_limit);
    conn.stream.expires_after(settings_.idle_timeout);
    auto [rec, n] = co_await http::async_read(conn.stream, buffer, parser, use_nothrow);
    (void)n;
    if (stopping_) co_return;
    if (rec == http::error::body_limit || rec == http::error::header_limit) {
      bool body = rec == http::error::body_limit;
      http::response<http::string_body> res{
          body ? http::status::payload_too_large : http::status::request_header_fields_too_large,
          11};
      res.set(http::field::content_type, "application/json");
      res.set(http::field::server, "vocobase-sim");
      res.body() = body ? R"({"success":false,"error":{"code":"VALIDATION_ERROR",)"
                          R"("message":"Request body too large"}})"
                        : R"({"success":false,"error":{"code":"VALIDATION_ERROR",)"
                          R"("message":"Request headers too large"}})";
      res.keep_alive(false);
      res.prepare_payload();
      conn.stream.expires_after(settings_.write_timeout);
      co_await http::async_write(conn.stream, res, use_nothrow);
      break;
    }
    if (rec) break;  // end of stream, idle timeout, garbage: just close

    auto& req = parser.get();
    RequestView view;
    view.method = req.method();
    view.target = std::string_view(req.target().data(), req.target().size());
    if (auto it = req.find(http::field::authorization); it != req.end()) {
      view.authorization = std::string_view(it->value().data(), it->value().size());
    }
    view.body = req.body();
    view.loopback = loopback;
    Reply reply = router_.handle(view);

    if (reply.action == Reply::Action::reset) {
      boost::system::error_code ignored;
      conn.stream.socket().set_option(asio::socket_base::linger(true, 0), ignored);
      conn.stream.socket().close(ignored);
      co_return;
    }
    if (reply.action == Reply::Action::close) {
      boost::system::error_code ignored;
      conn.stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
      conn.stream.socket().close(ignored);
      co_return;
    }
    if (reply.action == Reply::Action::hold || reply.slow) {
      conn.stream.expires_never();
      conn.timer.expires_after(reply.slow ? settings_.slow_delay : settings_.hold_time);
      co_await conn.timer.async_wait(use_nothrow);
      if (stopping_) co_return;
      if (reply.action == Reply::Action::hold) {
        boost::system::error_code ignored;
        conn.stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
        conn.stream.socket().close(ignored);
        co_return;
      }
    }

    http::response<http::string_body> res{static_cast<http::status>(reply.status), req.version()};
    res.set(http::field::server, "vocobase-sim");
    res.set(http::field::content_type, reply.content_type);
    res.keep_alive(req.keep_alive());
    res.body() = std::move(reply.body);
    res.prepare_payload();
    conn.stream.expires_after(settings_.write_timeout);
    auto [wec, w] = co_await http::async_write(conn.stream, res, use_nothrow);
    (void)w;
    if (wec || !res.keep_alive()) break;
  }
  boost::system::error_code ignored;
  conn.stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
  conn.stream.socket().close(ignored);
}

}  // namespace dialer::sim
