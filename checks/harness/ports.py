"""Free TCP ports on 127.0.0.1, from a range the caller (or an environment variable) gives."""

from __future__ import annotations

import os
import random
import socket

from harness import HarnessError


class Ports:
    """Hands out ports that are free on 127.0.0.1 now, from first..last (both included), each port once; without
    a range, ports the kernel picks. A suite keeps to its own range so that suites run side by side do not meet."""

    def __init__(self, first=None, last=None):
        self.range = range(first, last + 1) if first is not None else None
        self.handed_out: set = set()

    def take(self) -> int:
        if self.range is None:
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
                s.bind(("127.0.0.1", 0))
                port = s.getsockname()[1]
            self.handed_out.add(port)
            return port
        candidates = [p for p in self.range if p not in self.handed_out]
        random.shuffle(candidates)
        for port in candidates:
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
                try:
                    s.bind(("127.0.0.1", port))
                except OSError:
                    continue
            self.handed_out.add(port)
            return port
        raise HarnessError(f"no free port in {self.range.start}-{self.range.stop - 1}")


def from_environment(name: str, default: tuple | None = None) -> Ports:
    """Ports from the environment variable `name`, written `first-last` (both included), else from `default`
    ((first, last), or None for ports the kernel picks): runs of a suite side by side keep apart with it."""
    setting = os.environ.get(name)
    if not setting:
        return Ports(*default) if default else Ports()
    first, _, last = setting.partition("-")
    try:
        low, high = int(first), int(last)
    except ValueError:
        raise HarnessError(f"{name} must read first-last (e.g. 18400-18499), not {setting!r}") from None
    if not 1024 <= low <= high <= 65535:
        raise HarnessError(f"{name}={setting!r} is not a range of ports from 1024 to 65535")
    return Ports(low, high)
