-- entries.list (EntryService.list, first page): GET /v1/entries?limit=30 runs exactly this, limit + 1 rows.
SELECT id, weight, unit, recorded_on, note, created_at, updated_at, measured_at, measured_offset, measured_zulu,
       body_fat_percent, water_percent, muscle_percent, visceral_fat, source, client_record_id, client_version,
       change_seq FROM weight_entries
WHERE user_id = :uid AND recorded_on BETWEEN :lo AND :hi
ORDER BY recorded_on DESC, coalesce(measured_at, 'infinity'::timestamptz) DESC, created_at DESC, id DESC
LIMIT :lim;
