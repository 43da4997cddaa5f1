#include "api/webhook/server.hpp"

#include "core/use_nothrow.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>
#include <spdlog/spdlog.h>

#include <array>
#include <charconv>
#include <chrono>
#include <limits>
#include <map>
#include <set>

namespace dialer::api {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

constexpr std::array kResults{WebhookResult::stored,
                              WebhookResult::duplicate,
                              WebhookResult::ignored,
                              WebhookResult::unauthorized,
                              WebhookResult::bad_request,
                              WebhookResult::too_large,
                              WebhookResult::headers_too_large,
                              WebhookResult::method_not_allowed,
                              WebhookResult::not_found,
                              WebhookResult::unavailable,
                              WebhookResult::healthz,
                              WebhookResult::metrics};

/// A malformed request (as opposed to a closed or timed-out connection).
bool is_parse_error(const beast::error_code& ec) {
  static const auto& http_category = beast::error_code(http::error::bad_method).category();
  return ec.category() == http_category && ec != http::error::end_of_stream &&
         ec != http::error::partial_message && ec != http::error::need_more &&
         ec != http::error::body_limit && ec != http::error::header_limit;
}

Routed fixed(WebhookResult r) {
  Routed out;
  out.result = r;
  out.answer = WebhookRouter::answer_for(r);
  return out;
}

void log_task_failure(std::exception_ptr e, const char* what) {
  if (!e) return;
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& x) {
    spdlog::error("webhook {}: {}", what, x.what());
  } catch (...) {
    spdlog::error("webhook {}: unknown exception", what);
  }
}

}  // namespace

Result<tcp::endpoint> parse_listen_address(std::string_view text) {
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos) {
    return Error(errc::invalid_argument,
                 "listen address '" + std::string(text) + "' is not host:port");
  }
  std::string_view host = text.substr(0, colon);
  const std::string_view port_text = text.substr(colon + 1);
  unsigned port = 0;
  auto [p, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc{} || p != port_text.data() + port_text.size() || port > 65535 ||
      port_text.empty()) {
    return Error(errc::invalid_argument,
                 "listen address '" + std::string(text) + "' has no valid port");
  }
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (host.empty() || host == "*") host = "0.0.0.0";
  if (host == "localhost") host = "127.0.0.1";
  beast::error_code aec;
  const auto address = asio::ip::make_address(std::string(host), aec);
  if (aec) {
    return Error(errc::invalid_argument,
                 "listen address '" + std::string(text) + "': host must be an IP address");
  }
  return tcp::endpoint(address, static_cast<unsigned short>(port));
}

class WebhookServer::Impl : public std::enable_shared_from_this<Impl> {
 public:
  Impl(asio::any_io_executor ex, WebhookServerOptions options, EventInbox& inbox, OutcomeSink& sink,
       const Clock& clock, std::shared_ptr<prometheus::Registry> registry)
      : ex_(std::move(ex)),
        opts_(std::move(options)),
        router_(opts_.webhook, clock),
        inbox_(inbox),
        sink_(sink),
        clock_(clock),
        registry_(std::move(registry)),
        acceptor_(ex_),
        slot_free_(ex_),
        batch_timer_(ex_) {
    if (!registry_) registry_ = std::make_shared<prometheus::Registry>();
    init_metrics();
  }

