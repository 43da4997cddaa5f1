#include "api/vocobase/rate_budget.hpp"

#include <algorithm>

namespace dialer::api {

Bucket bucket_for_path(std::string_view path) noexcept {
  // "/calls", "/calls/start", "/calls/concurrency", "/calls/{id}", with or without a query.
  constexpr std::string_view calls = "/calls";
  if (path.substr(0, calls.size()) == calls &&
      (path.size() == calls.size() || path[calls.size()] == '/' || path[calls.size()] == '?')) {
    return Bucket::calls;
  }
  return Bucket::general;
}

std::string_view to_string(Bucket b) noexcept {
  return b == Bucket::calls ? "calls" : "general";
}

RateBudget::RateBudget(const Clock& clock, RateLimits limits) : clock_(clock), limits_(limits) {}

void RateBudget::set_limits(const RateLimits& limits) {
  limits_ = limits;
}

int RateBudget::limit(Bucket b) const noexcept {
  int l = b == Bucket::calls ? limits_.calls_per_minute : limits_.general_per_minute;
  return std::max(l, 1);
}

void RateBudget::prune(State& s, TimePoint now) const {
  while (!s.sends.empty() && s.sends.front() <= now - (limits_.window + limits_.guard))
    s.sends.pop_front();
  // A wall clock stepped backwards must not leave sends "in the future" that would block the
  // bucket for as long as the step: they are treated as sent now.
  for (auto it = s.sends.rbegin(); it != s.sends.rend() && *it > now; ++it) *it = now;
}

int RateBudget::count_in_window(State& s, TimePoint now) const {
  prune(s, now);
  return static_cast<int>(s.sends.size());
}

TimePoint RateBudget::next_token_at(State& s, int lim, TimePoint now) const {
  TimePoint at = std::max(now, s.frozen_until);
  // The token returns when the send that keeps the count at the limit ages out.
  const int n = count_in_window(s, now);
  if (n >= lim)
    at = std::max(at, s.sends[static_cast<std::size_t>(n - lim)] + limits_.window + limits_.guard);
  return at;
}

int RateBudget::available(Bucket b) const {
  const TimePoint now = clock_.now();
  State& s = state(b);
  if (s.frozen_until > now) return 0;
  return std::max(0, limit(b) - count_in_window(s, now));
}

int RateBudget::unclaimed(Bucket b) const {
  return std::max(0, available(b) - static_cast<int>(waiting(b)));
}

TimePoint RateBudget::next_token_at(Bucket b) const {
  return next_token_at(state(b), limit(b), clock_.now());
}

int RateBudget::used_last_window(Bucket b) const {
  return count_in_window(state(b), clock_.now());
}

std::vector<TimePoint> RateBudget::returns(Bucket b) const {
  State& s = state(b);
  prune(s, clock_.now());
  std::vector<TimePoint> out;
  out.reserve(s.sends.size());
  for (TimePoint sent : s.sends) out.push_back(sent + spent_for());
  return out;
}

std::optional<TimePoint> RateBudget::frozen_until(Bucket b) const {
  const State& s = state(b);
  if (s.frozen_until > clock_.now()) return s.frozen_until;
  return std::nullopt;
}

std::optional<RateBudget::Ticket> RateBudget::enqueue(Bucket b, Priority p) {
  State& s = state(b);
  if (s.queue.size() >= limits_.max_waiting) return std::nullopt;
  const Ticket t = next_ticket_++;
  const std::pair<int, Ticket> key{static_cast<int>(p), t};
  s.queue.emplace(key, t);
  index_.emplace(t, std::make_pair(b, key));
  return t;
}

bool RateBudget::cancel(Ticket t) {
  auto it = index_.find(t);
  if (it == index_.end()) return false;
  state(it->second.first).queue.erase(it->second.second);
  index_.erase(it);
  return true;
}

std::vector<RateBudget::Ticket> RateBudget::grant() {
  std::vector<Ticket> granted;
  const TimePoint now = clock_.now();
  for (Bucket b : {Bucket::calls, Bucket::general}) {
    State& s = state(b);
    prune(s, now);
    if (s.frozen_until > now) continue;
    const int lim = limit(b);
    while (!s.queue.empty() && static_cast<int>(s.sends.size()) < lim) {
      auto first = s.queue.begin();
      const Ticket t = first->second;
      s.queue.erase(first);
      index_.erase(t);
      s.sends.push_back(now);
      granted.push_back(t);
    }
  }
  return granted;
}

std::size_t RateBudget::waiting(Bucket b) const {
  return state(b).queue.size();
}

std::optional<TimePoint> RateBudget::next_wake() const {
  std::optional<TimePoint> wake;
  for (Bucket b : {Bucket::calls, Bucket::general}) {
    if (state(b).queue.empty()) continue;
    TimePoint t = next_token_at(b);
    if (!wake || t < *wake) wake = t;
  }
  return wake;
}

void RateBudget::on_rate_limited(Bucket b, std::optional<Millis> retry_after) {
  const TimePoint now = clock_.now();
  const TimePoint until = now + (retry_after ? std::max(*retry_after, Millis{0}) : limits_.window);
  State& s = state(b);
  s.frozen_until = std::max(s.frozen_until, until);
}

}  // namespace dialer::api
