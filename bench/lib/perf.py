"""`perf report` output for people: Swift symbols demangled."""

from harness.processes import run


def demangle(text):
    try:
        return run(["swift", "demangle", "--simplified"], 120, input=text)
    except Exception:  # noqa: BLE001
        return text
