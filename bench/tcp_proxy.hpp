#pragma once
// A loopback TCP forwarder for the failover benchmark, on a thread of its own: it listens on
// 127.0.0.1:0 and forwards each connection to the first of its targets (loopback ports) that
// accepts one, rotating the starting target per connection. Two uses:
//   - a load balancer in front of two dialerd's webhook listeners (a dead node is skipped);
//   - the link between one dialerd and PostgreSQL, which `cut()` severs: every connection is
//     reset on both sides and new ones are closed at once until `restore()`. A real partition
//     is noticed by TCP keepalives and tcp_user_timeout after ~10 s; the reset is that moment.

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>

#include <array>
#include <atomic>
#include <future>
#include <memory>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

namespace dialer::bench {

class TcpProxy {
 public:
  /// Forwards to these loopback ports (a webhook listener per node, or PostgreSQL's port).
  explicit TcpProxy(std::vector<int> targets) : targets_(std::move(targets)) {
    acceptor_.open(tcp::v4());
    acceptor_.set_option(tcp::acceptor::reuse_address(true));
    acceptor_.bind({boost::asio::ip::make_address_v4("127.0.0.1"), 0});
    acceptor_.listen();
    port_ = acceptor_.local_endpoint().port();
    accept();
    thread_ = std::thread([this] { ioc_.run(); });
  }
  ~TcpProxy() {
    run_here([this] {
      boost::system::error_code ec;
      acceptor_.close(ec);
      reset_all();
    });
    ioc_.stop();
    thread_.join();
  }
  TcpProxy(const TcpProxy&) = delete;
  TcpProxy& operator=(const TcpProxy&) = delete;

  [[nodiscard]] int port() const { return port_; }

  /// Resets every forwarded connection and refuses new ones until restore(). Returns once done.
  void cut() {
    run_here([this] {
      cut_ = true;
      reset_all();
    });
  }
  void restore() {
    run_here([this] { cut_ = false; });
  }

 private:
  using tcp = boost::asio::ip::tcp;

  struct Session : std::enable_shared_from_this<Session> {
    explicit Session(boost::asio::io_context& ioc) : client(ioc), server(ioc) {}
    tcp::socket client;
    tcp::socket server;
    std::array<char, 16384> up{};
    std::array<char, 16384> down{};
    void reset() {
      boost::system::error_code ec;
      for (tcp::socket* s : {&client, &server}) {
        if (!s->is_open()) continue;
        s->set_option(tcp::socket::linger(true, 0), ec);  // RST, as a dead link looks at last
        s->close(ec);
      }
    }
  };

  template <class F>
  void run_here(F f) {
    std::promise<void> done;
    boost::asio::post(ioc_, [&] {
      f();
      done.set_value();
    });
    done.get_future().wait();
  }

  void reset_all() {
    for (const auto& weak : sessions_) {
      if (auto s = weak.lock()) s->reset();
    }
    sessions_.clear();
  }

  void accept() {
    acceptor_.async_accept([this](boost::system::error_code ec, tcp::socket socket) {
      if (ec == boost::asio::error::operation_aborted || !acceptor_.is_open()) return;
      if (!ec && !cut_) connect(std::move(socket));
      accept();
    });
  }

  void connect(tcp::socket socket) {
    auto s = std::make_shared<Session>(ioc_);
    s->client = std::move(socket);
    const std::vector<int>& ports = targets_;
    if (ports.empty()) return;  // the client's socket closes with s
    const std::size_t first = next_++ % ports.size();
    std::vector<tcp::endpoint> order;
    for (std::size_t i = 0; i < ports.size(); ++i) {
      order.emplace_back(boost::asio::ip::make_address_v4("127.0.0.1"),
                         static_cast<unsigned short>(ports[(first + i) % ports.size()]));
    }
    boost::asio::async_connect(s->server, order,
                               [this, s](boost::system::error_code ec, const tcp::endpoint&) {
                                 if (ec || cut_) return;
                                 sessions_.insert(s);
                                 pump(s, s->client, s->server, s->up);
                                 pump(s, s->server, s->client, s->down);
                               });
  }

  void pump(const std::shared_ptr<Session>& s, tcp::socket& from, tcp::socket& to,
            std::array<char, 16384>& buf) {
    from.async_read_some(
        boost::asio::buffer(buf),
        [this, s, &from, &to, &buf](boost::system::error_code ec, std::size_t n) {
          if (ec) {
            s->reset();
            sessions_.erase(std::weak_ptr<Session>(s));
            return;
          }
          boost::asio::async_write(
              to, boost::asio::buffer(buf.data(), n),
              [this, s, &from, &to, &buf](boost::system::error_code wec, std::size_t) {
                if (wec) {
                  s->reset();
                  sessions_.erase(std::weak_ptr<Session>(s));
                  return;
                }
                pump(s, from, to, buf);
              });
        });
  }

  std::vector<int> targets_;
  boost::asio::io_context ioc_{1};
  tcp::acceptor acceptor_{ioc_};
  int port_ = 0;
  bool cut_ = false;  // on the proxy's thread only
  std::size_t next_ = 0;
  std::set<std::weak_ptr<Session>, std::owner_less<std::weak_ptr<Session>>> sessions_;
  std::thread thread_;
};

}  // namespace dialer::bench
