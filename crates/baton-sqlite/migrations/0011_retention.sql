-- Retention (the same as PostgreSQL's migration 0010): log entries (events whose action
-- starts with `log.`) older than the `log_retention` setting may be deleted; every other
-- event stays append-only. The partial index finds the old entries without a scan.
DROP TRIGGER events_no_delete;
CREATE TRIGGER events_no_delete BEFORE DELETE ON events WHEN OLD.action NOT LIKE 'log.%'
BEGIN SELECT RAISE(ABORT, 'the event log is append-only'); END;
CREATE INDEX events_log_at ON events (at, id) WHERE action LIKE 'log.%';
