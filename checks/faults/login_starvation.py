#!/usr/bin/env python3
"""Sign-up and log-in on a busy host: they get a bounded share of CPU, not leftovers, and leave the rest alone.

Server at the production bcrypt cost (12). Every latency below is the median of PROBES sign-ups (each one bcrypt
hash) or PROBES log-ins (one verification), sent one after another from 127.0.0.1, a log-in after each sign-up.
  1. Quiet: the sign-up and log-in latencies with nothing else running, measured first and again last; the quiet
     latency is the mean of the two (a host that is busier during one of them skews the comparison less).
  2. Busy processes: as many normal-priority processes as cores spin beside the server, in its own session:
     sign-up and log-in each take at most HOGS_FACTOR x their quiet latency. (In one session, as when a build and
     the server share a container's CPU: Linux's per-session autogroups would otherwise give the server's session
     its own share whatever its threads' priorities, and hide a starved thread.)
  3. The service's own load: `weighin loadtest` (closed loop, 32 connections, GET /v1/me and listing: work for
     the server's own threads more than for the database) keeps both cores busy, in two runs back to back; beside
     the second, sign-ups and log-ins run:
     a. sign-up and log-in each take at most LOAD_FACTOR x their quiet latency (with SCHED_IDLE hashing threads,
        which ran only on CPU nothing else wanted, they took minutes);
     b. the other way round, the load's own p99 while they run is at most 2 x its p99 in the first run without
        them (hashing is bounded to its pool, as login_flood proves for a flood of log-ins on an idle host).
   The sign-ups and log-ins start once the second run's seeding (which logs its users in) is over.
The request budget is lifted (`--rate-limit`): the load comes from one address and a few tokens.
"""

import os
import shlex
import statistics
import sys
import threading
import time
import uuid

import kit as h

PROBES = 5
HOGS_FACTOR = 4.0
LOAD_FACTOR = 5.0
LOAD_SECONDS = 24
LOAD_MIX = "me=70,list=30"
# `weighin loadtest` processes at once: enough that the server's own threads, not the generator, are the limit.
GENERATORS = 2
# The longest a phase of probes may take (a starved one fails at this point instead of hanging).
PHASE_LIMIT = 40


def probe(url, limit=PHASE_LIMIT):
    """PROBES sign-ups, each followed by a log-in of the user it made, one at a time, for at most `limit`
    seconds: (sign-ups, log-ins, statuses that were not 201), each sign-up and log-in as (when it ended, how long it
    took). A request still waiting at the limit counts with the time it has waited so far, so a starved phase ends
    and fails instead of hanging."""
    deadline = time.monotonic() + limit
    c = h.Client(url, timeout=limit)
    signups, logins, bad = [], [], []

    def one(path, body, into):
        t0 = time.monotonic()
        try:
            status = c.request("POST", path, json_body=body).status
        except Exception as error:  # noqa: BLE001 - a time-out is the finding, not a crash
            status = type(error).__name__
        into.append((time.monotonic(), time.monotonic() - t0))
        if status != 201:
            bad.append(status)

    for _ in range(PROBES):
        if time.monotonic() >= deadline:
            break
        email = f"starve-{uuid.uuid4().hex[:12]}@example.com"
        one("/v1/users", {"email": email, "name": "Starvation", "password": h.PASSWORD}, signups)
        if time.monotonic() >= deadline:
            break
        one("/v1/tokens", {"email": email, "password": h.PASSWORD}, logins)
    c.close()
    return signups, logins, bad


def with_hogs(server, count, flag):
    """Makes `server` start with `count` normal-priority processes in its session, which spin on the CPU while the
    file `flag` exists (and sleep otherwise); stopping the server stops them (they are in its process group)."""
    spin = (f"import os, time\nfor _ in range({count - 1}):\n    if os.fork() == 0:\n        break\n"
            f"while True:\n    if os.path.exists({flag!r}):\n        for _ in range(100000):\n            pass\n"
            f"    else:\n        time.sleep(0.05)\n")
    launcher = f"{shlex.quote(sys.executable)} -c {shlex.quote(spin)} & exec \"$@\""
    server.cmd = ["sh", "-c", launcher, "sh"] + server.cmd
    return server


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


def median(timed):
    """The median duration of (ended, took) pairs; infinite when there are none."""
    return statistics.median(took for _, took in timed) if timed else float("inf")


def ms(seconds):
    return round(seconds * 1000, 1)


