#include "scheduler/executor.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <stdexcept>

namespace dialer::scheduler {

// ---------------------------------------------------------------------------------------------
// AsioExecutor

struct AsioExecutor::State {
  std::unordered_map<TimerId, std::unique_ptr<boost::asio::steady_timer>> timers;
  TimerId next_id = 1;
};

AsioExecutor::AsioExecutor(boost::asio::any_io_executor ex, const Clock& clock)
    : ex_(std::move(ex)), clock_(clock), state_(std::make_shared<State>()) {}

AsioExecutor::~AsioExecutor() {
  cancel_all();
}

void AsioExecutor::post(std::function<void()> fn) {
  boost::asio::post(ex_, std::move(fn));
}

TimerId AsioExecutor::schedule_at(TimePoint at, std::function<void()> fn) {
  const TimerId id = state_->next_id++;
  auto timer = std::make_unique<boost::asio::steady_timer>(ex_);
  // Converted once, now: a later wall-clock step must not move a timer already set.
  const auto delay = std::max(Millis{0}, at - clock_.now());
  timer->expires_after(delay);
  // The handler holds the state weakly: destroying the executor cancels every timer, and a
  // handler already queued then finds nothing to run.
  timer->async_wait([weak = std::weak_ptr<State>(state_), id,
                     fn = std::move(fn)](const boost::system::error_code& ec) {
    if (ec) return;
    auto state = weak.lock();
    if (!state) return;
    auto it = state->timers.find(id);
    if (it == state->timers.end()) return;  // cancelled after it expired
    state->timers.erase(it);
    fn();
  });
  state_->timers.emplace(id, std::move(timer));
  return id;
}

bool AsioExecutor::cancel(TimerId id) {
  auto it = state_->timers.find(id);
  if (it == state_->timers.end()) return false;
  it->second->cancel();
  state_->timers.erase(it);
  return true;
}

std::size_t AsioExecutor::pending_timers() const {
  return state_->timers.size();
}

void AsioExecutor::cancel_all() {
  for (auto& [id, timer] : state_->timers) timer->cancel();
  state_->timers.clear();
}

// ---------------------------------------------------------------------------------------------
// SimulatedExecutor

SimulatedExecutor::SimulatedExecutor(TimePoint start) : clock_(start) {}

void SimulatedExecutor::post(std::function<void()> fn) {
  posted_.push_back(std::move(fn));
}

TimerId SimulatedExecutor::schedule_at(TimePoint at, std::function<void()> fn) {
  const TimerId id = next_id_++;
  // A deadline in the past runs at the current instant, after work already due now.
  const TimePoint when = std::max(at, clock_.now());
  timers_.emplace(std::pair{when, id}, std::move(fn));
  index_.emplace(id, when);
  return id;
}

bool SimulatedExecutor::cancel(TimerId id) {
  auto it = index_.find(id);
  if (it == index_.end()) return false;
  timers_.erase(std::pair{it->second, id});
  index_.erase(it);
  return true;
}

std::size_t SimulatedExecutor::run_ready(std::size_t limit) {
  std::size_t ran = 0;
  while (!posted_.empty()) {
    if (ran >= limit) throw std::runtime_error("SimulatedExecutor: posted work never ends");
    auto fn = std::move(posted_.front());
    posted_.pop_front();
    fn();
    ++ran;
  }
  return ran;
}

bool SimulatedExecutor::run_one_timer(TimePoint limit) {
  if (timers_.empty()) return false;
  auto it = timers_.begin();
  if (it->first.first > limit) return false;
  if (it->first.first > clock_.now()) clock_.set(it->first.first);
  auto fn = std::move(it->second);
  index_.erase(it->first.second);
  timers_.erase(it);
  fn();
  return true;
}

std::size_t SimulatedExecutor::run_until(TimePoint t) {
  std::size_t ran = run_ready();
  while (run_one_timer(t)) {
    ++ran;
    ran += run_ready();
  }
  if (t > clock_.now()) clock_.set(t);
  return ran;
}

std::size_t SimulatedExecutor::run_until_idle(Millis horizon) {
  const TimePoint limit = clock_.now() + horizon;
  std::size_t ran = run_ready();
  while (run_one_timer(limit)) {
    ++ran;
    ran += run_ready();
  }
  return ran;
}

std::vector<TimePoint> SimulatedExecutor::timer_deadlines() const {
  std::vector<TimePoint> out;
  out.reserve(timers_.size());
  for (const auto& [key, fn] : timers_) out.push_back(key.first);
  return out;
}

std::optional<TimePoint> SimulatedExecutor::next_deadline() const {
  if (timers_.empty()) return std::nullopt;
  return timers_.begin()->first.first;
}

}  // namespace dialer::scheduler
