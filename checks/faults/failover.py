#!/usr/bin/env python3
"""The primary dies; pg_auto_failover promotes its synchronous secondary; weighin follows on its own.

A pg_auto_failover formation (Debian's `postgresql-15-auto-failover`: a monitor, a primary and a synchronous
secondary, its failure detection tuned: checks/harness/autofailover.py's MONITOR_TUNING) and one `weighin serve`
given both nodes in its URL (`postgres://postgres@127.0.0.1:P1,127.0.0.1:P2/weighin?target_session_attrs=
read-write&connect_timeout=2`). Writers post entries with an Idempotency-Key each (retried with the same key after a
503 or no answer), one writer without keys, and readers list, read stats and `me`. After 4 s the primary's
postmaster gets SIGKILL. Its pg_autoctl restarts PostgreSQL (crash recovery), but the monitor, told by that
pg_autoctl that PostgreSQL is down and its own checks tuned, promotes the secondary meanwhile; the old primary is
demoted and rejoins as the new primary's secondary (pg_rewind if it must). Checks:
  - the monitor promotes the secondary, and weighin's first successful write after the kill comes within 15 s,
    without restarting weighin (figure: seconds from the kill to that write); writes sent 2 s after the
    promotion succeed (the new primary: the old one may come back as a primary for a moment before it is demoted);
  - no answer but 2xx or 503 (no other 5xx, no hang, no dropped connection), every 503 with Retry-After, each
    within the pool's wait timeout plus 1 s;
  - every entry answered 201 exists on the new primary (0 acknowledged writes lost: the replication was
    synchronous), no Idempotency-Key made two entries or was answered two ids (0 duplicates), and every key was
    answered 201 in the end.
Figures also: seconds from the kill to the promotion (as the monitor reports it, polled every 0.1 s), and reads
sent and served between the kill and the first 2xx after weighin's first 503 (the URL names the writable node
only: without a read-only URL to the standby, reads wait for a primary like writes).
"""

import threading
import time

import kit as h

POOL_TIMEOUT = 2.0
SLACK = 1.0            # allowed on top of the pool timeout for an answer
GOAL = 15.0            # seconds from the kill to the first successful write
AFTER = 6.0            # load kept on after the first successful write


def promoted(states) -> bool:
    """Whether node2 reports itself the writable node (the monitor's states, or a reason it could not be asked)."""
    return isinstance(states, dict) and states.get("node2", ("",))[0] in ("wait_primary", "primary")


def rejoined(states):
    """True when node1 reports itself the secondary again, else None."""
    return True if isinstance(states, dict) and states.get("node1", ("",))[0] == "secondary" else None


