"""The benchmark's state, handed to every phase: the options, the results, the results folder, the cluster,
ports and servers; and the retry of a disturbed measurement."""

import datetime
import json
import os

from harness import HarnessError, procfs, processes
from harness.ports import Ports
from harness.server import Server

from lib.log import log
from lib.machine import wait_foreign_quiet

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BENCH = os.path.join(ROOT, "bench")
SCRATCH = os.path.join(ROOT, ".build-release")


class BenchError(HarnessError):
    pass


class Bench:
    def __init__(self, args):
        self.args = args
        self.results = {}
        stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
        self.out = os.path.abspath(args.results or os.path.join(BENCH, "results", stamp))
        os.makedirs(self.out, exist_ok=True)
        log.open(os.path.join(self.out, "run.log"))
        self.ports = Ports(19500, 19999)
        self.warmup = args.warmup
        self.duration = args.duration
        self.phases = set(args.phases.split(","))
        self.src = ROOT                                            # the sources built (another with --rev)
        self.binary = os.path.join(SCRATCH, "release", "weighin")
        self.sql_dir = None             # the built sources' sql/ (phases.build)
        self.cluster = None             # the private cluster (phases.seed)
        self.monitor = None             # its monitoring psql session (lib/statements.py)
        self.seeded_at = None           # when seeding ended: later entries are removed between phases
        self.scripts = None             # pgbench scripts of the mix (phases.ceiling)
        self.ceiling_statements = None  # pg_stat_statements of the ceiling's window (phases.ceiling)
        self.service_statements = None  # ... and of the service's (phases.service)

    def port(self):
        return self.ports.take()

    def path(self, name):
        return os.path.join(self.out, name)

    def save(self):
        with open(self.path("summary.json"), "w") as f:
            json.dump(self.results, f, indent=2, default=str)

    def server(self, name, extra=(), db="weighin", measured=False, wrapper=(), binary=None, env=None,
               ready_timeout=60):
        """`weighin serve` on the cluster with weighin's defaults (no WEIGHIN_* variable of ours) and `extra`,
        under `wrapper` if any, from `binary` if not the built one, with `env` added; a measured one also gets
        --server-args and --server-env."""
        extra = list(extra) + (self.args.server_args.split() if measured and self.args.server_args else [])
        env = dict(env or {}, **(dict(e.split("=", 1) for e in self.args.server_env) if measured else {}))
        return Server(binary or self.binary, self.port(), ["--database-url", self.cluster.url_of(db), "--sql-dir", self.sql_dir]
                      + extra, self.path(f"server-{name}.log"), env, inherit_weighin_env=False,
                      wrapper=wrapper).start(ready_timeout=ready_timeout)

    def reset_data(self):
        """Removes the entries created by earlier load phases, so each phase sees the same seeded data."""
        if self.seeded_at:
            self.cluster.psql(f"DELETE FROM weight_entries WHERE created_at > '{self.seeded_at}'")
            self.cluster.psql("VACUUM ANALYZE weight_entries")

    def ours_cpu(self):
        return self.cluster.cpu_seconds() + sum(procfs.cpu_seconds(p.pid) for p in processes.running)

    def quiet(self, label):
        other = wait_foreign_quiet(self.ours_cpu, self.args.foreign_limit, self.args.quiet_timeout)
        self.results.setdefault("quiet_checks", {})[label] = {"other_cores_5s": round(other, 3),
                                                              "loadavg": procfs.loadavg()}

    def attempt(self, label, phase, keys):
        """Runs a phase, and again (at most --retries times) while other processes disturbed its measurement."""
        worst = 0.0
        for attempt in range(self.args.retries + 1):
            phase()
            worst = 0.0
            for k in keys:
                section = self.results.get(k) or {}
                other = (section.get("window") or {}).get("other_cores", section.get("other_cores"))
                if other is not None:
                    worst = max(worst, other)
            if worst <= self.args.disturbed:
                break
            if attempt < self.args.retries:
                log(f"{label}: other processes used {worst:.2f} cores during the measurement; repeating it")
            else:
                log(f"WARNING: {label}: other processes used {worst:.2f} cores during the measurement; kept")
        self.results.setdefault("other_cores_by_phase", {})[label] = {"other_cores": round(worst, 3),
                                                                      "attempts": attempt + 1}
        self.save()
