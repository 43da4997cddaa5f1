#include "scheduler/simulated_platform.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <cstdio>

namespace dialer::scheduler {

SimulatedPlatform::SimulatedPlatform(Executor& ex, int calls_per_minute, int general_per_minute,
                                     Millis window)
    : ex_(ex), window_(window) {
  bucket(RateBucket::calls).limit = calls_per_minute;
  bucket(RateBucket::general).limit = general_per_minute;
}

void SimulatedPlatform::prune(const Bucket& bk) const {
  const TimePoint now = ex_.clock().now();
  while (!bk.sends.empty() && bk.sends.front() <= now - window_) bk.sends.pop_front();
}

int SimulatedPlatform::tokens(RateBucket b) const {
  const auto& bk = bucket(b);
  if (ex_.clock().now() < bk.frozen_until) return 0;
  prune(bk);
  return std::max(0, bk.limit - static_cast<int>(bk.sends.size()));
}

TimePoint SimulatedPlatform::next_token_at(RateBucket b) const {
  const auto& bk = bucket(b);
  const TimePoint now = ex_.clock().now();
  prune(bk);
  TimePoint at = now;
  if (static_cast<int>(bk.sends.size()) >= bk.limit) {
    at = bk.sends[bk.sends.size() - static_cast<std::size_t>(bk.limit)] + window_;
  }
  return std::max(at, bk.frozen_until);
}

std::vector<TimePoint> SimulatedPlatform::token_returns(RateBucket b) const {
  const auto& bk = bucket(b);
  prune(bk);
  std::vector<TimePoint> out;
  for (TimePoint sent : bk.sends) out.push_back(sent + window_);
  return out;
}

int SimulatedPlatform::used_last_window(RateBucket b) const {
  prune(bucket(b));
  return static_cast<int>(bucket(b).sends.size());
}

int SimulatedPlatform::limit(RateBucket b) const {
  return bucket(b).limit;
}

bool SimulatedPlatform::spend(RateBucket b) {
  if (tokens(b) <= 0) {
    ++rate_violations;
    return false;
  }
  bucket(b).sends.push_back(ex_.clock().now());
  return true;
}

void SimulatedPlatform::freeze(RateBucket b) {
  bucket(b).frozen_until = ex_.clock().now() + window_;
}

SimulatedCall* SimulatedPlatform::find_call(std::string_view call_id) {
  for (auto& c : calls) {
    if (c.call_id == call_id) return &c;
  }
  return nullptr;
}

SimulatedCall* SimulatedPlatform::call_to(std::string_view to_number) {
  for (auto it = calls.rbegin(); it != calls.rend(); ++it) {
    if (it->to_number == to_number) return &*it;
  }
  return nullptr;
}

int SimulatedPlatform::active_ours() const {
  return static_cast<int>(std::count_if(
      calls.begin(), calls.end(), [](const SimulatedCall& c) { return c.active() && !c.foreign; }));
}

int SimulatedPlatform::active_foreign() const {
  return static_cast<int>(std::count_if(
      calls.begin(), calls.end(), [](const SimulatedCall& c) { return c.active() && c.foreign; }));
}

std::string SimulatedPlatform::add_foreign_call(std::string to_number, std::string agent_id,
                                                CallStatus status) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%06d", next_id_++);
  SimulatedCall c;
  c.call_id = std::string("foreign-call-") + buf;
  c.session_id = std::string("foreign-sess-") + buf;
  c.agent_id = std::move(agent_id);
  c.to_number = std::move(to_number);
  c.created_at = ex_.clock().now();
  c.status = status;
  c.foreign = true;
  calls.push_back(c);
  return c.call_id;
}

SessionOutcome SimulatedPlatform::outcome_of(const SimulatedCall& c) const {
  if (c.outcome) return *c.outcome;
  SessionOutcome o;
  o.session_id = c.session_id;
  o.call_id = c.call_id;
  o.to_number = c.to_number;
  o.agent_id = c.agent_id;
  o.status = c.status;
  o.raw_json = to_body(o);
  return o;
}

