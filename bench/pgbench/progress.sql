-- goals.progress (GoalService.progress, display unit kg): GET /v1/goal/progress runs exactly this.
-- (`:rdays::integer`: the service binds a typed integer; pgbench's untyped parameter needs the cast.)
WITH g AS (SELECT target_weight, target_unit, target_date, start_weight, start_unit, start_date, created_at, updated_at FROM goals WHERE user_id = :uid),
e AS (SELECT recorded_on, coalesce(measured_at, 'infinity'::timestamptz) AS m, created_at, id, weight, unit,
       CASE WHEN unit = 'kg' THEN weight ELSE weight * 0.45359237 END AS w
FROM weight_entries
WHERE user_id = :uid AND recorded_on BETWEEN :lo AND :hi),
d AS (SELECT recorded_on, NULL::timestamptz AS m, NULL::timestamptz AS created_at, NULL::uuid AS id,
       NULL::numeric AS weight, NULL::text AS unit, avg(w) AS w
FROM e GROUP BY recorded_on),
recent AS (
    SELECT (recorded_on - DATE '2000-01-01')::numeric AS x, w FROM d
    WHERE recorded_on > (SELECT max(recorded_on) FROM d) - :rdays::integer),
fit AS (
    SELECT CASE WHEN count(*) >= :rmin THEN
               7 * (count(*) * sum(x * w) - sum(x) * sum(w)) / (count(*) * sum(x * x) - sum(x) * sum(x))
           END AS rate
    FROM recent)
SELECT g.*, round(fit.rate, 2) AS weekly_rate, fit.rate::float8 AS exact_rate,
       d.recorded_on AS day, d.w::float8 AS value
FROM g CROSS JOIN fit LEFT JOIN d ON true
ORDER BY d.recorded_on;
