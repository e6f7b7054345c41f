"""The fault tests' fixtures on the shared harness: folders, cluster, server, table lock, `weighin loadtest`."""

from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import time
import uuid

from harness import autofailover, cluster, processes, server
from harness.binaries import SQL_DIR, weighin_bin
from harness.ports import from_environment

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # checks/faults

# FAULTS_PORTS=first-last moves the tests to other ports, so that runs side by side on one machine keep apart.
PORTS = from_environment("FAULTS_PORTS", (19000, 19499))

# Server flags that lift the per-client request budget (`--rate-limit`), for tests whose load from one address or
# one token is the point (bursts of 1,500 requests, floods of connections, generated requests): the budget is not
# what they test, and its 429s would hide what they do.
NO_RATE_LIMIT = ("--rate-limit", "1000000", "--rate-burst", "1000000")


def raise_fd_limit(most: int):
    """Many sockets per test (idle-connection floods): raises our soft open-file limit to the hard one (at most
    `most`); the servers we start inherit it."""
    try:
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        want = min(hard if hard != resource.RLIM_INFINITY else most, most)
        if soft < want:
            resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    except (ValueError, OSError):
        pass


def workdir(tag: str) -> str:
    """A folder /tmp/<FAULTS_PREFIX><tag>-XXXXXX (the prefix is `weighin-faults-` by default; mode 755, so the
    postgres user can pass through it), removed at the end unless FAULTS_KEEP=1."""
    prefix = os.environ.get("FAULTS_PREFIX") or "weighin-faults-"
    if "/" in prefix:
        raise SystemExit(f"FAULTS_PREFIX names a folder under /tmp, without '/': {prefix!r}")
    return processes.scratch_dir(f"{prefix}{tag}-", mode=0o755, keep=os.environ.get("FAULTS_KEEP") == "1")


class EntryQueries:
    """The checks' queries of weighin's entries, through `self.psql`: on a cluster, or on the writable node of a
    formation."""

    def existing_ids(self, ids) -> set:
        ids = sorted(set(ids))
        found = set()
        for i in range(0, len(ids), 2000):  # a -c argument holds at most 128 KiB
            array = "{" + ",".join(ids[i:i + 2000]) + "}"
            found |= set(self.psql(f"SELECT id FROM weight_entries WHERE id = ANY('{array}'::uuid[])").split())
        return found

    def note_counts(self, prefix: str) -> dict:
        """note -> number of entries with it, for notes starting with `prefix`."""
        out = self.psql(f"SELECT note, count(*) FROM weight_entries WHERE note LIKE '{prefix}%' GROUP BY note")
        return {note: int(n) for note, n in (line.rsplit("\t", 1) for line in out.splitlines() if line)}


class Cluster(EntryQueries, cluster.Cluster):
    """A throwaway cluster in <base>/<name> (pg unless told): 127.0.0.1 only, a port from PORTS, database
    `weighin`. Our psql sessions are named `faults...`, so that they can be told from weighin's connections."""

    def __init__(self, base: str, database: str = "weighin", name: str = "pg"):
        super().__init__(os.path.join(base, name), PORTS.take(), database, appname="faults",
                         settings=["max_connections = 200", "shared_buffers = 64MB", "log_min_messages = warning"])

    def app_backends(self) -> list:
        """(pid, state, wait_event_type, query) of weighin's connections (everything but our psql)."""
        return [line.split("\t", 3) for line in self.psql("""
            SELECT pid, coalesce(state, ''), coalesce(wait_event_type, ''), left(regexp_replace(query, '\\s+', ' ', 'g'), 60)
            FROM pg_stat_activity
            WHERE backend_type = 'client backend' AND datname = current_database()
              AND application_name NOT LIKE 'faults%' AND pid <> pg_backend_pid()""").splitlines() if line]


class Formation(EntryQueries, autofailover.Formation):
    """A pg_auto_failover formation (a monitor, a primary, a synchronous secondary) in <base>/formation, on ports
    from PORTS."""

    def __init__(self, base: str):
        super().__init__(os.path.join(base, "formation"), PORTS)


