#include "sim/simulator.hpp"

#include "sim/log.hpp"

namespace dialer::sim {

namespace asio = boost::asio;

namespace {

WebhookDispatcher::Settings webhook_settings(const SimOptions& o) {
  WebhookDispatcher::Settings s;
  s.endpoints = o.webhooks;
  s.timeout = o.webhook_timeout.count();
  s.delay = o.webhook_delay.count();
  s.queue_limit = o.webhook_queue;
  s.max_connections = o.webhook_connections;
  s.seed = o.seed;
  return s;
}

HttpServer::Settings server_settings(const SimOptions& o) {
  HttpServer::Settings s;
  s.max_connections = o.max_connections;
  s.idle_timeout = o.idle_timeout;
  s.slow_delay = o.slow_delay;
  s.hold_time = o.hold_time;
  return s;
}

}  // namespace

Simulator::Simulator(asio::io_context& io, SimOptions options)
    : io_(io),
      options_(std::move(options)),
      clock_(options_.time_scale, options_.scale_rate_window),
      engine_(options_, clock_, timeline_),
      webhooks_(io.get_executor(), timeline_, clock_, engine_.faults(), webhook_settings(options_)),
      router_(engine_, webhooks_,
              Router::Hooks{[this](SimMillis by) { advance(by); }, [this] { reset(); }}),
      server_(io.get_executor(), router_, server_settings(options_)),
      timer_(io) {
  timeline_.on_change([this] { arm(); });
  engine_.set_session_sink([this](const Call& c, std::string body) {
    webhooks_.submit(c.seq, c.history.back().second, c.session_id, c.call_id, std::move(body));
  });
}

Simulator::~Simulator() = default;

Result<asio::ip::tcp::endpoint> Simulator::start() {
  if (auto r = validate(options_); !r) return r.error();
  if (auto r = webhooks_.prepare(); !r) return r.error();
  auto ep = server_.listen(options_.listen_host, options_.listen_port);
  if (!ep) return ep.error();
  endpoint_ = *ep;
  arm();
  return endpoint_;
}

void Simulator::stop() {
  if (stopped_) return;
  stopped_ = true;
  server_.stop();
  webhooks_.stop();
  timeline_.clear();
  timer_.cancel();
}

void Simulator::advance(SimMillis by) {
  clock_.advance(by);
  fire();
}

void Simulator::reset() {
  timeline_.clear();
  engine_.reset();
  webhooks_.reset();
  arm();
}

void Simulator::arm() {
  if (stopped_ || firing_) return;
  auto next = timeline_.next_due();
  if (!next) {
    if (armed_for_) {
      armed_for_.reset();
      ++arm_token_;
      timer_.cancel();
    }
    return;
  }
  if (armed_for_ && *armed_for_ == *next) return;
  armed_for_ = next;
  auto token = ++arm_token_;
  timer_.expires_at(clock_.steady_at(*next));
  timer_.async_wait([this, token](const boost::system::error_code& ec) {
    if (ec || token != arm_token_) return;
    armed_for_.reset();
    fire();
  });
}

void Simulator::fire() {
  if (stopped_) return;
  firing_ = true;
  timeline_.run_due(clock_.now());
  firing_ = false;
  armed_for_.reset();
  ++arm_token_;
  arm();
}

Result<std::unique_ptr<SimThread>> SimThread::start(SimOptions options) {
  std::unique_ptr<SimThread> t(new SimThread());
  t->sim_ = std::make_unique<Simulator>(t->io_, std::move(options));
  auto ep = t->sim_->start();
  if (!ep) {
    t->sim_->stop();
    t->io_.run();  // let the cancelled accept loop finish
    t->stopped_ = true;
    return ep.error();
  }
  t->endpoint_ = *ep;
  t->work_.emplace(t->io_.get_executor());
  t->thread_ = std::thread([p = t.get()] { p->io_.run(); });
  return t;
}

SimThread::~SimThread() {
  stop();
}

void SimThread::stop() {
  if (stopped_) return;
  stopped_ = true;
  asio::post(io_, [this] { sim_->stop(); });
  work_.reset();
  if (thread_.joinable()) thread_.join();
}

std::string SimThread::base_url() const {
  auto addr = endpoint_.address();
  std::string host = addr.to_string();
  if (addr.is_v6()) host = std::string("[").append(host).append("]");
  return "http://" + host + ":" + std::to_string(endpoint_.port()) + "/api/v2";
}

}  // namespace dialer::sim
