#include "sim/engine.hpp"

#include "core/campaign_spec.hpp"
#include "core/time_json.hpp"
#include "sim/det_rng.hpp"
#include "sim/text_util.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

namespace dialer::sim {

namespace json = boost::json;

namespace {

constexpr std::int64_t kRateWindow = 60'000;
constexpr std::array<std::string_view, kRefusalCount> kRefusalNames = {
    "rate_calls", "rate_general", "concurrency", "credits",
    "provider",   "validation",   "auth",        "not_found"};

std::string format_uuid(std::uint64_t hi, std::uint64_t lo) {
  hi = (hi & 0xFFFFFFFFFFFF0FFFULL) | 0x0000000000004000ULL;  // version 4
  lo = (lo & 0x3FFFFFFFFFFFFFFFULL) | 0x8000000000000000ULL;  // RFC 4122 variant
  char buf[37];
  std::snprintf(buf, sizeof buf, "%08x-%04x-%04x-%04x-%012llx", static_cast<unsigned>(hi >> 32),
                static_cast<unsigned>((hi >> 16) & 0xFFFF), static_cast<unsigned>(hi & 0xFFFF),
                static_cast<unsigned>(lo >> 48),
                static_cast<unsigned long long>(lo & 0xFFFFFFFFFFFFULL));
  return buf;
}

bool contains(const std::vector<Provider>& v, Provider p) {
  return std::find(v.begin(), v.end(), p) != v.end();
}

std::optional<std::string_view> bearer_token(std::string_view authorization) {
  authorization = trim(authorization);
  auto space = authorization.find(' ');
  if (space == std::string_view::npos) return std::nullopt;
  if (!iequals(authorization.substr(0, space), "bearer")) return std::nullopt;
  auto token = trim(authorization.substr(space + 1));
  if (token.empty()) return std::nullopt;
  return token;
}

bool is_calls_path(std::string_view path) {
  constexpr std::string_view prefix = "/api/v2/calls";
  if (path.substr(0, prefix.size()) != prefix) return false;
  return path.size() == prefix.size() || path[prefix.size()] == '/';
}

}  // namespace

std::string_view refusal_name(Refusal r) noexcept {
  return kRefusalNames[static_cast<std::size_t>(r)];
}

json::value json_number(double v) {
  if (std::isfinite(v) && std::floor(v) == v && std::fabs(v) < 9.0e15) {
    return json::value(static_cast<std::int64_t>(v));
  }
  return json::value(v);
}

namespace {

json::array default_readiness() {
  return json::array{
      json::object{{"key", "918047100004"}, {"state", "READY"}, {"action_items", json::array{}}}};
}

}  // namespace

Engine::Engine(SimOptions options, const SimClock& clock, Timeline& timeline)
    : options_(std::move(options)),
      clock_(clock),
      timeline_(timeline),
      concurrency_limit_(options_.concurrency_limit),
      balance_base_(options_.credits),
      allowed_(options_.allowed_providers),
      configured_(options_.configured_providers),
      faults_(options_.faults),
      script_(options_.script),
      calls_window_(options_.calls_per_minute, kRateWindow),
      general_window_(options_.general_per_minute, kRateWindow),
      voicelink_readiness_(default_readiness()) {}

void Engine::reset() {
  voicelink_connections_ = 1;
  voicelink_readiness_ = default_readiness();
  voicelink_warnings_ = {};
  legacy_ = {};
  voicelink_syncs_ = voicelink_imports_ = 0;
  concurrency_limit_ = options_.concurrency_limit;
  balance_base_ = options_.credits;
  billed_since_base_ = 0;
  allowed_ = options_.allowed_providers;
  configured_ = options_.configured_providers;
  faults_ = options_.faults;
  script_ = options_.script;
  script_pos_.clear();
  calls_window_.clear();
  general_window_.clear();
  calls_.clear();
  by_call_id_.clear();
  by_session_id_.clear();
  next_seq_ = 1;
  request_seq_ = 0;
  ++generation_;
  active_ = calls_started_ = calls_ended_ = max_concurrent_ = limit_violations_ = 0;
  billed_seconds_ = 0;
  numbers_.clear();
  refused_ = {};
  requests_calls_ = requests_general_ = 0;
  outcomes_ = {};
  faults_applied_ = {};
  foreign_target_ = foreign_started_ = foreign_refused_ = 0;
  foreign_active_.clear();
}

ApiError Engine::refuse(Refusal r, unsigned status, std::string code, std::string message) {
  ++refused_[static_cast<std::size_t>(r)];
  return ApiError{status, std::move(code), std::move(message)};
}

Admission Engine::admit(std::string_view path, std::string_view authorization) {
  Admission a;
  a.bucket = is_calls_path(path) ? Bucket::calls : Bucket::general;
  ++(a.bucket == Bucket::calls ? requests_calls_ : requests_general_);

  // Draw every fault of this request in a fixed order, whatever happens next.
  DetRng rng(options_.seed, RngStream::request, ++request_seq_);
  double u_reset = rng.uniform(), u_5xx = rng.uniform(), u_kind = rng.uniform();
  double u_lost = rng.uniform(), u_hold = rng.uniform(), u_slow = rng.uniform();
  // Drawn after the older ones, so adding them left every earlier draw of a seed as it was.
  double u_slow_start = rng.uniform(), u_no_total = rng.uniform(), u_short = rng.uniform();

  auto token = bearer_token(authorization);
  if (!token) {
    a.error = refuse(Refusal::auth, 401, "UNAUTHORIZED",
                     "Missing or malformed Authorization "
                     "header (expected: Bearer <api key>)");
    return a;
  }
  if (!options_.api_keys.empty() && std::find(options_.api_keys.begin(), options_.api_keys.end(),
                                              *token) == options_.api_keys.end()) {
    a.error = refuse(Refusal::auth, 401, "UNAUTHORIZED", "Invalid API key");
    return a;
  }
  auto& window = a.bucket == Bucket::calls ? calls_window_ : general_window_;
  if (!window.try_acquire(std::string(*token), clock_.rate_now())) {
    a.error = refuse(a.bucket == Bucket::calls ? Refusal::rate_calls : Refusal::rate_general, 429,
                     "LIMIT_REACHED", "Rate limit exceeded");
    return a;
  }

  auto& f = a.faults;
  if (u_reset < faults_.get(Fault::reset)) {
    f.reset = true;
    note_fault(Fault::reset);
  } else if (u_5xx < faults_.get(Fault::error_5xx)) {
    f.error_5xx = true;
    f.error_status = u_kind < 1.0 / 3 ? 500 : (u_kind < 2.0 / 3 ? 502 : 503);
    note_fault(Fault::error_5xx);
  } else {
    f.lost_response = u_lost < faults_.get(Fault::lost_response);
    f.lost_response_hold = u_hold < faults_.get(Fault::lost_response_hold);
    f.slow = u_slow < faults_.get(Fault::slow);
    f.slow_start = u_slow_start < faults_.get(Fault::slow_start);
    f.list_no_total = u_no_total < faults_.get(Fault::list_no_total);
    f.list_short_page = u_short < faults_.get(Fault::list_short_page);
  }
  return a;
}

bool Engine::agent_known(std::string_view agent_id) const {
  if (options_.agents.empty()) return true;
  for (const auto& a : options_.agents) {
    if (iequals(a, agent_id)) return true;
  }
  return false;
}

std::variant<json::object, ApiError> Engine::get_agent(std::string_view agent_id) {
  if (!is_uuid(agent_id) || !agent_known(agent_id)) {
    return refuse(Refusal::not_found, 404, "NOT_FOUND", "Agent not found");
  }
  return json::object{{"id", agent_id},
                      {"name", "Agent " + std::string(agent_id.substr(0, 8))},
                      {"status", "active"}};
}

std::variant<json::object, ApiError> Engine::voicelink_sync(std::string_view body) {
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  if (ec || !v.is_object()) {
    return refuse(Refusal::validation, 400, "VALIDATION_ERROR",
                  "Request body must be a JSON object");
  }
  if (!contains(configured_, Provider::voicelink)) {
    return refuse(Refusal::validation, 400, "VALIDATION_ERROR",
                  "No VoiceLink connection is configured for this account");
  }
  const auto& o = v.get_object();
  if (voicelink_connections_ > 1 && !o.contains("connection_id")) {
    return refuse(Refusal::validation, 400, "VALIDATION_ERROR",
                  "connection_id is required when the account has more than one VoiceLink "
                  "connection");
  }
  ++voicelink_syncs_;
  const auto* imp = o.if_contains("import_dids");
  if (imp == nullptr || !imp->is_bool() || imp->get_bool()) ++voicelink_imports_;
  bool suppressed = false;
  for (const auto& w : voicelink_warnings_) {
    const auto code = w.is_string() ? std::string_view(w.get_string()) : std::string_view();
    if (code == "FETCH_FAILED" || code == "TRUNCATED") suppressed = true;
  }
  return json::object{{"readiness", suppressed ? json::array{} : voicelink_readiness_},
                      {"drift", json::array{}},
                      {"warnings", voicelink_warnings_}};
}

Result<void> Engine::set_voicelink(const json::object& o) {
  for (const auto& [key, value] : o) {
    if (key == "connections") {
      if (!value.is_int64() || value.get_int64() < 0 || value.get_int64() > 100) {
        return Error{errc::invalid_argument, "connections must be 0..100"};
      }
      voicelink_connections_ = static_cast<int>(value.get_int64());
    } else if (key == "readiness") {
      if (!value.is_array()) return Error{errc::invalid_argument, "readiness must be a list"};
      for (const auto& row : value.get_array()) {
        if (!row.is_object() || !row.get_object().contains("key") ||
            !row.get_object().contains("state")) {
          return Error{errc::invalid_argument, "each readiness row needs key and state"};
        }
      }
      voicelink_readiness_ = value.get_array();
    } else if (key == "warnings") {
      if (!value.is_array()) return Error{errc::invalid_argument, "warnings must be a list"};
      voicelink_warnings_ = value.get_array();
    } else {
      return Error{errc::invalid_argument,
                   "unknown key '" + std::string(key) + "' (connections, readiness, warnings)"};
    }
  }
  return {};
}

std::string Engine::from_number_of(Provider p) const {
  static constexpr std::array<const char*, 7> kFrom = {
      "+918047100001", "+14155550101", "+918047100002", "+14155550102",
      "+918047100003", "+14155550103", "+918047100004"};
  return kFrom[static_cast<std::size_t>(p)];
}

std::variant<const Call*, ApiError> Engine::start_call(std::string_view body) {
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  if (ec || !v.is_object()) {
    return refuse(Refusal::validation, 400, "VALIDATION_ERROR",
                  "Request body must be a JSON object");
  }
  const auto& o = v.get_object();
  const auto* agent = o.if_contains("agent_id");
  if (!agent || agent->is_null()) {
    return refuse(Refusal::validation, 400, "VALIDATION_ERROR", "agent_id is required");
  }
  if (!agent->is_string() || !is_uuid(agent->get_string())) {
    return refuse(Refusal::validation, 400, "VALIDATION_ERROR", "agent_id must be a valid UUID");
  }
  const auto* to = o.if_contains("to_number");
  if (!to || to->is_null()) {
    return refuse(Refusal::validation, 400, "VALIDATION_ERROR", "to_number is required");
  }
  if (!to->is_string() || !is_e164_syntax(to->get_string())) {
    return refuse(Refusal::validation, 400, "VALIDATION_ERROR",
                  "to_number must be a valid E.164 phone number (e.g. +919876543210)");
  }
  Provider provider = Provider::mcube;
  if (const auto* p = o.if_contains("provider"); p && !p->is_null()) {
    std::optional<Provider> parsed;
    if (p->is_string()) parsed = from_string<Provider>(to_lower(p->get_string()));
    if (!parsed) {
      return refuse(Refusal::validation, 400, "VALIDATION_ERROR",
                    "provider must be one of mcube, twilio, exotel, plivo, vobiz, sip");
    }
    provider = *parsed;
  }
  json::object variables;
  if (const auto* vars = o.if_contains("variables"); vars && !vars->is_null()) {
    if (!vars->is_object()) {
      return refuse(Refusal::validation, 400, "VALIDATION_ERROR", "variables must be an object");
    }
    variables = vars->get_object();
  }
  if (!agent_known(agent->get_string())) {
    return refuse(Refusal::not_found, 404, "NOT_FOUND", "Agent not found");
  }
  if (!contains(allowed_, provider)) {
    return refuse(
        Refusal::provider, 403, "FORBIDDEN",
        "Provider '" + std::string(to_string(provider)) + "' is not enabled for this partner");
  }
  if (!contains(configured_, provider)) {
    return refuse(Refusal::provider, 400, "VALIDATION_ERROR",
                  "Provider '" + std::string(to_string(provider)) + "' is not configured");
  }
  if (credit_balance() <= 0) {
    return refuse(Refusal::credits, 403, "FORBIDDEN", "Insufficient credits");
  }
  if (active_ >= static_cast<std::uint64_t>(std::max(concurrency_limit_, 0))) {
    return refuse(Refusal::concurrency, 429, "LIMIT_REACHED", "Concurrency limit reached");
  }

  Call c;
  c.seq = next_seq_++;
  DetRng ids(options_.seed, RngStream::ids, ++id_seq_);
  auto a1 = ids.next(), a2 = ids.next(), b1 = ids.next(), b2 = ids.next();
  c.call_id = format_uuid(a1, a2);
  c.session_id = format_uuid(b1, b2);
  c.agent_id = to_lower(agent->get_string());
  c.to_number = std::string(to->get_string());
  c.provider = provider;
  c.from_number = from_number_of(provider);
  c.variables = std::move(variables);

  const ScriptEntry* scripted = nullptr;
  if (auto it = script_.find(c.to_number); it != script_.end()) {
    auto& pos = script_pos_[c.to_number];
    if (pos < it->second.size()) scripted = &it->second[pos++];
  }
  c.plan =
      draw_call_plan(options_.seed, c.seq, options_.outcomes, options_.duration_mean, scripted);
  c.created_at = clock_.wall();
  SimMillis now = clock_.now();
  c.history.emplace_back(CallStatus::pending, now);

  ++calls_started_;
  ++active_;
  max_concurrent_ = std::max(max_concurrent_, active_);
  auto& num = numbers_[c.to_number];
  ++num.calls;
  ++num.active;
  num.max_concurrent = std::max(num.max_concurrent, num.active);
  check_violation();

  by_call_id_.emplace(c.call_id, c.seq);
  by_session_id_.emplace(c.session_id, c.seq);
  calls_.push_back(std::move(c));
  const Call& stored = calls_.back();
  schedule_step(stored.seq, now + stored.plan.pending_ms);
  evict();
  return &calls_.back();
}

void Engine::check_violation() {
  if (active_ > static_cast<std::uint64_t>(std::max(concurrency_limit_, 0))) ++limit_violations_;
}

void Engine::evict() {
  while (calls_.size() > options_.max_calls && !calls_.front().active()) {
    by_call_id_.erase(calls_.front().call_id);
    by_session_id_.erase(calls_.front().session_id);
    calls_.pop_front();
  }
}

Call* Engine::find_seq(std::uint64_t seq) {
  if (calls_.empty() || seq < calls_.front().seq || seq > calls_.back().seq) return nullptr;
  return &calls_[seq - calls_.front().seq];
}

const Call* Engine::find_call(std::string_view call_id) const {
  auto it = by_call_id_.find(to_lower(call_id));
  if (it == by_call_id_.end()) return nullptr;
  return &calls_[it->second - calls_.front().seq];
}

void Engine::schedule_step(std::uint64_t seq, SimMillis at) {
  timeline_.schedule(at, [this, seq, at, gen = generation_] {
    if (gen == generation_) step(seq, at);
  });
}

void Engine::step(std::uint64_t seq, SimMillis at) {
  Call* c = find_seq(seq);
  if (!c) return;
  switch (c->status) {
    case CallStatus::pending:
      if (!rings(c->plan.outcome)) {
        finish(*c, at);
        return;
      }
      c->status = CallStatus::ringing;
      c->started_at = clock_.wall();
      c->history.emplace_back(c->status, at);
      schedule_step(seq, at + c->plan.ring_ms);
      return;
    case CallStatus::ringing:
      if (!connects(c->plan.outcome)) {
        finish(*c, at);
        return;
      }
      c->status = CallStatus::in_progress;
      c->answered_at = clock_.wall();
      c->history.emplace_back(c->status, at);
      schedule_step(seq, at + c->plan.talk_ms);
      return;
    case CallStatus::in_progress:
      finish(*c, at);
      return;
    default:
      return;
  }
}

void Engine::finish(Call& c, SimMillis at) {
  c.status = c.plan.final_status;
  c.ended_at = clock_.wall();
  c.history.emplace_back(c.status, at);
  --active_;
  --numbers_[c.to_number].active;
  ++calls_ended_;
  top_up_foreign();
  ++outcomes_[static_cast<std::size_t>(c.plan.outcome)];
  auto billed = billed_seconds(c.plan);
  billed_seconds_ += billed;
  billed_since_base_ += billed;
  if (sink_) {
    json::object event{{"event", "session.completed"},
                       {"timestamp", format_iso8601(*c.ended_at)},
                       {"data", session_data(c)}};
    sink_(c, json::serialize(event));
  }
}

double Engine::credit_balance() const {
  return balance_base_ - static_cast<double>(billed_since_base_) / 60.0;
}

void Engine::set_credit_balance(double balance) {
  balance_base_ = balance;
  billed_since_base_ = 0;
}

void Engine::set_concurrency_limit(int limit) {
  concurrency_limit_ = limit;
  check_violation();
  top_up_foreign();
}

std::uint64_t Engine::set_foreign_calls(std::uint64_t n) {
  foreign_target_ = n;
  while (foreign_active_.size() > n) end_foreign(foreign_active_.front());
  top_up_foreign();
  return foreign_active_.size();
}

void Engine::top_up_foreign() {
  while (foreign_active_.size() < foreign_target_) {
    if (active_ >= static_cast<std::uint64_t>(std::max(concurrency_limit_, 0))) {
      ++foreign_refused_;
      return;
    }
    Call c;
    c.seq = next_seq_++;
    c.foreign = true;
    DetRng ids(options_.seed, RngStream::ids, ++id_seq_);
    auto a1 = ids.next(), a2 = ids.next(), b1 = ids.next(), b2 = ids.next();
    c.call_id = format_uuid(a1, a2);
    c.session_id = format_uuid(b1, b2);
    c.agent_id = "9b1deb4d-3b7d-4bad-9bdd-2b0d7b3dcb6d";  // not an agent of ours
    char number[24];
    std::snprintf(number, sizeof number, "+1415555%04llu",
                  static_cast<unsigned long long>(foreign_started_ % 10'000));
    c.to_number = number;
    c.provider = Provider::twilio;
    c.from_number = from_number_of(c.provider);
    c.plan.outcome = Disposition::completed;
    c.plan.final_status = CallStatus::completed;
    c.created_at = clock_.wall();
    c.started_at = c.answered_at = c.created_at;
    const SimMillis now = clock_.now();
    c.history = {
        {CallStatus::pending, now}, {CallStatus::ringing, now}, {CallStatus::in_progress, now}};
    c.status = CallStatus::in_progress;
    ++foreign_started_;
    ++active_;
    max_concurrent_ = std::max(max_concurrent_, active_);
    by_call_id_.emplace(c.call_id, c.seq);
    by_session_id_.emplace(c.session_id, c.seq);
    foreign_active_.push_back(c.seq);
    calls_.push_back(std::move(c));
  }
}

void Engine::end_foreign(std::uint64_t seq) {
  foreign_active_.erase(std::remove(foreign_active_.begin(), foreign_active_.end(), seq),
                        foreign_active_.end());
  Call* c = find_seq(seq);
  if (c == nullptr || !c->active()) return;
  c->status = CallStatus::completed;
  c->ended_at = clock_.wall();
  c->history.emplace_back(CallStatus::completed, clock_.now());
  --active_;
}

Result<void> Engine::set_providers(std::vector<Provider> allowed,
                                   std::vector<Provider> configured) {
  for (auto p : configured) {
    if (!contains(allowed, p)) {
      return Error{errc::invalid_argument,
                   "configured provider " + std::string(to_string(p)) + " is not allowed"};
    }
  }
  allowed_ = std::move(allowed);
  configured_ = std::move(configured);
  return {};
}

void Engine::merge_script(const Script& s) {
  for (const auto& [number, list] : s) {
    script_[number] = list;
    script_pos_.erase(number);
  }
}

json::object Engine::call_json(const Call& c) const {
  json::object o;
  o["call_id"] = c.call_id;
  o["agent_id"] = c.agent_id;
  o["session_id"] = c.session_id;
  o["direction"] = "outbound";
  o["from_number"] = c.from_number;
  o["to_number"] = c.to_number;
  o["status"] = to_string(c.status);
  o["provider"] = to_string(c.provider);
  o["duration_seconds"] = c.active() ? 0 : billed_seconds(c.plan);
  auto err = c.active() ? std::string() : error_message_of(c.plan.outcome);
  o["error_message"] = err.empty() ? json::value(nullptr) : json::value(err);
  o["started_at"] = iso_or_null(c.started_at);
  o["ended_at"] = iso_or_null(c.ended_at);
  o["created_at"] = format_iso8601(c.created_at);
  return o;
}

json::object Engine::start_data(const Call& c) const {
  return {{"call_id", c.call_id},         {"session_id", c.session_id},
          {"status", "pending"},          {"provider", to_string(c.provider)},
          {"from_number", c.from_number}, {"to_number", c.to_number},
          {"agent_id", c.agent_id}};
}

json::object Engine::session_data(const Call& c) const {
  bool done = !c.active();
  auto billed = done ? billed_seconds(c.plan) : 0;
  json::object d;
  d["session_id"] = c.session_id;
  d["agent_id"] = c.agent_id;
  d["agent_name"] = "Sim Agent " + c.agent_id.substr(0, 8);
  d["duration_seconds"] = billed;
  d["credits_used"] = json_number(static_cast<double>(billed) / 60.0);
  d["processing_complete"] = done;
  d["pipeline_completed_at"] = done ? iso_or_null(c.ended_at) : json::value(nullptr);
  d["transcript"] =
      done && c.answered_at ? make_transcript(c.plan, c.variables, *c.answered_at) : json::array{};
  d["recording_url"] =
      done && connects(c.plan.outcome)
          ? json::value("https://recordings.vocobase-sim.invalid/" + c.session_id + ".mp3")
          : json::value(nullptr);
  d["variables"] = c.variables;
  d["extraction"] = make_extraction(c.plan, done);
  d["call"] = json::object{
      {"call_id", c.call_id},
      {"from_number", c.from_number},
      {"to_number", c.to_number},
      {"direction", "outbound"},
      {"status", to_string(c.status)},
      {"disposition", done ? json::value(to_string(c.plan.outcome)) : json::value(nullptr)},
      {"answered_by", done ? json::value(to_string(c.plan.answered_by)) : json::value(nullptr)}};
  return d;
}

std::variant<json::value, ApiError> Engine::list_calls(std::optional<std::string_view> limit_s,
                                                       std::optional<std::string_view> offset_s,
                                                       std::optional<std::string_view> status_s,
                                                       const RequestFaults& faults) {
  std::int64_t limit = 20, offset = 0;
  if (limit_s) {
    auto v = parse_int(*limit_s);
    if (!v || *v < 1 || *v > 100) {
      return refuse(Refusal::validation, 400, "VALIDATION_ERROR",
                    "limit must be an integer from 1 to 100");
    }
    limit = *v;
  }
  if (offset_s) {
    auto v = parse_int(*offset_s);
    if (!v || *v < 0) {
      return refuse(Refusal::validation, 400, "VALIDATION_ERROR",
                    "offset must be a non-negative integer");
    }
    offset = *v;
  }
  std::optional<CallStatus> status;
  if (status_s) {
    status = from_string<CallStatus>(to_lower(*status_s));
    if (!status) {
      return refuse(Refusal::validation, 400, "VALIDATION_ERROR",
                    "status must be one of pending, ringing, in_progress, completed, failed, "
                    "no_answer, busy, canceled");
    }
  }
  json::array out;
  std::int64_t total = 0;
  for (auto it = calls_.rbegin(); it != calls_.rend(); ++it) {  // newest first
    if (status && it->status != *status) continue;
    if (total >= offset && total < offset + limit) out.push_back(call_json(*it));
    ++total;
  }
  if (faults.list_short_page && !out.empty()) {
    // The second half of the page is left out; `total` still counts it.
    out.resize(out.size() / 2);
    note_fault(Fault::list_short_page);
  }
  json::object data{{"calls", std::move(out)}, {"limit", limit}, {"offset", offset}};
  if (faults.list_no_total) {
    note_fault(Fault::list_no_total);
  } else {
    data["total"] = total;
  }
  return json::value(std::move(data));
}

std::variant<json::value, ApiError> Engine::get_call(std::string_view call_id) const {
  const Call* c = find_call(call_id);
  if (!c) return ApiError{404, "NOT_FOUND", "Call not found"};
  auto o = call_json(*c);
  bool done = !c->active();
  auto billed = done ? billed_seconds(c->plan) : 0;
  o["session"] = json::object{
      {"session_id", c->session_id},
      {"duration_seconds", billed},
      {"credits_used", json_number(static_cast<double>(billed) / 60.0)},
      {"transcript", done && c->answered_at
                         ? make_transcript(c->plan, c->variables, *c->answered_at)
                         : json::array{}},
      {"recording_url",
       done && connects(c->plan.outcome)
           ? json::value("https://recordings.vocobase-sim.invalid/" + c->session_id + ".mp3")
           : json::value(nullptr)},
      {"status", done ? "completed" : "active"},
      {"started_at", iso_or_null(c->answered_at)},
      {"ended_at", iso_or_null(c->ended_at)}};
  return json::value(std::move(o));
}

std::variant<json::value, ApiError> Engine::get_session(std::string_view session_id) const {
  auto it = by_session_id_.find(to_lower(session_id));
  if (it == by_session_id_.end()) return ApiError{404, "NOT_FOUND", "Session not found"};
  return json::value(session_data(calls_[it->second - calls_.front().seq]));
}

json::object Engine::config_data() const {
  json::array allowed;
  json::object telephony;
  for (auto p : allowed_) {
    allowed.emplace_back(to_string(p));
    bool configured = contains(configured_, p);
    telephony[to_string(p)] = json::object{
        {"configured", configured},
        {"from_number", configured ? json::value(from_number_of(p)) : json::value(nullptr)}};
  }
  json::array hooks;
  for (const auto& w : options_.webhooks) {
    hooks.push_back(json::object{
        {"url", w.url}, {"events", json::array{"session.completed"}}, {"active", true}});
  }
  json::value first = hooks.empty() ? json::value(nullptr) : hooks.front();
  return {{"name", "vocobase-sim"},
          {"display_name", "Vocobase Simulator"},
          {"status", "approved"},
          {"allowed_telephony_providers", std::move(allowed)},
          {"telephony", std::move(telephony)},
          {"webhook", std::move(first)},
          {"webhooks", std::move(hooks)},
          {"agent_limit", 10},
          {"credit_balance", json_number(credit_balance())}};
}

json::object Engine::concurrency_data() const {
  auto limit = static_cast<std::int64_t>(std::max(concurrency_limit_, 0));
  auto active = static_cast<std::int64_t>(active_);
  return {{"limit", limit},
          {"limit_source", "partner"},
          {"active", active},
          {"remaining", std::max<std::int64_t>(0, limit - active)},
          {"statuses_counted", json::array{"PENDING", "RINGING", "IN_PROGRESS"}}};
}

json::object Engine::stats_json(const WebhookStats& w) const {
  json::object numbers;
  for (const auto& [number, s] : numbers_) {
    numbers[number] = json::object{{"calls", s.calls}, {"max_concurrent", s.max_concurrent}};
  }
  json::object refused;
  for (std::size_t i = 0; i < kRefusalCount; ++i) refused[kRefusalNames[i]] = refused_[i];
  json::object outcomes;
  for (auto d : all_values<Disposition>()) {
    outcomes[to_string(d)] = outcomes_[static_cast<std::size_t>(d)];
  }
  json::object faults;
  for (auto f : all_faults()) faults[fault_name(f)] = faults_applied_[static_cast<std::size_t>(f)];
  faults["webhook_drop"] = w.dropped_by_fault;
  faults["webhook_duplicate"] = w.duplicated;
  faults["webhook_delay"] = w.delayed;
  faults["webhook_reorder"] = w.reordered;

  json::object out;
  out["calls_started"] = calls_started_;
  out["voicelink_syncs"] = voicelink_syncs_;
  out["voicelink_imports"] = voicelink_imports_;
  out["foreign"] = json::object{{"target", foreign_target_},
                                {"active", foreign_active_.size()},
                                {"started", foreign_started_},
                                {"waited_for_a_slot", foreign_refused_}};
  out["max_concurrent"] = max_concurrent_;
  out["limit_violations"] = limit_violations_;
  out["numbers"] = std::move(numbers);
  out["refused"] = std::move(refused);
  out["credits_spent"] = json_number(static_cast<double>(billed_seconds_) / 60.0);
  out["credit_balance"] = json_number(credit_balance());
  out["webhooks"] =
      json::object{{"sent", w.sent},           {"retried", w.retried},
                   {"dropped", w.dropped},     {"duplicated", w.duplicated},
                   {"failed", w.failed},       {"delivered", w.delivered},
                   {"exhausted", w.exhausted}, {"dropped_by_fault", w.dropped_by_fault},
                   {"overflow", w.overflow},   {"delayed", w.delayed},
                   {"reordered", w.reordered}, {"pending", w.pending}};
  out["requests"] = json::object{{"calls", requests_calls_}, {"general", requests_general_}};
  // Extensions beyond CONTRACT.md's list.
  out["active"] = active_;
  out["calls_ended"] = calls_ended_;
  out["billed_seconds"] = billed_seconds_;
  out["concurrency_limit"] = concurrency_limit_;
  out["outcomes"] = std::move(outcomes);
  out["faults"] = std::move(faults);
  return out;
}

std::optional<json::object> Engine::sim_call(std::string_view call_id) const {
  const Call* c = find_call(call_id);
  if (!c) return std::nullopt;
  auto o = call_json(*c);
  o["seq"] = c->seq;
  o["foreign"] = c->foreign;
  o["disposition"] = c->active() ? json::value(nullptr) : json::value(to_string(c->plan.outcome));
  o["answered_by"] =
      c->active() ? json::value(nullptr) : json::value(to_string(c->plan.answered_by));
  o["credits_used"] =
      json_number(c->active() ? 0.0 : static_cast<double>(billed_seconds(c->plan)) / 60.0);
  o["plan"] = json::object{{"outcome", to_string(c->plan.outcome)},
                           {"final_status", to_string(c->plan.final_status)},
                           {"answered_by", to_string(c->plan.answered_by)},
                           {"pending_ms", c->plan.pending_ms},
                           {"ring_ms", c->plan.ring_ms},
                           {"talk_ms", c->plan.talk_ms},
                           {"scripted", c->plan.scripted}};
  json::array history;
  for (const auto& [status, at] : c->history) {
    history.push_back(json::object{{"status", to_string(status)}, {"sim_ms", at}});
  }
  o["history"] = std::move(history);
  o["variables"] = c->variables;
  return o;
}

}  // namespace dialer::sim
