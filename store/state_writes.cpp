#include "store/state_writes.hpp"

namespace dialer::store {

AttemptChange AttemptChange::finished(const FinishedCall& c) {
  AttemptChange a;
  a.counted = true;
  a.status = c.status;
  a.disposition = c.disposition;
  a.outcome = c.outcome;
  a.answered_by = c.answered_by;
  a.duration_seconds = c.duration_seconds;
  a.credits_used = c.credits_used;
  a.result_json = c.result_json;
  a.ended_at = c.ended_at;
  return a;
}

}  // namespace dialer::store
