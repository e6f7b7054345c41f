-- The outbox trigger of sql/0007 looks for subscribers before it builds any event.
--
-- Before, it built every changed row's payload (to_jsonb) and event id, then joined them to webhooks; and PL/pgSQL
-- keeps that statement's plan for the life of a connection, made for the statement it served first. A pool
-- connection that first served a one-row write later ran a 100,000-row COPY with a plan made for one row: it built
-- every row's payload and looked up every row's webhooks, 1.2-1.3 s for the trigger alone, for a user without any
-- webhook (BENCHMARKS.md, "The outbox trigger looks for subscribers first").
--
-- Now the first statement finds which users of the changed rows have an enabled webhook for this kind of change: one
-- pass over the changed rows, into an array of their distinct users, then one index lookup of the webhooks of those
-- users. The plan has this one shape whatever the number of rows it was made for, and it costs about 33 ms for
-- 100,000 rows. The usual answer is "none", and the trigger stops there. Otherwise the events are written as before:
-- one per row and subscribed, enabled webhook of the row's user, one event id per row shared by its webhooks, none
-- for changes made by a cascade.

CREATE OR REPLACE FUNCTION weighin_entry_events() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    kind text := CASE TG_OP WHEN 'INSERT' THEN 'entry.created' WHEN 'UPDATE' THEN 'entry.updated'
                 ELSE 'entry.deleted' END;
    -- The users of the changed rows with an enabled webhook for this kind of change; NULL when there are none.
    subscribed uuid[];
BEGIN
    IF pg_trigger_depth() > 1 THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'DELETE' THEN
        SELECT array_agg(DISTINCT w.user_id) INTO subscribed FROM webhooks w
        WHERE w.user_id = ANY ((SELECT array_agg(DISTINCT o.user_id) FROM changed_old o)::uuid[])
          AND w.disabled_at IS NULL AND kind = ANY (w.events);
    ELSE
        SELECT array_agg(DISTINCT w.user_id) INTO subscribed FROM webhooks w
        WHERE w.user_id = ANY ((SELECT array_agg(DISTINCT n.user_id) FROM changed_new n)::uuid[])
          AND w.disabled_at IS NULL AND kind = ANY (w.events);
    END IF;
    IF subscribed IS NULL THEN
        RETURN NULL;
    END IF;
    -- Only the webhooks of those users take part, so even a plan that reads the changed rows once per webhook reads
    -- them a handful of times, never once per webhook in the table.
    IF TG_OP = 'DELETE' THEN
        INSERT INTO webhook_outbox (webhook_id, user_id, event_id, event_type, entry_id, entry)
        SELECT w.id, c.user_id, c.event_id, kind, c.id, NULL
        FROM (SELECT o.user_id, o.id, gen_random_uuid() AS event_id FROM changed_old o) c
        JOIN webhooks w ON w.user_id = c.user_id AND w.user_id = ANY (subscribed)
                       AND w.disabled_at IS NULL AND kind = ANY (w.events);
    ELSE
        INSERT INTO webhook_outbox (webhook_id, user_id, event_id, event_type, entry_id, entry)
        SELECT w.id, c.user_id, c.event_id, kind, c.id, c.entry
        FROM (SELECT n.user_id, n.id, to_jsonb(n) - 'client_fingerprint' AS entry, gen_random_uuid() AS event_id
              FROM changed_new n) c
        JOIN webhooks w ON w.user_id = c.user_id AND w.user_id = ANY (subscribed)
                       AND w.disabled_at IS NULL AND kind = ANY (w.events);
    END IF;
    RETURN NULL;
END $$;
