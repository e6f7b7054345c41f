"""The machine: its description for the results, and waits until other processes leave it quiet."""

import os
import time

from harness.procfs import loadavg, machine_busy_seconds
from harness.processes import run

from lib.log import log


def machine_description():
    cpu = {}
    with open("/proc/cpuinfo") as f:
        for line in f:
            if ":" in line:
                k, v = [x.strip() for x in line.split(":", 1)]
                cpu.setdefault(k, v)
    free = run(["free", "-m"], 10)
    return {
        "cpu_model": cpu.get("model name"), "cpu_mhz": cpu.get("cpu MHz"), "cores": os.cpu_count(),
        "cache": cpu.get("cache size"), "flags_avx512": "avx512f" in cpu.get("flags", ""),
        "memory": free.strip(), "uname": run(["uname", "-a"], 10).strip(),
        "postgres": run(["pg_config", "--version"], 10).strip(),
        "swift": run(["swift", "--version"], 60).strip().splitlines()[0],
    }


def wait_load_below(threshold, hold, timeout):
    """Waits until the 1-minute load average stays below `threshold` for `hold` seconds (at most `timeout`)."""
    log(f"waiting for a quiet machine: 1-minute load average below {threshold} for {hold:.0f} s (at most {timeout:.0f} s)")
    deadline = time.monotonic() + timeout
    quiet_since = None
    samples = []
    while time.monotonic() < deadline:
        la = loadavg()
        samples.append(la[0])
        if la[0] < threshold:
            quiet_since = quiet_since or time.monotonic()
            if time.monotonic() - quiet_since >= hold:
                log(f"machine quiet: load average {la[0]:.2f} {la[1]:.2f} {la[2]:.2f}")
                return {"quiet": True, "loadavg": la, "waited_s": round(timeout - (deadline - time.monotonic()))}
        else:
            quiet_since = None
        time.sleep(5)
    la = loadavg()
    log(f"WARNING: the machine did not get quiet within {timeout:.0f} s (load average {la}); measuring anyway")
    return {"quiet": False, "loadavg": la, "waited_s": round(timeout)}


def foreign_cpu(ours_before, ours_after, busy_before, busy_after, seconds):
    """CPU used by processes that are not ours during a window, in cores (0 = quiet)."""
    return max(0.0, ((busy_after - busy_before) - (ours_after - ours_before)) / seconds)


def wait_foreign_quiet(ours, limit_cores, timeout):
    """Between phases: waits until processes other than ours use less than `limit_cores` over 5 s."""
    deadline = time.monotonic() + timeout
    quiet = 0
    while True:
        b0, _ = machine_busy_seconds()
        o0 = ours()
        time.sleep(5)
        b1, _ = machine_busy_seconds()
        o1 = ours()
        other = foreign_cpu(o0, o1, b0, b1, 5)
        quiet = quiet + 1 if other < limit_cores else 0
        if quiet >= 2 or time.monotonic() > deadline:
            if other >= limit_cores:
                log(f"WARNING: other processes still use {other:.2f} cores; measuring anyway")
            return other
        if quiet == 0:
            log(f"other processes use {other:.2f} cores; waiting")
