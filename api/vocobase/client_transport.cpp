// VocobaseClient's transport: the rate-token wait, pooled keep-alive connections (TCP, TLS)
// and one HTTP exchange with its deadline and not_sent / ambiguous classification.

#include "api/vocobase/client_impl.hpp"
#include "core/use_nothrow.hpp"
#include "core/version.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/url/parse.hpp>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <cerrno>
#include <sys/socket.h>
#include <tuple>
#include <variant>

namespace dialer::api {

using vocobase_detail::Connection;
using SteadyClock = std::chrono::steady_clock;

namespace vocobase_detail {

void Connection::close() {
  beast::error_code ec;
  lowest().socket().shutdown(tcp::socket::shutdown_both, ec);
  lowest().socket().close(ec);
}

bool Connection::reusable() {
  auto& s = lowest().socket();
  if (!s.is_open() || buffer.size() != 0) return false;
  char c = 0;
  const ssize_t n = ::recv(s.native_handle(), &c, 1, MSG_PEEK | MSG_DONTWAIT);
  if (n >= 0) return false;  // EOF, or unsolicited bytes (a 408, a TLS alert)
  return errno == EAGAIN || errno == EWOULDBLOCK;
}

}  // namespace vocobase_detail

namespace {

/// "/api/v2" → "/api"; "/v2" → "".
std::string parent_path(const std::string& path) {
  auto slash = path.rfind('/');
  return slash == std::string::npos ? std::string() : path.substr(0, slash);
}

bool is_ip_literal(const std::string& host) {
  beast::error_code ec;
  asio::ip::make_address(host, ec);
  return !ec;
}

/// Runs `op` raced with a timer at `deadline` (Boost 1.81 has no cancel_after). On expiry
/// `on_expiry` closes what `op` waits on, so `op` ends whether or not its operation honours
/// per-operation cancellation. Empty when the deadline won.
template <class T, class OnExpiry>
asio::awaitable<std::optional<T>> race(asio::awaitable<T> op, SteadyClock::time_point deadline,
                                       OnExpiry on_expiry) {
  using namespace asio::experimental::awaitable_operators;
  asio::steady_timer timer(co_await asio::this_coro::executor, deadline);
  auto expire = [](asio::steady_timer& t, OnExpiry& f) -> asio::awaitable<void> {
    auto [ec] = co_await t.async_wait(use_nothrow);
    if (!ec) f();
  };
  auto r = co_await (std::move(op) || expire(timer, on_expiry));
  if (r.index() == 0) co_return std::move(std::get<0>(r));
  co_return std::nullopt;
}

}  // namespace

VocobaseClient::Impl::Impl(asio::any_io_executor ex, ClientOptions options, const Clock& clock,
                           prometheus::Registry* registry)
    : ex_(std::move(ex)),
      opts_(std::move(options)),
      clock_(clock),
      budget_(clock, opts_.rate),
      ssl_ctx_(ssl::context::tls_client),
      wake_timer_(ex_) {
  if (registry != nullptr) init_metrics(*registry);
}

Result<void> VocobaseClient::Impl::init() {
  auto url = boost::urls::parse_uri(opts_.base_url);
  if (!url) return Error(errc::invalid_argument, "vocobase base_url is not a valid URL");
  if (url->has_userinfo() || url->has_query() || url->has_fragment()) {
    return Error(errc::invalid_argument,
                 "vocobase base_url must not carry user info, a query or a fragment");
  }
  if (url->scheme() == "https") {
    tls_ = true;
  } else if (url->scheme() != "http") {
    return Error(errc::invalid_argument, "vocobase base_url must be http:// or https://");
  }
  if (url->host_type() == boost::urls::host_type::ipv6) {
    host_ = url->host_ipv6_address().to_string();
    host_header_ = "[" + host_ + "]";
  } else {
    host_ = url->host();
    host_header_ = host_;
  }
  if (host_.empty()) return Error(errc::invalid_argument, "vocobase base_url has no host");
  port_ = url->has_port() ? std::string(url->port()) : (tls_ ? "443" : "80");
  if (url->has_port()) host_header_ += ":" + port_;
  base_path_ = std::string(url->encoded_path());
  while (!base_path_.empty() && base_path_.back() == '/') base_path_.pop_back();
  display_url_ = std::string(url->scheme()) + "://" + host_header_ + base_path_;

  if (tls_) {
    beast::error_code ec;
    ssl_ctx_.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                         ssl::context::no_sslv3 | ssl::context::no_tlsv1 |
                         ssl::context::no_tlsv1_1);
    if (opts_.use_system_ca) {
      ssl_ctx_.set_default_verify_paths(ec);
      if (ec) return Error(errc::io_error, "cannot load the system CA store: " + ec.message());
    }
    if (!opts_.extra_ca_file.empty()) {
      ssl_ctx_.load_verify_file(opts_.extra_ca_file, ec);
      if (ec) {
        return Error(errc::io_error,
                     "cannot load CA file " + opts_.extra_ca_file + ": " + ec.message());
      }
    }
    ssl_ctx_.set_verify_mode(ssl::verify_peer);
  }
  user_agent_ = std::string("dialerd/") + version();
  return {};
}

