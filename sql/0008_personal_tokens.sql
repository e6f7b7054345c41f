-- Personal access tokens live beside log-in tokens in auth_tokens: a token with a name is personal. Every token gets
-- an id (for listing and revoking it), a scope, and when it was last used (written at most once a minute).
--
-- The table's foreign key to users stays ON DELETE CASCADE and is served by the primary key (user_id, token_hash);
-- the id is unique per user, which is how it is looked up (DELETE /v1/me/tokens/{id} goes by user_id and id).

ALTER TABLE auth_tokens
    ADD COLUMN id           uuid NOT NULL DEFAULT gen_random_uuid(),
    -- Null for log-in tokens; 1 to 100 characters for personal ones.
    ADD COLUMN name         text CHECK (char_length(name) BETWEEN 1 AND 100),
    ADD COLUMN scope        text NOT NULL DEFAULT 'write' CHECK (scope IN ('read', 'write')),
    ADD COLUMN last_used_at timestamptz,
    -- Log-in tokens can do everything their user can.
    ADD CONSTRAINT auth_tokens_log_in_tokens_write CHECK (name IS NOT NULL OR scope = 'write');

CREATE UNIQUE INDEX auth_tokens_user_id_id_key ON auth_tokens (user_id, id);
