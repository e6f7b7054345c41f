#!/usr/bin/env python3
"""Read replicas: a primary and a streaming hot standby (`pg_basebackup -R`), two `weighin serve` instances with
`--read-database-url` on the standby and `--replica-lag-limit 2s`.

  A. Routing: users' reads go to the standby once it has their writes: weighin's `weighin_db_reads{target}` and
     the standby's own `pg_stat_statements` (the read statements ran there) both show it.
  B. Read-your-writes under a write load while the standby replays each commit 1 s late
     (`recovery_min_apply_delay`): after every acknowledged write, the writer's next reads (the entry, the
     listing, the statistics, the change feed) on the same instance show it, and so do its reads on the other
     instance when they carry the `Weighin-Position` the write answered. The standby really lacked the writes
     (checked on it directly); meanwhile other users' reads are served by the standby.
  C. The lag bound: at a 4 s replay delay the standby is skipped (`weighin_replica_available` 0, reads counted on
     the primary only), and used again once it has caught up.
  D. A standby that is down (stopped): reads go on, answered 200 from the primary; once it is back, reads return
     to it.
Throughout: no 5xx, no failed request.
"""

import threading
import time
import uuid

import kit as h

LAG_LIMIT = 2.0      # --replica-lag-limit, seconds
APPLY_DELAY = "1s"   # phase B: within the limit
LONG_DELAY = "4s"    # phase C: past it


def gauge(server, name):
    return server.metrics().get(name)


def reads(server):
    m = server.metrics()
    return m.get('weighin_db_reads{target="primary"}', 0), m.get('weighin_db_reads{target="replica"}', 0)


def wait_for(condition, limit):
    """Seconds until `condition()` held (polled every 100 ms), or None after `limit` seconds."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < limit:
        if condition():
            return time.monotonic() - t0
        time.sleep(0.1)
    return None


def delay_replay(standby, delay):
    standby.psql(f"ALTER SYSTEM SET recovery_min_apply_delay = '{delay}'", db="postgres")
    standby.psql("SELECT pg_reload_conf()", db="postgres")


def reader_loop(server, user, stop, log, pause=0.02):
    client = h.Client(server.url, timeout=10, token=user.token)
    paths = ["/v1/entries?limit=20", "/v1/stats", "/v1/trend", "/v1/changes?limit=20"]
    i = 0
    while not stop.is_set():
        h.record(log, "read", lambda: client.request("GET", paths[i % len(paths)]))
        i += 1
        time.sleep(pause)
    client.close()


class Books:
    """Phase B's counts, shared by the writer threads."""

    def __init__(self):
        self.lock = threading.Lock()
        self.writes = 0
        self.checks = 0
        self.violations = []
        self.behind = 0        # acknowledged writes the standby did not have yet when asked right after
        self.asked = 0
        self.stale_without_position = 0
        self.other_instance_reads = 0

    def add(self, **kw):
        with self.lock:
            for k, v in kw.items():
                if k == "violation":
                    self.violations.append(v)
                else:
                    setattr(self, k, getattr(self, k) + v)


def writer_loop(a, b, standby, user, stop, log, books, index):
    """Writes entries on instance `a`; after each 201, reads them back at once on `a` (four ways) and on `b` with
    the answered `Weighin-Position`; now and then asks the standby directly whether it has the entry yet."""
    ca = h.Client(a.url, timeout=10, token=user.token)
    cb = h.Client(b.url, timeout=10, token=user.token)
    n = 0
    while not stop.is_set():
        note = f"rr-{index}-{n}"
        r = h.record(log, "write", lambda: ca.request("POST", "/v1/entries", json_body=h.entry_body(note, n)))
        if r is None or r.status != 201:
            time.sleep(0.05)
            continue
        n += 1
        entry = r.json()["id"]
        position = r.header("weighin-position")
        books.add(writes=1)
        if position is None:
            books.add(violation=f"no Weighin-Position on the write of {entry}")
        if index == 0 and n % 4 == 0:
            has = standby.psql(f"SELECT count(*) FROM weight_entries WHERE id = '{entry}'").strip() == "1"
            books.add(asked=1, behind=0 if has else 1)
        got = h.record(log, "read", lambda: ca.request("GET", f"/v1/entries/{entry}"))
        listed = h.record(log, "read", lambda: ca.request("GET", "/v1/entries?limit=1000"))
        stats = h.record(log, "read", lambda: ca.request("GET", "/v1/stats"))
        changes = h.record(log, "read", lambda: ca.request("GET", "/v1/changes?limit=1000"))
        seen = [
            ("entry", got is not None and got.status == 200),
            ("listing", listed is not None and listed.status == 200
             and any(e["id"] == entry for e in listed.json()["entries"])),
            ("stats", stats is not None and stats.status == 200 and stats.json()["count"] >= n),
            ("changes", changes is not None and changes.status == 200
             and any(c.get("entry", {}).get("id") == entry for c in changes.json()["changes"])),
        ]
        other = h.record(log, "read", lambda: cb.request("GET", f"/v1/entries/{entry}",
                                                         headers={"Weighin-Position": position or ""}))
        seen.append(("other instance with the position", other is not None and other.status == 200))
        books.add(checks=len(seen), other_instance_reads=1)
        for what, ok in seen:
            if not ok:
                books.add(violation=f"{what} missed {entry}")
        if index == 0 and n % 4 == 2:
            bare = h.record(log, "read", lambda: cb.request("GET", f"/v1/entries/{entry}"))
            if bare is not None and bare.status == 404:
                books.add(stale_without_position=1)
    ca.close()
    cb.close()


