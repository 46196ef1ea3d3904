-- Retention (the same as SQLite's migration 0011): log entries (events whose action starts
-- with `log.`) older than the `log_retention` setting may be deleted; every other event
-- stays append-only. The partial index finds the old entries without a scan.
CREATE FUNCTION baton_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND OLD.action LIKE 'log.%' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'events is append-only';
END;
$$;
DROP TRIGGER events_append_only ON events;
CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION baton_events_append_only();
CREATE INDEX events_log_at ON events (at, id) WHERE action LIKE 'log.%';
