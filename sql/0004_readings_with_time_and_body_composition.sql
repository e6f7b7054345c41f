-- Entries as devices record them: the moment of the reading with the UTC offset it was taken at, body composition
-- and the source. Every column is nullable: existing rows stay as they are (no table rewrite), and every range the
-- contract states is a CHECK, so rows written by hand obey it too.

ALTER TABLE weight_entries
    -- The instant of the reading, and the offset (minutes east of UTC) it was written in; `Z` is kept apart from
    -- `+00:00` so each comes back as it was sent.
    ADD COLUMN measured_at timestamptz,
    ADD COLUMN measured_offset smallint,
    ADD COLUMN measured_zulu boolean,
    -- Percentages exactly as entered, > 0 and < 100, at most 2 decimal places.
    ADD COLUMN body_fat_percent numeric,
    ADD COLUMN water_percent numeric,
    ADD COLUMN muscle_percent numeric,
    -- A visceral fat rating, 1 to 59.
    ADD COLUMN visceral_fat smallint,
    -- Where the reading came from ("manual", "Withings Body+"), 1 to 100 characters, trimmed.
    ADD COLUMN source text,
    ADD CONSTRAINT weight_entries_measured_offset_range CHECK (measured_offset BETWEEN -720 AND 840),
    ADD CONSTRAINT weight_entries_measured_together CHECK (
        (measured_at IS NULL) = (measured_offset IS NULL) AND (measured_at IS NULL) = (measured_zulu IS NULL)
        AND (NOT measured_zulu OR measured_offset = 0)),
    -- recorded_on is the day of measured_at where it was taken.
    ADD CONSTRAINT weight_entries_recorded_on_of_measured_at CHECK (
        measured_at IS NULL
        OR recorded_on = ((measured_at AT TIME ZONE 'UTC') + make_interval(mins => measured_offset))::date),
    ADD CONSTRAINT weight_entries_body_fat_percent_range CHECK (
        body_fat_percent > 0 AND body_fat_percent < 100 AND body_fat_percent = round(body_fat_percent, 2)),
    ADD CONSTRAINT weight_entries_water_percent_range CHECK (
        water_percent > 0 AND water_percent < 100 AND water_percent = round(water_percent, 2)),
    ADD CONSTRAINT weight_entries_muscle_percent_range CHECK (
        muscle_percent > 0 AND muscle_percent < 100 AND muscle_percent = round(muscle_percent, 2)),
    ADD CONSTRAINT weight_entries_visceral_fat_range CHECK (visceral_fat BETWEEN 1 AND 59),
    ADD CONSTRAINT weight_entries_source_length CHECK (
        char_length(source) BETWEEN 1 AND 100 AND source = btrim(source));

-- The listing order gains the time of day: newest day first; within a day, entries without measured_at first
-- (they count as later), then measured_at newest first; then created_at, then id. NULL sorts as 'infinity', so one
-- row comparison over (recorded_on, coalesce(measured_at, 'infinity'), created_at, id) pages through it, and this
-- index (which also serves the foreign key, led by user_id) answers every page, forwards or backwards, with one
-- range scan.
CREATE INDEX weight_entries_user_order_idx ON weight_entries
    (user_id, recorded_on DESC, coalesce(measured_at, 'infinity'::timestamptz) DESC, created_at DESC, id DESC);
DROP INDEX weight_entries_user_recent_idx;
