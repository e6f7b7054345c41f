"""The release build of weighin: of the working tree (default), of a git revision (--rev) or the one there
already (--no-build); what was built is recorded in the results' `source`."""

import datetime
import json
import os
import subprocess
import time

from harness.processes import run, scratch_dir

from lib.context import ROOT, SCRATCH, BenchError
from lib.log import log


def build(b):
    a = b.args
    rev = run(["git", "-C", ROOT, "rev-parse", "HEAD"], 30).strip()
    dirty = run(["git", "-C", ROOT, "status", "--porcelain", "--", "Sources", "Package.swift", "sql"], 30).strip()
    if a.rev:
        b.src = scratch_dir("weighin-bench-src-")
        rev = run(["git", "-C", ROOT, "rev-parse", a.rev], 30).strip()
        archive = subprocess.run(["git", "-C", ROOT, "archive", rev], stdout=subprocess.PIPE, check=True,
                                 timeout=120)
        subprocess.run(["tar", "-x", "-C", b.src], input=archive.stdout, check=True, timeout=120)
        dirty = ""
    info_path = os.path.join(SCRATCH, "bench-build-info.json")
    b.results["source"] = {"commit": rev, "uncommitted_changes_in_sources": bool(dirty),
                           "built_from": "git archive " + a.rev if a.rev else "working tree"}
    if a.no_build:
        log(f"using the existing build {b.binary}")
        if os.path.exists(info_path):
            with open(info_path) as f:
                b.results["source"] = json.load(f)
        else:
            b.results["source"] = {"commit": "unknown (built outside bench/run)"}
    else:
        log(f"building weighin (release) from {b.results['source']['built_from']} at {rev[:10]}"
            f"{' with uncommitted changes' if dirty else ''}")
        t = time.monotonic()
        flags = a.build_flags.split() if a.build_flags else []
        b.results["source"]["build_flags"] = a.build_flags or ""
        out = run(["swift", "build", "-c", "release", "--product", "weighin", "--scratch-path", SCRATCH] + flags,
                  3600, cwd=b.src)
        with open(b.path("build.log"), "w") as f:
            f.write(out)
        log(f"built in {time.monotonic() - t:.0f} s")
        with open(info_path, "w") as f:
            json.dump(dict(b.results["source"], built_at=datetime.datetime.now().isoformat()), f)
    if not os.path.exists(b.binary):
        raise BenchError(f"{b.binary} missing: run without --no-build")
    b.sql_dir = os.path.join(b.src, "sql")
