-- Agents appear on first use; project settings (lease_ttl, max_retries, ...).
CREATE TABLE agents (
    name        TEXT PRIMARY KEY,
    first_seen  TEXT NOT NULL,
    last_seen   TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE settings (
    key     TEXT PRIMARY KEY,
    value   TEXT NOT NULL
) WITHOUT ROWID;

-- No index on events.actor/action: every event would pay for them, and filtering the log by
-- actor or action is an occasional audit query that a scan answers.
