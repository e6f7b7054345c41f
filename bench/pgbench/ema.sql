-- stats.daily_values.mean (StatisticsService.dailyValues, display unit kg): GET /v1/trend?method=ema runs exactly
-- this (no `from`: the whole history); the fold is done by the server.
WITH e AS (SELECT recorded_on, coalesce(measured_at, 'infinity'::timestamptz) AS m, created_at, id, weight, unit,
       CASE WHEN unit = 'kg' THEN weight ELSE weight * 0.45359237 END AS w
FROM weight_entries
WHERE user_id = :uid AND recorded_on BETWEEN :lo AND :hi)
SELECT recorded_on AS day, w AS value, round(w, 2) AS shown FROM (SELECT recorded_on, NULL::timestamptz AS m, NULL::timestamptz AS created_at, NULL::uuid AS id,
       NULL::numeric AS weight, NULL::text AS unit, avg(w) AS w
FROM e GROUP BY recorded_on) AS chosen
ORDER BY recorded_on;
