"""Raw HTTP over sockets: many connections at once, requests as bytes, answers read with one selector."""

import selectors
import socket
import time

from harness.http import split_url
from harness.processes import on_cleanup


def raw_connections(base, count, send: bytes = b"", timeout=5.0):
    """Opens `count` TCP connections (optionally sending `send` on each); returns the open sockets."""
    host, port = split_url(base)
    socks = []
    for _ in range(count):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.settimeout(timeout)
        try:
            s.connect((host, port))
            if send:
                s.sendall(send)
        except OSError:
            s.close()
            continue
        socks.append(s)

    def close_all():
        for s in socks:
            try:
                s.close()
            except OSError:
                pass

    on_cleanup(close_all)
    return socks


class RawResult:
    def __init__(self):
        self.status = None      # int, or "closed" / "timeout" / "error"
        self.headers = {}
        self.body = b""
        self.sent = None
        self.first_byte = None
        self.done = None

    @property
    def latency(self):
        end = self.done or self.first_byte
        return (end - self.sent) if (end and self.sent) else None


def burst(base, payloads, timeout=30.0, connect_timeout=5.0):
    """Opens one connection per payload (raw bytes of one HTTP/1.1 request), sends them all as fast as it can,
    and reads every answer with one selector. Returns a RawResult per payload (status, headers, latency)."""
    host, port = split_url(base)
    sel = selectors.DefaultSelector()
    results = []
    socks = []
    try:
        for _ in payloads:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.settimeout(connect_timeout)
            s.connect((host, port))
            socks.append(s)
        for s, payload in zip(socks, payloads):
            r = RawResult()
            r.sent = time.monotonic()
            s.sendall(payload)
            s.setblocking(False)
            results.append(r)
            sel.register(s, selectors.EVENT_READ, (r, bytearray()))
        deadline = time.monotonic() + timeout
        pending = len(socks)
        while pending and time.monotonic() < deadline:
            for key, _ in sel.select(timeout=0.2):
                r, buf = key.data
                try:
                    chunk = key.fileobj.recv(65536)
                except (BlockingIOError, InterruptedError):
                    continue
                except OSError:
                    chunk = b""
                now = time.monotonic()
                if chunk and r.first_byte is None:
                    r.first_byte = now
                buf += chunk
                if _parse_raw(r, buf, now) or not chunk:
                    if r.status is None:
                        r.status = "closed"
                    sel.unregister(key.fileobj)
                    pending -= 1
        for key in list(sel.get_map().values()):
            r, _ = key.data
            if r.status is None:
                r.status = "timeout"
    finally:
        sel.close()
        for s in socks:
            s.close()
    return results


def _parse_raw(r, buf, now):
    end = buf.find(b"\r\n\r\n")
    if end < 0:
        return False
    head = bytes(buf[:end]).decode("latin-1").split("\r\n")
    headers = {}
    for line in head[1:]:
        if ":" in line:
            k, v = line.split(":", 1)
            headers[k.strip().lower()] = v.strip()
    length = int(headers.get("content-length", "0") or 0)
    if len(buf) - end - 4 < length:
        return False
    r.status = int(head[0].split()[1])
    r.headers = headers
    r.body = bytes(buf[end + 4:end + 4 + length])
    r.done = now
    return True


def raw_request(method, path, token=None, body=b"", content_type=None, extra=None) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", "Connection: close"]
    if token:
        lines.append(f"Authorization: Bearer {token}")
    if content_type:
        lines.append(f"Content-Type: {content_type}")
    if body or method in ("POST", "PUT", "PATCH"):
        lines.append(f"Content-Length: {len(body)}")
    for k, v in (extra or {}).items():
        lines.append(f"{k}: {v}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body
