"""A small HTTP/1.1 client on http.client that tells a refused connection, a connection closed without an
answer (`NoAnswer`) and an answer cut mid-body (`Cut`) apart."""

from __future__ import annotations

import http.client
import json
import re
import time


class Response:
    def __init__(self, status, headers, body, started, ended):
        self.status = status
        self.headers = headers
        self.body = body
        self.started = started
        self.ended = ended

    @property
    def elapsed(self):
        return self.ended - self.started

    def json(self):
        return json.loads(self.body)

    def header(self, name):
        return self.headers.get(name.lower())

    def retry_after_ok(self) -> bool:
        value = self.header("Retry-After")
        return value is not None and value.strip().isdigit()


class Cut(Exception):
    """The answer began but ended before its end (a response cut mid-body)."""


class NoAnswer(Exception):
    """The connection closed (or reset) before any byte of an answer: the request's fate is unknown."""


def split_url(base):
    """(host, port) of a base URL such as http://127.0.0.1:19001."""
    m = re.match(r"http://([^:/]+):(\d+)", base)
    return m.group(1), int(m.group(2))


class Client:
    """One keep-alive HTTP/1.1 connection; reconnects after a failure. Not thread-safe: one per thread."""

    def __init__(self, base: str, timeout: float = 30, token: str | None = None):
        self.host, self.port = split_url(base)
        self.timeout = timeout
        self.token = token
        self.conn = None

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def request(self, method, path, body=None, headers=None, token=None, json_body=None, timeout=None,
                content_type=None) -> Response:
        hdrs = dict(headers or {})
        tok = token if token is not None else self.token
        if tok:
            hdrs["Authorization"] = f"Bearer {tok}"
        if json_body is not None:
            body = json.dumps(json_body).encode()
            hdrs.setdefault("Content-Type", "application/json")
        if content_type:
            hdrs["Content-Type"] = content_type
        if isinstance(body, str):
            body = body.encode()
        if self.conn is None:
            self.conn = http.client.HTTPConnection(self.host, self.port, timeout=timeout or self.timeout)
        elif timeout is not None:
            self.conn.timeout = timeout
            if self.conn.sock is not None:
                self.conn.sock.settimeout(timeout)
        started = time.monotonic()
        got_head = False
        try:
            self.conn.request(method, path, body=body, headers=hdrs)
            resp = self.conn.getresponse()
            got_head = True
            data = resp.read()
            headers_ = {k.lower(): v for k, v in resp.getheaders()}
            ended = time.monotonic()
            if resp.will_close:
                self.close()
            return Response(resp.status, headers_, data, started, ended)
        except http.client.IncompleteRead as error:
            self.close()
            raise Cut(f"{method} {path}: answer cut after {len(error.partial)} body bytes") from None
        except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError) as error:
            self.close()
            if got_head:
                raise Cut(f"{method} {path}: connection lost mid-answer ({error!r})") from None
            raise NoAnswer(f"{method} {path}: {error!r}") from None
        except BaseException:
            self.close()
            raise


def request(base, method, path, **kw) -> Response:
    """One request on a connection of its own."""
    client = Client(base, timeout=kw.pop("timeout", 30))
    try:
        return client.request(method, path, **kw)
    finally:
        client.close()
