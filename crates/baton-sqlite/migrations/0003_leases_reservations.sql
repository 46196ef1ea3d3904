-- File reservations, and an index that makes finding expired leases cheap on every call.
CREATE TABLE reservations (
    id          INTEGER PRIMARY KEY,
    agent       TEXT NOT NULL,
    glob        TEXT NOT NULL,
    -- The glob's literal leading directories: candidates for overlap are found by prefix.
    prefix      TEXT NOT NULL,
    mode        TEXT NOT NULL CHECK (mode IN ('exclusive', 'shared')),
    task        INTEGER REFERENCES tasks (id),
    reason      TEXT,
    created_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL,
    ttl_ms      INTEGER NOT NULL
);
CREATE INDEX reservations_prefix ON reservations (prefix);
CREATE INDEX reservations_agent ON reservations (agent);
CREATE INDEX reservations_task ON reservations (task) WHERE task IS NOT NULL;

CREATE INDEX tasks_lease ON tasks (lease_expires_at) WHERE status = 'in-progress';
-- Renewal touches only the holder's leases that are due, however many tasks it holds.
CREATE INDEX tasks_holder_lease ON tasks (assignee, lease_expires_at) WHERE status = 'in-progress';
CREATE INDEX reservations_manual ON reservations (agent) WHERE task IS NULL;
CREATE INDEX reservations_expiry ON reservations (expires_at);
