-- Live tasks by status and holder ('' for none), kept by triggers in the transaction of
-- every change: "nothing ready" answers, /metrics and the board summary read these few rows
-- instead of counting the board. Rows at 0 stay; readers skip them.
CREATE TABLE task_counts (
    status      TEXT NOT NULL,
    assignee    TEXT NOT NULL,
    n           INTEGER NOT NULL,
    PRIMARY KEY (status, assignee)
) WITHOUT ROWID;

INSERT INTO task_counts (status, assignee, n)
SELECT status, coalesce(assignee, ''), count(*) FROM tasks
WHERE deleted_at IS NULL GROUP BY 1, 2;

CREATE TRIGGER task_counts_insert AFTER INSERT ON tasks WHEN NEW.deleted_at IS NULL
BEGIN
    INSERT INTO task_counts (status, assignee, n)
    VALUES (NEW.status, coalesce(NEW.assignee, ''), 1)
    ON CONFLICT (status, assignee) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER task_counts_update AFTER UPDATE OF status, assignee, deleted_at ON tasks
WHEN OLD.status IS NOT NEW.status OR OLD.assignee IS NOT NEW.assignee
  OR (OLD.deleted_at IS NULL) <> (NEW.deleted_at IS NULL)
BEGIN
    UPDATE task_counts SET n = n - 1
    WHERE OLD.deleted_at IS NULL AND status = OLD.status AND assignee = coalesce(OLD.assignee, '');
    INSERT INTO task_counts (status, assignee, n)
    SELECT NEW.status, coalesce(NEW.assignee, ''), 1 WHERE NEW.deleted_at IS NULL
    ON CONFLICT (status, assignee) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER task_counts_delete AFTER DELETE ON tasks WHEN OLD.deleted_at IS NULL
BEGIN
    UPDATE task_counts SET n = n - 1
    WHERE status = OLD.status AND assignee = coalesce(OLD.assignee, '');
END;
