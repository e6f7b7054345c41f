#!/usr/bin/env python3
"""Slow clients are cut off after a configured time; 1,000 idle connections do not stop others being served.

Server 1: --idle-timeout 3s --body-timeout 3s (the head and body deadlines).
  - 5 clients send a request head one byte every 0.5 s, never finishing it: each connection is closed by the
    server within the head deadline + 1.5 s;
  - 5 clients send a complete head (POST /v1/entries, Content-Length 1000) then the body one byte every 0.5 s:
    each is closed within the body deadline + 1.5 s after the head;
  - a keep-alive connection left idle after an answer is closed within the head deadline + 1.5 s;
  - a request the server itself takes 5 s to answer (table locked) is answered, not cut: the deadlines are
    the client's.
Server 2: default settings. 1,000 connections are opened and left idle (half of them with a partial head);
meanwhile 4 clients make 300 requests (new connection each, GET /v1/entries): every one answers 200 and the
p99 stays under 500 ms (the quiet p99 before the idle connections is printed beside it).
"""

import select
import socket
import threading
import time

import kit as h

HEAD = 3.0
BODY = 3.0
MARGIN = 1.5
IDLE_CONNECTIONS = 1000


def trickle(port, head: bytes, tail: bytes, interval, limit, out, key):
    """Sends `head` at once, then `tail` a byte per `interval`; records when the server closed the connection
    (seconds after the last complete part was sent), or None if it was still open after `limit` seconds."""
    s = socket.socket()
    s.settimeout(5)
    try:
        s.connect(("127.0.0.1", port))
        if head:
            s.sendall(head)
        t0 = time.monotonic()
        i = 0
        while time.monotonic() - t0 < limit:
            r, _, _ = select.select([s], [], [], interval)
            if r:
                try:
                    data = s.recv(4096)
                except (ConnectionResetError, OSError):
                    data = b""
                if not data:
                    out[key] = time.monotonic() - t0
                    return
                continue  # an answer (e.g. 408) may come before the close
            try:
                s.send(tail[i % len(tail):i % len(tail) + 1])
            except (BrokenPipeError, ConnectionResetError, OSError):
                out[key] = time.monotonic() - t0
                return
            i += 1
        out[key] = None
    finally:
        s.close()


def idle_after_answer(port, token, limit, out):
    s = socket.socket()
    s.settimeout(5)
    s.connect(("127.0.0.1", port))
    s.sendall(f"GET /v1/me HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n\r\n".encode())
    data = b""
    while b"\r\n\r\n" not in data:
        data += s.recv(4096)
    t0 = time.monotonic()
    s.settimeout(limit)
    try:
        while True:
            chunk = s.recv(4096)
            if not chunk:
                out["idle"] = time.monotonic() - t0
                break
    except socket.timeout:
        out["idle"] = None
    except OSError:
        out["idle"] = time.monotonic() - t0
    finally:
        s.close()


