#pragma once
// Test helpers for the simulator tests: an HTTP client with deadlines that reports how a request
// ended (answer, reset, closed, timed out), a webhook receiver with a programmable answer that
// records every arrival, and bounded waiting on conditions.

#include "core/campaign_spec.hpp"
#include "sim/log.hpp"
#include "sim/simulator.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace dialer::sim::test {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

inline constexpr const char* kKey = "rg_live_test_key";
inline constexpr const char* kAgent = "3fa85f64-5717-4562-b3fc-2c963f66afa6";
/// Generous bound for anything the tests wait on (a loaded 2-core machine, sanitizers).
inline constexpr auto kWait = std::chrono::seconds(90);

/// Completion handler of test coroutines: an escaped exception fails the test.
inline void fail_on_exception(const std::exception_ptr& e) {
  if (!e) return;
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    ADD_FAILURE() << "test task failed: " << ex.what();
  }
}

/// Settings every test starts from: loopback, port 0, one key, quiet logs.
inline SimOptions base_options() {
  SimOptions o;
  o.listen_host = "127.0.0.1";
  o.listen_port = 0;
  o.api_keys = {kKey};
  o.log_level = "warn";
  return o;
}

inline std::unique_ptr<SimThread> start_sim(SimOptions o) {
  set_log_level(o.log_level);
  auto t = SimThread::start(std::move(o));
  if (!t) {
    ADD_FAILURE() << "simulator did not start: " << t.error().message;
    return nullptr;
  }
  return std::move(*t);
}

