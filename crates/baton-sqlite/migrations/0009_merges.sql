-- Merges of task, phase and initiative branches up the chain (the same table as
-- PostgreSQL's migration 0008). Runners claim them and report what git did.
CREATE TABLE merges (
    id          INTEGER PRIMARY KEY,
    kind        TEXT NOT NULL,
    task        INTEGER REFERENCES tasks (id),
    phase       INTEGER REFERENCES phases (id),
    initiative  INTEGER REFERENCES initiatives (id),
    source      TEXT NOT NULL,
    target      TEXT NOT NULL,
    state       TEXT NOT NULL,
    strategy    TEXT NOT NULL,
    resolves    INTEGER REFERENCES merges (id),
    resolved_by INTEGER,
    merge_task  INTEGER REFERENCES tasks (id),
    base        TEXT,
    source_head TEXT,
    target_head TEXT,
    result      TEXT,
    conflicts   TEXT,
    error       TEXT,
    attempts    INTEGER NOT NULL DEFAULT 0,
    runner      TEXT,
    lease_until TEXT,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
CREATE INDEX merges_state ON merges (state, id);
CREATE INDEX merges_target ON merges (target, state);
CREATE INDEX merges_task ON merges (task, id) WHERE task IS NOT NULL;
CREATE INDEX merges_merge_task ON merges (merge_task) WHERE merge_task IS NOT NULL;

-- Errands: one agent on a branch off the default branch, no task board around it.
CREATE TABLE errands (
    id          INTEGER PRIMARY KEY,
    title       TEXT NOT NULL,
    branch      TEXT NOT NULL UNIQUE,
    base_branch TEXT NOT NULL,
    status      TEXT NOT NULL,
    provider    TEXT,
    agent       TEXT,
    session     TEXT,
    base        TEXT,
    result      TEXT,
    conflicts   TEXT,
    reason      TEXT,
    created_by  TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    -- What a person asked that a runner has not done yet (start, chat, merge), and the
    -- runner doing it under a lease.
    request      TEXT,
    request_text TEXT,
    requested_by TEXT,
    claimed_by   TEXT,
    lease_until  TEXT,
    reply        TEXT
);
CREATE INDEX errands_status ON errands (status, id);
CREATE INDEX errands_request ON errands (request, updated_at);
