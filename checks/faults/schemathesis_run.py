#!/usr/bin/env python3
"""Schemathesis (from PyPI) against the served /openapi.json, with its default checks: it must find nothing.

Runs `schemathesis run <server>/openapi.json` with every default phase (examples, coverage, fuzzing,
stateful) and mode (positive and negative data), all default checks, authenticated as a registered user
(schemathesis_hooks.py), with the configuration in schemathesis.toml (one argued exception: 422 accepted for
positive data of six operations whose rules JSON Schema cannot express). Bounded: --max-examples
(FAULTS_ST_EXAMPLES, default 100, schemathesis's own default) and a hard time limit (FAULTS_ST_SECONDS, default 600 s); a fixed seed
(FAULTS_SEED, default 5) keeps CI reproducible. Schemathesis is installed by ./ensure_schemathesis.
"""

import os
import re
import subprocess
import xml.etree.ElementTree as ET

import kit as h

EXAMPLES = os.environ.get("FAULTS_ST_EXAMPLES", "100")
SECONDS = float(os.environ.get("FAULTS_ST_SECONDS", "600"))
SEED = os.environ.get("FAULTS_SEED", "5")


def main(report: h.Report):
    found = subprocess.run([os.path.join(h.HERE, "ensure_schemathesis")], capture_output=True, text=True, timeout=600)
    if found.returncode != 0:
        raise RuntimeError(f"cannot install schemathesis: {found.stderr.strip()[-500:]}")
    st = found.stdout.strip().splitlines()[-1]
    version = subprocess.run([st, "--version"], capture_output=True, text=True).stdout.strip()
    report.note(version)

    base = h.workdir("schemathesis")
    cluster = h.Cluster(base).create()
    server = h.Server(base, cluster.url, args=h.NO_RATE_LIMIT + ("--hash-cost", "4", "--log-level", "warning", "--access-log", "off")).start()
    junit = os.path.join(base, "junit.xml")
    env = dict(os.environ, WEIGHIN_URL=server.url, SCHEMATHESIS_HOOKS="schemathesis_hooks",
               PYTHONPATH=h.HERE + os.pathsep + os.environ.get("PYTHONPATH", ""), NO_COLOR="1")
    cmd = [st, "--config-file", os.path.join(h.HERE, "schemathesis.toml"), "run", f"{server.url}/openapi.json",
           "--max-examples", EXAMPLES, "--seed", SEED, "--request-timeout", "20", "--generation-database", "none",
           "--continue-on-failure", "--report", "junit", "--report-junit-path", junit, "--no-color"]
    report.note("$ " + " ".join(cmd[1:]))
    try:
        run = subprocess.run(cmd, cwd=base, env=env, capture_output=True, text=True, timeout=SECONDS)
        out, code, timed_out = run.stdout + run.stderr, run.returncode, False
    except subprocess.TimeoutExpired as error:
        out = (error.stdout or b"").decode(errors="replace") if isinstance(error.stdout, bytes) else (error.stdout or "")
        code, timed_out = None, True
    log_path = f"/tmp/{os.environ.get('FAULTS_PREFIX') or 'weighin-faults-'}schemathesis.log"
    try:
        with open(log_path, "w") as f:
            f.write(out)
    except OSError:
        log_path = None

    # The summary block and the failures, as schemathesis printed them.
    lines = out.splitlines()
    start = next((i for i, line in enumerate(lines) if re.search(r"FAILURES|SUMMARY", line)), max(0, len(lines) - 60))
    for line in lines[start:start + 150]:
        print("   | " + line)

    tests = failures = errors = 0
    if os.path.exists(junit):
        root = ET.parse(junit).getroot()
        for suite in root.iter("testsuite"):
            tests += int(suite.get("tests", 0))
            failures += int(suite.get("failures", 0))
            errors += int(suite.get("errors", 0))
    cases = re.search(r"Test cases:\s*\n?\s*(.*)", out)
    report.figure("schemathesis_exit", code)
    report.figure("operations_tested", tests)
    report.figure("operations_failed", failures + errors)
    if cases:
        report.figure("test_cases", cases.group(1).strip())
    if log_path:
        report.note(f"full output: {log_path}")
    report.check(f"schemathesis finished within {SECONDS:g}s", not timed_out)
    selected = re.search(r"Operations:\s+(\d+) selected / (\d+) total", out)
    report.figure("operations_selected", selected.group(0).split(":", 1)[1].strip() if selected else None)
    report.check("schemathesis selected every operation of the document",
                 bool(selected) and selected.group(1) == selected.group(2) and int(selected.group(1)) >= 19,
                 selected.group(0) if selected else "no operation count in its output")
    report.check("schemathesis found nothing (default checks)", code == 0 and failures + errors == 0,
                 f"exit {code}, {failures} failed, {errors} errors")


if __name__ == "__main__":
    rep = h.Report("schemathesis", "schemathesis run against /openapi.json with default checks finds nothing")
    h.run_test(rep, main)
