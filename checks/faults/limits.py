#!/usr/bin/env python3
"""Limits: body size, JSON nesting depth, string lengths, numbers, header and URL size, concurrent connections.

Each limit is probed just inside (accepted) and just outside (refused with the contract's 4xx and problem
code), and far outside (a hostile size): never a 5xx, never a hang (each answer within 5 s), the server alive
afterwards. The connection limit: a server with --max-connections 300 is offered 600 idle connections; it
holds at most 300 (+ its own descriptors), and serves normally once they go.
"""

import json
import socket
import time

import kit as h

MIB = 1024 * 1024


def raw_exchange(port, data: bytes, timeout=10.0):
    """Sends raw bytes from a thread while reading the answer (a server may answer and stop reading before the
    request is complete); returns (status or None when closed without one, seconds)."""
    import threading

    s = socket.socket()
    s.settimeout(timeout)
    t0 = time.monotonic()
    s.connect(("127.0.0.1", port))

    def send():
        try:
            s.sendall(data)
        except OSError:
            pass

    sender = threading.Thread(target=send, daemon=True)
    sender.start()
    try:
        buf = b""
        while b"\r\n" not in buf:
            chunk = s.recv(65536)
            if not chunk:
                break
            buf += chunk
        status = int(buf.split(b" ", 2)[1]) if buf.startswith(b"HTTP/1.1 ") else None
        return status, time.monotonic() - t0
    except (ConnectionResetError, socket.timeout, OSError):
        return None, time.monotonic() - t0
    finally:
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        s.close()
        sender.join(2)


