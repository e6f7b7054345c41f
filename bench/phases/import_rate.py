"""The import: POST /v1/entries/import of 100,000 CSV rows (--import-repeats times), against the same rows through
psql's COPY (the database's share), also into copies of the table without its foreign key and indexes; then
`perf` on the server during one more import."""

import datetime
import os
import shutil
import signal
import statistics
import subprocess
import time

from harness import procfs, processes
from harness.procfs import machine_busy_seconds
from harness.api import log_in, register
from harness.http import request
from harness.processes import run

from lib.context import BenchError
from lib.log import log
from lib.machine import foreign_cpu
from lib.perf import demangle


def import_rate(b, srv):
    b.quiet("import")
    rows = 100_000
    lines = ["recorded_on,weight,unit,note"]
    start = datetime.date.today()
    for i in range(rows):
        day = start - datetime.timedelta(days=i % 20000)
        lines.append(f"{day.isoformat()},{40 + (i * 37) % 11000 / 100:.2f},kg,")
    body = ("\r\n".join(lines) + "\r\n").encode()
    email = f"import-{int(time.time())}@bench.invalid"
    user_id = register(srv.url, email, "import-password", "Import")
    token = log_in(srv.url, email, "import-password")
    log(f"import: POST /v1/entries/import, {rows} CSV rows ({len(body) / 1e6:.1f} MB), "
        f"{b.args.import_repeats} times")
    times, rss, cpu = [], [], []
    # The database's share: the same rows through psql's COPY, as the service sends them (one COPY).
    copy_rows = "\n".join(f"{user_id},{line}" for line in lines[1:])

    def copy(table):
        run(b.cluster.psql_command(None, "-v", "ON_ERROR_STOP=1", "-c",
                                   f"COPY {table} (user_id, recorded_on, weight, unit, note) FROM STDIN (FORMAT csv)"),
            300, input=copy_rows + "\n")

    # Alternated, each import followed by the same rows through psql: both meet the same table size and the same
    # state of the database (checkpoints, autovacuum), which drifted between a run of imports and a run of copies
    # enough to move their ratio from 0.62 to 0.97 for the same build.
    copy_times, foreign_seconds = [], 0.0
    for _ in range(b.args.import_repeats):
        busy0, ours0, t0 = machine_busy_seconds()[0], b.ours_cpu(), time.monotonic()
        c0 = (procfs.cpu_seconds(srv.pid), b.cluster.cpu_seconds())
        t = time.perf_counter()
        answer = request(srv.url, "POST", "/v1/entries/import", body=body, content_type="text/csv", token=token,
                         timeout=300)
        times.append(time.perf_counter() - t)
        c1 = (procfs.cpu_seconds(srv.pid), b.cluster.cpu_seconds())
        cpu.append({"server": round(c1[0] - c0[0], 3), "postgres": round(c1[1] - c0[1], 3)})
        rss.append(procfs.status(srv.pid, "VmHWM"))
        # Other processes are counted during the imports only: psql, and the backend serving it, are not among the
        # processes counted as ours.
        elapsed = time.monotonic() - t0
        foreign_seconds += foreign_cpu(ours0, b.ours_cpu(), busy0, machine_busy_seconds()[0], elapsed) * elapsed
        if answer.status != 200 or answer.json().get("imported") != rows:
            raise BenchError(f"import answered {answer.status}: {answer.body[:300]!r}")
        t = time.perf_counter()
        copy("weight_entries")
        copy_times.append(time.perf_counter() - t)
    best, med = min(times), statistics.median(times)
    import_other = foreign_seconds / sum(times)
    copy_med = statistics.median(copy_times)
    pair_ratios = [round(c / t, 3) for t, c in zip(times, copy_times)]
    # And where PostgreSQL's time goes: the same COPY into copies of the table without its foreign key (whose
    # check runs once per row), then without its indexes too.
    variants = {}
    for name, like in (("no_foreign_key", "INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING INDEXES"),
                       ("no_foreign_key_no_indexes", "INCLUDING DEFAULTS INCLUDING CONSTRAINTS")):
        b.cluster.psql(f"DROP TABLE IF EXISTS bench_copy; CREATE TABLE bench_copy (LIKE weight_entries {like})")
        t = time.perf_counter()
        copy("bench_copy")
        variants[name] = round(rows / (time.perf_counter() - t))
    b.cluster.psql("DROP TABLE IF EXISTS bench_copy")
    # Where the server's time goes: perf on one more import.
    profile = {}
    if shutil.which("perf"):
        data = b.path("perf-import.data")
        perf = processes.spawn(["perf", "record", "-g", "-F", "999", "-p", str(srv.pid), "-o", data], "perf",
                               stdout=b.path("perf-import.log"), stderr=subprocess.STDOUT)
        time.sleep(1)
        request(srv.url, "POST", "/v1/entries/import", body=body, content_type="text/csv", token=token, timeout=300)
        time.sleep(0.3)
        processes.stop(perf, signal.SIGINT, timeout=60)
        for name, extra, limit in (("flat", ["--no-children", "--sort", "dso,symbol"], "0.5"),
                                   ("inclusive", ["--children", "--sort", "symbol"], "2")):
            text = run(["perf", "report", "-i", data, "--stdio", "--percentage", "relative", "-g", "none",
                        "--percent-limit", limit] + extra, 600, check=False)
            with open(b.path(f"profile-import-{name}.txt"), "w") as f:
                f.write(demangle(text))
        os.remove(data)
        profile = {"files": ["profile-import-flat.txt", "profile-import-inclusive.txt"]}
    b.results["import"] = {
        "rows": rows, "bytes": len(body), "seconds": [round(t, 3) for t in times],
        "rows_per_s_median": round(rows / med), "rows_per_s_best": round(rows / best),
        "cpu_seconds_per_import": cpu, "vmhwm_after_mib": round(max(rss) / 1024 / 1024, 1),
        "psql_copy_seconds": [round(t, 3) for t in copy_times], "psql_copy_rows_per_s": round(rows / copy_med),
        "pair_ratios": pair_ratios,
        "ratio_median_of_pairs": statistics.median(pair_ratios),
        "psql_copy_rows_per_s_variants": variants,
        "profile": profile, "other_cores": round(import_other, 3),
    }
    log(f"import: {rows / med:,.0f} rows/s (median of {len(times)}; best {rows / best:,.0f}); CPU per import "
        f"{cpu[-1]}; the same rows through psql COPY: {rows / copy_med:,.0f} rows/s ({variants}); import / COPY in "
        f"each alternated pair {pair_ratios}; server VmHWM after "
        f"{max(rss) / 1024 / 1024:.1f} MiB")
    b.save()
