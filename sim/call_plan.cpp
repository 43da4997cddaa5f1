#include "sim/call_plan.hpp"

#include "sim/det_rng.hpp"

#include <algorithm>
#include <array>
#include <cmath>

namespace dialer::sim {

namespace json = boost::json;

bool connects(Disposition d) noexcept {
  return d == Disposition::completed || d == Disposition::voicemail ||
         d == Disposition::user_hangup_no_speech;
}

bool rings(Disposition d) noexcept {
  return d != Disposition::failed && d != Disposition::blocked;
}

CallStatus final_status_of(Disposition d) noexcept {
  switch (d) {
    case Disposition::completed:
    case Disposition::voicemail:
    case Disposition::user_hangup_no_speech:
      return CallStatus::completed;
    case Disposition::no_answer:
      return CallStatus::no_answer;
    case Disposition::busy:
      return CallStatus::busy;
    case Disposition::canceled:
      return CallStatus::canceled;
    case Disposition::blocked:
    case Disposition::failed:
      return CallStatus::failed;
  }
  return CallStatus::failed;
}

std::string error_message_of(Disposition d) {
  switch (d) {
    case Disposition::failed:
      return "Call failed: the provider could not place the call";
    case Disposition::blocked:
      return "Call blocked: the destination number is blocked";
    default:
      return {};
  }
}

namespace {

AnsweredBy answered_by_of(Disposition d) {
  switch (d) {
    case Disposition::completed:
      return AnsweredBy::human;
    case Disposition::voicemail:
      return AnsweredBy::machine;
    case Disposition::user_hangup_no_speech:
      return AnsweredBy::unknown;
    default:
      return AnsweredBy::not_answered;
  }
}

std::string cat(std::initializer_list<std::string_view> parts) {
  std::string out;
  for (auto p : parts) out.append(p);
  return out;
}

Disposition pick(double u, const OutcomeWeights& w) {
  double x = u * w.total();
  Disposition last = Disposition::completed;
  for (auto d : all_values<Disposition>()) {
    double wd = w.get(d);
    if (wd <= 0) continue;
    last = d;
    if (x < wd) return d;
    x -= wd;
  }
  return last;  // rounding at the top end
}

}  // namespace

CallPlan draw_call_plan(std::uint64_t seed, std::uint64_t call_seq, const OutcomeWeights& weights,
                        Millis duration_mean, const ScriptEntry* scripted) {
  DetRng rng(seed, RngStream::outcome, call_seq);
  // Every draw happens in a fixed order whatever the outcome, so one call's plan never depends
  // on which branch another took.
  double u_outcome = rng.uniform();
  SimMillis pending = rng.between(500, 2'500);
  SimMillis ring_answer = rng.between(3'000, 12'000);
  SimMillis ring_no_answer = rng.between(25'000, 35'000);
  SimMillis ring_busy = rng.between(1'000, 4'000);
  SimMillis ring_cancel = rng.between(2'000, 10'000);
  double talk_exp = rng.exponential(static_cast<double>(duration_mean.count()));
  SimMillis talk_voicemail = rng.between(10'000, 40'000);
  SimMillis talk_no_speech = rng.between(2'000, 8'000);
  std::uint64_t detail = rng.next();

  CallPlan plan;
  if (scripted) {
    plan.outcome = scripted->outcome;
    plan.scripted = true;
    plan.extraction = scripted->extraction;
  } else {
    plan.outcome = pick(u_outcome, weights);
  }
  plan.final_status = final_status_of(plan.outcome);
  plan.answered_by = answered_by_of(plan.outcome);
  plan.pending_ms = pending;
  plan.detail_seed = detail;
  switch (plan.outcome) {
    case Disposition::completed: {
      // At least one second; at most ten means, so one draw cannot stall a run.
      double capped = std::min(talk_exp, 10.0 * static_cast<double>(duration_mean.count()));
      plan.ring_ms = ring_answer;
      plan.talk_ms = std::max<SimMillis>(1'000, static_cast<SimMillis>(capped));
      break;
    }
    case Disposition::voicemail:
      plan.ring_ms = ring_answer;
      plan.talk_ms = talk_voicemail;
      break;
    case Disposition::user_hangup_no_speech:
      plan.ring_ms = ring_answer;
      plan.talk_ms = talk_no_speech;
      break;
    case Disposition::no_answer:
      plan.ring_ms = ring_no_answer;
      break;
    case Disposition::busy:
      plan.ring_ms = ring_busy;
      break;
    case Disposition::canceled:
      plan.ring_ms = ring_cancel;
      break;
    case Disposition::failed:
    case Disposition::blocked:
      break;
  }
  if (scripted && scripted->duration && connects(plan.outcome)) {
    plan.talk_ms = std::max<SimMillis>(0, scripted->duration->count());
  }
  return plan;
}

std::int64_t billed_seconds(const CallPlan& plan) noexcept {
  if (!connects(plan.outcome)) return 0;
  return (plan.talk_ms + 999) / 1000;
}

json::array make_transcript(const CallPlan& plan, const json::object& variables,
                            TimePoint answered_at) {
  json::array out;
  if (!connects(plan.outcome)) return out;
  DetRng rng(plan.detail_seed, RngStream::outcome, 1);
  std::string name;
  if (const auto* n = variables.if_contains("name"); n && n->is_string()) {
    name = cat({" ", std::string_view(n->get_string())});
  }
  std::vector<std::pair<const char*, std::string>> turns;
  switch (plan.outcome) {
    case Disposition::completed: {
      static constexpr std::array<const char*, 3> kReplies = {
          "Yes, go ahead.", "Sure, what is this about?", "I have a minute, tell me."};
      static constexpr std::array<const char*, 3> kAnswers = {
          "Yes, please call me back tomorrow morning.", "No, thank you, not interested.",
          "Maybe later, send me the details."};
      turns = {
          {"assistant", cat({"Hello", name,
                             ", this is Asha calling from Vocobase. Is this a good time "
                             "to talk?"})},
          {"user", kReplies[static_cast<std::size_t>(rng.between(0, 2))]},
          {"assistant",
           "Thank you. I am calling about your recent enquiry. Would you like a "
           "callback from our team?"},
          {"user", kAnswers[static_cast<std::size_t>(rng.between(0, 2))]},
          {"assistant", "Noted. Thank you for your time, have a great day!"},
      };
      break;
    }
    case Disposition::voicemail:
      turns = {{"assistant", cat({"Hi", name,
                                  ", this is Asha from Vocobase. Please call us back at "
                                  "your convenience. Thank you!"})}};
      break;
    default:  // user_hangup_no_speech
      turns = {{"assistant",
                cat({"Hello", name, ", this is Asha calling from Vocobase. Can you hear me?"})}};
      break;
  }
  auto step = plan.talk_ms / static_cast<SimMillis>(turns.size() + 1);
  for (std::size_t i = 0; i < turns.size(); ++i) {
    out.push_back(json::object{
        {"role", turns[i].first},
        {"content", turns[i].second},
        {"timestamp", format_iso8601(answered_at + Millis{step * static_cast<SimMillis>(i)})}});
  }
  return out;
}

json::object make_extraction(const CallPlan& plan, bool finished) {
  json::object values;
  if (!finished) return {{"status", "pending"}, {"values", json::object{}}};
  if (!connects(plan.outcome)) return {{"status", "skipped"}, {"values", json::object{}}};
  if (plan.extraction) return {{"status", "completed"}, {"values", *plan.extraction}};
  DetRng rng(plan.detail_seed, RngStream::outcome, 2);
  switch (plan.outcome) {
    case Disposition::completed: {
      static constexpr std::array<const char*, 3> kSentiments = {"positive", "neutral", "negative"};
      bool interested = rng.uniform() < 0.5;
      values["interested"] = interested;
      values["callback_requested"] = interested && rng.uniform() < 0.7;
      values["sentiment"] = kSentiments[static_cast<std::size_t>(rng.between(0, 2))];
      values["score"] = rng.between(1, 10);
      break;
    }
    case Disposition::voicemail:
      values["voicemail_left"] = true;
      break;
    default:
      values["speech_detected"] = false;
      break;
  }
  return {{"status", "completed"}, {"values", std::move(values)}};
}

}  // namespace dialer::sim
