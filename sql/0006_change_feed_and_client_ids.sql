-- The change feed (GET /v1/changes) and client record ids (PUT /v1/entries/by-client-id/...).
--
-- Every change to a user's entries takes the next number of that user's change counter, users.change_seq,
-- incremented by an UPDATE of the user's row in the same transaction as the change. The row lock that UPDATE takes
-- is held until the transaction ends, so a second writer of the same user waits for the first to commit (or roll
-- back) before it takes its number: for one user, numbers are taken in commit order. A reader's snapshot therefore
-- never holds change n + 1 without change n, and a cursor that says "everything up to n" can never pass over a
-- change that commits later: that change takes a number above every number already visible. (A sequence, a
-- timestamp or a transaction id assigned at write time gives no such order: the transaction that took 7 can commit
-- after the one that took 8.) The cost is one row update per writing transaction, and writes of one user run one
-- at a time; different users never wait for each other.

ALTER TABLE users
    ADD COLUMN change_seq bigint NOT NULL DEFAULT 0,
    -- The highest change number whose deletion record has been purged: a cursor below it may have missed one.
    ADD COLUMN feed_horizon bigint NOT NULL DEFAULT 0;

-- The number of the entry's latest change. The service writes it explicitly; COPY (imports) takes it from the
-- transaction's `weighin.change_seq` setting, set by the statement that takes the number. Rows written by hand get 0
-- here and a number from the trigger below.
ALTER TABLE weight_entries
    ADD COLUMN change_seq bigint NOT NULL
        DEFAULT coalesce(nullif(current_setting('weighin.change_seq', true), ''), '0')::bigint,
    -- A device's own id for the entry, and the version of it the device last sent.
    ADD COLUMN client_record_id text,
    ADD COLUMN client_version bigint,
    -- SHA-256 of the canonical body of the PUT that wrote this version; NULL once a PATCH changed the entry.
    ADD COLUMN client_fingerprint bytea,
    ADD CONSTRAINT weight_entries_client_record_id_length CHECK (char_length(client_record_id) BETWEEN 1 AND 255),
    ADD CONSTRAINT weight_entries_client_together CHECK ((client_record_id IS NULL) = (client_version IS NULL)),
    ADD CONSTRAINT weight_entries_client_version_range CHECK (client_version >= 0);

-- The feed of live entries: one range scan per page.
CREATE INDEX weight_entries_user_change_idx ON weight_entries (user_id, change_seq, id);
-- One live entry per client id and user; deleting the entry frees the id.
CREATE UNIQUE INDEX weight_entries_user_client_record_idx ON weight_entries (user_id, client_record_id)
    WHERE client_record_id IS NOT NULL;

-- Deleted entries, for the feed: kept at least 30 days (purged by the maintenance job, which then raises the
-- user's feed_horizon).
CREATE TABLE entry_tombstones (
    user_id          uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    change_seq       bigint NOT NULL,
    entry_id         uuid NOT NULL,
    deleted_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, change_seq, entry_id)
);

CREATE INDEX entry_tombstones_deleted_at_idx ON entry_tombstones (deleted_at);

-- The user's next change number for this transaction: the first call takes it (locking the user's row until the
-- transaction ends), later calls in the same transaction for the same user return the same number. NULL when the
-- user's row is gone (being deleted by this transaction).
CREATE FUNCTION weighin_change_seq(uid uuid) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    taken bigint;
BEGIN
    IF current_setting('weighin.change_user', true) = uid::text THEN
        RETURN current_setting('weighin.change_seq')::bigint;
    END IF;
    UPDATE users SET change_seq = change_seq + 1 WHERE id = uid RETURNING change_seq INTO taken;
    IF taken IS NOT NULL THEN
        PERFORM set_config('weighin.change_user', uid::text, true), set_config('weighin.change_seq', taken::text, true);
    END IF;
    RETURN taken;
END $$;

-- Rows written by hand (an operator's INSERT or UPDATE that does not set change_seq) still reach the feed; the
-- service's own statements set it and never fire these.
CREATE FUNCTION weighin_entry_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.change_seq := coalesce(weighin_change_seq(NEW.user_id), NEW.change_seq);
    RETURN NEW;
END $$;

CREATE TRIGGER weight_entries_inserted_by_hand BEFORE INSERT ON weight_entries
    FOR EACH ROW WHEN (NEW.change_seq = 0) EXECUTE FUNCTION weighin_entry_changed();
CREATE TRIGGER weight_entries_updated_by_hand BEFORE UPDATE ON weight_entries
    FOR EACH ROW WHEN (NEW.change_seq = OLD.change_seq) EXECUTE FUNCTION weighin_entry_changed();

-- Every deletion of an entry leaves a tombstone with the next change number; deleting the account (its entries go
-- by cascade, one trigger level down) leaves none: the account's rows all go.
CREATE FUNCTION weighin_entry_deleted() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    taken bigint := weighin_change_seq(OLD.user_id);
BEGIN
    IF taken IS NOT NULL THEN
        INSERT INTO entry_tombstones (user_id, change_seq, entry_id) VALUES (OLD.user_id, taken, OLD.id);
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER weight_entries_deleted AFTER DELETE ON weight_entries
    FOR EACH ROW WHEN (pg_trigger_depth() < 1) EXECUTE FUNCTION weighin_entry_deleted();
