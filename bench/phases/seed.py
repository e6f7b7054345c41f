"""The private cluster the benchmark measures on, migrated, and its users and entries seeded through the API."""

import os
import time

from harness.cluster import Cluster
from harness.processes import run, scratch_dir

from lib.log import log
from lib.statements import PsqlSession
from lib.workload import EMAIL_PREFIX

# The settings of weighin's private cluster (durable), plus statement statistics.
SETTINGS = ["max_connections = 300", "shared_buffers = 128MB", "shared_preload_libraries = 'pg_stat_statements'",
            "pg_stat_statements.track = top", "pg_stat_statements.max = 1000"]


def start_cluster(b):
    base = scratch_dir("weighin-bench-pg-")
    b.cluster = Cluster(base, b.port(), "weighin", settings=SETTINGS, psql_timeout=600).create()
    b.cluster.psql("CREATE EXTENSION pg_stat_statements", db="postgres")
    migrate(b, b.cluster.url)
    b.monitor = PsqlSession(b.cluster)
    log(f"private cluster on 127.0.0.1:{b.cluster.port} in {base}")


def migrate(b, url):
    env = dict(os.environ, DATABASE_URL=url)
    run([b.binary, "migrate", "up"], 120, cwd=b.src, env=env)


def seed(b):
    a = b.args
    log(f"seeding {a.users} users x {a.entries} entries through the API (server with --hash-cost 4)")
    srv = b.server("seed", ["--hash-cost", "4", "--access-log", "off"])
    t = time.monotonic()
    try:
        out = run([b.binary, "loadtest", "--url", srv.url, "--seed-only", "--users", str(a.users),
                   "--entries-per-user", str(a.entries), "--email-prefix", EMAIL_PREFIX], 1800)
    finally:
        srv.stop()
    with open(b.path("seed.log"), "w") as f:
        f.write(out)
    seconds = time.monotonic() - t
    b.cluster.psql("VACUUM ANALYZE")
    b.seeded_at = b.cluster.psql("SELECT now()")
    count = b.cluster.psql("SELECT count(*) FROM weight_entries")
    log(f"seeded {count} entries in {seconds:.1f} s")
    b.results["seeding"] = {"users": a.users, "entries": int(count), "seconds": round(seconds, 1),
                            "how": "weighin loadtest --seed-only (POST /v1/users, /v1/tokens, "
                                   "/v1/entries/import) against a server with --hash-cost 4"}
