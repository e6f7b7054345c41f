"""Shared helpers of the fault and abuse tests (checks/faults/*.py).

Each test script starts what it needs and tears it down again, also on failure and on Ctrl-C:
  - `Cluster`: a private PostgreSQL cluster in a folder under /tmp (initdb/pg_ctl, run as the `postgres`
    user when we are root), listening on 127.0.0.1 only, on a port from 19000-19499;
  - `Server`: `weighin serve` against it (or with its own private cluster), with chosen flags;
  - `Client`: a small HTTP/1.1 client on http.client that tells a refused connection, a connection closed
    without an answer and an answer cut mid-body apart;
  - `Report`: prints each check and figure and ends with one `SUMMARY` line (the runner shows it).

Standard library only.
"""

from __future__ import annotations

import atexit
import ctypes
import datetime as _dt
import glob
import http.client
import json
import os
import random
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SQL_DIR = os.path.join(ROOT, "sql")
PORTS = range(19000, 19500)
PASSWORD = "fault-test-password"

# ---------------------------------------------------------------------------------------------------------------
# Clean-up: everything started registers its own undo; it runs at exit, on SIGTERM and on Ctrl-C.

_cleanups: list = []
_cleanup_lock = threading.Lock()


def on_cleanup(fn):
    """Registers `fn` to run (once, last registered first) when the script ends, however it ends."""
    with _cleanup_lock:
        _cleanups.append(fn)
    return fn


def cleanup_all():
    while True:
        with _cleanup_lock:
            if not _cleanups:
                return
            fn = _cleanups.pop()
        try:
            fn()
        except BaseException as error:  # noqa: BLE001 - clean-up must go on
            print(f"  (clean-up step failed: {error!r})", file=sys.stderr)


atexit.register(cleanup_all)


def _terminate(signum, _frame):
    raise SystemExit(128 + signum)


signal.signal(signal.SIGTERM, _terminate)
signal.signal(signal.SIGHUP, _terminate)

# Many sockets per test (idle-connection floods): raise our own descriptor limit; children inherit it.
try:
    _soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    _want = _hard if _hard != resource.RLIM_INFINITY else 65536
    _want = min(_want, 65536)
    if _soft < _want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (_want, _hard))
except (ValueError, OSError):
    pass


def fd_limit() -> int:
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


_libc = None


def _die_with_parent():
    """preexec_fn: the child gets SIGTERM if this script dies without cleaning up (PR_SET_PDEATHSIG)."""
    global _libc
    try:
        if _libc is None:
            _libc = ctypes.CDLL("libc.so.6", use_errno=True)
        _libc.prctl(1, signal.SIGTERM)
        os.setpgid(0, 0)  # our own process group: a Ctrl-C at the terminal reaches only the test script
    except Exception:  # noqa: BLE001
        pass


# ---------------------------------------------------------------------------------------------------------------
# Reporting


class Report:
    """Checks and figures of one test. `finish()` prints the SUMMARY line and exits 0 or 1."""

    def __init__(self, name: str, what: str):
        self.name = name
        self.figures: dict = {}
        self.failures: list = []
        self.passed = 0
        self.started = time.monotonic()
        print(f"== {name}: {what}", flush=True)

    def note(self, text: str):
        print(f"   {text}", flush=True)

    def figure(self, key: str, value):
        self.figures[key] = value
        print(f"   {key} = {value}", flush=True)

    def check(self, label: str, ok: bool, detail: str = "") -> bool:
        mark = "ok  " if ok else "FAIL"
        print(f"   [{mark}] {label}" + (f": {detail}" if detail else ""), flush=True)
        if ok:
            self.passed += 1
        else:
            self.failures.append(label)
        return ok

    def finish(self):
        elapsed = time.monotonic() - self.started
        status = "PASS" if not self.failures else "FAIL"
        figures = " ".join(f"{k}={v}" for k, v in self.figures.items())
        print(f"SUMMARY {self.name}: {status} ({self.passed} checks ok, {len(self.failures)} failed, {elapsed:.0f}s) {figures}",
              flush=True)
        if self.failures:
            print("   failed: " + "; ".join(self.failures), flush=True)
        cleanup_all()
        sys.exit(0 if not self.failures else 1)

    def crash(self, error: BaseException):
        """An unexpected error in the test itself: a failure, with the reason."""
        self.check(f"the test ran to completion ({type(error).__name__}: {error})", False)
        self.finish()


