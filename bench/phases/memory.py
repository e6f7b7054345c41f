"""Memory: the server's resident memory with --memory-connections (1,000) keep-alive connections running the
default mix (`weighin loadtest --connections`), sampled every 250 ms, against the 100 MiB target."""

import statistics
import time

from harness import procfs
from harness.processes import run

from lib.loadtest import loadtest
from lib.log import log
from lib.window import strip_list
from lib.workload import SERVICE_FLAGS


def memory(b):
    b.reset_data()
    b.quiet("memory")
    srv = b.server("memory", SERVICE_FLAGS, measured=True)
    try:
        time.sleep(1)
        idle = procfs.status(srv.pid, "VmRSS")
        samples = []
        conns = []

        def sampler(seconds):
            end = time.monotonic() + seconds
            while time.monotonic() < end:
                samples.append(procfs.status(srv.pid, "VmRSS"))
                if len(samples) % 8 == 4:
                    conns.append(established(srv.port))
                time.sleep(0.25)

        n = b.args.memory_connections
        log(f"memory: {n} keep-alive connections (weighin loadtest --connections {n}, default mix), "
            f"3 s warm-up + {b.duration} s, sampling VmRSS every 250 ms")
        report, w, cmd = loadtest(b, srv, "memory", [], connections=n, warmup=3, sampler=sampler)
        hwm = procfs.status(srv.pid, "VmHWM")
        after = procfs.status(srv.pid, "VmRSS")
        ov = report["overall"]
        mib = 1024 * 1024
        b.results["memory"] = {
            "connections": n, "established_seen": max(conns) if conns else None,
            "rss_idle_mib": round(idle / mib, 1), "rss_max_mib": round(max(samples) / mib, 1),
            "rss_median_mib": round(statistics.median(samples) / mib, 1), "vmhwm_mib": round(hwm / mib, 1),
            "rss_after_mib": round(after / mib, 1), "throughput": ov["throughput"],
            "latency_ms": ov["latency_ms"], "errors": ov["errors"], "errors_by_status": ov["errors_by_status"],
            "command": " ".join(cmd), "window": strip_list(w),
        }
        log(f"memory: VmRSS idle {idle / mib:.1f} MiB, max {max(samples) / mib:.1f} MiB with "
            f"{max(conns) if conns else '?'} established connections; VmHWM {hwm / mib:.1f} MiB; "
            f"{ov['throughput']:.0f} req/s, {ov['errors']} errors")
        b.save()
    finally:
        srv.stop()


def established(port):
    try:
        out = run(["ss", "-Htn", "state", "established", f"( sport = :{port} )"], 10)
        return len([l for l in out.splitlines() if l.strip()])
    except Exception:  # noqa: BLE001
        return None
