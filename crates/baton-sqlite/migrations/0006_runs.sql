-- Runs of agent CLIs by `baton runner` (each written before its process starts), their
-- output (bounded), and the state of the runners' provider accounts (never their secrets).
CREATE TABLE runs (
    id                  INTEGER PRIMARY KEY,
    task                INTEGER NOT NULL REFERENCES tasks (id),
    agent               TEXT NOT NULL,
    provider            TEXT NOT NULL,
    account             TEXT,
    attempt             INTEGER NOT NULL,
    runner              TEXT NOT NULL,
    host                TEXT NOT NULL,
    status              TEXT NOT NULL,
    pid                 INTEGER,
    pgid                INTEGER,
    process_start       INTEGER,
    worktree            TEXT,
    branch              TEXT,
    session             TEXT,
    spool               TEXT,
    started_at          TEXT NOT NULL,
    updated_at          TEXT NOT NULL,
    ended_at            TEXT,
    input_tokens        INTEGER NOT NULL DEFAULT 0,
    output_tokens       INTEGER NOT NULL DEFAULT 0,
    cache_read_tokens   INTEGER NOT NULL DEFAULT 0,
    cache_write_tokens  INTEGER NOT NULL DEFAULT 0,
    reasoning_tokens    INTEGER NOT NULL DEFAULT 0,
    cost_micros         INTEGER,
    turns               INTEGER,
    final_text          TEXT,
    reason              TEXT,
    stop_requested      INTEGER NOT NULL DEFAULT 0,
    log_lines           INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX runs_task ON runs (task, id);
CREATE INDEX runs_status ON runs (status, id);

CREATE TABLE run_logs (
    run     INTEGER NOT NULL REFERENCES runs (id),
    seq     INTEGER NOT NULL,
    at      TEXT NOT NULL,
    line    TEXT NOT NULL,
    PRIMARY KEY (run, seq)
) WITHOUT ROWID;

CREATE TABLE runner_accounts (
    provider        TEXT NOT NULL,
    name            TEXT NOT NULL,
    status          TEXT NOT NULL,
    until           TEXT,
    reason          TEXT,
    last_used_at    TEXT,
    updated_at      TEXT NOT NULL,
    PRIMARY KEY (provider, name)
) WITHOUT ROWID;
