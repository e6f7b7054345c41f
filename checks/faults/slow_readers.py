#!/usr/bin/env python3
"""A client that stops reading an answer is cut off at --write-timeout; one that reads steadily is not.

One `weighin serve --write-timeout 3s`. User E has 100,000 entries (imported; notes with a 64-character filler),
so `GET /v1/entries/export?format=csv` is 9 MB, streamed. A fast download first gives the whole export (size,
SHA-256) to compare with.

- Stalled readers: 3 raw sockets with SO_RCVBUF 4096 (set before connect) each send the export request and read
  nothing. Watched from /proc/net/tcp and /proc/<pid>/fd: the answer stalls when the server's send queue on the
  connection stops growing (the socket's buffers full, the channel unwritable); the server closes the connection
  (its process no longer holds the socket) between write-timeout - 0.5 s and write-timeout + 2 s after that; the
  client, reading afterwards, gets part of the answer and then the end of the stream (never the whole export).
- Steady readers, one after another: reading 256 KiB every 200 ms (1.25 MiB/s), and 64 KiB every 200 ms
  (320 KiB/s, slow but steady): neither is cut off, and each receives the whole export, byte for byte the fast
  download's.
- Meanwhile user O lists (`GET /v1/entries?limit=30`, a loop, 20 ms apart): every request 200, p99 under 500 ms.
- Afterwards the server holds no connection on its port (/proc/net/tcp and its descriptors) and its pool no busy
  connection: the connections and the tasks writing them were released.
"""

import hashlib
import os
import socket
import threading
import time

import kit as h

WRITE_TIMEOUT = 3.0
EARLY = 0.5     # not cut before write-timeout - this (it is the write timeout that cuts)
MARGIN = 2.0    # cut within write-timeout + this after the stall
STALLED = 3
ROWS = 100_000
# (bytes per read, seconds between reads). A reader is "steady" when it never stops: the server must tell it from
# one that stopped however its socket buffers fill (Linux autotunes the send buffer to megabytes).
STEADY = [(256 * 1024, 0.2), (64 * 1024, 0.2)]


def tcp_state(server_port, client_port):
    """(state, tx_queue bytes, socket inode) of the server's end of a 127.0.0.1 connection (/proc/net/tcp; state
    "01" is ESTABLISHED, inode 0 once no process holds it), or None when it is gone."""
    with open("/proc/net/tcp") as f:
        for line in f.read().splitlines()[1:]:
            fields = line.split()
            local, remote = fields[1], fields[2]
            if int(local.split(":")[1], 16) == server_port and int(remote.split(":")[1], 16) == client_port:
                return fields[3], int(fields[4].split(":")[0], 16), int(fields[9])
    return None


def http_connections(server) -> int:
    """Connections on the server's HTTP port that its process holds (the listener not counted)."""
    inodes = set()
    with open("/proc/net/tcp") as f:
        for line in f.read().splitlines()[1:]:
            fields = line.split()
            if int(fields[1].split(":")[1], 16) == server.port and fields[3] != "0A" and int(fields[9]):
                inodes.add(int(fields[9]))
    return sum(1 for inode in inodes if holds_socket(server.pid, inode))


def let_go(server, client_port, inode) -> bool:
    """Whether the server no longer holds its end of the connection (closed: gone, orphaned or not among its
    descriptors)."""
    st = tcp_state(server.port, client_port)
    return st is None or st[2] == 0 or not holds_socket(server.pid, inode)


def holds_socket(pid, inode) -> bool:
    target = f"socket:[{inode}]"
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return False
    for fd in fds:
        try:
            if os.readlink(f"/proc/{pid}/fd/{fd}") == target:
                return True
        except OSError:
            continue
    return False


def export_request(token) -> bytes:
    return (f"GET /v1/entries/export?format=csv HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n"
            "Connection: close\r\n\r\n").encode()