void SimulatedPlatform::finish(std::string_view call_id, const CallScript& how) {
  SimulatedCall* c = find_call(call_id);
  if (c == nullptr || !c->active()) return;
  c->status = how.status;
  SessionOutcome o;
  o.session_id = c->session_id;
  o.call_id = c->call_id;
  o.to_number = c->to_number;
  o.agent_id = c->agent_id;
  o.status = how.status;
  o.disposition = how.disposition;
  o.answered_by =
      how.status == CallStatus::completed ? AnsweredBy::human : AnsweredBy::not_answered;
  o.duration_seconds = std::chrono::duration<double>(how.duration).count();
  o.credits_used = how.credits;
  if (!how.extraction.empty()) {
    boost::json::object data;
    data["extraction"] = boost::json::object{{"status", "completed"},
                                             {"values", boost::json::parse(how.extraction)}};
    o.raw_json = boost::json::serialize(data);  // to_body keeps the extraction
  }
  o.raw_json = to_body(o);
  c->outcome = o;
  if (credit_balance) *credit_balance -= how.credits;
  if (how.webhook && webhook) {
    ex_.post([this, o] { webhook(o); });
  }
}

void SimulatedPlatform::adopt_call(SimulatedCall c) {
  const std::string id = c.call_id;
  calls.push_back(std::move(c));
  schedule_end(id);
}

void SimulatedPlatform::schedule_end(const std::string& call_id) {
  SimulatedCall* c = find_call(call_id);
  std::optional<CallScript> script;
  if (auto it = call_scripts.find(c->to_number); it != call_scripts.end() && !it->second.empty()) {
    script = it->second.front();
    it->second.pop_front();
  } else if (draw_call) {
    script = draw_call(*c);
  } else {
    script = default_call;
  }
  if (!script || script->never_ends) return;
  later(script->duration, [this, call_id, how = *script] { finish(call_id, how); });
}

void SimulatedPlatform::start_call(StartRequest request, StartCallback done) {
  const TimePoint now = ex_.clock().now();
  const bool had_token = spend(RateBucket::calls);
  std::optional<StartScript> script;
  if (auto it = start_scripts_by_number.find(request.to_number);
      it != start_scripts_by_number.end() && !it->second.empty()) {
    script = it->second.front();
    it->second.pop_front();
  } else if (!start_scripts.empty()) {
    script = start_scripts.front();
    start_scripts.pop_front();
  }
  StartScript s;
  if (unreachable) {
    s = {StartKind::not_sent, StartReason::network, "connect: connection refused", false, {}};
  } else if (!had_token) {
    s = {StartKind::rejected, StartReason::rate, "Rate limit exceeded", false, std::nullopt};
    freeze(RateBucket::calls);
  } else if (script) {
    s = *script;
  } else {
    const auto name = std::string(to_string(request.provider));
    const bool allowed =
        std::find(account.allowed.begin(), account.allowed.end(), name) != account.allowed.end();
    const bool configured = std::find(account.configured.begin(), account.configured.end(), name) !=
                            account.configured.end();
    if (!allowed || !configured) {
      s = {StartKind::rejected, StartReason::provider, "Provider not enabled", false, {}};
    } else if (refuse_credits || (credit_balance && *credit_balance < refuse_below)) {
      s = {StartKind::rejected, StartReason::credits, "Insufficient credits", false, {}};
    } else if (active_ours() + foreign_active + active_foreign() >= concurrency_limit) {
      s = {StartKind::rejected, StartReason::concurrency, "Concurrency limit reached", false, {}};
      ++concurrency_refusals;
    }
  }
  const bool creates = s.creates_call.value_or(s.kind == StartKind::started);
  StartResult result;
  result.kind = s.kind;
  result.reason = s.reason;
  result.message = s.message;
  if (creates) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%06d", next_id_++);
    SimulatedCall c;
    c.call_id = id_prefix + "call-" + buf;
    c.session_id = id_prefix + "sess-" + buf;
    c.agent_id = request.agent_id;
    c.to_number = request.to_number;
    c.provider = request.provider;
    if (s.kind == StartKind::started) {
      result.call_id = c.call_id;
      if (!start_without_session_id) result.session_id = c.session_id;
    }
    auto create = [this, c]() mutable {
      c.created_at = ex_.clock().now();
      calls.push_back(c);
      const int ours = active_ours();
      max_active_ours = std::max(max_active_ours, ours);
      max_active = std::max(max_active, ours + foreign_active + active_foreign());
      int by_agent = 0;
      int by_number = 0;
      for (const auto& x : calls) {
        by_agent += x.active() && x.agent_id == c.agent_id ? 1 : 0;
        by_number += x.active() && x.to_number == c.to_number ? 1 : 0;
      }
      auto& m = max_active_by_agent[c.agent_id];
      m = std::max(m, by_agent);
      auto& n = max_active_by_number[c.to_number];
      n = std::max(n, by_number);
      schedule_end(c.call_id);
    };
    if (auto d = create_after_by_number.find(request.to_number);
        d != create_after_by_number.end()) {
      later(d->second, std::move(create));
    } else {
      create();
    }
  }
  calls_per_number[request.to_number] += creates ? 1 : 0;
  starts.push_back({now, request, s.kind});
  later(s.latency.value_or(start_latency),
        [done = std::move(done), result = std::move(result)] { done(result); });
}

