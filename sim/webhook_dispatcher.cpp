#include "sim/webhook_dispatcher.hpp"

#include "core/use_nothrow.hpp"
#include "sim/det_rng.hpp"
#include "sim/hmac.hpp"
#include "sim/log.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>
#include <boost/url/parse.hpp>

#include <algorithm>
#include <random>

namespace dialer::sim {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;
using tcp = asio::ip::tcp;

namespace {
constexpr std::size_t kLogLimit = 10'000;
constexpr std::size_t kMaxIdlePerEndpoint = 16;
constexpr std::size_t kResponseBodyLimit = 64 * 1024;
}  // namespace

struct WebhookDispatcher::Endpoint {
  std::string id;
  std::string label;
  std::string url;
  std::string secret;
  bool enabled = true;
  bool removed = false;
  std::string created_at;
  std::string updated_at;
  std::optional<std::string> last_delivery_at;
  std::optional<std::string> last_delivery_status;
  std::string host;
  std::string port;
  std::string host_header;
  std::string target;
  tcp::resolver::results_type resolved;
  std::vector<std::unique_ptr<beast::tcp_stream>> idle;
};

WebhookDispatcher::WebhookDispatcher(asio::any_io_executor ex, Timeline& timeline,
                                     const SimClock& clock, const FaultRates& faults,
                                     Settings settings)
    : ex_(std::move(ex)),
      timeline_(timeline),
      clock_(clock),
      faults_(faults),
      settings_(std::move(settings)),
      held_(settings_.endpoints.size()) {}

WebhookDispatcher::~WebhookDispatcher() = default;

Result<std::unique_ptr<WebhookDispatcher::Endpoint>> WebhookDispatcher::make_endpoint(
    const WebhookTarget& t) {
  auto url = boost::urls::parse_uri(t.url);
  if (!url || url->scheme() != "http" || url->host().empty()) {
    return Error{errc::invalid_argument, "webhook URL must be http://HOST[:PORT]/PATH: " + t.url};
  }
  auto ep = std::make_unique<Endpoint>();
  ep->id = "wh_" + std::to_string(next_endpoint_++);
  ep->url = t.url;
  ep->secret = t.secret;
  ep->host = std::string(url->host_address());
  ep->port = url->has_port() ? std::string(url->port()) : "80";
  ep->host_header = std::string(url->encoded_host_and_port());
  ep->target = std::string(url->encoded_path());
  if (ep->target.empty()) ep->target = "/";
  if (url->has_query()) ep->target.append("?").append(url->encoded_query());
  boost::system::error_code ec;
  tcp::resolver resolver(ex_);
  ep->resolved = resolver.resolve(ep->host, ep->port, ec);
  if (ec) {
    return Error{errc::io_error, "cannot resolve webhook host " + ep->host + ": " + ec.message()};
  }
  ep->created_at = ep->updated_at = format_iso8601(clock_.wall());
  return ep;
}

Result<void> WebhookDispatcher::prepare() {
  endpoints_.clear();
  next_endpoint_ = 1;
  for (const auto& t : settings_.endpoints) {
    auto ep = make_endpoint(t);
    if (!ep) return ep.error();
    (*ep)->label = "webhook-" + std::to_string(endpoints_.size() + 1);
    endpoints_.push_back(std::move(*ep));
  }
  held_.assign(endpoints_.size(), std::nullopt);
  return {};
}

std::size_t WebhookDispatcher::endpoint_count() const {
  return static_cast<std::size_t>(std::count_if(endpoints_.begin(), endpoints_.end(),
                                                [](const auto& e) { return !e->removed; }));
}

std::string WebhookDispatcher::new_secret() {
  std::random_device rd;
  DetRng rng(settings_.seed ^ (static_cast<std::uint64_t>(rd()) << 32 | rd()), RngStream::webhook,
             0x5ec0000 + secrets_minted_++);
  static constexpr char hex[] = "0123456789abcdef";
  std::string s = "whsec_";
  for (int i = 0; i < 40; ++i) s += hex[static_cast<int>(rng.uniform() * 16) & 15];
  return s;
}

WebhookDispatcher::Endpoint* WebhookDispatcher::find_endpoint(std::string_view id) {
  for (auto& e : endpoints_) {
    if (!e->removed && e->id == id) return e.get();
  }
  return nullptr;
}

json::object WebhookDispatcher::endpoint_json(const Endpoint& ep) const {
  auto opt = [](const std::optional<std::string>& v) {
    return v ? json::value(*v) : json::value(nullptr);
  };
  return {{"id", ep.id},
          {"label", ep.label},
          {"url", ep.url},
          {"enabled", ep.enabled},
          {"last_delivery_at", opt(ep.last_delivery_at)},
          {"last_delivery_status", opt(ep.last_delivery_status)},
          {"created_at", ep.created_at},
          {"updated_at", ep.updated_at}};
}

json::array WebhookDispatcher::endpoints_json() const {
  json::array out;
  for (const auto& e : endpoints_) {
    if (!e->removed) out.push_back(endpoint_json(*e));
  }
  return out;
}

Result<json::object> WebhookDispatcher::add_endpoint(std::string label, std::string url) {
  if (endpoint_count() >= kMaxEndpoints) {
    return Error{errc::conflict, "At most 5 webhook endpoints are allowed"};
  }
  auto ep = make_endpoint(WebhookTarget{std::move(url), new_secret()});
  if (!ep) return ep.error();
  (*ep)->label = label.empty() ? (*ep)->id : std::move(label);
  auto out = endpoint_json(**ep);
  out["secret"] = (*ep)->secret;
  endpoints_.push_back(std::move(*ep));
  held_.resize(endpoints_.size());
  logger().info("webhook endpoint {} added for {}", endpoints_.back()->id, endpoints_.back()->url);
  return out;
}

Result<json::object> WebhookDispatcher::rotate_secret(std::string_view id) {
  auto* ep = find_endpoint(id);
  if (ep == nullptr) return Error{errc::not_found, "Webhook endpoint not found"};
  ep->secret = new_secret();
  ep->updated_at = format_iso8601(clock_.wall());
  auto out = endpoint_json(*ep);
  out["secret"] = ep->secret;
  logger().info("webhook endpoint {}: secret rotated", ep->id);
  return out;
}

Result<json::object> WebhookDispatcher::update_endpoint(std::string_view id,
                                                        const json::object& patch) {
  auto* ep = find_endpoint(id);
  if (ep == nullptr) return Error{errc::not_found, "Webhook endpoint not found"};
  if (const auto* e = patch.if_contains("enabled")) {
    if (!e->is_bool()) return Error{errc::invalid_argument, "enabled must be a boolean"};
    ep->enabled = e->get_bool();
  }
  if (const auto* l = patch.if_contains("label"); l && l->is_string()) {
    ep->label = std::string(l->get_string());
  }
  if (const auto* u = patch.if_contains("url"); u && u->is_string()) {
    auto fresh = make_endpoint(WebhookTarget{std::string(u->get_string()), ep->secret});
    if (!fresh) return fresh.error();
    ep->url = (*fresh)->url;
    ep->host = (*fresh)->host;
    ep->port = (*fresh)->port;
    ep->host_header = (*fresh)->host_header;
    ep->target = (*fresh)->target;
    ep->resolved = (*fresh)->resolved;
    --next_endpoint_;  // the probe endpoint's id is not used
  }
  ep->updated_at = format_iso8601(clock_.wall());
  return endpoint_json(*ep);
}

Result<void> WebhookDispatcher::remove_endpoint(std::string_view id) {
  auto* ep = find_endpoint(id);
  if (ep == nullptr) return Error{errc::not_found, "Webhook endpoint not found"};
  ep->removed = true;
  for (auto& s : ep->idle) s->close();
  ep->idle.clear();
  return {};
}

std::chrono::steady_clock::duration WebhookDispatcher::real_timeout() const {
  auto t = clock_.to_real(settings_.timeout);
  return std::max<std::chrono::steady_clock::duration>(t, kMinRealTimeout);
}

std::uint64_t WebhookDispatcher::add_delivery(std::size_t endpoint,
                                              std::shared_ptr<const std::string> body,
                                              const std::string& session_id,
                                              const std::string& call_id, bool duplicate,
                                              SimMillis due) {
  Delivery d;
  d.id = next_id_++;
  d.endpoint = endpoint;
  d.body = std::move(body);
  d.secret = endpoints_[endpoint]->secret;
  d.session_id = session_id;
  d.call_id = call_id;
  d.duplicate = duplicate;
  d.due = due;
  auto id = d.id;
  deliveries_.emplace(id, std::move(d));
  return id;
}

void WebhookDispatcher::submit(std::uint64_t call_seq, SimMillis ended_at,
                               const std::string& session_id, const std::string& call_id,
                               std::string event_body) {
  if (stopping_ || endpoints_.empty()) return;
  auto body = std::make_shared<const std::string>(std::move(event_body));
  for (std::size_t i = 0; i < endpoints_.size(); ++i) {
    if (endpoints_[i]->removed || !endpoints_[i]->enabled) continue;
    DetRng rng(settings_.seed, RngStream::webhook, call_seq * 8 + i);
    double u_drop = rng.uniform(), u_dup = rng.uniform(), u_delay = rng.uniform();
    double u_reorder = rng.uniform();
    if (u_drop < faults_.get(Fault::webhook_drop)) {
      ++stats_.dropped;
      ++stats_.dropped_by_fault;
      logger().debug("webhook for session {} to endpoint {} dropped (fault)", session_id, i);
      continue;
    }
    if (deliveries_.size() >= settings_.queue_limit) {
      ++stats_.overflow;
      ++stats_.dropped;
      logger().warn("webhook queue full ({}): session {} dropped", settings_.queue_limit,
                    session_id);
      continue;
    }
    bool delayed = u_delay < faults_.get(Fault::webhook_delay);
    auto id = add_delivery(i, body, session_id, call_id, false,
                           delayed ? ended_at + settings_.delay : ended_at);
    if (delayed) {
      ++stats_.delayed;
      auto& d = deliveries_.at(id);
      d.delay_before = settings_.delay;
      timeline_.schedule(d.due, [this, id, gen = gen_] {
        if (gen == gen_) make_ready(id);
      });
    } else {
      deliveries_.at(id).reorder = u_reorder < faults_.get(Fault::webhook_reorder);
      make_ready(id);
    }
    if (u_dup < faults_.get(Fault::webhook_duplicate)) {
      if (deliveries_.size() >= settings_.queue_limit) {
        ++stats_.overflow;
        ++stats_.dropped;
        continue;
      }
      ++stats_.duplicated;
      make_ready(add_delivery(i, body, session_id, call_id, true, ended_at));
    }
  }
}

void WebhookDispatcher::make_ready(std::uint64_t id) {
  if (stopping_ || !deliveries_.contains(id)) return;
  ready_.push_back(id);
  pump();
}

void WebhookDispatcher::pump() {
  while (!stopping_ && in_flight_ < settings_.max_connections && !ready_.empty()) {
    auto id = ready_.front();
    ready_.pop_front();
    auto it = deliveries_.find(id);
    if (it == deliveries_.end()) continue;
    auto& d = it->second;
    if (d.attempts == 0 && d.reorder) {
      d.reorder = false;
      if (!held_[d.endpoint]) {
        // Held back until another event to this endpoint went out (or the delay passed).
        held_[d.endpoint] = id;
        ++stats_.reordered;
        timeline_.schedule(clock_.now() + settings_.delay, [this, id, ep = d.endpoint, gen = gen_] {
          if (gen == gen_ && held_[ep] == id) release_held(ep);
        });
        continue;
      }
    }
    start_attempt(d);
  }
}

void WebhookDispatcher::release_held(std::size_t endpoint) {
  auto id = held_[endpoint];
  held_[endpoint].reset();
  if (id) make_ready(*id);
}

void WebhookDispatcher::start_attempt(Delivery& d) {
  ++d.attempts;
  ++stats_.sent;
  if (d.attempts > 1) ++stats_.retried;
  LogEntry e;
  e.delivery = d.id;
  e.session_id = d.session_id;
  e.call_id = d.call_id;
  e.endpoint = d.endpoint;
  e.attempt = d.attempts;
  e.duplicate = d.duplicate;
  e.due = d.due;
  e.delay_before = d.delay_before;
  e.started = clock_.now();
  log_.push_back(std::move(e));
  if (log_.size() > kLogLimit) {
    log_.pop_front();
    ++log_base_;
  }
  std::uint64_t log_id = log_base_ + log_.size() - 1;
  ++in_flight_;
  asio::co_spawn(ex_, run_attempt(d.id, d.endpoint, d.body, d.secret, gen_, log_id),
                 [](const std::exception_ptr& failure) {
                   if (!failure) return;
                   try {
                     std::rethrow_exception(failure);
                   } catch (const std::exception& ex) {
                     logger().error("webhook attempt task failed: {}", ex.what());
                   }
                 });
}

asio::awaitable<void> WebhookDispatcher::run_attempt(std::uint64_t id, std::size_t endpoint,
                                                     std::shared_ptr<const std::string> body,
                                                     std::string secret, std::uint64_t gen,
                                                     std::uint64_t log_id) {
  AttemptResult r;
  try {
    r = co_await post(endpoint, *body, secret);
  } catch (const std::exception& e) {
    r = AttemptResult{false, 0, std::string("error: ") + e.what()};
  }
  on_attempt_done(id, gen, log_id, r);
}

WebhookDispatcher::LogEntry* WebhookDispatcher::log_entry(std::uint64_t log_id) {
  if (log_id < log_base_ || log_id >= log_base_ + log_.size()) return nullptr;
  return &log_[log_id - log_base_];
}

void WebhookDispatcher::on_attempt_done(std::uint64_t id, std::uint64_t gen, std::uint64_t log_id,
                                        const AttemptResult& r) {
  --in_flight_;
  if (gen != gen_ || stopping_) {
    pump();
    return;
  }
  const SimMillis now = clock_.now();  // one reading: the retry is due exactly delay after it
  if (auto* e = log_entry(log_id)) {
    e->finished = now;
    e->result = r.ok ? "ok" : r.detail;
    e->status = r.status;
  }
  auto it = deliveries_.find(id);
  if (it == deliveries_.end()) {
    pump();
    return;
  }
  auto& d = it->second;
  auto endpoint = d.endpoint;
  bool first = d.attempts == 1;
  endpoints_[endpoint]->last_delivery_at = format_iso8601(clock_.wall());
  endpoints_[endpoint]->last_delivery_status = r.ok ? "success" : "failed";
  if (r.ok) {
    ++stats_.delivered;
    deliveries_.erase(it);
  } else {
    ++stats_.failed;
    if (d.attempts < kMaxAttempts) {
      d.delay_before = kRetryDelays[static_cast<std::size_t>(d.attempts - 1)];
      d.due = now + d.delay_before;
      timeline_.schedule(d.due, [this, id, g = gen_] {
        if (g == gen_) make_ready(id);
      });
    } else {
      ++stats_.exhausted;
      ++stats_.dropped;
      logger().debug("webhook for session {} to {} dropped after {} attempts", d.session_id,
                     endpoints_[endpoint]->url, d.attempts);
      deliveries_.erase(it);
    }
  }
  if (first && held_[endpoint] && *held_[endpoint] != id) release_held(endpoint);
  pump();
}

namespace {

/// Keeps the stream of an attempt in flight reachable for stop().
class ActiveStream {
 public:
  ActiveStream(std::set<beast::tcp_stream*>& set, beast::tcp_stream* s) : set_(set), s_(s) {
    set_.insert(s_);
  }
  ~ActiveStream() { set_.erase(s_); }
  ActiveStream(const ActiveStream&) = delete;
  ActiveStream& operator=(const ActiveStream&) = delete;

