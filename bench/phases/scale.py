"""The listing's cost at 100 k vs 10 M rows (--scale-small, --scale-large): a database of its own grown by
users with a year of entries each, as a live table grows; at each size the API's p50 for one user's newest 30,
and the SQL of the same listing through pgbench, for that user and for random ones, each measured twice."""

import os
import statistics
import time

from harness.api import log_in, register
from harness.processes import run

from lib.loadtest import loadtest
from lib.log import log
from lib.pgbench import pgbench_cmd, template_statement
from lib.statements import classify, reset_statements, statement_stats
from phases.seed import migrate


def scale(b):
    a = b.args
    small, large = a.scale_small, a.scale_large
    db = "weighin_scale"
    b.cluster.psql(f"CREATE DATABASE {db}", db="postgres")
    migrate(b, b.cluster.url_of(db))
    srv = b.server("scale", ["--hash-cost", "4", "--access-log", "off"], db=db)
    try:
        email, password = "probe@bench.invalid", "probe-password"
        register(srv.url, email, password, "Probe")
        token = log_in(srv.url, email, password)
        per_user = 365
        b.cluster.psql("""
            CREATE TABLE bench_scale_users (n serial PRIMARY KEY, id uuid NOT NULL);
            INSERT INTO bench_scale_users (id) SELECT id FROM users WHERE email = 'probe@bench.invalid';""", db=db)
        results = {"per_user": per_user, "sizes": {}}
        for label, target in (("small", small), ("large", large)):
            users_needed = -(-target // per_user)
            t = time.monotonic()
            have_users = int(b.cluster.psql("SELECT count(*) FROM bench_scale_users", db=db))
            add = users_needed - have_users
            log(f"scale: adding {add} users x {per_user} entries (one INSERT per day, every user's entry of that "
                f"day together, as days pass) to reach {users_needed * per_user:,} rows")
            add_scale_rows(b, db, add, per_user, first=(have_users == 1))
            b.cluster.psql("VACUUM ANALYZE", db=db, timeout=3600)
            b.cluster.psql("CHECKPOINT", db=db, timeout=600)
            rows = int(b.cluster.psql("SELECT count(*) FROM weight_entries", db=db, timeout=600))
            size = b.cluster.psql("SELECT pg_size_pretty(pg_total_relation_size('weight_entries')) || ' (heap ' "
                                  "|| pg_size_pretty(pg_relation_size('weight_entries')) || ', listing index ' "
                                  "|| pg_size_pretty(pg_relation_size('weight_entries_user_order_idx')) || ')'",
                                  db=db)
            log(f"scale: {rows:,} rows, {size}, loaded in {time.monotonic() - t:.0f} s; measuring")
            b.quiet(f"scale-{label}")
            results["sizes"][label] = measure_listing(b, srv, db, token, rows, size)
        s, l = results["sizes"]["small"], results["sizes"]["large"]
        results["ratios"] = {k: round(l[k] / s[k], 3) for k in
                             ("api_probe_p50_ms", "sql_probe_mean_ms", "sql_random_mean_ms",
                              "sql_random_buffers_per_call", "sql_probe_buffers_per_call") if s.get(k)}
        results["noise"] = {k: round(max(s[k + "_spread"], l[k + "_spread"]), 3) for k in
                            ("api_probe_p50_ms", "sql_probe_mean_ms", "sql_random_mean_ms")}
        b.results["scale"] = results
        log(f"scale: large/small ratios {results['ratios']} (repetition spread {results['noise']})")
        b.save()
    finally:
        srv.stop()


def add_scale_rows(b, db, add_users, per_user, first):
    if add_users <= 0:
        return
    # New users arrive with a year of history each: the rows of one day for every user in one INSERT, days in
    # order, so each user's entries are spread over the heap as they are in a live table.
    b.cluster.psql(f"""
        CREATE TEMP TABLE new_users AS
        WITH ins AS (
            INSERT INTO users (email, name, password_hash)
            SELECT 'scale-' || g || '-' || txid_current() || '@bench.invalid', 'Scale ' || g, 'no-login'
            FROM generate_series(1, {add_users}) g RETURNING id)
        SELECT id FROM ins;
        INSERT INTO bench_scale_users (id) SELECT id FROM new_users;
        {"INSERT INTO new_users SELECT id FROM users WHERE email = 'probe@bench.invalid';" if first else ""}
        DO $$
        BEGIN
            FOR d IN REVERSE {per_user - 1}..0 LOOP
                INSERT INTO weight_entries (user_id, weight, unit, recorded_on, created_at, updated_at)
                SELECT id, round((45 + random() * 70)::numeric, 2), 'kg', current_date - d,
                       (current_date - d) + time '07:30' + random() * interval '1 hour',
                       (current_date - d) + time '07:30'
                FROM new_users;
                COMMIT;
            END LOOP;
        END $$;""", db=db, timeout=7200)


def measure_listing(b, srv, db, token, rows, size):
    dur = b.args.scale_duration
    out = {"rows": rows, "size": size}
    probe = b.cluster.psql("SELECT id FROM users WHERE email = 'probe@bench.invalid'", db=db)
    nusers = int(b.cluster.psql("SELECT count(*) FROM bench_scale_users", db=db))
    list_sql = template_statement("list")
    gen = os.path.join(b.out, "pgbench")
    os.makedirs(gen, exist_ok=True)
    random_script = os.path.join(gen, "scale-random.gen.sql")
    with open(random_script, "w") as f:
        f.write(f"\\set n random(1, {nusers})\nSELECT id AS uid FROM bench_scale_users WHERE n = :n \\gset\n"
                f"{list_sql};\n")
    probe_script = os.path.join(gen, "scale-probe.gen.sql")
    with open(probe_script, "w") as f:
        f.write(f"{list_sql.replace(':uid', ':probe')};\n")
    explain = b.cluster.psql(
        "PREPARE l(uuid, date, date, bigint) AS " + list_sql.replace(":uid", "$1").replace(":lo", "$2")
        .replace(":hi", "$3").replace(":lim", "$4") + ";\n"
        + "EXECUTE l('%s', '0001-01-01', '9999-12-31', 31);\n" % probe * 3
        + "EXPLAIN (ANALYZE, BUFFERS, TIMING OFF) EXECUTE l('%s', '0001-01-01', '9999-12-31', 31);" % probe,
        db=db, tuples=False)
    out["explain_probe"] = explain[explain.find("QUERY PLAN"):] if "QUERY PLAN" in explain else explain
    for rep in (1, 2):
        for kind, script, extra in (("probe", probe_script, ["-D", f"probe={probe}"]), ("random", random_script, [])):
            reset_statements(b.monitor)
            cmd = pgbench_cmd(b, 1, dur, [(script, None)], db=db, extra=extra)
            run(cmd, dur + 120)
            st = [s for s in statement_stats(b.monitor, db) if classify(s["query"]) == "list"]
            calls = sum(s["calls"] for s in st)
            mean = sum(s["total_ms"] for s in st) / max(1, calls)
            bufs = sum(s["hit"] + s["read"] for s in st) / max(1, calls)
            reads = sum(s["read"] for s in st) / max(1, calls)
            out.setdefault(f"sql_{kind}_mean_ms_reps", []).append(round(mean, 4))
            out[f"sql_{kind}_buffers_per_call"] = round(bufs, 2)
            out[f"sql_{kind}_reads_per_call"] = round(reads, 3)
        report, _, cmd = loadtest(b, srv, f"scale-{rows}-{rep}", ["--token", token, "--mix", "list=1"],
                                  connections=1, warmup=2, duration=dur, window=False)
        out.setdefault("api_probe_p50_ms_reps", []).append(report["overall"]["latency_ms"]["p50"])
        out.setdefault("api_probe_p99_ms_reps", []).append(report["overall"]["latency_ms"]["p99"])
        out.setdefault("api_probe_rps_reps", []).append(report["overall"]["throughput"])
    for k in ("api_probe_p50_ms", "sql_probe_mean_ms", "sql_random_mean_ms"):
        reps = out[k + "_reps"]
        out[k] = round(statistics.mean(reps), 4)
        out[k + "_spread"] = round((max(reps) - min(reps)) / statistics.mean(reps), 3)
    log(f"scale {rows:,} rows: API probe p50 {out['api_probe_p50_ms']:.3f} ms; SQL probe "
        f"{out['sql_probe_mean_ms']:.4f} ms ({out['sql_probe_buffers_per_call']} buffers), random users "
        f"{out['sql_random_mean_ms']:.4f} ms ({out['sql_random_buffers_per_call']} buffers, "
        f"{out['sql_random_reads_per_call']} read outside shared_buffers)")
    return out
