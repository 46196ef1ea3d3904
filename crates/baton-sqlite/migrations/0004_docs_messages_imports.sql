-- The knowledge base (docs with every version kept, full-text search), messages between
-- agents, and the keys of imported items (so a re-import adds only what is new).
CREATE TABLE docs (
    id          INTEGER PRIMARY KEY,
    type        TEXT NOT NULL
        CHECK (type IN ('operational', 'decision', 'reference', 'learning', 'review')),
    title       TEXT NOT NULL,
    body        TEXT NOT NULL,
    -- JSON list; the full-text index reads it as words.
    tags        TEXT NOT NULL DEFAULT '[]',
    author      TEXT NOT NULL,
    version     INTEGER NOT NULL,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    deleted_at  TEXT
);
CREATE INDEX docs_recent ON docs (updated_at DESC, id DESC);

CREATE TABLE doc_tasks (
    doc     INTEGER NOT NULL REFERENCES docs (id),
    task    INTEGER NOT NULL REFERENCES tasks (id),
    PRIMARY KEY (doc, task)
) WITHOUT ROWID;
CREATE INDEX doc_tasks_task ON doc_tasks (task, doc);

-- Every version as written, the current one included. Never changed, never deleted.
CREATE TABLE doc_versions (
    doc         INTEGER NOT NULL REFERENCES docs (id),
    version     INTEGER NOT NULL,
    type        TEXT NOT NULL,
    title       TEXT NOT NULL,
    body        TEXT NOT NULL,
    tags        TEXT NOT NULL,
    author      TEXT NOT NULL,
    at          TEXT NOT NULL,
    PRIMARY KEY (doc, version)
) WITHOUT ROWID;
CREATE TRIGGER doc_versions_no_update BEFORE UPDATE ON doc_versions
BEGIN SELECT RAISE(ABORT, 'doc versions are append-only'); END;
CREATE TRIGGER doc_versions_no_delete BEFORE DELETE ON doc_versions
BEGIN SELECT RAISE(ABORT, 'doc versions are append-only'); END;

-- BM25 ranking over the current version; porter stemming so "refreshing" finds "refresh";
-- `_` belongs to words, so identifiers such as refresh_token stay whole.
-- External content: the text lives once, in docs; triggers keep the index in step.
CREATE VIRTUAL TABLE docs_fts USING fts5 (
    title, body, tags,
    content = 'docs', content_rowid = 'id',
    tokenize = "porter unicode61 remove_diacritics 2 tokenchars '_'"
);
-- The rank: title matches weigh most, then tags, then body.
INSERT INTO docs_fts (docs_fts, rank) VALUES ('rank', 'bm25(5.0, 1.0, 2.0)');
CREATE TRIGGER docs_fts_insert AFTER INSERT ON docs BEGIN
    INSERT INTO docs_fts (rowid, title, body, tags) VALUES (new.id, new.title, new.body, new.tags);
END;
CREATE TRIGGER docs_fts_update AFTER UPDATE OF title, body, tags ON docs BEGIN
    INSERT INTO docs_fts (docs_fts, rowid, title, body, tags)
        VALUES ('delete', old.id, old.title, old.body, old.tags);
    INSERT INTO docs_fts (rowid, title, body, tags) VALUES (new.id, new.title, new.body, new.tags);
END;
CREATE TRIGGER docs_fts_delete AFTER DELETE ON docs BEGIN
    INSERT INTO docs_fts (docs_fts, rowid, title, body, tags)
        VALUES ('delete', old.id, old.title, old.body, old.tags);
END;

CREATE TABLE messages (
    id          INTEGER PRIMARY KEY,
    sender      TEXT NOT NULL,
    recipient   TEXT NOT NULL,
    task        INTEGER REFERENCES tasks (id),
    body        TEXT NOT NULL,
    reply_to    INTEGER REFERENCES messages (id),
    thread      INTEGER NOT NULL,
    created_at  TEXT NOT NULL,
    answered_at TEXT,
    answered_by TEXT,
    read_at     TEXT
);
-- An inbox: what is addressed to someone and still pending (open question, undelivered answer).
CREATE INDEX messages_pending ON messages (recipient, id)
    WHERE (reply_to IS NULL AND answered_at IS NULL) OR (reply_to IS NOT NULL AND read_at IS NULL);
CREATE INDEX messages_recipient ON messages (recipient, id);
CREATE INDEX messages_thread ON messages (thread, id);

CREATE TABLE import_keys (
    source  TEXT NOT NULL,
    kind    TEXT NOT NULL,
    key     TEXT NOT NULL,
    local   INTEGER NOT NULL,
    PRIMARY KEY (source, kind, key)
) WITHOUT ROWID;
