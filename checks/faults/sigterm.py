#!/usr/bin/env python3
"""SIGTERM: stop accepting, finish in-flight requests (bounded drain), close the pool, stop the private
cluster, exit 0.

1. Mid-load (writers with and without Idempotency-Key, readers, on keep-alive connections), with
   `weight_entries` locked so that 8 extra requests are certainly in flight (stalled in the database), weighin
   gets SIGTERM; the lock is released 2 s later. Checks: a new connection is refused within 1 s of the signal;
   every request sent before the signal gets a complete answer (none cut, none dropped), the 8 in-flight ones
   201/200; weighin exits 0 within the drain timeout; every write answered 201 exists; no weighin connection is
   left on PostgreSQL.
2. `weighin serve` with its private cluster (no database URL): SIGTERM -> exit 0 and the cluster it started is
   stopped (its postmaster is gone).
3. Drain bound: --drain-timeout 2s and a request whose statement waits for good (a table lock held for 120 s,
   longer than the 30 s statement timeout): past the drain timeout weighin cancels the statement on the server
   (PQcancel) and exits 0, never crashing (the service group's own cancellation limit ended it with a fatal error,
   SIGILL, 9.8 s after the signal), within drain timeout + 2 s (the pool's grace for cancelled statements) + 1 s;
   it logs that it cancelled statements still running and nothing fatal; no weighin connection is left on
   PostgreSQL while the lock still holds (the statement was cancelled, not left to wait); the stalled request is
   closed without a partial answer.
"""

import os
import signal
import socket
import threading
import time

import kit as h

DRAIN = 10.0
ABORT_GRACE = 2.0   # PostgresPool.abort: a cancelled connection still open this long after PQcancel is cut


def refused_after(port, t0, limit=5.0):
    """Seconds after t0 until a new TCP connection (with a request) is refused; None if still accepted."""
    while time.monotonic() < t0 + limit:
        s = socket.socket()
        s.settimeout(0.5)
        try:
            s.connect(("127.0.0.1", port))
        except (ConnectionRefusedError, socket.timeout, OSError):
            return time.monotonic() - t0
        finally:
            s.close()
        time.sleep(0.05)
    return None


def pid_alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True


def phase_load(report, base, cluster):
    server = h.Server(base, cluster.url, name="serve1",
                      args=h.NO_RATE_LIMIT + ("--pool-size", "4", "--pool-timeout", "5s", "--hash-cost", "4", "--log-level", "warning",
                            "--drain-timeout", f"{DRAIN:g}s")).start()
    users = [h.new_user(server.url) for _ in range(4)]
    log, writes, stop = h.Log(), h.Writes(), threading.Event()
    signalled = [False]
    targets = []
    for i, u in enumerate(users[:3]):
        targets.append(lambda u=u, i=i: h.writer_loop(server.url, u.token, f"tm-k{i}", stop, log, writes, True, 30,
                                                      retry_deadline=lambda: signalled[0]))
    for i, u in enumerate(users[:2]):
        targets.append(lambda u=u, i=i: h.writer_loop(server.url, u.token, f"tm-p{i}", stop, log, writes, False, 30))
    for u in users[:3]:
        targets.append(lambda u=u: h.reader_loop(server.url, u.token, stop, log, 30))
    threads = h.start_threads(targets)
    time.sleep(3.0)

    lock = h.TableLock(cluster, seconds=120).__enter__()
    inflight_log = h.Log()

    def inflight(i):
        if i % 2:
            body = h.entry_body(f"tm-f{i}")
            r = h.record(inflight_log, "inflight-create", lambda: h.request(
                server.url, "POST", "/v1/entries", token=users[3].token, json_body=body, timeout=60))
            if r is not None and r.status == 201:
                writes.acked(r.json()["id"])
        else:
            h.record(inflight_log, "inflight-list", lambda: h.request(
                server.url, "GET", "/v1/entries?limit=5", token=users[3].token, timeout=60))

    extra = h.start_threads([lambda i=i: inflight(i) for i in range(8)])
    time.sleep(1.0)
    stalled = [b for b in cluster.app_backends() if b[2] == "Lock"]
    done_early = len(inflight_log.snapshot())
    report.check("requests are in flight (stalled in the database) when the signal comes",
                 bool(stalled) and done_early == 0, f"{len(stalled)} backends waiting, {done_early} answered early")

    t0 = time.monotonic()
    server.signal(signal.SIGTERM)
    signalled[0] = True
    stop.set()
    refused = refused_after(server.port, t0)
    time.sleep(max(0.0, t0 + 2.0 - time.monotonic()))
    lock.release()
    code = server.exit_code_within(DRAIN + 15)
    t_exit = time.monotonic() - t0
    h.join_all(threads + extra, 30)

    report.figure("new_connection_refused_after_s", None if refused is None else round(refused, 2))
    report.figure("exit_code", code)
    report.figure("exit_after_s", round(t_exit, 2))
    report.check("stops accepting: a new connection is refused within 1 s of SIGTERM",
                 refused is not None and refused <= 1.0, f"{refused}")
    report.check("exits 0", code == 0, f"{code}")
    report.check(f"exits within the drain timeout ({DRAIN:g}s)", t_exit <= DRAIN + 1, f"{t_exit:.1f}s")

    inflight_items = inflight_log.snapshot()
    report.figure("inflight_at_signal", h.count_by(inflight_items, "status"))
    report.check("the 8 requests in flight at the signal were finished (201/200, complete)",
                 len(inflight_items) == 8 and all(i["status"] in (200, 201) for i in inflight_items),
                 f"{h.count_by(inflight_items, 'status')}")
    items = log.snapshot()
    report.figure("requests", len(items) + len(inflight_items))
    report.figure("statuses", h.count_by(items, "status"))
    cut = [i for i in items + inflight_items if i["status"] == "cut"]
    report.figure("cut_mid_response", len(cut))
    report.check("no answer was cut mid-response", not cut, f"{[c['error'] for c in cut[:3]]}")
    before = [i for i in items if i["start"] < t0 - 0.05]
    unanswered = [i for i in before if not isinstance(i["status"], int)]
    report.check("every request sent before the signal got an answer", not unanswered,
                 f"{len(unanswered)}: {h.count_by(unanswered, 'status')}")
    errors_5xx = [i for i in before + inflight_items if isinstance(i["status"], int) and i["status"] >= 500]
    report.check("no request sent before the signal answered 5xx", not errors_5xx,
                 f"{h.count_by(errors_5xx, 'status')}")
    h.verify_writes(report, cluster, writes, "tm-")
    deadline = time.monotonic() + 3
    left = cluster.app_backends()
    while left and time.monotonic() < deadline:
        time.sleep(0.1)
        left = cluster.app_backends()
    report.check("the pool was closed: no weighin connection left on PostgreSQL", not left, f"{left}")


