-- Webhooks (the same tables as PostgreSQL's migration 0012): chosen events POSTed to a URL
-- by the server. `cursor` is the last event id the webhook's deliveries were queued
-- through; the secret signs bodies, so it is kept as given (never shown after creation).
CREATE TABLE webhooks (
    id          INTEGER PRIMARY KEY,
    url         TEXT NOT NULL,
    events      TEXT NOT NULL,
    secret      TEXT,
    cursor      INTEGER NOT NULL,
    created_by  TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    removed_at  TEXT,
    removed_by  TEXT
);

-- One event on its way to one webhook: pending until a 2xx answer (delivered) or its last
-- attempt (failed). `next_attempt_at` is when it is due; while an attempt runs it is the end
-- of that attempt's lease.
CREATE TABLE webhook_deliveries (
    id               INTEGER PRIMARY KEY,
    uid              TEXT NOT NULL UNIQUE,
    webhook          INTEGER NOT NULL REFERENCES webhooks (id),
    event            INTEGER NOT NULL,
    action           TEXT NOT NULL,
    status           TEXT NOT NULL,
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  TEXT,
    last_status      INTEGER,
    last_error       TEXT,
    last_error_at    TEXT,
    created_at       TEXT NOT NULL,
    delivered_at     TEXT,
    UNIQUE (webhook, event)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at, id)
    WHERE status = 'pending';
