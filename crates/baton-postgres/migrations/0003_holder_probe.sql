-- baton_claim_next (migration 0002) again, with one change: the probe for a lease of the
-- caller's to renew reads the holder index by a row comparison (see the comment there),
-- so its cost no longer grows with the number of tasks the caller holds. Everything else
-- is as 0002 describes it.
CREATE OR REPLACE FUNCTION baton_claim_next(
    p_agent text, p_now text, p_until text, p_renew_before text, p_lease_ttl text,
    p_satisfied text[], p_capability text, p_action text, p_channel text)
RETURNS TABLE (
    id bigint, title text, description text, status text, blocked_reason text,
    priority bigint, assignee text, epic text, capabilities text, verify text,
    acceptance_criteria text, context_refs text, files text, retry_count bigint,
    fence bigint, lease_expires_at text, created_at text, updated_at text,
    started_at text, completed_at text, deleted_at text, deps text, notes text,
    outcome text)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
    v_ttl_changed boolean;
    v_busy boolean;
    v_id bigint;
    v_files text;
BEGIN
    -- Three statements in all: each one a PL/pgSQL statement costs an executor start of
    -- its own, which is most of the time of small statements like these.
    SELECT (SELECT s.value FROM settings s WHERE s.key = 'lease_ttl')
               IS DISTINCT FROM p_lease_ttl,
           -- The earliest leases, each the first entry of a lease index (ORDER BY ..
           -- LIMIT 1), whatever the statistics say: EXISTS (.. < p_now) and min() were
           -- both planned, with statistics from an idle board, as scans of every task in
           -- progress (see the same probes in src/tx.rs).
           coalesce((SELECT t.lease_expires_at FROM tasks t WHERE t.status = 'in-progress'
                     ORDER BY t.lease_expires_at LIMIT 1) < p_now, false)
           -- The caller's earliest lease: the first entry at or after (caller, '') in
           -- the holder index. A row comparison only that index serves; asked as
           -- "assignee = caller ORDER BY lease", stale statistics chose the assignee
           -- index and sorted every task the caller held (2,769 rows, 2.3 ms).
           OR coalesce((SELECT h.lease_expires_at < p_renew_before
                        FROM (SELECT t.assignee, t.lease_expires_at FROM tasks t
                              WHERE t.status = 'in-progress'
                                AND (t.assignee, t.lease_expires_at) > (p_agent, '')
                              ORDER BY t.assignee, t.lease_expires_at LIMIT 1) h
                        WHERE h.assignee = p_agent), false)
           OR EXISTS (SELECT 1 FROM reservations r WHERE r.agent = p_agent AND r.task IS NULL)
    INTO v_ttl_changed, v_busy;
    IF v_ttl_changed OR v_busy THEN
        outcome := CASE WHEN v_ttl_changed THEN 'lease_ttl_changed' ELSE 'declined' END;
        RETURN NEXT;
        RETURN;
    END IF;

    SELECT t.id, t.files INTO v_id, v_files
    FROM tasks t
    WHERE t.status = 'open' AND t.deleted_at IS NULL
      AND NOT EXISTS (
          SELECT 1 FROM task_deps d JOIN tasks dt ON dt.id = d.depends_on
          WHERE d.task = t.id AND dt.deleted_at IS NULL AND NOT (dt.status = ANY (p_satisfied)))
      AND (p_capability IS NULL OR (t.capabilities::jsonb) ? p_capability)
    ORDER BY t.priority, t.id
    LIMIT 1
    FOR UPDATE OF t SKIP LOCKED;
    IF NOT FOUND OR v_files::jsonb <> '[]'::jsonb THEN
        outcome := 'declined';
        RETURN NEXT;
        RETURN;
    END IF;

    -- Every write in one statement; the task comes back as written (RETURNING), its
    -- dependencies and notes (which the claim does not touch) read beside it.
    RETURN QUERY
    WITH claimed AS (
        UPDATE tasks t
        SET status = 'in-progress', assignee = p_agent, fence = t.fence + 1,
            lease_expires_at = p_until, started_at = p_now, updated_at = p_now
        WHERE t.id = v_id
        RETURNING t.*
    ), released AS (
        DELETE FROM reservations r WHERE r.task = v_id RETURNING r.id
    ), seen AS (
        INSERT INTO agents (name, first_seen, last_seen) VALUES (p_agent, p_now, p_now)
        ON CONFLICT (name) DO UPDATE SET last_seen = excluded.last_seen
        RETURNING agents.name
    ), logged AS (
        INSERT INTO events (id, at, actor, action, task, detail)
        SELECT coalesce(max(e.id), 0) + 1, p_now, p_agent, p_action, v_id,
               format('{"fence":%s,"lease_expires_at":"%s"}',
                      (SELECT c.fence FROM claimed c), p_until)
        FROM events e
        RETURNING events.id
    ), notified AS (
        SELECT pg_notify(p_channel, '') FROM logged
    )
    SELECT c.id, c.title, c.description, c.status, c.blocked_reason, c.priority, c.assignee,
           c.epic, c.capabilities, c.verify, c.acceptance_criteria, c.context_refs, c.files,
           c.retry_count, c.fence, c.lease_expires_at::text, c.created_at::text,
           c.updated_at::text, c.started_at::text, c.completed_at::text, c.deleted_at::text,
           coalesce((SELECT json_agg(json_build_array(d.depends_on, dt.status,
                                                      dt.deleted_at IS NOT NULL)
                                     ORDER BY d.position)
                     FROM task_deps d JOIN tasks dt ON dt.id = d.depends_on
                     WHERE d.task = c.id), '[]')::text,
           coalesce((SELECT json_agg(json_build_array(n.author, n.at, n.text) ORDER BY n.id)
                     FROM task_notes n WHERE n.task = c.id), '[]')::text,
           'claimed'::text
    FROM claimed c CROSS JOIN notified;
END
$$;