void SimulatedPlatform::get_concurrency(ConcurrencyCallback done) {
  ++concurrency_requests;
  PlatformResult<ConcurrencyReading> r = ConcurrencyReading{};
  if (unreachable) {
    r = PlatformError{PlatformError::Kind::failed, "connect: connection refused", std::nullopt};
  } else if (!spend(RateBucket::calls)) {
    r = PlatformError{PlatformError::Kind::rate_limited, "Rate limit exceeded", std::nullopt};
  } else {
    r = ConcurrencyReading{concurrency_limit, active_ours() + foreign_active + active_foreign(),
                           limit_source};
  }
  later(poll_latency, [done = std::move(done), r] { done(r); });
}

void SimulatedPlatform::get_config(ConfigCallback done) {
  ++config_requests;
  PlatformResult<AccountInfo> r = AccountInfo{};
  if (unreachable) {
    r = PlatformError{PlatformError::Kind::failed, "connect: connection refused", std::nullopt};
  } else if (!config_failures.empty()) {
    r = config_failures.front();
    config_failures.pop_front();
  } else if (!spend(RateBucket::general)) {
    r = PlatformError{PlatformError::Kind::rate_limited, "Rate limit exceeded", std::nullopt};
  } else {
    r = AccountInfo{account, credit_balance};
  }
  later(poll_latency, [done = std::move(done), r] { done(r); });
}

void SimulatedPlatform::list_calls(int limit_n, int offset, ListCallback done) {
  ++list_requests;
  list_offsets.push_back(offset);
  PlatformResult<CallListing> r = CallListing{};
  if (auto at = list_failures_at.find(list_requests); at != list_failures_at.end()) {
    r = at->second;
  } else if (!list_failures.empty()) {
    r = list_failures.front();
    list_failures.pop_front();
    // A real 429 freezes the bucket for its window, as the API client does.
    if (r.error().kind == PlatformError::Kind::rate_limited) freeze(RateBucket::calls);
  } else if (!spend(RateBucket::calls)) {
    r = PlatformError{PlatformError::Kind::rate_limited, "Rate limit exceeded", std::nullopt};
  } else {
    CallListing page;
    if (!list_without_total) page.total = static_cast<int>(calls.size());
    int cap = list_page_cap ? std::min(limit_n, *list_page_cap) : limit_n;
    if (list_short_at.contains(list_requests)) cap = std::max(1, cap / 2);
    // Newest first.
    for (int i = static_cast<int>(calls.size()) - 1 - offset;
         i >= 0 && static_cast<int>(page.calls.size()) < cap; --i) {
      const auto& c = calls[static_cast<std::size_t>(i)];
      page.calls.push_back(
          {c.call_id, c.session_id, c.agent_id, c.to_number, c.status, c.created_at});
    }
    r = std::move(page);
  }
  later(poll_latency, [done = std::move(done), r] { done(r); });
}

