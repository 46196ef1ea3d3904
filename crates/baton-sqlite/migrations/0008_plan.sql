-- The plan above tasks: initiatives made of phases (a DAG) made of tasks, review comments
-- and proposals. A task's `gated` is computed by core from its phase (the gate) and only
-- filters the ready queue, as `status` does.
ALTER TABLE tasks ADD COLUMN initiative INTEGER;
ALTER TABLE tasks ADD COLUMN phase INTEGER;
ALTER TABLE tasks ADD COLUMN parent INTEGER;
ALTER TABLE tasks ADD COLUMN category TEXT NOT NULL DEFAULT 'execute';
ALTER TABLE tasks ADD COLUMN summary TEXT;
ALTER TABLE tasks ADD COLUMN gated INTEGER NOT NULL DEFAULT 0;
CREATE INDEX tasks_phase ON tasks (phase, status) WHERE phase IS NOT NULL;
CREATE INDEX tasks_initiative ON tasks (initiative) WHERE initiative IS NOT NULL;
CREATE INDEX tasks_parent ON tasks (parent) WHERE parent IS NOT NULL;
CREATE INDEX tasks_gated ON tasks (id) WHERE gated = 1;
-- The ready queue: open tasks whose gate is open, by priority, then age.
CREATE INDEX tasks_ready ON tasks (priority, id)
    WHERE status = 'open' AND gated = 0 AND deleted_at IS NULL;

CREATE TABLE initiatives (
    id                      INTEGER PRIMARY KEY,
    name                    TEXT NOT NULL,
    description             TEXT NOT NULL DEFAULT '',
    status                  TEXT NOT NULL,
    merge_requires_approval INTEGER NOT NULL,
    branch                  TEXT NOT NULL UNIQUE,
    repositories            TEXT NOT NULL DEFAULT '[]',
    created_by              TEXT NOT NULL,
    created_at              TEXT NOT NULL,
    updated_at              TEXT NOT NULL
);

CREATE TABLE phases (
    id              INTEGER PRIMARY KEY,
    initiative      INTEGER NOT NULL REFERENCES initiatives (id),
    name            TEXT NOT NULL,
    content         TEXT NOT NULL DEFAULT '',
    status          TEXT NOT NULL,
    blocked_reason  TEXT,
    approved_at     TEXT,
    position        INTEGER NOT NULL,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);
CREATE INDEX phases_initiative ON phases (initiative, position, id);

CREATE TABLE phase_deps (
    phase       INTEGER NOT NULL REFERENCES phases (id),
    depends_on  INTEGER NOT NULL REFERENCES phases (id),
    PRIMARY KEY (phase, depends_on)
);
CREATE INDEX phase_deps_reverse ON phase_deps (depends_on, phase);

CREATE TABLE review_comments (
    id          INTEGER PRIMARY KEY,
    phase       INTEGER REFERENCES phases (id),
    task        INTEGER REFERENCES tasks (id),
    reply_to    INTEGER REFERENCES review_comments (id),
    file        TEXT,
    line        INTEGER,
    side        TEXT,
    body        TEXT NOT NULL,
    author      TEXT NOT NULL,
    resolved    INTEGER NOT NULL DEFAULT 0,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
CREATE INDEX review_comments_phase ON review_comments (phase, id) WHERE phase IS NOT NULL;
CREATE INDEX review_comments_task ON review_comments (task, id) WHERE task IS NOT NULL;

CREATE TABLE proposals (
    id          INTEGER PRIMARY KEY,
    initiative  INTEGER NOT NULL REFERENCES initiatives (id),
    target      TEXT NOT NULL,
    target_id   TEXT,
    title       TEXT NOT NULL,
    summary     TEXT NOT NULL DEFAULT '',
    content     TEXT NOT NULL,
    status      TEXT NOT NULL,
    author      TEXT NOT NULL,
    task        INTEGER REFERENCES tasks (id),
    decided_by  TEXT,
    decided_at  TEXT,
    applied     TEXT NOT NULL DEFAULT '[]',
    created_at  TEXT NOT NULL
);
CREATE INDEX proposals_initiative ON proposals (initiative, id);

-- An initiative's pages: docs (versioned and searched with the others) placed in a tree.
CREATE TABLE initiative_pages (
    doc         INTEGER PRIMARY KEY REFERENCES docs (id),
    initiative  INTEGER NOT NULL REFERENCES initiatives (id),
    parent      INTEGER REFERENCES docs (id),
    position    INTEGER NOT NULL
);
CREATE INDEX initiative_pages_tree ON initiative_pages (initiative, parent, position);
