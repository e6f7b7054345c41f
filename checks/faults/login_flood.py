#!/usr/bin/env python3
"""A flood of log-in attempts: held by the failed-login limit, bounded hashing, other requests unharmed.

Server at the production bcrypt cost (12).
  1. Failed-login limit: 10 wrong passwords for one email, then the 11th attempt - even with the right
     password - answers 429 with Retry-After (whole seconds > 0); a wrong password for another email still
     answers 401.
     A flood of 200 attempts on one email (8 clients) is held by that limit: at most 10 (+8 racing) reach the
     hashing, the rest answer 429 + Retry-After fast.
  2. Hashing budget: 48 clients flood POST /v1/tokens with wrong passwords for ever-new emails (each needs a
     bcrypt verification) for 8 s. Every answer is 401, 429 or 503 (with Retry-After on 429/503): excess
     log-ins are refused, not queued without bound; there are at most max(1, cores - 1) hashing threads
     (found by their raised nice value, or by name) and the CPU they burn stays within their number x wall
     time x 1.1.
  3. Listing p99: 4 clients list entries (GET /v1/entries?limit=20) for 8 s quietly, for 8 s during the
     flood, and for 8 s quietly again once the flood has drained. The target, the p99 during the flood at most
     2 x the quiet p99 (the mean of the two quiet ones), is reported as a figure with its verdict; a round that
     misses it is run again, up to 3 rounds, every round's ratio reported. The check is that the listing is not
     starved: at most 10 x (unbounded hashing would queue it behind seconds of bcrypt).
  4. After the flood, the legitimate user logs in (201) within 5 s.
"""

import os
import re
import threading
import time
import uuid

import kit as h

# The password-hashing threads: weighin runs them at a raised nice value (below request threads), so a thread of
# the server with a nice value above the main thread's is one; by name too, for builds that name them
# ("password-hash..." - Linux keeps 15 characters - or NIOThreadPool's "TP-#<n>").
HASHING_THREAD = re.compile(r"^(password-hash|pw-hash|TP-#)")

FLOOD_CLIENTS = 48
FLOOD_RATE_PER_CLIENT = 5.0   # attempts per second per client at most (no client-side busy loop)
PHASE = 8.0
LISTERS = 4
ROUNDS = 3
STARVED = 10   # flood p99 over quiet p99 that counts as starvation (the target is 2, reported as a figure)


def lister(base, token, stop, lat, errors):
    c = h.Client(base, timeout=10, token=token)
    while not stop.is_set():
        try:
            r = c.request("GET", "/v1/entries?limit=20")
            if r.status == 200:
                lat.append(r.elapsed)
            else:
                errors.append(r.status)
        except Exception as error:  # noqa: BLE001
            errors.append(type(error).__name__)
        time.sleep(0.01)
    c.close()


def flooder(base, stop, log):
    c = h.Client(base, timeout=60)
    while not stop.is_set():
        t0 = time.monotonic()
        email = f"flood-{uuid.uuid4().hex[:10]}@example.com"
        h.record(log, "login", lambda: c.request("POST", "/v1/tokens",
                                                 json_body={"email": email, "password": "not-the-password"}))
        rest = 1.0 / FLOOD_RATE_PER_CLIENT - (time.monotonic() - t0)
        if rest > 0:
            time.sleep(rest)
    c.close()


SERVER_PID = [0]


def hashing_cpu(before: dict, after: dict):
    """(number of hashing threads, CPU seconds they burnt between two Server.thread_cpu() samples)."""
    main = after.get(str(SERVER_PID[0]))
    base_nice = main[2] if main else 0
    tids = [t for t, (name, _, nice) in after.items() if HASHING_THREAD.match(name) or nice > base_nice]
    return len(tids), sum(after[t][1] - before.get(t, (None, 0.0, 0))[1] for t in tids)


def measure_listing(base, token, seconds):
    stop, lat, errors = threading.Event(), [], []
    ts = h.start_threads([lambda: lister(base, token, stop, lat, errors) for _ in range(LISTERS)])
    time.sleep(seconds)
    stop.set()
    h.join_all(ts, 15)
    return lat, errors


