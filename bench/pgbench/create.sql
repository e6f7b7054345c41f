-- entries.insert (EntryService.create without Idempotency-Key): POST /v1/entries runs exactly this.
-- The service binds the absent note as a NULL parameter; pgbench variables cannot hold NULL, so it is a literal.
INSERT INTO weight_entries (user_id, weight, unit, recorded_on, note)
VALUES (:uid, :w, :unit, :day, NULL)
RETURNING id, weight, unit, recorded_on, note, created_at, updated_at;