def run_test(report: Report, body):
    """Runs `body(report)`; any exception is a failed test (after clean-up), never a silent pass."""
    try:
        body(report)
    except KeyboardInterrupt:
        print("interrupted", flush=True)
        cleanup_all()
        sys.exit(130)
    except SystemExit:
        raise
    except BaseException as error:  # noqa: BLE001
        import traceback

        traceback.print_exc()
        report.crash(error)
    report.finish()


# ---------------------------------------------------------------------------------------------------------------
# Ports, binaries, folders

_used_ports: set = set()


def free_port() -> int:
    """A free TCP port on 127.0.0.1 from 19000-19499 that this script has not handed out yet."""
    candidates = [p for p in PORTS if p not in _used_ports]
    random.shuffle(candidates)
    for port in candidates:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        _used_ports.add(port)
        return port
    raise RuntimeError("no free port in 19000-19499")


def weighin_bin() -> str:
    """WEIGHIN_BIN, else a build of our own (`swift build --product weighin`)."""
    given = os.environ.get("WEIGHIN_BIN")
    if given:
        return given
    subprocess.run(["swift", "build", "--product", "weighin"], cwd=ROOT, check=True)
    path = subprocess.run(["swift", "build", "--show-bin-path"], cwd=ROOT, check=True, capture_output=True,
                          text=True).stdout.strip()
    return os.path.join(path, "weighin")


def workdir(tag: str) -> str:
    """A folder under /tmp (mode 755, so the postgres user can pass through it), removed at the end."""
    path = tempfile.mkdtemp(prefix=f"weighin-faults-{tag}-", dir="/tmp")
    os.chmod(path, 0o755)
    keep = os.environ.get("FAULTS_KEEP") == "1"
    on_cleanup(lambda: None if keep else shutil.rmtree(path, ignore_errors=True))
    return path


def pg_bindir() -> str:
    try:
        out = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True, timeout=10).stdout.strip()
        if out and os.path.exists(os.path.join(out, "initdb")):
            return out
    except (OSError, subprocess.SubprocessError):
        pass
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                   key=lambda p: int(re.search(r"/(\d+)/bin", p).group(1)), reverse=True)
    if not found:
        raise RuntimeError("PostgreSQL server binaries not found: apt-get install -y postgresql")
    return os.path.dirname(found[0])


def _as_postgres(args: list) -> list:
    return (["runuser", "-u", "postgres", "--"] + args) if os.geteuid() == 0 else args


# ---------------------------------------------------------------------------------------------------------------
# PostgreSQL