 private:
  std::set<beast::tcp_stream*>& set_;
  beast::tcp_stream* s_;
};

std::string describe(const boost::system::error_code& ec) {
  if (ec == beast::error::timeout) return "timeout";
  return "error: " + ec.message();
}

}  // namespace

asio::awaitable<WebhookDispatcher::AttemptResult> WebhookDispatcher::post(
    std::size_t index, const std::string& body, const std::string& secret) {
  auto& ep = *endpoints_[index];
  auto deadline = std::chrono::steady_clock::now() + real_timeout();
  std::unique_ptr<beast::tcp_stream> stream;
  bool reused = false;
  if (!ep.idle.empty()) {
    stream = std::move(ep.idle.back());
    ep.idle.pop_back();
    reused = true;
  }
  for (int round = 0; round < 2; ++round) {
    if (!stream) {
      stream = std::make_unique<beast::tcp_stream>(ex_);
      stream->expires_at(deadline);
      ActiveStream active(active_streams_, stream.get());
      auto [ec, unused] = co_await stream->async_connect(ep.resolved, use_nothrow);
      (void)unused;
      if (stopping_) co_return AttemptResult{false, 0, "stopped"};
      if (ec) co_return AttemptResult{false, 0, "connect " + describe(ec)};
    }
    stream->expires_at(deadline);
    ActiveStream active(active_streams_, stream.get());

    http::request<http::string_body> req{http::verb::post, ep.target, 11};
    auto timestamp = format_iso8601(clock_.wall());
    req.set(http::field::host, ep.host_header);
    req.set(http::field::user_agent, "Vocobase-Webhooks/2 (vocobase-sim)");
    req.set(http::field::content_type, "application/json");
    req.set("X-Webhook-Timestamp", timestamp);
    req.set("X-Webhook-Signature", "sha256=" + webhook_signature(secret, timestamp, body));
    req.keep_alive(true);
    req.body() = body;
    req.prepare_payload();

    auto [wec, written] = co_await http::async_write(*stream, req, use_nothrow);
    (void)written;
    if (stopping_) co_return AttemptResult{false, 0, "stopped"};
    if (wec) {
      // A kept-alive connection the receiver had closed: try once on a fresh one.
      if (reused && round == 0 && wec != beast::error::timeout) {
        stream.reset();
        reused = false;
        continue;
      }
      co_return AttemptResult{false, 0, describe(wec)};
    }
    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.body_limit(kResponseBodyLimit);
    auto [rec, read] = co_await http::async_read(*stream, buffer, parser, use_nothrow);
    (void)read;
    if (stopping_) co_return AttemptResult{false, 0, "stopped"};
    if (rec) {
      if (reused && round == 0 && !parser.got_some() && rec != beast::error::timeout) {
        stream.reset();
        reused = false;
        continue;
      }
      co_return AttemptResult{false, 0, describe(rec)};
    }
    auto status = parser.get().result_int();
    bool keep = parser.get().keep_alive();
    if (keep && ep.idle.size() < kMaxIdlePerEndpoint) {
      stream->expires_never();
      ep.idle.push_back(std::move(stream));
    } else {
      boost::system::error_code ignored;
      stream->socket().shutdown(tcp::socket::shutdown_both, ignored);
      stream->close();
    }
    bool ok = status >= 200 && status < 300;
    co_return AttemptResult{ok, status, ok ? "ok" : "status " + std::to_string(status)};
  }
  co_return AttemptResult{false, 0, "error: connection closed"};
}

void WebhookDispatcher::stop() {
  stopping_ = true;
  ready_.clear();
  for (auto* s : active_streams_) {
    boost::system::error_code ignored;
    s->socket().cancel(ignored);
    s->socket().close(ignored);
  }
  for (auto& ep : endpoints_) {
    for (auto& s : ep->idle) s->close();
    ep->idle.clear();
  }
}

void WebhookDispatcher::reset() {
  ++gen_;
  deliveries_.clear();
  ready_.clear();
  held_.assign(endpoints_.size(), std::nullopt);
  stats_ = {};
  log_.clear();
  log_base_ = 0;
}

WebhookStats WebhookDispatcher::stats() const {
  auto s = stats_;
  s.pending = deliveries_.size();
  return s;
}

json::array WebhookDispatcher::attempt_log() const {
  json::array out;
  for (const auto& e : log_) {
    out.push_back(json::object{
        {"delivery", e.delivery},
        {"session_id", e.session_id},
        {"call_id", e.call_id},
        {"endpoint", e.endpoint},
        {"url", endpoints_[e.endpoint]->url},
        {"attempt", e.attempt},
        {"duplicate", e.duplicate},
        {"due_sim_ms", e.due},
        {"delay_before_ms", e.delay_before},
        {"started_sim_ms", e.started},
        {"finished_sim_ms", e.finished ? json::value(*e.finished) : json::value(nullptr)},
        {"result", e.result},
        {"status", e.status}});
  }
  return out;
}

}  // namespace dialer::sim
