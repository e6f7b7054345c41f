"""pg_stat_statements: the statements of a window, their kinds, and whether pgbench's are the service's; and
the long-lived psql session the monitoring queries go through."""

import subprocess
import threading
import time

from harness import processes

from lib.context import BenchError


class PsqlSession:
    """One long-lived psql connection for monitoring queries, so a counter reset or read happens within a
    millisecond of being asked for (a fresh psql process takes tens of milliseconds to start under load)."""

    def __init__(self, cluster, db="postgres"):
        self.p = processes.spawn(cluster.psql_command(db, "-A", "-t", "-F", "\t"), "psql monitor",
                                 stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                 bufsize=1, env=cluster.psql_env())
        self.lock = threading.Lock()

    def query(self, sql, timeout=60):
        with self.lock:
            self.p.stdin.write(sql.rstrip().rstrip(";") + ";\n\\echo __bench_end__\n")
            self.p.stdin.flush()
            lines = []
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                line = self.p.stdout.readline()
                if not line:
                    raise BenchError("the monitoring psql session ended")
                if line.strip() == "__bench_end__":
                    return [l.split("\t") for l in lines if l]
                lines.append(line.rstrip("\n"))
            raise BenchError("the monitoring psql session did not answer")


def statement_stats(monitor, db="weighin"):
    """pg_stat_statements of `db` since the last reset, without the benchmark's own monitoring queries."""
    rows = monitor.query(f"""
        SELECT queryid, calls, round(total_exec_time::numeric, 3), shared_blks_hit, shared_blks_read,
               replace(replace(left(regexp_replace(query, '\\s+', ' ', 'g'), 2000), E'\\t', ' '), E'\\n', ' ')
        FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid
        WHERE d.datname = '{db}' AND query NOT ILIKE '%pg_stat_%' AND query NOT ILIKE '%bench_pick%'
          AND query NOT ILIKE '%bench_scale_users%'
        ORDER BY calls DESC""")
    return [{"queryid": r[0], "calls": int(r[1]), "total_ms": float(r[2]), "hit": int(r[3]), "read": int(r[4]),
             "query": r[5]} for r in rows]


def reset_statements(monitor):
    monitor.query("SELECT pg_stat_statements_reset()")


KINDS = (  # (kind, substrings the statement's text (lower case, blanks collapsed) holds); the first match
    ("list", ("from weight_entries where user_id =", "order by recorded_on desc", "limit $")),
    ("get", ("from weight_entries where id = $",)),
    ("create", ("insert into weight_entries",)),
    ("stats", ("with e as", "totals as")),
    ("trend", ("with e as", "windowed as")),
    ("ema", ("with e as", "as shown")),  # constants (round(w, 2)) are $n in pg_stat_statements
    ("progress", ("with g as", "from goals")),
    ("changes", ("with changed as", "from entry_tombstones")),
    ("token", ("select u.weight_unit, t.expires_at",)),
    ("token_revalidate", ("select t.token_hash, u.weight_unit",)),
)


def classify(query):
    q = " ".join(query.lower().split())
    return next((kind for kind, parts in KINDS if all(p in q for p in parts)), "other")


def compare_statements(b):
    """Whether each statement kind the service ran has the query id of pgbench's (the same statement)."""
    if b.ceiling_statements is None or b.service_statements is None:
        return
    ceiling = {s["queryid"]: s for s in b.ceiling_statements}
    out = {}
    for s in b.service_statements:
        kind = classify(s["query"])
        if kind == "other":
            continue
        out[kind] = {"queryid": s["queryid"], "same_in_pgbench": s["queryid"] in ceiling}
    b.results["statement_identity"] = out
