"""Part 2's calls against the listing (issues 11, 12, 16): GET /v1/trend?method=ema, GET /v1/goal/progress,
GET /v1/changes?limit=30 (a page of the change feed) and PUT /v1/entries/by-client-id/{id} for one user
with 5 years of daily entries, next to GET /v1/entries?limit=30 for the same user. For each: the API's throughput,
latency and CPU per request (server, PostgreSQL, load generator) under `weighin loadtest --token` on --reads-
connections connections, the statements per request, and the SQL alone through pgbench (mean ms, buffers)."""

import datetime
import json
import os
import urllib.request

from harness.api import log_in, register
from harness.processes import run

from lib.loadtest import loadtest
from lib.log import log
from lib.pgbench import pgbench_cmd, template_statement
from lib.statements import classify, reset_statements, statement_stats
from lib.window import strip_list

DAYS = 5 * 365 + 1
# The PUT by client id comes last (it adds up to 5,000 entries to the user): a transaction of two statements, so it
# has no single statement for pgbench alone.
CALLS = (("list", "list=1"), ("ema", "ema=1"), ("progress", "progress=1"), ("changes", "changes=1"), ("put", "put=1"))


def reads(b, srv):
    a = b.args
    email, password = "reads@bench.invalid", "reads-password"
    register(srv.url, email, password, "Reads")
    token = log_in(srv.url, email, password)
    today = datetime.datetime.now(datetime.timezone.utc).date()
    rows = [{"weight": round(95 - 15 * d / DAYS + (d * 37 % 11 - 5) / 10, 2), "unit": "kg",
             "recorded_on": (today - datetime.timedelta(days=d)).isoformat()} for d in range(DAYS)]
    call(srv.url, "POST", "/v1/entries/import", token, rows)
    call(srv.url, "PUT", "/v1/goal", token, {"target_weight": 70})
    b.cluster.psql("VACUUM ANALYZE weight_entries")
    uid = b.cluster.psql(f"SELECT id FROM users WHERE email = '{email}'")
    out = {"entries": DAYS, "connections": a.reads_connections, "calls": {}}
    for name, mix in CALLS:
        b.quiet(f"reads-{name}")
        report, w, cmd = loadtest(b, srv, f"reads-{name}", ["--token", token, "--mix", mix],
                                  connections=a.reads_connections)
        ov = report["overall"]
        out["calls"][name] = {
            "throughput": ov["throughput"], "p50_ms": ov["latency_ms"]["p50"], "p99_ms": ov["latency_ms"]["p99"],
            "errors": ov["errors"], "cpu_us_per_request": w["cpu_us_per_request"],
            # One call at a time: every statement of the window is the call's (a PUT's BEGIN and COMMIT included).
            "statements_per_request": round(w["statements_total"] / max(1.0, w["requests_total"]), 3),
            "round_trips_per_request": round(w["round_trips_per_request"], 3),
            "sql": pgbench_alone(b, name, uid) if name != "put" else None, "window": strip_list(w),
            "command": " ".join(cmd),
        }
        c = out["calls"][name]
        alone = (f"; SQL alone {c['sql']['mean_ms']:.3f} ms, {c['sql']['buffers_per_call']} buffers" if c["sql"]
                 else "")
        log(f"reads {name}: {c['throughput']:.0f} req/s, p50 {c['p50_ms']:.2f} ms, CPU us/request "
            f"{c['cpu_us_per_request']}, {c['statements_per_request']} statements/request{alone}")
    base = out["calls"]["list"]
    out["ratios_to_list"] = {name: {
        "server_cpu": ratio(out["calls"][name]["cpu_us_per_request"].get("server"), base["cpu_us_per_request"].get("server")),
        "postgres_cpu": ratio(out["calls"][name]["cpu_us_per_request"].get("postgres"),
                              base["cpu_us_per_request"].get("postgres")),
        "throughput": ratio(out["calls"][name]["throughput"], base["throughput"]),
        "sql_mean": ratio((out["calls"][name]["sql"] or {}).get("mean_ms"), base["sql"]["mean_ms"]),
    } for name, _ in CALLS if name != "list"}
    b.results["reads"] = out
    log(f"reads: cost relative to the listing {out['ratios_to_list']}")
    b.save()


def ratio(x, y):
    return round(x / y, 2) if x and y else None


def call(base, method, path, token, body):
    req = urllib.request.Request(base + path, method=method, data=json.dumps(body).encode(),
                                 headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=120) as r:
        r.read()


def pgbench_alone(b, name, uid):
    """The statement of `name` alone for the reads user: one pgbench client for a few seconds."""
    seconds = max(5, b.duration // 3)
    path = os.path.join(b.out, "pgbench", f"reads-{name}.gen.sql")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(template_statement(name).replace(":uid", ":probe") + ";\n")
    reset_statements(b.monitor)
    run(pgbench_cmd(b, 1, seconds, [(path, None)], extra=["-D", f"probe={uid}"]), seconds + 120)
    st = [s for s in statement_stats(b.monitor) if classify(s["query"]) == name]
    calls = sum(s["calls"] for s in st)
    return {"calls": calls, "mean_ms": round(sum(s["total_ms"] for s in st) / max(1, calls), 4),
            "buffers_per_call": round(sum(s["hit"] + s["read"] for s in st) / max(1, calls), 1)}
