#pragma once
// An in-process scripted HTTP(S) server on 127.0.0.1:0 for the client tests: each request is
// recorded and answered as the test's handler says — a response, silence, a close or a reset.

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <gtest/gtest.h>
#include <openssl/ssl.h>

#include <chrono>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace dialer::test {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using Request = http::request<http::string_body>;

/// What the fake does with one request.
struct Reply {
  enum class Action { respond, never_respond, close, reset } action = Action::respond;
  int status = 200;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  /// Close the connection after responding although the response says keep-alive (a server
  /// dropping an idle keep-alive connection).
  bool close_after = false;

  static Reply json(int status, std::string body) {
    Reply r;
    r.status = status;
    r.body = std::move(body);
    return r;
  }
  static Reply error(int status, std::string code, std::string message) {
    return json(status, R"({"success":false,"error":{"code":")" + code + R"(","message":")" +
                            message + R"("}})");
  }
  static Reply of(Action a) {
    Reply r;
    r.action = a;
    return r;
  }
};

class FakeHttpServer {
 public:
  using Handler = std::function<Reply(const Request&)>;

  /// Plain HTTP, or TLS when `tls` is given (it must outlive the server).
  explicit FakeHttpServer(asio::io_context& ioc, asio::ssl::context* tls = nullptr)
      : ioc_(ioc),
        tls_(tls),
        acceptor_(ioc, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
    asio::co_spawn(ioc_, accept_loop(), asio::detached);
  }

  /// Stops and lets every server coroutine finish, so none outlives the server.
  ~FakeHttpServer() {
    stop();
    ioc_.restart();
    for (int i = 0; i < 1000 && live_ > 0; ++i) ioc_.run_one_for(std::chrono::milliseconds(10));
  }

  [[nodiscard]] unsigned short port() const { return acceptor_.local_endpoint().port(); }
  [[nodiscard]] std::string url(const std::string& scheme = "http",
                                const std::string& host = "127.0.0.1") const {
    return scheme + "://" + host + ":" + std::to_string(port()) + "/api/v2";
  }

  /// Answers every request; the default is 404.
  Handler handler = [](const Request&) { return Reply::error(404, "NOT_FOUND", "no route"); };
  std::vector<Request> requests;
  int connections = 0;
  int closed = 0;                ///< connections this side closed
  std::vector<std::string> sni;  ///< server names the TLS clients sent

  void stop() {
    beast::error_code ec;
    acceptor_.close(ec);
    for (auto* s : open_) s->close(ec);
    for (auto* t : open_timers_) t->cancel();
  }

 private:
  struct Live {
    int& n;
    explicit Live(int& c) : n(c) { ++n; }
    ~Live() { --n; }
  };

  asio::awaitable<void> accept_loop() {
    Live live(live_);
    for (;;) {
      auto [ec, sock] = co_await acceptor_.async_accept(asio::as_tuple(asio::use_awaitable));
      if (ec || !acceptor_.is_open()) co_return;
      ++connections;
      asio::co_spawn(ioc_, session(std::move(sock)), asio::detached);
    }
  }

  struct Track {
    FakeHttpServer* self;
    tcp::socket* s;
    Track(FakeHttpServer* f, tcp::socket* sock) : self(f), s(sock) { self->open_.insert(s); }
    ~Track() { self->open_.erase(s); }
  };

  asio::awaitable<void> session(tcp::socket sock) {
    Live live(live_);
    constexpr auto nothrow = asio::as_tuple(asio::use_awaitable);
    if (tls_ != nullptr) {
      asio::ssl::stream<tcp::socket> stream(std::move(sock), *tls_);
      Track track(this, &stream.next_layer());
      auto [hec] = co_await stream.async_handshake(asio::ssl::stream_base::server, nothrow);
      if (hec) co_return;
      if (const char* name =
              SSL_get_servername(stream.native_handle(), TLSEXT_NAMETYPE_host_name)) {
        sni.emplace_back(name);
      }
      co_await serve(stream, stream.next_layer());
    } else {
      Track track(this, &sock);
      co_await serve(sock, sock);
    }
  }

  template <class Stream>
  asio::awaitable<void> serve(Stream& stream, tcp::socket& sock) {
    constexpr auto nothrow = asio::as_tuple(asio::use_awaitable);
    beast::flat_buffer buffer;
    for (;;) {
      Request req;
      auto [rec, n] = co_await http::async_read(stream, buffer, req, nothrow);
      if (rec) co_return;
      requests.push_back(req);
      const Reply reply = handler(req);
      beast::error_code ec;
      switch (reply.action) {
        case Reply::Action::never_respond: {
          asio::steady_timer forever(ioc_, std::chrono::hours(24));
          open_timers_.insert(&forever);
          co_await forever.async_wait(nothrow);
          open_timers_.erase(&forever);
          co_return;
        }
        case Reply::Action::close:
          sock.shutdown(tcp::socket::shutdown_both, ec);
          sock.close(ec);
          ++closed;
          co_return;
        case Reply::Action::reset:
          sock.set_option(asio::socket_base::linger(true, 0), ec);
          sock.close(ec);
          ++closed;
          co_return;
        case Reply::Action::respond:
          break;
      }
      http::response<http::string_body> res{static_cast<http::status>(reply.status), 11};
      res.set(http::field::content_type, "application/json");
      for (const auto& [k, v] : reply.headers) res.set(k, v);
      res.body() = reply.body;
      res.keep_alive(req.keep_alive());
      res.prepare_payload();
      auto [wec, m] = co_await http::async_write(stream, res, nothrow);
      if (wec || !req.keep_alive() || reply.close_after) {
        sock.shutdown(tcp::socket::shutdown_both, ec);
        sock.close(ec);
        ++closed;
        co_return;
      }
    }
  }

  asio::io_context& ioc_;
  asio::ssl::context* tls_;
  tcp::acceptor acceptor_;
  std::set<tcp::socket*> open_;
  std::set<asio::steady_timer*> open_timers_;
  int live_ = 0;
};

/// A port on 127.0.0.1 where nothing listens (bound, then closed).
inline unsigned short closed_port(asio::io_context& ioc) {
  tcp::acceptor a(ioc, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  const auto p = a.local_endpoint().port();
  a.close();
  return p;
}

/// Waits until `cond()` holds, checking each millisecond, for at most `bound`. Returns cond().
template <class Cond>
asio::awaitable<bool> until(Cond cond, std::chrono::milliseconds bound = std::chrono::seconds(20)) {
  asio::steady_timer t(co_await asio::this_coro::executor);
  const auto end = std::chrono::steady_clock::now() + bound;
  while (!cond() && std::chrono::steady_clock::now() < end) {
    t.expires_after(std::chrono::milliseconds(1));
    co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
  }
  co_return cond();
}

/// Runs `body` (a coroutine) on `ioc` until it finishes, with a generous bound.
template <class F>
void run_on(asio::io_context& ioc, F body) {
  ioc.restart();
  bool done = false;
  std::exception_ptr failure;
  asio::co_spawn(
      ioc,
      [&]() -> asio::awaitable<void> {
        co_await body();
        done = true;
      },
      [&](std::exception_ptr e) {
        failure = e;
        ioc.stop();
      });
  ioc.run_for(std::chrono::seconds(60));
  if (failure) std::rethrow_exception(failure);
  ASSERT_TRUE(done) << "test coroutine did not finish within the bound";
}

}  // namespace dialer::test
