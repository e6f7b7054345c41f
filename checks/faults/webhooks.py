#!/usr/bin/env python3
"""Webhook deliveries against receivers that misbehave, a database restart and a SIGTERM.

A receiver on 127.0.0.1 (Python's http.server) checks every post's Standard Webhooks signature and answers as
told. Against one `weighin serve`:
  1. it answers at once: five changes arrive, signed, each once;
  2. it hangs past the 10 s limit: the attempt is logged without a status, the API stays quick meanwhile, and the
     event is delivered on a retry once the receiver answers again;
  3. it resets the connection: logged, then delivered on a retry;
  4. it answers after 3 s: delivered on the first attempt;
  5. PostgreSQL restarts while events are pending (their first attempt failed): all are delivered afterwards, none
     lost, without restarting weighin;
  6. SIGTERM while a delivery is in flight (a 4 s receiver): weighin exits 0 after finishing it, and no event is
     left pending (none lost, none to send twice).
Every wait is bounded.
"""

import base64
import hashlib
import hmac
import http.server
import json
import socket
import struct
import threading
import time

import kit as h


class Receiver:
    """Records (webhook-id, body) of each post whose signature verifies; `mode` is ok, hang, reset, slow, slow4,
    or fail."""

    def __init__(self):
        self.mode = "ok"
        self.secret = None
        self.posts = []
        self.bad_signatures = 0
        self.in_flight = threading.Event()
        self.lock = threading.Lock()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                mode = receiver.mode
                receiver.in_flight.set()
                if mode == "reset":
                    # An abortive close: the client sees a reset, not an answer.
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    self.connection.close()
                    return
                if mode == "hang":
                    time.sleep(15)
                elif mode == "slow":
                    time.sleep(3)
                elif mode == "slow4":
                    time.sleep(4)
                receiver.record(self.headers, body)
                self.send_response(500 if mode == "fail" else 204)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def record(self, headers, body):
        key = base64.b64decode(self.secret.removeprefix("whsec_"))
        msg_id, stamp = headers.get("webhook-id", ""), headers.get("webhook-timestamp", "")
        mac = hmac.new(key, f"{msg_id}.{stamp}.".encode() + body, hashlib.sha256).digest()
        good = "v1," + base64.b64encode(mac).decode() in headers.get("webhook-signature", "").split()
        with self.lock:
            if good:
                self.posts.append((msg_id, json.loads(body)))
            else:
                self.bad_signatures += 1

    def ids(self):
        with self.lock:
            return [i for i, _ in self.posts]

    def wait_for(self, count, seconds):
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            if len(set(self.ids())) >= count:
                return True
            time.sleep(0.1)
        return False


def create_entry(server, user, note):
    r = h.request(server.url, "POST", "/v1/entries", token=user.token, json_body=h.entry_body(note))
    if r.status != 201:
        raise RuntimeError(f"creating an entry answered {r.status}: {r.body[:200]}")
    return r.json()["id"]


def deliveries(server, user, hook):
    return h.request(server.url, "GET", f"/v1/webhooks/{hook}/deliveries?limit=100", token=user.token).json()["deliveries"]


def wait_log(server, user, hook, predicate, seconds):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        log = deliveries(server, user, hook)
        if predicate(log):
            return log
        time.sleep(0.2)
    return deliveries(server, user, hook)


def pending(cluster):
    return int(cluster.psql("SELECT count(*) FROM webhook_outbox"))