def main(report: h.Report):
    base = h.workdir("replicas")
    primary = h.Cluster(base)
    primary.settings += ["shared_preload_libraries = 'pg_stat_statements'", "pg_stat_statements.track = all"]
    primary.create()
    primary.psql("CREATE EXTENSION pg_stat_statements")
    standby = primary.standby(base + "/standby", h.PORTS.take())
    standby_url = standby.url + "&target_session_attrs=standby"
    args = h.NO_RATE_LIMIT + ("--pool-size", "4", "--hash-cost", "4", "--log-level", "warning",
                              "--read-database-url", standby_url, "--replica-lag-limit", f"{LAG_LIMIT:g}s")
    a = h.Server(base, primary.url, args=args, name="a", ops=True).start()
    b = h.Server(base, primary.url, args=args, name="b", ops=True).start()
    report.note(f"instances {a.url} and {b.url}; primary 127.0.0.1:{primary.port}, "
                f"standby 127.0.0.1:{standby.port} (pg_basebackup -R); lag limit {LAG_LIMIT:g}s")
    log = h.Log()

    # --- A. routing
    available = wait_for(lambda: gauge(a, "weighin_replica_available") == 1
                         and gauge(b, "weighin_replica_available") == 1, 20)
    report.check("both instances use the standby once they have sampled it", available is not None)
    readers = [h.new_user(a.url, "rr-reader") for _ in range(3)]
    for u in readers:
        for d in range(5):
            h.Client(a.url, token=u.token).request("POST", "/v1/entries", json_body=h.entry_body("rr-seed", d))
    time.sleep(0.5)
    standby.psql("SELECT pg_stat_statements_reset()")
    before = reads(a)
    stop = threading.Event()
    threads = h.start_threads([lambda u=u: reader_loop(a, u, stop, log) for u in readers])
    time.sleep(3)
    stop.set()
    h.join_all(threads, 15)
    after = reads(a)
    on_standby = int(standby.psql("""
        SELECT coalesce(sum(calls), 0) FROM pg_stat_statements
        WHERE query LIKE '%weight_entries%' AND query NOT LIKE '%pg_stat_statements%'""") or 0)
    report.figure("a_reads_replica", int(after[1] - before[1]))
    report.figure("a_reads_primary", int(after[0] - before[0]))
    report.figure("standby_read_statements", on_standby)
    report.check("reads of users with nothing unreplayed went to the standby (weighin's metrics)",
                 after[1] - before[1] > 0 and after[0] - before[0] == 0, f"{after[1] - before[1]:.0f} on the standby, "
                 f"{after[0] - before[0]:.0f} on the primary")
    report.check("the standby ran them (its pg_stat_statements)", on_standby >= after[1] - before[1] > 0,
                 f"{on_standby} statement calls on weight_entries")

    # --- B. read-your-writes while the standby replays 1 s late
    delay_replay(standby, APPLY_DELAY)
    books = Books()
    writers = [h.new_user(a.url, "rr-writer") for _ in range(3)]
    stop = threading.Event()
    lag_seen = []
    before = reads(a)

    def sample_lag():
        while not stop.is_set():
            lag_seen.append(gauge(a, "weighin_replica_lag_seconds") or 0)
            time.sleep(0.25)

    threads = h.start_threads(
        [lambda u=u, i=i: writer_loop(a, b, standby, u, stop, log, books, i) for i, u in enumerate(writers)]
        + [lambda u=u: reader_loop(a, u, stop, log, pause=0.05) for u in readers] + [sample_lag])
    time.sleep(12)
    stop.set()
    h.join_all(threads, 30)
    after = reads(a)
    report.figure("ryw_writes", books.writes)
    report.figure("ryw_checks", books.checks)
    report.figure("ryw_violations", len(books.violations))
    report.figure("writes_missing_on_standby_when_acked", f"{books.behind}/{books.asked}")
    report.figure("stale_reads_on_other_instance_without_position", books.stale_without_position)
    report.figure("lag_max_s", round(max(lag_seen or [0]), 2))
    report.figure("phase_b_reads_replica", int(after[1] - before[1]))
    report.figure("phase_b_reads_primary", int(after[0] - before[0]))
    report.check("writes went on under the delayed standby", books.writes >= 20, f"{books.writes}")
    report.check("read-your-writes: every read after an acknowledged write showed it (same instance; other "
                 "instance with Weighin-Position)", not books.violations, "; ".join(books.violations[:5]))
    report.check("the standby really lagged: acknowledged writes were missing on it", books.behind > 0,
                 f"{books.behind} of {books.asked}")
    report.check("meanwhile other users' reads were served by the standby", after[1] - before[1] > 0)
    report.check(f"the lag seen stayed near the {APPLY_DELAY} delay (within the limit)",
                 0.5 <= max(lag_seen or [0]) <= LAG_LIMIT, f"max {max(lag_seen or [0]):.2f}s")

    # --- C. the lag bound
    delay_replay(standby, LONG_DELAY)
    writer = writers[0]
    stop = threading.Event()
    wlog = h.Log()

    def light_writes():
        c = h.Client(a.url, timeout=10, token=writer.token)
        while not stop.is_set():
            h.record(wlog, "write", lambda: c.request("POST", "/v1/entries", json_body=h.entry_body("rr-lag", 1)))
            time.sleep(0.1)

    threads = h.start_threads([light_writes])
    skipped = wait_for(lambda: gauge(a, "weighin_replica_available") == 0, 15)
    report.figure("seconds_to_skip_lagging_standby", None if skipped is None else round(skipped, 2))
    report.check(f"a standby lagging past {LAG_LIMIT:g}s is skipped", skipped is not None)
    lag_then = gauge(a, "weighin_replica_lag_seconds") or 0
    report.figure("lag_when_skipped_s", round(lag_then, 2))
    before = reads(a)
    c = h.Client(a.url, timeout=10, token=readers[0].token)
    answers = [h.record(log, "read", lambda: c.request("GET", "/v1/entries?limit=20")) for _ in range(20)]
    after = reads(a)
    report.check("while skipped, reads answer 200 from the primary",
                 all(r is not None and r.status == 200 for r in answers) and after[1] == before[1]
                 and after[0] - before[0] >= 20, f"replica {after[1] - before[1]:.0f}, primary {after[0] - before[0]:.0f}")
    stop.set()
    h.join_all(threads, 15)
    delay_replay(standby, "0")
    back = wait_for(lambda: gauge(a, "weighin_replica_available") == 1, 20)
    report.figure("seconds_to_use_it_again", None if back is None else round(back, 2))
    before = reads(a)
    c.request("GET", "/v1/entries?limit=20")
    report.check("once caught up, the standby serves reads again", back is not None and reads(a)[1] > before[1])

    # --- D. the standby down
    stop = threading.Event()
    dlog = h.Log()
    threads = h.start_threads([lambda u=u: reader_loop(a, u, stop, dlog) for u in readers])
    time.sleep(0.5)
    standby.stop(mode="immediate")
    t_down = time.monotonic()
    gone = wait_for(lambda: gauge(a, "weighin_replica_available") == 0, 10)
    time.sleep(2)
    standby.start()
    returned = wait_for(lambda: gauge(a, "weighin_replica_available") == 1, 20)
    time.sleep(0.5)
    stop.set()
    h.join_all(threads, 15)
    down_items = [i for i in dlog.snapshot() if i["start"] >= t_down]
    statuses = h.count_by(down_items, "status")
    report.figure("reads_while_standby_down_or_returning", statuses)
    report.figure("seconds_to_skip_stopped_standby", gone and round(gone, 2))
    report.figure("seconds_to_use_restarted_standby", returned and round(returned, 2))
    report.check("with the standby down, every read answered 200 (never a 5xx)",
                 bool(down_items) and all(i["status"] == 200 for i in down_items), f"{statuses}")
    report.check("the down standby was skipped, then used again once back", gone is not None and returned is not None)

    everything = log.snapshot() + wlog.snapshot() + dlog.snapshot()
    bad = h.count_by([i for i in everything if not (isinstance(i["status"], int) and i["status"] < 500)],
                     "status")
    report.figure("requests", len(everything))
    report.check("no request failed or answered 5xx in any phase", not bad, f"{bad}")
    final = reads(a)
    report.figure("a_reads_total", {"primary": int(final[0]), "replica": int(final[1])})


if __name__ == "__main__":
    r = h.Report("replicas", "read replicas: routing, read-your-writes under a delayed standby, lag bound, standby down")
    h.run_test(r, main)
