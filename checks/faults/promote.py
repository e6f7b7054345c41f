#!/usr/bin/env python3
"""A manual failover (`pg_ctl promote`) under load, weighin given both servers in its URL.

Each phase has a primary and a synchronous standby of it (`pg_basebackup -R`, `synchronous_standby_names`) and one
`weighin serve` whose DATABASE_URL names both (`...@127.0.0.1:A,127.0.0.1:B/weighin?target_session_attrs=
read-write&connect_timeout=2`); writers post entries with an Idempotency-Key each (retried with the same key after a
503 or no answer), one writer without keys, readers list, read stats and `me`.
  1. The standby listed first: the primary stops (`pg_ctl stop -m fast`), then the standby is promoted.
  2. The old primary hangs instead of refusing: its postmaster and every process under it get SIGSTOP (the port
     still accepts connections, nothing answers), then the standby is promoted. weighin's statements in flight on
     the hung server end with the client timeout (statement timeout + 10 s), requests waiting for a connection
     with the pool timeout, and each new connection costs the hung host's connect_timeout before libpq tries the
     next one.
Checks, in each phase: writes resume on their own (weighin is not restarted) within the phase's bound; every answer
is 2xx or 503 (no other 5xx, no hang, no dropped connection), every 503 with Retry-After, none slower than the
phase's bound; every entry answered 201 exists on the new primary (0 acknowledged writes lost) and no
Idempotency-Key made two entries (0 duplicates). Figures: seconds from the fault to the first successful write,
the slowest answer, the 503s.
"""

import signal
import threading
import time

import kit as h
from harness.processes import on_cleanup

POOL_TIMEOUT = 2.0
STATEMENT_TIMEOUT = 2.0
CLIENT_TIMEOUT = STATEMENT_TIMEOUT + 10   # PostgresConfiguration's: the statement timeout + 10 s
CONNECT_TIMEOUT = 2                       # in the URL: libpq's connect_timeout for each host
SLACK = 1.0


def both(first, second) -> str:
    """One URL naming `first` then `second` (same password file), for the writable one."""
    hosts = f"127.0.0.1:{first.port},127.0.0.1:{second.port}"
    return (first.url.replace(f"127.0.0.1:{first.port}", hosts)
            + f"&target_session_attrs=read-write&connect_timeout={CONNECT_TIMEOUT}")


