#!/usr/bin/env python3
"""PostgreSQL restarted under load.

`weighin loadtest` (open loop) and Python clients (readers, writers with and without Idempotency-Key) run
against one server while PostgreSQL is (1) restarted with `pg_ctl restart -m fast`, then (2) stopped with
`pg_ctl stop -m fast`, kept down for 3 s, and started again. Checks:
  - no request answers anything but 2xx or 503, none hangs (each is answered within the pool's wait timeout
    plus 0.5 s), no connection is dropped or answer cut, every 503 has Retry-After;
  - while PostgreSQL is down, requests answer 503 within the pool's wait timeout;
  - within 2 s after PostgreSQL accepts connections again, throughput is back (a 0.5 s window with at least
    half the successes per second of the 4 s before the fault), without restarting weighin;
  - every entry answered 201 exists afterwards, and retries with an Idempotency-Key created no duplicates;
  - `weighin loadtest` saw no error other than 503.
"""

import os
import threading
import time

import kit as h

POOL_TIMEOUT = 2.0
SLACK = 0.5            # allowed on top of the pool timeout for an answer
RECOVERY_LIMIT = 2.0   # seconds after PostgreSQL accepts connections again
DOWN_SECONDS = 3.0


def watch_availability(cluster, stop, marks):
    """Polls pg_isready every ~50 ms; records when PostgreSQL stops and starts accepting connections."""
    was_up = True
    while not stop.is_set():
        up = cluster.accepts()
        now = time.monotonic()
        if was_up and not up:
            marks.append(("down", now))
        elif up and not was_up:
            marks.append(("up", now))
        was_up = up
        time.sleep(0.05)


def recovery(items, t_up, baseline_rate):
    """Seconds from t_up until a 0.5 s window holds >= 50% of the baseline successes per second."""
    ends = sorted(i["end"] for i in items if isinstance(i["status"], int) and 200 <= i["status"] < 300)
    need = 0.5 * baseline_rate * 0.5
    t = t_up
    import bisect
    while t < t_up + 15:
        lo = bisect.bisect_left(ends, t)
        hi = bisect.bisect_left(ends, t + 0.5)
        if hi - lo >= need:
            return t - t_up
        t += 0.05
    return float("inf")