def dechunk(raw: bytes):
    """(status, body) of a raw HTTP/1.1 answer (chunked or with Content-Length); body None when it is incomplete."""
    end = raw.find(b"\r\n\r\n")
    if end < 0:
        return None, None
    head = raw[:end].decode("latin-1").split("\r\n")
    status = int(head[0].split()[1])
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in head[1:])}
    rest = raw[end + 4:]
    if headers.get("transfer-encoding", "").lower() != "chunked":
        length = int(headers.get("content-length", "-1"))
        return status, (rest[:length] if 0 <= length <= len(rest) else None)
    parts, pos = [], 0
    while True:
        eol = rest.find(b"\r\n", pos)
        if eol < 0:
            return status, None
        size = int(rest[pos:eol].split(b";")[0], 16)
        if size == 0:
            return status, b"".join(parts)
        if len(rest) < eol + 2 + size + 2:
            return status, None
        parts.append(rest[eol + 2:eol + 2 + size])
        pos = eol + 4 + size


def stalled_reader(server, token, out: dict, limit=60):
    """Sends the export request, reads nothing; records when the server's send queue on the connection last grew
    and when the server let go of the socket; then reads what is left (the part already in the buffers, then the
    end)."""
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.settimeout(10)
    s.connect(("127.0.0.1", server.port))
    cport = s.getsockname()[1]
    s.sendall(export_request(token))
    t0 = time.monotonic()
    inode, last_tx, grew_at, closed_at = None, -1, t0, None
    while time.monotonic() - t0 < limit:
        st = tcp_state(server.port, cport)
        now = time.monotonic()
        if inode is None and st is not None and st[2]:
            inode = st[2]
        if inode is not None and let_go(server, cport, inode):
            closed_at = now
            break
        if st is not None and st[0] == "01" and st[1] != last_tx:
            if st[1] > last_tx:
                grew_at = now
            last_tx = st[1]
        time.sleep(0.02)
    got, end = 0, "open"
    s.settimeout(10)
    try:
        while True:
            chunk = s.recv(1 << 20)
            if not chunk:
                end = "eof"
                break
            got += len(chunk)
    except ConnectionResetError:
        end = "reset"
    except socket.timeout:
        end = "timeout"
    finally:
        s.close()
    out.update(stall_at=grew_at - t0, closed_at=None if closed_at is None else closed_at - t0,
               cut_after_stall=None if closed_at is None else closed_at - grew_at, received=got, end=end,
               send_queue=last_tx)


def steady_reader(server, token, chunk, interval, out: dict, limit=240):
    """Reads `chunk` bytes every `interval` s until the end of the answer; records the raw answer, how it ended and
    when the server let go of the socket (None if it did so only after sending everything)."""
    s = socket.socket()
    s.settimeout(10)
    s.connect(("127.0.0.1", server.port))
    cport = s.getsockname()[1]
    s.sendall(export_request(token))
    t0 = time.monotonic()
    st = tcp_state(server.port, cport)
    inode = st[2] if st else None
    buf = bytearray()
    end, let_go_at = "limit", None
    try:
        while time.monotonic() - t0 < limit:
            data = s.recv(chunk)
            if not data:
                end = "eof"
                break
            buf += data
            if let_go_at is None and inode and let_go(server, cport, inode):
                let_go_at = time.monotonic() - t0
            time.sleep(interval)
    except ConnectionResetError:
        end = "reset"
    except socket.timeout:
        end = "timeout"
    finally:
        s.close()
    out.update(raw=bytes(buf), end=end, seconds=time.monotonic() - t0, let_go_at=let_go_at)


