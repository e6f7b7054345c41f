-- entries.insert (EntryService.create without Idempotency-Key): POST /v1/entries runs exactly this. The change
-- number (weighin_change_seq) is the feed's one extra row touch: an UPDATE of the user's row.
-- The service binds the absent members as NULL parameters; pgbench variables cannot hold NULL, so they are literals.
INSERT INTO weight_entries (user_id, weight, unit, recorded_on, note, measured_at, measured_offset,
                            measured_zulu, body_fat_percent, water_percent, muscle_percent, visceral_fat,
                            source, change_seq)
VALUES (:uid, :w, :unit, :day, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, weighin_change_seq(:uid))
RETURNING id, weight, unit, recorded_on, note, created_at, updated_at, measured_at, measured_offset, measured_zulu,
          body_fat_percent, water_percent, muscle_percent, visceral_fat, source, client_record_id, client_version,
          change_seq;
