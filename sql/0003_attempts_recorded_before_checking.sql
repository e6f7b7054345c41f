-- Password attempts are recorded before the password is checked, under a lock per email (log-in) or per user
-- (password change), and forgiven after a success: concurrent guesses are all counted, so the limit of 10 per
-- 15 minutes holds however many arrive at once. Each attempt has an id so that exactly it can be forgiven.

ALTER TABLE failed_logins ADD COLUMN attempt_id uuid NOT NULL DEFAULT gen_random_uuid();

-- Wrong current passwords given to a password change, per user (a stolen token must not guess at hashing speed).
CREATE TABLE failed_password_changes (
    user_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    attempt_id   uuid NOT NULL DEFAULT gen_random_uuid(),
    attempted_at timestamptz NOT NULL DEFAULT clock_timestamp()
);

CREATE INDEX failed_password_changes_user_idx ON failed_password_changes (user_id, attempted_at);
