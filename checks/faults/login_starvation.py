#!/usr/bin/env python3
"""Sign-up and log-in on a busy host: they get a bounded share of CPU, not leftovers, and leave the rest alone.

Server at the production bcrypt cost (12). Every latency below is the median of PROBES sign-ups (each one bcrypt
hash) or PROBES log-ins (one verification), sent one after another from 127.0.0.1.
  1. Quiet: the sign-up and log-in latencies with nothing else running.
  2. Busy processes: 2 x cores normal-priority processes spin in one session beside the server (as a build
     does): sign-up and log-in each take at most HOGS_FACTOR x their quiet latency.
  3. The service's own load: `weighin loadtest` (closed loop, 32 connections, list/create/stats/get) keeps both
     cores busy for LOAD_SECONDS while, in its second half, sign-ups and log-ins run:
     a. sign-up and log-in each take at most LOAD_FACTOR x their quiet latency (before, with SCHED_IDLE hashing
        threads, they waited for CPU nothing else wanted: over a minute);
     b. the other way round, the load's own p99 while they run is at most 2 x its p99 in the first half without
        them (hashing is bounded to its pool, as login_flood proves for a flood of log-ins on an idle host).
   The sign-ups and log-ins start once the second run's seeding (which logs its users in) is over.
The request budget is lifted (`--rate-limit`): the load comes from one address and a few tokens.
"""

import os
import statistics
import sys
import threading
import time
import uuid

import kit as h
from harness import processes

PROBES = 5
HOGS_FACTOR = 4.0
LOAD_FACTOR = 5.0
LOAD_SECONDS = 16


def timed(fn):
    t0 = time.monotonic()
    status = fn()
    return time.monotonic() - t0, status


def probe(url):
    """PROBES sign-ups then PROBES log-ins (of the last signed-up user), one at a time: (sign-up latencies,
    log-in latencies, statuses that were not 201)."""
    c = h.Client(url, timeout=120)
    signups, logins, bad = [], [], []
    email = None
    for _ in range(PROBES):
        email = f"starve-{uuid.uuid4().hex[:12]}@example.com"
        took, status = timed(lambda: c.request("POST", "/v1/users", json_body={
            "email": email, "name": "Starvation", "password": h.PASSWORD}).status)
        signups.append(took)
        if status != 201:
            bad.append(status)
    for _ in range(PROBES):
        took, status = timed(lambda: c.request("POST", "/v1/tokens", json_body={
            "email": email, "password": h.PASSWORD}).status)
        logins.append(took)
        if status != 201:
            bad.append(status)
    c.close()
    return signups, logins, bad


def hogs(count):
    """`count` normal-priority processes spinning on the CPU, in one session (as a build's compilers are): one
    spawned process forks the others, and stopping it stops its whole group."""
    spin = f"import os\nfor _ in range({count - 1}):\n    if os.fork() == 0:\n        break\nwhile True:\n    pass\n"
    return processes.spawn([sys.executable, "-c", spin], f"{count} cpu hogs")


