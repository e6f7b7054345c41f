"""The service: the release server (weighin's defaults but the bcrypt cost) under `weighin loadtest` with the
mix and as many connections as the ceiling's clients; then, on the same server, the open loop and two floors: the
HTTP floor (what any request costs this HTTP stack before it does work of its own) and the statement floor (what
the simplest authenticated request that reads one row costs)."""

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
    """GET /healthz (every middleware, no database, no JSON body to speak of): what any request costs this HTTP
    stack on this machine before it does any work of its own, in CPU and in context switches (on cores it shares
    with the load generator: involuntary ones are preemptions, voluntary ones waits)."""
    floor(b, srv, "http_floor", "GET /healthz", ["--path", "/healthz"])


def statement_floor(b, srv):
    """GET /v1/me with the mix's users and tokens: the bearer token (from the cache), one statement through the
    pool for one row by its primary key, and a small JSON answer. No request of the mix does less work."""
    floor(b, srv, "statement_floor", "GET /v1/me", ["--mix", "me=100"])


def floor(b, srv, key, label, extra):
    """One request's cost alone on the service's server, measured in a window as the mix is: `weighin loadtest`
    with `extra`, the server's CPU and context switches and PostgreSQL's CPU per request, under `key` in the
    results."""
    a = b.args
    name = key.replace("_", "-")
    b.quiet(name)
    seconds = max(12, b.duration // 2)
    log(f"{name.replace('-', ' ')}: {label}, {a.connections} connections, {seconds} s")
    report, w, cmd = loadtest(b, srv, name, extra, connections=a.connections, warmup=2, duration=seconds)
    ov = report["overall"]
    cpu = w["cpu_us_per_request"]
    b.results[key] = {
        "throughput": ov["throughput"], "errors": ov["errors"], "latency_ms": ov["latency_ms"],
        "cpu_us_per_request": cpu, "server_cpu_us_per_request": cpu["server"],
        "server_context_switches_per_request": w["server_context_switches_per_request"],
        "round_trips_per_request": round(w["round_trips_per_request"], 4), "command": " ".join(cmd)}
    log(f"{name.replace('-', ' ')}: {ov['throughput']:.0f} req/s, {ov['errors']} errors; CPU us/request {cpu}; "
        f"context switches per request {w['server_context_switches_per_request']}; "
        f"{w['round_trips_per_request']:.3f} statements per request")
    b.save()