void VocobaseClient::Impl::pump() {
  for (RateBudget::Ticket t : budget_.grant()) {
    auto it = waiters_.find(t);
    if (it == waiters_.end()) continue;
    it->second->granted = true;
    it->second->timer.cancel();
  }
  arm_wake_timer();
  update_metrics();
}

void VocobaseClient::Impl::arm_wake_timer() {
  const auto wake = budget_.next_wake();
  if (!wake || closed_) {
    wake_timer_.cancel();
    return;
  }
  // +1 ms: the budget counts whole milliseconds; waking early would find no token.
  const auto delay = std::max(Millis{0}, *wake - clock_.now()) + Millis{1};
  wake_timer_.expires_after(delay);
  wake_timer_.async_wait([alive = std::weak_ptr<int>(alive_), this](beast::error_code ec) {
    if (ec || alive.expired()) return;
    pump();
  });
}

asio::awaitable<ApiResult<void>> VocobaseClient::Impl::acquire(Bucket bucket, Priority prio) {
  if (closed_) co_return ApiError(Reason::cancelled, "client is shut down");
  auto ticket = budget_.enqueue(bucket, prio);
  if (!ticket) {
    co_return ApiError(Reason::queue_full, std::string("rate queue of the ") +
                                               std::string(to_string(bucket)) + " bucket is full");
  }
  Waiter w(ex_);
  waiters_[*ticket] = &w;
  pump();
  // A start waits less: the scheduler claims with a token in hand, and how long a start can
  // wait before it is written bounds when reconciliation may prove it absent.
  const Millis limit = prio == Priority::start ? opts_.start_queue_timeout : opts_.queue_timeout;
  if (!w.granted && !closed_) {
    w.timer.expires_after(limit);
    co_await w.timer.async_wait(use_nothrow);
  }
  waiters_.erase(*ticket);
  if (w.granted) co_return ApiResult<void>{};
  budget_.cancel(*ticket);
  update_metrics();
  if (closed_) co_return ApiError(Reason::cancelled, "client is shut down");
  co_return ApiError(Reason::queue_timeout, "no rate token within " + format_duration(limit));
}

std::unique_ptr<Connection> VocobaseClient::Impl::take_pooled() {
  const auto now = SteadyClock::now();
  while (!pool_.empty()) {
    std::unique_ptr<Connection> c = std::move(pool_.back());
    pool_.pop_back();
    if (now - c->idle_since < opts_.idle_reuse_limit && c->reusable()) return c;
    c->close();
  }
  return nullptr;
}

void VocobaseClient::Impl::give_back(std::unique_ptr<Connection> c) {
  if (closed_ || pool_.size() >= opts_.pool_size) {
    c->close();
    return;
  }
  c->idle_since = SteadyClock::now();
  pool_.push_back(std::move(c));
}

