#include "store/sql/schema.hpp"

#include <array>

namespace dialer::store {
namespace {

// Times are Unix milliseconds (INTEGER). Enum columns hold the names of core/enums.hpp.
constexpr std::string_view kV1 = R"sql(
CREATE TABLE campaigns (
  id                INTEGER PRIMARY KEY,
  name              TEXT NOT NULL UNIQUE,
  agent_id          TEXT NOT NULL,
  providers         TEXT NOT NULL,           -- JSON array of provider names, in order of preference
  provider_strategy TEXT NOT NULL DEFAULT 'failover' CHECK (provider_strategy IN ('failover','round_robin')),
  max_concurrency   INTEGER NOT NULL CHECK (max_concurrency >= 1),
  priority          INTEGER NOT NULL DEFAULT 0,
  weight            INTEGER NOT NULL DEFAULT 1 CHECK (weight >= 1),
  timezone          TEXT NOT NULL,
  window            TEXT NOT NULL,           -- JSON {days:[..], start:"09:00", end:"21:00", end_margin:"10m", holidays:[..]}
  max_attempts      INTEGER NOT NULL CHECK (max_attempts >= 1),
  retry             TEXT NOT NULL,           -- JSON {outcome: {delay:"30m", max:3}}
  dnc_on_blocked    INTEGER NOT NULL DEFAULT 1,
  budget_credits    REAL,
  auto_resume       INTEGER NOT NULL DEFAULT 1,
  description       TEXT NOT NULL DEFAULT '',
  state             TEXT NOT NULL DEFAULT 'draft'
                    CHECK (state IN ('draft','running','paused','credit_exhausted','completed','cancelled')),
  pause_reason      TEXT NOT NULL DEFAULT '' CHECK (pause_reason IN ('','manual','budget','errors')),
  credits_used      REAL NOT NULL DEFAULT 0,
  created_at        INTEGER NOT NULL,
  updated_at        INTEGER NOT NULL,
  started_at        INTEGER,
  completed_at      INTEGER
);

-- One row per contacts-import, kept as its history. The import writes its rows as 'staged'
-- contacts in short transactions (the event loop keeps writing between them); setting the import
-- 'committed' is its commit point, after which its staged rows are flipped to queued/skipped in
-- short transactions. A 'running' import at startup was cut off: its staged rows are deleted; a
-- 'committed' one with staged rows left was cut off mid-flip: the flip is finished
-- (store/import_recovery.hpp).
CREATE TABLE imports (
  id          INTEGER PRIMARY KEY,
  campaign_id INTEGER NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,
  state       TEXT NOT NULL DEFAULT 'running' CHECK (state IN ('running','committed','failed')),
  started_at  INTEGER NOT NULL,
  finished_at INTEGER,
  report      TEXT                            -- JSON: the import report, or {"error": …} if failed
);
CREATE INDEX imports_campaign ON imports(campaign_id, state);

CREATE TABLE contacts (
  id              INTEGER PRIMARY KEY,
  campaign_id     INTEGER NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,
  phone           TEXT NOT NULL,             -- E.164
  number_type     TEXT NOT NULL DEFAULT 'unknown',
  verified        INTEGER NOT NULL DEFAULT 1, -- 0: possible but not valid per libphonenumber
  region          TEXT NOT NULL DEFAULT '',  -- ISO 3166 region of the number ('' unknown)
  name            TEXT NOT NULL DEFAULT '',
  zones           TEXT NOT NULL DEFAULT '',  -- IANA zone, or several joined by ','; '' = campaign zone
  variables       TEXT NOT NULL DEFAULT '{}',-- JSON object of pre-call variables
  -- 'staged': written by an import not yet flipped (see imports); store-internal, invisible to
  -- every reader but the importer and recovery, and not a value of core/enums.hpp ContactState.
  state           TEXT NOT NULL DEFAULT 'queued'
                  CHECK (state IN ('queued','dialing','in_call','done','exhausted','skipped','staged')),
  reason          TEXT NOT NULL DEFAULT '',
  attempts        INTEGER NOT NULL DEFAULT 0, -- attempts that count toward max_attempts
  next_attempt_at INTEGER NOT NULL DEFAULT 0, -- due when <= now
  last_outcome    TEXT,
  source_line     INTEGER,                    -- CSV line the contact came from
  -- The import that added the contact. No index on it alone: an imports row is deleted only with
  -- its campaign, whose contacts go with it.
  import_id       INTEGER REFERENCES imports(id),
  created_at      INTEGER NOT NULL,
  updated_at      INTEGER NOT NULL,
  UNIQUE (campaign_id, phone)
);
-- The next due contact of a campaign: one index seek, O(log n).
CREATE INDEX contacts_due ON contacts(campaign_id, next_attempt_at, id) WHERE state = 'queued';
-- Counts by state and "any contact still queued?" without touching the table. Imports append at
-- its right edge (same campaign, state, rising rowid), so it costs them little. Lookups by phone
-- across campaigns (DNC) use the UNIQUE (campaign_id, phone) index once per campaign instead of
-- a separate phone index, which every imported row would pay for at a random position.
CREATE INDEX contacts_state ON contacts(campaign_id, state);
-- An import's staged rows, for the flip and the clean-up; empty once no import is in progress.
CREATE INDEX contacts_staged ON contacts(import_id) WHERE state = 'staged';

CREATE TABLE attempts (
  id               INTEGER PRIMARY KEY,
  campaign_id      INTEGER NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,
  contact_id       INTEGER NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
  state            TEXT NOT NULL
                   CHECK (state IN ('reserved','started','ambiguous','finished','rejected','void','lost')),
  counted          INTEGER NOT NULL DEFAULT 0, -- counts toward the contact's attempts
  provider         TEXT NOT NULL,
  to_number        TEXT NOT NULL,
  agent_id         TEXT NOT NULL,
  call_id          TEXT UNIQUE,
  session_id       TEXT UNIQUE,
  reserved_at      INTEGER NOT NULL,          -- committed before the request is written
  sent_at          INTEGER,
  started_at       INTEGER,                   -- 200 received
  ended_at         INTEGER,                   -- outcome known / lost / rejected / void
  status           TEXT,                      -- Vocobase call status
  disposition      TEXT,
  outcome          TEXT,                      -- disposition, else status, or 'lost'
  answered_by      TEXT,
  duration_seconds REAL,
  credits_used     REAL,
  error_code       TEXT,                      -- classification of a refused/ambiguous start
  error            TEXT,                      -- human text of the last error
  result           TEXT                       -- JSON of the final session data (transcript, extraction…)
);
CREATE INDEX attempts_open ON attempts(state) WHERE state IN ('reserved','started','ambiguous');
CREATE INDEX attempts_contact ON attempts(contact_id);
CREATE INDEX attempts_campaign ON attempts(campaign_id, state);

CREATE TABLE webhook_inbox (
  id          INTEGER PRIMARY KEY,
  session_id  TEXT NOT NULL UNIQUE,
  call_id     TEXT,
  body        TEXT NOT NULL,                  -- the raw, verified request body
  received_at INTEGER NOT NULL,
  applied_at  INTEGER
);
CREATE INDEX webhook_inbox_unapplied ON webhook_inbox(id) WHERE applied_at IS NULL;

CREATE TABLE dnc (
  phone    TEXT PRIMARY KEY,                  -- E.164
  reason   TEXT NOT NULL DEFAULT '',
  source   TEXT NOT NULL DEFAULT '',          -- admin | blocked | import
  added_at INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE audit_log (
  id      INTEGER PRIMARY KEY,
  at      INTEGER NOT NULL,
  actor   TEXT NOT NULL,                      -- 'uid:1000', 'scheduler', 'system'
  action  TEXT NOT NULL,                      -- 'campaign-start', 'transition', …
  subject TEXT NOT NULL DEFAULT '',           -- 'campaign:spring', 'contact:42', 'attempt:7'
  detail  TEXT NOT NULL DEFAULT '{}',         -- JSON, secrets never included
  result  TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_log_at ON audit_log(at);

CREATE TABLE kv (                             -- small daemon state: last known credit balance, …
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
) WITHOUT ROWID;
)sql";

// Scheduled start and end of a campaign (issue 14): unix ms, NULL = none.
constexpr std::string_view kV2 = R"sql(
ALTER TABLE campaigns ADD COLUMN start_at INTEGER;
ALTER TABLE campaigns ADD COLUMN end_at INTEGER;
-- The extraction key of requested callbacks (issue 14); '' = none.
ALTER TABLE campaigns ADD COLUMN callback_field TEXT NOT NULL DEFAULT '';
)sql";

// PostgreSQL: the same tables in its dialect. Integers are BIGINT (SQLite's INTEGER is 64-bit:
// times are Unix milliseconds), REAL is DOUBLE PRECISION, ids are identity columns, and text
// compares bytewise (COLLATE "C", as SQLite does) whatever the database's locale. `window` is a
// reserved word here: the repositories quote it.
constexpr std::string_view kPgV1 = R"sql(
CREATE TABLE campaigns (
  id                BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
  name              TEXT COLLATE "C" NOT NULL UNIQUE,
  agent_id          TEXT NOT NULL,
  providers         TEXT NOT NULL,
  provider_strategy TEXT NOT NULL DEFAULT 'failover' CHECK (provider_strategy IN ('failover','round_robin')),
  max_concurrency   BIGINT NOT NULL CHECK (max_concurrency >= 1),
  priority          BIGINT NOT NULL DEFAULT 0,
  weight            BIGINT NOT NULL DEFAULT 1 CHECK (weight >= 1),
  timezone          TEXT NOT NULL,
  "window"          TEXT NOT NULL,
  max_attempts      BIGINT NOT NULL CHECK (max_attempts >= 1),
  retry             TEXT NOT NULL,
  dnc_on_blocked    BIGINT NOT NULL DEFAULT 1,
  budget_credits    DOUBLE PRECISION,
  auto_resume       BIGINT NOT NULL DEFAULT 1,
  description       TEXT NOT NULL DEFAULT '',
  state             TEXT NOT NULL DEFAULT 'draft'
                    CHECK (state IN ('draft','running','paused','credit_exhausted','completed','cancelled')),
  pause_reason      TEXT NOT NULL DEFAULT '' CHECK (pause_reason IN ('','manual','budget','errors')),
  credits_used      DOUBLE PRECISION NOT NULL DEFAULT 0,
  created_at        BIGINT NOT NULL,
  updated_at        BIGINT NOT NULL,
  started_at        BIGINT,
  completed_at      BIGINT
);

CREATE TABLE imports (
  id          BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
  campaign_id BIGINT NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,
  state       TEXT NOT NULL DEFAULT 'running' CHECK (state IN ('running','committed','failed')),
  started_at  BIGINT NOT NULL,
  finished_at BIGINT,
  report      TEXT
);
CREATE INDEX imports_campaign ON imports(campaign_id, state);

CREATE TABLE contacts (
  id              BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
  campaign_id     BIGINT NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,
  phone           TEXT COLLATE "C" NOT NULL,
  number_type     TEXT NOT NULL DEFAULT 'unknown',
  verified        BIGINT NOT NULL DEFAULT 1,
  region          TEXT NOT NULL DEFAULT '',
  name            TEXT NOT NULL DEFAULT '',
  zones           TEXT NOT NULL DEFAULT '',
  variables       TEXT NOT NULL DEFAULT '{}',
  state           TEXT NOT NULL DEFAULT 'queued'
                  CHECK (state IN ('queued','dialing','in_call','done','exhausted','skipped','staged')),
  reason          TEXT NOT NULL DEFAULT '',
  attempts        BIGINT NOT NULL DEFAULT 0,
  next_attempt_at BIGINT NOT NULL DEFAULT 0,
  last_outcome    TEXT,
  source_line     BIGINT,
  import_id       BIGINT REFERENCES imports(id),
  created_at      BIGINT NOT NULL,
  updated_at      BIGINT NOT NULL,
  UNIQUE (campaign_id, phone)
);
CREATE INDEX contacts_due ON contacts(campaign_id, next_attempt_at, id) WHERE state = 'queued';
CREATE INDEX contacts_state ON contacts(campaign_id, state);
CREATE INDEX contacts_staged ON contacts(import_id) WHERE state = 'staged';

CREATE TABLE attempts (
  id               BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
  campaign_id      BIGINT NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,
  contact_id       BIGINT NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
  state            TEXT NOT NULL
                   CHECK (state IN ('reserved','started','ambiguous','finished','rejected','void','lost')),
  counted          BIGINT NOT NULL DEFAULT 0,
  provider         TEXT NOT NULL,
  to_number        TEXT COLLATE "C" NOT NULL,
  agent_id         TEXT NOT NULL,
  call_id          TEXT UNIQUE,
  session_id       TEXT UNIQUE,
  reserved_at      BIGINT NOT NULL,
  sent_at          BIGINT,
  started_at       BIGINT,
  ended_at         BIGINT,
  status           TEXT,
  disposition      TEXT,
  outcome          TEXT,
  answered_by      TEXT,
  duration_seconds DOUBLE PRECISION,
  credits_used     DOUBLE PRECISION,
  error_code       TEXT,
  error            TEXT,
  result           TEXT
);
CREATE INDEX attempts_open ON attempts(state) WHERE state IN ('reserved','started','ambiguous');
CREATE INDEX attempts_contact ON attempts(contact_id);
CREATE INDEX attempts_campaign ON attempts(campaign_id, state);

CREATE TABLE webhook_inbox (
  id          BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
  session_id  TEXT NOT NULL UNIQUE,
  call_id     TEXT,
  body        TEXT NOT NULL,
  received_at BIGINT NOT NULL,
  applied_at  BIGINT
);
CREATE INDEX webhook_inbox_unapplied ON webhook_inbox(id) WHERE applied_at IS NULL;

CREATE TABLE dnc (
  phone    TEXT COLLATE "C" PRIMARY KEY,
  reason   TEXT NOT NULL DEFAULT '',
  source   TEXT NOT NULL DEFAULT '',
  added_at BIGINT NOT NULL
);

CREATE TABLE audit_log (
  id      BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
  at      BIGINT NOT NULL,
  actor   TEXT NOT NULL,
  action  TEXT NOT NULL,
  subject TEXT NOT NULL DEFAULT '',
  detail  TEXT NOT NULL DEFAULT '{}',
  result  TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_log_at ON audit_log(at);

CREATE TABLE kv (
  key   TEXT COLLATE "C" PRIMARY KEY,
  value TEXT NOT NULL
);
)sql";

constexpr std::string_view kPgV2 = R"sql(
ALTER TABLE campaigns ADD COLUMN start_at BIGINT;
ALTER TABLE campaigns ADD COLUMN end_at BIGINT;
ALTER TABLE campaigns ADD COLUMN callback_field TEXT NOT NULL DEFAULT '';
)sql";

// The leader lease of two dialerd on one PostgreSQL (store/postgresql/lease.hpp): its epoch is
// bumped by every takeover, and every reservation checks it (fencing). Kept in SQLite too, unused,
// so both schemas stay one.
constexpr std::string_view kV3 = R"sql(
CREATE TABLE dialer_lease (
  id     INTEGER PRIMARY KEY CHECK (id = 1),
  epoch  INTEGER NOT NULL,
  holder TEXT NOT NULL,
  since  INTEGER NOT NULL
);
INSERT INTO dialer_lease (id, epoch, holder, since) VALUES (1, 0, '', 0);
)sql";

constexpr std::string_view kPgV3 = R"sql(
CREATE TABLE dialer_lease (
  id     BIGINT PRIMARY KEY CHECK (id = 1),
  epoch  BIGINT NOT NULL,
  holder TEXT NOT NULL,
  since  BIGINT NOT NULL
);
INSERT INTO dialer_lease (id, epoch, holder, since) VALUES (1, 0, '', 0);
)sql";

constexpr std::array<std::string_view, 3> kSteps{kV1, kV2, kV3};
constexpr std::array<std::string_view, 3> kPgSteps{kPgV1, kPgV2, kPgV3};
static_assert(kSteps.size() == kPgSteps.size(), "both backends have every migration");

}  // namespace

std::span<const std::string_view> schema_steps(Backend backend) noexcept {
  if (backend == Backend::postgresql) return kPgSteps;
  return kSteps;
}
int current_schema_version() noexcept {
  return static_cast<int>(kSteps.size());
}

}  // namespace dialer::store
