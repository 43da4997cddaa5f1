#pragma once
/// How a simulated call will unfold, drawn up front when the call is created: the outcome,
/// the time spent in each status and the talk time. The draw depends only on the seed, the
/// call's sequence number and (for scripted numbers) the script entry — never on wall time.

#include "core/enums.hpp"
#include "core/time.hpp"
#include "sim/options.hpp"
#include "sim/sim_clock.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <cstdint>
#include <string>

namespace dialer::sim {

/// The plan of one call.
struct CallPlan {
  Disposition outcome = Disposition::completed;
  CallStatus final_status = CallStatus::completed;
  AnsweredBy answered_by = AnsweredBy::not_answered;
  /// Time in `pending` before ringing (or before failing, for failed/blocked).
  SimMillis pending_ms = 0;
  /// Time in `ringing` before being answered or ending; 0 when the call never rings.
  SimMillis ring_ms = 0;
  /// Time in `in_progress`; 0 when the call never connects.
  SimMillis talk_ms = 0;
  /// Seed of the transcript and extraction details.
  std::uint64_t detail_seed = 0;
  bool scripted = false;
  /// Scripted extraction values (ScriptEntry::extraction).
  std::optional<boost::json::object> extraction{};

  bool operator==(const CallPlan&) const = default;
};

/// Outcomes where the callee's side picked up (billed, transcript, in_progress reached).
bool connects(Disposition d) noexcept;
/// Outcomes where the phone rang.
bool rings(Disposition d) noexcept;
/// The call status a call with this outcome ends in (blocked → failed, voicemail → completed…).
CallStatus final_status_of(Disposition d) noexcept;
/// `error_message` of a call with this outcome ("" when none).
std::string error_message_of(Disposition d);

/// Draws the plan of call number `call_seq` (1-based since start or reset). A script entry,
/// when given, fixes the outcome (and the talk time when it has one).
CallPlan draw_call_plan(std::uint64_t seed, std::uint64_t call_seq, const OutcomeWeights& weights,
                        Millis duration_mean, const ScriptEntry* scripted);

/// Billed whole seconds of talk (rounded up; 0 when the call never connected).
std::int64_t billed_seconds(const CallPlan& plan) noexcept;

/// A small made-up transcript for a connected call (empty otherwise). Turn timestamps start at
/// `answered_at`.
boost::json::array make_transcript(const CallPlan& plan, const boost::json::object& variables,
                                   TimePoint answered_at);
/// `extraction` of the session: {status, values}.
boost::json::object make_extraction(const CallPlan& plan, bool finished);

}  // namespace dialer::sim
