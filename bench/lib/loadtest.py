"""`weighin loadtest` against a server, with a measured window inside its run."""

import json
import re
import subprocess
import threading
import time

from harness import procfs, processes

from lib.context import BenchError
from lib.window import Window, window_length
from lib.workload import EMAIL_PREFIX


def tail_stderr_until(p, pattern, logfile, timeout):
    """Copies the process's stderr to a file; returns an Event set when a line matches `pattern`."""
    seen = threading.Event()
    out = open(logfile, "w", buffering=1)

    def pump():
        for line in p.stderr:
            out.write(line)
            if re.search(pattern, line):
                seen.set()
        out.close()

    threading.Thread(target=pump, daemon=True).start()
    return seen


def loadtest(b, srv, name, extra, connections=None, warmup=None, duration=None, window=True, sampler=None,
             users=None):
    """Runs `weighin loadtest` with the seeded users against `srv` (its files: loadtest-NAME.*); with `window`, the
    figures of a measured window after the warm-up; `sampler(seconds)` runs during it. Returns (its JSON report,
    the window's figures or None, its command)."""
    a = b.args
    warmup = b.warmup if warmup is None else warmup
    duration = b.duration if duration is None else duration
    json_path = b.path(f"loadtest-{name}.json")
    cmd = [b.binary, "loadtest", "--url", srv.url, "--users", str(users or a.users), "--entries-per-user",
           str(a.entries), "--email-prefix", EMAIL_PREFIX, "--warmup", f"{warmup}s", "--duration",
           f"{duration}s", "--json", json_path]
    if connections:
        cmd += ["--connections", str(connections)]
    cmd += list(extra)
    with open(b.path(f"loadtest-{name}.cmd"), "w") as f:
        f.write(" ".join(cmd) + "\n")
    p = processes.spawn(cmd, "weighin loadtest", stdout=b.path(f"loadtest-{name}.out"), stderr=subprocess.PIPE,
                        text=True)
    started = tail_stderr_until(p, r"^running ", b.path(f"loadtest-{name}.err"), 600)
    if not started.wait(600) or p.poll() is not None and not started.is_set():
        raise BenchError(f"loadtest {name} did not start; see loadtest-{name}.err")
    w = None
    if window:
        win = Window(b.monitor, {"server": lambda: procfs.cpu_seconds(srv.pid),
                                 "client": lambda: procfs.cpu_seconds(p.pid),
                                 "postgres": b.cluster.cpu_seconds}, server=srv)
        time.sleep(warmup + 0.5)
        win.begin()
        if sampler:
            sampler(window_length(duration))
        else:
            time.sleep(window_length(duration))
        w = win.end()
    elif sampler:
        time.sleep(warmup)
        sampler(duration)
    try:
        p.wait(timeout=warmup + duration + 120)
    except subprocess.TimeoutExpired:
        raise BenchError(f"loadtest {name} did not finish in time")
    processes.ended(p)
    if p.returncode not in (0, 2):
        raise BenchError(f"loadtest {name} exited {p.returncode}; see loadtest-{name}.err")
    with open(json_path) as f:
        report = json.load(f)
    return report, w, cmd
