"""The service: the release server (weighin's defaults but the bcrypt cost) under `weighin loadtest` with the
mix and as many connections as the ceiling's clients; then, on the same server, the open loop and two floors: the
HTTP floor (what any request costs this HTTP stack before it does work of its own) and the statement floor (what
the simplest authenticated request that reads one row costs)."""

import json

from harness import procfs
from harness.processes import run

from lib.loadtest import loadtest
from lib.log import log
from lib.window import strip_list
from lib.workload import SERVICE_FLAGS, mix_text
from phases.openloop import open_loop


def service(b):
    a = b.args
    b.reset_data()
    b.quiet("service")
    srv = b.server("service", SERVICE_FLAGS, measured=True)
    try:
        log(f"service: weighin serve (release, default settings) under weighin loadtest, {a.connections} "
            f"connections, mix {mix_text()}, {b.warmup} s warm-up + {b.duration} s")
        report, w, cmd = loadtest(b, srv, "closed", [], connections=a.connections)
        ov = report["overall"]
        b.results["service"] = {
            "throughput": ov["throughput"], "latency_ms": ov["latency_ms"], "errors": ov["errors"],
            "connections": a.connections, "scenarios": {s["scenario"]: {
                "throughput": s["throughput"], "p50": s["latency_ms"]["p50"], "p99": s["latency_ms"]["p99"]}
                for s in report["scenarios"]},
            "window": strip_list(w), "command": " ".join(cmd),
            "server_command": " ".join([f"{k}={v}" for k, v in srv.env.items()] + srv.cmd),
        }
        b.service_statements = w["statement_list"]
        log(f"service: {ov['throughput']:.0f} req/s, p50 {ov['latency_ms']['p50']:.2f} ms, "
            f"p99 {ov['latency_ms']['p99']:.2f} ms, {ov['errors']} errors; "
            f"{w['round_trips_per_request']:.3f} statements per request; CPU us/request {w['cpu_us_per_request']}")
        b.save()
        if "openloop" in b.phases:
            open_loop(b, srv)
        http_floor(b, srv)
        statement_floor(b, srv)
    finally:
        srv.stop()


def http_floor(b, srv):
    """The server's CPU per request for GET /healthz (every middleware, no database, no JSON body to speak of):
    what any request costs this HTTP stack on this machine before it does any work of its own."""
    a = b.args
    b.quiet("http-floor")
    json_path = b.path("loadtest-http-floor.json")
    seconds = max(5, b.duration // 2)
    cmd = [b.binary, "loadtest", "--url", srv.url, "--path", "/healthz", "--connections", str(a.connections),
           "--warmup", "2s", "--duration", f"{seconds}s", "--json", json_path]
    log(f"http floor: GET /healthz, {a.connections} connections, {seconds} s")
    before = procfs.cpu_seconds(srv.pid)
    switches_before = procfs.context_switches(srv.pid)
    run(cmd, seconds + 60, check=False)
    spent = procfs.cpu_seconds(srv.pid) - before
    switches_after = procfs.context_switches(srv.pid)
    with open(json_path) as f:
        ov = json.load(f)["overall"]
    requests = ov["throughput"] * seconds
    # The warm-up's requests are served too: count them at the measured rate (an estimate, within a few %).
    served = max(1.0, requests * (seconds + 2) / seconds)
    per_request = spent * 1e6 / served
    # Context switches without the database: what the HTTP stack alone costs in them, on cores it shares with the
    # load generator (involuntary ones are preemptions, voluntary ones waits).
    switches = {k: round((switches_after[k] - switches_before[k]) / served, 2) for k in switches_before}
    b.results["http_floor"] = {"throughput": ov["throughput"], "server_cpu_us_per_request": round(per_request, 1),
                               "server_context_switches_per_request": switches,
                               "latency_ms": ov["latency_ms"], "command": " ".join(cmd)}
    log(f"http floor: {ov['throughput']:.0f} req/s, server CPU {per_request:.1f} us per request, context switches "
        f"per request {switches}")
    b.save()


def statement_floor(b, srv):
    """The server's CPU and context switches per request for GET /v1/me with the mix's users and tokens: the
    bearer token (from the cache), one statement through the pool for one row by its primary key, and a small JSON
    answer. No request of the mix does less, so no mix of them can cost the server less than this per request."""
    a = b.args
    b.quiet("statement-floor")
    seconds = max(12, b.duration // 2)
    log(f"statement floor: GET /v1/me, {a.connections} connections, {seconds} s")
    report, w, cmd = loadtest(b, srv, "statement-floor", ["--mix", "me=100"], connections=a.connections,
                              warmup=2, duration=seconds)
    ov = report["overall"]
    b.results["statement_floor"] = {
        "throughput": ov["throughput"], "errors": ov["errors"], "latency_ms": ov["latency_ms"],
        "cpu_us_per_request": w["cpu_us_per_request"],
        "server_context_switches_per_request": w["server_context_switches_per_request"],
        "round_trips_per_request": round(w["round_trips_per_request"], 4), "command": " ".join(cmd)}
    log(f"statement floor: {ov['throughput']:.0f} req/s, {ov['errors']} errors; CPU us/request "
        f"{w['cpu_us_per_request']}; context switches per request {w['server_context_switches_per_request']}; "
        f"{w['round_trips_per_request']:.3f} statements per request")
    b.save()
