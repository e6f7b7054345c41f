-- Bearer tokens, idempotency keys, failed log-ins and the server's signing secret.

-- Only a SHA-256 of each token is kept. Tokens carry their user's id, so every lookup is by (user_id, hash).
CREATE TABLE auth_tokens (
    user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash bytea NOT NULL CHECK (length(token_hash) = 32),
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    PRIMARY KEY (user_id, token_hash)
);

CREATE INDEX auth_tokens_expires_at_idx ON auth_tokens (expires_at);

-- The first 201 answer to a POST /v1/entries with an Idempotency-Key, replayed byte for byte for 24 hours.
CREATE TABLE idempotency_keys (
    user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    key         text NOT NULL CHECK (char_length(key) BETWEEN 1 AND 255),
    -- SHA-256 of the request body in canonical form.
    fingerprint bytea NOT NULL,
    -- NULL while the first request is in flight.
    response    bytea,
    entry_id    uuid,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, key)
);

CREATE INDEX idempotency_keys_created_at_idx ON idempotency_keys (created_at);

-- Failed log-ins per trimmed, lower-cased email, whether or not an account has it: the limit holds across
-- every server instance because it lives here.
CREATE TABLE failed_logins (
    email        text NOT NULL,
    attempted_at timestamptz NOT NULL DEFAULT clock_timestamp()
);

CREATE INDEX failed_logins_email_idx ON failed_logins (email, attempted_at);

-- Secrets shared by every instance (the listing cursor's HMAC key). gen_random_uuid() draws from the
-- server's strong random source: two of them give 244 random bits.
CREATE TABLE server_secrets (
    name       text PRIMARY KEY,
    secret     bytea NOT NULL CHECK (length(secret) >= 32),
    created_at timestamptz NOT NULL DEFAULT now()
);

INSERT INTO server_secrets (name, secret)
VALUES ('cursor', decode(replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', ''), 'hex'));
