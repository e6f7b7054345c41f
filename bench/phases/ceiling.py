"""The ceiling: pgbench -M prepared running the service's own statements in the mix, with as many clients as
the service gets connections - what PostgreSQL alone can do of this work; then the same paced at 70 % of it, the
control for the open-loop target."""

import os
import re
import statistics
import subprocess
import time

from harness import procfs, processes

from lib.context import BenchError
from lib.log import log
from lib.pgbench import pgbench_cmd, pgbench_log_latencies, pgbench_scripts
from lib.window import Window, strip_list, window_length
from lib.workload import MIX, mix_text


def ceiling(b):
    a = b.args
    b.reset_data()
    b.quiet("ceiling")
    b.scripts = pgbench_scripts(b, a.connections)
    # The service's token checks are left out: a token's first use, then a background re-check of the tokens
    # in use, a few per statement twice a second (well under 0.1 % of its statements). Leaving them out makes
    # the ceiling a little higher, the ratio a little lower.
    log(f"ceiling: pgbench -M prepared, {a.connections} clients, mix {mix_text()}, {b.warmup} s warm-up + "
        f"{b.duration} s")
    res, w = pgbench_mix(b, "ceiling")
    b.results["ceiling"] = res
    b.ceiling_statements = w["statement_list"]
    lat = res["latency_ms"]
    log(f"ceiling: {res['throughput']:.0f} statements/s (requests' worth), p50 {lat['p50']:.2f} ms, "
        f"p99 {lat['p99']:.2f} ms; CPU cores: {w['cpu_cores']}, others {w['other_cores']}")
    b.save()
    if "openloop" in b.phases:
        # The control for the open-loop target: PostgreSQL alone, paced at 70 % of its own maximum.
        b.reset_data()
        b.quiet("ceiling-open")
        rate = round(0.7 * res["throughput"])
        log(f"ceiling open loop: pgbench -R {rate} (70 % of the ceiling), same scripts and clients")
        res2, _ = pgbench_mix(b, "ceiling-open", rate=rate)
        lat2 = res2["latency_ms"]
        res2["rate"] = rate
        res2["p99_over_p50"] = round(lat2["p99"] / lat2["p50"], 2)
        b.results["ceiling_open_loop"] = res2
        log(f"ceiling open loop: {res2['throughput']:.0f}/s, p50 {lat2['p50']:.2f} ms, p99 {lat2['p99']:.2f} ms "
            f"(p99/p50 {res2['p99_over_p50']:.2f}; latency counted from the scheduled start, as the loadtest's)")
        b.save()


def pgbench_mix(b, name, rate=None):
    """pgbench with the mix; results of the window."""
    a = b.args
    scripts = b.scripts
    total = b.warmup + b.duration
    logprefix = os.path.join(b.out, f"pgbench-txlog-{name}")
    main_cmd = pgbench_cmd(b, a.connections, total, [(scripts[n], w) for n, w in MIX], logprefix=logprefix,
                           extra=["-P", "1"], rate=rate)
    with open(b.path(f"pgbench-{name}.cmd"), "w") as f:
        f.write(" ".join(main_cmd) + "\n")
    started = time.time()
    p = processes.spawn(main_cmd, "pgbench", stdout=b.path(f"pgbench-{name}.out"),
                        stderr=b.path(f"pgbench-{name}.err"))
    window = Window(b.monitor, {"client": lambda: procfs.cpu_seconds(p.pid),
                                "postgres": b.cluster.cpu_seconds})
    time.sleep(b.warmup + 0.5)
    window.begin()
    time.sleep(window_length(b.duration))
    w = window.end()
    try:
        p.wait(timeout=total + 60)
    except subprocess.TimeoutExpired:
        raise BenchError("pgbench did not finish in time")
    processes.ended(p)
    if p.returncode != 0:
        raise BenchError(f"pgbench failed: {open(b.path(f'pgbench-{name}.err')).read()[-1500:]}")
    err = open(b.path(f"pgbench-{name}.err")).read()
    out = open(b.path(f"pgbench-{name}.out")).read()
    progress = [(float(m.group(1)), float(m.group(2))) for m in
                re.finditer(r"progress: ([\d.]+) s, ([\d.]+) tps", err)]
    steady = [tps for t, tps in progress if t > b.warmup]
    lat = pgbench_log_latencies(logprefix, started + b.warmup)
    failed = re.search(r"number of failed transactions: (\d+)", out)
    mix_calls = sum(w["statements"].get(k, {}).get("calls", 0) for k, _ in MIX)
    res = {
        "throughput": round(mix_calls / w["seconds"], 1),
        "throughput_progress_mean": round(statistics.mean(steady), 1) if steady else None,
        "latency_ms": lat, "failed": int(failed.group(1)) if failed else None, "clients": a.connections,
        "window": strip_list(w), "commands": [" ".join(main_cmd)],
        "cpu_us_per_request": {k: round(v * 1e6 / max(1, mix_calls), 1) for k, v in w["cpu_seconds"].items()},
    }
    return res, w
