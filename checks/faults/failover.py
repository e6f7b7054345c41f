#!/usr/bin/env python3
"""The primary dies; pg_auto_failover promotes its synchronous secondary; weighin follows on its own.

A pg_auto_failover formation (Debian's `postgresql-15-auto-failover`: a monitor, a primary and a synchronous
secondary, its failure detection tuned: checks/harness/autofailover.py's MONITOR_TUNING) and one `weighin serve`
given both nodes in its URL (`postgres://postgres@127.0.0.1:P1,127.0.0.1:P2/weighin?target_session_attrs=
read-write&connect_timeout=2`) and the secondary alone as its read URL (`--read-database-url postgres://postgres@
127.0.0.1:P2/weighin?target_session_attrs=standby&connect_timeout=2`; why that one: the comment in
main()). Writers post
entries with an Idempotency-Key each (retried with the same key after a 503 or no answer), one writer without keys;
readers of users who write nothing list, read stats, the trend and the change feed; own-writes readers write an
entry (a key each) and read their newest acknowledged one back, by id with the `Weighin-Position` its write
answered and through their statistics, also while their writes fail. After 4 s the primary's node dies:
its pg_autoctl, its postmaster and every backend get SIGKILL at once (one process group). The monitor, its checks
tuned, promotes the secondary; then node1's pg_autoctl is started again, recovers its PostgreSQL and rejoins as
the new primary's secondary (pg_rewind if it must).

Why the whole node and not the postmaster alone (as until 2026-12-03): the node's pg_autoctl then restarts
PostgreSQL within 1-2 s, racing the monitor. In 2 of 13 runs that day the restarted primary won: once node1
stayed the primary and no failover happened, and once a write answered 201 by the restarted node1 (1.67 s after the
kill, before the promotion at 2.11 s) was missing on the new primary afterwards. That loss may have been the pool's
lending race fixed on 2026-12-04 (a statement run inside another request's transaction that then rolled back),
which lost writes in sigkill.py with the same build; it is not re-established. docs/SCALING.md writes the window
down as not covered. Checks:
  - before the kill, reads went to the standby (weighin's `weighin_db_reads{target="replica"}`);
  - the monitor promotes the secondary, and weighin's first successful write after the kill comes within 15 s,
    without restarting weighin (figure: seconds from the kill to that write); writes sent 2 s after the
    promotion succeed (weighin's connections have moved to the new primary);
  - no answer but 2xx or 503 (no other 5xx, no hang, no dropped connection), every 503 with Retry-After, each
    within the pool's wait timeout plus 1 s;
  - read-your-writes: no own-writes read answered 200 without the reader's newest acknowledged entry (0
    violations), before, during and after the failover;
  - every entry answered 201 exists on the new primary (0 acknowledged writes lost: the replication was
    synchronous), no Idempotency-Key made two entries or was answered two ids (0 duplicates), and every key was
    answered 201 in the end.
Figures also: seconds from the kill to the promotion (as the monitor reports it, polled every 0.1 s), and the
reads sent and answered 200 while no server took writes (from the kill to the first successful write), with how
many of them the read URL's server answered (weighin's metrics, sampled every 0.1 s: the standby until its
promotion, after it the new primary's connections opened before).
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


def read_counts(server) -> tuple:
    """(reads counted on the primary, reads counted on the read URL's server, whether the token cache is on) by
    weighin's /metrics."""
    m = server.metrics()
    return (m.get('weighin_db_reads{target="primary"}', 0), m.get('weighin_db_reads{target="replica"}', 0),
            m.get("weighin_token_cache_enabled") == 1)


class OwnReads:
    """The own-writes readers' counts, shared by their threads."""

    def __init__(self):
        self.lock = threading.Lock()
        self.checks = 0
        self.violations: list = []
        self.without_position = 0   # writes answered 201 without Weighin-Position

    def add(self, checks: int = 0, violations: list | None = None, without_position: int = 0):
        with self.lock:
            self.checks += checks
            self.violations += violations or []
            self.without_position += without_position


def own_writes_loop(base, user, tag, stop, log, writes, books, timeout, retry_deadline):
    """Writes an entry (an Idempotency-Key each, retried with it until answered 201), then reads its newest
    acknowledged entry back: by id with the `Weighin-Position` that write answered, and its statistics (the count
    covers every acknowledged write; this instance knows them, no header needed). A write answered without a
    position (the primary failed right after its commit: weighin could not read one) is read back without the
    header: this instance then sends the user's reads to the primary until it knows a position. A read answered
    200 without the write is a violation; 503 is not. Reads go on while writes fail, so they cover the outage.
    After `stop`, a key not yet answered 201 is retried until `retry_deadline()`."""
    client = h.Client(base, timeout=timeout, token=user.token)
    n, key, body, last, acked = 0, None, None, None, 0   # last: (id, position) of the newest acknowledged write
    while True:
        if key is None:
            if stop.is_set():
                break
            n += 1
            key = f"{tag}-{n}"
            body = h.entry_body(key)
            writes.sent_key(key, body)
        r = h.record(log, "create-key", lambda: client.request("POST", "/v1/entries", json_body=body,
                                                               headers={"Idempotency-Key": key}))
        if r is not None and r.status == 201:
            writes.acked(r.json()["id"], key)
            last, key, acked = (r.json()["id"], r.header("weighin-position")), None, acked + 1
            if last[1] is None:
                books.add(without_position=1)
        elif stop.is_set():
            if retry_deadline():
                break
            time.sleep(0.1)
            continue
        if last is None:
            time.sleep(0.05)
            continue
        entry, position = last
        headers = {} if position is None else {"Weighin-Position": position}
        got = h.record(log, "read-own", lambda: client.request("GET", f"/v1/entries/{entry}", headers=headers))
        stats = h.record(log, "read-own", lambda: client.request("GET", "/v1/stats"))
        violations = []
        if got is not None and got.status != 503 and not (got.status == 200 and got.json()["id"] == entry):
            violations.append(f"{entry} read with its position: {got.status}")
        if stats is not None and stats.status == 200 and stats.json()["count"] < acked:
            violations.append(f"stats counted {stats.json()['count']} of {acked} acknowledged entries")
        books.add(checks=2, violations=violations)
        time.sleep(0.01 if r is not None and r.status == 201 else 0.05)
    client.close()


def main(report: h.Report):
    base = h.workdir("failover")
    t0 = time.monotonic()
    formation = h.Formation(base).create()
    report.note(f"pg_auto_failover monitor 127.0.0.1:{formation.monitor_port}, nodes {formation.nodes}, "
                f"created in {time.monotonic() - t0:.1f}s")
    url = formation.url + "&connect_timeout=2"
    # The secondary alone, as a standby only. When it is promoted, its open connections go on reading a primary
    # that has every acknowledged write (the sample then reads its current position: it lags by nothing), and
    # libpq refuses it for new ones (not a standby), so reads fall back to the primary until the URL is changed.
    # Naming node1 too (or `prefer-standby`) could send reads to node1 when it comes back: for a moment as a
    # primary again after crash recovery, with commits that were never acknowledged and that its rewind then
    # drops, or, once it rejoins, as a lagging standby beside connections still on node2, the one the samples
    # describe (the README's "Not covered" with several standbys in one URL).
    read_url = formation.node_url("node2") + "?target_session_attrs=standby&connect_timeout=2"
    server = h.Server(base, url, ops=True, args=h.NO_RATE_LIMIT + (
        "--pool-size", "4", "--pool-timeout", f"{POOL_TIMEOUT:g}s", "--statement-timeout", "5s", "--hash-cost", "4",
        "--log-level", "warning", "--read-database-url", read_url)).start()
    report.note(f"server {server.url}, DATABASE_URL {url}, read URL {read_url}")

    users = [h.new_user(server.url) for _ in range(4)]
    quiet = [h.new_user(server.url) for _ in range(2)]   # readers who write nothing during the load
    for u in quiet:
        for d in range(5):
            h.Client(server.url, token=u.token).request("POST", "/v1/entries", json_body=h.entry_body("quiet-seed", d))
    own = [h.new_user(server.url) for _ in range(2)]
    log, writes, stop, books = h.Log(), h.Writes(), threading.Event(), OwnReads()
    retry_until = [None]
    timeout = POOL_TIMEOUT + 10  # a client timeout is a hang
    targets = [lambda u=u, i=i: h.writer_loop(server.url, u.token, f"fo-k{i}", stop, log, writes, True, timeout,
                                               retry_deadline=lambda: retry_until[0] is not None
                                               and time.monotonic() > retry_until[0], pause=0.01)
               for i, u in enumerate(users)]
    targets.append(lambda: h.writer_loop(server.url, users[0].token, "fo-p", stop, log, writes, False, timeout,
                                         pause=0.01))
    targets += [lambda u=u: h.reader_loop(server.url, u.token, stop, log, timeout, pause=0.01, paths=[
        "/v1/entries?limit=20", "/v1/stats", "/v1/trend", "/v1/changes?limit=20"]) for u in quiet]
    targets += [lambda u=u, i=i: own_writes_loop(server.url, u, f"fo-o{i}", stop, log, writes, books, timeout,
                                                 lambda: retry_until[0] is not None
                                                 and time.monotonic() > retry_until[0])
                for i, u in enumerate(own)]
    samples, sampling = [], threading.Event()   # (time, primary reads, replica reads, token cache on) every 0.1 s

    def sample_reads():
        while not sampling.is_set():
            try:
                samples.append((time.monotonic(),) + read_counts(server))
            except OSError:
                pass
            time.sleep(0.1)

    threads = h.start_threads(targets)
    sampler = h.start_threads([sample_reads])

    time.sleep(4.0)
    formation.kill_node("node1")
    t_kill = time.monotonic()
    report.note("SIGKILL to node1's pg_autoctl, postmaster and backends at once")

    def first_write_after_outage():
        """When the first write sent after weighin's first 503 following the kill was answered 2xx (None: not
        yet); a request that raced the kill to the old primary's backends is no sign of recovery."""
        items = log.snapshot()
        down = min((i["end"] for i in items if i["status"] == 503 and i["end"] >= t_kill), default=None)
        ends = [i["end"] for i in items
                if down is not None and isinstance(i["status"], int) and 200 <= i["status"] < 300
                and i["start"] >= down and i["kind"].startswith("create")]
        return min(ends, default=None)

    t_promoted = None
    deadline = t_kill + 60
    while time.monotonic() < deadline and (t_promoted is None or first_write_after_outage() is None):
        if t_promoted is None and promoted(formation.states_or_reason()):
            t_promoted = time.monotonic()
            formation.start_node("node1")  # the machine is back: node1 rejoins as a secondary
        time.sleep(0.1)
    if t_promoted is None:
        formation.start_node("node1")
    time.sleep(AFTER)
    stop.set()
    retry_until[0] = time.monotonic() + 15
    stuck = h.join_all(threads, 40)
    sampling.set()
    h.join_all(sampler, 5)
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
    # Writes sent 2 s after the promotion reach the new primary (weighin's pooled connections have moved over).
    after = [i for i in log.snapshot() if t_promoted is not None and i["kind"].startswith("create")
             and i["status"] == 201 and i["start"] >= t_promoted + 2]
    report.figure("writes_2s_after_promotion", len(after))
    report.check("writes succeed on the new primary (sent 2 s after the promotion)", len(after) > 0,
                 f"{len(after)} answered 201")
    t_first = first_write_after_outage()
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

    # Reads while no server took writes: from the kill to the first successful write.
    def replica_at(t, after: bool):
        """Replica reads counted by the last sample before `t` (or the first after it)."""
        picked = [x for x in samples if (x[0] >= t if after else x[0] <= t)]
        return None if not picked else (picked[0] if after else picked[-1])[2]

    before_kill = [x for x in samples if x[0] <= t_kill]
    if before_kill:
        report.figure("reads_before_kill", {"primary": int(before_kill[-1][1] - before_kill[0][1]),
                                            "replica": int(before_kill[-1][2] - before_kill[0][2])})
    report.check("before the kill, reads of users with nothing unreplayed went to the standby (weighin's metrics)",
                 len(before_kill) > 1 and before_kill[-1][2] > before_kill[0][2], f"{len(before_kill)} samples")
    t_end = t_first or time.monotonic()
    reads = [i for i in items if i["kind"].startswith("read") and t_kill <= i["start"] < t_end]
    report.figure("reads_sent_while_no_primary", len(reads))
    report.figure("reads_served_while_no_primary", sum(1 for i in reads if i["status"] == 200))
    report.figure("reads_served_while_no_primary_own_writes",
                  sum(1 for i in reads if i["status"] == 200 and i["kind"] == "read-own"))
    at_kill = replica_at(t_kill, False)
    for name, t in (("promotion", t_promoted), ("first_write", t_first)):
        end = None if t is None else replica_at(t, True)
        report.figure(f"replica_reads_kill_to_{name}", None if at_kill is None or end is None else int(end - at_kill))
    # A token not in the cache is checked on the primary: the cache is off while its LISTEN connection is down.
    window = [x for x in samples if t_kill <= x[0] < t_end]
    report.figure("token_cache_off_while_no_primary", f"{sum(1 for x in window if not x[3])} of {len(window)} samples")
    report.figure("own_writes_read_checks", books.checks)
    report.figure("own_writes_answered_without_position", books.without_position)
    report.figure("read_your_writes_violations", len(books.violations))
    report.check("read-your-writes: every own-writes read answered 200 showed the newest acknowledged write (with "
                 "Weighin-Position by id; statistics on this instance), across the failover",
                 not books.violations and books.checks > 0, "; ".join(books.violations[:5]))

    unanswered = [k for k in writes.keys_sent if k not in writes.key_ids]
    report.figure("idempotent_writes_never_acknowledged", len(unanswered))
    report.check("every idempotent write was answered 201 in the end (retried with its key)", not unanswered,
                 f"{len(unanswered)} keys without a 201")
    h.verify_writes(report, formation, writes, "fo-")


if __name__ == "__main__":
    r = h.Report("failover", "pg_auto_failover promotes the synchronous secondary after the primary is SIGKILLed")
    h.run_test(r, main)
