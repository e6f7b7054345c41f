"""A throwaway PostgreSQL cluster: initdb/pg_ctl (as the `postgres` user when we are root), 127.0.0.1 only,
SCRAM-SHA-256 with a random password in a 0600 password file that every URL names."""

from __future__ import annotations

import os
import pwd
import secrets
import shutil
import subprocess
import time
import urllib.parse

from harness import HarnessError, procfs
from harness.binaries import pg_program
from harness.processes import on_cleanup, run


def as_postgres(cmd: list) -> list:
    """`cmd` run as the postgres user when we are root (PostgreSQL refuses to run as root)."""
    return (["runuser", "-u", "postgres", "--"] + cmd) if os.geteuid() == 0 else cmd


def write_private(path: str, text: str, owner: str | None = None):
    """Writes `text` to a new file of mode 0600 (handed to the user `owner` when given, which needs root), never
    following a link at `path`."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    try:
        os.fchmod(fd, 0o600)
        if owner is not None:
            account = pwd.getpwnam(owner)
            os.fchown(fd, account.pw_uid, account.pw_gid)
        os.write(fd, text.encode())
    finally:
        os.close(fd)


class Cluster:
    """A cluster in `folder` (data in folder/data, log in folder/postgres.log) on 127.0.0.1:`port`, without a Unix
    socket. Every connection needs the password of `postgres` (SCRAM-SHA-256, as weighin's own private cluster): a
    random one, kept in folder/pgpass (mode 0600, libpq's password-file format) that every URL handed out names
    (`?passfile=`), so no other local user or process becomes the superuser of a test's database. `create()` makes
    the folder (owned by postgres when we are root, so its parents must let that user through), initdb, appends
    `settings` (postgresql.conf lines) to the configuration, starts it, creates `database` and registers the
    cluster's stop for the end."""

    def __init__(self, folder: str, port: int | None, database: str = "weighin", settings=(), appname="psql",
                 psql_timeout: float = 60):
        self.dir = folder
        self.data = os.path.join(folder, "data")
        self.log = os.path.join(folder, "postgres.log")
        self.port = port
        self.database = database
        self.settings = list(settings)
        self.appname = appname              # application_name of our psql sessions
        self.psql_timeout = psql_timeout    # default bound of one psql call, seconds
        self.passfile = os.path.join(folder, "pgpass")  # `*:*:*:postgres:<password>`, written by create()

    @property
    def url(self) -> str:
        return self.url_of(self.database)

    def url_of(self, database: str) -> str:
        """The URL of `database` on this cluster, naming the password file (libpq and weighin read it)."""
        passfile = urllib.parse.quote(self.passfile, safe="/")
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}?passfile={passfile}"

    def _pg_ctl(self, args, timeout, check=True):
        return run(as_postgres([pg_program("pg_ctl"), "-D", self.data] + args), timeout, check=check,
                   stderr_apart=True)

    def create(self):
        os.makedirs(self.dir, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres", "postgres")
        os.chmod(self.dir, 0o700)
        on_cleanup(self.destroy)
        password = secrets.token_urlsafe(24)  # 192 bits, base64url: nothing to quote in either file
        if os.path.exists(self.passfile):
            os.remove(self.passfile)
        write_private(self.passfile, f"*:*:*:postgres:{password}\n")
        # initdb reads the password from a file its user can read; the file goes as soon as initdb is done.
        pwfile = os.path.join(self.dir, "initdb-password")
        write_private(pwfile, password + "\n", owner="postgres" if os.geteuid() == 0 else None)
        try:
            run(as_postgres([pg_program("initdb"), "-D", self.data, "-U", "postgres", "-A", "scram-sha-256",
                             "--pwfile", pwfile, "-E", "UTF8", "--locale=C", "--no-instructions"]), 300,
                stderr_apart=True)
        finally:
            os.remove(pwfile)
        lines = ["listen_addresses = '127.0.0.1'", f"port = {self.port}", "unix_socket_directories = ''"]
        with open(os.path.join(self.data, "postgresql.conf"), "a") as f:  # as root we may; the file keeps its owner
            f.write("\n# a throwaway cluster of the checks (checks/harness/cluster.py)\n"
                    + "\n".join(lines + self.settings) + "\n")
        self.start()
        self.psql(f"CREATE DATABASE {self.database}", db="postgres")
        return self

    def create_standby(self, primary: "Cluster", name: str, synchronous: bool = True):
        """Makes this cluster a streaming standby of `primary` instead (`pg_basebackup -R`, as the postgres user
        when we are root; the same password, its own port), starts it and, with `synchronous`, makes it the
        primary's synchronous standby (`synchronous_standby_names`, `name` being its application_name) and
        waits until the primary reports it so. Registers its stop for the end."""
        os.makedirs(self.dir, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres", "postgres")
        os.chmod(self.dir, 0o700)
        on_cleanup(self.destroy)
        with open(primary.passfile) as f:
            password_line = f.read()
        if os.path.exists(self.passfile):
            os.remove(self.passfile)
        write_private(self.passfile, password_line)
        # The standby's own copy, readable by the user PostgreSQL runs as: its walreceiver reads it for ever.
        standby_passfile = os.path.join(self.dir, "pgpass-replication")
        write_private(standby_passfile, password_line, owner="postgres" if os.geteuid() == 0 else None)
        source = (f"host=127.0.0.1 port={primary.port} user=postgres passfile={standby_passfile} "
                  f"application_name={name}")
        run(as_postgres([pg_program("pg_basebackup"), "-d", source, "-D", self.data, "-R", "-X", "stream",
                         "-c", "fast"]), 300, stderr_apart=True)
        with open(os.path.join(self.data, "postgresql.conf"), "a") as f:
            f.write(f"\n# a standby of 127.0.0.1:{primary.port} (checks/harness/cluster.py)\nport = {self.port}\n")
        self.start()
        if synchronous:
            primary.psql(f"ALTER SYSTEM SET synchronous_standby_names = '\"{name}\"'", db="postgres")
            primary.psql("SELECT pg_reload_conf()", db="postgres")
            deadline = time.monotonic() + 60
            while primary.psql(f"SELECT sync_state FROM pg_stat_replication WHERE application_name = '{name}'",
                               db="postgres") != "sync":
                if time.monotonic() > deadline:
                    raise HarnessError(f"{name} did not become the synchronous standby of 127.0.0.1:{primary.port}")
                time.sleep(0.1)
        return self

    def promote(self):
        """Promotes this standby to a primary (`pg_ctl promote`, waiting until it takes writes)."""
        self._pg_ctl(["-w", "-t", "60", "promote"], 120)

    def start(self):
        self._pg_ctl(["-l", self.log, "-w", "-t", "120", "start"], 180)

    def standby(self, folder: str, port: int, settings=()) -> "Cluster":
        """A hot standby of this cluster in `folder` on 127.0.0.1:`port`: a base backup with `pg_basebackup -R`
        (streaming replication from this cluster), `settings` appended to its configuration, started; its stop is
        registered for the end. It gets a copy of the password file that the postgres user can read: its WAL
        receiver logs in to this cluster with it."""
        standby = Cluster(folder, port, self.database, settings, self.appname, self.psql_timeout)
        os.makedirs(folder, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(folder, "postgres", "postgres")
        os.chmod(folder, 0o700)
        on_cleanup(standby.destroy)
        with open(self.passfile) as f:
            write_private(standby.passfile, f.read(), owner="postgres" if os.geteuid() == 0 else None)
        run(as_postgres([pg_program("pg_basebackup"), "-D", standby.data, "-R", "-X", "stream", "-c", "fast",
                         "-d", f"host=127.0.0.1 port={self.port} user=postgres passfile={standby.passfile}"]), 300,
            stderr_apart=True)
        lines = [f"port = {port}", "unix_socket_directories = ''", "hot_standby = on"]
        with open(os.path.join(standby.data, "postgresql.conf"), "a") as f:
            f.write("\n# a hot standby of the checks (Cluster.standby)\n" + "\n".join(lines + standby.settings) + "\n")
        standby.start()
        return standby

    def stop(self, mode="fast"):
        self._pg_ctl(["-m", mode, "-w", "-t", "60", "stop"], 120)

    def restart(self, mode="fast"):
        self._pg_ctl(["-l", self.log, "-m", mode, "-w", "-t", "60", "restart"], 120)

    def destroy(self):
        """Stops the cluster at once (-m immediate) if it runs; its folder is the caller's to remove."""
        if os.path.exists(os.path.join(self.data, "postmaster.pid")):
            self._pg_ctl(["-m", "immediate", "-w", "-t", "30", "stop"], 60, check=False)

    def accepts(self) -> bool:
        """Whether the server accepts connections now (pg_isready)."""
        r = subprocess.run([pg_program("pg_isready"), "-q", "-h", "127.0.0.1", "-p", str(self.port), "-t", "1"],
                           capture_output=True)
        return r.returncode == 0

    def psql_command(self, db: str | None = None, *args) -> list:
        """psql connected to `db` (default: the cluster's database), without ~/.psqlrc, quiet, with `args`."""
        return [pg_program("psql"), self.url_of(db or self.database), "-X", "-q"] + list(args)

    def psql_env(self, appname=None) -> dict:
        return dict(os.environ, PGAPPNAME=appname or self.appname, PGCONNECT_TIMEOUT="5")

    def psql(self, sql: str, db: str | None = None, timeout=None, tuples=True) -> str:
        """Runs `sql`; returns what it printed: with `tuples`, rows only, one a line, fields separated by tabs."""
        args = ["-v", "ON_ERROR_STOP=1"] + (["-A", "-t", "-F", "\t"] if tuples else []) + ["-f", "-"]
        return run(self.psql_command(db, *args), timeout or self.psql_timeout, input=sql, env=self.psql_env(),
                   stderr_apart=True).rstrip("\n")

    def rows(self, sql: str, db: str | None = None, timeout=None) -> list:
        return [line.split("\t") for line in self.psql(sql, db, timeout).splitlines() if line]

    def postmaster_pid(self) -> int:
        with open(os.path.join(self.data, "postmaster.pid")) as f:
            return int(f.readline())

    def signal_all(self, sig) -> int:
        """Sends `sig` to the postmaster and every process under it (SIGSTOP: a server that hangs, accepting
        connections and answering nothing; SIGCONT: it goes on). Returns how many processes got it."""
        pids = [self.postmaster_pid()]
        i = 0
        while i < len(pids):
            pids += procfs.children_of(pids[i])
            i += 1
        for pid in pids:
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        return len(pids)

    def cpu_seconds(self) -> float:
        """CPU time of the postmaster and its processes (backends, checkpointer, ...) so far, those that have exited
        included: the postmaster's reaped children's time. Without it, a process exiting inside a measured window
        (an autovacuum worker, a backend) took its CPU out of the sum, and the difference came out low or negative
        (an import's PostgreSQL CPU measured -0.08 s) while the machine's busy time kept it (counted as other
        processes' CPU, which made the import phase repeat itself). A process that has ended but is not yet reaped is
        still listed with its time, so none is counted twice."""
        pm = self.postmaster_pid()
        return (sum(procfs.cpu_seconds(p) for p in [pm] + procfs.children_of(pm))
                + procfs.reaped_children_cpu_seconds(pm))
