-- changes.page (ChangeFeed.changes, from the start): GET /v1/changes?limit=30 runs exactly this, limit + 1 rows
-- of live entries and tombstones merged in change order, with the user's feed horizon.
WITH changed AS (
    (SELECT id, weight, unit, recorded_on, note, created_at, updated_at, measured_at, measured_offset, measured_zulu,
            body_fat_percent, water_percent, muscle_percent, visceral_fat, source, client_record_id, client_version,
            change_seq, NULL::timestamptz AS deleted_at FROM weight_entries
     WHERE user_id = :uid AND (change_seq, id) > (:seq0, :zero)
     ORDER BY change_seq, id LIMIT :lim)
    UNION ALL
    (SELECT entry_id AS id, NULL::numeric AS weight, NULL::text AS unit, NULL::date AS recorded_on, NULL::text AS note,
            NULL::timestamptz AS created_at, NULL::timestamptz AS updated_at, NULL::timestamptz AS measured_at,
            NULL::smallint AS measured_offset, NULL::boolean AS measured_zulu, NULL::numeric AS body_fat_percent,
            NULL::numeric AS water_percent, NULL::numeric AS muscle_percent, NULL::smallint AS visceral_fat,
            NULL::text AS source, NULL::text AS client_record_id, NULL::bigint AS client_version, change_seq,
            deleted_at FROM entry_tombstones
     WHERE user_id = :uid AND (change_seq, entry_id) > (:seq0, :zero)
     ORDER BY change_seq, entry_id LIMIT :lim)
    ORDER BY change_seq, id LIMIT :lim)
SELECT changed.*, users.feed_horizon FROM users LEFT JOIN changed ON true
WHERE users.id = :uid
ORDER BY changed.change_seq, changed.id;
