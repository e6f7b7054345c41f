"""A fault test's report: each check and figure as it comes, then one SUMMARY line (the runner collects it)."""

import sys
import time
import traceback

from harness.processes import cleanup_all


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
        traceback.print_exc()
        report.crash(error)
    report.finish()
