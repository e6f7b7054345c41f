#!/usr/bin/env python3
"""Backends killed one by one under load.

Python clients (readers, writers with and without Idempotency-Key) load one server while, every 1.5 s, one of
weighin's PostgreSQL backends is ended with `pg_terminate_backend` (8 times). Checks:
  - every request answers 2xx, except requests that were in flight while a backend was being killed, and
    those answer 503 (with Retry-After): a failed request whose lifetime does not overlap a kill is a failure;
  - no 500, no hang, no dropped HTTP connection;
  - every entry answered 201 exists afterwards; idempotent retries created no duplicates.
"""

import threading
import time

import kit as h

KILLS = 8
INTERVAL = 1.5
POOL_TIMEOUT = 2.0


def main(report: h.Report):
    base = h.workdir("backendkill")
    cluster = h.Cluster(base).create()
    server = h.Server(base, cluster.url, args=h.NO_RATE_LIMIT + ("--pool-size", "4", "--pool-timeout", f"{POOL_TIMEOUT:g}s",
                                                "--hash-cost", "4", "--log-level", "warning")).start()
    users = [h.new_user(server.url) for _ in range(4)]
    log, writes, stop = h.Log(), h.Writes(), threading.Event()
    retry_until = [None]
    timeout = POOL_TIMEOUT + 5
    targets = []
    for i, u in enumerate(users):
        targets.append(lambda u=u, i=i: h.writer_loop(server.url, u.token, f"bk-k{i}", stop, log, writes, True, timeout,
                                                      retry_deadline=lambda: retry_until[0] is not None
                                                      and time.monotonic() > retry_until[0]))
    for i, u in enumerate(users[:2]):
        targets.append(lambda u=u, i=i: h.writer_loop(server.url, u.token, f"bk-p{i}", stop, log, writes, False, timeout))
    for u in users:
        targets.append(lambda u=u: h.reader_loop(server.url, u.token, stop, log, timeout))
    threads = h.start_threads(targets)

    time.sleep(2.0)
    kills = []   # (before the call, after the call, pid, what it ran)
    for _ in range(KILLS):
        backends = [b for b in cluster.app_backends()]
        busy = [b for b in backends if b[1] == "active"] or backends
        if not busy:
            report.note("no weighin backend to kill at this moment")
            time.sleep(INTERVAL)
            continue
        victim = busy[0]
        t0 = time.monotonic()
        cluster.psql(f"SELECT pg_terminate_backend({victim[0]})")
        t1 = time.monotonic()
        kills.append((t0, t1, victim[0], victim[3]))
        time.sleep(INTERVAL)
    time.sleep(1.0)
    stop.set()
    retry_until[0] = time.monotonic() + 10
    stuck = h.join_all(threads, 30)
    report.check("client threads finished", not stuck, f"{len(stuck)} still running")

    items = log.snapshot()
    statuses = h.count_by(items, "status")
    report.figure("requests", len(items))
    report.figure("backends_killed", len(kills))
    report.figure("statuses", dict(sorted(statuses.items(), key=lambda kv: str(kv[0]))))
    report.figure("503s", statuses.get(503, 0))
    report.check(f"{KILLS} backends were killed", len(kills) == KILLS, f"{len(kills)}")

    failed = [i for i in items if not (isinstance(i["status"], int) and 200 <= i["status"] < 300)]
    not_503 = [i for i in failed if i["status"] != 503]
    report.check("failed requests answered 503 (no 500, hang, dropped connection or cut answer)", not not_503,
                 f"{h.count_by(not_503, 'status')}")

    # A request "in flight on the killed connection" started before the kill ended and ended after it began.
    def overlaps_kill(i):
        return any(i["start"] <= t1 + 0.05 and i["end"] >= t0 for t0, t1, _, _ in kills)

    unexplained = [i for i in failed if not overlaps_kill(i)]
    report.figure("failures_outside_kills", len(unexplained))
    report.check("no request failed except those in flight while a backend was killed", not unexplained,
                 f"{len(unexplained)} failed at other times: {h.count_by(unexplained, 'kind')}")
    missing_ra = sum(1 for i in failed if i["status"] == 503 and not i["retry_after"])
    report.check("every 503 carries Retry-After", missing_ra == 0, f"{missing_ra} without")
    report.check("weighin kept serving after the kills",
                 h.request(server.url, "GET", "/v1/me", token=users[0].token).status == 200)
    h.verify_writes(report, cluster, writes, "bk-")


if __name__ == "__main__":
    r = h.Report("backend_kill", f"{KILLS} PostgreSQL backends ended one by one (pg_terminate_backend) under load")
    h.run_test(r, main)
