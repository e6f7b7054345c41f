"""Child processes, temporary folders and their clean-up.

Whatever a check starts registers its own undo with `on_cleanup`; the undos run last registered first, once, at
exit (also after an exception and, with `exit_on_signals()`, on SIGTERM/SIGHUP; Ctrl-C is an exception too).
`spawn` starts a process in a process group of its own - a Ctrl-C at the terminal reaches only the check, which
then stops it - that gets SIGTERM should the check die without cleaning up (PR_SET_PDEATHSIG), and registers
its stop. Processes are stopped by their process group, never by name.
"""

import atexit
import ctypes
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading

from harness import HarnessError

_cleanups: list = []
_cleanup_lock = threading.Lock()

# The processes `spawn` started that have neither been stopped nor reported ended: what is ours (the benchmark
# counts their CPU time as its own).
running: list = []


def on_cleanup(fn):
    """Registers `fn` to run (once, last registered first) when the program ends, however it ends."""
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


def exit_on_signals(*signums):
    """SIGTERM and SIGHUP (or the signals given) end the program with exit code 128 + n, after clean-up."""

    def terminate(signum, _frame):
        raise SystemExit(128 + signum)

    for signum in signums or (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, terminate)


_libc = None


def _die_with_parent():
    """preexec_fn: the child gets SIGTERM if this program dies without cleaning up (PR_SET_PDEATHSIG)."""
    global _libc
    try:
        if _libc is None:
            _libc = ctypes.CDLL("libc.so.6", use_errno=True)
        _libc.prctl(1, signal.SIGTERM)
    except Exception:  # noqa: BLE001
        pass


def spawn(cmd, name, stdout=None, stderr=None, **popen):
    """Starts `cmd` (see the module's docstring) and returns its Popen, named `name` for messages.

    `stdout`, `stderr`: a path (written anew), an open file, subprocess.PIPE/STDOUT/DEVNULL, or None (ours).
    """
    opened = []

    def target(where):
        if isinstance(where, str):
            opened.append(open(where, "w"))
            return opened[-1]
        return where

    try:
        p = subprocess.Popen(cmd, stdout=target(stdout), stderr=target(stderr), start_new_session=True,
                             preexec_fn=_die_with_parent, **popen)
    finally:
        for f in opened:
            f.close()
    p.name = name
    running.append(p)
    on_cleanup(lambda: stop(p, timeout=10))
    return p


def _signal_group(p, sig):
    try:
        os.killpg(p.pid, sig)  # its own group: the process and whatever it started, nothing else
    except ProcessLookupError:
        pass


def stop(p, sig=signal.SIGTERM, timeout=20):
    """Sends `sig` to the process group of `p` (spawned), waits `timeout` s for it to end, then SIGKILLs it."""
    if p.poll() is None:
        _signal_group(p, sig)
        try:
            p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            _signal_group(p, signal.SIGKILL)
            p.wait(timeout=10)
    ended(p)


def ended(p):
    """`p` ended by itself (it was waited for): it is no longer among the running processes."""
    if p in running:
        running.remove(p)


def run(cmd, timeout, *, cwd=None, env=None, input=None, check=True, stderr_apart=False) -> str:
    """Runs `cmd` to its end (subprocess.TimeoutExpired after `timeout` s) and returns what it printed: stdout and
    stderr together, or stdout alone with `stderr_apart`. With `check`, an exit code other than 0 raises
    HarnessError with the tail of the output (of stderr with `stderr_apart`)."""
    r = subprocess.run(cmd, cwd=cwd, env=env, timeout=timeout, input=input, text=True, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE if stderr_apart else subprocess.STDOUT)
    if check and r.returncode != 0:
        said = (r.stderr if stderr_apart else r.stdout) or ""
        raise HarnessError(f"{' '.join(cmd[:4])}... exited {r.returncode}: {said.strip()[-2000:]}")
    return r.stdout or ""


def scratch_dir(prefix: str, mode=None, keep=False) -> str:
    """A new folder /tmp/<prefix>XXXXXX (with `mode` if given), removed at the end unless `keep`."""
    path = tempfile.mkdtemp(prefix=prefix, dir="/tmp")
    if mode is not None:
        os.chmod(path, mode)
    if not keep:
        on_cleanup(lambda: shutil.rmtree(path, ignore_errors=True))
    return path
