-- Failed logins per account (`user:<name>`) and per address (`addr:<ip>`), kept in the
-- store (the same table as SQLite's migration 0014) so that every server on it counts
-- the same failures: after a few, each further attempt waits longer, whichever server it
-- reaches and across restarts. A success clears its keys; calm rows are forgotten.
CREATE TABLE login_failures (
    key         TEXT PRIMARY KEY,
    failures    BIGINT NOT NULL,
    wait_until  TEXT NOT NULL,
    last_at     TEXT NOT NULL
);
CREATE INDEX login_failures_last ON login_failures (last_at);
