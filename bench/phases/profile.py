"""The profile: `perf record -a -g` during a closed loop like the service's, reported for the server by library,
thread, symbol and caller; then `perf stat` of the server's system calls and context switches per request, and the call stacks that make
its futex calls and context switches."""

import shutil
import time

from harness.processes import run

from lib.loadtest import loadtest
from lib.log import log
from lib.perf import demangle
from lib.window import requests_by_scenario


def profile(b, srv):
    a = b.args
    if not shutil.which("perf"):
        log("profile: perf not installed (apt-get install -y linux-perf); skipped")
        return
    b.reset_data()
    b.quiet("profile")
    data = b.path("perf.data")
    seconds = max(5, b.duration - 12)
    log(f"profile: perf record -a -g -F 999 for {seconds} s, then perf stat of system calls for 5 s, during a "
        f"closed loop like the service run")
    holder = {}

    # The calls named here one by one, and all of them together (`raw_syscalls:sys_enter`, reported as "all"):
    # the list alone once missed `getrandom`, one per request.
    events = ["futex", "read", "write", "readv", "writev", "sendto", "recvfrom", "sendmsg", "recvmsg", "poll",
              "epoll_wait", "epoll_ctl", "newfstatat", "getrandom"]
    stat_seconds = 5
    blocking = b.path("perf-blocking.data")
    blocking_seconds = 3

    def sampler(_window):
        time.sleep(1)
        holder["out"] = run(["perf", "record", "-a", "-g", "-F", "999", "-o", data, "--", "sleep", str(seconds)],
                            seconds + 120, check=False)
        # System calls and context switches of the server per request, counted by kernel tracepoints.
        before = sum(requests_by_scenario(srv.metrics()).values())
        holder["stat"] = run(["perf", "stat", "-x", ",", "-e", ",".join(
            [f"syscalls:sys_enter_{e}" for e in events] + ["raw_syscalls:sys_enter", "context-switches",
                                                             "cpu-migrations"]),
            "-p", str(srv.pid), "--", "sleep", str(stat_seconds)], stat_seconds + 60, check=False)
        holder["requests"] = sum(requests_by_scenario(srv.metrics()).values()) - before
        # Where the server's futex calls and context switches come from: each one with its call stack.
        holder["blocking"] = run(["perf", "record", "-g", "-e", "syscalls:sys_enter_futex", "-e", "context-switches",
                                  "-o", blocking, "-p", str(srv.pid), "--", "sleep", str(blocking_seconds)],
                                 blocking_seconds + 60, check=False)

    # The load lasts as long as the sampler needs (perf's own start-up included), so every count is taken under it.
    duration = max(b.duration, 1 + seconds + stat_seconds + blocking_seconds + 6)
    loadreport, _, cmd = loadtest(b, srv, "profile", [], connections=a.connections, window=False,
                                  sampler=sampler, duration=duration)
    pid = srv.pid

    def report(*extra, limit="0.5"):
        return run(["perf", "report", "-i", data, "--stdio", "--pid", str(pid), "--percentage", "relative",
                    "--percent-limit", limit] + list(extra), 600, check=False)

    reports = {
        "server-by-library": report("--no-children", "--sort", "dso", "-g", "none"),
        "server-by-thread": report("--no-children", "--sort", "comm", "-g", "none"),
        "server-flat": report("--no-children", "--sort", "dso,symbol", "-g", "none", limit="0.3"),
        "server-inclusive": report("--children", "--sort", "symbol", "-g", "none", limit="1"),
        "server-callers": report("--no-children", "--sort", "symbol", "-g", "caller,0.5,callee,function,percent",
                                 limit="1.5"),
        "blocking-callers": run(["perf", "report", "-i", blocking, "--stdio", "--no-children", "--sort", "comm",
                                 "-g", "caller,0.5,callee,function,percent", "--percent-limit", "2"], 600,
                                check=False),
        "all-by-command": run(["perf", "report", "-i", data, "--stdio", "--sort", "comm", "-g", "none"], 600,
                              check=False),
    }
    for name, text in reports.items():
        with open(b.path(f"profile-{name}.txt"), "w") as f:
            f.write(demangle(text))
    per_request = {}
    for line in holder.get("stat", "").splitlines():
        parts = line.split(",")
        if len(parts) > 2 and parts[0].strip().isdigit():
            name = "all" if parts[2] == "raw_syscalls:sys_enter" else parts[2].replace("syscalls:sys_enter_", "")
            per_request[name] = round(int(parts[0]) / max(1, holder.get("requests", 0)), 2)
    with open(b.path("profile-syscalls.txt"), "w") as f:
        f.write(holder.get("stat", "") + f"\nrequests in the window: {holder.get('requests')}\n")
    log(f"profile: per request, system calls and context switches of the server: {per_request}")
    b.results["profile"] = {"syscalls_per_request": per_request,
                            "server_pid": pid, "seconds": seconds, "throughput_under_perf":
                            loadreport["overall"]["throughput"],
                            "files": [f"profile-{n}.txt" for n in reports]}
    log(f"profile: written to {b.out}/profile-*.txt (raw samples in perf.data: perf report -i ...)")
    b.save()