  Result<void> bind() {
    auto ep = parse_listen_address(opts_.listen);
    if (!ep) return ep.error();
    beast::error_code ec;
    acceptor_.open(ep->protocol(), ec);
    if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_.bind(*ep, ec);
    if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
      return Error(errc::io_error, "cannot listen on " + opts_.listen + ": " + ec.message());
    }
    return {};
  }

  void start() {
    asio::co_spawn(ex_, accept_loop(shared_from_this()),
                   [](std::exception_ptr e) { log_task_failure(e, "accept loop"); });
  }

  void stop() {
    stopped_ = true;
    beast::error_code ec;
    acceptor_.close(ec);
    slot_free_.cancel();
    for (beast::tcp_stream* s : connections_) s->socket().close(ec);
  }

  // --- accepting ---------------------------------------------------------------------------

  asio::awaitable<void> accept_loop(std::shared_ptr<Impl> self) {
    (void)self;  // keeps the server alive while the loop runs
    asio::steady_timer backoff(ex_);
    while (!stopped_) {
      // The cap on connections: the next accept waits for a free slot (the kernel backlog
      // holds the rest).
      while (connections_.size() >= opts_.max_connections && !stopped_) {
        slot_free_.expires_at(asio::steady_timer::time_point::max());
        co_await slot_free_.async_wait(use_nothrow);
      }
      auto [ec, sock] = co_await acceptor_.async_accept(use_nothrow);
      if (stopped_ || !acceptor_.is_open()) co_return;
      if (ec) {
        // EMFILE and friends: wait a little instead of spinning on the error.
        spdlog::warn("webhook accept: {}", ec.message());
        backoff.expires_after(std::chrono::milliseconds(100));
        co_await backoff.async_wait(use_nothrow);
        continue;
      }
      asio::co_spawn(ex_, session(shared_from_this(), std::move(sock)),
                     [](std::exception_ptr e) { log_task_failure(e, "connection"); });
    }
  }

  // --- one connection ----------------------------------------------------------------------

  void count_connections() {
    if (connections_gauge_ != nullptr) {
      connections_gauge_->Set(static_cast<double>(connections_.size()));
    }
  }

  struct Tracked {
    Impl& impl;
    beast::tcp_stream* stream;
    Tracked(Impl& i, beast::tcp_stream* s) : impl(i), stream(s) {
      impl.connections_.insert(stream);
      impl.count_connections();
    }
    ~Tracked() {
      impl.connections_.erase(stream);
      impl.count_connections();
      impl.slot_free_.cancel();
    }
  };

  asio::awaitable<void> session(std::shared_ptr<Impl> self, tcp::socket sock) {
    (void)self;
    beast::tcp_stream stream(std::move(sock));
    Tracked tracked(*this, &stream);
    beast::error_code ignored;
    stream.socket().set_option(tcp::no_delay(true), ignored);
    beast::flat_buffer buffer;

    while (!stopped_) {
      http::request_parser<http::string_body> parser;
      parser.header_limit(static_cast<std::uint32_t>(opts_.max_header));
      // No body limit while the head is read: a declared length over the limit is answered
      // 413 by the router (only on the webhook path), not failed inside the parser.
      parser.body_limit(std::numeric_limits<std::uint64_t>::max());

      stream.expires_after(opts_.idle_timeout);
      auto [hec, hn] = co_await http::async_read_header(stream, buffer, parser, use_nothrow);
      if (hec) {
        if (hec == http::error::header_limit) {
          co_await answer(stream, fixed(WebhookResult::headers_too_large), false, 11);
          co_await drain_and_close(stream);
        } else if (is_parse_error(hec)) {
          co_await answer(stream, fixed(WebhookResult::bad_request), false, 11);
          co_await drain_and_close(stream);
        }
        co_return;
      }
      const unsigned version = parser.get().version();
      bool keep = parser.get().keep_alive();
      std::optional<std::uint64_t> declared;
      if (const auto cl = parser.content_length()) declared = *cl;
      if (auto head = router_.route_head(parser.get().method(), parser.get().target(), declared)) {
        note_refusal(*head, parser.get().method(), parser.get().target());
        // A body left unread cannot be skipped safely on a kept-alive connection.
        if (!parser.is_done()) keep = false;
        co_await answer(stream, *head, keep, version);
        if (!keep) {
          co_await drain_and_close(stream);
          co_return;
        }
        continue;
      }

      parser.body_limit(opts_.webhook.max_body);
      stream.expires_after(opts_.request_timeout);
      // A client that asked before sending its body (curl does above 1 KiB) gets the go-ahead
      // instead of waiting out its own timer.
      if (beast::iequals(parser.get()[http::field::expect], "100-continue") && !parser.is_done()) {
        http::response<http::empty_body> go{http::status::continue_, version};
        auto [cec, cn] = co_await http::async_write(stream, go, use_nothrow);
        if (cec) co_return;
      }
      auto [bec, bn] = co_await http::async_read(stream, buffer, parser, use_nothrow);
      if (bec) {
        if (bec == http::error::body_limit) {
          note_refusal(fixed(WebhookResult::too_large), http::verb::post, opts_.webhook.path);
          co_await answer(stream, fixed(WebhookResult::too_large), false, version);
          co_await drain_and_close(stream);
        } else if (is_parse_error(bec)) {
          co_await answer(stream, fixed(WebhookResult::bad_request), false, version);
          co_await drain_and_close(stream);
        }
        co_return;
      }
      keep = parser.get().keep_alive();
      Routed routed = router_.route(parser.get());
      if (routed.event) {
        // Durable before acknowledged: the answer waits for the inbox transaction.
        routed.result = co_await submit(std::move(*routed.event), std::move(*routed.parsed));
        routed.answer = WebhookRouter::answer_for(routed.result);
        if (routed.result == WebhookResult::stored) {
          if (secret_used_) secret_used_(routed.secret_index);
          const TimePoint t = clock_.now();
          stats_.stored(t);
          last_stored_gauge_->Set(static_cast<double>(to_unix_ms(t)) / 1000.0);
        }
      } else if (routed.result == WebhookResult::healthz) {
        routed.answer.status = ready_ ? 200 : 503;
        routed.answer.body = ready_ ? R"({"status":"ok"})" : R"({"status":"starting"})";
      } else if (routed.result == WebhookResult::metrics) {
        routed.answer.content_type = "text/plain; version=0.0.4; charset=utf-8";
        routed.answer.body = scrape();
      } else {
        note_refusal(routed, parser.get().method(), parser.get().target());
      }
      co_await answer(stream, routed, keep, version);
      if (!keep) {
        stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
        co_return;
      }
    }
  }

  asio::awaitable<void> answer(beast::tcp_stream& stream, const Routed& routed, bool keep,
                               unsigned version) {
    if (auto* counter = requests_[static_cast<std::size_t>(routed.result)]) counter->Increment();
    if (routed.head_only) {
      http::response<http::empty_body> head{static_cast<http::status>(routed.answer.status),
                                            version};
      head.set(http::field::server, "dialerd");
      head.set(http::field::content_type, routed.answer.content_type);
      head.content_length(routed.answer.body.size());
      head.keep_alive(keep);
      stream.expires_after(opts_.request_timeout);
      http::response_serializer<http::empty_body> sr{head};
      sr.split(true);
      co_await http::async_write_header(stream, sr, use_nothrow);
      co_return;
    }
    http::response<http::string_body> res{static_cast<http::status>(routed.answer.status), version};
    res.set(http::field::server, "dialerd");
    res.set(http::field::content_type, routed.answer.content_type);
    if (!routed.answer.allow.empty()) res.set(http::field::allow, routed.answer.allow);
    res.body() = routed.answer.body;
    res.keep_alive(keep);
    res.prepare_payload();
    stream.expires_after(opts_.request_timeout);
    co_await http::async_write(stream, res, use_nothrow);
  }

  /// Closes after an answer sent with part of the request unread: stop sending, read and discard
  /// what the peer still sends (bounded in bytes and time), then close — closing with unread
  /// data would reset the connection and could destroy the answer before the peer reads it.
  asio::awaitable<void> drain_and_close(beast::tcp_stream& stream) {
    beast::error_code ec;
    stream.socket().shutdown(tcp::socket::shutdown_send, ec);
    std::array<char, 64 * 1024> scratch{};
    std::size_t total = 0;
    stream.expires_after(std::chrono::seconds(2));
    while (total < 4 * opts_.webhook.max_body + (1u << 20)) {
      auto [rec, n] = co_await stream.async_read_some(asio::buffer(scratch), use_nothrow);
      if (rec) break;
      total += n;
    }
    stream.socket().close(ec);
  }

  /// Counts a refused delivery for status-get and logs the rate-limited warning. A delivery is
  /// a POST: scanners' GETs of unknown paths are not counted.
  void note_refusal(const Routed& routed, http::verb method, std::string_view target) {
    if (method != http::verb::post) return;
    const TimePoint t = clock_.now();
    std::optional<WebhookRefusal> refusal;
    switch (routed.result) {
      case WebhookResult::unauthorized:
        refusal = refusal_for(routed.signature, t);
        break;
      case WebhookResult::not_found:
        refusal = refusal_for_path(target, opts_.webhook.path, t);
        break;
      case WebhookResult::bad_request:
        refusal = refusal_for_body("malformed delivery (not JSON, or no data.session_id)", t);
        break;
      case WebhookResult::too_large:
        refusal =
            refusal_for_body("body over " + std::to_string(opts_.webhook.max_body) + " bytes", t);
        break;
      default:
        return;
    }
    spdlog::debug("webhook refused: {}", refusal->reason);
    if (auto warning = stats_.refused(std::move(*refusal))) spdlog::warn("{}", *warning);
  }

  // --- durable inbox, batched ---------------------------------------------------------------

  struct Waiter {
    explicit Waiter(const asio::any_io_executor& ex) : timer(ex) {}
    asio::steady_timer timer;
    WebhookResult result = WebhookResult::unavailable;
    bool done = false;
  };

  struct Pending {
    Waiter* waiter;
    SessionEvent parsed;
  };

  asio::awaitable<WebhookResult> submit(store::InboxEvent event, SessionEvent parsed) {
    Waiter w(ex_);
    w.timer.expires_at(asio::steady_timer::time_point::max());
    batch_events_.push_back(std::move(event));
    batch_meta_.push_back(Pending{&w, std::move(parsed)});
    schedule_flush();
    if (!w.done) co_await w.timer.async_wait(use_nothrow);
    co_return w.result;
  }

  /// Group commit. Every event verified before the flush runs — this loop turn's — joins one
  /// transaction. While some open connection has not yet sent its next delivery, the flush
  /// also waits up to `batch_delay` for it: one fsync then covers every connection instead of
  /// alternating half-batches, which is what bounds the rate with synchronous=full.
  void schedule_flush() {
    const std::size_t full = std::max<std::size_t>(
        1, std::min(connections_.size(), std::max<std::size_t>(opts_.max_batch, 1)));
    const bool ready = batch_events_.size() >= full || opts_.batch_delay <= Millis{0};
    if (flush_scheduled_) {
      if (ready) batch_timer_.cancel();  // the waiting flush runs now
      return;
    }
    flush_scheduled_ = true;
    if (ready) {
      asio::post(ex_, [self = shared_from_this()] { self->flush(); });
      return;
    }
    batch_timer_.expires_after(opts_.batch_delay);
    // Expired or cancelled, the wait ends in exactly one flush.
    batch_timer_.async_wait([self = shared_from_this()](beast::error_code) { self->flush(); });
  }

  void flush() {
    flush_scheduled_ = false;
    std::vector<store::InboxEvent> events = std::move(batch_events_);
    std::vector<Pending> meta = std::move(batch_meta_);
    batch_events_.clear();
    batch_meta_.clear();
    const std::size_t step = std::max<std::size_t>(opts_.max_batch, 1);
    for (std::size_t begin = 0; begin < events.size(); begin += step) {
      const std::size_t n = std::min(step, events.size() - begin);
      auto stored =
          inbox_.insert_batch(std::span<const store::InboxEvent>(events.data() + begin, n));
      batch_sizes_->Observe(static_cast<double>(n));
      if (!stored) {
        spdlog::error("webhook inbox: {} events not stored: {}", n, stored.error().what());
      }
      for (std::size_t i = 0; i < n; ++i) {
        Waiter& w = *meta[begin + i].waiter;
        w.result = !stored        ? WebhookResult::unavailable
                   : (*stored)[i] ? WebhookResult::stored
                                  : WebhookResult::duplicate;
        w.done = true;
        w.timer.cancel();
      }
      if (!stored) continue;
      for (std::size_t i = 0; i < n; ++i) {
        if (!(*stored)[i]) continue;
        // The sink is the scheduler's: a failure there must not lose the others' hand-off.
        try {
          sink_.on_session_completed(meta[begin + i].parsed);
        } catch (const std::exception& e) {
          spdlog::error("webhook: outcome hand-off failed for session {}: {}",
                        meta[begin + i].parsed.data.session_id, e.what());
        }
      }
    }
  }

  // --- metrics -----------------------------------------------------------------------------

  void init_metrics() {
    // A metrics-only listener adds no families of its own: the webhook listener's would clash.
    if (!opts_.webhook.serve_webhook) return;
    auto& requests = prometheus::BuildCounter()
                         .Name("dialer_webhook_requests_total")
                         .Help("Requests to the webhook listener by result")
                         .Register(*registry_);
    for (WebhookResult r : kResults) {
      requests_[static_cast<std::size_t>(r)] =
          &requests.Add({{"result", std::string(to_string(r))}});
    }
    connections_gauge_ = &prometheus::BuildGauge()
                              .Name("dialer_webhook_connections")
                              .Help("Open connections to the webhook listener")
                              .Register(*registry_)
                              .Add({});
    unapplied_gauge_ = &prometheus::BuildGauge()
                            .Name("dialer_webhook_inbox_unapplied")
                            .Help("Stored webhook events not yet applied by the scheduler")
                            .Register(*registry_)
                            .Add({});
    lag_gauge_ = &prometheus::BuildGauge()
                      .Name("dialer_webhook_inbox_lag_seconds")
                      .Help("Age of the oldest stored webhook event not yet applied (0: none)")
                      .Register(*registry_)
                      .Add({});
    last_stored_gauge_ = &prometheus::BuildGauge()
                              .Name("dialer_webhook_last_stored_timestamp_seconds")
                              .Help("When the last new webhook event was stored (0: none yet)")
                              .Register(*registry_)
                              .Add({});
    batch_sizes_ = &prometheus::BuildHistogram()
                        .Name("dialer_webhook_inbox_batch_events")
                        .Help("Events stored per inbox transaction")
                        .Register(*registry_)
                        .Add({}, prometheus::Histogram::BucketBoundaries{1, 2, 4, 8, 16, 32, 64,
                                                                         128, 256, 512, 1024});
  }

  std::string scrape() {
    for (auto& hook : scrape_hooks_) {
      try {
        hook();
      } catch (const std::exception& e) {
        spdlog::warn("metrics hook failed: {}", e.what());
      }
    }
    refresh_metrics();
    return prometheus::TextSerializer().Serialize(registry_->Collect());
  }

  /// The inbox gauges (webhook role only; the inbox is this executor's).
  void refresh_metrics() {
    if (unapplied_gauge_ == nullptr) return;
    if (auto n = inbox_.count_unapplied()) unapplied_gauge_->Set(static_cast<double>(*n));
    if (auto oldest = inbox_.oldest_unapplied()) {
      const double lag =
          *oldest ? std::chrono::duration<double>(clock_.now() - **oldest).count() : 0.0;
      lag_gauge_->Set(std::max(0.0, lag));
    }
  }

  asio::any_io_executor ex_;
  WebhookServerOptions opts_;
  WebhookRouter router_;
  EventInbox& inbox_;
  OutcomeSink& sink_;
  const Clock& clock_;
  std::shared_ptr<prometheus::Registry> registry_;
  tcp::acceptor acceptor_;
  asio::steady_timer slot_free_;
  asio::steady_timer batch_timer_;
  std::set<beast::tcp_stream*> connections_;
  bool stopped_ = false;
  bool ready_ = false;
  bool flush_scheduled_ = false;
  std::vector<store::InboxEvent> batch_events_;
  std::vector<Pending> batch_meta_;
  std::vector<std::function<void()>> scrape_hooks_;
  std::function<void(std::size_t)> secret_used_;
  WebhookStats stats_;
  std::array<prometheus::Counter*, kResults.size()> requests_{};
  prometheus::Gauge* connections_gauge_ = nullptr;
  prometheus::Gauge* unapplied_gauge_ = nullptr;
  prometheus::Gauge* lag_gauge_ = nullptr;
  prometheus::Gauge* last_stored_gauge_ = nullptr;
  prometheus::Histogram* batch_sizes_ = nullptr;
};

