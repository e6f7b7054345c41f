#!/usr/bin/env python3
"""Readiness and metrics on a listener of their own (--ops-port); production refuses to start without one.

1. Development with `--ops-port P` (default --ops-host): P listens on 127.0.0.1 only (/proc/net/tcp) and serves
   `/readyz` (200 JSON), `/metrics` (200 Prometheus text) and `/healthz` (200) - and nothing else (`/openapi.json`,
   `/v1/me` there: 404). The public port answers `/readyz` and `/metrics` with 404 problem JSON (code `not_found`)
   and still serves `/healthz`, `/openapi.json` and the API (a user registers, logs in, creates and reads an
   entry). The metrics on P count the public port's requests (5 more GET /openapi.json, 5 more in the counter).
2. Development without `--ops-port`: the public port serves `/readyz` and `/metrics` as before (200).
3. `--production --database-url <the test cluster> --hash-cost 12` without `--ops-port`: exits non-zero within
   30 s, saying so in exactly one line of its output, which names `--ops-port`; nothing ever listened on its port.
   The same with `--ops-port`: starts (the cluster is direct, so the statement timeout it checks matches), P
   answers `/readyz` 200 and the public port `/readyz` and `/metrics` 404; it exits 0 on SIGTERM.
"""

import signal
import subprocess
import time

import kit as h
from harness.binaries import SQL_DIR, weighin_bin  # noqa: E402 - kit puts checks/ on the path


def listen_addresses(port) -> list:
    """The local addresses (hex, as /proc/net/tcp writes them) listening on `port`, IPv4 and IPv6."""
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as f:
                lines = f.read().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            address, _, hex_port = fields[1].rpartition(":")
            if int(hex_port, 16) == port and fields[3] == "0A":
                found.append(address)
    return found


def is_problem_404(r) -> bool:
    try:
        body = r.json()
    except ValueError:
        return False
    return (r.status == 404 and (r.header("Content-Type") or "").startswith("application/problem+json")
            and body.get("status") == 404 and body.get("code") == "not_found")


def counter(metrics: dict, route: str, status: str = "200") -> float:
    """weighin_http_requests_total for GET `route` with `status` (0 when absent)."""
    for key, value in metrics.items():
        if key.startswith("weighin_http_requests_total{") and f'route="{route}"' in key \
                and f'status="{status}"' in key and 'method="GET"' in key:
            return value
    return 0.0


def describe(r) -> str:
    return f"{r.status} {r.header('Content-Type')} {r.body[:70]!r}"


