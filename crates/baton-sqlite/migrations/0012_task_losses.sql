-- Tasks taken from their holder by something else (the same table as PostgreSQL's
-- migration 0011): an expired lease, a rejection, a person moving the task, a block or a
-- delete. The holder hears of each once, from its next `task mine` or heartbeat, and a late
-- `done` or heartbeat on the task says what happened instead of only its state.
CREATE TABLE task_losses (
    id          INTEGER PRIMARY KEY,
    agent       TEXT NOT NULL,
    task        INTEGER NOT NULL,
    fence       INTEGER NOT NULL,
    reason      TEXT NOT NULL,
    at          TEXT NOT NULL,
    by_actor    TEXT NOT NULL,
    status      TEXT NOT NULL,
    feedback    TEXT,
    reported_at TEXT
);
CREATE INDEX task_losses_unreported ON task_losses (agent, id) WHERE reported_at IS NULL;
CREATE INDEX task_losses_task ON task_losses (task, agent, id);