class Cluster:
    """A throwaway PostgreSQL cluster: 127.0.0.1 only, a port from 19000-19499, database `weighin`."""

    def __init__(self, base: str, database: str = "weighin"):
        self.base = base
        self.dir = os.path.join(base, "pg")
        self.data = os.path.join(self.dir, "data")
        self.log = os.path.join(self.dir, "postgres.log")
        self.bindir = pg_bindir()
        self.port = free_port()
        self.database = database
        self.url = f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def _bin(self, name):
        return os.path.join(self.bindir, name)

    def _run(self, args, timeout=120, check=True):
        result = subprocess.run(_as_postgres(args), capture_output=True, text=True, timeout=timeout)
        if check and result.returncode != 0:
            raise RuntimeError(f"{' '.join(args[:2])} failed ({result.returncode}): {result.stderr.strip()[-600:]}")
        return result

    def create(self):
        os.makedirs(self.dir)
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres", "postgres")
        os.chmod(self.dir, 0o700)
        on_cleanup(self.destroy)
        self._run([self._bin("initdb"), "-D", self.data, "-U", "postgres", "-A", "trust", "-E", "UTF8",
                   "--locale=C", "--no-instructions"])
        settings = [
            "listen_addresses = '127.0.0.1'", f"port = {self.port}", "unix_socket_directories = ''",
            "max_connections = 200", "shared_buffers = 64MB", "log_min_messages = warning",
        ]
        conf = os.path.join(self.data, "postgresql.conf")
        with open(conf, "a") as f:  # as root we may write it; the file keeps its owner
            f.write("\n# fault tests\n" + "\n".join(settings) + "\n")
        self.start()
        self.psql(f"CREATE DATABASE {self.database}", db="postgres")
        return self

    def start(self):
        self._run([self._bin("pg_ctl"), "-D", self.data, "-l", self.log, "-w", "-t", "60", "start"])

    def stop(self, mode="fast"):
        self._run([self._bin("pg_ctl"), "-D", self.data, "-m", mode, "-w", "-t", "60", "stop"])

    def restart(self, mode="fast"):
        self._run([self._bin("pg_ctl"), "-D", self.data, "-l", self.log, "-m", mode, "-w", "-t", "60", "restart"])

    def destroy(self):
        if os.path.exists(os.path.join(self.data, "postmaster.pid")):
            self._run([self._bin("pg_ctl"), "-D", self.data, "-m", "immediate", "-w", "-t", "30", "stop"],
                      check=False)

    def accepts(self) -> bool:
        """Whether the server accepts connections now (pg_isready)."""
        r = subprocess.run([self._bin("pg_isready"), "-q", "-h", "127.0.0.1", "-p", str(self.port), "-t", "1"],
                           capture_output=True)
        return r.returncode == 0

    def psql(self, sql: str, db: str | None = None, timeout=60, appname="faults") -> str:
        url = f"postgres://postgres@127.0.0.1:{self.port}/{db or self.database}"
        env = dict(os.environ, PGAPPNAME=appname, PGCONNECT_TIMEOUT="5")
        r = subprocess.run([self._bin("psql"), url, "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-f", "-"],
                           input=sql, capture_output=True, text=True, timeout=timeout, env=env)
        if r.returncode != 0:
            raise RuntimeError(f"psql failed: {r.stderr.strip()[-600:]}")
        return r.stdout

    def rows(self, sql: str) -> list:
        return [line.split("|") for line in self.psql(sql).splitlines() if line]

    def app_backends(self) -> list:
        """(pid, state, wait_event_type, query) of weighin's connections (everything but our psql)."""
        out = self.psql("""
            SELECT pid, coalesce(state, ''), coalesce(wait_event_type, ''), left(regexp_replace(query, '\\s+', ' ', 'g'), 60)
            FROM pg_stat_activity
            WHERE backend_type = 'client backend' AND datname = current_database()
              AND application_name NOT LIKE 'faults%' AND pid <> pg_backend_pid()""")
        return [line.split("|", 3) for line in out.splitlines() if line]

    def existing_ids(self, ids) -> set:
        ids = sorted(set(ids))
        if not ids:
            return set()
        found = set()
        for i in range(0, len(ids), 5000):
            chunk = ids[i:i + 5000]
            array = "{" + ",".join(chunk) + "}"
            found |= set(self.psql(f"SELECT id FROM weight_entries WHERE id = ANY('{array}'::uuid[])").split())
        return found

    def note_counts(self, prefix: str) -> dict:
        """note -> number of entries with it, for notes starting with `prefix`."""
        out = self.psql(f"SELECT note, count(*) FROM weight_entries WHERE note LIKE '{prefix}%' GROUP BY note")
        return {note: int(n) for note, n in (line.rsplit("|", 1) for line in out.splitlines() if line)}


