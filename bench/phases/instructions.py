"""Instructions per request: the server under valgrind's callgrind during a closed loop of the mix, its
instructions counted only inside a window and divided by the requests its /metrics counted in that window; the
functions by their own and by their inclusive share.

Why: on this shared machine two runs of the same binary differed by 0.81x in throughput and 1.29x in CPU per
request (BENCHMARKS.md, the A/A comparison), so a change of a few per cent cannot be seen in seconds. Instructions
are counted, not timed: the same binary and load give nearly the same count whatever else the machine does, so
two builds are compared by running this phase for each. They are not cycles (a cache miss or a lock's sleep costs
no instructions) and valgrind runs one thread at a time, so this measures the work the code does, beside the
timed phases, not in their place."""

import glob
import os
import re
import shutil
import time

from harness.processes import run

from lib.loadtest import loadtest
from lib.log import log
from lib.perf import demangle
from lib.window import requests_by_scenario
from lib.workload import SERVICE_FLAGS

CONNECTIONS = 8     # valgrind runs one thread at a time: more connections only queue
USERS = 100         # logged in before the load, without instrumentation: each log-in hashes a password
WARMUP = 20         # seconds of load before the window, for the token cache and the pools
WINDOW = 40         # seconds counted


def instructions(b):
    if not shutil.which("valgrind") or not shutil.which("callgrind_control"):
        log("instructions: valgrind not installed (apt-get install -y valgrind); skipped")
        return
    b.reset_data()
    b.quiet("instructions")
    out_file = b.path("callgrind.out")
    for old in glob.glob(out_file + "*"):
        os.remove(old)
    # valgrind 3.19 (Debian 12) cannot read the DWARF 5 that Swift 6's clang writes and gives up: a copy without
    # the debug sections keeps the symbol table, which is all a count by function needs.
    binary = b.path("weighin-without-debug-info")
    run(["objcopy", "--strip-debug", b.binary, binary], 300)
    shim = b.path("sigsuspend_copy.so")
    run(["cc", "-shared", "-fPIC", "-O2", "-o", shim, os.path.join(os.path.dirname(os.path.dirname(
        os.path.abspath(__file__))), "lib", "sigsuspend_copy.c")], 120)
    wrapper = ["valgrind", "--tool=callgrind", "--instr-atstart=no", f"--callgrind-out-file={out_file}",
               "--dump-line=no", "--compress-strings=no"]
    srv = b.server("instructions", SERVICE_FLAGS, measured=True, wrapper=wrapper, binary=binary,
                   env={"LD_PRELOAD": shim}, ready_timeout=300)
    holder = {}

    def sampler(_seconds):
        ctl(srv.pid, "--instr=on")
        before = requests_by_scenario(srv.metrics())
        time.sleep(WINDOW)
        ctl(srv.pid, "--instr=off")
        after = requests_by_scenario(srv.metrics())
        ctl(srv.pid, "--dump=window")
        holder["requests"] = {k: after[k] - before[k] for k in after if after[k] - before[k]}

    try:
        log(f"instructions: weighin serve under callgrind, {CONNECTIONS} connections, {USERS} users, the mix; "
            f"{WARMUP} s warm-up, {WINDOW} s counted")
        loadtest(b, srv, "instructions", [], connections=CONNECTIONS, users=USERS, warmup=WARMUP,
                 duration=WINDOW + 10, window=False, sampler=sampler)
    finally:
        srv.stop()
        os.remove(binary)
        os.remove(shim)
    dumps = sorted(f for f in glob.glob(out_file + ".*") if re.search(r"\.\d+$", f))  # callgrind_control's dumps
    if not dumps:
        log("instructions: callgrind wrote no dump; see server-instructions.log")
        return
    dump = dumps[0]
    total = total_instructions(dump)
    requests = sum(holder.get("requests", {}).values())
    per_request = round(total / max(1, requests))
    reports = {
        "self": run(["callgrind_annotate", "--threshold=95", dump], 600, check=False),
        "inclusive": run(["callgrind_annotate", "--inclusive=yes", "--threshold=99", dump], 600, check=False),
    }
    for name, text in reports.items():
        with open(b.path(f"instructions-{name}.txt"), "w") as f:
            f.write(demangle(text))
    # valgrind emulates no SHA extensions, so BoringSSL takes its AVX code for the ETag's SHA-256 here, which the
    # CPU's SHA instructions do natively in a fraction of the work: the count without it is the one to compare.
    sha = inclusive_count(reports["inclusive"], "sha256_block_data_order")
    b.results["instructions"] = {
        "per_request": per_request, "total": total, "requests": holder.get("requests"),
        "per_request_without_sha256": round((total - sha) / max(1, requests)),
        "connections": CONNECTIONS, "window_seconds": WINDOW, "dump": os.path.basename(dump),
        "files": [f"instructions-{n}.txt" for n in reports]}
    log(f"instructions: {per_request:,} per request, {(total - sha) / max(1, requests):,.0f} without SHA-256's "
        f"blocks ({total:,} over {requests} requests: "
        f"{holder.get('requests')}); functions in {b.out}/instructions-*.txt")
    b.save()


def ctl(pid, option):
    run(["callgrind_control", option, str(pid)], 120)


def inclusive_count(annotated, symbol):
    """The inclusive count of the first function whose name starts with `symbol` in callgrind_annotate's output."""
    for line in annotated.splitlines():
        m = re.match(r"\s*([\d,]+) \(.*?\)\s+\S*?:" + re.escape(symbol) + r"\b", line)
        if m:
            return int(m.group(1).replace(",", ""))
    return 0


def total_instructions(dump):
    """The dump's `totals:` line, its last: instructions executed while instrumentation was on (callgrind 3.19
    writes `summary: 0` at the top of a dump taken by callgrind_control)."""
    total = 0
    with open(dump, errors="replace") as f:
        for line in f:
            if line.startswith("totals:"):
                total = int(line.split()[1])
    return total