void SimulatedPlatform::get_session(std::string session_id, SessionCallback done) {
  ++session_requests;
  PlatformResult<SessionOutcome> r = SessionOutcome{};
  if (!session_failures.empty()) {
    r = session_failures.front();
    session_failures.pop_front();
  } else if (!spend(RateBucket::general)) {
    r = PlatformError{PlatformError::Kind::rate_limited, "Rate limit exceeded", std::nullopt};
  } else {
    const SimulatedCall* found = nullptr;
    for (const auto& c : calls) {
      if (c.session_id == session_id) found = &c;
    }
    if (found == nullptr) {
      r = PlatformError{PlatformError::Kind::not_found, "Session not found", std::nullopt};
    } else {
      r = outcome_of(*found);
    }
  }
  later(poll_latency, [done = std::move(done), r] { done(r); });
}

void SimulatedPlatform::get_call(std::string call_id, CallCallback done) {
  ++call_requests;
  PlatformResult<ListedCall> r = ListedCall{};
  if (!spend(RateBucket::calls)) {
    r = PlatformError{PlatformError::Kind::rate_limited, "Rate limit exceeded", std::nullopt};
  } else if (const SimulatedCall* c = find_call(call_id); c == nullptr) {
    r = PlatformError{PlatformError::Kind::not_found, "Call not found", std::nullopt};
  } else {
    r = ListedCall{c->call_id, c->session_id, c->agent_id, c->to_number, c->status, c->created_at};
  }
  later(poll_latency, [done = std::move(done), r] { done(r); });
}

std::string to_body(const SessionOutcome& o) {
  boost::json::object j;
  j["session_id"] = o.session_id;
  j["call_id"] = o.call_id;
  j["to_number"] = o.to_number;
  j["agent_id"] = o.agent_id;
  if (o.status) j["status"] = to_string(*o.status);
  if (o.disposition) j["disposition"] = to_string(*o.disposition);
  if (o.answered_by) j["answered_by"] = to_string(*o.answered_by);
  if (o.duration_seconds) j["duration_seconds"] = *o.duration_seconds;
  if (o.credits_used) j["credits_used"] = *o.credits_used;
  boost::system::error_code ec;
  if (const auto prior = boost::json::parse(o.raw_json, ec); !ec && prior.is_object()) {
    if (const auto* x = prior.get_object().if_contains("extraction")) j["extraction"] = *x;
  }
  return boost::json::serialize(j);
}

Result<SessionOutcome> parse_body(std::string_view body) {
  boost::system::error_code ec;
  auto v = boost::json::parse(body, ec);
  if (ec || !v.is_object()) return Error{errc::parse_error, "not a JSON object"};
  const auto& j = v.as_object();
  auto str = [&](const char* k) -> std::string {
    auto* p = j.if_contains(k);
    return p != nullptr && p->is_string() ? std::string(p->as_string()) : std::string{};
  };
  auto num = [&](const char* k) -> std::optional<double> {
    auto* p = j.if_contains(k);
    if (p == nullptr || !p->is_number()) return std::nullopt;
    return p->to_number<double>();
  };
  SessionOutcome o;
  o.session_id = str("session_id");
  if (o.session_id.empty()) return Error{errc::parse_error, "no session_id"};
  o.call_id = str("call_id");
  o.to_number = str("to_number");
  o.agent_id = str("agent_id");
  o.status = from_string<CallStatus>(str("status"));
  o.disposition = from_string<Disposition>(str("disposition"));
  o.answered_by = from_string<AnsweredBy>(str("answered_by"));
  o.duration_seconds = num("duration_seconds");
  o.credits_used = num("credits_used");
  o.raw_json = std::string(body);
  return o;
}

}  // namespace dialer::scheduler
