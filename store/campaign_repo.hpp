#pragma once
/// Campaigns: their fields (core/campaign_spec.hpp), lifecycle state and spend.

#include "core/campaign_spec.hpp"
#include "core/enums.hpp"
#include "core/errc.hpp"
#include "core/time.hpp"

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace dialer::store {

struct CampaignRow {
  std::int64_t id = 0;
  CampaignSpec spec;
  CampaignState state = CampaignState::draft;
  PauseReason pause_reason = PauseReason::none;
  double credits_used = 0;
  TimePoint created_at;
  TimePoint updated_at;
  std::optional<TimePoint> started_at;    ///< first time it went running
  std::optional<TimePoint> completed_at;  ///< when it became completed or cancelled

  bool operator==(const CampaignRow&) const = default;
};

class CampaignRepo {
 public:
  virtual ~CampaignRepo() = default;

  /// Stores a new draft campaign and returns its id; errc::duplicate when the name is taken.
  virtual Result<std::int64_t> create(const CampaignSpec& spec, TimePoint now) = 0;
  /// By name, else (when the text is all digits) by id — the admin `campaign` argument.
  virtual Result<std::optional<CampaignRow>> find(std::string_view name_or_id) = 0;
  virtual Result<std::optional<CampaignRow>> get(std::int64_t id) = 0;
  /// Every campaign in id order.
  virtual Result<std::vector<CampaignRow>> list() = 0;
  /// Campaigns in one state, in id order (e.g. every running one).
  virtual Result<std::vector<CampaignRow>> list_in_state(CampaignState state) = 0;
  /// Replaces the fields; errc::not_found, or errc::duplicate when renamed onto a taken name.
  virtual Result<void> update_spec(std::int64_t id, const CampaignSpec& spec, TimePoint now) = 0;
  /// Deletes a campaign that is still a draft, its contacts and imports with it (ON DELETE
  /// CASCADE); false when it is no draft (nothing deleted).
  virtual Result<bool> remove_draft(std::int64_t id) = 0;
  /// Writes state and pause reason (whether the move is allowed is the scheduler's table).
  /// Sets started_at the first time it becomes running, completed_at when it becomes completed
  /// or cancelled. errc::not_found for an unknown id.
  virtual Result<void> set_state(std::int64_t id, CampaignState state, PauseReason pause_reason,
                                 TimePoint now) = 0;
  /// credits_used += delta (outcomes report spend per call).
  virtual Result<void> add_credits_used(std::int64_t id, double delta) = 0;

 protected:
  CampaignRepo() = default;
  CampaignRepo(const CampaignRepo&) = delete;
  CampaignRepo& operator=(const CampaignRepo&) = delete;
};

}  // namespace dialer::store
