#include "api/vocobase/client.hpp"

#include "core/version.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <boost/url/parse.hpp>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <map>
#include <set>
#include <sys/socket.h>
#include <tuple>
#include <variant>
#include <vector>

namespace dialer::api {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using SteadyClock = std::chrono::steady_clock;

namespace {

constexpr auto nothrow = asio::as_tuple(asio::use_awaitable);
constexpr std::array kEndpoints{
    Endpoint::config,    Endpoint::concurrency,  Endpoint::calls_start,  Endpoint::calls_list,
    Endpoint::calls_get, Endpoint::sessions_get, Endpoint::account_setup};
constexpr std::array kVerdicts{Verdict::ok, Verdict::rejected, Verdict::ambiguous,
                               Verdict::not_sent};

/// One keep-alive connection, plain or TLS.
struct Connection {
  std::unique_ptr<beast::tcp_stream> plain;
  std::unique_ptr<beast::ssl_stream<beast::tcp_stream>> tls;
  beast::flat_buffer buffer;
  SteadyClock::time_point idle_since{};

  beast::tcp_stream& lowest() { return tls ? beast::get_lowest_layer(*tls) : *plain; }

  void close() {
    beast::error_code ec;
    lowest().socket().shutdown(tcp::socket::shutdown_both, ec);
    lowest().socket().close(ec);
  }

  /// True when the peer has neither closed nor sent anything since the last response. A
  /// connection the server closed while it sat in the pool shows a pending EOF here, so no
  /// request is written into it.
  bool reusable() {
    auto& s = lowest().socket();
    if (!s.is_open() || buffer.size() != 0) return false;
    char c = 0;
    const ssize_t n = ::recv(s.native_handle(), &c, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n >= 0) return false;  // EOF, or unsolicited bytes (a 408, a TLS alert)
    return errno == EAGAIN || errno == EWOULDBLOCK;
  }
};

/// What the exchange got to before it ended: decides not_sent versus ambiguous.
struct ExchangeState {
  std::size_t bytes_written = 0;
  bool write_done = false;
};

std::string encode_segment(std::string_view s) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

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
    auto [ec] = co_await t.async_wait(nothrow);
    if (!ec) f();
  };
  auto r = co_await (std::move(op) || expire(timer, on_expiry));
  if (r.index() == 0) co_return std::move(std::get<0>(r));
  co_return std::nullopt;
}

}  // namespace

std::string_view to_string(Endpoint e) noexcept {
  switch (e) {
    case Endpoint::config:
      return "config";
    case Endpoint::concurrency:
      return "calls_concurrency";
    case Endpoint::calls_start:
      return "calls_start";
    case Endpoint::calls_list:
      return "calls_list";
    case Endpoint::calls_get:
      return "calls_get";
    case Endpoint::sessions_get:
      return "sessions_get";
    case Endpoint::account_setup:
      return "account_setup";
  }
  return "unknown";
}

class VocobaseClient::Impl {
 public:
  Impl(asio::any_io_executor ex, ClientOptions options, const Clock& clock,
       prometheus::Registry* registry)
      : ex_(std::move(ex)),
        opts_(std::move(options)),
        clock_(clock),
        budget_(clock, opts_.rate),
        ssl_ctx_(ssl::context::tls_client),
        wake_timer_(ex_) {
    if (registry != nullptr) init_metrics(*registry);
  }