def main(report: h.Report):
    base = h.workdir("ops")
    cluster = h.Cluster(base).create()

    # 1. Development with an ops listener.
    server = h.Server(base, cluster.url, name="serve-ops", ops=True,
                      args=("--hash-cost", "4", "--log-level", "warning")).start()
    ops, public = server.ops_url, server.url
    report.figure("ports_public_ops", f"{server.port}/{server.ops_port}")
    addresses = listen_addresses(server.ops_port)
    report.check("the ops listener listens on 127.0.0.1 only (default --ops-host)", addresses == ["0100007F"],
                 f"{addresses}")
    ready = h.request(ops, "GET", "/readyz")
    metrics = h.request(ops, "GET", "/metrics")
    health = h.request(ops, "GET", "/healthz")
    report.check("the ops port serves /readyz (200 JSON)", ready.status == 200
                 and ready.json().get("status") == "ready", describe(ready))
    report.check("the ops port serves /metrics (200 Prometheus text with weighin_http_requests_total)",
                 metrics.status == 200 and (metrics.header("Content-Type") or "").startswith("text/plain")
                 and b"weighin_http_requests_total" in metrics.body, describe(metrics))
    report.check("the ops port serves /healthz (200)", health.status == 200, describe(health))
    elsewhere = {path: h.request(ops, "GET", path) for path in ("/openapi.json", "/v1/me", "/")}
    report.check("the ops port serves nothing else (/openapi.json, /v1/me, /: 404 problem JSON)",
                 all(is_problem_404(r) for r in elsewhere.values()),
                 f"{ {p: r.status for p, r in elsewhere.items()} }")

    for path in ("/readyz", "/metrics"):
        for method in ("GET", "HEAD"):
            r = h.request(public, method, path)
            ok = r.status == 404 and (method == "HEAD" or is_problem_404(r))
            report.check(f"the public port answers {method} {path} with 404" + (" problem JSON (not_found)"
                                                                               if method == "GET" else ""),
                         ok, describe(r))
    pub_health = h.request(public, "GET", "/healthz")
    pub_openapi = h.request(public, "GET", "/openapi.json")
    report.check("the public port still serves /healthz (200)", pub_health.status == 200, describe(pub_health))
    report.check("... and /openapi.json (200)", pub_openapi.status == 200
                 and pub_openapi.json().get("openapi", "").startswith("3.1"), describe(pub_openapi))
    user = h.new_user(public, "ops")
    created = h.request(public, "POST", "/v1/entries", token=user.token, json_body=h.entry_body("ops-1"))
    listed = h.request(public, "GET", "/v1/entries", token=user.token)
    report.check("... and the API (register, log in, create and list an entry)",
                 created.status == 201 and listed.status == 200 and len(listed.json().get("entries", [])) == 1,
                 f"{created.status} {listed.status}")
    before = counter(server.metrics(), "/openapi.json")
    for _ in range(5):
        h.request(public, "GET", "/openapi.json")
    after = counter(server.metrics(), "/openapi.json")
    report.figure("openapi_requests_counted_before_after", f"{before:g}/{after:g}")
    report.check("the ops port's metrics count the public port's requests (+5 GET /openapi.json)",
                 after - before == 5, f"{before:g} -> {after:g}")
    server.stop()

    # 2. Development without an ops listener: as before.
    plain = h.Server(base, cluster.url, name="serve-plain", args=("--hash-cost", "4", "--log-level", "warning")).start()
    r_ready = h.request(plain.url, "GET", "/readyz")
    r_metrics = h.request(plain.url, "GET", "/metrics")
    report.check("without --ops-port the public port serves /readyz (200) and /metrics (200)",
                 r_ready.status == 200 and r_metrics.status == 200 and b"weighin_http_requests_total" in r_metrics.body,
                 f"{r_ready.status} {r_metrics.status}")
    plain.stop()

    # 3. Production.
    port = h.PORTS.take()
    cmd = [weighin_bin(), "serve", "--production", "--host", "127.0.0.1", "--port", str(port), "--sql-dir", SQL_DIR,
           "--database-url", cluster.url, "--hash-cost", "12"]
    t0 = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    listened = False
    while proc.poll() is None and time.monotonic() - t0 < 30:
        listened = listened or bool(listen_addresses(port))
        time.sleep(0.05)
    if proc.poll() is None:
        proc.kill()
    out = proc.communicate(timeout=10)[0]
    took = time.monotonic() - t0
    naming = [line for line in out.splitlines() if "--ops-port" in line]
    report.figure("production_refusal", f"exit {proc.returncode} after {took:.2f}s: {naming[:1]}")
    report.check("--production without --ops-port refuses to start (exit non-zero within 30 s)",
                 proc.returncode not in (None, 0) and took < 30, f"exit {proc.returncode} after {took:.1f}s")
    report.check("... in exactly one line of output, which names --ops-port", len(naming) == 1,
                 f"{out.strip()[:300]!r}")
    report.check("... and nothing ever listened on its port", not listened)

    prod = h.Server(base, cluster.url, name="serve-production", ops=True,
                    args=("--production", "--hash-cost", "12", "--log-level", "warning")).start(ready_timeout=60)
    p_ready = h.request(prod.ops_url, "GET", "/readyz")
    p_pub = {path: h.request(prod.url, "GET", path) for path in ("/readyz", "/metrics")}
    p_health = h.request(prod.url, "GET", "/healthz")
    report.check("--production with --ops-port starts: the ops port answers /readyz 200", p_ready.status == 200,
                 describe(p_ready))
    report.check("... the public port /readyz and /metrics 404 problem JSON, /healthz 200",
                 all(is_problem_404(r) for r in p_pub.values()) and p_health.status == 200,
                 f"{ {p: r.status for p, r in p_pub.items()} } healthz {p_health.status}")
    prod.signal(signal.SIGTERM)
    code = prod.exit_code_within(30)
    report.check("... and exits 0 on SIGTERM", code == 0, f"{code}")


if __name__ == "__main__":
    rep = h.Report("ops_listener", "readiness and metrics on --ops-port only; production requires it")
    h.run_test(rep, main)
