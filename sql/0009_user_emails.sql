-- The email → account lookup, keyed by email: log-in, registration, email change and the operator's commands find
-- an account by email here, so on a database sharded by user (docs/SCALING.md: users by id, user_emails and
-- failed_logins by email) every such lookup is routed to one shard, and the key below keeps an email to one account
-- across shards, where the unique index on users (lower(email)) cannot.
--
-- Registration, email change and account deletion write it in the same transaction as users. The foreign key keeps
-- ON DELETE CASCADE (deleting the account removes its row here too); on Citus, where a foreign key between tables
-- distributed by different columns is refused, the plan drops it and the service's own DELETE does the work.
-- users_email_key stays: on one server it costs one index and also guards rows written by hand.

CREATE TABLE user_emails (
    -- As the service stores users.email: trimmed and lower-cased.
    email   text PRIMARY KEY,
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE
);

-- Serves the foreign key (deleting a user).
CREATE INDEX user_emails_user_idx ON user_emails (user_id);

INSERT INTO user_emails (email, user_id) SELECT lower(email), id FROM users;
