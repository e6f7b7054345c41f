-- entries.get (EntryService.get): GET /v1/entries/{id} runs exactly this.
SELECT id, weight, unit, recorded_on, note, created_at, updated_at, measured_at, measured_offset, measured_zulu,
       body_fat_percent, water_percent, muscle_percent, visceral_fat, source, client_record_id, client_version,
       change_seq
FROM weight_entries WHERE id = :eid AND user_id = :uid;