def main(report: h.Report):
    base = h.workdir("slowread")
    cluster = h.Cluster(base).create()
    server = h.Server(base, cluster.url, args=("--write-timeout", f"{WRITE_TIMEOUT:g}s", "--hash-cost", "4",
                                               "--log-level", "warning", "--access-log", "off")).start()
    e = h.new_user(server.url, "slowread-e")
    o = h.new_user(server.url, "slowread-o")
    r = h.request(server.url, "POST", "/v1/entries/import", token=e.token, content_type="text/csv",
                  body=h.history_csv("e", ROWS, pad=64), timeout=180)
    report.check("user E's 100,000 entries were imported", r.status == 200, f"{r.status} {r.body[:80]!r}")
    for i in range(30):
        h.request(server.url, "POST", "/v1/entries", token=o.token, json_body=h.entry_body(f"sr-o-{i}"))

    fast = h.request(server.url, "GET", "/v1/entries/export?format=csv", token=e.token, timeout=180)
    whole = hashlib.sha256(fast.body).hexdigest()
    report.figure("export_bytes", len(fast.body))
    report.figure("fast_download_s", round(fast.elapsed, 2))
    lines = fast.body.count(b"\r\n")
    report.check("a fast download gets the whole export", fast.status == 200 and lines == ROWS + 1,
                 f"{fast.status}, {lines} lines")

    stop = threading.Event()
    log = h.Log()
    lister = h.start_threads([lambda: h.reader_loop(server.url, o.token, stop, log, 30,
                                                    paths=["/v1/entries?limit=30"], pause=0.02)])

    # Stalled readers: read nothing.
    outs = [{} for _ in range(STALLED)]
    h.join_all(h.start_threads([lambda out=out: stalled_reader(server, e.token, out) for out in outs]), 90)
    cuts = [o_.get("cut_after_stall") for o_ in outs]
    fmt = lambda xs: [None if x is None else round(x, 2) for x in xs]  # noqa: E731
    report.figure("stalled_at_s", fmt([o_.get("stall_at") for o_ in outs]))
    report.figure("server_send_queue_at_stall_bytes", [o_.get("send_queue") for o_ in outs])
    report.figure("cut_after_stall_s", fmt(cuts))
    report.figure("stalled_received_bytes_then", [f"{o_.get('received')}+{o_.get('end')}" for o_ in outs])
    report.check(f"a reader that reads nothing is cut off {WRITE_TIMEOUT:g}s (-{EARLY}/+{MARGIN}s) after the answer "
                 "stalls (the server lets go of the socket)",
                 all(c is not None and WRITE_TIMEOUT - EARLY <= c <= WRITE_TIMEOUT + MARGIN for c in cuts), f"{fmt(cuts)}")
    report.check("... and, reading afterwards, gets part of the answer then the end of the stream, never all of it",
                 all(o_.get("end") in ("eof", "reset") and o_.get("received", 0) < len(fast.body) for o_ in outs),
                 f"{[(o_.get('received'), o_.get('end')) for o_ in outs]}")

    # Steady readers: slow, never stopping.
    for chunk, interval in STEADY:
        out = {}
        steady_reader(server, e.token, chunk, interval, out)
        status, body = dechunk(out["raw"])
        rate = chunk / interval / 1024
        label = f"{chunk // 1024}KiB_per_{int(interval * 1000)}ms"
        complete = body is not None and hashlib.sha256(body).hexdigest() == whole
        report.figure(f"steady_{label}_s", round(out["seconds"], 1))
        report.figure(f"steady_{label}_received", f"{len(out['raw'])} bytes, {out['end']}")
        if not complete and out["let_go_at"] is not None:
            report.note(f"the server let go of the {label} reader's connection {out['let_go_at']:.1f}s after its "
                        "request, with the answer unfinished")
        report.check(f"a reader taking {chunk // 1024} KiB every {int(interval * 1000)} ms ({rate:.0f} KiB/s) is not "
                     "cut off and receives the whole export (the fast download's bytes)",
                     status == 200 and complete and out["end"] == "eof",
                     f"status {status}, {len(out['raw'])} bytes raw, body {'complete' if complete else 'INCOMPLETE'}, "
                     f"ended by {out['end']} after {out['seconds']:.1f}s")

    stop.set()
    h.join_all(lister, 40)
    reads = [x for x in log.snapshot() if x["kind"] == "read"]
    lats = [x["end"] - x["start"] for x in reads]
    bad = [x["status"] for x in reads if x["status"] != 200]
    p99 = h.percentile(lats, 99)
    report.figure("other_requests", len(reads))
    report.figure("other_p50_p99_ms", f"{h.percentile(lats, 50) * 1000:.0f}/{p99 * 1000:.0f}")
    report.check("meanwhile another user's listing answered 200 every time", len(reads) >= 50 and not bad,
                 f"{len(reads)} requests, not 200: {h.count_by([{'s': s} for s in bad], 's')}")
    report.check("... with p99 under 500 ms", p99 < 0.5, f"{p99 * 1000:.0f} ms")

    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and http_connections(server) > 0:
        time.sleep(0.2)
    held = http_connections(server)
    report.check("afterwards the server holds no connection on its port any more (all were closed)", held == 0,
                 f"{held} held")
    busy = server.metrics().get('weighin_db_pool_connections{state="busy"}')
    report.check("... and its pool no busy connection", busy == 0, f"{busy}")


if __name__ == "__main__":
    rep = h.Report("slow_readers", "an answer left unread is cut off at --write-timeout; steady slow readers are not")
    h.run_test(rep, main)
