-- The task board: project, tasks, dependencies, notes, and the append-only event log.
CREATE TABLE project (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    name        TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    next_task   INTEGER NOT NULL DEFAULT 1
);

CREATE TABLE tasks (
    id                  INTEGER PRIMARY KEY,
    title               TEXT NOT NULL,
    description         TEXT NOT NULL DEFAULT '',
    status              TEXT NOT NULL,
    blocked_reason      TEXT,
    priority            INTEGER NOT NULL,
    assignee            TEXT,
    epic                TEXT,
    capabilities        TEXT NOT NULL DEFAULT '[]',
    verify              TEXT,
    acceptance_criteria TEXT NOT NULL DEFAULT '[]',
    context_refs        TEXT NOT NULL DEFAULT '[]',
    files               TEXT NOT NULL DEFAULT '[]',
    retry_count         INTEGER NOT NULL DEFAULT 0,
    fence               INTEGER NOT NULL DEFAULT 0,
    lease_expires_at    TEXT,
    created_at          TEXT NOT NULL,
    updated_at          TEXT NOT NULL,
    started_at          TEXT,
    completed_at        TEXT,
    deleted_at          TEXT
);
-- The ready queue: open tasks by priority, then age.
CREATE INDEX tasks_queue ON tasks (status, priority, id) WHERE deleted_at IS NULL;
CREATE INDEX tasks_assignee ON tasks (assignee) WHERE assignee IS NOT NULL;

CREATE TABLE task_deps (
    task        INTEGER NOT NULL REFERENCES tasks (id),
    depends_on  INTEGER NOT NULL REFERENCES tasks (id),
    position    INTEGER NOT NULL,
    PRIMARY KEY (task, depends_on)
) WITHOUT ROWID;
CREATE INDEX task_deps_reverse ON task_deps (depends_on, task);

CREATE TABLE task_notes (
    id      INTEGER PRIMARY KEY,
    task    INTEGER NOT NULL REFERENCES tasks (id),
    author  TEXT NOT NULL,
    at      TEXT NOT NULL,
    text    TEXT NOT NULL
);
CREATE INDEX task_notes_task ON task_notes (task, id);

-- Ids are never reused without AUTOINCREMENT because rows are never deleted (see triggers).
CREATE TABLE events (
    id      INTEGER PRIMARY KEY,
    at      TEXT NOT NULL,
    actor   TEXT NOT NULL,
    action  TEXT NOT NULL,
    task    INTEGER,
    detail  TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX events_task ON events (task, id) WHERE task IS NOT NULL;

CREATE TRIGGER events_no_update BEFORE UPDATE ON events
BEGIN SELECT RAISE(ABORT, 'the event log is append-only'); END;
CREATE TRIGGER events_no_delete BEFORE DELETE ON events
BEGIN SELECT RAISE(ABORT, 'the event log is append-only'); END;
