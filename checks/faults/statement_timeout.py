#!/usr/bin/env python3
"""A statement that runs past statement_timeout answers 503 (or 504) and frees its connection.

Pool of ONE connection, --statement-timeout 1s, --pool-timeout 5s. `weight_entries` is locked from psql, so
statements on it run until PostgreSQL cancels them. Five times each:
  - GET /v1/entries (a pipelined statement) answers 503/504 (with Retry-After on 503) after about 1 s
    (between 0.8 s and 3 s), and right after it GET /v1/me (another table) answers 200 in under 1 s on the same
    single connection: the connection was freed;
  - POST /v1/entries with an Idempotency-Key (a transaction on a lent connection) answers 503/504 likewise,
    and GET /v1/me answers 200 right after: the lent connection came back, no transaction left open
    (pg_stat_activity shows no weighin backend `idle in transaction`).
Before those, 30 concurrent GET /v1/entries, /v1/stats and /v1/trend on the fresh connection (their statements
not yet prepared) all answer 503/504, not 500, each within pool timeout + statement timeout + 1 s: a request
waits at most the pool timeout for room on the connection, then at most its own statement timeout.
Afterwards (lock gone) a retry of each timed-out idempotent write succeeds and created exactly one entry.
"""

import time

import kit as h

STATEMENT_TIMEOUT = 1.0
POOL_TIMEOUT = 5.0
ROUNDS = 5


def main(report: h.Report):
    base = h.workdir("stmt")
    cluster = h.Cluster(base).create()
    server = h.Server(base, cluster.url, args=h.NO_RATE_LIMIT + ("--pool-size", "1", "--pool-timeout", f"{POOL_TIMEOUT:g}s",
                                                "--statement-timeout", f"{STATEMENT_TIMEOUT:g}s",
                                                "--hash-cost", "4", "--log-level", "warning")).start()
    user = h.new_user(server.url)
    h.request(server.url, "POST", "/v1/entries", token=user.token, json_body=h.entry_body("st-seed"))

    lock = h.TableLock(cluster, seconds=300).__enter__()

    # Concurrent first uses: statements not yet prepared on the connection are pipelined behind the one whose
    # preparation stalls on the lock; when that one is cancelled, every one of them must still answer 503/504.
    res = h.burst(server.url, [h.raw_request("GET", "/v1/entries?limit=5", token=user.token) for _ in range(10)]
                  + [h.raw_request("GET", "/v1/stats", token=user.token) for _ in range(10)]
                  + [h.raw_request("GET", "/v1/trend", token=user.token) for _ in range(10)], timeout=40)
    burst_statuses = h.count_by([{"s": r.status} for r in res], "s")
    report.figure("concurrent_first_use_statuses", burst_statuses)
    report.check("30 concurrent statements stalled behind a cancelled one answered 503/504 (not 500)",
                 set(burst_statuses) <= {503, 504}, f"{burst_statuses}")
    # Statements pipelined on the one connection are cancelled one after another; once one answers slowly the
    # pool stops queueing behind it, so no request waits longer than the pool timeout plus its own statement.
    bound = POOL_TIMEOUT + STATEMENT_TIMEOUT + 1
    report.check(f"... each within pool timeout + statement timeout + 1 s ({bound:g} s)",
                 all((r.latency or 99) <= bound for r in res),
                 f"slowest {max((r.latency or 99) for r in res):.2f}s")
    time.sleep(0.5)

    timings, statuses, follow, in_tx = [], [], [], []
    bodies = {}
    for i in range(ROUNDS):
        for kind in ("list", "create-key"):
            if kind == "list":
                r = h.request(server.url, "GET", "/v1/entries?limit=5", token=user.token, timeout=40)
            else:
                key = f"st-key-{i}"
                bodies[key] = h.entry_body(key)
                r = h.request(server.url, "POST", "/v1/entries", token=user.token, timeout=40,
                              json_body=bodies[key], headers={"Idempotency-Key": key})
            timings.append(r.elapsed)
            statuses.append((kind, r.status, r.retry_after_ok() if r.status == 503 else True))
            f = h.request(server.url, "GET", "/v1/me", token=user.token, timeout=10)
            follow.append((f.status, f.elapsed))
            time.sleep(0.2)
            in_tx += [b for b in cluster.app_backends() if b[1].startswith("idle in transaction")]
    lock.release()

    report.figure("timed_out_requests", len(statuses))
    report.figure("statuses", h.count_by([{"s": s} for _, s, _ in statuses], "s"))
    report.figure("answer_s_min_max", f"{min(timings):.2f}/{max(timings):.2f}")
    report.figure("follow_up_max_s", round(max(e for _, e in follow), 3))
    report.check("every statement past statement_timeout answered 503 or 504",
                 all(s in (503, 504) for _, s, _ in statuses), f"{statuses}")
    report.check("every such 503 carries Retry-After", all(ra for _, _, ra in statuses))
    report.check("each answered once the timeout struck (0.8 s to 3 s)",
                 all(0.8 <= t <= 3.0 for t in timings), f"{[round(t, 2) for t in timings]}")
    report.check("the single connection was freed each time (GET /v1/me 200 in < 1 s right after)",
                 all(s == 200 and e < 1.0 for s, e in follow), f"{[(s, round(e, 2)) for s, e in follow]}")
    report.check("no weighin backend was left idle in a transaction", not in_tx, f"{in_tx[:3]}")

    counts_before = cluster.note_counts("st-key-")
    report.check("the timed-out idempotent writes stored nothing", not counts_before, f"{counts_before}")
    retried = [h.request(server.url, "POST", "/v1/entries", token=user.token, json_body=bodies[k],
                         headers={"Idempotency-Key": k}) for k in sorted(bodies)]
    counts = cluster.note_counts("st-key-")
    report.check("after the lock, each retried key created its entry (201)", all(r.status == 201 for r in retried),
                 f"{[r.status for r in retried]}")
    report.check("exactly one entry per key", counts == {k: 1 for k in bodies}, f"{counts}")
    busy = server.metrics().get('weighin_db_pool_connections{state="busy"}')
    report.figure("pool_busy_metric", "missing" if busy is None else busy)
    report.check("the pool reports no busy connection afterwards", busy == 0, f"{busy}")


if __name__ == "__main__":
    rep = h.Report("statement_timeout", "a statement past statement_timeout answers 503/504 and frees its connection")
    h.run_test(rep, main)
