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

CREATE INDEX events_actor ON events (actor, id);
CREATE INDEX events_action ON events (action, id);
