-- Pickup's common case in one round trip (see `claim_next` in src/claim.rs, which decides
-- when it applies). It does what core's rules (baton_core::board::claims::pickup, after
-- leases::reap and leases::renew) do for that case, and nothing otherwise:
--
-- * It declines (outcome 'declined', nothing written) whenever core would do more than
--   claim the best ready task: an expired lease anywhere (core applies it first), a lease
--   or a manual reservation of the caller's that core would renew, no ready task (core
--   explains why), or a best task with a file surface (core checks and reserves it).
-- * It declines with 'lease_ttl_changed' when the lease_ttl setting is not the one the
--   caller computed p_until from.
-- * Otherwise it claims the first ready task in core's order (priority, then id; every live
--   dependency in a p_satisfied status; the capability, if any), exactly as core writes it:
--   in-progress, the caller as assignee, the next fence, the lease, started/updated now;
--   releases what the task still held (core's surface step with no globs), records the
--   agent as seen, and appends the task.picked_up event (id max + 1 under the caller's write
--   lock, the same detail text as core's) with its notification.
--
-- It has no exception block (a subtransaction per call costs a third of its time): an
-- error aborts the caller's transaction, which the caller reports as a failed commit.
CREATE FUNCTION baton_claim_next(
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
    v_id bigint;
    v_files text;
    v_fence bigint;
BEGIN
    IF (SELECT s.value FROM settings s WHERE s.key = 'lease_ttl')
            IS DISTINCT FROM p_lease_ttl THEN
        outcome := 'lease_ttl_changed';
        RETURN NEXT;
        RETURN;
    END IF;
    -- (Ordered, so the lease index answers whatever the statistics say.)
    IF EXISTS (SELECT 1 FROM tasks t
               WHERE t.status = 'in-progress' AND t.lease_expires_at < p_now
               ORDER BY t.lease_expires_at LIMIT 1)
       OR EXISTS (SELECT 1 FROM tasks t
                  WHERE t.assignee = p_agent AND t.status = 'in-progress'
                    AND t.lease_expires_at < p_renew_before)
       OR EXISTS (SELECT 1 FROM reservations r WHERE r.agent = p_agent AND r.task IS NULL)
    THEN
        outcome := 'declined';
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

    UPDATE tasks t
    SET status = 'in-progress', assignee = p_agent, fence = t.fence + 1,
        lease_expires_at = p_until, started_at = p_now, updated_at = p_now
    WHERE t.id = v_id
    RETURNING t.fence INTO v_fence;
    DELETE FROM reservations r WHERE r.task = v_id;
    INSERT INTO agents (name, first_seen, last_seen) VALUES (p_agent, p_now, p_now)
        ON CONFLICT (name) DO UPDATE SET last_seen = excluded.last_seen;
    INSERT INTO events (id, at, actor, action, task, detail)
        SELECT coalesce(max(e.id), 0) + 1, p_now, p_agent, p_action, v_id,
               format('{"fence":%s,"lease_expires_at":"%s"}', v_fence, p_until)
        FROM events e;
    PERFORM pg_notify(p_channel, '');

    RETURN QUERY
    SELECT t.id, t.title, t.description, t.status, t.blocked_reason, t.priority, t.assignee,
           t.epic, t.capabilities, t.verify, t.acceptance_criteria, t.context_refs, t.files,
           t.retry_count, t.fence, t.lease_expires_at::text, t.created_at::text,
           t.updated_at::text, t.started_at::text, t.completed_at::text, t.deleted_at::text,
           coalesce((SELECT json_agg(json_build_array(d.depends_on, dt.status,
                                                      dt.deleted_at IS NOT NULL)
                                     ORDER BY d.position)
                     FROM task_deps d JOIN tasks dt ON dt.id = d.depends_on
                     WHERE d.task = t.id), '[]')::text,
           coalesce((SELECT json_agg(json_build_array(n.author, n.at, n.text) ORDER BY n.id)
                     FROM task_notes n WHERE n.task = t.id), '[]')::text,
           'claimed'::text
    FROM tasks t WHERE t.id = v_id;
END
$$;