def main(report: h.Report):
    base = h.workdir("limits")
    cluster = h.Cluster(base).create()
    server = h.Server(base, cluster.url, args=h.NO_RATE_LIMIT + ("--hash-cost", "4", "--log-level", "warning")).start()
    url = server.url
    user = h.new_user(url)
    tok = user.token
    results = []   # (label, ok, detail)

    def expect(label, r, statuses, code=None, field=None, within=5.0):
        ok = r.status in statuses and r.elapsed <= within
        detail = f"{r.status} in {r.elapsed:.2f}s"
        if ok and code is not None:
            try:
                body = r.json()
            except ValueError:
                body = {}
            ok = body.get("code") == code and (field is None or any(e.get("field") == field for e in body.get("errors", [])))
            detail += f", code {body.get('code')}, fields {[e.get('field') for e in body.get('errors', [])]}"
        results.append((label, ok, detail))
        report.check(label, ok, detail)

    def post_entry(body, headers=None, token=tok):
        return h.request(url, "POST", "/v1/entries", token=token, body=body if isinstance(body, bytes) else None,
                         json_body=None if isinstance(body, bytes) else body, headers=headers,
                         content_type="application/json", timeout=30)

    day = "2026-01-15"
    # --- body size
    pad = lambda n: (b'{"weight": 70.5, "unit": "kg", "recorded_on": "%s", "note": "x"}' % day.encode()).ljust(n, b" ")  # noqa: E731
    expect("a JSON body of exactly 1 MiB is accepted", post_entry(pad(MIB)), {201})
    expect("a JSON body of 1 MiB + 1 byte answers 413 payload_too_large", post_entry(pad(MIB + 1)), {413},
           "payload_too_large")
    expect("a 20 MiB JSON body answers 413", post_entry(pad(20 * MIB)), {413}, "payload_too_large")
    chunked = (b"POST /v1/entries HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + tok.encode()
               + b"\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")
    for _ in range(33):
        chunked += b"10000\r\n" + b" " * 0x10000 + b"\r\n"
    chunked += b"0\r\n\r\n"
    status, took = raw_exchange(server.port, chunked)
    ok = status == 413 and took <= 5
    results.append(("chunked", ok, ""))
    report.check("a chunked body over 1 MiB (no Content-Length) answers 413", ok, f"{status} in {took:.2f}s")
    r = h.request(url, "POST", "/v1/users", body=pad(MIB + 1), content_type="application/json")
    expect("POST /v1/users with 1 MiB + 1 byte answers 413", r, {413}, "payload_too_large")
    header = b"recorded_on,weight,unit,note\r\n"
    row = b"2026-01-01,70.5,kg," + b"n" * 480 + b"\r\n"
    rows = (10 * MIB - len(header)) // len(row)
    csv = header + row * rows
    csv += b"2026-01-01,70.5,kg," + b"m" * (10 * MIB - len(csv) - 21) + b"\r\n"   # exactly 10 MiB
    r = h.request(url, "POST", "/v1/entries/import", token=tok, body=csv, content_type="text/csv", timeout=60)
    expect(f"an import of exactly 10 MiB ({rows + 1:,} rows) is accepted", r, {200}, within=30)
    r = h.request(url, "POST", "/v1/entries/import", token=tok, body=csv + b" ", content_type="text/csv", timeout=30)
    expect("an import of 10 MiB + 1 byte answers 413", r, {413}, "payload_too_large")
    r = h.request(url, "POST", "/v1/entries", body=pad(2 * MIB), content_type="application/json")
    expect("without a token a 2 MiB body answers 401 (authentication first)", r, {401}, "unauthorized")

    # --- JSON nesting depth
    for depth in (1000, 100_000):
        body = b'{"weight": ' + b"[" * depth + b"]" * depth + b', "recorded_on": "' + day.encode() + b'"}'
        expect(f"JSON nested {depth:,} deep answers 400/422", post_entry(body), {400, 422})
    body = b'{"note": ' + b'{"a":' * 50_000 + b"1" + b"}" * 50_000 + b"}"
    expect("objects nested 50,000 deep answer 400/422", post_entry(body), {400, 422})
    expect("a 300,000-member object answers 4xx", post_entry(
        b"{" + b",".join(b'"k%d": 1' % i for i in range(300_000)) + b"}"), {400, 413, 422})

    # --- string lengths (code points)
    def register(email, name="N", password=h.PASSWORD):
        return h.request(url, "POST", "/v1/users", json_body={"email": email, "name": name, "password": password})

    dom = "@example.com"
    expect("email of 254 characters is accepted", register("e" * (254 - len(dom)) + dom), {201})
    expect("email of 255 characters answers 422 (field email)", register("f" * (255 - len(dom)) + dom), {422},
           "validation_failed", "email")
    expect("name of 255 characters is accepted", register(f"n1-{time.time_ns()}{dom}", name="é" * 255), {201})
    expect("name of 256 characters answers 422 (field name)", register(f"n2-{time.time_ns()}{dom}", name="é" * 256),
           {422}, "validation_failed", "name")
    expect("a 900,000-character name answers 422", register(f"n3-{time.time_ns()}{dom}", name="x" * 900_000), {422},
           "validation_failed", "name")
    expect("password of 128 characters is accepted", register(f"p1-{time.time_ns()}{dom}", password="p" * 128), {201})
    expect("password of 129 characters answers 422 (field password)",
           register(f"p2-{time.time_ns()}{dom}", password="p" * 129), {422}, "validation_failed", "password")
    note = lambda n: {"weight": 70.5, "unit": "kg", "recorded_on": day, "note": "😀" * n}  # noqa: E731
    expect("note of 500 code points (emoji) is accepted", post_entry(note(500)), {201})
    expect("note of 501 code points answers 422 (field note)", post_entry(note(501)), {422}, "validation_failed", "note")
    body = {"weight": 70.5, "unit": "kg", "recorded_on": day}
    expect("Idempotency-Key of 255 characters is accepted", post_entry(body, {"Idempotency-Key": "k" * 255}), {201})
    expect("Idempotency-Key of 256 characters answers 422", post_entry(body, {"Idempotency-Key": "k" * 256}), {422},
           "validation_failed", "Idempotency-Key")

    # --- numbers
    for label, raw in (("1e999", b"1e999"), ("a 100,000-digit number", b"7" * 100_000),
                       ("1e1000000000", b"1e1000000000"), ("0.000...1 (100,000 zeros)", b"0." + b"0" * 100_000 + b"1")):
        expect(f"weight {label} answers 422", post_entry(b'{"weight": ' + raw + b', "recorded_on": "' + day.encode() + b'"}'),
               {422}, "validation_failed", "weight")

    # --- header and URL sizes (raw: refused with 4xx, or the connection closed; never 5xx or a hang)
    for label, data in (
        ("a 100 KB header", b"GET /v1/me HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 100_000 + b"\r\n\r\n"),
        ("a 4 MB header", b"GET /v1/me HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 4_000_000 + b"\r\n\r\n"),
        ("10,000 headers", b"GET /v1/me HTTP/1.1\r\nHost: x\r\n" + b"".join(b"X-H%d: v\r\n" % i for i in range(10_000)) + b"\r\n"),
        ("a 100 KB path", b"GET /v1/" + b"a" * 100_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n"),
        ("a 1 MB query", b"GET /v1/entries?" + b"limit=5&" * 130_000 + b" HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
         + tok.encode() + b"\r\n\r\n"),
    ):
        status, took = raw_exchange(server.port, data)
        ok = (status is None or 400 <= status < 500) and took <= 5
        results.append((label, ok, ""))
        report.check(f"{label} is refused with 4xx or a closed connection, quickly", ok, f"{status} in {took:.2f}s")

    report.check("the server is alive and serving after all of it",
                 server.alive() and h.request(url, "GET", "/v1/me", token=tok).status == 200)

    # --- concurrent connections
    limit = 300
    s2 = h.Server(base, cluster.url, name="serve-maxconn",
                  args=h.NO_RATE_LIMIT + ("--max-connections", str(limit), "--hash-cost", "4", "--log-level", "warning",
                        "--access-log", "off")).start()
    baseline = s2.fd_count()
    socks = h.raw_connections(s2.url, 2 * limit, timeout=0.3)  # beyond the listen backlog a connect just waits
    time.sleep(1.0)
    held = s2.fd_count()
    report.figure("maxconn_offered", len(socks))
    report.figure("maxconn_server_fds_before_during", f"{baseline}/{held}")
    report.check(f"with --max-connections {limit}, 600 connections offered, the server holds at most {limit}",
                 held - baseline <= limit + 10, f"{held - baseline} more open files than before")
    for s in socks:
        s.close()
    time.sleep(1.0)
    r = h.request(s2.url, "GET", "/healthz", timeout=10)
    report.check("it serves normally once they are gone", r.status == 200 and r.elapsed < 2, f"{r.status} {r.elapsed:.2f}s")

    report.figure("limits_probed", len(results))
    report.figure("limits_failed", sum(1 for _, ok, _ in results if not ok))


if __name__ == "__main__":
    rep = h.Report("limits", "body size, JSON depth, string lengths, numbers, header/URL size, concurrent connections")
    h.run_test(rep, main)
