"""A pg_auto_failover formation (Debian's `postgresql-15-auto-failover`): a monitor, a primary and a synchronous
secondary, each a `pg_autoctl run` of its own (as the `postgres` user when we are root), on 127.0.0.1 only, with
every folder (data, pg_autoctl's configuration and state) under one folder of /tmp."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time

from harness import HarnessError
from harness.binaries import pg_program
from harness.cluster import as_postgres
from harness.processes import on_cleanup, run, spawn, stop

# The monitor's failure detection and promotion timeouts (pg_auto_failover's defaults: a check every 5 s with a
# 5 s timeout, 2 retries 2 s apart, unhealthy after 20 s, 30 s for the old primary to demote): a primary that
# stops answering is declared unhealthy after about 2 s and its secondary promoted about 3 s later.
MONITOR_TUNING = {
    "pgautofailover.health_check_period": "1000",
    "pgautofailover.health_check_timeout": "1000",
    "pgautofailover.health_check_max_retries": "1",
    "pgautofailover.health_check_retry_delay": "500",
    "pgautofailover.node_considered_unhealthy_timeout": "2000",
    "pgautofailover.primary_demote_timeout": "3000",
}

# pg_autoctl sizes memory from the machine (gigabytes of shared_buffers); a test's three clusters need little.
# Appended to postgresql.conf, after pg_autoctl's own include, so these win.
SMALL = ["shared_buffers = 32MB", "effective_cache_size = 256MB", "maintenance_work_mem = 64MB", "work_mem = 4MB",
         "max_connections = 100", "logging_collector = off"]


class Formation:
    """Folder layout: <folder>/monitor, <folder>/node1, <folder>/node2 (data), <folder>/home (pg_autoctl's
    configuration and state: HOME and XDG folders), <folder>/<name>.log (each pg_autoctl's output).

    Authentication is `trust` on 127.0.0.1 (pg_autoctl's `--auth trust`, for its own roles and for `postgres`):
    the clusters live for the test's minute, on loopback. `create()` registers the stop of every node."""

    def __init__(self, folder: str, ports, database: str = "weighin"):
        self.dir = folder
        self.database = database
        self.home = os.path.join(folder, "home")
        self.monitor_port = ports.take()
        self.nodes = {"node1": ports.take(), "node2": ports.take()}
        self.runs: dict = {}   # name -> the Popen of its `pg_autoctl run`

    @property
    def url(self) -> str:
        """Both nodes, the writable one wherever it is (libpq's multi-host URL)."""
        hosts = ",".join(f"127.0.0.1:{port}" for port in self.nodes.values())
        return f"postgres://postgres@{hosts}/{self.database}?target_session_attrs=read-write"

    def node_url(self, name: str, database: str | None = None) -> str:
        return f"postgres://postgres@127.0.0.1:{self.nodes[name]}/{database or self.database}"

    @property
    def monitor_url(self) -> str:
        return f"postgres://autoctl_node@127.0.0.1:{self.monitor_port}/pg_auto_failover?sslmode=disable"

    def _env(self) -> dict:
        return dict(os.environ, HOME=self.home, XDG_CONFIG_HOME=os.path.join(self.home, "config"),
                    XDG_DATA_HOME=os.path.join(self.home, "share"), XDG_RUNTIME_DIR=os.path.join(self.home, "run"),
                    PG_CONFIG=pg_program("pg_config"))

    def _autoctl(self, args: list, timeout: float):
        return run(as_postgres(["pg_autoctl"] + args), timeout, env=self._env())

    def _common(self, name: str, port: int) -> list:
        return ["--pgdata", os.path.join(self.dir, name), "--pgport", str(port), "--hostname", "127.0.0.1",
                "--listen", "127.0.0.1", "--auth", "trust", "--no-ssl", "--pgctl", pg_program("pg_ctl")]

    def _run(self, name: str):
        """Starts `pg_autoctl run` of `name` (it runs and watches that node's PostgreSQL)."""
        with open(os.path.join(self.dir, name, "postgresql.conf"), "a") as f:
            f.write("\n# a throwaway formation of the checks (checks/harness/autofailover.py)\n"
                    + "\n".join(SMALL) + "\n")
        self.runs[name] = spawn(as_postgres(["pg_autoctl", "run", "--pgdata", os.path.join(self.dir, name)]),
                                f"pg_autoctl {name}", stdout=os.path.join(self.dir, f"{name}.log"),
                                stderr=subprocess.STDOUT, env=self._env())

    def create(self, timeout: float = 180):
        if shutil.which("pg_autoctl") is None:
            raise HarnessError("pg_autoctl not found: apt-get install -y postgresql-15-auto-failover")
        os.makedirs(self.home, exist_ok=True)
        for path in (self.dir, self.home):
            if os.geteuid() == 0:
                shutil.chown(path, "postgres", "postgres")
            os.chmod(path, 0o700)
        on_cleanup(self.destroy)
        deadline = time.monotonic() + timeout
        self._autoctl(["create", "monitor"] + self._common("monitor", self.monitor_port), 120)
        self._run("monitor")
        self._wait(lambda: self.monitor_sql("SELECT 1") == "1", deadline, "the monitor accepting connections")
        for setting, value in MONITOR_TUNING.items():
            self.monitor_sql(f"ALTER SYSTEM SET {setting} = {value}")
        self.monitor_sql("SELECT pg_reload_conf()")
        for name, port in self.nodes.items():
            self._autoctl(["create", "postgres", "--name", name, "--dbname", self.database,
                           "--monitor", self.monitor_url] + self._common(name, port), 120)
            self._run(name)
            # The first node runs alone ("single") until the second has joined as its secondary.
            want = {"node1": ("single", "single")} if name == "node1" else {
                "node1": ("primary", "primary"), "node2": ("secondary", "secondary")}
            self._wait(lambda: self.states() == want, deadline, f"states {want}")
        self._wait(lambda: self.node_sql("node1", "SELECT sync_state FROM pg_stat_replication") in ("quorum", "sync"),
                   deadline, "the secondary replicating synchronously")
        return self

    def _wait(self, condition, deadline: float, what: str):
        while time.monotonic() < deadline:
            ended = [name for name, p in self.runs.items() if p.poll() is not None]
            if ended:
                raise HarnessError(f"pg_autoctl run of {ended} ended (logs in {self.dir}) before {what}")
            try:
                if condition():
                    return
            except HarnessError:
                pass
            time.sleep(0.2)
        raise HarnessError(f"pg_auto_failover: no {what} in time; states {self.states_or_reason()}")

    def _psql(self, url: str, sql: str, timeout: float = 10) -> str:
        return run([pg_program("psql"), url, "-X", "-q", "-A", "-t", "-F", "\t", "-v", "ON_ERROR_STOP=1",
                    "-c", sql], timeout,
                   env=dict(os.environ, PGCONNECT_TIMEOUT="2", PGAPPNAME="faults"), stderr_apart=True).strip()

    def monitor_sql(self, sql: str) -> str:
        return self._psql(f"postgres://postgres@127.0.0.1:{self.monitor_port}/pg_auto_failover", sql)

    def node_sql(self, name: str, sql: str) -> str:
        return self._psql(self.node_url(name), sql)

    def psql(self, sql: str, db: str | None = None, timeout=None, tuples=True) -> str:
        """Runs `sql` on the writable node (the shape of `Cluster.psql`, for the checks' queries)."""
        return self._psql(self.url, sql, timeout or 60)

    def states(self) -> dict:
        """name -> (reported state, assigned state), as the monitor sees them."""
        rows = self.monitor_sql("SELECT nodename || '|' || reportedstate || '|' || goalstate FROM pgautofailover.node")
        return {name: (reported, goal) for name, reported, goal in (line.split("|") for line in rows.splitlines())}

    def states_or_reason(self):
        try:
            return self.states()
        except HarnessError as error:
            return f"(monitor unreachable: {str(error)[-200:]})"

    def kill_node(self, name: str):
        """SIGKILL to `name`'s pg_autoctl, its PostgreSQL and every backend at once (one process group), as when
        the node's machine dies: nothing restarts it until `start_node`."""
        stop(self.runs.pop(name), sig=signal.SIGKILL, timeout=10)

    def start_node(self, name: str):
        """Starts `name`'s pg_autoctl again after `kill_node`: it recovers its PostgreSQL and does what the monitor
        assigns (after a failover: rejoin as the new primary's secondary, with pg_rewind if it must)."""
        self._run(name)

    def destroy(self):
        """Stops every node still running (pg_autoctl stops its PostgreSQL), then anything left at once."""
        for name in ("node2", "node1", "monitor"):
            if name in self.runs:
                stop(self.runs[name], timeout=30)
        for name in ("node1", "node2", "monitor"):
            if os.path.exists(os.path.join(self.dir, name, "postmaster.pid")):
                run(as_postgres([pg_program("pg_ctl"), "-D", os.path.join(self.dir, name), "-m", "immediate",
                                 "-w", "-t", "30", "stop"]), 60, check=False)
