-- stats.summary (StatisticsService.statistics, display unit kg): GET /v1/stats runs exactly this.
WITH e AS (
    SELECT recorded_on, created_at, id, weight, unit, CASE WHEN unit = 'kg' THEN weight ELSE weight * 0.45359237 END AS w,
           (recorded_on - DATE '2000-01-01')::numeric AS x
    FROM weight_entries
    WHERE user_id = :uid AND recorded_on BETWEEN :lo AND :hi),
totals AS (
    SELECT count(*) AS n, count(DISTINCT recorded_on) AS days, min(w) AS min_w, max(w) AS max_w,
           avg(w) AS mean_w, sum(x) AS sx, sum(w) AS sy, sum(x * w) AS sxy, sum(x * x) AS sxx
    FROM e),
first AS (SELECT * FROM e ORDER BY recorded_on, created_at, id LIMIT 1),
latest AS (SELECT * FROM e ORDER BY recorded_on DESC, created_at DESC, id DESC LIMIT 1)
SELECT totals.n, round(totals.min_w, 2) AS min, round(totals.max_w, 2) AS max,
       round(totals.mean_w, 2) AS mean,
       first.recorded_on AS first_on, first.weight AS first_weight, first.unit AS first_unit,
       latest.recorded_on AS latest_on, latest.weight AS latest_weight, latest.unit AS latest_unit,
       round(latest.w - first.w, 2) AS change,
       CASE WHEN totals.days >= 2 THEN
           round(7 * (totals.n * totals.sxy - totals.sx * totals.sy)
                 / (totals.n * totals.sxx - totals.sx * totals.sx), 2)
       END AS weekly_rate
FROM totals LEFT JOIN first ON true LEFT JOIN latest ON true;