def main(report: h.Report):
    base = h.workdir("failover")
    t0 = time.monotonic()
    formation = h.Formation(base).create()
    report.note(f"pg_auto_failover monitor 127.0.0.1:{formation.monitor_port}, nodes {formation.nodes}, "
                f"created in {time.monotonic() - t0:.1f}s")
    url = formation.url + "&connect_timeout=2"
    server = h.Server(base, url, args=h.NO_RATE_LIMIT + (
        "--pool-size", "4", "--pool-timeout", f"{POOL_TIMEOUT:g}s", "--statement-timeout", "5s", "--hash-cost", "4",
        "--log-level", "warning")).start()
    report.note(f"server {server.url}, DATABASE_URL {url}")

    users = [h.new_user(server.url) for _ in range(4)]
    log, writes, stop = h.Log(), h.Writes(), threading.Event()
    retry_until = [None]
    timeout = POOL_TIMEOUT + 10  # a client timeout is a hang
    targets = [lambda u=u, i=i: h.writer_loop(server.url, u.token, f"fo-k{i}", stop, log, writes, True, timeout,
                                               retry_deadline=lambda: retry_until[0] is not None
                                               and time.monotonic() > retry_until[0], pause=0.01)
               for i, u in enumerate(users)]
    targets.append(lambda: h.writer_loop(server.url, users[0].token, "fo-p", stop, log, writes, False, timeout,
                                         pause=0.01))
    targets += [lambda u=u: h.reader_loop(server.url, u.token, stop, log, timeout, pause=0.005) for u in users[:2]]
    threads = h.start_threads(targets)

    time.sleep(4.0)
    pid = formation.kill_postmaster("node1")
    t_kill = time.monotonic()
    report.note(f"SIGKILL to node1's postmaster (pid {pid})")

    def first_success_after_outage(writes_only: bool):
        """When the first request (or write) sent after weighin's first 503 following the kill was answered 2xx
        (None: not yet); a request that raced the kill to the old primary's backends is no sign of recovery."""
        items = log.snapshot()
        down = min((i["end"] for i in items if i["status"] == 503 and i["end"] >= t_kill), default=None)
        ends = [i["end"] for i in items
                if down is not None and isinstance(i["status"], int) and 200 <= i["status"] < 300
                and i["start"] >= down and (not writes_only or i["kind"].startswith("create"))]
        return min(ends, default=None)

    t_promoted = None
    deadline = t_kill + 60
    while time.monotonic() < deadline and (t_promoted is None or first_success_after_outage(True) is None):
        if t_promoted is None and promoted(formation.states_or_reason()):
            t_promoted = time.monotonic()
        time.sleep(0.1)
    time.sleep(AFTER)
    stop.set()
    retry_until[0] = time.monotonic() + 15
    stuck = h.join_all(threads, 40)
    report.check("client threads finished", not stuck, f"{len(stuck)} still running")

    # The old primary comes back as a secondary on its own (pg_auto_failover's business: a figure, not a check).
    rejoin_deadline = time.monotonic() + 20
    while time.monotonic() < rejoin_deadline and rejoined(formation.states_or_reason()) is None:
        time.sleep(0.2)
    states = formation.states_or_reason()
    report.figure("states_after", states)
    report.figure("seconds_kill_to_old_primary_rejoined_as_secondary",
                  rejoined(states) and round(time.monotonic() - t_kill, 1))
    report.check("the monitor promoted node2 (wait_primary: it takes writes, no standby left)", promoted(states),
                 f"{states}")
    if t_promoted is not None:
        report.figure("seconds_kill_to_promotion", round(t_promoted - t_kill, 2))
    # node1's pg_autoctl may restart it as a primary for a moment before the monitor demotes it (writes there wait
    # for the synchronous standby, being promoted): writes sent 2 s after the promotion reach the new primary.
    after = [i for i in log.snapshot() if t_promoted is not None and i["kind"].startswith("create")
             and i["status"] == 201 and i["start"] >= t_promoted + 2]
    report.figure("writes_2s_after_promotion", len(after))
    report.check("writes succeed on the new primary (sent 2 s after the promotion)", len(after) > 0,
                 f"{len(after)} answered 201")
    t_first = first_success_after_outage(True)
    seconds = None if t_first is None else round(t_first - t_kill, 2)
    report.figure("seconds_kill_to_first_write", seconds)
    report.check(f"the first write after the kill succeeded within {GOAL:g}s, weighin not restarted",
                 seconds is not None and seconds <= GOAL and server.alive(), f"{seconds}s")

    items = log.snapshot()
    statuses = h.count_by(items, "status")
    report.figure("requests", len(items))
    report.figure("statuses", dict(sorted(statuses.items(), key=lambda kv: str(kv[0]))))
    other_5xx = sum(n for k, n in statuses.items() if isinstance(k, int) and k >= 500 and k != 503)
    report.figure("5xx_other_than_503", other_5xx)
    bad = {k: v for k, v in statuses.items() if not (isinstance(k, int) and (200 <= k < 300 or k == 503))}
    report.check("every answer is 2xx or 503 (no other 5xx, no hang, no dropped connection, no cut answer)", not bad,
                 f"others: {bad}")
    missing_ra = sum(1 for i in items if i["status"] == 503 and not i["retry_after"])
    report.check("every 503 carries Retry-After", missing_ra == 0, f"{missing_ra} without")
    slowest = max((i["end"] - i["start"] for i in items if isinstance(i["status"], int)), default=0)
    report.figure("slowest_answer_s", round(slowest, 3))
    report.check(f"every answer came within the pool timeout + {SLACK:g}s", slowest <= POOL_TIMEOUT + SLACK,
                 f"{slowest:.2f}s")

    # The outage as clients saw it: from the kill to the first 2xx (read or write) after weighin's first 503.
    t_back = first_success_after_outage(False) or time.monotonic()
    reads = [i for i in items if i["kind"] == "read" and t_kill <= i["start"] < t_back]
    report.figure("seconds_kill_to_first_answer", round(t_back - t_kill, 2))
    report.figure("reads_sent_while_no_primary", len(reads))
    report.figure("reads_served_while_no_primary",
                  sum(1 for i in reads if isinstance(i["status"], int) and 200 <= i["status"] < 300))

    unanswered = [k for k in writes.keys_sent if k not in writes.key_ids]
    report.figure("idempotent_writes_never_acknowledged", len(unanswered))
    report.check("every idempotent write was answered 201 in the end (retried with its key)", not unanswered,
                 f"{len(unanswered)} keys without a 201")
    h.verify_writes(report, formation, writes, "fo-")


if __name__ == "__main__":
    r = h.Report("failover", "pg_auto_failover promotes the synchronous secondary after the primary is SIGKILLed")
    h.run_test(r, main)