def phase(report, base, tag, first, second, fault, promoted, answer_bound, resume_bound):
    """Runs weighin on `both(first, second)` under load, runs `fault()` (which returns when the fault began) after
    3 s, keeps the load on until a write after the outage succeeds (at most `resume_bound` + 10 s) and 3 s more,
    then checks, the entries on `promoted` (the new primary). Returns the server (still running)."""
    url = both(first, second)
    server = h.Server(base, url, name=f"serve-{tag}", args=h.NO_RATE_LIMIT + (
        "--pool-size", "4", "--pool-timeout", f"{POOL_TIMEOUT:g}s", "--statement-timeout", f"{STATEMENT_TIMEOUT:g}s",
        "--hash-cost", "4", "--log-level", "warning")).start()
    report.note(f"[{tag}] server {server.url}, DATABASE_URL {url}")
    users = [h.new_user(server.url) for _ in range(3)]
    log, writes, stop = h.Log(), h.Writes(), threading.Event()
    retry_until = [None]
    timeout = CLIENT_TIMEOUT + CONNECT_TIMEOUT + 10  # a client timeout is a hang
    targets = [lambda u=u, i=i: h.writer_loop(server.url, u.token, f"{tag}-k{i}", stop, log, writes, True, timeout,
                                               retry_deadline=lambda: retry_until[0] is not None
                                               and time.monotonic() > retry_until[0], pause=0.01)
               for i, u in enumerate(users)]
    targets.append(lambda: h.writer_loop(server.url, users[0].token, f"{tag}-p", stop, log, writes, False, timeout,
                                         pause=0.01))
    targets += [lambda u=u: h.reader_loop(server.url, u.token, stop, log, timeout, pause=0.005) for u in users[:2]]
    threads = h.start_threads(targets)

    def first_write_after_outage(t_fault):
        """When the first write sent after weighin's first 503 following the fault was answered 201."""
        items = log.snapshot()
        down = min((i["end"] for i in items if i["status"] == 503 and i["end"] >= t_fault), default=None)
        ends = [i["end"] for i in items if down is not None and i["kind"].startswith("create")
                and i["status"] == 201 and i["start"] >= down]
        return min(ends, default=None)

    time.sleep(3.0)
    t_fault = fault()
    deadline = t_fault + resume_bound + 10
    while time.monotonic() < deadline and first_write_after_outage(t_fault) is None:
        time.sleep(0.1)
    time.sleep(3.0)
    stop.set()
    retry_until[0] = time.monotonic() + 15
    stuck = h.join_all(threads, timeout + 20)
    report.check(f"[{tag}] client threads finished", not stuck, f"{len(stuck)} still running")

    t_first = first_write_after_outage(t_fault)
    seconds = None if t_first is None else round(t_first - t_fault, 2)
    report.figure(f"{tag}_seconds_to_first_write", seconds)
    report.check(f"[{tag}] writes resumed on their own within {resume_bound:g}s, weighin not restarted",
                 seconds is not None and seconds <= resume_bound and server.alive(), f"{seconds}s")
    items = log.snapshot()
    statuses = h.count_by(items, "status")
    report.figure(f"{tag}_statuses", dict(sorted(statuses.items(), key=lambda kv: str(kv[0]))))
    bad = {k: v for k, v in statuses.items() if not (isinstance(k, int) and (200 <= k < 300 or k == 503))}
    report.check(f"[{tag}] every answer is 2xx or 503 (no other 5xx, no hang, no dropped connection)", not bad,
                 f"others: {bad}")
    missing_ra = sum(1 for i in items if i["status"] == 503 and not i["retry_after"])
    report.check(f"[{tag}] every 503 carries Retry-After", missing_ra == 0, f"{missing_ra} without")
    slowest = max((i["end"] - i["start"] for i in items if isinstance(i["status"], int)), default=0)
    report.figure(f"{tag}_slowest_answer_s", round(slowest, 2))
    report.check(f"[{tag}] every answer came within {answer_bound:g}s", slowest <= answer_bound, f"{slowest:.2f}s")
    unanswered = [k for k in writes.keys_sent if k not in writes.key_ids]
    report.check(f"[{tag}] every idempotent write was answered 201 in the end (retried with its key)", not unanswered,
                 f"{len(unanswered)} keys without a 201")
    h.verify_writes(report, promoted, writes, f"{tag}-", phase=tag)
    return server


def main(report: h.Report):
    base = h.workdir("promote")

    # 1. The standby first in the URL; the primary stops, the standby is promoted.
    primary = h.Cluster(base, name="a-primary").create()
    standby = h.Cluster(base, name="a-standby").create_standby(primary, "standby_a")

    def stop_then_promote():
        primary.stop("fast")
        t = time.monotonic()
        standby.promote()
        report.figure("stopped_seconds_to_promoted", round(time.monotonic() - t, 2))
        return t

    phase(report, base, "stopped", standby, primary, stop_then_promote, standby, answer_bound=POOL_TIMEOUT + SLACK,
          resume_bound=5.0).stop()

    # 2. The old primary hangs (first in the URL); the standby is promoted.
    primary = h.Cluster(base, name="b-primary").create()
    standby = h.Cluster(base, name="b-standby").create_standby(primary, "standby_b")

    def hang_then_promote():
        count = primary.signal_all(signal.SIGSTOP)
        t = time.monotonic()
        report.note(f"[hung] SIGSTOP to the primary's postmaster and its {count - 1} processes")
        standby.promote()
        return t

    # A hung host is never resumed while weighin runs: it is still a primary (fencing is the failover manager's
    # job; pg_auto_failover's keeper demotes it).
    on_cleanup(lambda: primary.signal_all(signal.SIGCONT))
    server = phase(report, base, "hung", primary, standby, hang_then_promote, standby,
                   answer_bound=CLIENT_TIMEOUT + CONNECT_TIMEOUT + SLACK,
                   resume_bound=CLIENT_TIMEOUT + 2 * CONNECT_TIMEOUT + 2)
    server.stop()


if __name__ == "__main__":
    r = h.Report("promote", "pg_ctl promote under load: the standby listed first, and an old primary that hangs")
    h.run_test(r, main)
