"""The benchmark's log: each line with the seconds since the start, on the terminal and in run.log."""

import time


class Log:
    def __init__(self):
        self.file = None
        self.started = time.monotonic()

    def open(self, path):
        self.file = open(path, "a", buffering=1)

    def __call__(self, text):
        line = f"[{time.monotonic() - self.started:7.1f}s] {text}"
        print(line, flush=True)
        if self.file:
            self.file.write(line + "\n")


log = Log()
