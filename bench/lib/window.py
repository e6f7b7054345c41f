"""Measurement windows: CPU by process group, machine CPU, requests, cache lookups and statements between two
snapshots taken inside a measured period."""

import os
import time

from harness.procfs import context_switches, loadavg, machine_busy_seconds

from lib.statements import classify, reset_statements, statement_stats
from lib.workload import ROUTES, TOKEN_CACHE_TTL


def requests_by_scenario(metrics):
    out = {}
    for name, (method, route) in ROUTES.items():
        total = 0.0
        for key, value in metrics.items():
            if key.startswith("weighin_http_requests_total{") and f'method="{method}"' in key \
                    and f'route="{route}"' in key:
                total += value
        out[name] = total
    return out


def cache_lookups(metrics):
    return {r: metrics.get(f'weighin_token_cache_lookups{{result="{r}"}}', 0.0) for r in ("hit", "miss")}


class Window:
    """Snapshots taken inside a measured period: CPU of each group, machine CPU, metrics, statements."""

    def __init__(self, monitor, groups, server=None):
        self.monitor, self.groups, self.server = monitor, groups, server

    def snap(self):
        s = {"t": time.monotonic(), "busy": machine_busy_seconds()[0], "load": loadavg(),
             "cpu": {name: fn() for name, fn in self.groups.items()}}
        if self.server:
            s["metrics"] = self.server.metrics()
            s["ctxsw"] = context_switches(self.server.pid)
            s["threads"] = len(os.listdir(f"/proc/{self.server.pid}/task"))
        return s

    def begin(self):
        # The statement counters are reset (and later read) between two metric scrapes: the request counts at that
        # moment are taken as the mean of the two, so both counts cover the same period.
        before = self.server.metrics() if self.server else None
        reset_statements(self.monitor)
        self.a = self.snap()
        if self.server:
            self.a["metrics_bracket"] = (before, self.a["metrics"])

    def end(self):
        before = self.server.metrics() if self.server else None
        self.statements = statement_stats(self.monitor)
        self.b = self.snap()
        if self.server:
            self.b["metrics_bracket"] = (before, self.b["metrics"])
        return self.result()

    def result(self):
        a, b = self.a, self.b
        seconds = b["t"] - a["t"]
        cpu = {k: b["cpu"][k] - a["cpu"][k] for k in self.groups}
        ours = sum(cpu.values())
        out = {"seconds": round(seconds, 2), "cpu_seconds": {k: round(v, 3) for k, v in cpu.items()},
               "cpu_cores": {k: round(v / seconds, 3) for k, v in cpu.items()},
               "other_cores": round(max(0.0, (b["busy"] - a["busy"] - ours) / seconds), 3),
               "loadavg_start": a["load"], "loadavg_end": b["load"]}
        by_kind = {}
        for st in self.statements:
            k = classify(st["query"])
            d = by_kind.setdefault(k, {"calls": 0, "total_ms": 0.0, "hit": 0, "read": 0})
            for f in ("calls", "total_ms", "hit", "read"):
                d[f] += st[f]
        out["statements"] = by_kind
        out["statement_list"] = self.statements
        if self.server:
            def mid(bracket, fn):
                x, y = fn(bracket[0]), fn(bracket[1])
                return {k: (x[k] + y[k]) / 2 for k in x}, sum(y.values()) - sum(x.values())

            ra, ua = mid(a["metrics_bracket"], requests_by_scenario)
            rb, ub = mid(b["metrics_bracket"], requests_by_scenario)
            requests = {k: rb[k] - ra[k] for k in ra}
            total = sum(requests.values())
            out["requests_uncertainty"] = (ua + ub) / 2
            ca, _ = mid(a["metrics_bracket"], cache_lookups)
            cb, _ = mid(b["metrics_bracket"], cache_lookups)
            lookups = {k: cb[k] - ca[k] for k in ca}
            statements = sum(d["calls"] for k, d in by_kind.items())
            out.update({
                "requests": requests, "requests_total": total, "cache_lookups": lookups,
                "cache_miss_ratio": lookups["miss"] / max(1.0, lookups["hit"] + lookups["miss"]),
                "statements_total": statements,
                "round_trips_per_request": statements / max(1.0, total),
                "statements_per_request_by_scenario": {
                    k: round(by_kind.get(k, {}).get("calls", 0) / max(1.0, requests[k]), 4) for k in requests},
                "cpu_us_per_request": {k: round(v * 1e6 / max(1.0, total), 1) for k, v in cpu.items()},
                "server_context_switches_per_request": {
                    k: round((b["ctxsw"][k] - a["ctxsw"][k]) / max(1.0, total), 2) for k in a["ctxsw"]},
                "server_threads": b["threads"],
            })
        return out


def window_length(duration):
    """The measured window inside a run: a whole number of token-cache lifetimes when the run is long enough, so
    the cache's periodic re-validations are counted fully whatever their phase."""
    usable = duration - 1.5
    return TOKEN_CACHE_TTL * int(usable // TOKEN_CACHE_TTL) if usable >= TOKEN_CACHE_TTL else usable


def strip_list(w):
    return {k: v for k, v in w.items() if k != "statement_list"} if w else w