def phase_private(report, base):
    data_dir = os.path.join(base, "private")
    server = h.Server(base, None, data_dir=data_dir, name="serve-private",
                      args=h.NO_RATE_LIMIT + ("--hash-cost", "4", "--log-level", "info", "--access-log", "off"))

    h.stop_cluster_at_exit(data_dir)
    server.start(ready_timeout=180)
    url = server.database_url_from_log()
    report.note(f"private cluster: {url}")
    pid_file = os.path.join(data_dir, "data", "postmaster.pid")
    with open(pid_file) as f:
        postmaster = int(f.readline().strip())
    user = h.new_user(server.url)
    h.request(server.url, "POST", "/v1/entries", token=user.token, json_body=h.entry_body("tm-private"))
    t0 = time.monotonic()
    server.signal(signal.SIGTERM)
    code = server.exit_code_within(30)
    gone_deadline = time.monotonic() + 5
    while pid_alive(postmaster) and time.monotonic() < gone_deadline:
        time.sleep(0.1)
    report.figure("private_exit_code", code)
    report.figure("private_exit_after_s", round(time.monotonic() - t0, 2))
    report.check("with its private cluster: exits 0 on SIGTERM", code == 0, f"{code}")
    report.check("with its private cluster: the cluster it started is stopped", not pid_alive(postmaster),
                 f"postmaster {postmaster} " + ("still running" if pid_alive(postmaster) else "gone"))


def phase_drain_bound(report, base, cluster):
    drain = 2.0
    server = h.Server(base, cluster.url, name="serve3",
                      args=h.NO_RATE_LIMIT + ("--pool-size", "2", "--hash-cost", "4", "--log-level", "warning",
                            "--drain-timeout", f"{drain:g}s")).start()
    user = h.new_user(server.url)
    lock = h.TableLock(cluster, seconds=120).__enter__()
    stalled_log = h.Log()
    t = h.start_threads([lambda: h.record(stalled_log, "stalled", lambda: h.request(
        server.url, "GET", "/v1/entries?limit=5", token=user.token, timeout=60))])
    time.sleep(1.0)
    waiting = [b for b in cluster.app_backends() if b[2] == "Lock"]
    report.check("the request's statement waits for the lock on PostgreSQL when the signal comes", bool(waiting),
                 f"{len(waiting)} backend(s) waiting")
    t0 = time.monotonic()
    server.signal(signal.SIGTERM)
    code = server.exit_code_within(30)
    took = time.monotonic() - t0
    # Still under the lock: a backend left waiting would hold on until the lock goes (a backend blocked on a lock
    # does not notice that its client has gone).
    deadline = time.monotonic() + 2
    left = cluster.app_backends()
    while left and time.monotonic() < deadline:
        time.sleep(0.1)
        left = cluster.app_backends()
    lock.release()
    h.join_all(t, 10)
    limit = drain + ABORT_GRACE + 1
    log = server.log_text()
    report.figure("drain_bound_exit_after_s", round(took, 2))
    report.figure("drain_bound_exit_code", code)
    report.check(f"a request stalled for good delays exit at most drain + the pool's grace + 1 s ({limit:g}s)",
                 code is not None and took <= limit, f"{took:.1f}s")
    report.check("after the drain timeout it still exits 0 (no crash)", code == 0, f"{code}")
    report.check("it logs that it cancelled the statements still running, and nothing fatal",
                 "cancelling the statements still running" in log and "Fatal error" not in log
                 and "critical" not in log.lower(),
                 "logged" if "cancelling the statements still running" in log else f"log tail: {server.log_tail(5)}")
    report.check("the stalled statement was cancelled on PostgreSQL: no weighin connection left while the lock holds",
                 not left, f"{left}")
    s = stalled_log.snapshot()
    report.check("the stalled request was closed without a partial answer",
                 len(s) == 1 and s[0]["status"] != "cut", f"{s[0]['status'] if s else 'none'}")


def main(report: h.Report):
    base = h.workdir("sigterm")
    cluster = h.Cluster(base).create()
    phase_load(report, base, cluster)
    phase_private(report, base)
    phase_drain_bound(report, base, cluster)


if __name__ == "__main__":
    rep = h.Report("sigterm", "SIGTERM mid-load: stop accepting, drain, close the pool, stop the private cluster, exit 0")
    h.run_test(rep, main)