class TableLock:
    """Holds ACCESS EXCLUSIVE on a table from a psql session (application_name faults-lock) until released."""

    def __init__(self, cluster: Cluster, table="weight_entries", seconds=60):
        self.cluster = cluster
        self.table = table
        self.seconds = seconds
        self.proc = None

    def __enter__(self):
        url = self.cluster.url
        env = dict(os.environ, PGAPPNAME="faults-lock", PGCONNECT_TIMEOUT="5")
        sql = (f"BEGIN; LOCK TABLE {self.table} IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep({self.seconds}); COMMIT;")
        self.proc = subprocess.Popen([self.cluster._bin("psql"), url, "-X", "-q", "-c", sql], env=env,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                     preexec_fn=_die_with_parent)
        on_cleanup(self.release)
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
        if self.proc is None:
            return
        try:
            self.cluster.psql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'faults-lock'")
        except Exception:  # noqa: BLE001
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.proc = None

    def __exit__(self, *exc):
        self.release()


# ---------------------------------------------------------------------------------------------------------------
# weighin serve


class Server:
    """`weighin serve` on 127.0.0.1:<port from 19000-19499> with the given flags; its log goes to a file."""

    def __init__(self, base: str, database_url: str | None = None, data_dir: str | None = None,
                 args: tuple = (), name: str = "serve", port: int | None = None, env: dict | None = None):
        self.bin = weighin_bin()
        self.base = base
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = os.path.join(base, f"{name}-{self.port}.log")
        cmd = [self.bin, "serve", "--host", "127.0.0.1", "--port", str(self.port), "--sql-dir", SQL_DIR]
        if database_url:
            cmd += ["--database-url", database_url, "--migrate"]
        else:
            cmd += ["--data-dir", data_dir or os.path.join(base, "private")]
        self.cmd = cmd + list(args)
        self.env = dict(os.environ, **(env or {}))
        self.env.pop("DATABASE_URL", None)
        self.proc = None
        self.started_at = None

    def start(self, ready_timeout=120):
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(self.cmd, stdout=log, stderr=subprocess.STDOUT, env=self.env,
                                     preexec_fn=_die_with_parent)
        log.close()
        self.started_at = time.monotonic()
        on_cleanup(self.stop)
        self.wait_ready(ready_timeout)
        return self

    def wait_ready(self, timeout=120):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"weighin serve exited with {self.proc.returncode}:\n{self.log_tail()}")
            try:
                if request(self.url, "GET", "/readyz", timeout=2).status == 200:
                    return
            except (OSError, http.client.HTTPException):
                pass
            time.sleep(0.1)
        raise RuntimeError(f"weighin serve not ready within {timeout}s:\n{self.log_tail()}")

    @property
    def pid(self):
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def signal(self, sig):
        if self.alive():
            os.kill(self.proc.pid, sig)

    def wait(self, timeout):
        return self.proc.wait(timeout=timeout)

    def exit_code_within(self, timeout):
        """The exit code, or None when the process has not exited within `timeout` seconds."""
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def stop(self):
        if not self.alive():
            return
        self.signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.signal(signal.SIGKILL)
            self.proc.wait(timeout=10)

    def log_text(self) -> str:
        try:
            with open(self.log_path, "r", errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def log_tail(self, lines=25) -> str:
        return "\n".join(self.log_text().splitlines()[-lines:])

    def database_url_from_log(self) -> str | None:
        m = re.search(r"database_url=(\S+)", self.log_text())
        return m.group(1).strip("\"'") if m else None

    # --- process figures (Linux /proc)

    def rss_mb(self) -> float:
        with open(f"/proc/{self.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
        return 0.0

    def fd_count(self) -> int:
        try:
            return len(os.listdir(f"/proc/{self.pid}/fd"))
        except OSError:
            return -1

    def cpu_seconds(self) -> float:
        return _stat_cpu(f"/proc/{self.pid}/stat")

    def thread_cpu(self) -> dict:
        """thread id -> (thread name, CPU seconds, nice value)."""
        out: dict = {}
        for task in glob.glob(f"/proc/{self.pid}/task/*"):
            try:
                with open(os.path.join(task, "comm")) as f:
                    name = f.read().strip()
                path = os.path.join(task, "stat")
                out[os.path.basename(task)] = (name, _stat_cpu(path), _stat_field(path, 18))
            except OSError:
                continue
        return out


def _stat_field(path: str, index: int) -> int:
    """Field `index` (0-based, counted after the `(comm)` field; 18 is nice) of a /proc stat file."""
    with open(path) as f:
        text = f.read()
    return int(text[text.rindex(")") + 2:].split()[index - 2])


def _stat_cpu(path: str) -> float:
    with open(path) as f:
        text = f.read()
    fields = text[text.rindex(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def serve_help() -> str:
    return subprocess.run([weighin_bin(), "serve", "--help"], capture_output=True, text=True, timeout=60).stdout


def find_flag(pattern: str) -> str | None:
    """The first `serve` flag whose name matches `pattern` (a regex), or None: lets a test use a setting the
    server may not have yet."""
    for flag in re.findall(r"(--[a-z][a-z0-9-]+)", serve_help()):
        if re.fullmatch(pattern, flag):
            return flag
    return None


# ---------------------------------------------------------------------------------------------------------------
# HTTP


class Response:
    def __init__(self, status, headers, body, started, ended):
        self.status = status
        self.headers = headers
        self.body = body
        self.started = started
        self.ended = ended

    @property
    def elapsed(self):
        return self.ended - self.started

    def json(self):
        return json.loads(self.body)

    def header(self, name):
        return self.headers.get(name.lower())

    def retry_after_ok(self) -> bool:
        value = self.header("Retry-After")
        return value is not None and value.strip().isdigit()


class Cut(Exception):
    """The answer began but ended before its end (a response cut mid-body)."""


class NoAnswer(Exception):
    """The connection closed (or reset) before any byte of an answer: the request's fate is unknown."""


def _split_url(base):
    m = re.match(r"http://([^:/]+):(\d+)", base)
    return m.group(1), int(m.group(2))


class Client:
    """One keep-alive HTTP/1.1 connection; reconnects after a failure. Not thread-safe: one per thread."""

    def __init__(self, base: str, timeout: float = 30, token: str | None = None):
        self.host, self.port = _split_url(base)
        self.timeout = timeout
        self.token = token
        self.conn = None

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def request(self, method, path, body=None, headers=None, token=None, json_body=None, timeout=None,
                content_type=None) -> Response:
        hdrs = dict(headers or {})
        tok = token if token is not None else self.token
        if tok:
            hdrs["Authorization"] = f"Bearer {tok}"
        if json_body is not None:
            body = json.dumps(json_body).encode()
            hdrs.setdefault("Content-Type", "application/json")
        if content_type:
            hdrs["Content-Type"] = content_type
        if isinstance(body, str):
            body = body.encode()
        if self.conn is None:
            self.conn = http.client.HTTPConnection(self.host, self.port, timeout=timeout or self.timeout)
        elif timeout is not None:
            self.conn.timeout = timeout
            if self.conn.sock is not None:
                self.conn.sock.settimeout(timeout)
        started = time.monotonic()
        got_head = False
        try:
            self.conn.request(method, path, body=body, headers=hdrs)
            resp = self.conn.getresponse()
            got_head = True
            data = resp.read()
            headers_ = {k.lower(): v for k, v in resp.getheaders()}
            ended = time.monotonic()
            if resp.will_close:
                self.close()
            return Response(resp.status, headers_, data, started, ended)
        except http.client.IncompleteRead as error:
            self.close()
            raise Cut(f"{method} {path}: answer cut after {len(error.partial)} body bytes") from None
        except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError) as error:
            self.close()
            if got_head:
                raise Cut(f"{method} {path}: connection lost mid-answer ({error!r})") from None
            raise NoAnswer(f"{method} {path}: {error!r}") from None
        except BaseException:
            self.close()
            raise


def request(base, method, path, **kw) -> Response:
    """One request on a connection of its own."""
    client = Client(base, timeout=kw.pop("timeout", 30))
    try:
        return client.request(method, path, **kw)
    finally:
        client.close()


class User:
    def __init__(self, email, password, token, id_):
        self.email = email
        self.password = password
        self.token = token
        self.id = id_


def new_user(base, prefix="faults", password=PASSWORD) -> User:
    email = f"{prefix}-{uuid.uuid4().hex[:12]}@example.com"
    r = request(base, "POST", "/v1/users", json_body={"email": email, "name": "Fault Test", "password": password})
    if r.status != 201:
        raise RuntimeError(f"register {email}: {r.status} {r.body[:300]!r}")
    user_id = r.json()["id"]
    r = request(base, "POST", "/v1/tokens", json_body={"email": email, "password": password})
    if r.status != 201:
        raise RuntimeError(f"log-in {email}: {r.status} {r.body[:300]!r}")
    return User(email, password, r.json()["token"], user_id)


def entry_body(note: str, day_offset: int | None = None) -> dict:
    offset = random.randint(0, 300) if day_offset is None else day_offset
    day = (_dt.datetime.now(_dt.timezone.utc).date() - _dt.timedelta(days=offset)).isoformat()
    return {"weight": round(random.uniform(50, 120), 2), "unit": "kg", "recorded_on": day, "note": note}


# ---------------------------------------------------------------------------------------------------------------
# Load: request log and workers


class Log:
    """Every request a test sent: kind, start, end, status (or an error name), Retry-After present."""

    def __init__(self):
        self.lock = threading.Lock()
        self.items: list = []

    def add(self, kind, started, ended, status, retry_after=None, error=None, extra=None):
        with self.lock:
            self.items.append({"kind": kind, "start": started, "end": ended, "status": status,
                               "retry_after": retry_after, "error": error, "extra": extra})

    def snapshot(self):
        with self.lock:
            return list(self.items)


def record(log: Log, kind: str, fn):
    """Runs fn() -> Response, logs the outcome, returns the Response or None (error logged)."""
    started = time.monotonic()
    try:
        r = fn()
    except Cut as error:
        log.add(kind, started, time.monotonic(), "cut", error=str(error))
        return None
    except NoAnswer as error:
        log.add(kind, started, time.monotonic(), "no_answer", error=str(error))
        return None
    except ConnectionRefusedError as error:
        log.add(kind, started, time.monotonic(), "refused", error=str(error))
        return None
    except (socket.timeout, TimeoutError) as error:
        log.add(kind, started, time.monotonic(), "timeout", error=str(error))
        return None
    except OSError as error:
        log.add(kind, started, time.monotonic(), "oserror", error=repr(error))
        return None
    log.add(kind, r.started, r.ended, r.status, retry_after=r.retry_after_ok() if r.status in (429, 503) else None)
    return r


class Writes:
    """Book-keeping of entry writes: ids answered 201, and idempotency keys with the ids they were answered."""

    def __init__(self):
        self.lock = threading.Lock()
        self.acked_ids: set = set()
        self.key_ids: dict = {}      # idempotency key -> set of ids answered 201 for it
        self.keys_sent: set = set()  # every idempotency key sent at least once
        self.key_bodies: dict = {}   # idempotency key -> the body sent with it
        self.unacked_plain = 0       # writes without a key that got no 201 (fate unknown or refused)

    def acked(self, entry_id, key=None):
        with self.lock:
            self.acked_ids.add(entry_id)
            if key is not None:
                self.key_ids.setdefault(key, set()).add(entry_id)

    def sent_key(self, key, body=None):
        with self.lock:
            self.keys_sent.add(key)
            if body is not None:
                self.key_bodies[key] = body


def writer_loop(base, token, tag, stop: threading.Event, log: Log, writes: Writes, idempotent: bool,
                request_timeout: float, retry_deadline=None, pause: float = 0.0, retry_pause: float = 0.1):
    """Posts entries until `stop`; each note is unique (`tag-n`). With `idempotent`, every write has an
    Idempotency-Key equal to its note and is retried with the same key after a 503/409/no answer until it is
    answered 201 or `retry_deadline()` says to give up."""
    client = Client(base, timeout=request_timeout, token=token)
    n = 0
    while not stop.is_set():
        n += 1
        key = f"{tag}-{n}"
        body = entry_body(key)
        headers = {"Idempotency-Key": key} if idempotent else {}
        if idempotent:
            writes.sent_key(key, body)
        while True:
            r = record(log, "create-key" if idempotent else "create",
                       lambda: client.request("POST", "/v1/entries", json_body=body, headers=headers))
            if r is not None and r.status == 201:
                writes.acked(r.json()["id"], key if idempotent else None)
                break
            if not idempotent:
                with writes.lock:
                    writes.unacked_plain += 1
                break
            if retry_deadline is not None and retry_deadline():
                break
            if r is not None and r.status not in (409, 503):
                break
            time.sleep(retry_pause)
        if pause:
            time.sleep(pause)
    client.close()


def reader_loop(base, token, stop: threading.Event, log: Log, request_timeout: float, paths=None, pause=0.0):
    client = Client(base, timeout=request_timeout, token=token)
    paths = paths or ["/v1/entries?limit=20", "/v1/stats", "/v1/me"]
    i = 0
    while not stop.is_set():
        path = paths[i % len(paths)]
        i += 1
        record(log, "read", lambda: client.request("GET", path))
        if pause:
            time.sleep(pause)
    client.close()


def start_threads(targets) -> list:
    threads = [threading.Thread(target=t, daemon=True) for t in targets]
    for t in threads:
        t.start()
    return threads


def join_all(threads, timeout):
    deadline = time.monotonic() + timeout
    for t in threads:
        t.join(max(0.0, deadline - time.monotonic()))
    return [t for t in threads if t.is_alive()]


def percentile(values, p):
    if not values:
        return 0.0
    values = sorted(values)
    k = min(len(values) - 1, max(0, int(round(p / 100.0 * len(values) + 0.5)) - 1))
    return values[k]


def count_by(items, key):
    out: dict = {}
    for item in items:
        out[item[key]] = out.get(item[key], 0) + 1
    return out


def verify_writes(report: Report, cluster: Cluster, writes: Writes, note_prefix: str):
    """Every id answered 201 exists; no idempotency key has more than one entry, nor was answered two ids."""
    found = cluster.existing_ids(writes.acked_ids)
    lost = len(writes.acked_ids) - len(found)
    counts = cluster.note_counts(note_prefix)
    key_dups = sum(max(0, counts.get(k, 0) - 1) for k in writes.keys_sent)
    answered_twice = sum(1 for ids in writes.key_ids.values() if len(ids) > 1)
    report.figure("acknowledged_writes", len(writes.acked_ids))
    report.figure("lost_writes", lost)
    report.figure("idempotency_keys", len(writes.keys_sent))
    report.figure("duplicates", key_dups + answered_twice)
    report.check("every entry answered 201 exists afterwards", lost == 0,
                 f"{len(found)} of {len(writes.acked_ids)} found")
    report.check("no Idempotency-Key created more than one entry", key_dups == 0,
                 f"{key_dups} extra entries over {len(writes.keys_sent)} keys")
    report.check("no Idempotency-Key was answered with two different ids", answered_twice == 0,
                 f"{answered_twice} keys")


def loadtest(base: str, out_dir: str, *, duration: str, rate: float | None = None, connections=8, users=10,
             entries=5, mix="list=70,create=20,stats=5,get=5", timeout="7s", prefix=None, seed_only=False):
    """Starts `weighin loadtest` (returns the Popen and its JSON report path)."""
    path = os.path.join(out_dir, f"loadtest-{uuid.uuid4().hex[:6]}.json")
    cmd = [weighin_bin(), "loadtest", "--url", base, "--users", str(users), "--entries-per-user", str(entries),
           "--connections", str(connections), "--duration", duration, "--warmup", "0s", "--mix", mix,
           "--timeout", timeout, "--json", path]
    if rate:
        cmd += ["--rate", str(rate)]
    if prefix:
        cmd += ["--email-prefix", prefix]
    if seed_only:
        cmd += ["--seed-only"]
    out = open(os.path.join(out_dir, "loadtest.out"), "ab")
    proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, preexec_fn=_die_with_parent)
    out.close()

    def stop():
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)

    on_cleanup(stop)
    return proc, path


def read_loadtest(path) -> dict | None:
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def raw_connections(base, count, send: bytes = b"", timeout=5.0):
    """Opens `count` TCP connections (optionally sending `send` on each); returns the open sockets."""
    host, port = _split_url(base)
    socks = []
    for _ in range(count):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.settimeout(timeout)
        try:
            s.connect((host, port))
            if send:
                s.sendall(send)
        except OSError:
            s.close()
            continue
        socks.append(s)

    def close_all():
        for s in socks:
            try:
                s.close()
            except OSError:
                pass

    on_cleanup(close_all)
    return socks


class RawResult:
    def __init__(self):
        self.status = None      # int, or "closed" / "timeout" / "error"
        self.headers = {}
        self.body = b""
        self.sent = None
        self.first_byte = None
        self.done = None

    @property
    def latency(self):
        end = self.done or self.first_byte
        return (end - self.sent) if (end and self.sent) else None


def burst(base, payloads, timeout=30.0, connect_timeout=5.0):
    """Opens one connection per payload (raw bytes of one HTTP/1.1 request), sends them all as fast as it can,
    and reads every answer with one selector. Returns a RawResult per payload (status, headers, latency)."""
    import selectors

    host, port = _split_url(base)
    sel = selectors.DefaultSelector()
    results = []
    socks = []
    try:
        for _ in payloads:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.settimeout(connect_timeout)
            s.connect((host, port))
            socks.append(s)
        for s, payload in zip(socks, payloads):
            r = RawResult()
            r.sent = time.monotonic()
            s.sendall(payload)
            s.setblocking(False)
            results.append(r)
            sel.register(s, selectors.EVENT_READ, (r, bytearray()))
        deadline = time.monotonic() + timeout
        pending = len(socks)
        while pending and time.monotonic() < deadline:
            for key, _ in sel.select(timeout=0.2):
                r, buf = key.data
                try:
                    chunk = key.fileobj.recv(65536)
                except (BlockingIOError, InterruptedError):
                    continue
                except OSError:
                    chunk = b""
                now = time.monotonic()
                if chunk and r.first_byte is None:
                    r.first_byte = now
                buf += chunk
                if _parse_raw(r, buf, now) or not chunk:
                    if r.status is None:
                        r.status = "closed"
                    sel.unregister(key.fileobj)
                    pending -= 1
        for key in list(sel.get_map().values()):
            r, _ = key.data
            if r.status is None:
                r.status = "timeout"
    finally:
        sel.close()
        for s in socks:
            s.close()
    return results


def _parse_raw(r, buf, now):
    end = buf.find(b"\r\n\r\n")
    if end < 0:
        return False
    head = bytes(buf[:end]).decode("latin-1").split("\r\n")
    headers = {}
    for line in head[1:]:
        if ":" in line:
            k, v = line.split(":", 1)
            headers[k.strip().lower()] = v.strip()
    length = int(headers.get("content-length", "0") or 0)
    if len(buf) - end - 4 < length:
        return False
    r.status = int(head[0].split()[1])
    r.headers = headers
    r.body = bytes(buf[end + 4:end + 4 + length])
    r.done = now
    return True


def raw_request(method, path, token=None, body=b"", content_type=None, extra=None) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", "Connection: close"]
    if token:
        lines.append(f"Authorization: Bearer {token}")
    if content_type:
        lines.append(f"Content-Type: {content_type}")
    if body or method in ("POST", "PUT", "PATCH"):
        lines.append(f"Content-Length: {len(body)}")
    for k, v in (extra or {}).items():
        lines.append(f"{k}: {v}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body
