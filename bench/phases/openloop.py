"""The open loop: the service paced at 70 % of its measured maximum (`weighin loadtest --rate`), where p99
must stay within 5 x p50."""

from lib.loadtest import loadtest
from lib.log import log
from lib.window import strip_list


def open_loop(b, srv):
    b.reset_data()
    b.quiet("openloop")
    rate = round(0.7 * b.results["service"]["throughput"])
    log(f"open loop at 70 % of the measured maximum: {rate} req/s, 64 connections, "
        f"{b.warmup} s warm-up + {b.duration} s")
    report, w, cmd = loadtest(b, srv, "open", ["--rate", str(rate)])
    ov = report["overall"]
    lat = ov["latency_ms"]
    b.results["open_loop"] = {
        "rate": rate, "throughput": ov["throughput"], "latency_ms": lat, "errors": ov["errors"],
        "errors_by_status": ov["errors_by_status"], "p99_over_p50": round(lat["p99"] / lat["p50"], 2),
        "window": strip_list(w), "command": " ".join(cmd),
    }
    log(f"open loop: {ov['throughput']:.0f} req/s, p50 {lat['p50']:.2f} ms, p99 {lat['p99']:.2f} ms "
        f"(p99/p50 {lat['p99'] / lat['p50']:.2f}), {ov['errors']} errors; "
        f"{w['round_trips_per_request']:.3f} statements per request")
    b.save()