/// Waits (polling) until `pred` holds or `bound` passes; returns whether it held.
template <class Pred>
bool wait_until(Pred pred, std::chrono::milliseconds bound = kWait) {
  auto end = std::chrono::steady_clock::now() + bound;
  while (std::chrono::steady_clock::now() < end) {
    if (pred()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return pred();
}

/// How an HTTP exchange ended.
enum class Ending { answered, reset, closed, timeout, error };

struct HttpResult {
  Ending ending = Ending::error;
  int status = 0;
  std::string body;
  std::string content_type;
  boost::system::error_code ec;
  std::chrono::steady_clock::duration elapsed{};

  /// The body as JSON (null when it is not JSON).
  [[nodiscard]] json::value json() const {
    boost::system::error_code jec;
    auto v = json::parse(body, jec);
    return jec ? json::value(nullptr) : v;
  }
  /// data of a success envelope.
  [[nodiscard]] json::value data() const {
    auto v = json();
    if (auto* o = v.if_object()) {
      if (auto* d = o->if_contains("data")) return *d;
    }
    return nullptr;
  }
  [[nodiscard]] std::string error_code() const {
    auto v = json();
    try {
      return std::string(v.at("error").at("code").as_string());
    } catch (...) {
      return {};
    }
  }
  [[nodiscard]] std::string error_message() const {
    auto v = json();
    try {
      return std::string(v.at("error").at("message").as_string());
    } catch (...) {
      return {};
    }
  }
};

inline std::ostream& operator<<(std::ostream& os, const HttpResult& r) {
  return os << "ending=" << static_cast<int>(r.ending) << " status=" << r.status
            << " ec=" << r.ec.message() << " body=" << r.body;
}

/// A blocking HTTP/1.1 client with a whole-exchange deadline. With keep_alive it reuses one
/// connection (reconnecting when the server closed it).
class TestClient {
 public:
  explicit TestClient(std::uint16_t port, std::string key = kKey, bool keep_alive = false)
      : port_(port), key_(std::move(key)), keep_alive_(keep_alive) {}

  void set_key(std::string key) { key_ = std::move(key); }
  void set_deadline(std::chrono::milliseconds d) { deadline_ = d; }

  HttpResult get(const std::string& target, std::optional<std::string> auth = std::nullopt) {
    return request(http::verb::get, target, "", auth);
  }
  HttpResult post(const std::string& target, const std::string& body,
                  std::optional<std::string> auth = std::nullopt) {
    return request(http::verb::post, target, body, auth);
  }
  /// POST /api/v2/calls/start for `number` (agent kAgent unless given).
  HttpResult start(const std::string& number, const std::string& provider = "",
                   const std::string& agent = kAgent) {
    json::object b{{"agent_id", agent}, {"to_number", number}};
    if (!provider.empty()) b["provider"] = provider;
    return post("/api/v2/calls/start", json::serialize(b));
  }
  /// GET /_sim/stats as JSON.
  json::object stats() { return get("/_sim/stats").json().as_object(); }
  /// POST to a /_sim/ endpoint; fails the test unless 200.
  json::value control(const std::string& target, const json::value& body) {
    auto r = post(target, json::serialize(body));
    EXPECT_EQ(r.status, 200) << target << ": " << r;
    return r.json();
  }

  HttpResult request(http::verb method, const std::string& target, const std::string& body,
                     std::optional<std::string> auth) {
    HttpResult out;
    auto begin = std::chrono::steady_clock::now();
    io_.restart();
    asio::co_spawn(io_, exchange(method, target, body, auth, out), fail_on_exception);
    io_.run();
    out.elapsed = std::chrono::steady_clock::now() - begin;
    return out;
  }

 private:
  asio::awaitable<void> exchange(http::verb method, std::string target, std::string body,
                                 std::optional<std::string> auth, HttpResult& out) {
    constexpr auto nothrow = asio::as_tuple(asio::use_awaitable);
    auto deadline = std::chrono::steady_clock::now() + deadline_;
    for (int round = 0; round < 2; ++round) {
      bool reused = stream_ != nullptr;
      if (!stream_) {
        stream_ = std::make_unique<beast::tcp_stream>(io_);
        stream_->expires_at(deadline);
        auto [ec] = co_await stream_->async_connect(
            tcp::endpoint(asio::ip::make_address("127.0.0.1"), port_), nothrow);
        if (ec) {
          out.ec = ec;
          out.ending = Ending::error;
          stream_.reset();
          co_return;
        }
      }
      stream_->expires_at(deadline);
      http::request<http::string_body> req{method, target, 11};
      req.set(http::field::host, "127.0.0.1");
      if (auth) {
        if (!auth->empty()) req.set(http::field::authorization, *auth);
      } else {
        req.set(http::field::authorization, "Bearer " + key_);
      }
      if (method == http::verb::post) req.set(http::field::content_type, "application/json");
      req.body() = body;
      req.keep_alive(keep_alive_);
      req.prepare_payload();
      auto [wec, wn] = co_await http::async_write(*stream_, req, nothrow);
      (void)wn;
      beast::flat_buffer buffer;
      http::response_parser<http::string_body> parser;
      parser.body_limit(16 * 1024 * 1024);
      boost::system::error_code rec;
      if (!wec) {
        auto [e, rn] = co_await http::async_read(*stream_, buffer, parser, nothrow);
        (void)rn;
        rec = e;
      }
      auto ec = wec ? wec : rec;
      if (ec && reused && round == 0 && !parser.got_some() && ec != beast::error::timeout &&
          ec != asio::error::connection_reset) {
        stream_.reset();  // the kept-alive connection had been closed by the server
        continue;
      }
      if (ec) {
        out.ec = ec;
        if (ec == beast::error::timeout) {
          out.ending = Ending::timeout;
        } else if (ec == asio::error::connection_reset || ec == asio::error::broken_pipe) {
          out.ending = Ending::reset;
        } else if (ec == http::error::end_of_stream || ec == asio::error::eof) {
          out.ending = Ending::closed;
        } else {
          out.ending = Ending::error;
        }
        stream_.reset();
        co_return;
      }
      auto& res = parser.get();
      out.ending = Ending::answered;
      out.status = res.result_int();
      out.body = res.body();
      out.content_type = std::string(res[http::field::content_type]);
      if (!keep_alive_ || !res.keep_alive()) {
        boost::system::error_code ignored;
        stream_->socket().shutdown(tcp::socket::shutdown_both, ignored);
        stream_.reset();
      } else {
        stream_->expires_never();
      }
      co_return;
    }
  }

  std::uint16_t port_;
  std::string key_;
  bool keep_alive_;
  std::chrono::milliseconds deadline_{30'000};
  asio::io_context io_;
  std::unique_ptr<beast::tcp_stream> stream_;
};

/// One request as the receiver saw it.
struct Arrival {
  std::size_t index = 0;  ///< arrival order, from 0
  std::string target;
  std::string signature;  ///< X-Webhook-Signature
  std::string timestamp;  ///< X-Webhook-Timestamp
  std::string body;
  std::string session_id;  ///< data.session_id
  int answered = 0;        ///< status the receiver answered (0 = held, no answer)
};

/// What the receiver answers to an arrival: a status, or hold (no answer until stopped).
struct Answer {
  int status = 200;
  bool hold = false;
};

/// A webhook endpoint on 127.0.0.1:0 with its own thread. The policy sees each arrival and the
/// number of earlier arrivals for the same session_id.
class WebhookReceiver {
 public:
  using Policy = std::function<Answer(const Arrival&, std::size_t earlier_for_session)>;

  explicit WebhookReceiver(Policy policy = {}) : policy_(std::move(policy)), acceptor_(io_) {
    tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), 0);
    acceptor_.open(ep.protocol());
    acceptor_.set_option(asio::socket_base::reuse_address(true));
    acceptor_.bind(ep);
    acceptor_.listen();
    port_ = acceptor_.local_endpoint().port();
    asio::co_spawn(io_, accept_loop(), fail_on_exception);
    thread_ = std::thread([this] { io_.run(); });
  }
  ~WebhookReceiver() { stop(); }

  void stop() {
    if (stopped_) return;
    stopped_ = true;
    asio::post(io_, [this] {
      boost::system::error_code ignored;
      acceptor_.close(ignored);
      for (auto* s : sockets_) {
        s->socket().cancel(ignored);
        s->socket().close(ignored);
      }
      for (auto* t : timers_) t->cancel();
    });
    if (thread_.joinable()) thread_.join();
  }

  [[nodiscard]] std::string url(const std::string& path = "/hooks/vocobase") const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }

  std::vector<Arrival> arrivals() const {
    std::lock_guard lock(mu_);
    return arrivals_;
  }
  std::size_t count() const {
    std::lock_guard lock(mu_);
    return arrivals_.size();
  }
  /// Waits until at least n arrivals were answered (or held).
  bool wait_for(std::size_t n, std::chrono::milliseconds bound = kWait) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, bound, [&] { return arrivals_.size() >= n; });
  }

 private:
  asio::awaitable<void> accept_loop() {
    constexpr auto nothrow = asio::as_tuple(asio::use_awaitable);
    for (;;) {
      auto [ec, socket] = co_await acceptor_.async_accept(nothrow);
      if (ec) co_return;
      asio::co_spawn(io_, serve(std::move(socket)), fail_on_exception);
    }
  }

  asio::awaitable<void> serve(tcp::socket socket) {
    constexpr auto nothrow = asio::as_tuple(asio::use_awaitable);
    beast::tcp_stream stream(std::move(socket));
    asio::steady_timer hold_timer(io_);
    sockets_.insert(&stream);
    timers_.insert(&hold_timer);
    struct Unregister {
      WebhookReceiver& r;
      beast::tcp_stream* s;
      asio::steady_timer* t;
      ~Unregister() {
        r.sockets_.erase(s);
        r.timers_.erase(t);
      }
    } unregister{*this, &stream, &hold_timer};
    beast::flat_buffer buffer;
    for (;;) {
      http::request<http::string_body> req;
      auto [ec, n] = co_await http::async_read(stream, buffer, req, nothrow);
      (void)n;
      if (ec || stopped_) break;
      Arrival a;
      a.target = std::string(req.target());
      a.signature = std::string(req["X-Webhook-Signature"]);
      a.timestamp = std::string(req["X-Webhook-Timestamp"]);
      a.body = req.body();
      boost::system::error_code jec;
      auto v = json::parse(a.body, jec);
      if (!jec) {
        if (auto* p = v.find_pointer("/data/session_id", jec); p && p->is_string()) {
          a.session_id = std::string(p->get_string());
        }
      }
      Answer answer;
      {
        std::lock_guard lock(mu_);
        a.index = arrivals_.size();
        std::size_t earlier = seen_[a.session_id]++;
        if (policy_) answer = policy_(a, earlier);
        a.answered = answer.hold ? 0 : answer.status;
        arrivals_.push_back(a);
      }
      cv_.notify_all();
      if (answer.hold) {
        hold_timer.expires_after(std::chrono::hours(1));
        co_await hold_timer.async_wait(nothrow);
        break;
      }
      http::response<http::string_body> res{static_cast<http::status>(answer.status), 11};
      if (answer.status != 204 && answer.status != 304) {
        res.set(http::field::content_type, "application/json");
        res.body() = R"({"ok":true})";
      }
      res.keep_alive(req.keep_alive());
      res.prepare_payload();
      auto [wec, wn] = co_await http::async_write(stream, res, nothrow);
      (void)wn;
      if (wec || !req.keep_alive()) break;
    }
    boost::system::error_code ignored;
    stream.socket().close(ignored);
  }

  Policy policy_;
  asio::io_context io_;
  tcp::acceptor acceptor_;
  std::uint16_t port_ = 0;
  std::thread thread_;
  bool stopped_ = false;
  std::set<beast::tcp_stream*> sockets_;
  std::set<asio::steady_timer*> timers_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Arrival> arrivals_;
  std::map<std::string, std::size_t> seen_;
};

/// Unsigned integer at a JSON pointer of an object (fails the test when absent).
inline std::uint64_t u(const json::object& o, std::string_view pointer) {
  boost::system::error_code ec;
  json::value v = o;
  auto* p = v.find_pointer(pointer, ec);
  if (!p || !p->is_number()) {
    ADD_FAILURE() << "no number at " << pointer;
    return 0;
  }
  return p->to_number<std::uint64_t>();
}

/// Number at a JSON pointer as double.
inline double d(const json::value& v, std::string_view pointer) {
  boost::system::error_code ec;
  auto* p = v.find_pointer(pointer, ec);
  if (!p || !p->is_number()) {
    ADD_FAILURE() << "no number at " << pointer;
    return 0;
  }
  return p->to_number<double>();
}

/// String at a JSON pointer ("" when absent).
inline std::string s(const json::value& v, std::string_view pointer) {
  boost::system::error_code ec;
  auto* p = v.find_pointer(pointer, ec);
  if (!p || !p->is_string()) return {};
  return std::string(p->get_string());
}

}  // namespace dialer::sim::test
