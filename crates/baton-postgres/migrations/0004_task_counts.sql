-- Live tasks by status and holder ('' for none), kept by triggers in the transaction of
-- every change (COPY and the pickup function included): "nothing ready" answers, /metrics
-- and the board summary read these few rows instead of counting the board. Rows at 0 stay;
-- readers skip them. Every writer holds the write lock, so the rows are not contended.
CREATE TABLE task_counts (
    status      TEXT COLLATE "C" NOT NULL,
    assignee    TEXT COLLATE "C" NOT NULL,
    n           BIGINT NOT NULL,
    PRIMARY KEY (status, assignee)
);

INSERT INTO task_counts (status, assignee, n)
SELECT status, coalesce(assignee, ''), count(*) FROM tasks
WHERE deleted_at IS NULL GROUP BY 1, 2;

CREATE FUNCTION baton_count_tasks() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' OR TG_OP = 'DELETE' THEN
        IF OLD.deleted_at IS NULL THEN
            UPDATE task_counts SET n = n - 1
            WHERE status = OLD.status AND assignee = coalesce(OLD.assignee, '');
        END IF;
    END IF;
    IF TG_OP = 'UPDATE' OR TG_OP = 'INSERT' THEN
        IF NEW.deleted_at IS NULL THEN
            INSERT INTO task_counts (status, assignee, n)
            VALUES (NEW.status, coalesce(NEW.assignee, ''), 1)
            ON CONFLICT (status, assignee) DO UPDATE SET n = task_counts.n + 1;
        END IF;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER task_counts_insert AFTER INSERT ON tasks
FOR EACH ROW WHEN (NEW.deleted_at IS NULL) EXECUTE FUNCTION baton_count_tasks();
CREATE TRIGGER task_counts_update AFTER UPDATE OF status, assignee, deleted_at ON tasks
FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status
                   OR OLD.assignee IS DISTINCT FROM NEW.assignee
                   OR (OLD.deleted_at IS NULL) <> (NEW.deleted_at IS NULL))
EXECUTE FUNCTION baton_count_tasks();
CREATE TRIGGER task_counts_delete AFTER DELETE ON tasks
FOR EACH ROW WHEN (OLD.deleted_at IS NULL) EXECUTE FUNCTION baton_count_tasks();

CREATE FUNCTION baton_count_tasks_truncated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM task_counts;
    RETURN NULL;
END
$$;
CREATE TRIGGER task_counts_truncate AFTER TRUNCATE ON tasks
FOR EACH STATEMENT EXECUTE FUNCTION baton_count_tasks_truncated();
