#pragma once
/// Internals of VocobaseClient shared by its source files: the connection type and the Impl
/// class. client_transport.cpp defines the rate-token wait, connections and one HTTP exchange;
/// client_metrics.cpp the dialer_api_* metrics; client.cpp and client_account.cpp the endpoint
/// calls. Not for use outside api/vocobase.

#include "api/vocobase/client.hpp"
#include "core/use_nothrow.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/verb.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <spdlog/spdlog.h>

#include <array>
#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace dialer::api {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

namespace vocobase_detail {

using SteadyClock = std::chrono::steady_clock;

/// One keep-alive connection, plain or TLS.
struct Connection {
  std::unique_ptr<beast::tcp_stream> plain;
  std::unique_ptr<beast::ssl_stream<beast::tcp_stream>> tls;
  beast::flat_buffer buffer;
  SteadyClock::time_point idle_since{};

  beast::tcp_stream& lowest() { return tls ? beast::get_lowest_layer(*tls) : *plain; }

  void close();

  /// True when the peer has neither closed nor sent anything since the last response. A
  /// connection the server closed while it sat in the pool shows a pending EOF here, so no
  /// request is written into it.
  bool reusable();
};

/// What the exchange got to before it ended: decides not_sent versus ambiguous.
struct ExchangeState {
  std::size_t bytes_written = 0;
  bool write_done = false;
};

/// `s` as one URL path segment: every byte but the unreserved characters of RFC 3986
/// (ALPHA DIGIT - . _ ~) percent-encoded, upper-case hex (Boost.URL).
std::string encode_segment(std::string_view s);

}  // namespace vocobase_detail

class VocobaseClient::Impl {
 public:
  using SteadyClock = vocobase_detail::SteadyClock;
  using Connection = vocobase_detail::Connection;
  using ExchangeState = vocobase_detail::ExchangeState;

  Impl(asio::any_io_executor ex, ClientOptions options, const Clock& clock,
       prometheus::Registry* registry);
  /// Parses the base URL and sets up TLS.
  Result<void> init();
  ~Impl() { shutdown(); }

  // --- rate budget (client_transport.cpp) --------------------------------------------------

  struct Waiter {
    explicit Waiter(const asio::any_io_executor& ex) : timer(ex) {}
    asio::steady_timer timer;
    bool granted = false;
  };

  void pump();
  void arm_wake_timer();
  /// Waits for a token of `bucket`; an error when none came (queue full, deadline, shutdown).
  asio::awaitable<ApiResult<void>> acquire(Bucket bucket, Priority prio);

  // --- connections (client_transport.cpp) --------------------------------------------------

  std::unique_ptr<Connection> take_pooled();
  void give_back(std::unique_ptr<Connection> c);
  asio::awaitable<beast::error_code> connect_op(Connection& c, asio::ip::tcp::resolver& resolver);
  /// A fresh connection, within the connect timeout and the request's deadline.
  asio::awaitable<ApiResult<std::unique_ptr<Connection>>> connect(
      SteadyClock::time_point request_deadline);

  // --- one request (client_transport.cpp) --------------------------------------------------

  asio::awaitable<beast::error_code> exchange_op(Connection& c,
                                                 const http::request<http::string_body>& req,
                                                 http::response_parser<http::string_body>& parser,
                                                 ExchangeState& st);

  struct Raw {
    int status = 0;
    std::string body;
    std::optional<Millis> retry_after;
  };

  asio::awaitable<ApiResult<Raw>> execute(http::verb verb, const std::string& target,
                                          std::string body, Bucket bucket, Priority prio);
  void redact(ApiError& e) const;
  static void redact_key(ApiError& e, const std::string& key);

  /// One typed call: the request, then `parse` on a 2xx body or the error classified; metrics
  /// and the log line.
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

  // --- metrics (client_metrics.cpp) --------------------------------------------------------

  void init_metrics(prometheus::Registry& registry);
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
  void update_metrics();
  /// Fails waiting requests, closes every connection (client_transport.cpp).
  void shutdown();

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

}  // namespace dialer::api
