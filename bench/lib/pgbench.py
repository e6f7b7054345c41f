"""pgbench: the scripts of the service's statements (from bench/pgbench/*.sql), its command line and the
latencies in its transaction logs."""

import datetime
import os

from lib.context import BENCH
from lib.workload import EMAIL_PREFIX


def pgbench_scripts(b, clients):
    """Expands bench/pgbench/*.sql into scripts pgbench runs: each client acts for its share of the users."""
    users = b.args.users
    slots = -(-users // clients)
    b.cluster.psql(f"""
        DROP TABLE IF EXISTS bench_pick;
        CREATE TABLE bench_pick AS
        WITH u AS (
            SELECT id, (regexp_match(email, '^{EMAIL_PREFIX}-(\\d+)@'))[1]::int - 1 AS n FROM users
            WHERE email LIKE '{EMAIL_PREFIX}-%@loadtest.invalid')
        SELECT c AS client, s AS slot, u.id AS user_id,
               (SELECT e.id FROM weight_entries e WHERE e.user_id = u.id
                ORDER BY recorded_on DESC, created_at DESC, id DESC OFFSET floor(random() * 100) LIMIT 1) AS entry_id
        FROM generate_series(0, {clients - 1}) c CROSS JOIN generate_series(0, {slots - 1}) s
        JOIN u ON u.n = (c + {clients} * s) % {users};
        ANALYZE bench_pick;""")
    gen = os.path.join(b.out, "pgbench")
    os.makedirs(gen, exist_ok=True)
    paths = {}
    for name in ("list", "create", "stats", "get"):
        paths[name] = os.path.join(gen, f"{name}.gen.sql")
        with open(paths[name], "w") as f:
            f.write(expand_template(name, slots))
    return paths


def pgbench_cmd(b, clients, seconds, scripts, rate=None, logprefix=None, db="weighin", extra=()):
    """pgbench on the cluster: `clients` for `seconds` running `scripts` ((path, weight or None), ...)."""
    today = (datetime.datetime.now(datetime.timezone.utc).date() - datetime.date(1970, 1, 1)).days
    # The database as the cluster's URL (pgbench expands a URI given as its database name): host, port, user and
    # the password file, as every other client of the cluster gets them.
    cmd = ["pgbench", "-n", "-M", "prepared",
           "-c", str(clients), "-j", "1", "-T", str(seconds), "-D", "loaded=0", "-D", f"today={today}",
           "-D", "lo=0001-01-01", "-D", "hi=9999-12-31", "-D", "lim=31", "-D", "unit=kg", "-D", "rdays=28", "-D", "rmin=4",
           "-D", "seq0=0", "-D", "zero=00000000-0000-0000-0000-000000000000"]
    if rate:
        cmd += ["-R", str(rate)]
    if logprefix:
        cmd += ["-l", "--log-prefix", logprefix, "--sampling-rate", "0.1"]
    cmd += list(extra)
    for path, weight in scripts:
        cmd += ["-f", f"{path}@{weight}" if weight is not None else path]
    return cmd + [b.cluster.url_of(db)]


def template_statement(name):
    with open(os.path.join(BENCH, "pgbench", f"{name}.sql")) as f:
        lines = [l for l in f.read().splitlines() if not l.lstrip().startswith("--")]
    return "\n".join(lines).strip().rstrip(";")


PREAMBLE = {
    # POST /v1/entries of weighin loadtest: a weight of 40.00 to 150.00 kg on one of the last 365 days (UTC).
    # pgbench has no strings or dates, so the day is computed as the integer YYYYMMDD, which PostgreSQL reads as
    # a date (days since 1970 to civil date: H. Hinnant's algorithm).
    "create": [
        "\\set w random(4000, 15000) / 100.0",
        "\\set z :today - random(0, 364) + 719468",
        "\\set era :z / 146097",
        "\\set doe :z - :era * 146097",
        "\\set yoe (:doe - :doe / 1460 + :doe / 36524 - :doe / 146096) / 365",
        "\\set doy :doe - (365 * :yoe + :yoe / 4 - :yoe / 100)",
        "\\set mp (5 * :doy + 2) / 153",
        "\\set dd :doy - (153 * :mp + 2) / 5 + 1",
        "\\set mm case when :mp < 10 then :mp + 3 else :mp - 9 end",
        "\\set yy :yoe + :era * 400 + case when :mm <= 2 then 1 else 0 end",
        "\\set day :yy * 10000 + :mm * 100 + :dd",
    ],
}


def expand_template(name, slots):
    """The statement of bench/pgbench/NAME.sql for a random one of the client's `slots` users.

    pgbench variables hold numbers, not UUIDs picked at random, so each client loads its users once (one \\gset on
    its first transaction) into u0..uN (and e0..eN entry ids) and each transaction runs the
    same statement in the branch of a random slot; with -M prepared each branch is prepared once per connection.
    """
    stmt = template_statement(name)
    cols = []
    for j in range(slots):
        cols.append(f"max(user_id::text) FILTER (WHERE slot = {j}) AS u{j}")
        if ":eid" in stmt:
            cols.append(f"max(entry_id::text) FILTER (WHERE slot = {j}) AS e{j}")
    out = ["\\if :loaded = 0",
           f"SELECT {', '.join(cols)} FROM bench_pick WHERE client = :client_id \\gset",
           "\\set loaded 1", "\\endif"]
    out += PREAMBLE.get(name.removesuffix("_part1"), [])
    out.append(f"\\set k random(0, {slots - 1})")
    for j in range(slots):
        out.append(("\\if" if j == 0 else "\\elif") + f" :k = {j}")
        out.append(stmt.replace(":uid", f":u{j}").replace(":eid", f":e{j}") + ";")
    out.append("\\endif")
    return "\n".join(out) + "\n"


def pgbench_log_latencies(prefix, after_epoch):
    lat = []
    d = os.path.dirname(prefix)
    for name in os.listdir(d):
        if not name.startswith(os.path.basename(prefix) + "."):
            continue
        with open(os.path.join(d, name)) as f:
            for line in f:
                p = line.split()
                if len(p) >= 6 and int(p[4]) + int(p[5]) / 1e6 >= after_epoch:
                    lat.append(int(p[2]) / 1000.0)
        os.remove(os.path.join(d, name))
    if not lat:
        return {"p50": float("nan"), "p99": float("nan"), "samples": 0}
    lat.sort()

    def pct(q):
        return round(lat[min(len(lat) - 1, int(q * len(lat)))], 3)

    return {"p50": pct(0.50), "p90": pct(0.90), "p99": pct(0.99), "p99_9": pct(0.999), "max": round(lat[-1], 3),
            "samples": len(lat)}
