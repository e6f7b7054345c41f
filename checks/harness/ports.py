"""Free TCP ports on 127.0.0.1."""

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
