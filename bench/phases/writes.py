"""The write path's cost as Part 2 grew it: POST /v1/entries's INSERT through pgbench (the service's own statement,
its users and clients as in the ceiling), in variants that add one piece at a time, each measured twice in
alternation so that a drift of the machine shows as spread rather than as a difference:

  part1     Part 1's INSERT (no change number), the feed's and the outbox's triggers off
  feed      the served INSERT (its change number locks and bumps the user's row), the outbox trigger off
  served    as served: the outbox's statement trigger on, the users without webhooks (the common case)
  webhook   as served, every user with one webhook for entry.created: one outbox row per insert
  old_index as served, with Part 1's listing index instead of Part 2's (the time of day in the order)
  no_index  as served, without a listing index: what the listing index costs per insert

For each: inserts per second and PostgreSQL's CPU per insert, and each variant's ratio to part1. The database is
left as it was: triggers on, Part 2's index, no webhooks, the inserted entries deleted."""

import os
import statistics
import subprocess
import time

from harness import procfs, processes

from lib.context import BenchError
from lib.log import log
from lib.pgbench import expand_template, pgbench_cmd, pgbench_scripts
from lib.window import Window, strip_list

ORDER_INDEX = ("CREATE INDEX weight_entries_user_order_idx ON weight_entries (user_id, recorded_on DESC, "
               "coalesce(measured_at, 'infinity'::timestamptz) DESC, created_at DESC, id DESC)")
PART1_INDEX = ("CREATE INDEX weight_entries_user_recent_idx ON weight_entries "
               "(user_id, recorded_on DESC, created_at DESC, id DESC)")
TRIGGERS_OFF = ("ALTER TABLE weight_entries DISABLE TRIGGER weight_entries_inserted_by_hand, "
                "DISABLE TRIGGER weight_entries_created_events")

# (name, script, SQL before, SQL after)
VARIANTS = (
    ("part1", "create_part1",
     TRIGGERS_OFF,
     "ALTER TABLE weight_entries ENABLE TRIGGER weight_entries_inserted_by_hand, "
     "ENABLE TRIGGER weight_entries_created_events"),
    ("feed", "create",
     "ALTER TABLE weight_entries DISABLE TRIGGER weight_entries_created_events",
     "ALTER TABLE weight_entries ENABLE TRIGGER weight_entries_created_events"),
    ("served", "create", None, None),
    ("webhook", "create",
     # One webhook per user; its URL is never called (no server runs during this phase, and they are deleted,
     # their outbox rows with them, before the next one starts).
     "INSERT INTO webhooks (user_id, url, events, secret) SELECT DISTINCT user_id, 'http://127.0.0.1:9/bench', "
     "ARRAY['entry.created'], decode(md5(user_id::text) || md5(user_id::text || 'x'), 'hex') FROM bench_pick",
     "DELETE FROM webhooks WHERE url = 'http://127.0.0.1:9/bench'"),
    ("old_index", "create",
     f"{PART1_INDEX}; DROP INDEX weight_entries_user_order_idx",
     f"{ORDER_INDEX}; DROP INDEX weight_entries_user_recent_idx"),
    ("no_index", "create",
     "DROP INDEX weight_entries_user_order_idx",
     ORDER_INDEX),
)
ROUNDS = 2