def main(report: h.Report):
    base = h.workdir("pgrestart")
    cluster = h.Cluster(base).create()
    server = h.Server(base, cluster.url, args=h.NO_RATE_LIMIT + ("--pool-size", "4", "--pool-timeout", f"{POOL_TIMEOUT:g}s",
                                                "--hash-cost", "4", "--log-level", "warning")).start()
    report.note(f"server {server.url}, PostgreSQL 127.0.0.1:{cluster.port}, pool 4, pool timeout {POOL_TIMEOUT:g}s")

    # weighin loadtest: seed first, then an open-loop run over the whole test.
    prefix = "lt-restart"
    seed, _ = h.loadtest(server.url, base, duration="1s", users=8, entries=5, prefix=prefix, seed_only=True)
    if seed.wait(120) != 0:
        raise RuntimeError("loadtest seeding failed")
    lt_proc, lt_json = h.loadtest(server.url, base, duration="30s", rate=80, connections=16, users=8, entries=5,
                                  prefix=prefix, timeout=f"{POOL_TIMEOUT + 3:g}s")

    users = [h.new_user(server.url) for _ in range(4)]
    log, writes, stop = h.Log(), h.Writes(), threading.Event()
    retry_until = [None]
    timeout = POOL_TIMEOUT + 5  # a client timeout is a hang
    targets = []
    for i, u in enumerate(users):
        targets.append(lambda u=u, i=i: h.writer_loop(server.url, u.token, f"rs-k{i}", stop, log, writes, True, timeout,
                                                      retry_deadline=lambda: retry_until[0] is not None
                                                      and time.monotonic() > retry_until[0], pause=0.01))
    for i, u in enumerate(users[:2]):
        targets.append(lambda u=u, i=i: h.writer_loop(server.url, u.token, f"rs-p{i}", stop, log, writes, False, timeout,
                                                      pause=0.01))
    for u in users[:3]:
        targets.append(lambda u=u: h.reader_loop(server.url, u.token, stop, log, timeout, pause=0.005))
    threads = h.start_threads(targets)

    watch_stop, marks = threading.Event(), []
    watcher = threading.Thread(target=watch_availability, args=(cluster, watch_stop, marks), daemon=True)
    watcher.start()

    time.sleep(4.0)
    t_base0, t_base1 = time.monotonic() - 4.0, time.monotonic()

    # Fault 1: pg_ctl restart -m fast.
    t_restart = time.monotonic()
    cluster.restart("fast")
    t_restart_done = time.monotonic()
    time.sleep(6.0)

    # Fault 2: down for DOWN_SECONDS, then up again.
    t_stop = time.monotonic()
    cluster.stop("fast")
    t_down = time.monotonic()
    time.sleep(DOWN_SECONDS)
    t_start = time.monotonic()
    cluster.start()
    t_started = time.monotonic()
    time.sleep(6.0)

    stop.set()
    retry_until[0] = time.monotonic() + 15
    stuck = h.join_all(threads, 30)
    watch_stop.set()
    watcher.join(5)
    lt_rc = lt_proc.wait(60)
    report.check("client threads finished", not stuck, f"{len(stuck)} still running")

    items = log.snapshot()
    statuses = h.count_by(items, "status")
    report.figure("requests", len(items))
    report.figure("statuses", dict(sorted(statuses.items(), key=lambda kv: str(kv[0]))))
    n503 = statuses.get(503, 0)
    report.figure("503s", n503)
    bad = {k: v for k, v in statuses.items() if not (isinstance(k, int) and (200 <= k < 300 or k == 503))}
    report.check("every answer is 2xx or 503 (no 500, no hang, no dropped connection, no cut answer)", not bad,
                 f"others: {bad}")
    missing_ra = sum(1 for i in items if i["status"] == 503 and not i["retry_after"])
    report.check("every 503 carries Retry-After", missing_ra == 0, f"{missing_ra} without")
    slowest = max((i["end"] - i["start"] for i in items if isinstance(i["status"], int)), default=0)
    slow = [i for i in items if isinstance(i["status"], int) and i["end"] - i["start"] > POOL_TIMEOUT + SLACK]
    report.figure("slowest_answer_s", round(slowest, 3))
    report.check(f"every answer came within the pool timeout + {SLACK}s ({POOL_TIMEOUT + SLACK:g}s)", not slow,
                 f"{len(slow)} slower, statuses {h.count_by(slow, 'status')}")

    # While it was down (fault 2): requests started then answer 503 in time.
    during = [i for i in items if t_down + 0.2 <= i["start"] <= t_start - 0.1]
    during_status = h.count_by(during, "status")
    report.figure("requests_while_down", len(during))
    report.check("requests while PostgreSQL was down answered 503 within the pool timeout",
                 len(during) > 0 and set(during_status) == {503}
                 and all(i["end"] - i["start"] <= POOL_TIMEOUT + SLACK for i in during),
                 f"statuses {during_status}")

    ok_base = [i for i in items if isinstance(i["status"], int) and 200 <= i["status"] < 300
               and t_base0 <= i["end"] <= t_base1]
    baseline = len(ok_base) / (t_base1 - t_base0)
    report.figure("baseline_ok_per_s", round(baseline, 1))

    def up_after(t):
        ups = [m[1] for m in marks if m[0] == "up" and m[1] >= t]
        return ups[0] if ups else None

    up1 = up_after(t_restart) or t_restart_done
    up2 = up_after(t_start) or t_started
    up1 = min(up1, t_restart_done)
    up2 = min(up2, t_started)
    r1 = recovery(items, up1, baseline)
    r2 = recovery(items, up2, baseline)
    report.figure("restart_down_s", round(up1 - t_restart, 2))
    report.figure("recovery_after_restart_s", round(r1, 2))
    report.figure("recovery_after_down_s", round(r2, 2))
    for label, up in (("restart", up1), ("outage", up2)):
        late = sum(1 for i in items if i["status"] == 503 and up + 0.1 <= i["start"] <= up + RECOVERY_LIMIT)
        report.figure(f"503s_0.1s_to_{RECOVERY_LIMIT:g}s_after_up_{label}", late)
    report.check(f"throughput back within {RECOVERY_LIMIT:g}s after `pg_ctl restart -m fast`", r1 <= RECOVERY_LIMIT,
                 f"{r1:.2f}s")
    report.check(f"throughput back within {RECOVERY_LIMIT:g}s after a {DOWN_SECONDS:g}s outage", r2 <= RECOVERY_LIMIT,
                 f"{r2:.2f}s")
    report.check("weighin kept running (never restarted)", server.alive())

    unanswered = [k for k in writes.keys_sent if k not in writes.key_ids]
    report.figure("idempotent_writes_never_acknowledged", len(unanswered))
    report.check("every idempotent write was eventually answered 201 on retry", not unanswered,
                 f"{len(unanswered)} keys without a 201")
    h.verify_writes(report, cluster, writes, "rs-")

    lt = h.read_loadtest(lt_json)
    if lt is None:
        report.check("weighin loadtest wrote its report", False, f"exit {lt_rc}")
    else:
        o = lt["overall"]
        report.figure("loadtest_requests", o["requests"])
        report.figure("loadtest_errors", o["errors_by_status"])
        others = {k: v for k, v in o["errors_by_status"].items() if k != "503"}
        report.check("weighin loadtest saw no error but 503 (no 500, timeout, reset)", not others, f"{others}")
    html = lt_json.removesuffix(".json") + ".html"
    report.check("weighin loadtest wrote its HTML report (throughput and latency per second)",
                 os.path.isfile(html) and os.path.getsize(html) > 0, html)


if __name__ == "__main__":
    r = h.Report("pg_restart", "PostgreSQL restarted under load (pg_ctl restart -m fast, and a 3 s outage)")
    h.run_test(r, main)
