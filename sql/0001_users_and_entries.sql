-- Accounts and their weight entries.
--
-- Every table that belongs to a user references users(id) ON DELETE CASCADE, so deleting the account row
-- removes everything of theirs in the same statement; every such foreign key is indexed (led by user_id).

CREATE TABLE users (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    -- Stored trimmed and lower-cased by the service (Unicode default case mapping).
    email         text NOT NULL CHECK (char_length(email) BETWEEN 3 AND 254 AND email LIKE '%_@_%'),
    name          text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 255),
    -- A bcrypt hash (of a SHA-256 pre-hash, so every byte of a long password counts).
    password_hash text NOT NULL,
    -- The default display unit; it never changes stored entries.
    weight_unit   text NOT NULL DEFAULT 'kg' CHECK (weight_unit IN ('kg', 'lb')),
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);

-- Unique regardless of case, even for rows written by hand.
CREATE UNIQUE INDEX users_email_key ON users (lower(email));

CREATE TABLE weight_entries (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- The weight exactly as entered, in the unit it was entered in.
    weight      numeric NOT NULL CHECK (weight > 0 AND weight = round(weight, 2)),
    unit        text NOT NULL CHECK (unit IN ('kg', 'lb')),
    recorded_on date NOT NULL CHECK (recorded_on >= DATE '1900-01-01'),
    note        text CHECK (char_length(note) <= 500),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    -- At most 1000 kg, or the same in pounds (2204.62 lb).
    CONSTRAINT weight_entries_weight_range CHECK (
        (unit = 'kg' AND weight <= 1000) OR (unit = 'lb' AND weight <= 2204.62))
);

-- Serves the foreign key (deleting a user) and every per-user read: newest-first listing with keyset paging,
-- date ranges, statistics and trend.
CREATE INDEX weight_entries_user_recent_idx
    ON weight_entries (user_id, recorded_on DESC, created_at DESC, id DESC);
