-- Sessions (the same table as PostgreSQL's migration 0009): a span of work by one
-- identity, a person's (`baton session start`) or an agent's run. Every event written by an
-- identity while its session is open carries the session.
CREATE TABLE sessions (
    id          INTEGER PRIMARY KEY,
    identity    TEXT NOT NULL,
    purpose     TEXT,
    kind        TEXT NOT NULL,
    tool        TEXT,
    run         INTEGER REFERENCES runs (id),
    started_at  TEXT NOT NULL,
    ended_at    TEXT,
    ended_by    TEXT,
    end_reason  TEXT
);
CREATE INDEX sessions_open ON sessions (identity, id) WHERE ended_at IS NULL;
CREATE INDEX sessions_run ON sessions (run) WHERE run IS NOT NULL;
CREATE INDEX sessions_started ON sessions (started_at, id);

ALTER TABLE events ADD COLUMN session INTEGER;
CREATE INDEX events_session ON events (session, id) WHERE session IS NOT NULL;

-- What agents export over OpenTelemetry (OTLP), one row per series: a run (0: none), the
-- agent, the metric's name and its point attributes (canonical JSON). Delta sums add up,
-- cumulative sums and gauges keep the latest value; histograms keep their sum and count.
CREATE TABLE telemetry (
    id          INTEGER PRIMARY KEY,
    run         INTEGER NOT NULL DEFAULT 0,
    agent       TEXT NOT NULL DEFAULT '',
    task        INTEGER,
    name        TEXT NOT NULL,
    attributes  TEXT NOT NULL,
    unit        TEXT,
    kind        TEXT NOT NULL,
    value       TEXT NOT NULL,
    count       INTEGER,
    points      INTEGER NOT NULL,
    first_at    TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    UNIQUE (run, agent, name, attributes)
);
