"""`weighin serve` as a child process: start, wait until ready, signals, exit code, log, /metrics, figures."""

from __future__ import annotations

import http.client
import os
import re
import subprocess
import time

from harness import HarnessError, procfs, processes
from harness.http import Cut, NoAnswer, request


class Server:
    """`<binary> serve --port <port> <args>` (weighin listens on 127.0.0.1 unless told otherwise), its output in
    `log_path`. Its environment is ours without DATABASE_URL - and without any WEIGHIN_* variable unless
    `inherit_weighin_env` - plus `env`. With `ops_port`, also `--ops-port <ops_port>`: readiness and metrics are
    then asked there (weighin serves them on that listener only). `wrapper` runs it under another program in the
    same process (valgrind, say). `start()` registers its stop for the end."""

    def __init__(self, binary: str, port: int, args=(), log_path: str = "", env: dict | None = None,
                 inherit_weighin_env: bool = True, ops_port: int | None = None, wrapper=()):
        self.port = port
        self.ops_port = ops_port
        self.cmd = (list(wrapper) + [binary, "serve", "--port", str(port)] + (["--ops-port", str(ops_port)] if ops_port else [])
                    + list(args))
        self.log_path = log_path
        self.env = dict(env or {})
        self.inherit_weighin_env = inherit_weighin_env
        self.proc = None
        self.started_at = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ops_url(self) -> str:
        """Where /readyz and /metrics are served: the ops listener when there is one, else the public port."""
        return f"http://127.0.0.1:{self.ops_port or self.port}"

    def start(self, ready_timeout=120):
        env = {k: v for k, v in os.environ.items()
               if k != "DATABASE_URL" and (self.inherit_weighin_env or not k.startswith("WEIGHIN_"))}
        env.update(self.env)
        self.proc = processes.spawn(self.cmd, "weighin serve", stdout=self.log_path, stderr=subprocess.STDOUT,
                                    env=env)
        processes.on_cleanup(self.stop)  # its drain may take a while: 30 s before SIGKILL, not spawn's 10
        self.started_at = time.monotonic()
        self.wait_ready(ready_timeout)
        return self

    def wait_ready(self, timeout=120):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise HarnessError(f"weighin serve exited with {self.proc.returncode} (log {self.log_path}):\n"
                                   f"{self.log_tail()}")
            try:
                if request(self.ops_url, "GET", "/readyz", timeout=2).status == 200:
                    return
            except (OSError, http.client.HTTPException, NoAnswer, Cut):
                pass
            time.sleep(0.1)
        raise HarnessError(f"weighin serve not ready within {timeout}s (log {self.log_path}):\n{self.log_tail()}")

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
        """SIGTERM, and SIGKILL if it has not exited within 30 s."""
        if self.proc is not None:
            processes.stop(self.proc, timeout=30)

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

    def metrics(self) -> dict:
        """GET /metrics: sample (name with its labels, as written) -> value."""
        values = {}
        for line in request(self.ops_url, "GET", "/metrics", timeout=10).body.decode("utf-8", "replace").splitlines():
            if line.startswith("#") or not line.strip():
                continue
            key, _, value = line.rpartition(" ")
            try:
                values[key] = float(value)
            except ValueError:
                pass
        return values

    # --- process figures (Linux /proc)

    def rss_mb(self) -> float:
        return (procfs.status(self.pid, "VmRSS") or 0) / 1024 / 1024

    def fd_count(self) -> int:
        return procfs.fd_count(self.pid)

    def cpu_seconds(self) -> float:
        return procfs.cpu_seconds(self.pid)

    def thread_cpu(self) -> dict:
        return procfs.thread_cpu(self.pid)
