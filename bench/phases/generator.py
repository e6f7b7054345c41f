"""The generator: `weighin loadtest` against wrk, each on one core with the same connections, at nginx on the
other core (skipped without wrk, nginx or taskset)."""

import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import time

from harness import processes
from harness.processes import run, scratch_dir

from lib.context import BenchError
from lib.log import log


def generator(b):
    """`weighin loadtest` against wrk on one core each, with the same connections, at nginx on the other core.

    nginx answers a small fixed JSON body far faster than either generator can ask, so each generator's rate is
    its own ceiling; the rounds alternate so drift on the machine falls on both alike.
    """
    a = b.args
    for tool in ("wrk", "nginx", "taskset"):
        if not shutil.which(tool):
            log(f"generator: {tool} not installed (apt-get install -y wrk nginx util-linux); skipped")
            return
    b.quiet("generator")
    port = b.port()
    conf_dir = scratch_dir("weighin-bench-nginx-")
    body = '{"id":"0b9c3a52-5f0e-4b8e-9a57-0d4c6a1f2e3b","weight":72.35,"unit":"kg","recorded_on":"2025-01-01"}'
    with open(os.path.join(conf_dir, "nginx.conf"), "w") as f:
        f.write(f"""worker_processes 1;
daemon off;
pid {conf_dir}/nginx.pid;
error_log {conf_dir}/error.log warn;
{"user root;" if os.geteuid() == 0 else ""}
events {{ worker_connections 4096; }}
http {{
access_log off;
client_body_temp_path {conf_dir}/body;
proxy_temp_path {conf_dir}/proxy;
fastcgi_temp_path {conf_dir}/fastcgi;
uwsgi_temp_path {conf_dir}/uwsgi;
scgi_temp_path {conf_dir}/scgi;
keepalive_requests 100000000;
server {{
    listen 127.0.0.1:{port} backlog=4096;
    location / {{ default_type application/json; return 200 '{body}'; }}
}}
}}
""")
    nginx = processes.spawn(["taskset", "-c", "0", "nginx", "-p", conf_dir, "-c", os.path.join(conf_dir, "nginx.conf")],
                            "nginx", stdout=b.path("generator-nginx.log"), stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or nginx.poll() is not None:
                    raise BenchError("nginx did not start; see generator-nginx.log")
                time.sleep(0.1)
        url = f"http://127.0.0.1:{port}"
        seconds, rounds = (5, 3) if a.quick else (10, 5)
        rates = {"wrk": [], "loadtest": []}
        log(f"generator: wrk and weighin loadtest on core 1, {a.connections} connections, nginx on core 0, "
            f"{rounds} alternating rounds of {seconds} s")
        for n in range(rounds):
            out = run(["taskset", "-c", "1", "wrk", "-t1", f"-c{a.connections}", f"-d{seconds}s",
                       "-H", "Authorization: Bearer bench", f"{url}/v1/me"], seconds + 60)
            match = re.search(r"Requests/sec:\s+([0-9.]+)", out)
            if not match:
                raise BenchError(f"generator: no rate in wrk's output: {out[-300:]}")
            rates["wrk"].append(float(match.group(1)))
            json_path = b.path(f"generator-loadtest-{n}.json")
            run(["taskset", "-c", "1", b.binary, "loadtest", "--url", url, "--token", "bench", "--path", "/v1/me",
                 "--connections", str(a.connections), "--threads", "1", "--warmup", "1s", "--duration",
                 f"{seconds}s", "--json", json_path], seconds + 60, check=False)
            with open(json_path) as f:
                rates["loadtest"].append(json.load(f)["overall"]["throughput"])
            log(f"generator: round {n + 1}: wrk {rates['wrk'][-1]:,.0f}/s, loadtest {rates['loadtest'][-1]:,.0f}/s")
    finally:
        processes.stop(nginx)
        shutil.rmtree(conf_dir, ignore_errors=True)
    ratio = statistics.median(rates["loadtest"]) / statistics.median(rates["wrk"])
    b.results["generator"] = {"connections": a.connections, "seconds": seconds, "rates": rates,
                              "ratio_of_medians": round(ratio, 3)}
    log(f"generator: loadtest / wrk on one core = {ratio:.3f} (medians of {rounds} rounds)")
    b.save()