def flood_round(url, token, server):
    """One quiet / flood / quiet round of the listing, with the hashing threads' CPU during the flood."""
    quiet, quiet_err = measure_listing(url, token, PHASE)
    flood_log, flood_stop = h.Log(), threading.Event()
    flooders = h.start_threads([lambda: flooder(url, flood_stop, flood_log) for _ in range(FLOOD_CLIENTS)])
    time.sleep(1.0)   # the hashing queue fills
    cpu0, threads0, t0 = server.cpu_seconds(), server.thread_cpu(), time.monotonic()
    busy, busy_err = measure_listing(url, token, PHASE)
    cpu1, threads1, t1 = server.cpu_seconds(), server.thread_cpu(), time.monotonic()
    flood_stop.set()
    stuck = h.join_all(flooders, 60)
    # Quiet again once the flood has drained: the quiet p99 is the mean of before and after, so that a machine
    # that is busier (or idler) during one of them skews the comparison less.
    quiet_after, quiet_err_after = measure_listing(url, token, PHASE)
    hash_threads_seen, hash_cpu = hashing_cpu(threads0, threads1)
    p99_before = h.percentile(quiet, 99) * 1000
    p99_after = h.percentile(quiet_after, 99) * 1000
    return {
        "quiet": quiet, "busy": busy, "quiet_after": quiet_after, "quiet_err": quiet_err + quiet_err_after,
        "busy_err": busy_err, "stuck": stuck, "wall": t1 - t0, "cpu0": cpu0, "cpu1": cpu1,
        "hash_threads_seen": hash_threads_seen, "hash_cpu": hash_cpu, "items": flood_log.snapshot(),
        "p99_before": p99_before, "p99_after": p99_after, "p99_quiet": (p99_before + p99_after) / 2,
        "p99_busy": h.percentile(busy, 99) * 1000,
    }


