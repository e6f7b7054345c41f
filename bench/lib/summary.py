"""The summary: the ceiling and the service side by side, each target with its verdict, where the CPU went;
printed and written to summary.txt (the verdicts also into summary.json)."""

from harness.procfs import loadavg


def summary(b):
    r = b.results
    lines = []
    add = lines.append
    add("")
    add(f"weighin benchmark, {r['date']}, commit {r['source']['commit'][:10]}, {r['machine']['cores']} cores "
        f"({r['machine']['cpu_model']}), load average at start {r['loadavg_start']}")
    if "ceiling" in r and "service" in r:
        c, s = r["ceiling"], r["service"]
        add("")
        add(f"{'':34}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}")
        add(f"{'pgbench ceiling (' + str(c['clients']) + ' clients)':34}{c['throughput']:>10.0f}"
            f"{c['latency_ms']['p50']:>10.2f}{c['latency_ms']['p99']:>10.2f}")
        add(f"{'weighin service (' + str(s['connections']) + ' connections)':34}{s['throughput']:>10.0f}"
            f"{s['latency_ms']['p50']:>10.2f}{s['latency_ms']['p99']:>10.2f}")
        ratio = s["throughput"] / c["throughput"]
        r["ratio"] = round(ratio, 3)
        add(f"{'ratio service / ceiling':34}{ratio:>10.3f}")
    add("")
    add(f"{'target':58}{'measured':>26}  verdict")
    verdicts = {}

    def verdict(key, label, measured, ok, margin):
        verdicts[key] = {"met": ok, "measured": measured, "margin": margin}
        add(f"{label:58}{measured:>26}  {'MET' if ok else 'MISSED'} ({margin})")

    if "ratio" in r:
        verdict("throughput", "service >= 0.7 x pgbench ceiling", f"{r['ratio']:.3f}", r["ratio"] >= 0.7,
                f"{r['ratio'] / 0.7 - 1:+.0%} vs 0.7")
    if "open_loop" in r:
        o = r["open_loop"]
        ok = o["p99_over_p50"] <= 5 and o["errors"] == 0
        verdict("open_loop", f"open loop {o['rate']} req/s: p99 <= 5 x p50, no errors",
                f"p99/p50 {o['p99_over_p50']:.2f}, {o['errors']} err", ok, f"{o['p99_over_p50'] / 5 - 1:+.0%} vs 5")
        add(f"{'':4}p50 {o['latency_ms']['p50']:.2f} ms, p99 {o['latency_ms']['p99']:.2f} ms")
    if "ceiling_open_loop" in r:
        co = r["ceiling_open_loop"]
        add(f"{'':4}control, pgbench alone at 70 % of its ceiling ({co['rate']}/s): p50 {co['latency_ms']['p50']:.2f} ms, "
            f"p99 {co['latency_ms']['p99']:.2f} ms, p99/p50 {co['p99_over_p50']:.2f}")
    if "memory" in r:
        m = r["memory"]
        peak = max(m["rss_max_mib"], m["vmhwm_mib"])
        verdict("memory", f"RSS <= 100 MiB with {m['connections']} keep-alive connections",
                f"{peak:.1f} MiB peak", peak <= 100, f"{peak / 100 - 1:+.0%} vs 100 MiB")
    if "scale" in r and "ratios" in r["scale"]:
        sc = r["scale"]
        ratio = sc["ratios"].get("api_probe_p50_ms")
        noise = max(0.10, sc["noise"]["api_probe_p50_ms"])
        ok = ratio is not None and abs(ratio - 1) <= noise
        small, large = sc["sizes"]["small"]["rows"], sc["sizes"]["large"]["rows"]
        verdict("listing", f"list newest 30: {large / 1e6:.1f}M vs {small / 1e3:.0f}k rows (API p50)",
                f"x{ratio:.3f}", ok, f"noise band +-{noise:.0%}")
        add(f"{'':4}SQL, same user: x{sc['ratios'].get('sql_probe_mean_ms', float('nan')):.3f}; random users: "
            f"x{sc['ratios'].get('sql_random_mean_ms', float('nan')):.3f}; buffers/call "
            f"{sc['sizes']['small']['sql_random_buffers_per_call']} -> {sc['sizes']['large']['sql_random_buffers_per_call']}")
    if "import" in r:
        i = r["import"]
        verdict("import", "import >= 100,000 entries/s", f"{i['rows_per_s_median']:,} rows/s",
                i["rows_per_s_median"] >= 100_000, f"{i['rows_per_s_median'] / 100_000 - 1:+.0%}")
        add(f"{'':4}the same rows through psql COPY, no service: {i['psql_copy_rows_per_s']:,} rows/s; "
            + ", ".join(f"{k.replace('_', ' ')}: {v:,}" for k, v in i["psql_copy_rows_per_s_variants"].items()))
    if "generator" in r:
        g = r["generator"]
        verdict("generator", "loadtest >= 0.8 x wrk, one core, same connections", f"{g['ratio_of_medians']:.3f}",
                g["ratio_of_medians"] >= 0.8, f"{g['ratio_of_medians'] / 0.8 - 1:+.0%} vs 0.8")
    if "service" in r:
        w = r["service"]["window"]
        rt = w["round_trips_per_request"]
        verdict("round_trips", "<= 1 database round trip per authenticated request",
                f"{rt:.3f} (miss {w['cache_miss_ratio']:.1%})", rt <= 1.0,
                f"{rt - 1:+.3f}")
        cpu = w["cpu_us_per_request"]["server"]
        verdict("server_cpu", "server CPU <= 120 us per request (issue 16)", f"{cpu:.0f} us", cpu <= 120,
                f"{cpu / 120 - 1:+.0%} vs 120")
        switches = w["server_context_switches_per_request"]
        total = switches["voluntary"] + switches["involuntary"]
        verdict("context_switches", "<= 1 context switch per request (issue 16)",
                f"{switches['voluntary']} + {switches['involuntary']}", total <= 1, f"{total - 1:+.2f}")
    if "profile" in r and "all" in r["profile"]["syscalls_per_request"]:
        calls = r["profile"]["syscalls_per_request"]["all"]
        verdict("system_calls", "<= 6 system calls per request (issue 16)", f"{calls:.2f}", calls <= 6,
                f"{calls - 6:+.2f}")
    if "import" in r:
        share = r["import"].get("ratio_median_of_pairs",
                                r["import"]["rows_per_s_median"] / r["import"]["psql_copy_rows_per_s"])
        verdict("import_vs_copy", "import >= 0.95 x psql \\copy of the same rows (issue 16)", f"{share:.3f}",
                share >= 0.95, f"{share / 0.95 - 1:+.0%} vs 0.95")
    r["verdicts"] = verdicts
    if "reads" in r:
        rd = r["reads"]
        add("")
        add(f"Part 2 calls, one user with {rd['entries']:,} daily entries, {rd['connections']} connections "
            f"(cost per request next to the listing's):")
        add(f"{'':12}{'req/s':>9}{'p50 ms':>9}{'server us':>11}{'postgres us':>13}{'statements':>12}{'SQL ms':>9}"
            f"{'x list CPU':>12}")
        for name, c in rd["calls"].items():
            cpu = c["cpu_us_per_request"]
            rel = rd["ratios_to_list"].get(name, {})
            both = (cpu.get("server", 0) + cpu.get("postgres", 0))
            base = rd["calls"]["list"]["cpu_us_per_request"]
            add(f"{name:12}{c['throughput']:>9.0f}{c['p50_ms']:>9.2f}{cpu.get('server', 0):>11.0f}"
                f"{cpu.get('postgres', 0):>13.0f}{c['statements_per_request'] or 0:>12.3f}"
                f"{(c['sql'] or {}).get('mean_ms', float('nan')):>9.3f}"
                f"{both / max(1.0, base.get('server', 0) + base.get('postgres', 0)):>12.2f}")
    if "writes" in r:
        wr = r["writes"]
        add("")
        add(f"The write path (POST /v1/entries's INSERT through pgbench, {wr['clients']} clients), next to Part 1's:")
        add(f"{'':12}{'inserts/s':>11}{'postgres us':>13}{'x part1 CPU':>13}{'spread':>9}")
        for name, v in wr["variants"].items():
            add(f"{name:12}{v['inserts_per_second']:>11.0f}{v['postgres_cpu_us_per_insert']:>13.0f}"
                f"{v['cpu_ratio_to_part1']:>13.2f}{v['spread']:>9.1%}")
        add(f"{'':4}the listing index costs {wr['listing_index_us_per_insert']} us per insert, of which the time of "
            f"day (Part 2's order) {wr['time_of_day_in_index_us_per_insert']} us")
    if "service" in r and "ceiling" in r:
        add("")
        add("CPU per request (us): service " + ", ".join(f"{k} {v}" for k, v in
                                                         r["service"]["window"]["cpu_us_per_request"].items())
            + "; ceiling " + ", ".join(f"{k} {v}" for k, v in r["ceiling"]["cpu_us_per_request"].items()))
        sc, cc = r["service"]["window"]["cpu_us_per_request"], r["ceiling"]["cpu_us_per_request"]
        bound = sum(cc.values()) / sum(sc.values())
        r["cpu_bound_ratio"] = round(bound, 3)
        add(f"ratio predicted by CPU per request alone (both runs CPU-bound on the same cores): "
            f"{sum(cc.values()):.0f} / {sum(sc.values()):.0f} us = {bound:.3f}")
        if "http_floor" in r:
            floor = r["http_floor"]["server_cpu_us_per_request"]
            best = sum(cc.values()) / (floor + sum(v for k, v in sc.items() if k != "server"))
            add(f"HTTP floor: GET /healthz costs the server {floor:.0f} us of CPU per request; with only that on "
                f"top of the same client and PostgreSQL work, the ratio could reach at most {best:.2f}")
            fs = r["http_floor"].get("server_context_switches_per_request")
            ss = r["service"]["window"].get("server_context_switches_per_request")
            if fs and ss:
                add(f"context switches per request (voluntary + involuntary): GET /healthz {fs['voluntary']} + "
                    f"{fs['involuntary']}, the mix {ss['voluntary']} + {ss['involuntary']}")
        if "statement_floor" in r:
            sf = r["statement_floor"]
            c, s = sf["cpu_us_per_request"], sf["server_context_switches_per_request"]
            add(f"statement floor: GET /v1/me (token from the cache, one row by primary key) costs the server "
                f"{sf['server_cpu_us_per_request']:.0f} us of CPU and PostgreSQL {c['postgres']:.0f} us per "
                f"request, {sf['round_trips_per_request']:.3f} statements, context switches {s['voluntary']} + "
                f"{s['involuntary']}: no request of the mix does less work")
        add("cores busy: service " + str(r["service"]["window"]["cpu_cores"]) + f", others "
            f"{r['service']['window']['other_cores']}; ceiling " + str(r["ceiling"]["window"]["cpu_cores"])
            + f", others {r['ceiling']['window']['other_cores']}")
    if "instructions" in r:
        i = r["instructions"]
        add("")
        add(f"instructions per request (the mix under callgrind, {i['connections']} connections): "
            f"{i['per_request']:,} over {sum(i['requests'].values()):,.0f} requests ({i['per_request_without_sha256']:,} "
            f"without the ETag's SHA-256 blocks, which valgrind runs without the CPU's SHA instructions); by function in "
            + ", ".join(i["files"]))
    if r.get("other_cores_by_phase"):
        add("other processes during the measurements (cores): " + ", ".join(
            f"{k} {v['other_cores']:.2f}" + (f" ({v['attempts']} attempts)" if v["attempts"] > 1 else "")
            for k, v in r["other_cores_by_phase"].items()))
    add(f"load average at the end: {loadavg()}; details in {b.out}")
    text = "\n".join(lines)
    print(text)
    with open(b.path("summary.txt"), "w") as f:
        f.write(text + "\n")