def latencies(base, token, n, threads=4):
    lat, statuses, lock = [], [], threading.Lock()

    def worker(k):
        for _ in range(k):
            try:
                r = h.request(base, "GET", "/v1/entries?limit=10", token=token, timeout=10)
                with lock:
                    lat.append(r.elapsed)
                    statuses.append(r.status)
            except Exception as error:  # noqa: BLE001
                with lock:
                    statuses.append(type(error).__name__)

    ts = h.start_threads([lambda: worker(n // threads) for _ in range(threads)])
    h.join_all(ts, 120)
    return lat, statuses


def main(report: h.Report):
    base = h.workdir("slow")
    cluster = h.Cluster(base).create()
    s1 = h.Server(base, cluster.url, name="serve-deadlines",
                  args=h.NO_RATE_LIMIT + ("--idle-timeout", f"{HEAD:g}s", "--body-timeout", f"{BODY:g}s", "--hash-cost", "4",
                        "--log-level", "warning")).start()
    s2 = h.Server(base, cluster.url, name="serve-default", args=h.NO_RATE_LIMIT + ("--hash-cost", "4", "--log-level", "warning",
                                                                  "--access-log", "off")).start()
    u1 = h.new_user(s1.url)
    u2 = h.new_user(s2.url)
    for i in range(20):
        h.request(s2.url, "POST", "/v1/entries", token=u2.token, json_body=h.entry_body(f"slow-{i}"))

    out = {}
    limit = max(HEAD, BODY) + MARGIN + 5
    body_head = (f"POST /v1/entries HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {u1.token}\r\n"
                 "Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n").encode()
    jobs = []
    for i in range(5):
        jobs.append(lambda i=i: trickle(s1.port, b"", b"GET /v1/me HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 200,
                                        0.5, limit, out, f"head{i}"))
        jobs.append(lambda i=i: trickle(s1.port, body_head, b'{"weight": 70.5 ' + b" " * 200, 0.5, limit, out,
                                        f"body{i}"))
    jobs.append(lambda: idle_after_answer(s1.port, u1.token, limit, out))
    ts = h.start_threads(jobs)
    h.join_all(ts, limit + 10)
    heads = [out.get(f"head{i}") for i in range(5)]
    bodies = [out.get(f"body{i}") for i in range(5)]
    fmt = lambda xs: [None if x is None else round(x, 2) for x in xs]  # noqa: E731
    report.figure("slow_head_cut_after_s", fmt(heads))
    report.figure("slow_body_cut_after_s", fmt(bodies))
    report.figure("idle_keepalive_closed_after_s", fmt([out.get("idle")]))
    report.check(f"a head sent byte by byte is cut off within {HEAD:g}s + {MARGIN}s",
                 all(x is not None and x <= HEAD + MARGIN for x in heads), f"{fmt(heads)}")
    report.check(f"a body sent byte by byte is cut off within {BODY:g}s + {MARGIN}s",
                 all(x is not None and x <= BODY + MARGIN for x in bodies), f"{fmt(bodies)}")
    report.check(f"an idle keep-alive connection is closed within {HEAD:g}s + {MARGIN}s",
                 out.get("idle") is not None and out["idle"] <= HEAD + MARGIN, f"{fmt([out.get('idle')])}")
    report.check("the server with deadlines still serves", h.request(s1.url, "GET", "/v1/me", token=u1.token).status == 200)

    # The deadlines are the client's: a request the *server* takes longer than them to answer is not cut.
    with h.TableLock(cluster, seconds=60) as lock:
        slow = {}
        t = h.start_threads([lambda: slow.setdefault("r", h.request(s1.url, "GET", "/v1/entries", token=u1.token,
                                                                   timeout=30))])
        time.sleep(max(HEAD, BODY) + 2)
        lock.release()
        h.join_all(t, 20)
    r = slow.get("r")
    report.figure("slow_server_answer_s", None if r is None else round(r.elapsed, 2))
    report.check("a request the server works on longer than the deadlines still gets its answer",
                 r is not None and r.status == 200, f"{None if r is None else r.status}")

    quiet, _ = latencies(s2.url, u2.token, 200)
    idle = h.raw_connections(s2.url, IDLE_CONNECTIONS // 2)
    idle += h.raw_connections(s2.url, IDLE_CONNECTIONS - len(idle),
                              send=b"GET /v1/me HTTP/1.1\r\nHost: x\r\nX-Partial: ")
    time.sleep(0.5)
    fds = s2.fd_count()
    busy, statuses = latencies(s2.url, u2.token, 300)
    still_open = 0
    for s in idle:
        r, _, _ = select.select([s], [], [], 0)
        if not r:
            still_open += 1
    p99_quiet = h.percentile(quiet, 99) * 1000
    p99_busy = h.percentile(busy, 99) * 1000
    report.figure("idle_connections", len(idle))
    report.figure("idle_still_open_after", still_open)
    report.figure("server_open_files", fds)
    report.figure("p99_ms_quiet_vs_with_idle", f"{p99_quiet:.1f}/{p99_busy:.1f}")
    report.check(f"{IDLE_CONNECTIONS} idle connections were opened and held", len(idle) == IDLE_CONNECTIONS
                 and still_open >= IDLE_CONNECTIONS * 0.95, f"{len(idle)} opened, {still_open} still open")
    bad = [s for s in statuses if s != 200]
    report.check("with them open, every other request is served (300 x 200)", len(statuses) == 300 and not bad,
                 f"{h.count_by([{'s': s} for s in bad], 's')}")
    report.check("... with p99 under 500 ms", p99_busy < 500, f"{p99_busy:.1f} ms")


if __name__ == "__main__":
    rep = h.Report("slow_clients", "byte-by-byte heads and bodies are cut off; 1,000 idle connections starve no one")
    h.run_test(rep, main)