class Server(server.Server):
    """`weighin serve` on 127.0.0.1:<port from PORTS> with the given flags, against `database_url` (which it
    migrates) or with its private cluster in `data_dir`; its log is <base>/<name>-<port>.log. With `ops`, readiness
    and metrics on a listener of their own (`--ops-port`, another port from the range)."""

    def __init__(self, base: str, database_url: str | None = None, data_dir: str | None = None,
                 args: tuple = (), name: str = "serve", port: int | None = None, env: dict | None = None,
                 ops: bool = False):
        port = port or PORTS.take()
        if database_url:
            source = ["--database-url", database_url, "--migrate"]
        else:
            source = ["--data-dir", data_dir or os.path.join(base, "private")]
        super().__init__(weighin_bin(), port, ["--host", "127.0.0.1", "--sql-dir", SQL_DIR] + source + list(args),
                         os.path.join(base, f"{name}-{port}.log"), env, ops_port=PORTS.take() if ops else None)


def stop_cluster_at_exit(folder: str):
    """Stops the cluster in `folder` (data in folder/data) at the end should it still run then (-m immediate):
    the private cluster of a `weighin serve` that did not stop it."""
    processes.on_cleanup(cluster.Cluster(folder, None).destroy)


class TableLock:
    """Holds ACCESS EXCLUSIVE on a table from a psql session (application_name faults-lock) until released."""

    def __init__(self, cluster: Cluster, table="weight_entries", seconds=60):
        self.cluster = cluster
        self.table = table
        self.seconds = seconds
        self.proc = None

    def __enter__(self):
        sql = f"BEGIN; LOCK TABLE {self.table} IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep({self.seconds}); COMMIT;"
        self.proc = processes.spawn(self.cluster.psql_command(None, "-c", sql), "psql (table lock)",
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                    env=self.cluster.psql_env("faults-lock"))
        processes.on_cleanup(self.release)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            held = self.cluster.psql(f"""
                SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
                WHERE a.application_name = 'faults-lock' AND l.granted AND l.mode = 'AccessExclusiveLock'
                  AND l.relation = '{self.table}'::regclass""").strip()
            if held == "1":
                return self
            time.sleep(0.05)
        raise RuntimeError(f"could not lock {self.table}")

    def release(self):
        """Ends the locking session; returns once its psql has exited (the lock is gone)."""
        if self.proc is None:
            return
        try:
            self.cluster.psql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'faults-lock'")
        except Exception:  # noqa: BLE001
            pass
        try:
            self.proc.wait(timeout=10)
            processes.ended(self.proc)
        except subprocess.TimeoutExpired:
            processes.stop(self.proc, signal.SIGKILL)
        self.proc = None

    def __exit__(self, *exc):
        self.release()


def loadtest(base: str, out_dir: str, *, duration: str, rate: float | None = None, connections=8, users=10,
             entries=5, mix="list=70,create=20,stats=5,get=5", timeout="7s", prefix=None, seed_only=False):
    """Starts `weighin loadtest` (returns the Popen and its JSON report path). A load run also writes its HTML
    report (throughput and latency over time) beside the JSON, as loadtest-<id>.html: a look at the load phase
    once the test is over (FAULTS_KEEP=1 keeps the folder)."""
    stem = os.path.join(out_dir, f"loadtest-{uuid.uuid4().hex[:6]}")
    path = stem + ".json"
    cmd = [weighin_bin(), "loadtest", "--url", base, "--users", str(users), "--entries-per-user", str(entries),
           "--connections", str(connections), "--duration", duration, "--warmup", "0s", "--mix", mix,
           "--timeout", timeout, "--json", path]
    if rate:
        cmd += ["--rate", str(rate)]
    if prefix:
        cmd += ["--email-prefix", prefix]
    if seed_only:
        cmd += ["--seed-only"]
    else:
        cmd += ["--html", stem + ".html"]
    with open(os.path.join(out_dir, "loadtest.out"), "ab") as out:  # the seeding run and the load run, one file
        proc = processes.spawn(cmd, "weighin loadtest", stdout=out, stderr=subprocess.STDOUT)
    return proc, path


def read_loadtest(path) -> dict | None:
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None