def writes(b):
    a = b.args
    b.reset_data()
    if b.scripts is None:
        b.scripts = pgbench_scripts(b, a.connections)
    slots = -(-a.users // a.connections)
    part1 = os.path.join(b.out, "pgbench", "create_part1.gen.sql")
    with open(part1, "w") as f:
        f.write(expand_template("create_part1", slots))
    scripts = {"create": b.scripts["create"], "create_part1": part1}
    seconds = min(b.duration, 10)
    log(f"writes: the INSERT of POST /v1/entries through pgbench, {a.connections} clients, {len(VARIANTS)} variants "
        f"x {ROUNDS} rounds, 2 s warm-up + {seconds} s each")
    runs = {name: [] for name, *_ in VARIANTS}
    for round_ in range(ROUNDS):
        for name, script, before, after in VARIANTS:
            b.quiet(f"writes-{name}")
            if before:
                b.cluster.psql(before, timeout=600)
            try:
                runs[name].append(measure(b, f"writes-{name}-{round_ + 1}", scripts[script], seconds))
            finally:
                if after:
                    b.cluster.psql(after, timeout=600)
                b.reset_data()
            r = runs[name][-1]
            log(f"writes {name} ({round_ + 1}/{ROUNDS}): {r['inserts_per_second']:.0f} inserts/s, PostgreSQL "
                f"{r['postgres_cpu_us_per_insert']:.0f} us CPU per insert")
    out = {"clients": a.connections, "seconds": seconds, "variants": {}}
    for name, *_ in VARIANTS:
        cpu = [r["postgres_cpu_us_per_insert"] for r in runs[name]]
        rate = [r["inserts_per_second"] for r in runs[name]]
        out["variants"][name] = {
            "postgres_cpu_us_per_insert": round(statistics.mean(cpu), 1),
            "inserts_per_second": round(statistics.mean(rate), 1),
            "spread": round((max(cpu) - min(cpu)) / statistics.mean(cpu), 3),
            "runs": runs[name],
        }
    base = out["variants"]["part1"]
    for name, v in out["variants"].items():
        v["cpu_ratio_to_part1"] = round(v["postgres_cpu_us_per_insert"] / base["postgres_cpu_us_per_insert"], 3)
        v["rate_ratio_to_part1"] = round(v["inserts_per_second"] / base["inserts_per_second"], 3)
    served = out["variants"]["served"]["postgres_cpu_us_per_insert"]
    out["listing_index_us_per_insert"] = round(served - out["variants"]["no_index"]["postgres_cpu_us_per_insert"], 1)
    out["time_of_day_in_index_us_per_insert"] = round(
        served - out["variants"]["old_index"]["postgres_cpu_us_per_insert"], 1)
    b.results["writes"] = out
    log("writes: PostgreSQL CPU per insert relative to Part 1's: "
        + ", ".join(f"{n} x{v['cpu_ratio_to_part1']:.2f}" for n, v in out["variants"].items())
        + f"; the listing index costs {out['listing_index_us_per_insert']} us per insert, its time of day "
        f"{out['time_of_day_in_index_us_per_insert']} us")
    b.save()


def measure(b, label, script, seconds):
    """pgbench running `script` alone; inserts per second and PostgreSQL's CPU per insert in the window."""
    a = b.args
    warmup = 2
    cmd = pgbench_cmd(b, a.connections, warmup + seconds, [(script, None)])
    with open(b.path(f"pgbench-{label}.cmd"), "w") as f:
        f.write(" ".join(cmd) + "\n")
    p = processes.spawn(cmd, "pgbench", stdout=b.path(f"pgbench-{label}.out"), stderr=b.path(f"pgbench-{label}.err"))
    window = Window(b.monitor, {"client": lambda: procfs.cpu_seconds(p.pid), "postgres": b.cluster.cpu_seconds})
    time.sleep(warmup + 0.5)
    window.begin()
    time.sleep(seconds - 1.5)
    w = window.end()
    try:
        p.wait(timeout=warmup + seconds + 60)
    except subprocess.TimeoutExpired:
        raise BenchError("pgbench did not finish in time")
    processes.ended(p)
    if p.returncode != 0:
        raise BenchError(f"pgbench failed: {open(b.path(f'pgbench-{label}.err')).read()[-1500:]}")
    inserts = w["statements"].get("create", {}).get("calls", 0)
    if inserts == 0:
        raise BenchError(f"{label}: no INSERT counted in the window")
    return {"inserts_per_second": round(inserts / w["seconds"], 1),
            "postgres_cpu_us_per_insert": round(w["cpu_seconds"]["postgres"] * 1e6 / inserts, 1),
            "other_cores": w["other_cores"], "window": strip_list(w)}
