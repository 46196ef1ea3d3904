-- Team mode: the instance's users, their login sessions and API tokens, the projects the
-- server hosts and who is a member of which. These tables are used in the default
-- project's store only (the instance store); another project's store keeps them empty.
-- No secret is stored: passwords as Argon2id hashes, tokens as SHA-256 hashes, sessions
-- by a random id that is only valid inside a signed token.
CREATE TABLE users (
    id                  INTEGER PRIMARY KEY,
    name                TEXT NOT NULL UNIQUE,
    email               TEXT,
    password_hash       TEXT NOT NULL,
    admin               INTEGER NOT NULL DEFAULT 0,
    disabled            INTEGER NOT NULL DEFAULT 0,
    created_at          TEXT NOT NULL,
    updated_at          TEXT NOT NULL
);

CREATE TABLE login_sessions (
    id                  TEXT PRIMARY KEY,
    user_id             INTEGER NOT NULL REFERENCES users (id),
    address             TEXT,
    created_at          TEXT NOT NULL,
    expires_at          TEXT NOT NULL,
    revoked_at          TEXT
);
CREATE INDEX login_sessions_user ON login_sessions (user_id);

CREATE TABLE api_tokens (
    id                  INTEGER PRIMARY KEY,
    hash                TEXT NOT NULL UNIQUE,
    prefix              TEXT NOT NULL,
    name                TEXT,
    user_id             INTEGER NOT NULL REFERENCES users (id),
    project             TEXT,
    agent               TEXT,
    role                TEXT NOT NULL,
    created_at          TEXT NOT NULL,
    expires_at          TEXT,
    last_used_at        TEXT,
    revoked_at          TEXT
);

CREATE TABLE projects (
    key                 TEXT PRIMARY KEY,
    name                TEXT NOT NULL,
    created_by          TEXT NOT NULL,
    created_at          TEXT NOT NULL
);

CREATE TABLE project_members (
    project             TEXT NOT NULL,
    user_id             INTEGER NOT NULL REFERENCES users (id),
    role                TEXT NOT NULL,
    PRIMARY KEY (project, user_id)
);

CREATE TABLE instance_settings (
    key                 TEXT PRIMARY KEY,
    value               TEXT NOT NULL
);