asio::awaitable<beast::error_code> VocobaseClient::Impl::connect_op(Connection& c,
                                                                    tcp::resolver& resolver) {
  co_await asio::this_coro::throw_if_cancelled(false);
  const std::string& target = opts_.connect_host.empty() ? host_ : opts_.connect_host;
  auto [rec, results] =
      co_await resolver.async_resolve(target, port_, tcp::resolver::numeric_service, use_nothrow);
  if (rec) co_return rec;
  auto [cec, ep] = co_await c.lowest().async_connect(results, use_nothrow);
  if (cec) co_return cec;
  beast::error_code ignored;
  c.lowest().socket().set_option(tcp::no_delay(true), ignored);
  if (c.tls) {
    SSL* ssl = c.tls->native_handle();
    if (is_ip_literal(host_)) {
      // No SNI for an address (RFC 6066); the certificate must name the address instead.
      if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host_.c_str()) != 1) {
        co_return beast::error_code(asio::error::invalid_argument);
      }
    } else {
      if (SSL_set_tlsext_host_name(ssl, host_.c_str()) != 1) {
        co_return beast::error_code(asio::error::invalid_argument);
      }
      SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
      if (SSL_set1_host(ssl, host_.c_str()) != 1) {
        co_return beast::error_code(asio::error::invalid_argument);
      }
    }
    auto [hec] = co_await c.tls->async_handshake(ssl::stream_base::client, use_nothrow);
    if (hec) co_return hec;
  }
  co_return beast::error_code{};
}

asio::awaitable<ApiResult<std::unique_ptr<Connection>>> VocobaseClient::Impl::connect(
    SteadyClock::time_point request_deadline) {
  auto c = std::make_unique<Connection>();
  if (tls_) {
    c->tls = std::make_unique<beast::ssl_stream<beast::tcp_stream>>(ex_, ssl_ctx_);
  } else {
    c->plain = std::make_unique<beast::tcp_stream>(ex_);
  }
  tcp::resolver resolver(ex_);
  const auto connect_deadline = SteadyClock::now() + opts_.connect_timeout;
  const auto deadline = std::min(request_deadline, connect_deadline);
  Connection* raw = c.get();
  active_.insert(raw);
  auto r = co_await race(connect_op(*c, resolver), deadline, [raw, &resolver] {
    resolver.cancel();
    raw->close();
  });
  active_.erase(raw);
  if (!r) {
    if (deadline == request_deadline && request_deadline < connect_deadline) {
      co_return ApiError(Reason::timeout_before_write,
                         "request deadline expired while connecting to " + host_header_);
    }
    co_return ApiError(Reason::connect_failed, "connect to " + host_header_ + " timed out after " +
                                                   format_duration(opts_.connect_timeout));
  }
  if (*r) {
    if (closed_) co_return ApiError(Reason::cancelled, "client is shut down");
    std::string msg = "connect to " + host_header_ + " failed: " + r->message();
    if (c->tls) {
      const long vr = SSL_get_verify_result(c->tls->native_handle());
      if (vr != X509_V_OK) msg += std::string(" (") + X509_verify_cert_error_string(vr) + ")";
    }
    co_return ApiError(Reason::connect_failed, std::move(msg));
  }
  co_return std::move(c);
}

asio::awaitable<beast::error_code> VocobaseClient::Impl::exchange_op(
    Connection& c, const http::request<http::string_body>& req,
    http::response_parser<http::string_body>& parser, ExchangeState& st) {
  co_await asio::this_coro::throw_if_cancelled(false);
  beast::error_code ec;
  std::size_t n = 0;
  if (c.tls) {
    std::tie(ec, n) = co_await http::async_write(*c.tls, req, use_nothrow);
  } else {
    std::tie(ec, n) = co_await http::async_write(*c.plain, req, use_nothrow);
  }
  st.bytes_written = n;
  if (ec) co_return ec;
  st.write_done = true;
  if (c.tls) {
    std::tie(ec, n) = co_await http::async_read(*c.tls, c.buffer, parser, use_nothrow);
  } else {
    std::tie(ec, n) = co_await http::async_read(*c.plain, c.buffer, parser, use_nothrow);
  }
  co_return ec;
}

