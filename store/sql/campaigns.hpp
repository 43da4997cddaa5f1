#pragma once
/// SQLite implementation of store/campaign_repo.hpp.

#include "store/campaign_repo.hpp"
#include "store/sql/database.hpp"

namespace dialer::store {

class SqlCampaigns final : public CampaignRepo {
 public:
  explicit SqlCampaigns(Database& db) : db_(db) {}

  Result<std::int64_t> create(const CampaignSpec& spec, TimePoint now) override;
  Result<std::optional<CampaignRow>> find(std::string_view name_or_id) override;
  Result<std::optional<CampaignRow>> get(std::int64_t id) override;
  Result<std::vector<CampaignRow>> list() override;
  Result<std::vector<CampaignRow>> list_in_state(CampaignState state) override;
  Result<void> update_spec(std::int64_t id, const CampaignSpec& spec, TimePoint now) override;
  Result<bool> remove_draft(std::int64_t id) override;
  Result<void> set_state(std::int64_t id, CampaignState state, PauseReason pause_reason,
                         TimePoint now) override;
  Result<void> add_credits_used(std::int64_t id, double delta) override;

 private:
  Database& db_;
};

}  // namespace dialer::store
