-- Webhooks (POST/GET/DELETE /v1/webhooks): a user's receivers, the outbox of events still to deliver to each, and
-- the log of delivery attempts.
--
-- Events are written by triggers on weight_entries, in the statement that changes the entries and so in its
-- transaction: a committed change always has its events, a rolled-back one never. Every write path (create, PATCH,
-- DELETE, PUT by client id, import) goes through them. The triggers are statement-level with transition tables:
-- an import of 100,000 rows writes its events with one INSERT ... SELECT, and a user without webhooks pays one
-- index probe per statement.

CREATE TABLE webhooks (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    url          text NOT NULL CHECK (char_length(url) BETWEEN 1 AND 2000),
    events       text[] NOT NULL
        CHECK (cardinality(events) > 0 AND events <@ ARRAY['entry.created', 'entry.updated', 'entry.deleted']),
    description  text CHECK (char_length(description) <= 500),
    -- The signing key (Standard Webhooks: the bytes behind the `whsec_` secret shown once at creation).
    secret       bytea NOT NULL CHECK (octet_length(secret) BETWEEN 24 AND 64),
    created_at   timestamptz NOT NULL DEFAULT now(),
    -- Set when deliveries failed for 24 hours; a disabled webhook gets no more events.
    disabled_at  timestamptz
);

CREATE INDEX webhooks_user_idx ON webhooks (user_id);

-- One row per event and webhook, until it is delivered (or the webhook is disabled or deleted).
CREATE TABLE webhook_outbox (
    seq                bigserial PRIMARY KEY,
    webhook_id         uuid NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    user_id            uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    event_id           uuid NOT NULL,
    event_type         text NOT NULL,
    -- The entry as the change left it (its row, as jsonb), or NULL for a deletion.
    entry_id           uuid NOT NULL,
    entry              jsonb,
    created_at         timestamptz NOT NULL DEFAULT now(),
    attempts           integer NOT NULL DEFAULT 0,
    first_attempted_at timestamptz,
    next_attempt_at    timestamptz NOT NULL DEFAULT now(),
    -- While a worker delivers it: until when its claim holds (after that another worker may take it over).
    claimed_until      timestamptz
);

-- The head of each webhook's queue (deliveries are in order per webhook) and its user's.
CREATE INDEX webhook_outbox_webhook_idx ON webhook_outbox (webhook_id, seq);
CREATE INDEX webhook_outbox_user_idx ON webhook_outbox (user_id);

CREATE TABLE webhook_deliveries (
    webhook_id    uuid NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    user_id       uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    event_id      uuid NOT NULL,
    event_type    text NOT NULL,
    attempt       integer NOT NULL,
    attempted_at  timestamptz NOT NULL DEFAULT now(),
    status_code   smallint,
    duration_ms   integer NOT NULL,
    error         text
);

CREATE INDEX webhook_deliveries_webhook_idx ON webhook_deliveries (webhook_id, attempted_at DESC);
CREATE INDEX webhook_deliveries_user_idx ON webhook_deliveries (user_id);
CREATE INDEX webhook_deliveries_attempted_idx ON webhook_deliveries (attempted_at);

-- The events of one statement's rows: one per row and subscribed, enabled webhook of the row's user; one event id
-- per row, shared by its webhooks. Changes made by a cascade (an account being deleted) make none.
CREATE FUNCTION weighin_entry_events() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    kind text := CASE TG_OP WHEN 'INSERT' THEN 'entry.created' WHEN 'UPDATE' THEN 'entry.updated'
                 ELSE 'entry.deleted' END;
BEGIN
    IF pg_trigger_depth() > 1 THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'DELETE' THEN
        INSERT INTO webhook_outbox (webhook_id, user_id, event_id, event_type, entry_id, entry)
        SELECT w.id, c.user_id, c.event_id, kind, c.id, NULL
        FROM (SELECT o.user_id, o.id, gen_random_uuid() AS event_id FROM changed_old o) c
        JOIN webhooks w ON w.user_id = c.user_id AND w.disabled_at IS NULL AND kind = ANY (w.events);
    ELSE
        INSERT INTO webhook_outbox (webhook_id, user_id, event_id, event_type, entry_id, entry)
        SELECT w.id, c.user_id, c.event_id, kind, c.id, c.entry
        FROM (SELECT n.user_id, n.id, to_jsonb(n) - 'client_fingerprint' AS entry, gen_random_uuid() AS event_id
              FROM changed_new n) c
        JOIN webhooks w ON w.user_id = c.user_id AND w.disabled_at IS NULL AND kind = ANY (w.events);
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER weight_entries_created_events AFTER INSERT ON weight_entries
    REFERENCING NEW TABLE AS changed_new FOR EACH STATEMENT EXECUTE FUNCTION weighin_entry_events();
CREATE TRIGGER weight_entries_updated_events AFTER UPDATE ON weight_entries
    REFERENCING NEW TABLE AS changed_new FOR EACH STATEMENT EXECUTE FUNCTION weighin_entry_events();
CREATE TRIGGER weight_entries_deleted_events AFTER DELETE ON weight_entries
    REFERENCING OLD TABLE AS changed_old FOR EACH STATEMENT EXECUTE FUNCTION weighin_entry_events();