def main(report: h.Report):
    base = h.workdir("webhooks")
    cluster = h.Cluster(base).create()
    args = ("--hash-cost", "4", "--log-level", "warning", "--drain-timeout", "10s")
    server = h.Server(base, cluster.url, args=args).start()
    receiver = Receiver()
    user = h.new_user(server.url)
    r = h.request(server.url, "POST", "/v1/webhooks", token=user.token, json_body={"url": receiver.url})
    report.check("the webhook is created", r.status == 201, f"{r.status} {r.body[:200]}")
    receiver.secret = r.json()["secret"]
    hook = r.json()["id"]

    # 1. Prompt receiver.
    for i in range(5):
        create_entry(server, user, f"wh-ok-{i}")
    report.check("five changes arrive, signed", receiver.wait_for(5, 20), f"{len(receiver.ids())} arrived")
    time.sleep(1.5)
    report.check("each once", len(receiver.ids()) == 5 and receiver.bad_signatures == 0,
                 f"{len(receiver.ids())} posts, {receiver.bad_signatures} bad signatures")

    # 2. A receiver that hangs past the limit.
    receiver.mode = "hang"
    create_entry(server, user, "wh-hang")
    t0 = time.monotonic()
    slowest = 0.0
    while time.monotonic() - t0 < 8:
        r = h.request(server.url, "GET", "/v1/entries?limit=30", token=user.token, timeout=10)
        slowest = max(slowest, r.elapsed)
        time.sleep(0.2)
    report.check("the API stays quick while a receiver hangs", slowest < 1.0, f"slowest listing {slowest:.3f}s")
    log = wait_log(server, user, hook, lambda l: any(d["status_code"] is None for d in l), 20)
    hung = [d for d in log if d["status_code"] is None]
    report.check("the hung attempt is logged without a status, after about 10 s",
                 bool(hung) and 9000 <= hung[0]["duration_ms"] <= 13000 and "10 s" in (hung[0]["error"] or ""),
                 json.dumps(hung[:1]))
    receiver.mode = "ok"
    report.check("the hung event is delivered on a retry", receiver.wait_for(6, 25), f"{len(set(receiver.ids()))} ids")

    # 3. A receiver that resets the connection.
    receiver.mode = "reset"
    receiver.in_flight.clear()
    create_entry(server, user, "wh-reset")
    receiver.in_flight.wait(10)
    receiver.mode = "ok"   # only the first attempt is reset
    log = wait_log(server, user, hook, lambda l: any("reset" in (d["error"] or "") for d in l), 15)
    reset = [d for d in log if "reset" in (d["error"] or "")]
    report.check("the reset is logged as a failure without a status",
                 bool(reset) and reset[0]["status_code"] is None, json.dumps(reset[:1] or log[:1]))
    # The retry comes 5 s after the failure (30 s more should that one fail too).
    report.check("the reset event is delivered on a retry", receiver.wait_for(7, 45), f"{len(set(receiver.ids()))} ids")

    # 4. A slow receiver (3 s) is within the limit.
    receiver.mode = "slow"
    create_entry(server, user, "wh-slow")
    report.check("a receiver answering in 3 s takes it at the first attempt", receiver.wait_for(8, 15))
    receiver.mode = "ok"

    # 5. PostgreSQL restarts with events pending.
    receiver.mode = "fail"
    for i in range(3):
        create_entry(server, user, f"wh-restart-{i}")
    wait_log(server, user, hook, lambda l: any(d["status_code"] == 500 for d in l), 15)
    receiver.mode = "ok"
    cluster.stop()
    time.sleep(3)
    cluster.start()
    report.check("the events pending over a database restart are all delivered", receiver.wait_for(11, 60),
                 f"{len(set(receiver.ids()))} of 11 ids")
    report.check("weighin ran on without a restart", server.alive())

    # 6. SIGTERM with a delivery in flight.
    receiver.mode = "slow4"
    receiver.in_flight.clear()
    create_entry(server, user, "wh-sigterm")
    receiver.in_flight.wait(10)
    time.sleep(0.5)
    t0 = time.monotonic()
    server.signal(15)
    code = server.exit_code_within(30)
    report.figure("sigterm_exit_s", round(time.monotonic() - t0, 1))
    report.check("weighin exits 0 on SIGTERM with a delivery in flight", code == 0, f"exit {code}")
    report.check("the in-flight delivery was finished", receiver.wait_for(12, 5), f"{len(set(receiver.ids()))} ids")
    left = pending(cluster)
    report.check("no event is left pending after the shutdown", left == 0, f"{left} pending")
    ids = receiver.ids()
    report.figure("posts", len(ids))
    report.figure("events", len(set(ids)))
    report.check("every signature verified", receiver.bad_signatures == 0, f"{receiver.bad_signatures} bad")


if __name__ == "__main__":
    h.run_test(h.Report("webhooks", "deliveries against misbehaving receivers, a database restart and SIGTERM"), main)
