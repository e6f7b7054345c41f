#!/usr/bin/env python3
"""SIGKILL of the server mid-load loses no acknowledged write.

Writers (with and without Idempotency-Key) and readers load weighin; after 4 s it gets SIGKILL. A second
weighin is started on the same database. Checks:
  - every entry answered 201 before the kill exists (it was committed before the 201);
  - every idempotent write that got no answer, retried with the same key on the new server, is answered 201,
    and no key has more than one entry (the lost answer did not turn into a duplicate);
  - an idempotent write answered 201 before the kill, sent again, is answered the same id (replayed).
Repeated 3 times (the kill lands at a different moment each time).
"""

import signal
import threading
import time

import kit as h

ROUNDS = 3


def main(report: h.Report):
    base = h.workdir("sigkill")
    cluster = h.Cluster(base).create()
    args = h.NO_RATE_LIMIT + ("--pool-size", "4", "--hash-cost", "4", "--log-level", "warning", "--access-log", "off")
    writes = h.Writes()
    bodies = {}
    lock = threading.Lock()
    total_requests, unanswered_at_kill = 0, 0
    server = h.Server(base, cluster.url, name="serve-0", args=args).start()
    users = [h.new_user(server.url) for _ in range(4)]

    for rnd in range(ROUNDS):
        log, stop = h.Log(), threading.Event()
        killed = [False]
        targets = []
        for i, u in enumerate(users):
            targets.append(lambda u=u, i=i: h.writer_loop(server.url, u.token, f"kl{rnd}-k{i}", stop, log, writes, True,
                                                          10, retry_deadline=lambda: killed[0]))
        for i, u in enumerate(users[:2]):
            targets.append(lambda u=u, i=i: h.writer_loop(server.url, u.token, f"kl{rnd}-p{i}", stop, log, writes, False,
                                                          10))
        for u in users[:2]:
            targets.append(lambda u=u: h.reader_loop(server.url, u.token, stop, log, 10))
        threads = h.start_threads(targets)
        time.sleep(3.0 + rnd * 0.37)
        server.signal(signal.SIGKILL)
        killed[0] = True
        server.wait(10)
        stop.set()
        h.join_all(threads, 20)
        items = log.snapshot()
        total_requests += len(items)
        unanswered_at_kill += sum(1 for i in items if not isinstance(i["status"], int))
        report.note(f"round {rnd + 1}: {len(items)} requests before the kill, statuses {h.count_by(items, 'status')}")
        server = h.Server(base, cluster.url, name=f"serve-{rnd + 1}", args=args).start()

    # Every acknowledged id exists (checked straight in the database).
    found = cluster.existing_ids(writes.acked_ids)
    lost = len(writes.acked_ids) - len(found)

    # Retry every idempotent write that never got its 201, with its key and the same body, on the new server:
    # stored before the kill -> its first answer is replayed (201, same entry); not stored -> stored now (201).
    user_by_prefix = {f"k{i}": u for i, u in enumerate(users)}
    retried, retry_201 = 0, 0
    pending = sorted(k for k in writes.keys_sent if k not in writes.key_ids)
    for key in pending:
        user = user_by_prefix[key.split("-")[1]]
        r = h.request(server.url, "POST", "/v1/entries", token=user.token, json_body=writes.key_bodies[key],
                      headers={"Idempotency-Key": key})
        retried += 1
        if r.status == 201:
            retry_201 += 1
    counts = cluster.note_counts("kl")
    dup = sum(max(0, n - 1) for n in counts.values())
    missing_keys = [k for k in writes.keys_sent if counts.get(k, 0) != 1]

    # Replays: acknowledged keys sent again with the same body answer the same id.
    replay_ok, replay_n = 0, 0
    for key, ids in sorted(writes.key_ids.items())[:60]:
        user = user_by_prefix[key.split("-")[1]]
        r = h.request(server.url, "POST", "/v1/entries", token=user.token, json_body=writes.key_bodies[key],
                      headers={"Idempotency-Key": key})
        replay_n += 1
        if r.status == 201 and r.json()["id"] in ids:
            replay_ok += 1
    counts_after = cluster.note_counts("kl")

    report.figure("kills", ROUNDS)
    report.figure("requests", total_requests)
    report.figure("unanswered_at_kill", unanswered_at_kill)
    report.figure("acknowledged_writes", len(writes.acked_ids))
    report.figure("lost_writes", lost)
    report.figure("idempotency_keys", len(writes.keys_sent))
    report.figure("keys_retried_after_kill", f"{retried} (answered 201: {retry_201})")
    report.figure("duplicates", dup)
    report.check("every entry answered 201 before a SIGKILL exists", lost == 0, f"{len(found)} of {len(writes.acked_ids)}")
    report.check("every unanswered idempotent write, retried with its key, is stored exactly once",
                 retried == retry_201 and not missing_keys,
                 f"{retried} retried; keys without exactly one entry: {len(missing_keys)}")
    report.check("no duplicates", dup == 0, f"{dup}")
    report.check("acknowledged idempotent writes sent again replay the same id and store nothing",
                 replay_n > 0 and replay_ok == replay_n and counts_after == counts, f"{replay_ok} of {replay_n}")


if __name__ == "__main__":
    rep = h.Report("sigkill", f"SIGKILL of weighin mid-load ({ROUNDS} times) loses no acknowledged write")
    h.run_test(rep, main)