Result<std::unique_ptr<WebhookServer>> WebhookServer::create(
    asio::any_io_executor ex, WebhookServerOptions options, EventInbox& inbox, OutcomeSink& sink,
    const Clock& clock, std::shared_ptr<prometheus::Registry> registry) {
  auto impl = std::make_shared<Impl>(std::move(ex), std::move(options), inbox, sink, clock,
                                     std::move(registry));
  if (auto r = impl->bind(); !r) return r.error();
  return std::unique_ptr<WebhookServer>(new WebhookServer(std::move(impl)));
}

WebhookServer::WebhookServer(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}
WebhookServer::~WebhookServer() {
  impl_->stop();
}

void WebhookServer::start() {
  impl_->start();
}
void WebhookServer::stop() {
  impl_->stop();
}
tcp::endpoint WebhookServer::local_endpoint() const {
  beast::error_code ec;
  return impl_->acceptor_.local_endpoint(ec);
}
std::string WebhookServer::local_address() const {
  const auto ep = local_endpoint();
  const std::string host =
      ep.address().is_v6() ? "[" + ep.address().to_string() + "]" : ep.address().to_string();
  return host + ":" + std::to_string(ep.port());
}
void WebhookServer::set_ready(bool ready) {
  impl_->ready_ = ready;
}
void WebhookServer::set_secrets(std::vector<std::string> secrets) {
  impl_->router_.set_secrets(std::move(secrets));
}
std::shared_ptr<prometheus::Registry> WebhookServer::registry() const {
  return impl_->registry_;
}
WebhookSnapshot WebhookServer::stats() const {
  return impl_->stats_.snapshot(impl_->clock_.now());
}
void WebhookServer::refresh_metrics() {
  impl_->refresh_metrics();
}
void WebhookServer::on_secret_used(std::function<void(std::size_t)> hook) {
  impl_->secret_used_ = std::move(hook);
}
void WebhookServer::on_scrape(std::function<void()> hook) {
  impl_->scrape_hooks_.push_back(std::move(hook));
}

}  // namespace dialer::api