def main(report: h.Report):
    base = h.workdir("login")
    cluster = h.Cluster(base).create()
    server = h.Server(base, cluster.url, args=h.NO_RATE_LIMIT + ("--hash-cost", "12", "--log-level", "warning",
                                                "--access-log", "off")).start()
    url = server.url
    SERVER_PID[0] = server.pid
    user = h.new_user(url)
    lister_user = h.new_user(url)
    for i in range(40):
        h.request(url, "POST", "/v1/entries", token=lister_user.token, json_body=h.entry_body(f"lf-{i}"))

    # 1. failed-login limit
    victim = h.new_user(url)
    wrong = [h.request(url, "POST", "/v1/tokens", json_body={"email": victim.email, "password": "wrong-password"},
                       timeout=30).status for _ in range(10)]
    r11 = h.request(url, "POST", "/v1/tokens", json_body={"email": victim.email, "password": victim.password}, timeout=30)
    other = h.request(url, "POST", "/v1/tokens", json_body={"email": user.email, "password": "wrong-password"}, timeout=30)
    report.check("10 wrong passwords answer 401", wrong == [401] * 10, f"{wrong}")
    ra = r11.header("Retry-After") or ""
    report.check("the 11th attempt, right password, answers 429 too_many_attempts with Retry-After (s > 0)",
                 r11.status == 429 and ra.isdigit() and int(ra) > 0 and b"too_many_attempts" in r11.body,
                 f"{r11.status}, Retry-After {ra!r}")
    report.check("another email is not held by it (401)", other.status == 401, f"{other.status}")

    # 1b. a flood on one email is held by the limit: after 10 failures nothing is hashed any more.
    target = h.new_user(url)
    one_log = h.Log()

    def one_email():
        c = h.Client(url, timeout=60)
        for _ in range(25):
            h.record(one_log, "login-one", lambda: c.request("POST", "/v1/tokens", json_body={
                "email": target.email.upper(), "password": "still-wrong"}))
        c.close()

    th0 = server.thread_cpu()
    h.join_all(h.start_threads([one_email for _ in range(8)]), 120)
    one_cpu = hashing_cpu(th0, server.thread_cpu())[1]
    one = one_log.snapshot()
    one_statuses = h.count_by(one, "status")
    held = [i for i in one if i["status"] == 429]
    report.figure("one_email_flood_statuses", one_statuses)
    report.figure("one_email_flood_hashing_cpu_s", round(one_cpu, 2))
    report.check("a 200-attempt flood on one email is held: at most 10 (+8 racing in flight) attempts reach hashing,"
                 " the rest answer 429", one_statuses.get(401, 0) <= 18 and len(held) >= 200 - 18
                 and set(one_statuses) <= {401, 429}, f"{one_statuses}")
    report.check("... each 429 with Retry-After and answered fast (p99 < 250 ms)",
                 all(i["retry_after"] for i in held)
                 and h.percentile([i["end"] - i["start"] for i in held], 99) < 0.25,
                 f"p99 {h.percentile([i['end'] - i['start'] for i in held], 99) * 1000:.0f} ms")

    # 2 + 3: quiet, flood, quiet. The p99 comparison is a timing on a shared machine: when a round misses it, the
    # round is run again (at most ROUNDS in all, every ratio reported), since a burst of other work during one 8 s
    # window skews it; a server that misses it for real misses it every time.
    rounds = []
    for _ in range(ROUNDS):
        rounds.append(flood_round(url, lister_user.token, server))
        if rounds[-1]["p99_busy"] <= 2 * rounds[-1]["p99_quiet"]:
            break
    r0 = rounds[-1]
    quiet, busy, quiet_after = r0["quiet"], r0["busy"], r0["quiet_after"]
    # Failures, stuck clients and answers count over every round; timings and CPU are the last round's.
    quiet_err = [e for r in rounds for e in r["quiet_err"]]
    busy_err = [e for r in rounds for e in r["busy_err"]]
    stuck = [t for r in rounds for t in r["stuck"]]
    items = [i for r in rounds for i in r["items"]]
    wall, cpu0, cpu1 = r0["wall"], r0["cpu0"], r0["cpu1"]
    hash_threads_seen, hash_cpu = r0["hash_threads_seen"], r0["hash_cpu"]
    p99_before, p99_after, p99_quiet, p99_busy = r0["p99_before"], r0["p99_after"], r0["p99_quiet"], r0["p99_busy"]
    cores = os.cpu_count() or 1
    hashing_threads = max(1, cores - 1)
    statuses = h.count_by(items, "status")
    report.figure("p99_rounds_flood_over_quiet", [round(r["p99_busy"] / max(r["p99_quiet"], 1e-9), 2) for r in rounds])
    report.figure("login_attempts", len(items))
    report.figure("login_statuses", statuses)
    report.figure("login_attempts_per_s", round(len(items) / len(rounds) / (PHASE + 1.0), 1))
    report.figure("hashing_threads", hash_threads_seen)
    report.figure("hashing_cpu_s_per_wall_s", round(hash_cpu / wall, 2))
    report.figure("server_cpu_s_per_wall_s", round((cpu1 - cpu0) / wall, 2))
    report.figure("listing_requests_quiet_flood_quiet", f"{len(quiet)}/{len(busy)}/{len(quiet_after)}")
    report.figure("listing_p99_ms_quiet_before_after", f"{p99_before:.1f}/{p99_after:.1f}")
    report.figure("listing_p99_ms_quiet", round(p99_quiet, 1))
    report.figure("listing_p99_ms_flood", round(p99_busy, 1))
    report.check("flood clients finished", not stuck, f"{len(stuck)} still waiting")
    report.check("every flood answer is 401, 429 or 503", set(statuses) <= {401, 429, 503}, f"{statuses}")
    report.check("excess log-ins are refused (some 503/429), not queued without bound",
                 statuses.get(503, 0) + statuses.get(429, 0) > 0, f"{statuses}")
    missing = sum(1 for i in items if i["status"] in (429, 503) and not i["retry_after"])
    report.check("every 429/503 carries Retry-After", missing == 0, f"{missing} without")
    report.check("the hashing threads were found and did hash during the flood", hash_cpu >= 0.1 * wall,
                 f"{hash_threads_seen} threads, {hash_cpu:.1f}s CPU over {wall:.1f}s")
    report.check(f"hashing runs on a bounded pool: at most {hashing_threads} thread(s) (cores - 1)",
                 0 < hash_threads_seen <= hashing_threads, f"{hash_threads_seen}")
    report.check(f"hashing CPU within its pool ({hashing_threads} thread(s)) x wall x 1.1",
                 hash_cpu <= hashing_threads * wall * 1.1, f"{hash_cpu:.1f}s over {wall:.1f}s")
    report.check("listing never failed", not quiet_err and not busy_err,
                 f"quiet {h.count_by([{'s': e} for e in quiet_err], 's')}, flood {h.count_by([{'s': e} for e in busy_err], 's')}")
    # The 2 x target is a speed figure, reported with its verdict (speed targets are the benchmark's, not a gate on
    # a shared machine); the gate is starvation: unbounded hashing would queue the listing behind seconds of bcrypt.
    ratio = p99_busy / max(p99_quiet, 1e-9)
    report.figure("listing_p99_target_2x", f"{'met' if ratio <= 2 else 'MISSED'} ({ratio:.2f}x)")
    report.check(f"listing is not starved during the flood: p99 <= {STARVED} x its quiet p99", ratio <= STARVED,
                 f"{p99_busy:.1f} ms vs {p99_quiet:.1f} ms quiet ({ratio:.2f}x)")

    deadline = time.monotonic() + 5
    r = None
    while time.monotonic() < deadline:
        r = h.request(url, "POST", "/v1/tokens", json_body={"email": user.email, "password": user.password}, timeout=10)
        if r.status == 201:
            break
        time.sleep(0.2)
    report.check("after the flood the user logs in (201) within 5 s", r is not None and r.status == 201,
                 f"{None if r is None else r.status}")


if __name__ == "__main__":
    rep = h.Report("login_flood", "failed-login limit, bounded hashing, listing p99 under a log-in flood")
    h.run_test(rep, main)
