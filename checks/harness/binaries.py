"""Where the programs are: PostgreSQL's server binaries, and the weighin binary under test."""

import functools
import glob
import os
import re
import subprocess

from harness import HarnessError

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SQL_DIR = os.path.join(ROOT, "sql")


@functools.lru_cache(maxsize=None)
def pg_bindir() -> str:
    """`pg_config --bindir` when initdb is there, else the newest /usr/lib/postgresql/<version>/bin."""
    try:
        out = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True, timeout=10).stdout.strip()
        if out and os.path.exists(os.path.join(out, "initdb")):
            return out
    except (OSError, subprocess.SubprocessError):
        pass
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                   key=lambda p: int(re.search(r"/(\d+)/bin", p).group(1)), reverse=True)
    if not found:
        raise HarnessError("PostgreSQL server binaries not found: apt-get install -y postgresql")
    return os.path.dirname(found[0])


def pg_program(name: str) -> str:
    """The path of one of PostgreSQL's programs (initdb, pg_ctl, psql, ...)."""
    return os.path.join(pg_bindir(), name)


@functools.lru_cache(maxsize=None)
def weighin_bin() -> str:
    """WEIGHIN_BIN, else a debug build of our own (`swift build --product weighin` in the repository)."""
    given = os.environ.get("WEIGHIN_BIN")
    if given:
        return given
    subprocess.run(["swift", "build", "--product", "weighin"], cwd=ROOT, check=True)
    path = subprocess.run(["swift", "build", "--show-bin-path"], cwd=ROOT, check=True, capture_output=True,
                          text=True).stdout.strip()
    return os.path.join(path, "weighin")
