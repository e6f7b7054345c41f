-- entries.get (EntryService.get): GET /v1/entries/{id} runs exactly this.
SELECT id, weight, unit, recorded_on, note, created_at, updated_at FROM weight_entries WHERE id = :eid AND user_id = :uid;
