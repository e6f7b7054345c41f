-- Part 1's entries.insert, for the writes phase's baseline: no change number (the phase turns off the trigger that
-- would take one) and Part 1's columns.
INSERT INTO weight_entries (user_id, weight, unit, recorded_on, note)
VALUES (:uid, :w, :unit, :day, NULL)
RETURNING id, weight, unit, recorded_on, note, created_at, updated_at;