def main(report: h.Report):
    base = h.workdir("starve")
    cluster = h.Cluster(base).create()
    cores = os.cpu_count() or 1
    spin_flag = os.path.join(base, "spin")
    server = with_hogs(h.Server(base, cluster.url, args=h.NO_RATE_LIMIT + (
        "--hash-cost", "12", "--log-level", "warning", "--access-log", "off")), cores, spin_flag).start()
    url = server.url
    report.note(f"server {url}, {cores} cores, bcrypt cost 12")

    # 1. quiet
    probe(url)  # warm-up: first connections, first statements
    q_sign, q_login, q_bad = probe(url)

    # 2. busy processes beside the server, in its session
    open(spin_flag, "w").close()
    try:
        time.sleep(1.0)
        b_sign, b_login, b_bad = probe(url)
    finally:
        os.remove(spin_flag)
    # 3. the service's own load: GENERATORS loadtest runs at once, twice; sign-ups and log-ins beside the second.
    prefix = "lt-starve"
    seed, _ = h.loadtest(url, base, duration="1s", users=16, entries=20, prefix=prefix, seed_only=True)
    if seed.wait(180) != 0:
        raise RuntimeError("loadtest seeding failed")
    half = LOAD_SECONDS // 2

    def load(runs_before):
        """GENERATORS loadtest runs at once for `half` seconds; returns them once their load is on."""
        runs = [h.loadtest(url, base, duration=f"{half}s", connections=32, users=16, entries=20, mix=LOAD_MIX,
                           prefix=prefix, timeout="30s") for _ in range(GENERATORS)]
        wait_for_load(os.path.join(base, "loadtest.out"), runs=runs_before + GENERATORS)
        return runs

    def finish(runs):
        """Waits for `runs`; their reports."""
        reports = []
        for proc, path in runs:
            rc = proc.wait(half + 120)
            reports.append(h.read_loadtest(path))
            if rc != 0 or reports[-1] is None:
                raise RuntimeError(f"a loadtest run failed (exit {rc})")
        return reports

    cpu0, t0 = server.cpu_seconds(), time.monotonic()
    alone = finish(load(0))
    cpu_alone = (server.cpu_seconds() - cpu0) / (time.monotonic() - t0)
    beside_runs = load(GENERATORS)
    results, stop = [], threading.Event()

    def login_client():  # one user at a time, as in the quiet phase
        while not stop.is_set():
            results.append(probe(url))

    threads = h.start_threads([login_client])
    beside = finish(beside_runs)
    load_ended = time.monotonic()
    stop.set()
    h.join_all(threads, PHASE_LIMIT + 30)
    # Only what ended while the load was on counts: a starved request that outlives the load is not a finding
    # made under it (and one that never ends in time leaves nothing to count, which fails below).
    l_sign = [x for r in results for x in r[0] if x[0] <= load_ended]
    l_login = [x for r in results for x in r[1] if x[0] <= load_ended]
    l_bad = [s for r in results for s in r[2]]
    load_signup, load_login = median(l_sign), median(l_login)
    p99_alone = statistics.mean(r["overall"]["latency_ms"]["p99"] for r in alone)
    p99_beside = statistics.mean(r["overall"]["latency_ms"]["p99"] for r in beside)
    errors = [r["overall"]["errors_by_status"] for r in alone + beside]
    report.figure("load_rps_alone_beside", f"{sum(r['overall']['throughput'] for r in alone):.0f}/"
                                           f"{sum(r['overall']['throughput'] for r in beside):.0f}")
    report.figure("server_cpu_s_per_wall_s_under_load", round(cpu_alone, 2))
    report.figure("load_p99_ms_alone_beside", f"{p99_alone:.1f}/{p99_beside:.1f}")
    # 1b. quiet again
    q2_sign, q2_login, q2_bad = probe(url)
    quiet_signup = (median(q_sign) + median(q2_sign)) / 2
    quiet_login = (median(q_login) + median(q2_login)) / 2
    report.figure("quiet_signup_ms_before_after", f"{ms(median(q_sign))}/{ms(median(q2_sign))}")
    report.figure("quiet_login_ms_before_after", f"{ms(median(q_login))}/{ms(median(q2_login))}")
    report.check("quiet sign-ups and log-ins answer 201", not q_bad and not q2_bad, f"{q_bad + q2_bad}")

    hog_signup, hog_login = median(b_sign), median(b_login)
    report.figure("busy_processes", cores)
    report.figure("hogs_signup_ms", ms(hog_signup))
    report.figure("hogs_login_ms", ms(hog_login))
    report.check("beside busy processes every sign-up and log-in answers 201", not b_bad, f"{b_bad}")
    report.check(f"beside busy processes sign-up <= {HOGS_FACTOR:g} x quiet",
                 hog_signup <= HOGS_FACTOR * quiet_signup,
                 f"{ms(hog_signup)} ms vs {ms(quiet_signup)} ms ({hog_signup / quiet_signup:.1f}x)")
    report.check(f"beside busy processes log-in <= {HOGS_FACTOR:g} x quiet",
                 hog_login <= HOGS_FACTOR * quiet_login,
                 f"{ms(hog_login)} ms vs {ms(quiet_login)} ms ({hog_login / quiet_login:.1f}x)")

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
    report.check("the load saw no error", not any(errors), f"{errors}")
    report.check("the load's p99 beside sign-ups and log-ins <= 2 x its p99 without them",
                 p99_beside <= 2 * p99_alone, f"{p99_beside:.1f} ms vs {p99_alone:.1f} ms "
                 f"({p99_beside / max(p99_alone, 1e-9):.2f}x)")


if __name__ == "__main__":
    rep = h.Report("login_starvation", "sign-up and log-in latency on a busy host, and the load's latency beside them")
    h.run_test(rep, main)
