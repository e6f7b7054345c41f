-- stats.summary.all (StatisticsService.statistics, display unit kg): GET /v1/stats runs exactly this.
WITH e AS (SELECT recorded_on, coalesce(measured_at, 'infinity'::timestamptz) AS m, created_at, id, weight, unit,
       CASE WHEN unit = 'kg' THEN weight ELSE weight * 0.45359237 END AS w
FROM weight_entries
WHERE user_id = :uid AND recorded_on BETWEEN :lo AND :hi),
v AS (
    SELECT *, (recorded_on - DATE '2000-01-01')::numeric AS x FROM (SELECT * FROM e) AS chosen),
totals AS (
    SELECT count(*) AS n, count(DISTINCT recorded_on) AS days, min(w) AS min_w, max(w) AS max_w,
           avg(w) AS mean_w, sum(x) AS sx, sum(w) AS sy, sum(x * w) AS sxy, sum(x * x) AS sxx,
           sum(w * w) AS syy
    FROM v),
fit AS (
    SELECT sxx - sx * sx / n AS cxx, sxy - sx * sy / n AS cxy, syy - sy * sy / n AS cyy
    FROM totals WHERE days >= 2),
first AS (SELECT * FROM v ORDER BY recorded_on, m, created_at, id LIMIT 1),
latest AS (SELECT * FROM v ORDER BY recorded_on DESC, m DESC, created_at DESC, id DESC LIMIT 1)
SELECT totals.n, round(totals.min_w, 2) AS min, round(totals.max_w, 2) AS max,
       round(totals.mean_w, 2) AS mean,
       first.recorded_on AS first_on, first.weight AS first_weight, first.unit AS first_unit,
       round(first.w, 2) AS first_w,
       latest.recorded_on AS latest_on, latest.weight AS latest_weight, latest.unit AS latest_unit,
       round(latest.w, 2) AS latest_w,
       round(latest.w - first.w, 2) AS change,
       CASE WHEN totals.days >= 2 THEN
           round(7 * (totals.n * totals.sxy - totals.sx * totals.sy)
                 / (totals.n * totals.sxx - totals.sx * totals.sx), 2)
       END AS weekly_rate,
       totals.days, (fit.cxy / fit.cxx)::float8 AS slope, fit.cxx::float8 AS cxx,
       (fit.cyy - fit.cxy * fit.cxy / fit.cxx)::float8 AS sse
FROM totals LEFT JOIN first ON true LEFT JOIN latest ON true LEFT JOIN fit ON true;