  Result<void> init() {
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

  ~Impl() { shutdown(); }

  // --- rate budget -------------------------------------------------------------------------

  struct Waiter {
    explicit Waiter(const asio::any_io_executor& ex) : timer(ex) {}
    asio::steady_timer timer;
    bool granted = false;
  };

  void pump() {
    for (RateBudget::Ticket t : budget_.grant()) {
      auto it = waiters_.find(t);
      if (it == waiters_.end()) continue;
      it->second->granted = true;
      it->second->timer.cancel();
    }
    arm_wake_timer();
    update_metrics();
  }

  void arm_wake_timer() {
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

  /// Waits for a token of `bucket`; an error when none came (queue full, deadline, shutdown).
  asio::awaitable<ApiResult<void>> acquire(Bucket bucket, Priority prio) {
    if (closed_) co_return ApiError(Reason::cancelled, "client is shut down");
    auto ticket = budget_.enqueue(bucket, prio);
    if (!ticket) {
      co_return ApiError(
          Reason::queue_full,
          std::string("rate queue of the ") + std::string(to_string(bucket)) + " bucket is full");
    }
    Waiter w(ex_);
    waiters_[*ticket] = &w;
    pump();
    // A start waits less: the scheduler claims with a token in hand, and how long a start can
    // wait before it is written bounds when reconciliation may prove it absent.
    const Millis limit = prio == Priority::start ? opts_.start_queue_timeout : opts_.queue_timeout;
    if (!w.granted && !closed_) {
      w.timer.expires_after(limit);
      co_await w.timer.async_wait(nothrow);
    }
    waiters_.erase(*ticket);
    if (w.granted) co_return ApiResult<void>{};
    budget_.cancel(*ticket);
    update_metrics();
    if (closed_) co_return ApiError(Reason::cancelled, "client is shut down");
    co_return ApiError(Reason::queue_timeout, "no rate token within " + format_duration(limit));
  }

  // --- connections -------------------------------------------------------------------------

  std::unique_ptr<Connection> take_pooled() {
    const auto now = SteadyClock::now();
    while (!pool_.empty()) {
      std::unique_ptr<Connection> c = std::move(pool_.back());
      pool_.pop_back();
      if (now - c->idle_since < opts_.idle_reuse_limit && c->reusable()) return c;
      c->close();
    }
    return nullptr;
  }

  void give_back(std::unique_ptr<Connection> c) {
    if (closed_ || pool_.size() >= opts_.pool_size) {
      c->close();
      return;
    }
    c->idle_since = SteadyClock::now();
    pool_.push_back(std::move(c));
  }

  asio::awaitable<beast::error_code> connect_op(Connection& c, tcp::resolver& resolver) {
    co_await asio::this_coro::throw_if_cancelled(false);
    const std::string& target = opts_.connect_host.empty() ? host_ : opts_.connect_host;
    auto [rec, results] =
        co_await resolver.async_resolve(target, port_, tcp::resolver::numeric_service, nothrow);
    if (rec) co_return rec;
    auto [cec, ep] = co_await c.lowest().async_connect(results, nothrow);
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
      auto [hec] = co_await c.tls->async_handshake(ssl::stream_base::client, nothrow);
      if (hec) co_return hec;
    }
    co_return beast::error_code{};
  }

  /// A fresh connection, within the connect timeout and the request's deadline.
  asio::awaitable<ApiResult<std::unique_ptr<Connection>>> connect(
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
      co_return ApiError(Reason::connect_failed, "connect to " + host_header_ +
                                                     " timed out after " +
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

  // --- one request -------------------------------------------------------------------------

  asio::awaitable<beast::error_code> exchange_op(Connection& c,
                                                 const http::request<http::string_body>& req,
                                                 http::response_parser<http::string_body>& parser,
                                                 ExchangeState& st) {
    co_await asio::this_coro::throw_if_cancelled(false);
    beast::error_code ec;
    std::size_t n = 0;
    if (c.tls) {
      std::tie(ec, n) = co_await http::async_write(*c.tls, req, nothrow);
    } else {
      std::tie(ec, n) = co_await http::async_write(*c.plain, req, nothrow);
    }
    st.bytes_written = n;
    if (ec) co_return ec;
    st.write_done = true;
    if (c.tls) {
      std::tie(ec, n) = co_await http::async_read(*c.tls, c.buffer, parser, nothrow);
    } else {
      std::tie(ec, n) = co_await http::async_read(*c.plain, c.buffer, parser, nothrow);
    }
    co_return ec;
  }

  struct Raw {
    int status = 0;
    std::string body;
    std::optional<Millis> retry_after;
  };

  asio::awaitable<ApiResult<Raw>> execute(http::verb verb, const std::string& target,
                                          std::string body, Bucket bucket, Priority prio) {
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
      auto r =
          co_await race(exchange_op(*conn, req, parser, st), deadline, [raw] { raw->close(); });
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

  void redact(ApiError& e) const {
    redact_key(e, opts_.api_key);
    for (const auto& k : retired_keys_) redact_key(e, k);
  }

  static void redact_key(ApiError& e, const std::string& key) {
    if (key.empty()) return;
    for (std::string* s : {&e.message, &e.api_code}) {
      for (auto pos = s->find(key); pos != std::string::npos; pos = s->find(key)) {
        s->replace(pos, key.size(), "[redacted]");
      }
    }
  }

  template <class T, class Parse>
  asio::awaitable<ApiResult<T>> call(Endpoint ep, http::verb verb, std::string target,
                                     std::string body, Priority prio, Parse parse) {
    const Bucket bucket = bucket_for_path(target);
    const auto started = SteadyClock::now();
    auto raw = co_await execute(verb, target, std::move(body), bucket, prio);
    std::optional<T> value;
    ApiError err;
    if (!raw) {
      err = raw.error();
    } else if (raw->status >= 200 && raw->status < 300) {
      auto parsed = parse(std::string_view(raw->body));
      if (parsed) {
        value = std::move(*parsed);
      } else {
        err = ApiError(
            Reason::bad_response,
            "unexpected " + std::to_string(raw->status) + " body: " + parsed.error().what(),
            raw->status);
      }
    } else {
      std::string code, message;
      parse_error_envelope(raw->body, code, message);
      err = classify_http_error(raw->status, code, message, raw->retry_after);
      if (err.reason == Reason::rate) {
        budget_.on_rate_limited(bucket, raw->retry_after);
        pump();
      }
    }
    ApiResult<T> out = err;
    if (value) {
      out = std::move(*value);
    } else {
      redact(err);
      out = err;
    }
    record(ep, out, SteadyClock::now() - started);
    const std::string_view verb_name = http::to_string(verb);
    if (out) {
      spdlog::debug("vocobase {} {}: ok", std::string(verb_name), target);
    } else if (out.error().reason == Reason::auth || out.error().reason == Reason::account) {
      spdlog::error("vocobase {} {}: {}", std::string(verb_name), target, out.error().describe());
    } else {
      spdlog::info("vocobase {} {}: {}", std::string(verb_name), target, out.error().describe());
    }
    co_return out;
  }

  // --- metrics -----------------------------------------------------------------------------

  void init_metrics(prometheus::Registry& registry) {
    auto& requests = prometheus::BuildCounter()
                         .Name("dialer_api_requests_total")
                         .Help("Partner API requests by endpoint and result class")
                         .Register(registry);
    for (Endpoint ep : kEndpoints) {
      for (Verdict v : kVerdicts) {
        requests_[{ep, v}] = &requests.Add(
            {{"endpoint", std::string(to_string(ep))}, {"result", std::string(to_string(v))}});
      }
    }
    errors_ = &prometheus::BuildCounter()
                   .Name("dialer_api_request_failures_total")
                   .Help("Partner API requests that did not succeed, by endpoint and reason")
                   .Register(registry);
    auto& duration = prometheus::BuildHistogram()
                         .Name("dialer_api_request_duration_seconds")
                         .Help("Partner API request time including the wait for a rate token")
                         .Register(registry);
    for (Endpoint ep : kEndpoints) {
      durations_[ep] = &duration.Add({{"endpoint", std::string(to_string(ep))}},
                                     prometheus::Histogram::BucketBoundaries{
                                         0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300});
    }
    auto& tokens = prometheus::BuildGauge()
                       .Name("dialer_api_bucket_tokens")
                       .Help("Rate tokens spendable now, per bucket")
                       .Register(registry);
    auto& used = prometheus::BuildGauge()
                     .Name("dialer_api_bucket_used")
                     .Help("Requests sent in the last sliding window, per bucket")
                     .Register(registry);
    auto& limit = prometheus::BuildGauge()
                      .Name("dialer_api_bucket_limit")
                      .Help("Requests allowed per sliding window, per bucket")
                      .Register(registry);
    auto& waiting = prometheus::BuildGauge()
                        .Name("dialer_api_bucket_waiting")
                        .Help("Requests waiting for a rate token, per bucket")
                        .Register(registry);
    for (Bucket b : {Bucket::calls, Bucket::general}) {
      const prometheus::Labels labels{{"bucket", std::string(to_string(b))}};
      const auto i = static_cast<std::size_t>(b);
      gauges_[i] = {&tokens.Add(labels), &used.Add(labels), &limit.Add(labels),
                    &waiting.Add(labels)};
    }
    metrics_ = true;
    update_metrics();
  }

  template <class T>
  void record(Endpoint ep, const ApiResult<T>& r, SteadyClock::duration took) {
    if (!metrics_) return;
    const Verdict v = r ? Verdict::ok : r.error().verdict;
    requests_[{ep, v}]->Increment();
    if (!r) {
      errors_
          ->Add({{"endpoint", std::string(to_string(ep))},
                 {"reason", std::string(to_string(r.error().reason))}})
          .Increment();
    }
    durations_[ep]->Observe(std::chrono::duration<double>(took).count());
    update_metrics();
  }

  void update_metrics() {
    if (!metrics_) return;
    for (Bucket b : {Bucket::calls, Bucket::general}) {
      auto& g = gauges_[static_cast<std::size_t>(b)];
      g.tokens->Set(budget_.available(b));
      g.used->Set(budget_.used_last_window(b));
      g.limit->Set(budget_.limit(b));
      g.waiting->Set(static_cast<double>(budget_.waiting(b)));
    }
  }

  void shutdown() {
    if (closed_) return;
    closed_ = true;
    wake_timer_.cancel();
    for (auto& [ticket, w] : waiters_) w->timer.cancel();
    for (auto& c : pool_) c->close();
    pool_.clear();
    for (Connection* c : active_) c->close();
  }

  struct BucketGauges {
    prometheus::Gauge* tokens = nullptr;
    prometheus::Gauge* used = nullptr;
    prometheus::Gauge* limit = nullptr;
    prometheus::Gauge* waiting = nullptr;
  };

  asio::any_io_executor ex_;
  ClientOptions opts_;
  std::vector<std::string> retired_keys_;  ///< keys replaced by a reload (still redacted)
  const Clock& clock_;
  RateBudget budget_;
  ssl::context ssl_ctx_;
  asio::steady_timer wake_timer_;
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);
  std::map<RateBudget::Ticket, Waiter*> waiters_;
  std::vector<std::unique_ptr<Connection>> pool_;
  std::set<Connection*> active_;
  bool closed_ = false;
  bool tls_ = false;
  std::string host_, host_header_, port_, base_path_, display_url_, user_agent_;
  bool metrics_ = false;
  std::map<std::pair<Endpoint, Verdict>, prometheus::Counter*> requests_;
  prometheus::Family<prometheus::Counter>* errors_ = nullptr;
  std::map<Endpoint, prometheus::Histogram*> durations_;
  std::array<BucketGauges, 2> gauges_{};
};

// --- public face ---------------------------------------------------------------------------

Result<std::unique_ptr<VocobaseClient>> VocobaseClient::create(asio::any_io_executor ex,
                                                               ClientOptions options,
                                                               const Clock& clock,
                                                               prometheus::Registry* registry) {
  auto impl = std::make_unique<Impl>(std::move(ex), std::move(options), clock, registry);
  if (auto r = impl->init(); !r) return r.error();
  return std::unique_ptr<VocobaseClient>(new VocobaseClient(std::move(impl)));
}

VocobaseClient::VocobaseClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
VocobaseClient::~VocobaseClient() = default;

asio::awaitable<ApiResult<AccountConfig>> VocobaseClient::get_config(Priority p) {
  Impl& impl = *impl_;
  co_return co_await impl.call<AccountConfig>(
      Endpoint::config, http::verb::get, "/config", {}, p, [&impl](std::string_view body) {
        return parse_account_config(body, impl.opts_.credit_balance_pointer);
      });
}

asio::awaitable<ApiResult<ConcurrencyInfo>> VocobaseClient::get_concurrency(Priority p) {
  co_return co_await impl_->call<ConcurrencyInfo>(
      Endpoint::concurrency, http::verb::get, "/calls/concurrency", {}, p,
      [](std::string_view b) { return parse_concurrency(b); });
}

asio::awaitable<ApiResult<StartedCall>> VocobaseClient::start_call(StartCallRequest request) {
  std::string body = serialize(request);
  co_return co_await impl_->call<StartedCall>(
      Endpoint::calls_start, http::verb::post, "/calls/start", std::move(body), Priority::start,
      [](std::string_view b) { return parse_started_call(b); });
}

asio::awaitable<ApiResult<CallPage>> VocobaseClient::list_calls(ListCallsQuery query, Priority p) {
  std::string target = "/calls?limit=" + std::to_string(std::clamp(query.limit, 1, 100)) +
                       "&offset=" + std::to_string(std::max(query.offset, 0));
  if (query.status) target += "&status=" + std::string(dialer::to_string(*query.status));
  co_return co_await impl_->call<CallPage>(Endpoint::calls_list, http::verb::get, std::move(target),
                                           {}, p,
                                           [](std::string_view b) { return parse_call_page(b); });
}

asio::awaitable<ApiResult<CallRecord>> VocobaseClient::get_call(std::string call_id, Priority p) {
  // An empty id would turn into GET /calls, a different request: refuse it here.
  if (call_id.empty()) co_return ApiError(Reason::validation, "empty call id");
  co_return co_await impl_->call<CallRecord>(Endpoint::calls_get, http::verb::get,
                                             "/calls/" + encode_segment(call_id), {}, p,
                                             [](std::string_view b) { return parse_call(b); });
}

asio::awaitable<ApiResult<SessionData>> VocobaseClient::get_session(std::string session_id,
                                                                    Priority p) {
  if (session_id.empty()) co_return ApiError(Reason::validation, "empty session id");
  co_return co_await impl_->call<SessionData>(Endpoint::sessions_get, http::verb::get,
                                              "/sessions/" + encode_segment(session_id), {}, p,
                                              [](std::string_view b) { return parse_session(b); });
}

asio::awaitable<ApiResult<std::vector<WebhookEndpointInfo>>> VocobaseClient::list_webhooks() {
  co_return co_await impl_->call<std::vector<WebhookEndpointInfo>>(
      Endpoint::account_setup, http::verb::get, "/config/webhooks", {}, Priority::poll,
      [](std::string_view b) { return parse_webhook_list(b); });
}

asio::awaitable<ApiResult<WebhookSecretGrant>> VocobaseClient::create_webhook(std::string label,
                                                                              std::string url) {
  std::string body = boost::json::serialize(boost::json::object{{"label", label}, {"url", url}});
  co_return co_await impl_->call<WebhookSecretGrant>(
      Endpoint::account_setup, http::verb::post, "/config/webhooks", std::move(body),
      Priority::poll, [](std::string_view b) { return parse_webhook_grant(b); });
}

asio::awaitable<ApiResult<WebhookSecretGrant>> VocobaseClient::rotate_webhook_secret(
    std::string id) {
  if (id.empty()) co_return ApiError(Reason::validation, "empty webhook endpoint id");
  co_return co_await impl_->call<WebhookSecretGrant>(
      Endpoint::account_setup, http::verb::post,
      "/config/webhooks/" + encode_segment(id) + "/rotate-secret", "{}", Priority::poll,
      [](std::string_view b) { return parse_webhook_grant(b); });
}

asio::awaitable<ApiResult<std::string>> VocobaseClient::get_agent(std::string agent_id) {
  if (agent_id.empty()) co_return ApiError(Reason::validation, "empty agent id");
  co_return co_await impl_->call<std::string>(
      Endpoint::account_setup, http::verb::get, "/agents/" + encode_segment(agent_id), {},
      Priority::poll, [](std::string_view b) { return parse_agent(b); });
}

asio::awaitable<ApiResult<VoicelinkReadiness>> VocobaseClient::voicelink_readiness(
    std::optional<std::string> connection_id) {
  boost::json::object body{{"import_dids", false}};
  if (connection_id) body["connection_id"] = *connection_id;
  co_return co_await impl_->call<VoicelinkReadiness>(
      Endpoint::account_setup, http::verb::post, "/voicelink/sync", boost::json::serialize(body),
      Priority::poll, [](std::string_view b) { return parse_voicelink_readiness(b); });
}

asio::awaitable<ApiResult<std::vector<LegacyConnection>>> VocobaseClient::legacy_connections() {
  co_return co_await impl_->call<std::vector<LegacyConnection>>(
      Endpoint::account_setup, http::verb::get, "^/telephony/connections", {}, Priority::poll,
      [](std::string_view b) { return parse_legacy_connections(b); });
}

const RateBudget& VocobaseClient::budget() const noexcept {
  return impl_->budget_;
}

void VocobaseClient::set_rate_limits(const RateLimits& limits) {
  impl_->budget_.set_limits(limits);
  impl_->pump();
}

void VocobaseClient::apply_reload(const ClientOptions& options) {
  auto& o = impl_->opts_;
  if (options.api_key != o.api_key) {
    if (!o.api_key.empty() && impl_->retired_keys_.size() < 8) {
      impl_->retired_keys_.push_back(o.api_key);
    }
    o.api_key = options.api_key;
  }
  o.request_timeout = options.request_timeout;
  o.connect_timeout = options.connect_timeout;
  o.credit_balance_pointer = options.credit_balance_pointer;
  set_rate_limits(options.rate);
}

void VocobaseClient::pump() {
  impl_->pump();
}
void VocobaseClient::update_metrics() {
  impl_->update_metrics();
}
void VocobaseClient::shutdown() {
  impl_->shutdown();
}
const std::string& VocobaseClient::base_url() const noexcept {
  return impl_->display_url_;
}

}  // namespace dialer::api
