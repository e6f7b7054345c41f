"""Figures of processes and of the machine, read from Linux's /proc."""

import glob
import os

CLK_TCK = os.sysconf("SC_CLK_TCK")


def _stat_fields(path: str) -> list:
    """The fields of a /proc stat file after the `(comm)` one (index 0 is the state)."""
    with open(path) as f:
        text = f.read()
    return text[text.rindex(")") + 2:].split()


def _stat_cpu(path: str) -> float:
    fields = _stat_fields(path)
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime + stime


def cpu_seconds(pid) -> float:
    """CPU time (user + system) of a process so far; 0.0 when it is gone."""
    try:
        return _stat_cpu(f"/proc/{pid}/stat")
    except (OSError, ValueError, IndexError):
        return 0.0


def reaped_children_cpu_seconds(pid) -> float:
    """CPU time (user + system) of the children a process has waited for (cutime + cstime); 0.0 when it is gone."""
    try:
        fields = _stat_fields(f"/proc/{pid}/stat")
        return (int(fields[13]) + int(fields[14])) / CLK_TCK
    except (OSError, ValueError, IndexError):
        return 0.0


def thread_cpu(pid) -> dict:
    """thread id -> (thread name, CPU seconds, nice value) of every thread of a process."""
    out: dict = {}
    for task in glob.glob(f"/proc/{pid}/task/*"):
        try:
            with open(os.path.join(task, "comm")) as f:
                name = f.read().strip()
            path = os.path.join(task, "stat")
            out[os.path.basename(task)] = (name, _stat_cpu(path), int(_stat_fields(path)[16]))  # field 19: nice
        except OSError:
            continue
    return out


def status(pid, key):
    """A size line of /proc/<pid>/status (VmRSS, VmHWM, ...) in bytes; None when it has none."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024  # kB -> bytes
    return None


def fd_count(pid) -> int:
    """Open file descriptors of a process; -1 when they cannot be read."""
    try:
        return len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return -1


def context_switches(pid) -> dict:
    """Voluntary and involuntary context switches of every thread of a process."""
    total = {"voluntary": 0, "involuntary": 0}
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except FileNotFoundError:
        return total
    for tid in tasks:
        try:
            with open(f"/proc/{pid}/task/{tid}/status") as f:
                for line in f:
                    if line.startswith("voluntary_ctxt_switches"):
                        total["voluntary"] += int(line.split()[1])
                    elif line.startswith("nonvoluntary_ctxt_switches"):
                        total["involuntary"] += int(line.split()[1])
        except FileNotFoundError:
            pass
    return total


def children_of(pid) -> list:
    kids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            if int(_stat_fields(f"/proc/{entry}/stat")[1]) == pid:
                kids.append(int(entry))
        except (OSError, ValueError, IndexError):
            pass
    return kids


def machine_busy_seconds():
    """(busy, total) CPU seconds of the whole machine since boot, summed over its cores."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    busy = v[0] + v[1] + v[2] + v[5] + v[6] + (v[7] if len(v) > 7 else 0)
    return busy / CLK_TCK, sum(v[:8]) / CLK_TCK


def loadavg() -> list:
    with open("/proc/loadavg") as f:
        return [float(x) for x in f.read().split()[:3]]