def wait_for_load(out_path, runs, timeout=120):
    """Waits until `weighin loadtest` has logged its `runs`-th "running ..." line (seeding over, load on): its
    seeding logs its users in (and registers them: a full hash even when they exist), which would queue before
    the probes."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with open(out_path, "rb") as f:
            if sum(1 for line in f if line.startswith(b"running ")) >= runs:
                return
        time.sleep(0.2)
    raise RuntimeError("weighin loadtest did not start its load")


def ms(seconds):
    return round(seconds * 1000, 1)


def main(report: h.Report):
    base = h.workdir("starve")
    cluster = h.Cluster(base).create()
    server = h.Server(base, cluster.url, args=h.NO_RATE_LIMIT + (
        "--hash-cost", "12", "--log-level", "warning", "--access-log", "off")).start()
    url = server.url
    cores = os.cpu_count() or 1
    report.note(f"server {url}, {cores} cores, bcrypt cost 12")

    # 1. quiet
    probe(url)  # warm-up: first connections, first statements
    q_sign, q_login, q_bad = probe(url)
    quiet_signup, quiet_login = statistics.median(q_sign), statistics.median(q_login)
    report.figure("quiet_signup_ms", ms(quiet_signup))
    report.figure("quiet_login_ms", ms(quiet_login))
    report.check("quiet sign-ups and log-ins answer 201", not q_bad, f"{q_bad}")

    # 2. busy processes beside the server
    spinning = hogs(2 * cores)
    try:
        time.sleep(1.0)
        b_sign, b_login, b_bad = probe(url)
    finally:
        processes.stop(spinning, timeout=5)
    hog_signup, hog_login = statistics.median(b_sign), statistics.median(b_login)
    report.figure("busy_processes", 2 * cores)
    report.figure("hogs_signup_ms", ms(hog_signup))
    report.figure("hogs_login_ms", ms(hog_login))
    report.check("beside busy processes every sign-up and log-in answers 201", not b_bad, f"{b_bad}")
    report.check(f"beside busy processes sign-up <= {HOGS_FACTOR:g} x quiet",
                 hog_signup <= HOGS_FACTOR * quiet_signup,
                 f"{ms(hog_signup)} ms vs {ms(quiet_signup)} ms ({hog_signup / quiet_signup:.1f}x)")
    report.check(f"beside busy processes log-in <= {HOGS_FACTOR:g} x quiet",
                 hog_login <= HOGS_FACTOR * quiet_login,
                 f"{ms(hog_login)} ms vs {ms(quiet_login)} ms ({hog_login / quiet_login:.1f}x)")

    # 3. the service's own load: two loadtest runs back to back, log-ins beside the second.
    prefix = "lt-starve"
    seed, _ = h.loadtest(url, base, duration="1s", users=16, entries=20, prefix=prefix, seed_only=True)
    if seed.wait(180) != 0:
        raise RuntimeError("loadtest seeding failed")
    half = LOAD_SECONDS // 2
    alone_proc, alone_json = h.loadtest(url, base, duration=f"{half}s", connections=32, users=16, entries=20,
                                        prefix=prefix, timeout="30s")
    if alone_proc.wait(half + 120) != 0:
        raise RuntimeError("the first loadtest run failed")
    beside_proc, beside_json = h.loadtest(url, base, duration=f"{half}s", connections=32, users=16, entries=20,
                                          prefix=prefix, timeout="30s")
    wait_for_load(os.path.join(base, "loadtest.out"), runs=2)
    results, stop = [], threading.Event()

    def login_client():  # one user at a time, as in the quiet phase
        while not stop.is_set():
            results.append(probe(url))

    threads = h.start_threads([login_client])
    beside_rc = beside_proc.wait(half + 120)
    stop.set()
    h.join_all(threads, 120)
    alone, beside = h.read_loadtest(alone_json), h.read_loadtest(beside_json)
    if beside_rc != 0 or alone is None or beside is None:
        raise RuntimeError(f"the loadtest runs failed (exit {beside_rc})")
    l_sign = [t for r in results for t in r[0]]
    l_login = [t for r in results for t in r[1]]
    l_bad = [s for r in results for s in r[2]]
    load_signup = statistics.median(l_sign) if l_sign else float("inf")
    load_login = statistics.median(l_login) if l_login else float("inf")
    p99_alone = alone["overall"]["latency_ms"]["p99"]
    p99_beside = beside["overall"]["latency_ms"]["p99"]
    report.figure("load_rps_alone_beside", f"{alone['overall']['throughput']:.0f}/{beside['overall']['throughput']:.0f}")
    report.figure("load_p99_ms_alone_beside", f"{p99_alone:.1f}/{p99_beside:.1f}")
    report.figure("load_errors_alone_beside", f"{alone['overall']['errors_by_status']}/{beside['overall']['errors_by_status']}")
    report.figure("load_signups_logins_done", f"{len(l_sign)}/{len(l_login)}")
    report.figure("load_signup_ms", ms(load_signup))
    report.figure("load_login_ms", ms(load_login))
    report.check("under the load sign-ups and log-ins were made and answered 201", l_sign and l_login and not l_bad,
                 f"{len(l_sign)} sign-ups, {len(l_login)} log-ins, other statuses {l_bad}")
    report.check(f"under the service's own load sign-up <= {LOAD_FACTOR:g} x quiet",
                 load_signup <= LOAD_FACTOR * quiet_signup,
                 f"{ms(load_signup)} ms vs {ms(quiet_signup)} ms ({load_signup / quiet_signup:.1f}x)")
    report.check(f"under the service's own load log-in <= {LOAD_FACTOR:g} x quiet",
                 load_login <= LOAD_FACTOR * quiet_login,
                 f"{ms(load_login)} ms vs {ms(quiet_login)} ms ({load_login / quiet_login:.1f}x)")
    report.check("the load saw no error", not alone["overall"]["errors_by_status"]
                 and not beside["overall"]["errors_by_status"],
                 f"{alone['overall']['errors_by_status']} / {beside['overall']['errors_by_status']}")
    report.check("the load's p99 beside sign-ups and log-ins <= 2 x its p99 without them",
                 p99_beside <= 2 * p99_alone, f"{p99_beside:.1f} ms vs {p99_alone:.1f} ms "
                 f"({p99_beside / max(p99_alone, 1e-9):.2f}x)")


if __name__ == "__main__":
    rep = h.Report("login_starvation", "sign-up and log-in latency on a busy host, and the load's latency beside them")
    h.run_test(rep, main)