asio::awaitable<ApiResult<VocobaseClient::Impl::Raw>> VocobaseClient::Impl::execute(
    http::verb verb, const std::string& target, std::string body, Bucket bucket, Priority prio) {
  auto token = co_await acquire(bucket, prio);
  if (!token) co_return token.error();
  const auto deadline = SteadyClock::now() + opts_.request_timeout;

  // A target that begins with '^' lies beside the versioned base path, not under it
  // (GET /api/telephony/connections next to /api/v2).
  const std::string path =
      target.starts_with('^') ? parent_path(base_path_) + target.substr(1) : base_path_ + target;
  http::request<http::string_body> req{verb, path, 11};
  req.set(http::field::host, host_header_);
  req.set(http::field::user_agent, user_agent_);
  req.set(http::field::accept, "application/json");
  req.set(http::field::authorization, "Bearer " + opts_.api_key);
  req.keep_alive(true);
  if (verb == http::verb::post || verb == http::verb::patch) {
    req.set(http::field::content_type, "application/json");
    req.body() = std::move(body);
  }
  req.prepare_payload();

  for (int attempt = 0;; ++attempt) {
    if (closed_) co_return ApiError(Reason::cancelled, "client is shut down");
    std::unique_ptr<Connection> conn = take_pooled();
    const bool reused = conn != nullptr;
    if (!conn) {
      auto fresh = co_await connect(deadline);
      if (!fresh) co_return fresh.error();
      conn = std::move(*fresh);
    }
    http::response_parser<http::string_body> parser;
    parser.body_limit(opts_.max_response_body);
    parser.header_limit(16 * 1024);
    ExchangeState st;
    Connection* raw = conn.get();
    active_.insert(raw);
    auto r = co_await race(exchange_op(*conn, req, parser, st), deadline, [raw] { raw->close(); });
    active_.erase(raw);
    if (!r) {
      conn->close();
      if (st.bytes_written == 0) {
        co_return ApiError(Reason::timeout_before_write,
                           "deadline expired before the request was written");
      }
      co_return ApiError(Reason::timeout_after_write,
                         "no answer within " + format_duration(opts_.request_timeout));
    }
    if (*r) {
      conn->close();
      const beast::error_code ec = *r;
      if (st.bytes_written == 0) {
        if (closed_) co_return ApiError(Reason::cancelled, "client is shut down");
        // A pooled connection that died under us: the server saw nothing, so the request
        // goes out once more on a fresh connection.
        if (reused && attempt == 0) continue;
        co_return ApiError(Reason::write_failed, "writing the request failed: " + ec.message());
      }
      if (!st.write_done) {
        co_return ApiError(Reason::connection_lost,
                           "connection failed while writing the request: " + ec.message());
      }
      if (ec == http::error::body_limit) {
        co_return ApiError(
            Reason::bad_response,
            "response body over " + std::to_string(opts_.max_response_body) + " bytes");
      }
      if (ec.category() == beast::error_code(http::error::end_of_stream).category() &&
          ec != http::error::end_of_stream && ec != http::error::partial_message) {
        co_return ApiError(Reason::bad_response, "malformed HTTP response: " + ec.message());
      }
      co_return ApiError(Reason::connection_lost,
                         "connection lost before a complete answer: " + ec.message());
    }
    auto& res = parser.get();
    Raw out;
    out.status = static_cast<int>(res.result_int());
    if (auto ra = res.find(http::field::retry_after); ra != res.end()) {
      out.retry_after = parse_retry_after(ra->value(), clock_.now());
    }
    const bool keep = res.keep_alive();
    out.body = std::move(res.body());
    if (keep) {
      give_back(std::move(conn));
    } else {
      conn->close();
    }
    co_return out;
  }
}

void VocobaseClient::Impl::redact(ApiError& e) const {
  redact_key(e, opts_.api_key);
  for (const auto& k : retired_keys_) redact_key(e, k);
}

void VocobaseClient::Impl::redact_key(ApiError& e, const std::string& key) {
  if (key.empty()) return;
  for (std::string* s : {&e.message, &e.api_code}) {
    for (auto pos = s->find(key); pos != std::string::npos; pos = s->find(key)) {
      s->replace(pos, key.size(), "[redacted]");
    }
  }
}

void VocobaseClient::Impl::shutdown() {
  if (closed_) return;
  closed_ = true;
  wake_timer_.cancel();
  for (auto& [ticket, w] : waiters_) w->timer.cancel();
  for (auto& c : pool_) c->close();
  pool_.clear();
  for (Connection* c : active_) c->close();
}

}  // namespace dialer::api
